/*
 * pg.h: the one way the programs open PostgreSQL. Our defaults come
 * before dbname, which libpq expands the conninfo into, so that anything
 * the operator's conninfo says wins.
 */
#ifndef PG_H
#define PG_H

#include <libpq-fe.h>

/* The keyword arrays for PQconnectdbParams or PQconnectStartParams. */
struct pg_params {
	const char *keys[10];
	const char *vals[10];
};

/*
 * conninfo: a libpq connection string or URI ("" = the PG* environment);
 * appname: how pg_stat_activity names us; timeout_s: connect_timeout;
 * options: the server options to set (NULL for none). TCP keepalives
 * notice a peer that vanished without closing.
 */
void pg_params(struct pg_params *, const char *conninfo, const char *appname,
    const char *timeout_s, const char *options);

/* PQconnectdbParams with pg_params; check PQstatus (NULL: no memory). */
PGconn *pg_open(const char *conninfo, const char *appname,
    const char *timeout_s, const char *options);

#endif /* PG_H */
