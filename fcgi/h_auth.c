/*
 * h_auth.c: login, logout and re-authentication.
 */
#include <stdio.h>
#include <string.h>

#include "bounds.h"
#include "cookie.h"
#include "db.h"
#include "handlers.h"
#include "json.h"
#include "log.h"
#include "req.h"
#include "worker.h"

/* The session object plus the CSRF token, as login and current answer. */
static json_object *
session_reply(const struct session *s, const unsigned char token[TOKEN_LEN])
{
	json_object *o = json_new();
	char csrf[CSRF_LEN + 1];

	csrf_token(csrf, token);
	json_object_object_add(o, "session", json_session(s, 1));
	json_set_str(o, "csrf_token", csrf);
	return o;
}

/*
 * Check password for username: throttled, same work whether or not the
 * user exists, failures recorded. Sets *uid on success.
 */
static enum app_err
check_password(struct app *app, struct req *r, const char *username,
    const char *password, const char *session_id, const char *reason,
    long long *uid)
{
	struct login_state ls;
	enum app_err err;
	int ok;

	if ((err = db_login_check(app->db, r, username, &ls)) != APP_OK)
		return err;
	if (ls.retry_after > 0) {
		resp_header(r, "Retry-After: %lld", ls.retry_after);
		log_info("msg=\"%s throttled\" ip=%s", reason, r->ip);
		return APP_ETHROTTLE;
	}
	/* Behind a storm of logins: nginx gives up before we would answer. */
	if (r->queued_ms > LOGIN_WAIT_MAX_MS) {
		resp_header(r, "Retry-After: 1");
		log_warn("msg=\"%s skipped: waited %lld ms\" ip=%s", reason,
		    r->queued_ms, r->ip);
		return APP_EBUSY;
	}
	ok = crypto_pw_verify(password, strlen(password), ls.password_hash);
	if (ok < 0)
		return APP_EINTERNAL;
	if (!ok) {
		log_info("msg=\"%s failed\" user_id=%lld ip=%s", reason,
		    ls.user_id, r->ip);
		err = db_login_failed(
		    app->db, r, username, ls.user_id, session_id, reason);
		return err != APP_OK ? err : APP_ECREDS;
	}
	if (ls.disabled)
		return APP_EDISABLED;
	*uid = ls.user_id;
	return APP_OK;
}

enum app_err
h_login(struct app *app, struct req *r)
{
	static const char *const keys[] = { "username", "password", NULL };
	unsigned char token[TOKEN_LEN], hash[SHA256_LEN];
	char value[COOKIE_VALUE_MAX + 1];
	json_object *body;
	struct session s;
	const char *username, *password;
	enum app_err err;
	long long uid;

	if ((err = json_body(r, keys, &body)) != APP_OK)
		return err;
	if ((username = json_str(body, "username", USERNAME_MAX)) == NULL ||
	    (password = json_str(body, "password", PASSWORD_MAX)) == NULL)
		return APP_EJSON;
	if ((err = check_password(
		 app, r, username, password, NULL, "login", &uid)) != APP_OK)
		return err;
	if (crypto_random(token, sizeof(token)) != 0)
		return APP_EINTERNAL;
	crypto_sha256(hash, token, sizeof(token));
	if ((err = db_login(app->db, r, uid, hash, &s)) != APP_OK) {
		crypto_wipe(token, sizeof(token));
		return err;
	}
	cookie_make(value, &app->keys, uid, token);
	worker_set_cookie(r, value, app->cfg.absolute_lifetime);
	crypto_wipe(value, sizeof(value));
	log_info(
	    "msg=\"login\" user_id=%lld session_id=%s ip=%s", uid, s.id, r->ip);
	err = json_reply(r, 200, session_reply(&s, token));
	crypto_wipe(token, sizeof(token));
	return err;
}

enum app_err
h_logout(struct app *app, struct req *r)
{
	enum app_err err;
	int n;

	if ((err = db_revoke(app->db, r, r->sess, r->sess->id, "logout", &n)) !=
	    APP_OK)
		return err;
	worker_set_cookie(r, "", 0);
	r->resp.status = 204;
	return APP_OK;
}

enum app_err
h_reauth(struct app *app, struct req *r)
{
	static const char *const keys[] = { "password", NULL };
	json_object *body;
	const char *password;
	enum app_err err;
	long long uid;

	if ((err = json_body(r, keys, &body)) != APP_OK)
		return err;
	if ((password = json_str(body, "password", PASSWORD_MAX)) == NULL)
		return APP_EJSON;
	if ((err = check_password(app, r, r->sess->username, password,
		 r->sess->id, "reauth", &uid)) != APP_OK)
		return err;
	if ((err = db_reauth(app->db, r, r->sess)) != APP_OK)
		return err;
	r->resp.status = 204;
	return APP_OK;
}

enum app_err
h_current(struct app *app, struct req *r)
{
	json_object *o, *user;
	char id[24];

	(void)app;
	o = session_reply(r->sess, r->ck->token);
	user = json_new();
	snprintf(id, sizeof(id), "%lld", r->sess->user_id);
	json_set_str(user, "id", id);
	json_set_str(user, "username", r->sess->username);
	json_object_object_add(o, "user", user);
	return json_reply(r, 200, o);
}
