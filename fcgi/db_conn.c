/*
 * db_conn.c: the worker's database connections: one write connection and,
 * when database_read is set, one read connection to a standby; every
 * statement of the table prepared once per connection; reconnection after
 * a pause; and the pending slot, whose request travels in one pipeline
 * with the session check. What the statements mean is db.c's business.
 */
#include <poll.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "db_conn.h"
#include "log.h"
#include "metrics.h"

/* How long a worker waits between reconnection attempts. */
#define RECONNECT_MS 200

/*
 * With reads on a standby, a write is acknowledged only once the standbys
 * that serve reads have applied it: a revoked session is then refused on
 * every host on the very next request, and a new one is found.
 */
#define OPTIONS "-c statement_timeout=5000"
#define OPTIONS_SYNC                 \
	"-c statement_timeout=5000 " \
	"-c synchronous_commit=remote_apply"

struct db *
dbc_new(const struct config *cfg, const struct db_stmt *stmts, int nstmts)
{
	struct db *db;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return NULL;
	db->cfg = cfg;
	db->stmts = stmts;
	db->nstmts = nstmts;
	db->split = cfg->database_read[0] != '\0';
	db->w.conninfo = cfg->database;
	db->w.options = db->split ? OPTIONS_SYNC : OPTIONS;
	db->w.name = "primary";
	db->r.conninfo = cfg->database_read;
	db->r.options = OPTIONS;
	db->r.name = "read";
	/*
	 * A transaction pooler (pgbouncer before 1.21) hands each transaction
	 * to any server connection: statements prepared on one are unknown on
	 * the next. Then every statement travels as text with its parameters.
	 */
	db->w.prepared = db->r.prepared = cfg->prepared_statements;
	db->pre.st = -1;
	return db;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	if (db->w.conn != NULL)
		PQfinish(db->w.conn);
	if (db->r.conn != NULL)
		PQfinish(db->r.conn);
	free(db);
}

/* Where st runs: a read on the standby when there is one. */
static struct db_link *
link_for(struct db *db, int st)
{
	return db->split && db->stmts[st].read ? &db->r : &db->w;
}

/* Forget a broken connection; try again after a short pause. */
static void
link_drop(struct db_link *l)
{
	if (l->conn != NULL)
		PQfinish(l->conn);
	l->conn = NULL;
	clock_gettime(CLOCK_MONOTONIC, &l->next_try);
	l->next_try.tv_nsec += RECONNECT_MS * 1000000L;
	if (l->next_try.tv_nsec >= 1000000000L) {
		l->next_try.tv_sec++;
		l->next_try.tv_nsec -= 1000000000L;
	}
}

static void
link_lost(const struct db *db, struct db_link *l, int st)
{
	log_warn("msg=\"database connection lost\" link=%s stmt=%s", l->name,
	    log_q(db->stmts[st].name));
	metrics_db_error(DBERR_LOST);
	l->down_logged = 1;
	PQfinish(l->conn);
	l->conn = NULL;
}

/* What the server says outside an answer, as a log line that parses. */
static void
on_notice(void *arg, const char *msg)
{
	(void)arg;
	log_info("msg=\"database notice\" text=%s", log_q(msg));
}

