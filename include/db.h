/*
 * db.h: the worker's database access; db.c is the only libpq user on the
 * request path. One connection per worker, every statement prepared once
 * per connection, constant SQL with parameters. Results live in the
 * request arena (PQclear is registered as a cleanup).
 *
 * When the database is down every call returns APP_EDBDOWN at once; the
 * next call after a short pause tries to reconnect.
 */
#ifndef DB_H
#define DB_H

#include "app.h"
#include "crypto.h"

struct arena;
struct config;
struct cookie;
struct req;

struct db;

/* A session as the API shows it; strings point into a result. */
struct session {
	const char *id;
	long long user_id;
	const char *username; /* db_auth only */
	long long created_at, last_seen_at, expires_at, authenticated_at;
	long long created_us; /* cursor key, microseconds */
	const char *ip, *ua, *ch_ua, *ch_platform, *ch_mobile;
	const char *location; /* "City, Country", or "" when unknown */
};

/* Connections per the configuration (kept by reference); none opened yet. */
struct db *db_new(const struct config *);
void db_free(struct db *);

/*
 * Reads a handler needs are queued by its prepare step, before the
 * session check (db_auth), so that both travel in one pipeline: one round
 * trip per request. The handler then takes the result with the matching
 * db_list/db_status/db_audit, which name no arguments: the queued
 * request keeps them (and runs it then if no session check did). db_request_done forgets
 * whatever a request left queued; the worker calls it after each request.
 */
enum app_err db_queue_list(struct db *, struct req *, long long user_id,
    long long before_us, const char *before_id, int limit);
enum app_err db_queue_status(
    struct db *, struct req *, long long user_id, const char *id);
enum app_err db_queue_audit(struct db *, struct req *, long long user_id,
    long long before_id, int limit);
void db_request_done(struct db *);

/* Connect if needed; APP_OK or APP_EDBDOWN. */
enum app_err db_ready(struct db *);

/* SELECT 1. */
enum app_err db_ping(struct db *, struct arena *);

/* Validate (and occasionally touch) the session of ck; APP_EAUTH if none. */
enum app_err db_auth(
    struct db *, struct req *, const struct cookie *, struct session *out);

struct device;

/*
 * A password check in progress (sql/003-account.sql, auth_begin): the
 * user and a reserved failure, or how long the caller must wait.
 */
struct auth_state {
	long long attempt;	   /* reserved failure; 0 when throttled */
	long long user_id;	   /* 0: no such user */
	const char *password_hash; /* NULL: no such user */
	int disabled;
	int device_known;      /* dev was a valid device cookie of the user */
	long long retry_after; /* > 0: throttled for that long */
};

/*
 * Before checking a password for username: throttle and reserve one
 * failure in one step. A login passes session_id NULL and the request's
 * verified device cookie (or NULL); re-auth and the password form pass
 * their session id and no device.
 */
enum app_err db_auth_begin(struct db *, struct req *, const char *username,
    const char *session_id, const struct device *dev, struct auth_state *out);

/* The password was wrong: audit it ("login", "reauth" or "password"). */
enum app_err db_auth_failed(struct db *, struct req *,
    const struct auth_state *, const char *username, const char *session_id,
    const char *reason);

/* Take the reserved failure back: the check did not fail on a password. */
enum app_err db_auth_release(
    struct db *, struct req *, const struct auth_state *);

/*
 * The password was right: create a session for the browser with device
 * id device_id (UUID text), new_device when the browser held no device
 * cookie of this user (session.created says so, for the alert mail).
 * APP_EDISABLED when the user is disabled meanwhile, APP_ECREDS when the
 * password changed meanwhile.
 */
enum app_err db_login(struct db *, struct req *, const struct auth_state *,
    const unsigned char token_hash[SHA256_LEN], const char *device_id,
    int new_device, struct session *out);

/* The session counts as freshly authenticated (audited). */
enum app_err db_reauth(struct db *, struct req *, const struct auth_state *,
    const struct session *);

/*
 * Set the user's password hash from session s, which stays and counts
 * as freshly authenticated; with others, every other session ends
 * (reason password_changed). APP_EAUTH when s ended meanwhile.
 */
enum app_err db_password(struct db *, struct req *, const struct auth_state *,
    const struct session *, const char *new_hash, int others);

/*
 * Queue, for the next db_auth's pipeline, the revocation of target (a
 * session id of the user of r->ck, or NULL: every other session; with
 * reason "logout", the acting session itself, target not read) by the
 * session of r->ck: the database finds that session by its token, applies
 * the re-auth rule (cfg reauth_window; ending one's own session never
 * needs it) and revokes, auditing and notifying, in the same round trip as
 * the session check. Queue it only once the request's CSRF and Origin
 * checks pass: it runs before the worker's checks do.
 */
enum app_err db_queue_revoke(
    struct db *, struct req *, const char *target, const char *reason);

/*
 * The queued revocation's outcome: APP_OK with *count revoked (0: nothing
 * live matched), APP_EREAUTH when the acting session must re-authenticate
 * first, APP_EAUTH when it ended meanwhile.
 */
enum app_err db_revoked(struct db *, struct req *, int *count);

/* One page of active sessions: rows n, and *more when another follows. */
struct session_page {
	struct session *items;
	int n;
	int more;
};

/* The queued page of the user's active sessions (db_queue_list). */
enum app_err db_list(struct db *, struct req *, struct session_page *out);

struct session_status {
	const char *status;   /* "active", "revoked", "expired" */
	long long revoked_at; /* 0: null */
};

/* The queued session's status (db_queue_status); APP_ENOSESS if not
 * the user's. */
enum app_err db_status(struct db *, struct req *, struct session_status *out);

struct audit_event {
	long long id, at;
	const char *event, *reason, *session_id, *target_session_id;
	const char *ip, *ua;
	const char *ch_ua, *ch_platform, *ch_mobile; /* target's, or "" */
	const char *location;			     /* of ip, or "" */
};

struct audit_page {
	struct audit_event *items;
	int n;
	int more;
};

/* The queued page of the user's events (db_queue_audit), newest first. */
enum app_err db_audit(struct db *, struct req *, struct audit_page *out);

/*
 * The master's view of the database, for systemd's STATUS= line: one
 * connection attempt driven from the master's poll loop, never blocking
 * it (libpq's PQconnectStart/PQconnectPoll), then closed.
 */
struct db_probe;
struct pollfd;

/* Start an attempt with the configuration's primary; NULL: out of memory. */
struct db_probe *db_probe_start(const struct config *);

/* What to wait for before the next db_probe_step: fills fd and events. */
void db_probe_wait(const struct db_probe *, struct pollfd *);

/*
 * Advance the attempt (call when db_probe_wait's fd is ready): 1 while it
 * goes on, 0 when connected, -1 when it failed, with libpq's reason on
 * one line in msg.
 */
int db_probe_step(struct db_probe *, char *msg, size_t len);

void db_probe_free(struct db_probe *);

/* In a forked child: close the attempt's socket, leave the parent's be. */
void db_probe_abandon(struct db_probe *);

#endif /* DB_H */
