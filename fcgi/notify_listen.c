/*
 * notify_listen.c: the notifier's LISTEN loop.
 *
 * The trigger on audit_log sends NOTIFY session_events in the transaction
 * that writes a session.created, session.revoked or password.changed row.
 * We LISTEN, and for each notification read the row it names back from
 * audit_log and hand it on: a log line or the configured command, and the
 * alert mail. The table, not the payload, is the source of truth: any
 * role that can connect may NOTIFY on any channel, and events committed
 * while we were not listening exist nowhere else.
 *
 * After every (re)connection we LISTEN first and then read audit_log past
 * the last event we handled, so that nothing committed in between falls
 * into a gap; the ids handled recently are remembered so that the overlap
 * is not handed on twice. docs/notifier.md states the guarantees.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "log.h"
#include "notifier.h"
#include "pg.h"
#include "util.h"

#define BATCH_ROWS     1000 /* catch-up rows per query */
#define PAYLOAD_MAX    8000 /* PostgreSQL's limit on a NOTIFY payload */
#define PAYLOAD_DEPTH  2    /* an object of scalars */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define POLL_MS	       1000 /* how late we may notice SIGTERM */
#define REMIND_S       60   /* repeat "database unavailable" this often */

#define STR(x)	#x
#define XSTR(x) STR(x)

/*
 * The columns of an event, in the shape the trigger gives the payload:
 * the same to_char so that a caught-up event reads like a notified one.
 */
#define EVENT_COLS                                                           \
	"id, event, reason, user_id::text, target_session_id::text, "        \
	"to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
	"host(ip), user_agent, location, new_device::text, "                 \
	"(SELECT username FROM users u WHERE u.id = user_id), "              \
	"(SELECT email FROM users u WHERE u.id = user_id)"
#define SESSION_EVENTS \
	"event IN ('session.created', 'session.revoked', 'password.changed')"

static const char q_listen[] = "LISTEN session_events";
static const char q_max[] = "SELECT coalesce(max(id), 0) FROM audit_log";
static const char q_one[] = "SELECT " EVENT_COLS " FROM audit_log"
			    " WHERE id = $1 AND " SESSION_EVENTS;
static const char q_batch[] =
    "SELECT " EVENT_COLS " FROM audit_log"
    " WHERE id > $1 AND " SESSION_EVENTS " ORDER BY id LIMIT " XSTR(BATCH_ROWS);

/*
 * A server's message as one log value: white space runs become one space
 * and double quotes single ones, so that error="..." stays one value.
 */
static void
flatten(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 1 < size; src++) {
		if (*src == '\n' || *src == '\t' || *src == '\r' ||
		    *src == ' ') {
			if (o > 0 && dst[o - 1] != ' ')
				dst[o++] = ' ';
		} else {
			dst[o++] = *src == '"' ? '\'' : *src;
		}
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

/* libpq's last error as one log value. */
static const char *
pq_err(const PGconn *conn)
{
	static char buf[ERR_MAX];

	flatten(buf, sizeof(buf), PQerrorMessage(conn));
	return buf;
}

/*
 * libpq prints notices on stderr by itself; route them through our log.
 * The one we usually see is the server's reason for closing on restart.
 */
static void
on_notice(void *arg, const PGresult *res)
{
	const char *sev, *msg;
	char text[ERR_MAX];

	(void)arg;
	sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	flatten(text, sizeof(text), msg != NULL ? msg : "-");
	log_info("msg=\"database notice\" severity=%s text=%s",
	    sev != NULL ? sev : "-", log_q(text));
}

/* The event id a notification names, or -1 when it is not one of ours. */
static long long
payload_id(const char *payload)
{
	struct json_tokener *tok;
	json_object *o, *id;
	long long v = -1;
	size_t len = strlen(payload);

	if (len > PAYLOAD_MAX)
		return -1;
	if ((tok = json_tokener_new_ex(PAYLOAD_DEPTH)) == NULL)
		return -1;
	json_tokener_set_flags(
	    tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, payload, (int)len);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	    json_tokener_get_parse_end(tok) == len &&
	    json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "id", &id) &&
	    json_object_is_type(id, json_type_string) &&
	    parse_ll(json_object_get_string(id), 10, 1, LLONG_MAX, &v) != 0)
		v = -1;
	json_object_put(o);
	json_tokener_free(tok);
	return v;
}

static int
event_from_row(const PGresult *res, int row, struct event *ev)
{
	int c;

	if (PQnfields(res) != C__MAX)
		return -1;
	for (c = 0; c < C__MAX; c++)
		ev->v[c] =
		    PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
	if (ev->v[C_ID] == NULL || ev->v[C_EVENT] == NULL ||
	    parse_ll(ev->v[C_ID], 10, 1, LLONG_MAX, &ev->id) != 0)
		return -1;
	return 0;
}

