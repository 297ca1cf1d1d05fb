/*
 * h_health.c: GET /healthz, 200 when the database answers, else 503.
 */
#include "db.h"
#include "handlers.h"
#include "json.h"
#include "req.h"
#include "worker.h"

enum app_err
h_health(struct app *app, struct req *r)
{
	json_object *o;
	enum app_err err;

	if ((err = db_ping(app->db, r->arena)) != APP_OK)
		return err;
	o = json_new();
	json_set_str(o, "status", "ok");
	return json_reply(r, 200, o);
}
