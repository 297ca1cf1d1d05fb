/*
 * h_audit.c: the user's own security events, newest first.
 */
#include <stdint.h>

#include "arena.h"
#include "bounds.h"
#include "cookie.h"
#include "cursor.h"
#include "db.h"
#include "handlers.h"
#include "json.h"
#include "req.h"
#include "view.h"

/* The page's limit and cursor (the last event's id) into the pending slot. */
enum app_err
p_audit(struct app *app, struct req *r)
{
	struct cursor c = { INT64_MAX, { 0 } };
	const char *ctext;
	enum app_err err;
	int limit;

	if ((err = req_page(r, &limit, &ctext)) != APP_OK ||
	    (ctext != NULL &&
		(err = cursor_decode(ctext, &app->keys, r->ck->uid, 'a', &c)) !=
		    APP_OK))
		return err;
	return db_queue_audit(app->db, r, r->ck->uid, c.a, limit);
}

enum app_err
h_audit(struct app *app, struct req *r)
{
	struct cursor c = { 0, { 0 } };
	struct audit_page page;
	struct jw w;
	char next[CURSOR_TEXT_MAX + 1];
	enum app_err err;
	int i;

	if ((err = db_audit(app->db, r, &page)) != APP_OK)
		return err;
	jw_init(&w, r->arena);
	jw_open(&w, NULL, '{');
	jw_open(&w, "events", '[');
	for (i = 0; i < page.n; i++)
		view_event(&w, &page.items[i]);
	jw_close(&w, ']');
	if (page.more) {
		c.a = page.items[page.n - 1].id;
		cursor_encode(next, &app->keys, r->sess->user_id, 'a', &c);
		jw_str(&w, "next_cursor", next);
	} else
		jw_str(&w, "next_cursor", NULL);
	jw_close(&w, '}');
	return jw_reply(r, 200, &w);
}
