/*
 * h_health.c: GET /healthz, 200 when the database answers, else 503.
 */
#include "db.h"
#include "handlers.h"
#include "json.h"
#include "req.h"

enum app_err
h_health(struct app *app, struct req *r)
{
	struct jw w;
	enum app_err err;

	if ((err = db_ping(app->db, r->arena)) != APP_OK)
		return err;
	jw_init(&w, r->arena);
	jw_open(&w, NULL, '{');
	jw_str(&w, "status", "ok");
	jw_close(&w, '}');
	return jw_reply(r, 200, &w);
}
