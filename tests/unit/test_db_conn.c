/*
 * test_db_conn.c: the pending slot. A handler collects the request its
 * prepare step queued by statement alone: the right one, once, and never
 * another statement's result. No database: the one connection attempt
 * goes to a socket directory that does not exist.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "config.h"
#include "db.h"
#include "db_conn.h"
#include "testlib.h"

enum {
	T_A,
	T_B,
	T__MAX
};

static const struct db_stmt tstmts[T__MAX] = {
	[T_A] = { "read_a", "SELECT $1::int", 1, 1 },
	[T_B] = { "read_b", "SELECT $1::int, $2::int", 1, 1 },
};

static struct config cfg;

static struct db *
mkdb(void)
{
	struct db *db;

	config_defaults(&cfg);
	snprintf(cfg.database, sizeof(cfg.database), "%s",
	    "host=/nonexistent/sessiond-test port=1 dbname=x");
	db = dbc_new(&cfg, tstmts, T__MAX);
	assert_non_null(db);
	return db;
}

static void
test_collect_nothing_queued(void **state)
{
	struct db *db = mkdb();
	enum app_err err = APP_OK;

	assert_null(dbc_collect(db, *state, T_A, NULL, &err));
	assert_int_equal(err, APP_EINTERNAL);
	db_free(db);
}

static void
test_queue_rejects(void **state)
{
	static const char *p[DB_PARAMS_MAX + 1];
	static const struct {
		int st, n;
	} bad[] = { { -1, 1 }, { T__MAX, 1 }, { T_A, -1 },
		{ T_A, DB_PARAMS_MAX + 1 } };
	struct db *db = mkdb();
	enum app_err err = APP_OK;
	size_t i;

	for (i = 0; i < nitems(bad); i++) {
		assert_int_equal(
		    dbc_queue(db, bad[i].st, bad[i].n, p, 0), APP_EINTERNAL);
		assert_null(dbc_collect(db, *state, T_A, NULL, &err));
		assert_int_equal(err, APP_EINTERNAL);
	}
	db_free(db);
}

/* The slot keeps the statement and its parameters, not copies of them. */
static void
test_queue_keeps_request(void **state)
{
	const char *p[2] = { "7", "8" };
	struct db *db = mkdb();

	(void)state;
	assert_int_equal(dbc_queue(db, T_B, 2, p, 50), APP_OK);
	assert_int_equal(db->pre.st, T_B);
	assert_int_equal(db->pre.n, 2);
	assert_ptr_equal(db->pre.params[0], p[0]);
	assert_ptr_equal(db->pre.params[1], p[1]);
	assert_int_equal(db->pre.limit, 50);
	assert_int_equal(db->pre.sent, 0);
	db_request_done(db);
	assert_int_equal(db->pre.st, -1);
	db_free(db);
}

/* Asking for another statement than the queued one gets nothing. */
static void
test_collect_other_statement(void **state)
{
	const char *p[1] = { "1" };
	struct db *db = mkdb();
	enum app_err err = APP_OK;
	int limit = -1;

	assert_int_equal(dbc_queue(db, T_A, 1, p, 10), APP_OK);
	assert_null(dbc_collect(db, *state, T_B, &limit, &err));
	assert_int_equal(err, APP_EINTERNAL);
	assert_int_equal(limit, -1);
	/* The queued one is still there: not sent, so it runs now. */
	assert_null(dbc_collect(db, *state, T_A, &limit, &err));
	assert_int_equal(err, APP_EDBDOWN);
	assert_int_equal(limit, 10);
	db_free(db);
}

/* A result that travelled with the session check is handed out once. */
static void
test_collect_prefetched_once(void **state)
{
	const char *p[1] = { "1" };
	struct db *db = mkdb();
	PGresult *res;
	enum app_err err = APP_OK;
	int limit = 0;

	assert_int_equal(dbc_queue(db, T_A, 1, p, 3), APP_OK);
	res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	assert_non_null(res);
	db->pre.sent = 1;
	db->pre.res = res;
	assert_ptr_equal(dbc_collect(db, *state, T_A, &limit, &err), res);
	assert_int_equal(err, APP_OK);
	assert_int_equal(limit, 3);
	assert_null(dbc_collect(db, *state, T_A, &limit, &err));
	assert_int_equal(err, APP_EINTERNAL);
	PQclear(res);
	db_free(db);
}

/* Why the travelled request has no result is the handler's answer. */
static void
test_collect_prefetched_error(void **state)
{
	const char *p[1] = { "1" };
	struct db *db = mkdb();
	enum app_err err = APP_OK;

	assert_int_equal(dbc_queue(db, T_A, 1, p, 0), APP_OK);
	db->pre.sent = 1;
	db->pre.err = APP_EDBDOWN;
	assert_null(dbc_collect(db, *state, T_A, NULL, &err));
	assert_int_equal(err, APP_EDBDOWN);
	db_free(db);
}

/* With the database away, the check fails and so does the queued read. */
static void
test_check_database_down(void **state)
{
	const char *p[2] = { "1", "2" };
	struct db *db = mkdb();
	enum app_err err = APP_OK;

	assert_int_equal(dbc_queue(db, T_A, 1, p, 0), APP_OK);
	assert_null(dbc_check(db, *state, T_B, 2, p, &err));
	assert_int_equal(err, APP_EDBDOWN);
	assert_null(dbc_collect(db, *state, T_A, NULL, &err));
	assert_int_equal(err, APP_EDBDOWN);
	db_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_collect_nothing_queued),
		T(test_queue_rejects),
		T(test_queue_keeps_request),
		T(test_collect_other_statement),
		T(test_collect_prefetched_once),
		T(test_collect_prefetched_error),
		T(test_check_database_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
