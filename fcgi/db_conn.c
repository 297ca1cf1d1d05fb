/*
 * db_conn.c: the database connections of a worker: one to the primary
 * and, when database_read is set, one to a standby for reads; statements
 * prepared on each by name; a lost connection noticed, retried once where
 * that is safe, and reopened after a pause; the pending slot and the
 * pipeline that sends a queued read with the session check (one round
 * trip); and the master's non-blocking probe. db.c holds the statements.
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
#include "pg.h"

/* How long a worker waits between reconnection attempts. */
#define RECONNECT_MS 200

/*
 * Generic plans: every statement here finds its rows by user_id (or a
 * token, an id) through an index, whatever the values, so one plan per
 * statement and connection is right. Left to choose, PostgreSQL plans
 * each execution anew once the table's statistics make the generic plan
 * look dearer than a custom one: at 1M rows (most of them a few users')
 * planning the list cost more than running it, and list ran at half its
 * rate (make bench, docs/performance.md). SQL functions' own statements
 * (auth_begin, session_revoke_by_token, ...) follow the same setting.
 */
#define OPTIONS                      \
	"-c statement_timeout=5000 " \
	"-c plan_cache_mode=force_generic_plan"
/*
 * With reads on a standby, a write is acknowledged only once the standbys
 * that serve reads have applied it: a revoked session is then refused on
 * every host on the very next request, and a new one is found.
 */
#define OPTIONS_SYNC OPTIONS " -c synchronous_commit=remote_apply"

struct db_probe {
	PGconn *conn;
	PostgresPollingStatusType st;
};