static void
log_event(const struct event *ev)
{
	char reason[64];

	/* reason is the only column the schema does not constrain. */
	text_clean(reason, ev->v[C_REASON] != NULL ? ev->v[C_REASON] : "-",
	    sizeof(reason) - 1);
	log_info("msg=session_event id=%lld event=%s reason=%s user_id=%s "
		 "session_id=%s ip=%s at=%s",
	    ev->id, ev->v[C_EVENT], log_q(reason),
	    ev->v[C_USER] != NULL ? ev->v[C_USER] : "-",
	    ev->v[C_SESSION] != NULL ? ev->v[C_SESSION] : "-",
	    ev->v[C_IP] != NULL ? ev->v[C_IP] : "-",
	    ev->v[C_AT] != NULL ? ev->v[C_AT] : "-");
}

static void
queue_alert(struct notifier *n, const struct event *ev)
{
	struct mail_event mev = { ev->v[C_EVENT], ev->v[C_REASON], ev->v[C_AT],
		ev->v[C_IP], ev->v[C_UA], ev->v[C_LOCATION],
		ev->v[C_NEW_DEVICE] };
	long long uid;

	if (ev->v[C_USER] != NULL &&
	    parse_ll(ev->v[C_USER], 10, 1, LLONG_MAX, &uid) == 0)
		alerts_add(
		    &n->alerts, uid, ev->v[C_USERNAME], ev->v[C_EMAIL], &mev);
}

/*
 * Hand on row `row` of res unless it was handled already, and record it.
 * A failing command does not stop the others: it is logged with the id,
 * which is all an operator needs to hand it on again from audit_log.
 */
static void
deliver(struct notifier *n, const PGresult *res, int row)
{
	struct event ev;

	if (event_from_row(res, row, &ev) == -1) {
		log_err("msg=\"unexpected audit_log row\" row=%d", row);
		return;
	}
	if (state_seen(n, ev.id)) {
		log_debug("msg=\"duplicate dropped\" id=%lld", ev.id);
		return;
	}
	if (n->argv[0] == NULL)
		log_event(&ev);
	else
		cmd_run(n, &ev);
	queue_alert(n, &ev);
	state_remember(n, ev.id);
	n->handled++;
	/* Past an unsent alert only once it is sent (send_alerts). */
	if (!alerts_pending(&n->alerts))
		state_save(n);
}

/*
 * Send the alerts that the events just handed on queued, then save the
 * position past them. Stopping with alerts unsent leaves the position
 * before them: the next start hands those events on again.
 */
static void
send_alerts(struct notifier *n)
{
	if (alerts_pending(&n->alerts) && alerts_flush(&n->alerts) == 0)
		state_save(n);
}

/*
 * Run a query with at most one bigint parameter. On failure returns NULL
 * with the reason in n->err: the caller decides whether it is worth a log
 * line (a database that is restarting fails every attempt).
 */
