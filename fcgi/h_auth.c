/*
 * h_auth.c: login, logout and re-authentication.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "bounds.h"
#include "cookie.h"
#include "csrf.h"
#include "db.h"
#include "handlers.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "password.h"
#include "req.h"
#include "view.h"

/*
 * The session object plus the CSRF token, as login and current answer
 * (the object left open for more members).
 */
static void
session_reply(
    struct jw *w, const struct session *s, const unsigned char token[TOKEN_LEN])
{
	char csrf[CSRF_LEN + 1];

	csrf_token(csrf, token);
	jw_open(w, NULL, '{');
	view_session(w, "session", s, 1);
	jw_str(w, "csrf_token", csrf);
}

/* The request's device cookie, when it is one of ours. */
static const struct device *
device_of(struct app *app, struct req *r)
{
	struct device *d;

	if ((d = arena_alloc(r->arena, sizeof(*d))) == NULL ||
	    cookie_device_get(r, &app->keys, d) != APP_OK)
		return NULL;
	return d;
}

/*
 * A password hash started at t0 is done: counted, and the worker's recent
 * hash time follows it (a quarter of the way to each new one), so that
 * the answer budget (check_password) holds when the machine is busier
 * than usual.
 */
static void
hashed(struct app *app, const struct timespec *t0)
{
	struct timespec t1;
	long long ms;

	metrics_password_hash(t0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (long long)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
	app->hash_ms = app->hash_ms == 0 ? ms : (3 * app->hash_ms + ms) / 4;
}

/*
 * Check password for username: throttle and count in one step (login:
 * session_id NULL, with the browser's device cookie; re-auth and the
 * password form: their session), then the same work whether or not the
 * user exists, failures audited. Fills *st on success.
 */
static enum app_err
check_password(struct app *app, struct req *r, const char *username,
    const char *password, const char *session_id, const char *reason,
    struct auth_state *st)
{
	const struct device *dev = NULL;
	struct timespec t0;
	enum app_err err;
	int ok;

	/* Nobody would read the answer: the hash goes to the next one. */
	if (req_peer_gone(r)) {
		log_info(
		    "msg=\"%s skipped: client gone\" ip=%s", reason, r->ip);
		return APP_EBUSY;
	}
	if (session_id == NULL)
		dev = device_of(app, r);
	if ((err = db_auth_begin(app->db, r, username, session_id, dev, st)) !=
	    APP_OK)
		return err;
	if (st->retry_after > 0) {
		if (resp_header(r, "Retry-After: %lld", st->retry_after) !=
		    APP_OK)
			return APP_EINTERNAL;
		log_info("msg=\"%s throttled\" ip=%s", reason, r->ip);
		return APP_ETHROTTLE;
	}
	/*
	 * Behind a storm of logins: this one would be answered too late
	 * (a throttled one needs no hash: its 429 came above). Refused now,
	 * its reserved failure taken back, its hash goes to one that can
	 * still make it. The owner's re-auth or password change is not
	 * refused for a flood of others' logins (bounds.h).
	 */
	if (r->queued_ms >= 0 &&
	    r->queued_ms + app->hash_ms >
		(session_id == NULL ? LOGIN_ANSWER_MS : OWNER_WAIT_MAX_MS)) {
		(void)db_auth_release(app->db, r, st);
		if (resp_header(r, "Retry-After: 1") != APP_OK)
			return APP_EINTERNAL;
		log_warn("msg=\"%s skipped: would be answered late\" "
			 "waited_ms=%lld hash_ms=%lld ip=%s",
		    reason, r->queued_ms, app->hash_ms, r->ip);
		return APP_EBUSY;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok = crypto_pw_verify(password, strlen(password), st->password_hash);
	hashed(app, &t0);
	if (ok < 0)
		return APP_EINTERNAL;
	if (!ok) {
		log_info("msg=\"%s failed\" user_id=%lld ip=%s", reason,
		    st->user_id, r->ip);
		err = db_auth_failed(
		    app->db, r, st, username, session_id, reason);
		return err != APP_OK ? err : APP_ECREDS;
	}
	if (st->disabled) {
		(void)db_auth_release(app->db, r, st);
		return APP_EDISABLED;
	}
	return APP_OK;
}

/*
 * The device cookie for a login of uid: the browser's own when it holds
 * one of this user (it keeps its history), else a new random id, and
 * *is_new says so (a new device is mailed about).
 */
static enum app_err
login_device(struct app *app, struct req *r, long long uid,
    const struct auth_state *st, struct device *d, char id[UUID_LEN + 1],
    int *is_new)
{
	const struct device *old = st->device_known ? device_of(app, r) : NULL;

	d->uid = uid;
	*is_new = old == NULL || old->uid != uid;
	if (!*is_new)
		memcpy(d->id, old->id, DEVICE_ID_LEN);
	else if (crypto_random(d->id, DEVICE_ID_LEN) != 0)
		return APP_EINTERNAL;
	uuid_from_bytes(id, d->id);
	return APP_OK;
}

enum app_err
h_login(struct app *app, struct req *r)
{
	static const char *const keys[] = { "username", "password", NULL };
	unsigned char token[TOKEN_LEN], hash[SHA256_LEN];
	char devid[UUID_LEN + 1];
	json_object *body;
	struct auth_state st;
	struct device dev;
	struct session s;
	struct jw w;
	const char *username, *password;
	enum app_err err;
	int new_device;

	if ((err = json_body(r, keys, &body)) != APP_OK)
		return err;
	if ((username = json_str(body, "username", USERNAME_MAX)) == NULL ||
	    (password = json_str(body, "password", PASSWORD_MAX)) == NULL)
		return APP_EJSON;
	if ((err = check_password(
		 app, r, username, password, NULL, "login", &st)) != APP_OK)
		return err;
	if ((err = login_device(
		 app, r, st.user_id, &st, &dev, devid, &new_device)) != APP_OK)
		return err;
	if (crypto_random(token, sizeof(token)) != 0)
		return APP_EINTERNAL;
	crypto_sha256(hash, token, sizeof(token));
	if ((err = db_login(app->db, r, &st, hash, devid, new_device, &s)) !=
	    APP_OK) {
		crypto_wipe(token, sizeof(token));
		return err;
	}
	if ((err = cookie_session_set(r, &app->keys, st.user_id, token,
		 app->cfg.absolute_lifetime)) != APP_OK ||
	    (err = cookie_device_set(r, &app->keys, &dev,
		 app->cfg.device_cookie_lifetime)) != APP_OK) {
		crypto_wipe(token, sizeof(token));
		return err;
	}
	log_info("msg=\"login\" user_id=%lld session_id=%s ip=%s", st.user_id,
	    s.id, r->ip);
	jw_init(&w, r->arena);
	session_reply(&w, &s, token);
	jw_close(&w, '}');
	crypto_wipe(token, sizeof(token));
	return jw_reply(r, 200, &w);
}

enum app_err
h_logout(struct app *app, struct req *r)
{
	enum app_err err;
	int n;

	/* n == 0: it ended meanwhile (another tab); logged out all the same. */
	if ((err = db_revoked(app->db, r, &n)) != APP_OK)
		return err;
	/* The device cookie stays: this browser is still a known one. */
	if ((err = cookie_session_clear(r)) != APP_OK)
		return err;
	r->resp.status = 204;
	return APP_OK;
}

enum app_err
h_reauth(struct app *app, struct req *r)
{
	static const char *const keys[] = { "password", NULL };
	json_object *body;
	struct auth_state st;
	const char *password;
	enum app_err err;

	if ((err = json_body(r, keys, &body)) != APP_OK)
		return err;
	if ((password = json_str(body, "password", PASSWORD_MAX)) == NULL)
		return APP_EJSON;
	if ((err = check_password(app, r, r->sess->username, password,
		 r->sess->id, "reauth", &st)) != APP_OK)
		return err;
	if ((err = db_reauth(app->db, r, &st, r->sess)) != APP_OK)
		return err;
	r->resp.status = 204;
	return APP_OK;
}

enum app_err
h_password(struct app *app, struct req *r)
{
	static const char *const keys[] = { "current_password", "new_password",
		"sign_out_others", NULL };
	char hash[PWHASH_MAX];
	json_object *body;
	struct auth_state st;
	const char *current, *next;
	struct timespec t0;
	enum app_err err;
	int others = 1;

	if ((err = json_body(r, keys, &body)) != APP_OK)
		return err;
	if ((current = json_str(body, "current_password", PASSWORD_MAX)) ==
		NULL ||
	    (next = json_str(body, "new_password", PASSWORD_MAX)) == NULL ||
	    json_opt_bool(body, "sign_out_others", &others) != APP_OK)
		return APP_EJSON;
	/* The current password first: the rules are no oracle for others. */
	if ((err = check_password(app, r, r->sess->username, current,
		 r->sess->id, "password", &st)) != APP_OK)
		return err;
	if ((err = password_rules(next, r->sess->username, current)) !=
	    APP_OK) {
		/* Not a failed guess: the reserved failure is taken back. */
		(void)db_auth_release(app->db, r, &st);
		return err;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (crypto_pw_hash(next, strlen(next), hash) != 0)
		return APP_EINTERNAL;
	hashed(app, &t0);
	err = db_password(app->db, r, &st, r->sess, hash, others);
	crypto_wipe(hash, sizeof(hash));
	if (err != APP_OK)
		return err;
	log_info("msg=\"password changed\" user_id=%lld session_id=%s ip=%s",
	    r->sess->user_id, r->sess->id, r->ip);
	r->resp.status = 204;
	return APP_OK;
}

enum app_err
h_current(struct app *app, struct req *r)
{
	struct jw w;
	char id[24];

	(void)app;
	jw_init(&w, r->arena);
	session_reply(&w, r->sess, r->ck->token);
	snprintf(id, sizeof(id), "%lld", r->sess->user_id);
	jw_open(&w, "user", '{');
	jw_str(&w, "id", id);
	jw_str(&w, "username", r->sess->username);
	jw_close(&w, '}');
	jw_close(&w, '}');
	return jw_reply(r, 200, &w);
}
