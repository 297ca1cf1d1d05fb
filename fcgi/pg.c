/*
 * pg.c: opening a PostgreSQL connection (pg.h), for sessiond's links,
 * its master's probe, sessionctl and the notifier alike.
 */
#include <stddef.h>

#include "pg.h"

void
pg_params(struct pg_params *p, const char *conninfo, const char *appname,
    const char *timeout_s, const char *options)
{
	size_t i = 0;

#define KV(k, v) (p->keys[i] = (k), p->vals[i] = (v), i++)
	KV("connect_timeout", timeout_s);
	KV("application_name", appname);
	/* An idle connection (LISTEN, a quiet worker) notices a dead peer
	 * within a minute instead of waiting on it forever. */
	KV("keepalives_idle", "30");
	KV("keepalives_interval", "10");
	KV("keepalives_count", "3");
	KV("dbname", conninfo);
	if (options != NULL)
		KV("options", options);
	KV(NULL, NULL);
#undef KV
}

PGconn *
pg_open(const char *conninfo, const char *appname, const char *timeout_s,
    const char *options)
{
	struct pg_params p;

	pg_params(&p, conninfo, appname, timeout_s, options);
	return PQconnectdbParams(p.keys, p.vals, 1);
}
