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

struct audit_args {
	int limit;
	long long before_id;
};

enum app_err
p_audit(struct app *app, struct req *r)
{
	struct audit_args *a;
	struct cursor c;
	const char *ctext;
	enum app_err err;

	if ((a = arena_alloc(r->arena, sizeof(*a))) == NULL)
		return APP_EINTERNAL;
	if ((err = req_page(r, &a->limit, &ctext)) != APP_OK)
		return err;
	a->before_id = INT64_MAX;
	if (ctext != NULL) {
		if (cursor_decode(ctext, &app->keys, r->ck->uid, 'a', &c) !=
		    APP_OK)
			return APP_ECURSOR;
		a->before_id = c.a;
	}
	r->args = a;
	return db_queue_audit(app->db, r, r->ck->uid, a->before_id, a->limit);
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