static int
link_connect(const struct db *db, struct db_link *l)
{
	/*
	 * Defaults before dbname, which the connection string expands into
	 * and so overrides; our options (timeouts, remote_apply) after it.
	 */
	static const char *const keys[] = { "connect_timeout",
		"application_name", "dbname", "options", NULL };
	const char *vals[] = { "2", "sessiond", l->conninfo, l->options, NULL };
	PGresult *res;
	int i;

	l->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(l->conn) != CONNECTION_OK) {
		metrics_db_error(DBERR_CONNECT);
		if (!l->down_logged)
			log_warn(
			    "msg=\"database unavailable\" link=%s error=%s",
			    l->name, log_q(PQerrorMessage(l->conn)));
		l->down_logged = 1;
		return -1;
	}
	PQsetNoticeProcessor(l->conn, on_notice, NULL);
	for (i = 0; i < db->nstmts && l->prepared; i++) {
		res = PQprepare(
		    l->conn, db->stmts[i].name, db->stmts[i].sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_err("msg=\"prepare failed\" stmt=%s error=%s",
			    log_q(db->stmts[i].name),
			    log_q(PQresultErrorMessage(res)));
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	if (l->down_logged) {
		log_info(
		    "msg=\"database connection restored\" link=%s", l->name);
		metrics_db_reconnect();
	}
	l->down_logged = 0;
	return 0;
}

static enum app_err
link_ready(const struct db *db, struct db_link *l)
{
	struct timespec now;

	if (l->conn != NULL && PQstatus(l->conn) == CONNECTION_OK)
		return APP_OK;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (l->conn == NULL &&
	    (now.tv_sec < l->next_try.tv_sec ||
		(now.tv_sec == l->next_try.tv_sec &&
		    now.tv_nsec < l->next_try.tv_nsec)))
		return APP_EDBDOWN;
	if (l->conn != NULL)
		PQfinish(l->conn);
	l->conn = NULL;
	if (link_connect(db, l) != 0) {
		link_drop(l);
		return APP_EDBDOWN;
	}
	return APP_OK;
}

enum app_err
db_ready(struct db *db)
{
	enum app_err err;

	if ((err = link_ready(db, &db->w)) != APP_OK)
		return err;
	return db->split ? link_ready(db, &db->r) : APP_OK;
}

static void
clear_result(void *p)
{
	PQclear(p);
}

/* Classify a failed result; returns the error and logs it once. */
static enum app_err
failed(
    const struct db *db, const struct db_link *l, const PGresult *res, int st)
{
	const char *state;

	if (PQstatus(l->conn) != CONNECTION_OK)
		return APP_EDBDOWN;
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	metrics_db_error(DBERR_QUERY);
	log_fail("cause=\"query failed\" stmt=%s sqlstate=%s error=%s",
	    log_q(db->stmts[st].name), state != NULL ? state : "-",
	    log_q(res != NULL ? PQresultErrorMessage(res) : "no result"));
	return APP_EINTERNAL;
}

/* An answer goes into the arena, which frees it at its reset. */
static PGresult *
keep(struct arena *a, PGresult *res, enum app_err *err)
{
	if (arena_cleanup(a, clear_result, res) != 0) {
		PQclear(res);
		*err = APP_EINTERNAL;
		return NULL;
	}
	*err = APP_OK;
	return res;
}

PGresult *
dbc_run(struct db *db, struct arena *a, int st, int n,
    const char *const *params, enum app_err *err)
{
	struct db_link *l = link_for(db, st);
	PGresult *res;
	ExecStatusType rs;
	struct timespec t0;
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if ((*err = link_ready(db, l)) != APP_OK)
			return NULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		res = l->prepared ? PQexecPrepared(l->conn, db->stmts[st].name,
					n, params, NULL, NULL, 0)
				  : PQexecParams(l->conn, db->stmts[st].sql, n,
					NULL, params, NULL, NULL, 0);
		metrics_db_round_trip(&t0);
		rs = PQresultStatus(res);
		if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK)
			return keep(a, res, err);
		if (PQstatus(l->conn) != CONNECTION_OK) {
			/*
			 * The server went away (restart, failover). A read
			 * is retried once on a fresh connection; a write is
			 * not, since it may have committed.
			 */
			PQclear(res);
			link_lost(db, l, st);
			if (db->stmts[st].retry && attempt == 0)
				continue;
			link_drop(l);
			*err = APP_EDBDOWN;
			return NULL;
		}
		*err = failed(db, l, res, st);
		PQclear(res);
		return NULL;
	}
	*err = APP_EDBDOWN;
	return NULL;
}

static int
send_stmt(const struct db *db, struct db_link *l, int st, int n,
    const char *const *params)
{
	if (l->prepared)
		return PQsendQueryPrepared(
		    l->conn, db->stmts[st].name, n, params, NULL, NULL, 0);
	return PQsendQueryParams(
	    l->conn, db->stmts[st].sql, n, NULL, params, NULL, NULL, 0);
}

/*
 * Send st and the pending request in one pipeline and read both results
 * into got[]: 0, or -1 when the connection broke.
 */
