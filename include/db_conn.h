/*
 * db_conn.h: inside the database layer only (db.c, db_conn.c and their
 * unit test): the connections, the statement table they prepare, and the
 * pending slot that carries a handler's read in one pipeline with the
 * session check. Everything else uses db.h.
 */
#ifndef DB_CONN_H
#define DB_CONN_H

#include <time.h>

#include <libpq-fe.h>

#include "app.h"

struct arena;
struct config;

/*
 * A statement: its name (the prepared statement's name, and stmt= in
 * logs), its SQL, read (may run on a standby) and retry (safe to run again
 * on a new connection after the old one broke: it changes nothing, or
 * changing it twice is the same as once).
 */
struct db_stmt {
	const char *name;
	const char *sql;
	int read;
	int retry;
};

#define DB_PARAMS_MAX 14

/*
 * The request a handler's prepare step queued (statement and parameters,
 * which point into the request arena), and once it has travelled with the
 * session check, its result or why there is none. The handler collects it
 * by statement, never by repeating the arguments.
 */
struct db_pending {
	int st; /* statement index; -1: nothing pending */
	int n;
	const char *params[DB_PARAMS_MAX];
	int limit;	  /* the page size asked for (list, audit), else 0 */
	int sent;	  /* it went with the session check */
	PGresult *res;	  /* its result (an arena cleanup frees it) */
	enum app_err err; /* or why there is none */
};

/* One connection, its reconnection pause and what it logged. */
struct db_link {
	PGconn *conn;
	const char *conninfo;
	const char *options;
	const char *name; /* "primary" or "read" in logs */
	int prepared;	  /* 0: send the SQL text each time */
	struct timespec next_try;
	int down_logged;
};

struct db {
	struct db_link w; /* writes, and reads without a pool */
	struct db_link r; /* reads, when database_read is set */
	int split;
	const struct config *cfg;
	const struct db_stmt *stmts; /* prepared on every connection */
	int nstmts;
	struct db_pending pre;
};

/*
 * A worker's connections per cfg (kept by reference), preparing the nstmts
 * statements of stmts (kept by reference) on each; none opened yet. NULL
 * when out of memory.
 */
struct db *dbc_new(
    const struct config *cfg, const struct db_stmt *stmts, int nstmts);

/*
 * Run statement st with n parameters. Returns the result (freed at the
 * arena's reset) or NULL with *err set: APP_EDBDOWN when the connection is
 * gone, else APP_EINTERNAL (logged here with the SQLSTATE).
 */
PGresult *dbc_run(struct db *, struct arena *, int st, int n,
    const char *const *params, enum app_err *err);

/*
 * Keep statement st with its n parameters (pointers kept, not copied) in
 * the pending slot, to send with the next dbc_check. limit is what
 * dbc_collect gives back. APP_EINTERNAL when n is too many or st unknown.
 */
enum app_err dbc_queue(
    struct db *, int st, int n, const char *const *params, int limit);

/*
 * Run the session check st, in one pipeline with the pending request when
 * one is queued (one round trip, one implicit transaction); as dbc_run.
 * The pending request's own result waits in the slot for dbc_collect.
 */
PGresult *dbc_check(struct db *, struct arena *, int st, int n,
    const char *const *params, enum app_err *err);

/*
 * The pending request's result, which must be statement st: the one that
 * travelled with the session check, or, if it has not travelled, run now.
 * *limit (may be NULL) gets the queued limit. NULL with *err set as
 * dbc_run, or APP_EINTERNAL (logged) when st is not what is pending.
 */
PGresult *dbc_collect(
    struct db *, struct arena *, int st, int *limit, enum app_err *err);

#endif /* DB_CONN_H */
