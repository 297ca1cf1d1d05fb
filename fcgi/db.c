/*
 * db.c: prepared statements over libpq, one write connection per worker
 * and, when database_read is set, one read connection to a standby.
 *
 * The session check is a plain read (ST_CHECK), sent in one pipeline with
 * the handler's read: one round trip per request. Its writes (last seen at
 * most once per touch_interval, recording an expiry) go to the primary.
 */
#include <arpa/inet.h>

#include <poll.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "arena.h"
#include "config.h"
#include "cookie.h"
#include "db.h"
#include "geoip.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "req.h"

/* How long a worker waits between reconnection attempts. */
#define RECONNECT_MS 200

/* The columns of a session, in the order row_session() reads them. */
#define SESSION_COLS                                                       \
	"s.id, epoch(s.created_at), epoch(s.last_seen_at), "               \
	"epoch(session_expires(s, $3::int)), epoch(s.authenticated_at), "  \
	"coalesce(host(s.ip), ''), s.user_agent, s.ch_ua, s.ch_platform, " \
	"s.ch_mobile, epoch_us(s.created_at), s.user_id, "                 \
	"coalesce(s.location, '')"
#define SESSION_NCOLS 13

enum stmt {
	ST_PING,
	ST_CHECK,
	ST_TOUCH,
	ST_EXPIRE,
	ST_AUTH_BEGIN,
	ST_AUTH_FAILED,
	ST_AUTH_RELEASE,
	ST_LOGIN,
	ST_REAUTH,
	ST_PASSWORD,
	ST_REVOKE,
	ST_LIST,
	ST_STATUS,
	ST_AUDIT,
	ST__MAX
};

/*
 * read: may run on a standby. retry: safe to run again on a new
 * connection after the old one broke (it changes nothing, or changing it
 * twice is the same as once).
 */
static const struct {
	const char *sql;
	int read;
	int retry;
} stmts[ST__MAX] = {
	[ST_PING] = { "SELECT 1", 0, 1 },
	[ST_CHECK] = { "SELECT " SESSION_COLS ", u.username, "
		       "session_expires(s, $3::int) <= now(), "
		       "s.last_seen_at <= now() - make_interval(secs => "
		       "$4::int) "
		       "FROM sessions s JOIN users u ON u.id = s.user_id "
		       "WHERE s.user_id = $1 AND s.token_hash = $2 "
		       "AND s.revoked_at IS NULL",
	    1, 1 },
	[ST_TOUCH] = { "UPDATE sessions s SET last_seen_at = now(), ip = $3, "
		       "user_agent = $4, ch_ua = $5, ch_platform = $6, "
		       "ch_mobile = $7, location = CASE WHEN s.ip IS "
		       "DISTINCT FROM $3::inet THEN $9 ELSE s.location END "
		       "WHERE user_id = $1 AND id = $2 AND revoked_at IS NULL "
		       "RETURNING epoch(s.last_seen_at), "
		       "epoch(session_expires(s, $8::int))",
	    0, 1 },
	[ST_EXPIRE] = { "SELECT session_expire($1, $2, $3, $4, $5)", 0, 1 },
	[ST_AUTH_BEGIN] = { "SELECT attempt, user_id, password_hash, "
			    "disabled, device_known, retry FROM auth_begin($1, "
			    "$2, $3, $4, $5, $6, $7)",
	    /*
	     * Retried: a connection found broken (a database restart) must
	     * not fail the login. At worst a reservation that did commit is
	     * made twice: one failure too many, never one too few.
	     */
	    0, 1 },
	[ST_AUTH_FAILED] = { "SELECT auth_failed($1, $2, $3, $4, $5, $6, $7)",
	    0, 0 },
	[ST_AUTH_RELEASE] = { "DELETE FROM auth_failures WHERE id = $1", 0, 1 },
	[ST_LOGIN] = { "SELECT " SESSION_COLS " FROM auth_login($1, $2, $4, "
		       "$5, $6, $3, $7, located($8, $14), $9, $10, $11, $12, "
		       "device_noted($13, $15)) s",
	    0, 0 },
	[ST_REAUTH] = { "SELECT auth_reauth($1, $2, $3, $4, $5)", 0, 0 },
	[ST_PASSWORD] = { "SELECT password_change($1, $2, $3, $4, $5, $6, $7)",
	    0, 0 },
	[ST_REVOKE] = { "SELECT * FROM session_revoke($1, $2, $3, $4, $5, "
			"$6, $7)",
	    0, 0 },
	[ST_LIST] = { "SELECT " SESSION_COLS " FROM sessions s "
		      "WHERE s.user_id = $1 AND s.revoked_at IS NULL "
		      "AND session_expires(s, $3::int) > now() "
		      "AND (s.created_at, s.id) < (from_epoch_us($4), "
		      "$5::uuid) "
		      "ORDER BY s.created_at DESC, s.id DESC LIMIT $2",
	    1, 1 },
	[ST_STATUS] = { "SELECT CASE WHEN revoke_reason = 'expired' OR "
			"(revoked_at IS NULL AND session_expires(s, $3::int) "
			"<= now()) "
			"THEN 'expired' WHEN revoked_at IS NOT NULL THEN "
			"'revoked' "
			"ELSE 'active' END, coalesce(epoch(revoked_at), 0) "
			"FROM sessions s WHERE user_id = $1 AND id = $2",
	    1, 1 },
	/* The target session's client hints describe the device, if kept. */
	[ST_AUDIT] = { "SELECT a.id, epoch(a.at), a.event, "
		       "coalesce(a.reason, ''), coalesce(a.session_id::text, "
		       "''), "
		       "coalesce(a.target_session_id::text, ''), "
		       "coalesce(host(a.ip), ''), coalesce(a.user_agent, ''), "
		       "coalesce(t.ch_ua, ''), coalesce(t.ch_platform, ''), "
		       "coalesce(t.ch_mobile, ''), coalesce(a.location, '') "
		       "FROM audit_log a LEFT JOIN sessions t ON t.user_id = "
		       "a.user_id "
		       "AND t.id = a.target_session_id "
		       "WHERE a.user_id = $1 AND a.id < $2 "
		       "ORDER BY a.id DESC LIMIT $3",
	    1, 1 },
};