static int
pipeline(struct db *db, struct db_link *l, int st, int n,
    const char *const *params, PGresult *got[2])
{
	const struct db_pending *pre = &db->pre;
	PGresult *x;
	int idx, ok;

	got[0] = got[1] = NULL;
	ok = PQenterPipelineMode(l->conn) == 1 &&
	    send_stmt(db, l, st, n, params) == 1 &&
	    send_stmt(db, l, pre->st, pre->n, pre->params) == 1 &&
	    PQpipelineSync(l->conn) == 1;
	/* Results, each followed by NULL, then the sync point. */
	for (idx = 0; ok;) {
		if ((x = PQgetResult(l->conn)) == NULL) {
			if (PQstatus(l->conn) != CONNECTION_OK)
				break;
			idx++;
			continue;
		}
		if (PQresultStatus(x) == PGRES_PIPELINE_SYNC) {
			PQclear(x);
			break;
		}
		if (idx < 2 && got[idx] == NULL)
			got[idx] = x;
		else
			PQclear(x);
	}
	if (ok && PQstatus(l->conn) == CONNECTION_OK &&
	    PQexitPipelineMode(l->conn) == 1)
		return 0;
	PQclear(got[0]);
	PQclear(got[1]);
	got[0] = got[1] = NULL;
	return -1;
}

/*
 * Whether an idle connection is still there. A server that shut down
 * (restart, failover) sent a last message and closed it, which a statement
 * would find only after it was sent; what cannot be sent twice checks
 * first: one poll, no round trip. Readable while idle means the server
 * spoke: read it all (the message, then the end, if it came).
 */
static int
link_alive(struct db_link *l)
{
	struct pollfd pfd;
	int i;

	pfd.fd = PQsocket(l->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) <= 0)
		return 1;
	for (i = 0; i < 2; i++)
		if (PQconsumeInput(l->conn) != 1 ||
		    PQstatus(l->conn) != CONNECTION_OK)
			return 0;
	return 1;
}

/*
 * Both in one round trip and one implicit transaction. On a standby only
 * when both are reads; run again on a new connection only when both may.
 */