struct db *
db_new(const struct config *cfg)
{
	struct db *db;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return NULL;
	db->cfg = cfg;
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
	db->pre.st = ST__MAX;
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

static struct link *
link_for(struct db *db, enum stmt st)
{
	return db->split && stmts[st].read ? &db->r : &db->w;
}

/* Forget a broken connection; try again after a short pause. */
static void
link_drop(struct link *l)
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
link_lost(struct link *l, enum stmt st)
{
	log_warn("msg=\"database connection lost\" link=%s stmt=%s", l->name,
	    stmts[st].name);
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
link_connect(struct link *l)
{
	PGresult *res;
	int i;

	/* Our options (timeouts, remote_apply) after the conninfo (pg.h). */
	l->conn = pg_open(l->conninfo, "sessiond", "2", l->options);
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
	for (i = 0; i < ST__MAX && l->prepared; i++) {
		res = PQprepare(l->conn, stmts[i].name, stmts[i].sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_err("msg=\"prepare failed\" stmt=%s error=%s",
			    stmts[i].name, log_q(PQresultErrorMessage(res)));
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
link_ready(struct link *l)
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
	if (link_connect(l) != 0) {
		link_drop(l);
		return APP_EDBDOWN;
	}
	return APP_OK;
}

enum app_err
db_ready(struct db *db)
{
	enum app_err err;

	if ((err = link_ready(&db->w)) != APP_OK)
		return err;
	return db->split ? link_ready(&db->r) : APP_OK;
}

static void
clear_result(void *p)
{
	PQclear(p);
}

/* Classify a failed result; returns the error and logs it once. */
static enum app_err
failed(const struct link *l, PGresult *res, enum stmt st)
{
	const char *state;

	if (PQstatus(l->conn) != CONNECTION_OK)
		return APP_EDBDOWN;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	metrics_db_error(DBERR_QUERY);
	log_fail("cause=\"query failed\" stmt=%s sqlstate=%s error=%s",
	    stmts[st].name, state != NULL ? state : "-",
	    log_q(res != NULL ? PQresultErrorMessage(res) : "no result"));
	return APP_EINTERNAL;
}

/* db_conn.h */
PGresult *
db_run(struct db *db, struct arena *a, enum stmt st, int n,
    const char *const *params, enum app_err *err)
{
	struct link *l = link_for(db, st);
	PGresult *res;
	ExecStatusType rs;
	struct timespec t0;
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if ((*err = link_ready(l)) != APP_OK)
			return NULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		res = l->prepared ? PQexecPrepared(l->conn, stmts[st].name, n,
					params, NULL, NULL, 0)
				  : PQexecParams(l->conn, stmts[st].sql, n,
					NULL, params, NULL, NULL, 0);
		metrics_db_round_trip(&t0);
		rs = PQresultStatus(res);
		if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK) {
			if (arena_cleanup(a, clear_result, res) != 0) {
				*err = APP_EINTERNAL;
				return NULL;
			}
			return res;
		}
		if (PQstatus(l->conn) != CONNECTION_OK) {
			/*
			 * The server went away (restart, failover). A read
			 * is retried once on a fresh connection; a write is
			 * not, since it may have committed.
			 */
			PQclear(res);
			link_lost(l, st);
			if (stmts[st].retry && attempt == 0)
				continue;
			link_drop(l);
			*err = APP_EDBDOWN;
			return NULL;
		}
		*err = failed(l, res, st);
		PQclear(res);
		return NULL;
	}
	*err = APP_EDBDOWN;
	return NULL;
}

/*
 * Run st and then the queued request in one pipeline: one round trip, one
 * implicit transaction. A lost connection is retried once when both may
 * run again (reads; the session check's last-seen write is idempotent);
 * a revocation is not, and the idle connection is checked before it.
 */
static int
send_stmt(struct link *l, enum stmt st, int n, const char *const *params)
{
	if (l->prepared)
		return PQsendQueryPrepared(
		    l->conn, stmts[st].name, n, params, NULL, NULL, 0);
	return PQsendQueryParams(
	    l->conn, stmts[st].sql, n, NULL, params, NULL, NULL, 0);
}

/*
 * Whether an idle connection is still there. A server that shut down
 * (restart, failover) sent a last message and closed it, which a statement
 * would find only after it was sent; what cannot be sent twice checks
 * first: one poll, no round trip. Readable while idle means the server
 * spoke: read it all (the message, then the end, if it came).
 */
static int
link_alive(struct link *l)
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

/* A pipeline goes to a standby only when both its statements are reads. */
static struct link *
pipeline_link(struct db *db, enum stmt st)
{
	return db->split && stmts[st].read && stmts[db->pre.st].read ? &db->r
								     : &db->w;
}

static PGresult *
run_pipeline(struct db *db, struct arena *a, enum stmt st, int n,
    const char *const *params, enum app_err *err)
{
	struct pending *pre = &db->pre;
	struct link *l = pipeline_link(db, st);
	int retry = stmts[st].retry && stmts[pre->st].retry;
	PGresult *got[2], *x;
	struct timespec t0;
	int attempt, idx, ok;

	for (attempt = 0; attempt < 2; attempt++) {
		if (!retry && l->conn != NULL && !link_alive(l))
			link_lost(l, pre->st);
		if ((*err = link_ready(l)) != APP_OK) {
			pre->err = *err;
			return NULL;
		}
		got[0] = got[1] = NULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ok = PQenterPipelineMode(l->conn) == 1 &&
		    send_stmt(l, st, n, params) == 1 &&
		    send_stmt(l, pre->st, pre->n, pre->params) == 1 &&
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
		    PQexitPipelineMode(l->conn) == 1) {
			metrics_db_round_trip(&t0);
			break;
		}
		PQclear(got[0]);
		PQclear(got[1]);
		link_lost(l, st);
		if (attempt == 1 || !retry) {
			link_drop(l);
			pre->err = *err = APP_EDBDOWN;
			return NULL;
		}
	}
	if (PQresultStatus(got[1]) == PGRES_TUPLES_OK) {
		pre->res = got[1];
		pre->err = arena_cleanup(a, clear_result, got[1]) == 0
		    ? APP_OK
		    : APP_EINTERNAL;
	} else {
		/* Aborted because the check failed: that error is the answer. */
		pre->err = PQresultStatus(got[1]) == PGRES_PIPELINE_ABORTED
		    ? APP_EINTERNAL
		    : failed(l, got[1], pre->st);
		PQclear(got[1]);
	}
	if (PQresultStatus(got[0]) != PGRES_TUPLES_OK) {
		*err = failed(l, got[0], st);
		PQclear(got[0]);
		return NULL;
	}
	if (arena_cleanup(a, clear_result, got[0]) != 0) {
		*err = APP_EINTERNAL;
		return NULL;
	}
	return got[0];
}

void
db_queue(
    struct db *db, enum stmt st, int n, const char *const *params, int limit)
{
	db->pre.st = st;
	db->pre.n = n;
	memcpy(db->pre.params, params, sizeof(params[0]) * (size_t)n);
	db->pre.limit = limit;
	db->pre.queued = 1;
	db->pre.sent = 0;
	db->pre.res = NULL;
	db->pre.err = APP_OK;
}

PGresult *
db_run_check(struct db *db, struct arena *a, int n, const char *const *params,
    enum app_err *err)
{
	if (!db->pre.queued)
		return db_run(db, a, ST_CHECK, n, params, err);
	db->pre.queued = 0;
	db->pre.sent = 1;
	return run_pipeline(db, a, ST_CHECK, n, params, err);
}

PGresult *
db_take(
    struct db *db, struct arena *a, enum stmt st, int *limit, enum app_err *err)
{
	struct pending *pre = &db->pre;
	PGresult *res;

	if (pre->st != st) {
		log_err("msg=\"no queued read\" stmt=%s", stmts[st].name);
		*err = APP_EINTERNAL;
		return NULL;
	}
	*limit = pre->limit;
	if (!pre->sent) /* no session check ran: send it now */
		res = db_run(db, a, st, pre->n, pre->params, err);
	else if ((res = pre->res) == NULL)
		*err = pre->err;
	pre->st = ST__MAX;
	pre->res = NULL;
	return res;
}

void
db_request_done(struct db *db)
{
	memset(&db->pre, 0, sizeof(db->pre));
	db->pre.st = ST__MAX;
}

struct db_probe *
db_probe_start(const struct config *cfg)
{
	struct pg_params pp;
	struct db_probe *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	pg_params(&pp, cfg->database, "sessiond-master", "2", NULL);
	p->conn = PQconnectStartParams(pp.keys, pp.vals, 1);
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