#define PARAMS_MAX 14

/*
 * A read queued by a handler's prepare step, sent in one pipeline with the
 * session check so that the request costs one round trip.
 */
struct pending {
	enum stmt st;
	int n;
	const char *params[PARAMS_MAX];
	int queued;	  /* waiting for db_auth */
	PGresult *res;	  /* its result, until the handler asks */
	enum app_err err; /* or why there is none */
};

/* One connection, its reconnection pause and what it logged. */
struct link {
	PGconn *conn;
	const char *conninfo;
	const char *options;
	const char *name; /* "primary" or "read" in logs */
	int prepared;	  /* 0: send the SQL text each time */
	struct timespec next_try;
	int down_logged;
};

struct db {
	struct link w; /* writes, and reads without a pool */
	struct link r; /* reads, when database_read is set */
	int split;
	const struct config *cfg;
	struct pending pre;
};

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
	log_warn("msg=\"database connection lost\" link=%s stmt=%d", l->name,
	    (int)st);
	metrics_db_error(DBERR_LOST);
	l->down_logged = 1;
	PQfinish(l->conn);
	l->conn = NULL;
}

static int
link_connect(struct link *l)
{
	PGresult *res;
	char name[16];
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
	for (i = 0; i < ST__MAX && l->prepared; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		res = PQprepare(l->conn, name, stmts[i].sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_err("msg=\"prepare failed\" stmt=%d error=%s", i,
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

/*
 * Run a prepared statement. Returns the result (freed at arena reset) or
 * NULL with *err set: APP_EDBDOWN when the connection is gone, else
 * APP_EINTERNAL (logged here with the SQLSTATE).
 */
static PGresult *
run(struct db *db, struct arena *a, enum stmt st, int n,
    const char *const *params, enum app_err *err)
{
	struct link *l = link_for(db, st);
	PGresult *res;
	ExecStatusType rs;
	struct timespec t0;
	char name[16];
	int attempt;

	if (db->pre.st == st &&
	    (db->pre.res != NULL || db->pre.err != APP_OK)) {
		/* Sent with the session check; already in the arena. */
		res = db->pre.res;
		*err = db->pre.err;
		db->pre.res = NULL;
		db->pre.err = APP_OK;
		return res;
	}
	snprintf(name, sizeof(name), "s%d", (int)st);
	for (attempt = 0; attempt < 2; attempt++) {
		if ((*err = link_ready(l)) != APP_OK)
			return NULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		res = l->prepared
		    ? PQexecPrepared(l->conn, name, n, params, NULL, NULL, 0)
		    : PQexecParams(l->conn, stmts[st].sql, n, NULL, params,
			  NULL, NULL, 0);
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
		metrics_db_error(DBERR_QUERY);
		log_fail("cause=\"query failed\" stmt=%d sqlstate=%s error=%s",
		    (int)st,
		    PQresultErrorField(res, PG_DIAG_SQLSTATE)
			? PQresultErrorField(res, PG_DIAG_SQLSTATE)
			: "-",
		    log_q(PQresultErrorMessage(res)));
		PQclear(res);
		*err = APP_EINTERNAL;
		return NULL;
	}
	*err = APP_EDBDOWN;
	return NULL;
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
	log_fail("cause=\"query failed\" stmt=%d sqlstate=%s error=%s", (int)st,
	    state != NULL ? state : "-",
	    log_q(res != NULL ? PQresultErrorMessage(res) : "no result"));
	return APP_EINTERNAL;
}

/*
 * Run st and then the queued read in one pipeline: one round trip, one
 * implicit transaction. Both are reads (the session check's last-seen
 * write is idempotent), so a lost connection is retried once.
 */
static int
send_stmt(struct link *l, enum stmt st, const char *name, int n,
    const char *const *params)
{
	if (l->prepared)
		return PQsendQueryPrepared(
		    l->conn, name, n, params, NULL, NULL, 0);
	return PQsendQueryParams(
	    l->conn, stmts[st].sql, n, NULL, params, NULL, NULL, 0);
}

static PGresult *
run_pipeline(struct db *db, struct arena *a, enum stmt st, int n,
    const char *const *params, enum app_err *err)
{
	struct pending *pre = &db->pre;
	struct link *l = link_for(db, st);
	PGresult *got[2], *x;
	struct timespec t0;
	char n1[16], n2[16];
	int attempt, idx, ok;

	snprintf(n1, sizeof(n1), "s%d", (int)st);
	snprintf(n2, sizeof(n2), "s%d", (int)pre->st);
	for (attempt = 0; attempt < 2; attempt++) {
		if ((*err = link_ready(l)) != APP_OK)
			return NULL;
		got[0] = got[1] = NULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ok = PQenterPipelineMode(l->conn) == 1 &&
		    send_stmt(l, st, n1, n, params) == 1 &&
		    send_stmt(l, pre->st, n2, pre->n, pre->params) == 1 &&
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
		if (attempt == 1) {
			link_drop(l);
			*err = APP_EDBDOWN;
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

/* Keep a read to send with the next db_auth. */
static void
queue(struct db *db, enum stmt st, int n, const char *const *params)
{
	db->pre.st = st;
	db->pre.n = n;
	memcpy(db->pre.params, params, sizeof(params[0]) * (size_t)n);
	db->pre.queued = 1;
	db->pre.res = NULL;
	db->pre.err = APP_OK;
}

void
db_request_done(struct db *db)
{
	memset(&db->pre, 0, sizeof(db->pre));
	db->pre.st = ST__MAX;
}

/* Text form of small values for parameters, in the arena. */
static const char *
num(struct arena *a, long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", v);
	return arena_strndup(a, buf, strlen(buf));
}

static const char *
hex(struct arena *a, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s;
	size_t i;

	if ((s = arena_alloc(a, 2 * n + 3)) == NULL)
		return NULL;
	s[0] = '\\';
	s[1] = 'x';
	for (i = 0; i < n; i++) {
		s[2 + 2 * i] = digits[p[i] >> 4];
		s[3 + 2 * i] = digits[p[i] & 15];
	}
	return s;
}

/* The client address as inet text, or NULL when nginx gave none usable. */
static const char *
client_ip(const struct req *r)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, r->ip, buf) == 1 ||
	    inet_pton(AF_INET6, r->ip, buf) == 1)
		return r->ip;
	return NULL;
}

static long long
getll(const PGresult *res, int row, int col)
{
	/* banned-ok(strtoll): a bigint column PostgreSQL itself printed */
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static void
row_session(const PGresult *res, int row, struct session *s)
{
	memset(s, 0, sizeof(*s));
	s->id = PQgetvalue(res, row, 0);
	s->created_at = getll(res, row, 1);
	s->last_seen_at = getll(res, row, 2);
	s->expires_at = getll(res, row, 3);
	s->authenticated_at = getll(res, row, 4);
	s->ip = PQgetvalue(res, row, 5);
	s->ua = PQgetvalue(res, row, 6);
	s->ch_ua = PQgetvalue(res, row, 7);
	s->ch_platform = PQgetvalue(res, row, 8);
	s->ch_mobile = PQgetvalue(res, row, 9);
	s->created_us = getll(res, row, 10);
	s->user_id = getll(res, row, 11);
	s->location = PQgetvalue(res, row, 12);
}

enum app_err
db_ping(struct db *db, struct arena *a)
{
	enum app_err err;

	return run(db, a, ST_PING, 0, NULL, &err) == NULL ? err : APP_OK;
}

/*
 * The session's writes, on the primary: an expiry is recorded (and the
 * request refused); a due last-seen write happens, keeping the answer's
 * times current.
 */
static enum app_err
auth_writes(
    struct db *db, struct req *r, const char *ip, int ended, struct session *s)
{
	const char *p[9];
	char place[GEOIP_PLACE_MAX + 1];
	PGresult *res;
	enum app_err err;

	p[0] = num(r->arena, s->user_id);
	p[1] = s->id;
	if (ended) {
		p[2] = num(r->arena, db->cfg->idle_timeout);
		p[3] = ip;
		p[4] = r->ua;
		if (p[0] == NULL || p[2] == NULL)
			return APP_EINTERNAL;
		if (run(db, r->arena, ST_EXPIRE, 5, p, &err) == NULL)
			return err;
		metrics_revoked("expired", 1);
		return APP_EAUTH;
	}
	p[2] = ip;
	p[3] = r->ua;
	p[4] = r->ch_ua;
	p[5] = r->ch_platform;
	p[6] = r->ch_mobile;
	p[7] = num(r->arena, db->cfg->idle_timeout);
	/* A new address gets its place; the same one keeps the stored one. */
	p[8] = NULL;
	if (ip != NULL && strcmp(ip, s->ip) != 0 && geoip_lookup(ip, place))
		p[8] = place;
	if (p[0] == NULL || p[7] == NULL)
		return APP_EINTERNAL;
	if ((res = run(db, r->arena, ST_TOUCH, 9, p, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1)
		return APP_EAUTH; /* revoked since we looked */
	s->last_seen_at = getll(res, 0, 0);
	s->expires_at = getll(res, 0, 1);
	/* The answer shows what was just written. */
	if (ip != NULL && strcmp(ip, s->ip) != 0) {
		if ((s->location = arena_strndup(
			 r->arena, place, strlen(place))) == NULL)
			return APP_EINTERNAL;
		s->ip = ip;
	}
	return APP_OK;
}

enum app_err
db_auth(
    struct db *db, struct req *r, const struct cookie *ck, struct session *out)
{
	const char *p[4], *ip = client_ip(r);
	PGresult *res;
	enum app_err err;
	int ended, due;

	p[0] = num(r->arena, ck->uid);
	p[1] = hex(r->arena, ck->token_hash, SHA256_LEN);
	p[2] = num(r->arena, db->cfg->idle_timeout);
	p[3] = num(r->arena, db->cfg->touch_interval);
	if (p[0] == NULL || p[1] == NULL || p[2] == NULL || p[3] == NULL)
		return APP_EINTERNAL;
	if (db->pre.queued) {
		db->pre.queued = 0;
		res = run_pipeline(db, r->arena, ST_CHECK, 4, p, &err);
	} else
		res = run(db, r->arena, ST_CHECK, 4, p, &err);
	if (res == NULL)
		return err;
	if (PQntuples(res) != 1)
		return APP_EAUTH;
	row_session(res, 0, out);
	out->username = PQgetvalue(res, 0, SESSION_NCOLS);
	ended = PQgetvalue(res, 0, SESSION_NCOLS + 1)[0] == 't';
	due = PQgetvalue(res, 0, SESSION_NCOLS + 2)[0] == 't';
	if (ended || due)
		return auth_writes(db, r, ip, ended, out);
	return APP_OK;
}

enum app_err
db_auth_begin(struct db *db, struct req *r, const char *username,
    const char *session_id, const struct device *dev, struct auth_state *out)
{
	const struct config *cfg = db->cfg;
	char lim[80], devid[UUID_LEN + 1];
	const char *p[7];
	PGresult *res;
	enum app_err err;

	snprintf(lim, sizeof(lim), "{%d,%d,%d,%d,%d}",
	    cfg->login_max_per_user_ip, cfg->login_max_per_ip,
	    cfg->login_max_per_user, cfg->login_max_per_device,
	    cfg->reauth_max_per_session);
	p[0] = username;
	p[1] = client_ip(r);
	p[2] = session_id;
	p[3] = dev != NULL ? num(r->arena, dev->uid) : NULL;
	p[4] = NULL;
	if (dev != NULL) {
		uuid_from_bytes(devid, dev->id);
		p[4] = devid;
	}
	p[5] = num(r->arena, cfg->login_window);
	p[6] = lim;
	if (p[5] == NULL || (dev != NULL && p[3] == NULL))
		return APP_EINTERNAL;
	if ((res = run(db, r->arena, ST_AUTH_BEGIN, 7, p, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1)
		return APP_EINTERNAL;
	memset(out, 0, sizeof(*out));
	out->attempt = getll(res, 0, 0);
	out->user_id = getll(res, 0, 1);
	if (!PQgetisnull(res, 0, 2))
		out->password_hash = PQgetvalue(res, 0, 2);
	out->disabled = PQgetvalue(res, 0, 3)[0] == 't';
	out->device_known = PQgetvalue(res, 0, 4)[0] == 't';
	out->retry_after = getll(res, 0, 5);
	return APP_OK;
}

enum app_err
db_auth_failed(struct db *db, struct req *r, const struct auth_state *st,
    const char *username, const char *session_id, const char *reason)
{
	const char *p[7];
	enum app_err err;

	p[0] = num(r->arena, st->attempt);
	p[1] = reason;
	p[2] = num(r->arena, st->user_id);
	p[3] = username;
	p[4] = session_id;
	p[5] = client_ip(r);
	p[6] = r->ua;
	if (p[0] == NULL || p[2] == NULL)
		return APP_EINTERNAL;
	return run(db, r->arena, ST_AUTH_FAILED, 7, p, &err) == NULL ? err
								     : APP_OK;
}

enum app_err
db_auth_release(struct db *db, struct req *r, const struct auth_state *st)
{
	const char *p[1];
	enum app_err err;

	if ((p[0] = num(r->arena, st->attempt)) == NULL)
		return APP_EINTERNAL;
	return run(db, r->arena, ST_AUTH_RELEASE, 1, p, &err) == NULL ? err
								      : APP_OK;
}

enum app_err
db_login(struct db *db, struct req *r, const struct auth_state *st,
    const unsigned char token_hash[SHA256_LEN], const char *device_id,
    int new_device, struct session *out)
{
	const char *p[15];
	char place[GEOIP_PLACE_MAX + 1];
	PGresult *res;
	enum app_err err;

	p[0] = num(r->arena, st->attempt);
	p[1] = st->password_hash;
	p[2] = num(r->arena, db->cfg->idle_timeout); /* $3 in SESSION_COLS */
	p[3] = num(r->arena, st->user_id);
	p[4] = hex(r->arena, token_hash, SHA256_LEN);
	p[5] = num(r->arena, db->cfg->absolute_lifetime);
	p[6] = num(r->arena, db->cfg->max_sessions);
	p[7] = client_ip(r);
	p[8] = r->ua;
	p[9] = r->ch_ua;
	p[10] = r->ch_platform;
	p[11] = r->ch_mobile;
	p[12] = device_id;
	p[13] = geoip_lookup(p[7], place) ? place : NULL;
	p[14] = new_device ? "true" : "false";
	if (p[0] == NULL || p[2] == NULL || p[3] == NULL || p[4] == NULL ||
	    p[5] == NULL || p[6] == NULL)
		return APP_EINTERNAL;
	if ((res = run(db, r->arena, ST_LOGIN, 15, p, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1)
		return st->disabled ? APP_EDISABLED : APP_ECREDS;
	row_session(res, 0, out);
	out->authenticated_at = out->created_at;
	return APP_OK;
}

enum app_err
db_reauth(struct db *db, struct req *r, const struct auth_state *st,
    const struct session *s)
{
	const char *p[5];
	PGresult *res;
	enum app_err err;

	p[0] = num(r->arena, st->attempt);
	p[1] = num(r->arena, s->user_id);
	p[2] = s->id;
	p[3] = client_ip(r);
	p[4] = r->ua;
	if (p[0] == NULL || p[1] == NULL)
		return APP_EINTERNAL;
	if ((res = run(db, r->arena, ST_REAUTH, 5, p, &err)) == NULL)
		return err;
	/* Revoked between validation and now: no longer signed in. */
	return PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't'
	    ? APP_OK
	    : APP_EAUTH;
}

enum app_err
db_password(struct db *db, struct req *r, const struct auth_state *st,
    const struct session *s, const char *new_hash, int others)
{
	const char *p[7];
	PGresult *res;
	enum app_err err;

	p[0] = num(r->arena, st->attempt);
	p[1] = num(r->arena, s->user_id);
	p[2] = s->id;
	p[3] = new_hash;
	p[4] = others ? "true" : "false";
	p[5] = client_ip(r);
	p[6] = r->ua;
	if (p[0] == NULL || p[1] == NULL)
		return APP_EINTERNAL;
	if ((res = run(db, r->arena, ST_PASSWORD, 7, p, &err)) == NULL)
		return err;
	/* NULL: the acting session ended meanwhile; nothing changed. */
	return PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ? APP_OK
							      : APP_EAUTH;
}

enum app_err
db_revoke(struct db *db, struct req *r, const struct session *s,
    const char *target, const char *reason, int *count)
{
	const char *p[7];
	PGresult *res;
	enum app_err err;

	p[0] = num(r->arena, s->user_id);
	p[1] = s->id;
	p[2] = target;
	p[3] = reason;
	p[4] = num(r->arena, db->cfg->idle_timeout);
	p[5] = client_ip(r);
	p[6] = r->ua;
	if (p[0] == NULL || p[4] == NULL)
		return APP_EINTERNAL;
	if ((res = run(db, r->arena, ST_REVOKE, 7, p, &err)) == NULL)
		return err;
	*count = PQntuples(res);
	metrics_revoked(reason, *count);
	return APP_OK;
}

/*
 * Room for one page of a result fetched with limit + 1 rows: *n rows to
 * show, *more when the extra row says another page follows.
 */
static void *
page(struct arena *a, const PGresult *res, int limit, size_t size, int *n,
    int *more)
{
	int rows = PQntuples(res);

	*more = rows > limit;
	*n = *more ? limit : rows;
	return arena_alloc(a, size * (size_t)(*n + 1));
}

static int
list_params(struct db *db, struct req *r, long long user_id,
    long long before_us, const char *before_id, int limit, const char *p[5])
{
	p[0] = num(r->arena, user_id);
	p[1] =
	    num(r->arena, (long long)limit + 1); /* one more: is there more? */
	p[2] = num(r->arena, db->cfg->idle_timeout);
	p[3] = num(r->arena, before_us);
	p[4] = before_id;
	return p[0] && p[1] && p[2] && p[3] ? 0 : -1;
}

enum app_err
db_queue_list(struct db *db, struct req *r, long long user_id,
    long long before_us, const char *before_id, int limit)
{
	const char *p[5];

	if (list_params(db, r, user_id, before_us, before_id, limit, p) != 0)
		return APP_EINTERNAL;
	queue(db, ST_LIST, 5, p);
	return APP_OK;
}

enum app_err
db_list(struct db *db, struct req *r, long long user_id, long long before_us,
    const char *before_id, int limit, struct session_page *out)
{
	const char *p[5];
	PGresult *res;
	enum app_err err;
	int i;

	if (list_params(db, r, user_id, before_us, before_id, limit, p) != 0)
		return APP_EINTERNAL;
	if ((res = run(db, r->arena, ST_LIST, 5, p, &err)) == NULL)
		return err;
	if ((out->items = page(r->arena, res, limit, sizeof(*out->items),
		 &out->n, &out->more)) == NULL)
		return APP_EINTERNAL;
	for (i = 0; i < out->n; i++)
		row_session(res, i, &out->items[i]);
	return APP_OK;
}

static int
status_params(struct db *db, struct req *r, long long user_id, const char *id,
    const char *p[3])
{
	p[0] = num(r->arena, user_id);
	p[1] = id;
	p[2] = num(r->arena, db->cfg->idle_timeout);
	return p[0] && p[2] ? 0 : -1;
}

enum app_err
db_queue_status(struct db *db, struct req *r, long long user_id, const char *id)
{
	const char *p[3];

	if (status_params(db, r, user_id, id, p) != 0)
		return APP_EINTERNAL;
	queue(db, ST_STATUS, 3, p);
	return APP_OK;
}

enum app_err
db_status(struct db *db, struct req *r, long long user_id, const char *id,
    struct session_status *out)
{
	const char *p[3];
	PGresult *res;
	enum app_err err;

	if (status_params(db, r, user_id, id, p) != 0)
		return APP_EINTERNAL;
	if ((res = run(db, r->arena, ST_STATUS, 3, p, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1)
		return APP_ENOSESS;
	out->status = PQgetvalue(res, 0, 0);
	out->revoked_at =
	    strcmp(out->status, "revoked") == 0 ? getll(res, 0, 1) : 0;
	return APP_OK;
}

static int
audit_params(struct req *r, long long user_id, long long before_id, int limit,
    const char *p[3])
{
	p[0] = num(r->arena, user_id);
	p[1] = num(r->arena, before_id);
	p[2] = num(r->arena, (long long)limit + 1);
	return p[0] && p[1] && p[2] ? 0 : -1;
}

enum app_err
db_queue_audit(struct db *db, struct req *r, long long user_id,
    long long before_id, int limit)
{
	const char *p[3];

	if (audit_params(r, user_id, before_id, limit, p) != 0)
		return APP_EINTERNAL;
	queue(db, ST_AUDIT, 3, p);
	return APP_OK;
}

enum app_err
db_audit(struct db *db, struct req *r, long long user_id, long long before_id,
    int limit, struct audit_page *out)
{
	const char *p[3];
	PGresult *res;
	struct audit_event *e;
	enum app_err err;
	int i;

	if (audit_params(r, user_id, before_id, limit, p) != 0)
		return APP_EINTERNAL;
	if ((res = run(db, r->arena, ST_AUDIT, 3, p, &err)) == NULL)
		return err;
	if ((out->items = page(r->arena, res, limit, sizeof(*out->items),
		 &out->n, &out->more)) == NULL)
		return APP_EINTERNAL;
	for (i = 0; i < out->n; i++) {
		e = &out->items[i];
		e->id = getll(res, i, 0);
		e->at = getll(res, i, 1);
		e->event = PQgetvalue(res, i, 2);
		e->reason = PQgetvalue(res, i, 3);
		e->session_id = PQgetvalue(res, i, 4);
		e->target_session_id = PQgetvalue(res, i, 5);
		e->ip = PQgetvalue(res, i, 6);
		e->ua = PQgetvalue(res, i, 7);
		e->ch_ua = PQgetvalue(res, i, 8);
		e->ch_platform = PQgetvalue(res, i, 9);
		e->ch_mobile = PQgetvalue(res, i, 10);
		e->location = PQgetvalue(res, i, 11);
	}
	return APP_OK;
}

struct db_probe {
	PGconn *conn;
	PostgresPollingStatusType st;
};

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

int
db_server_up(const struct config *cfg)
{
	static const char *const keys[] = { "connect_timeout", "dbname", NULL };
	const char *vals[] = { "2", cfg->database, NULL };

	return PQpingParams(keys, vals, 1) == PQPING_OK;
}