static PGresult *
query(struct notifier *n, const char *sql, int nparams, long long arg)
{
	PGresult *res;
	char buf[24];
	const char *params[1] = { buf };

	snprintf(buf, sizeof(buf), "%lld", arg);
	res = PQexecParams(n->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(n->err, sizeof(n->err), "%s", pq_err(n->conn));
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Hand on what audit_log holds past our position. */
static int
catch_up(struct notifier *n)
{
	PGresult *res;
	long long cursor, prev, id;
	int i, rows;

	cursor = state_floor(n);
	do {
		if ((res = query(n, q_batch, 1, cursor)) == NULL)
			return -1;
		rows = PQntuples(res);
		prev = cursor;
		for (i = 0; i < rows && !*n->stop; i++) {
			if (parse_ll(PQgetvalue(res, i, C_ID), 10, 1, LLONG_MAX,
				&id) == 0 &&
			    id > cursor)
				cursor = id;
			deliver(n, res, i);
		}
		PQclear(res);
		send_alerts(n);
	} while (rows == BATCH_ROWS && cursor > prev && !*n->stop);
	return 0;
}

/*
 * Where to start from the database's side: the newest event on a first
 * start (we do not replay history), and again when our state is ahead of
 * the table, which only a restored or recreated database explains.
 */
static int
position(struct notifier *n)
{
	PGresult *res;
	long long max;

	if ((res = query(n, q_max, 0, 0)) == NULL)
		return -1;
	if (PQntuples(res) != 1 ||
	    parse_ll(PQgetvalue(res, 0, 0), 10, 0, LLONG_MAX, &max) != 0) {
		snprintf(n->err, sizeof(n->err), "max(id): unexpected answer");
		PQclear(res);
		return -1;
	}
	PQclear(res);
	if (n->last < 0) {
		log_info("msg=\"no saved position; starting at the newest "
			 "event\" id=%lld",
		    max);
		state_forget(n, max);
		state_save(n);
	} else if (max < n->last) {
		log_warn("msg=\"saved position is ahead of audit_log; "
			 "starting at its newest event\" saved=%lld id=%lld",
		    n->last, max);
		state_forget(n, max);
		state_save(n);
	}
	return 0;
}

/* Hand on the event a notification names, read back from audit_log. */
static int
on_notify(struct notifier *n, const PGnotify *nt)
{
	PGresult *res;
	long long id;

	if (strcmp(nt->relname, "session_events") != 0)
		return 0;
	if ((id = payload_id(nt->extra)) == -1) {
		log_warn("msg=\"malformed notification ignored\" "
			 "sender_pid=%d length=%zu",
		    nt->be_pid, strlen(nt->extra));
		return 0;
	}
	if (state_seen(n, id)) {
		log_debug("msg=\"duplicate dropped\" id=%lld", id);
		return 0;
	}
	if ((res = query(n, q_one, 1, id)) == NULL)
		return -1;
	if (PQntuples(res) == 1)
		deliver(n, res, 0);
	else
		log_warn("msg=\"notification names no session event; "
			 "ignored\" id=%lld sender_pid=%d",
		    id, nt->be_pid);
	PQclear(res);
	return 0;
}

static int
drain(struct notifier *n)
{
	PGnotify *nt;
	int rc;

	/* Left unread at a stop, they are caught up at the next start. */
	while (!*n->stop && (nt = PQnotifies(n->conn)) != NULL) {
		rc = on_notify(n, nt);
		PQfreemem(nt);
		if (rc == -1)
			return -1;
	}
	send_alerts(n);
	return 0;
}

/*
 * A fresh connection: LISTEN before reading the table, so that an event
 * committed meanwhile is in the table, in the notifications, or in both
 * (the duplicate is then dropped), never in neither.
 */
static int
setup(struct notifier *n)
{
	PGresult *res;

	PQsetNoticeReceiver(n->conn, on_notice, NULL);
	res = PQexec(n->conn, q_listen);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		snprintf(n->err, sizeof(n->err), "LISTEN: %s", pq_err(n->conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	n->handled = 0;
	if (position(n) == -1 || catch_up(n) == -1)
		return -1;
	return drain(n);
}

/*
 * Connect, retrying with back-off until it works or we are told to stop.
 * An outage is logged when it starts, every REMIND_S while it lasts, and
 * when it ends, not once per attempt. Returns 0 connected, -1 stopping.
 */
int
listen_connect(struct notifier *n, int lost)
{
	long long delay = BACKOFF_MIN_MS, start = now_ms(), reminded, up;
	int attempts = 0;

	reminded = up = start;
	while (!*n->stop) {
		attempts++;
		/* NULL is out of memory; PQstatus says CONNECTION_BAD. */
		n->conn =
		    pg_open(n->cfg.database, "sessiond-notifier", "10", NULL);
		if (PQstatus(n->conn) == CONNECTION_OK) {
			up = now_ms();
			if (setup(n) == 0)
				break;
		} else {
			snprintf(n->err, sizeof(n->err), "%s", pq_err(n->conn));
		}
		/* A lost connection was logged already: spare the restart. */
		if (attempts == 1)
			log_msg(lost ? LOG_DEBUG : LOG_WARN,
			    "msg=\"database "
			    "unavailable; retrying\" error=%s",
			    log_q(n->err));
		else if (now_ms() - reminded >= REMIND_S * 1000) {
			log_warn("msg=\"database still unavailable\" "
				 "attempts=%d error=%s",
			    attempts, log_q(n->err));
			reminded = now_ms();
		}
		PQfinish(n->conn);
		n->conn = NULL;
		sleep_ms(delay);
		delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
	}
	if (n->conn == NULL)
		return -1;
	log_info("msg=%s channel=session_events attempts=%d down_ms=%lld "
		 "caught_up=%zu last_id=%lld",
	    lost ? "reconnected" : "listening", attempts, up - start,
	    n->handled, n->last);
	return 0;
}

/* Wait up to POLL_MS for notifications and hand them on. */
int
listen_wait(struct notifier *n)
{
	struct pollfd pfd;

	pfd.fd = PQsocket(n->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		goto lost;
	if (poll(&pfd, 1, POLL_MS) == -1) {
		if (errno == EINTR)
			return 0;
		log_err("msg=\"poll failed\" error=%s", log_q(strerror(errno)));
		return -1;
	}
	if (pfd.revents == 0)
		return 0;
	if (!PQconsumeInput(n->conn))
		goto lost;
	if (drain(n) == -1) {
		log_warn("msg=\"database connection lost; reconnecting\" "
			 "error=%s",
		    log_q(n->err));
		return -1;
	}
	if (PQstatus(n->conn) != CONNECTION_BAD)
		return 0;
lost:
	log_warn("msg=\"database connection lost; reconnecting\" "
		 "error=%s",
	    log_q(pq_err(n->conn)));
	return -1;
}
