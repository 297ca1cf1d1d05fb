/*
 * notifier.c: sessiond-notifier, which hands session events on.
 *
 * The trigger on audit_log sends NOTIFY session_events in the transaction
 * that writes a session.created or session.revoked row. We LISTEN, and for
 * each notification read the row it names back from audit_log and hand it
 * on: a log line, or the configured command with the event's JSON on its
 * standard input. The table, not the payload, is the source of truth: any
 * role that can connect may NOTIFY on any channel, and events committed
 * while we were not listening exist nowhere else.
 *
 * After every (re)connection we LISTEN first and then read audit_log past
 * the last event we handled, so that nothing committed in between falls
 * into a gap; the ids handled recently are remembered so that the overlap
 * is not handed on twice. docs/notifier.md states the guarantees.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "alerts.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define CMD_ARGS_MAX   32	   /* words of notify_command */
#define CMD_TIMEOUT_MS 10000	   /* a command running longer is killed */
#define CMD_GRACE_MS   1000	   /* from SIGTERM to SIGKILL */
#define BATCH_ROWS     1000	   /* catch-up rows per query */
#define RECENT_MAX     1024	   /* handled ids kept to drop duplicates */
#define STATE_MAX      (32 * 1024) /* RECENT_MAX + 1 ids of 20 digits */
#define PAYLOAD_MAX    8000	   /* PostgreSQL's limit on a NOTIFY payload */
#define PAYLOAD_DEPTH  2	   /* an object of scalars */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define POLL_MS	       1000 /* how late we may notice SIGTERM */
#define REMIND_S       60   /* repeat "database unavailable" this often */
#define ERR_MAX	       512  /* a server message in one log line */

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

enum col {
	C_ID,
	C_EVENT,
	C_REASON,
	C_USER,
	C_SESSION,
	C_AT,
	C_IP,
	C_UA,
	C_LOCATION,
	C_NEW_DEVICE,
	C_JSON_MAX, /* the columns above are the payload's */
	C_USERNAME = C_JSON_MAX,
	C_EMAIL,
	C__MAX
};

/* JSON keys by column: the trigger's payload names them so. */
static const char *const col_keys[C_JSON_MAX] = {
	"id",
	"event",
	"reason",
	"user_id",
	"session_id",
	"at",
	"ip",
	"user_agent",
	"location",
	"new_device",
};

/* One row of audit_log; NULL where the column is NULL. */
struct event {
	long long id;
	const char *v[C__MAX];
};

struct notifier {
	struct config cfg;
	char cmdbuf[CONFIG_STR_MAX];
	char *argv[CMD_ARGS_MAX + 1]; /* argv[0] NULL: log */
	char **envp;		      /* the command's environment */
	PGconn *conn;
	long long last;		      /* highest handled id; -1: not yet */
	long long recent[RECENT_MAX]; /* ring of handled ids */
	size_t nrecent, rnext;
	int state_failing;	/* log a failing state file once */
	size_t handled;		/* events handed on since connecting */
	struct alerts alerts;	/* the security-alert mail */
	char err[ERR_MAX + 64]; /* why the database failed */
};

/* NOLINTNEXTLINE(readability-redundant-declaration): POSIX wants it */
extern char **environ;
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

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

/*
 * Split notify_command on spaces and tabs into argv. There is no shell
 * and no quoting: nothing from an event ever reaches a command line.
 */
