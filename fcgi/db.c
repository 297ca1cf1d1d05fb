/*
 * db.c: every statement of the request path, by name, and what its rows
 * mean (db.h); the connections, the pipeline and the pending slot are
 * db_conn.c's.
 *
 * The session check is a plain read (ST_CHECK), sent in one pipeline with
 * the handler's read: one round trip per request. Its writes (last seen at
 * most once per touch_interval, recording an expiry) go to the primary.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "arena.h"
#include "config.h"
#include "cookie.h"
#include "db.h"
#include "db_conn.h"
#include "geoip.h"
#include "log.h"
#include "metrics.h"
#include "req.h"

/* The columns of a session, in the order row_session() reads them. */
#define SESSION_COLS                                                       \
	"s.id, epoch(s.created_at), epoch(s.last_seen_at), "               \
	"epoch(session_expires(s, $3::int)), epoch(s.authenticated_at), "  \
	"coalesce(host(s.ip), ''), s.user_agent, s.ch_ua, s.ch_platform, " \
	"s.ch_mobile, epoch_us(s.created_at), s.user_id, "                 \
	"coalesce(s.location, '')"
#define SESSION_NCOLS 13

/*
 * Each statement by name (the prepared statement's, and the one logs
 * give). read: may run on a standby. retry: safe to run again on a new
 * connection after the old one broke (it changes nothing, or changing it
 * twice is the same as once).
 */