static PGresult *
run_pipeline(struct db *db, struct arena *a, int st, int n,
    const char *const *params, enum app_err *err)
{
	struct db_pending *pre = &db->pre;
	const struct db_stmt *s1 = &db->stmts[st], *s2 = &db->stmts[pre->st];
	struct db_link *l = db->split && s1->read && s2->read ? &db->r : &db->w;
	PGresult *got[2];
	struct timespec t0;
	int attempt;

	for (attempt = 0;; attempt++) {
		if (!s2->retry && l->conn != NULL && !link_alive(l))
			link_lost(db, l, pre->st);
		if ((*err = link_ready(db, l)) != APP_OK) {
			pre->err = *err;
			return NULL;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (pipeline(db, l, st, n, params, got) == 0) {
			metrics_db_round_trip(&t0);
			break;
		}
		link_lost(db, l, st);
		if (attempt == 1 || !s1->retry || !s2->retry) {
			link_drop(l);
			pre->err = *err = APP_EDBDOWN;
			return NULL;
		}
	}
	if (PQresultStatus(got[1]) == PGRES_TUPLES_OK)
		pre->res = keep(a, got[1], &pre->err);
	else {
		/* Aborted because the check failed: that error is the answer. */
		pre->err = PQresultStatus(got[1]) == PGRES_PIPELINE_ABORTED
		    ? APP_EINTERNAL
		    : failed(db, l, got[1], pre->st);
		PQclear(got[1]);
	}
	if (PQresultStatus(got[0]) != PGRES_TUPLES_OK) {
		*err = failed(db, l, got[0], st);
		PQclear(got[0]);
		return NULL;
	}
	return keep(a, got[0], err);
}

enum app_err
dbc_queue(struct db *db, int st, int n, const char *const *params, int limit)
{
	struct db_pending *pre = &db->pre;

	if (st < 0 || st >= db->nstmts || n < 0 || n > DB_PARAMS_MAX) {
		log_err(
		    "msg=\"bad queued statement\" stmt=%d params=%d", st, n);
		return APP_EINTERNAL;
	}
	memset(pre, 0, sizeof(*pre));
	pre->st = st;
	pre->n = n;
	if (n > 0)
		memcpy(pre->params, params, sizeof(params[0]) * (size_t)n);
	pre->limit = limit;
	return APP_OK;
}

PGresult *
dbc_check(struct db *db, struct arena *a, int st, int n,
    const char *const *params, enum app_err *err)
{
	if (db->pre.st < 0 || db->pre.sent)
		return dbc_run(db, a, st, n, params, err);
	db->pre.sent = 1;
	return run_pipeline(db, a, st, n, params, err);
}

PGresult *
dbc_collect(
    struct db *db, struct arena *a, int st, int *limit, enum app_err *err)
{
	struct db_pending *pre = &db->pre;
	PGresult *res;

	if (pre->st != st) {
		/* A handler without its prepare step: a bug, not the input. */
		log_fail("cause=\"no pending request\" stmt=%s pending=%s",
		    log_q(
			st >= 0 && st < db->nstmts ? db->stmts[st].name : "?"),
		    log_q(pre->st >= 0 ? db->stmts[pre->st].name : "none"));
		*err = APP_EINTERNAL;
		return NULL;
	}
	if (limit != NULL)
		*limit = pre->limit;
	if (!pre->sent) {
		pre->sent = 1;
		return dbc_run(db, a, st, pre->n, pre->params, err);
	}
	/* Collected once: a second call gets nothing the slot no longer has. */
	res = pre->res;
	*err = res != NULL ? APP_OK : pre->err;
	if (res == NULL && *err == APP_OK)
		*err = APP_EINTERNAL;
	pre->res = NULL;
	pre->err = APP_EINTERNAL;
	return res;
}

void
db_request_done(struct db *db)
{
	memset(&db->pre, 0, sizeof(db->pre));
	db->pre.st = -1;
}

struct db_probe {
	PGconn *conn;
	PostgresPollingStatusType st;
};

struct db_probe *
db_probe_start(const struct config *cfg)
{
	static const char *const keys[] = { "connect_timeout",
		"application_name", "dbname", NULL };
	const char *vals[] = { "2", "sessiond-master", cfg->database, NULL };
	struct db_probe *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->conn = PQconnectStartParams(keys, vals, 1);
	/* libpq's first step writes (or fails at once). */
	p->st = PGRES_POLLING_WRITING;
	return p;
}

void
db_probe_wait(const struct db_probe *p, struct pollfd *pfd)
{
	pfd->fd = p->conn != NULL ? PQsocket(p->conn) : -1;
	pfd->events = p->st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
	pfd->revents = 0;
}

int
db_probe_step(struct db_probe *p, char *msg, size_t len)
{
	char *c;

	if (p->conn != NULL && PQstatus(p->conn) != CONNECTION_BAD)
		p->st = PQconnectPoll(p->conn);
	else
		p->st = PGRES_POLLING_FAILED;
	if (p->st == PGRES_POLLING_OK)
		return 0;
	if (p->st != PGRES_POLLING_FAILED)
		return 1;
	/* libpq's first line says it all (the rest repeats it per address). */
	snprintf(msg, len, "%s",
	    p->conn != NULL ? PQerrorMessage(p->conn) : "out of memory");
	if ((c = strchr(msg, '\n')) != NULL)
		*c = '\0';
	for (c = msg; *c != '\0'; c++)
		if (*c == '\t')
			*c = ' ';
	while (c > msg && c[-1] == ' ')
		*--c = '\0';
	return -1;
}

void
db_probe_free(struct db_probe *p)
{
	if (p == NULL)
		return;
	if (p->conn != NULL)
		PQfinish(p->conn);
	free(p);
}

void
db_probe_abandon(struct db_probe *p)
{
	if (p != NULL && p->conn != NULL && PQsocket(p->conn) >= 0)
		close(PQsocket(p->conn));
}

int
db_server_up(const struct config *cfg)
{
	static const char *const keys[] = { "connect_timeout", "dbname", NULL };
	const char *vals[] = { "2", cfg->database, NULL };

	return PQpingParams(keys, vals, 1) == PQPING_OK;
}
