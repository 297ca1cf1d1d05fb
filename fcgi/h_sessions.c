/*
 * h_sessions.c: the user's sessions: list, status, revoke one, revoke all
 * others. Every query names the acting session's user, so another user's
 * session id behaves exactly like one that does not exist.
 */
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "cookie.h"
#include "cursor.h"
#include "db.h"
#include "handlers.h"
#include "json.h"
#include "log.h"
#include "req.h"
#include "util.h"
#include "view.h"

/* Above any real created_at: the first page starts here. */
#define LIST_START_US 253402300799000000LL /* 9999-12-31T23:59:59Z */

/*
 * The page's limit and cursor (the last session's creation time and id;
 * without one, past every session) into the pending slot.
 */
enum app_err
p_list(struct app *app, struct req *r)
{
	struct cursor c = { LIST_START_US, { 0 } };
	const char *ctext;
	char *before_id;
	enum app_err err;
	int limit;

	memset(c.b, 0xff, sizeof(c.b));
	if ((err = req_page(r, &limit, &ctext)) != APP_OK ||
	    (ctext != NULL &&
		(err = cursor_decode(ctext, &app->keys, r->ck->uid, 's', &c)) !=
		    APP_OK))
		return err;
	if ((before_id = arena_alloc(r->arena, UUID_LEN + 1)) == NULL)
		return APP_EINTERNAL;
	uuid_from_bytes(before_id, c.b);
	return db_queue_list(app->db, r, r->ck->uid, c.a, before_id, limit);
}

enum app_err
h_list(struct app *app, struct req *r)
{
	struct session_page page;
	struct cursor c;
	struct jw w;
	char next[CURSOR_TEXT_MAX + 1];
	enum app_err err;
	int i;
	const struct session *last;

	if ((err = db_list(app->db, r, &page)) != APP_OK)
		return err;
	jw_init(&w, r->arena);
	jw_open(&w, NULL, '{');
	jw_open(&w, "sessions", '[');
	for (i = 0; i < page.n; i++)
		view_session(&w, NULL, &page.items[i],
		    strcmp(page.items[i].id, r->sess->id) == 0);
	jw_close(&w, ']');
	if (page.more) {
		last = &page.items[page.n - 1];
		c.a = last->created_us;
		if (uuid_to_bytes(last->id, c.b) != 0)
			return APP_EINTERNAL;
		cursor_encode(next, &app->keys, r->sess->user_id, 's', &c);
		jw_str(&w, "next_cursor", next);
	} else
		jw_str(&w, "next_cursor", NULL);
	jw_close(&w, '}');
	return jw_reply(r, 200, &w);
}

enum app_err
p_status(struct app *app, struct req *r)
{
	if (!r->id_valid)
		return APP_ESESSID;
	return db_queue_status(app->db, r, r->ck->uid, r->id);
}

enum app_err
h_status(struct app *app, struct req *r)
{
	struct session_status st;
	struct jw w;
	enum app_err err;

	if ((err = db_status(app->db, r, &st)) != APP_OK)
		return err;
	jw_init(&w, r->arena);
	jw_open(&w, NULL, '{');
	jw_str(&w, "id", r->id);
	jw_str(&w, "status", st.status);
	jw_time(&w, "revoked_at", st.revoked_at);
	jw_close(&w, '}');
	return jw_reply(r, 200, &w);
}

/*
 * A revocation (DELETE one, DELETE the others, logout) travels with the
 * session check (db_queue_revoke): one round trip. It is a write that
 * runs before the worker answers, so it is queued only when the request
 * is not forged (r->forged, the worker's verdict on Origin and CSRF) and
 * the id is well formed; otherwise the worker or the handler refuses it.
 */
enum app_err
p_revoke(struct app *app, struct req *r)
{
	if (!r->id_valid || r->forged != APP_OK)
		return APP_OK;
	return db_queue_revoke(app->db, r, r->id, "user");
}

enum app_err
p_revoke_others(struct app *app, struct req *r)
{
	if (r->forged != APP_OK)
		return APP_OK;
	return db_queue_revoke(app->db, r, NULL, "others");
}

/* Logout: the acting session, queued as p_revoke's (see h_logout). */
enum app_err
p_logout(struct app *app, struct req *r)
{
	if (r->forged != APP_OK)
		return APP_OK;
	return db_queue_revoke(app->db, r, NULL, "logout");
}

enum app_err
h_revoke(struct app *app, struct req *r)
{
	enum app_err err;
	int n;

	if (!r->id_valid)
		return APP_ESESSID;
	if ((err = db_revoked(app->db, r, &n)) != APP_OK)
		return err;
	if (n == 0)
		return APP_ENOSESS;
	log_info("msg=\"session revoked\" reason=user user_id=%lld "
		 "session_id=%s target=%s",
	    r->sess->user_id, r->sess->id, r->id);
	if (r->id_is_own && (err = cookie_session_clear(r)) != APP_OK)
		return err;
	r->resp.status = 204;
	return APP_OK;
}

enum app_err
h_revoke_others(struct app *app, struct req *r)
{
	struct jw w;
	enum app_err err;
	int n;

	if ((err = db_revoked(app->db, r, &n)) != APP_OK)
		return err;
	log_info("msg=\"sessions revoked\" reason=others user_id=%lld "
		 "session_id=%s count=%d",
	    r->sess->user_id, r->sess->id, n);
	jw_init(&w, r->arena);
	jw_open(&w, NULL, '{');
	jw_int(&w, "revoked", n);
	jw_close(&w, '}');
	return jw_reply(r, 200, &w);
}