const struct stmt_def stmts[ST__MAX] = {
	[ST_PING] = { "ping", "SELECT 1", 0, 1 },
	[ST_CHECK] = { "check",
	    "SELECT " SESSION_COLS ", u.username, "
	    "session_expires(s, $3::int) <= now(), "
	    "s.last_seen_at <= now() - make_interval(secs => "
	    "$4::int) "
	    "FROM sessions s JOIN users u ON u.id = s.user_id "
	    "WHERE s.user_id = $1 AND s.token_hash = $2 "
	    "AND s.revoked_at IS NULL",
	    1, 1 },
	[ST_TOUCH] = { "touch",
	    "UPDATE sessions s SET last_seen_at = now(), ip = $3, "
	    "user_agent = $4, ch_ua = $5, ch_platform = $6, "
	    "ch_mobile = $7, location = CASE WHEN s.ip IS "
	    "DISTINCT FROM $3::inet THEN $9 ELSE s.location END "
	    "WHERE user_id = $1 AND id = $2 AND revoked_at IS NULL "
	    "RETURNING epoch(s.last_seen_at), "
	    "epoch(session_expires(s, $8::int))",
	    0, 1 },
	[ST_EXPIRE] = { "expire", "SELECT session_expire($1, $2, $3, $4, $5)",
	    0, 1 },
	[ST_AUTH_BEGIN] = { "auth_begin",
	    "SELECT attempt, user_id, password_hash, "
	    "disabled, device_known, retry FROM auth_begin($1, "
	    "$2, $3, $4, $5, $6, $7)",
	    /*
	     * Retried: a connection found broken (a database restart) must
	     * not fail the login. At worst a reservation that did commit is
	     * made twice: one failure too many, never one too few.
	     */
	    0, 1 },
	[ST_AUTH_FAILED] = { "auth_failed",
	    "SELECT auth_failed($1, $2, $3, $4, $5, $6, $7)", 0, 0 },
	[ST_AUTH_RELEASE] = { "auth_release",
	    "DELETE FROM auth_failures WHERE id = $1", 0, 1 },
	[ST_LOGIN] = { "login",
	    "SELECT " SESSION_COLS " FROM auth_login($1, $2, $4, "
	    "$5, $6, $3, $7, located($8, $14), $9, $10, $11, $12, "
	    "device_noted($13, $15)) s",
	    0, 0 },
	[ST_REAUTH] = { "reauth", "SELECT auth_reauth($1, $2, $3, $4, $5)", 0,
	    0 },
	[ST_PASSWORD] = { "password",
	    "SELECT password_change($1, $2, $3, $4, $5, $6, $7)", 0, 0 },
	/*
	 * Sent with the session check (db_queue_revoke): the acting session
	 * is found by its token, as ST_CHECK finds it (sql/008-revoke.sql).
	 */
	[ST_REVOKE_TOKEN] = { "revoke_by_token",
	    "SELECT outcome, revoked FROM session_revoke_by_token($1, $2, "
	    "$3, $4, $5, $6, $7, $8)",
	    0, 0 },
	[ST_LIST] = { "list",
	    "SELECT " SESSION_COLS " FROM sessions s "
	    "WHERE s.user_id = $1 AND s.revoked_at IS NULL "
	    "AND session_expires(s, $3::int) > now() "
	    "AND (s.created_at, s.id) < (from_epoch_us($4), "
	    "$5::uuid) "
	    "ORDER BY s.created_at DESC, s.id DESC LIMIT $2",
	    1, 1 },
	[ST_STATUS] = { "status",
	    "SELECT CASE WHEN revoke_reason = 'expired' OR "
	    "(revoked_at IS NULL AND session_expires(s, $3::int) "
	    "<= now()) "
	    "THEN 'expired' WHEN revoked_at IS NOT NULL THEN "
	    "'revoked' "
	    "ELSE 'active' END, coalesce(epoch(revoked_at), 0) "
	    "FROM sessions s WHERE user_id = $1 AND id = $2",
	    1, 1 },
	/* The target session's client hints describe the device, if kept. */
	[ST_AUDIT] = { "audit",
	    "SELECT a.id, epoch(a.at), a.event, "
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

	return db_run(db, a, ST_PING, 0, NULL, &err) == NULL ? err : APP_OK;
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
		if (db_run(db, r->arena, ST_EXPIRE, 5, p, &err) == NULL)
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
	if ((res = db_run(db, r->arena, ST_TOUCH, 9, p, &err)) == NULL)
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
	if ((res = db_run_check(db, r->arena, 4, p, &err)) == NULL)
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
	if ((res = db_run(db, r->arena, ST_AUTH_BEGIN, 7, p, &err)) == NULL)
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
	return db_run(db, r->arena, ST_AUTH_FAILED, 7, p, &err) == NULL
	    ? err
	    : APP_OK;
}

enum app_err
db_auth_release(struct db *db, struct req *r, const struct auth_state *st)
{
	const char *p[1];
	enum app_err err;

	if ((p[0] = num(r->arena, st->attempt)) == NULL)
		return APP_EINTERNAL;
	return db_run(db, r->arena, ST_AUTH_RELEASE, 1, p, &err) == NULL
	    ? err
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
	if ((res = db_run(db, r->arena, ST_LOGIN, 15, p, &err)) == NULL)
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
	if ((res = db_run(db, r->arena, ST_REAUTH, 5, p, &err)) == NULL)
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
	if ((res = db_run(db, r->arena, ST_PASSWORD, 7, p, &err)) == NULL)
		return err;
	/* NULL: the acting session ended meanwhile; nothing changed. */
	return PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ? APP_OK
							      : APP_EAUTH;
}

enum app_err
db_queue_revoke(
    struct db *db, struct req *r, const char *target, const char *reason)
{
	const char *p[8];

	p[0] = num(r->arena, r->ck->uid);
	p[1] = hex(r->arena, r->ck->token_hash, SHA256_LEN);
	p[2] = target;
	p[3] = reason;
	p[4] = num(r->arena, db->cfg->idle_timeout);
	p[5] = num(r->arena, db->cfg->reauth_window);
	p[6] = client_ip(r);
	p[7] = r->ua;
	if (p[0] == NULL || p[1] == NULL || p[4] == NULL || p[5] == NULL)
		return APP_EINTERNAL;
	db_queue(db, ST_REVOKE_TOKEN, 8, p, 0);
	return APP_OK;
}

enum app_err
db_revoked(struct db *db, struct req *r, int *count)
{
	/* The reason it was queued with, for the metrics. */
	const char *reason =
	    db->pre.st == ST_REVOKE_TOKEN ? db->pre.params[3] : NULL;
	PGresult *res;
	enum app_err err;
	const char *outcome;
	int limit;

	if ((res = db_take(db, r->arena, ST_REVOKE_TOKEN, &limit, &err)) ==
	    NULL)
		return err;
	*count = PQntuples(res);
	if (*count == 1) {
		outcome = PQgetvalue(res, 0, 0);
		if (strcmp(outcome, "not_authenticated") == 0)
			return APP_EAUTH; /* ended since the session check */
		if (strcmp(outcome, "reauth_required") == 0)
			return APP_EREAUTH;
	}
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

enum app_err
db_queue_list(struct db *db, struct req *r, long long user_id,
    long long before_us, const char *before_id, int limit)
{
	const char *p[5];

	p[0] = num(r->arena, user_id);
	p[1] = num(r->arena, (long long)limit + 1); /* one more: is there? */
	p[2] = num(r->arena, db->cfg->idle_timeout);
	p[3] = num(r->arena, before_us);
	p[4] = before_id;
	if (p[0] == NULL || p[1] == NULL || p[2] == NULL || p[3] == NULL)
		return APP_EINTERNAL;
	db_queue(db, ST_LIST, 5, p, limit);
	return APP_OK;
}

enum app_err
db_list(struct db *db, struct req *r, struct session_page *out)
{
	PGresult *res;
	enum app_err err;
	int i, limit;

	if ((res = db_take(db, r->arena, ST_LIST, &limit, &err)) == NULL)
		return err;
	if ((out->items = page(r->arena, res, limit, sizeof(*out->items),
		 &out->n, &out->more)) == NULL)
		return APP_EINTERNAL;
	for (i = 0; i < out->n; i++)
		row_session(res, i, &out->items[i]);
	return APP_OK;
}

enum app_err
db_queue_status(struct db *db, struct req *r, long long user_id, const char *id)
{
	const char *p[3];

	p[0] = num(r->arena, user_id);
	p[1] = id;
	p[2] = num(r->arena, db->cfg->idle_timeout);
	if (p[0] == NULL || p[2] == NULL)
		return APP_EINTERNAL;
	db_queue(db, ST_STATUS, 3, p, 0);
	return APP_OK;
}

enum app_err
db_status(struct db *db, struct req *r, struct session_status *out)
{
	PGresult *res;
	enum app_err err;
	int unused;

	if ((res = db_take(db, r->arena, ST_STATUS, &unused, &err)) == NULL)
		return err;
	if (PQntuples(res) != 1)
		return APP_ENOSESS;
	out->status = PQgetvalue(res, 0, 0);
	out->revoked_at =
	    strcmp(out->status, "revoked") == 0 ? getll(res, 0, 1) : 0;
	return APP_OK;
}

enum app_err
db_queue_audit(struct db *db, struct req *r, long long user_id,
    long long before_id, int limit)
{
	const char *p[3];

	p[0] = num(r->arena, user_id);
	p[1] = num(r->arena, before_id);
	p[2] = num(r->arena, (long long)limit + 1);
	if (p[0] == NULL || p[1] == NULL || p[2] == NULL)
		return APP_EINTERNAL;
	db_queue(db, ST_AUDIT, 3, p, limit);
	return APP_OK;
}

enum app_err
db_audit(struct db *db, struct req *r, struct audit_page *out)
{
	PGresult *res;
	struct audit_event *e;
	enum app_err err;
	int i, limit;

	if ((res = db_take(db, r->arena, ST_AUDIT, &limit, &err)) == NULL)
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
