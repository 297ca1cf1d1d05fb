/*
 * h_audit.c: the user's own security events, newest first.
 */
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "bounds.h"
#include "cookie.h"
#include "db.h"
#include "handlers.h"
#include "json.h"
#include "req.h"
#include "ua.h"
#include "worker.h"

static json_object *
event_json(const struct audit_event *e)
{
	struct ua_info ua;
	json_object *o = json_new();
	char id[24];

	snprintf(id, sizeof(id), "%lld", e->id);
	ua_parse_cached(e->ua, e->ch_ua, e->ch_platform, e->ch_mobile, &ua);
	json_set_str(o, "id", id);
	json_set_time(o, "at", e->at);
	json_set_str(o, "event", e->event);
	json_set_str(o, "reason", *e->reason ? e->reason : NULL);
	json_set_str(o, "session_id", *e->session_id ? e->session_id : NULL);
	json_set_str(o, "target_session_id",
	    *e->target_session_id ? e->target_session_id : NULL);
	json_set_str(o, "ip", *e->ip ? e->ip : NULL);
	json_set_str(o, "user_agent", e->ua);
	json_set_str(o, "browser", ua.browser);
	json_set_str(o, "os", ua.os);
	json_set_str(o, "device", ua.device);
	return o;
}

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
	const struct audit_args *a = r->args;
	struct cursor c = { 0, { 0 } };
	struct audit_page page;
	json_object *o, *arr;
	char next[CURSOR_TEXT_MAX + 1];
	enum app_err err;
	int i;

	if ((err = db_audit(app->db, r, r->sess->user_id, a->before_id,
		 a->limit, &page)) != APP_OK)
		return err;
	o = json_new();
	arr = json_object_new_array();
	json_object_object_add(o, "events", arr);
	for (i = 0; i < page.n; i++)
		json_object_array_add(arr, event_json(&page.items[i]));
	if (page.more) {
		c.a = page.items[page.n - 1].id;
		cursor_encode(next, &app->keys, r->sess->user_id, 'a', &c);
		json_set_str(o, "next_cursor", next);
	} else
		json_set_str(o, "next_cursor", NULL);
	return json_reply(r, 200, o);
}