static int
split_command(struct notifier *n, char *err, size_t errlen)
{
	char *p, *word;
	size_t argc = 0;

	memcpy(n->cmdbuf, n->cfg.notify_command, sizeof(n->cmdbuf));
	p = n->cmdbuf;
	while ((word = strsep(&p, " \t")) != NULL) {
		if (*word == '\0')
			continue;
		if (argc == CMD_ARGS_MAX) {
			snprintf(err, errlen,
			    "notify_command: more than %d "
			    "words",
			    CMD_ARGS_MAX);
			return -1;
		}
		n->argv[argc++] = word;
	}
	n->argv[argc] = NULL;
	/* A path we can check now fails at startup, not at the first event. */
	if (argc > 0 && strchr(n->argv[0], '/') != NULL &&
	    access(n->argv[0], X_OK) == -1) {
		snprintf(err, errlen, "notify_command: %.200s: %s", n->argv[0],
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The command's environment: ours without anything that leads to the
 * database, which a command has no use for (it gets the event, not our
 * connection): libpq's variables (PGPASSWORD, PGPASSFILE, PGHOST, ...),
 * systemd's credentials folder (the passfile's copy) and our own
 * connection strings.
 */
static int
keep_for_command(const char *var)
{
	static const char *const secret[] = {
		"PG",
		"CREDENTIALS_DIRECTORY=",
		"SESSIOND_DATABASE=",
		"SESSIOND_DATABASE_READ=",
	};
	size_t j;

	for (j = 0; j < sizeof(secret) / sizeof(secret[0]); j++)
		if (strncmp(var, secret[j], strlen(secret[j])) == 0)
			return 0;
	return 1;
}

static int
command_env(struct notifier *n, char *err, size_t errlen)
{
	size_t i, k = 0;

	for (i = 0; environ[i] != NULL; i++)
		;
	if ((n->envp = calloc(i + 1, sizeof(*n->envp))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; environ[i] != NULL; i++)
		if (keep_for_command(environ[i]))
			n->envp[k++] = environ[i];
	n->envp[k] = NULL;
	return 0;
}

static int
seen(const struct notifier *n, long long id)
{
	size_t i;

	for (i = 0; i < n->nrecent; i++)
		if (n->recent[i] == id)
			return 1;
	return 0;
}

static void
remember(struct notifier *n, long long id)
{
	n->recent[n->rnext] = id;
	n->rnext = (n->rnext + 1) % RECENT_MAX;
	if (n->nrecent < RECENT_MAX)
		n->nrecent++;
	if (id > n->last)
		n->last = id;
}

/* Forget everything: the state does not belong to this database. */
static void
forget(struct notifier *n, long long last)
{
	n->nrecent = n->rnext = 0;
	n->last = last;
}

/*
 * Where a catch-up starts: below every recently handled id, so that a
 * transaction that took an id before our last event but committed after
 * it (ids are not handed out in commit order) is not skipped.
 */
static long long
catch_up_floor(const struct notifier *n)
{
	long long lo = n->last;
	size_t i;

	for (i = 0; i < n->nrecent; i++)
		if (n->recent[i] < lo)
			lo = n->recent[i];
	return lo;
}

/*
 * State file: the highest handled id, then the recently handled ids,
 * oldest first, separated by white space. An operator may write a single
 * number to choose where the next start picks up.
 */
static int
state_load(struct notifier *n, char *err, size_t errlen)
{
	const char *path = n->cfg.notify_state_file;
	char buf[STATE_MAX + 1], *p, *tok;
	long long id;
	ssize_t r;
	size_t len = 0;
	int fd, first = 1;

	n->last = -1;
	if (*path == '\0')
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0; /* first start */
		snprintf(err, errlen, "notify_state_file %.200s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (len < sizeof(buf) &&
	    (r = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "notify_state_file %.200s: %s",
			    path, strerror(errno));
			close(fd);
			return -1;
		}
		len += (size_t)r;
	}
	close(fd);
	if (len > STATE_MAX || memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen,
		    "notify_state_file %.200s: not a state "
		    "file",
		    path);
		return -1;
	}
	buf[len] = '\0';
	p = buf;
	while ((tok = strsep(&p, " \t\r\n")) != NULL) {
		if (*tok == '\0')
			continue;
		if (parse_ll(tok, 10, 0, LLONG_MAX, &id) != 0) {
			snprintf(err, errlen,
			    "notify_state_file %.200s: "
			    "\"%.32s\" is not an event id",
			    path, tok);
			return -1;
		}
		if (first)
			n->last = id;
		else
			remember(n, id);
		first = 0;
	}
	/* An empty file is a damaged one: guessing could lose events. */
	if (first) {
		snprintf(err, errlen, "notify_state_file %.200s: empty", path);
		return -1;
	}
	return 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
state_write(const struct notifier *n, const char *path, const char *tmp)
{
	char buf[STATE_MAX];
	size_t len, i, k;
	int fd, rc = 0;

	len = (size_t)snprintf(buf, sizeof(buf), "%lld\n", n->last);
	k = (n->rnext + RECENT_MAX - n->nrecent) % RECENT_MAX;
	for (i = 0; i < n->nrecent; i++, k = (k + 1) % RECENT_MAX)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%lld",
		    i == 0 ? "" : " ", n->recent[k]);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\n");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1)
		return -1;
	/*
	 * fsync before rename, so that a crash leaves the old state or the
	 * new one, never an empty file. The directory is not synced: losing
	 * the rename only means handing on a few events again.
	 */
	if (write_all(fd, buf, len) == -1 || fsync(fd) == -1)
		rc = -1;
	if (close(fd) == -1)
		rc = -1;
	if (rc == 0)
		rc = rename(tmp, path);
	if (rc == -1)
		(void)unlink(tmp);
	return rc;
}

/* Record progress; a failure is logged when it starts and when it ends. */
static void
state_save(struct notifier *n)
{
	const char *path = n->cfg.notify_state_file;
	char tmp[CONFIG_STR_MAX + 8];

	if (*path == '\0')
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (state_write(n, path, tmp) == -1) {
		if (!n->state_failing)
			log_err("msg=\"cannot write state file; events may be "
				"handed on again after a restart\" path=%s "
				"error=%s",
			    log_q(path), log_q(strerror(errno)));
		n->state_failing = 1;
	} else if (n->state_failing) {
		log_info("msg=\"state file written again\" path=%s", path);
		n->state_failing = 0;
	}
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

/* The event as JSON text (malloc'd, the caller frees it), or NULL. */
static char *
event_json(const struct event *ev)
{
	json_object *o, *s;
	char *text = NULL;
	int c;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	for (c = 0; c < C_JSON_MAX; c++) {
		s = NULL;
		if (ev->v[c] == NULL)
			;
		else if (c == C_NEW_DEVICE)
			s = json_object_new_boolean(
			    strcmp(ev->v[c], "true") == 0);
		else if ((s = json_object_new_string(ev->v[c])) == NULL)
			goto out;
		if (json_object_object_add(o, col_keys[c], s) != 0) {
			json_object_put(s);
			goto out;
		}
	}
	text = strdup(json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(o);
	return text;
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

/*
 * Write the event to the command's stdin. The JSON is far smaller than a
 * pipe buffer, but a command that never reads must not hold us past the
 * deadline either.
 */
static void
feed_command(
    int fd, long long id, const char *text, size_t len, long long deadline)
{
	struct pollfd pfd;
	ssize_t w;
	long long left;

	pfd.fd = fd;
	pfd.events = POLLOUT;
	while (len > 0) {
		if ((w = write(fd, text, len)) >= 0) {
			text += w;
			len -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			/* EPIPE: the command chose not to read it all. */
			if (errno != EPIPE)
				log_warn("msg=\"cannot write to notify "
					 "command\" id=%lld error=%s",
				    id, log_q(strerror(errno)));
			return;
		}
		if ((left = deadline - now_ms()) <= 0)
			return;
		(void)poll(&pfd, 1, (int)(left > POLL_MS ? POLL_MS : left));
	}
}

/*
 * Wait for the command; past the deadline, end its whole process group.
 * Returns 0 with its wait status, 1 when it had to be killed, -1 when
 * waitpid fails (errno set).
 */
static int
reap_command(pid_t pid, long long deadline, int *status)
{
	long long nap = 1;
	int killed = 0;
	pid_t r;

	for (;;) {
		if ((r = waitpid(pid, status, WNOHANG)) == pid)
			return killed;
		if (r == -1 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline) {
			(void)kill(-pid, killed ? SIGKILL : SIGTERM);
			deadline = now_ms() + CMD_GRACE_MS;
			killed = 1;
		}
		/* Quick commands are reaped quickly; slow ones cost little. */
		sleep_ms(nap);
		if (nap < 50)
			nap *= 2;
	}
}

static void
run_command(const struct notifier *n, const struct event *ev)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	char *text;
	long long deadline;
	pid_t pid;
	int fds[2], status, rc;

	if ((text = event_json(ev)) == NULL) {
		log_err("msg=\"cannot build event JSON\" id=%lld", ev->id);
		return;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_err("msg=\"pipe failed\" id=%lld error=%s", ev->id,
		    log_q(strerror(errno)));
		free(text);
		return;
	}
	/* Only our end: the command's stdin stays blocking. */
	(void)fcntl(fds[1], F_SETFL, O_NONBLOCK);

	/*
	 * The command gets SIGPIPE back (we ignore it, and an ignored signal
	 * survives exec) and its own process group, so that a timeout can
	 * end whatever it started.
	 */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
		POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	rc = posix_spawnp(&pid, n->argv[0], &fa, &attr, n->argv, n->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(fds[0]);
	if (rc != 0) {
		log_err("msg=\"cannot run notify command\" id=%lld command=%s "
			"error=%s",
		    ev->id, log_q(n->argv[0]), log_q(strerror(rc)));
		close(fds[1]);
		free(text);
		return;
	}

	deadline = now_ms() + CMD_TIMEOUT_MS;
	feed_command(fds[1], ev->id, text, strlen(text), deadline);
	/* One line of JSON: friendly to line-reading commands. */
	feed_command(fds[1], ev->id, "\n", 1, deadline);
	close(fds[1]);
	free(text);

	if ((rc = reap_command(pid, deadline, &status)) == -1)
		log_err("msg=\"waitpid failed\" id=%lld error=%s", ev->id,
		    log_q(strerror(errno)));
	else if (rc == 1)
		log_warn("msg=\"notify command timed out; killed\" id=%lld "
			 "timeout_ms=%d",
		    ev->id, CMD_TIMEOUT_MS);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_warn("msg=\"notify command failed\" id=%lld status=%d",
		    ev->id, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warn("msg=\"notify command killed\" id=%lld signal=%d",
		    ev->id, WTERMSIG(status));
	else
		log_debug("msg=\"notify command done\" id=%lld", ev->id);
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
	if (seen(n, ev.id)) {
		log_debug("msg=\"duplicate dropped\" id=%lld", ev.id);
		return;
	}
	if (n->argv[0] == NULL)
		log_event(&ev);
	else
		run_command(n, &ev);
	queue_alert(n, &ev);
	remember(n, ev.id);
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

	cursor = catch_up_floor(n);
	do {
		if ((res = query(n, q_batch, 1, cursor)) == NULL)
			return -1;
		rows = PQntuples(res);
		prev = cursor;
		for (i = 0; i < rows && !stop; i++) {
			if (parse_ll(PQgetvalue(res, i, C_ID), 10, 1, LLONG_MAX,
				&id) == 0 &&
			    id > cursor)
				cursor = id;
			deliver(n, res, i);
		}
		PQclear(res);
		send_alerts(n);
	} while (rows == BATCH_ROWS && cursor > prev && !stop);
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
		forget(n, max);
		state_save(n);
	} else if (max < n->last) {
		log_warn("msg=\"saved position is ahead of audit_log; "
			 "starting at its newest event\" saved=%lld id=%lld",
		    n->last, max);
		forget(n, max);
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
	if (seen(n, id)) {
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
	while (!stop && (nt = PQnotifies(n->conn)) != NULL) {
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

static PGconn *
db_open(const struct config *cfg)
{
	/*
	 * Our defaults come first so that a conninfo in `database` can
	 * override them; the keepalives notice a peer that vanished without
	 * closing, which an idle LISTEN would otherwise wait on forever.
	 */
	static const char *const keys[] = {
		"fallback_application_name",
		"connect_timeout",
		"keepalives_idle",
		"keepalives_interval",
		"keepalives_count",
		"dbname",
		NULL,
	};
	const char *vals[] = {
		"sessiond-notifier",
		"10",
		"30",
		"10",
		"3",
		cfg->database,
		NULL,
	};

	return PQconnectdbParams(keys, vals, 1);
}

/*
 * Connect, retrying with back-off until it works or we are told to stop.
 * An outage is logged when it starts, every REMIND_S while it lasts, and
 * when it ends, not once per attempt. Returns 0 connected, -1 stopping.
 */
static int
reconnect(struct notifier *n, int lost)
{
	long long delay = BACKOFF_MIN_MS, start = now_ms(), reminded, up;
	int attempts = 0;

	reminded = up = start;
	while (!stop) {
		attempts++;
		/* NULL is out of memory; PQstatus says CONNECTION_BAD. */
		n->conn = db_open(&n->cfg);
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
static int
wait_events(struct notifier *n)
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

/* The standard descriptors, open on /dev/null if we were started without. */
static void
std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= STDERR_FILENO)
		;
	if (fd > STDERR_FILENO)
		close(fd);
}

static void
usage(void)
{
	fprintf(stderr, "usage: sessiond-notifier [-c config]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	static struct notifier n;
	struct sigaction sa;
	const char *cfgpath = NULL;
	char err[CONFIG_STR_MAX + 256];
	int ch, lost = 0;

	std_fds();
	log_init("sessiond-notifier");
	opterr = 0; /* usage() is the one line */
	while ((ch = getopt(argc, argv, "c:")) != -1) {
		switch (ch) {
		case 'c':
			cfgpath = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (config_load(&n.cfg, cfgpath, err, sizeof(err)) != 0 ||
	    split_command(&n, err, sizeof(err)) != 0 ||
	    command_env(&n, err, sizeof(err)) != 0 ||
	    state_load(&n, err, sizeof(err)) != 0 ||
	    alerts_init(&n.alerts, &n.cfg, &stop, err, sizeof(err)) != 0) {
		log_err("msg=\"cannot start\" error=%s", log_q(err));
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal must cut poll and nanosleep short. */
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	log_info("msg=starting handler=%s state=%s mail=%s",
	    log_q(n.argv[0] != NULL ? n.argv[0] : "log"),
	    log_q(*n.cfg.notify_state_file != '\0' ? n.cfg.notify_state_file
						   : "none"),
	    n.alerts.on ? "on" : "off");
	while (!stop) {
		if (n.conn == NULL && reconnect(&n, lost) == -1)
			break;
		if (wait_events(&n) == -1) {
			PQfinish(n.conn);
			n.conn = NULL;
			lost = 1;
		}
		alerts_tick(&n.alerts);
	}
	if (n.conn != NULL)
		PQfinish(n.conn);
	free(n.envp);
	alerts_free(&n.alerts);
	log_info("msg=stopped last_id=%lld", n.last);
	return 0;
}
