/*
 * db_conn.h: what db.c (the statements and what their rows mean) and
 * db_conn.c (the connections, the pipeline and the pending slot) share.
 * Only those two include it; the rest of the service sees db.h.
 */
#ifndef DB_CONN_H
#define DB_CONN_H

#include <time.h>

#include <libpq-fe.h>

#include "app.h"
#include "arena.h"
#include "config.h"
#include "db.h"

enum stmt {
	ST_PING,
	ST_CHECK,
	ST_TOUCH,
	ST_EXPIRE,
	ST_AUTH_BEGIN,
	ST_AUTH_FAILED,
	ST_AUTH_RELEASE,
	ST_LOGIN,
	ST_REAUTH,
	ST_PASSWORD,
	ST_REVOKE_TOKEN,
	ST_LIST,
	ST_STATUS,
	ST_AUDIT,
	ST__MAX
};

/* A statement: its name (prepared under it, and in logs), its text. */
struct stmt_def {
	const char *name;
	const char *sql;
	int read;  /* may run on a standby */
	int retry; /* safe to run again after the connection broke */
};

/* db.c's table, by enum stmt. */
extern const struct stmt_def stmts[ST__MAX];

#define PARAMS_MAX 8 /* of a queued read */

/*
 * The pending slot: a read a handler's prepare step queued, with its
 * parameters, sent in one pipeline with the session check so that the
 * request costs one round trip; the handler takes the result by naming
 * the statement (db_take), never by passing the arguments again.
 */
struct pending {
	enum stmt st; /* ST__MAX: none */
	int n;
	const char *params[PARAMS_MAX];
	int limit;	  /* a page's size, for the handler */
	int queued;	  /* waiting for the session check */
	int sent;	  /* went with it: res or err holds the answer */
	PGresult *res;	  /* its result, until the handler takes it */
	enum app_err err; /* or why there is none */
};

/* One connection, its reconnection pause and what it logged. */
struct link {
	PGconn *conn;
	const char *conninfo;
	const char *options;
	const char *name; /* "primary" or "read" in logs */
	int prepared;	  /* 0: send the SQL text each time */
	struct timespec next_try;
	int down_logged;
};

struct db {
	struct link w; /* writes, and reads without a pool */
	struct link r; /* reads, when database_read is set */
	int split;
	const struct config *cfg;
	struct pending pre;
};

/*
 * Run st. Returns the result (freed at arena reset) or NULL with *err
 * set: APP_EDBDOWN when the connection is gone, else APP_EINTERNAL
 * (logged with the statement's name and the SQLSTATE).
 */
PGresult *db_run(struct db *, struct arena *, enum stmt st, int n,
    const char *const *params, enum app_err *err);

/* The session check (ST_CHECK), with the queued read in one pipeline. */
PGresult *db_run_check(struct db *, struct arena *, int n,
    const char *const *params, enum app_err *err);

/* Queue a read (n <= PARAMS_MAX; params live in the request's arena). */
void db_queue(
    struct db *, enum stmt st, int n, const char *const *params, int limit);

/*
 * The queued read st's result: the one that came with the session check,
 * or run now. *limit: the page size it was queued with. NULL with *err;
 * APP_EINTERNAL when st is not what was queued.
 */
PGresult *db_take(
    struct db *, struct arena *, enum stmt st, int *limit, enum app_err *err);

#endif /* DB_CONN_H */
