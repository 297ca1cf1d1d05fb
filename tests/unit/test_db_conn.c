/*
 * test_db_conn.c: the pending slot. A handler takes the request its
 * prepare step queued by naming the statement alone: the right one, once,
 * and never another statement's result. No database: the one connection
 * attempt goes to a socket directory that does not exist.
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

static struct config cfg;

static struct db *
mkdb(void)
{
	struct db *db;

	config_defaults(&cfg);
	snprintf(cfg.database, sizeof(cfg.database), "%s",
	    "host=/nonexistent/sessiond-test port=1 dbname=x");
	db = db_new(&cfg);
	assert_non_null(db);
	return db;
}

static void
test_take_nothing_queued(void **state)
{
	struct db *db = mkdb();
	enum app_err err = APP_OK;
	int limit;

	assert_null(db_take(db, *state, ST_LIST, &limit, &err));
	assert_int_equal(err, APP_EINTERNAL);
	db_free(db);
}

/* The slot keeps the statement and its parameters, not copies of them. */
static void
test_queue_keeps_request(void **state)
{
	const char *p[3] = { "7", "8", "9" };
	struct db *db = mkdb();

	(void)state;
	db_queue(db, ST_STATUS, 3, p, 50);
	assert_int_equal(db->pre.st, ST_STATUS);
	assert_int_equal(db->pre.n, 3);
	assert_ptr_equal(db->pre.params[0], p[0]);
	assert_ptr_equal(db->pre.params[2], p[2]);
	assert_int_equal(db->pre.limit, 50);
	assert_int_equal(db->pre.sent, 0);
	db_request_done(db);
	assert_int_not_equal(db->pre.st, ST_STATUS);
	db_free(db);
}

/* Asking for another statement than the queued one gets nothing. */
static void
test_take_other_statement(void **state)
{
	const char *p[3] = { "1", "2", "3" };
	struct db *db = mkdb();
	enum app_err err = APP_OK;
	int limit = -1;

	db_queue(db, ST_STATUS, 3, p, 10);
	assert_null(db_take(db, *state, ST_LIST, &limit, &err));
	assert_int_equal(err, APP_EINTERNAL);
	/* The queued one is still there: not sent, so it runs now. */
	assert_null(db_take(db, *state, ST_STATUS, &limit, &err));
	assert_int_equal(err, APP_EDBDOWN);
	assert_int_equal(limit, 10);
	db_free(db);
}

/* A result that travelled with the session check is handed out once. */
static void
test_take_prefetched_once(void **state)
{
	const char *p[3] = { "1", "2", "3" };
	struct db *db = mkdb();
	PGresult *res;
	enum app_err err = APP_OK;
	int limit = 0;

	db_queue(db, ST_STATUS, 3, p, 3);
	res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	assert_non_null(res);
	db->pre.queued = 0;
	db->pre.sent = 1;
	db->pre.res = res;
	assert_ptr_equal(db_take(db, *state, ST_STATUS, &limit, &err), res);
	assert_int_equal(limit, 3);
	assert_null(db_take(db, *state, ST_STATUS, &limit, &err));
	assert_int_equal(err, APP_EINTERNAL);
	PQclear(res);
	db_free(db);
}

/* Why the travelled request has no result is the handler's answer. */
static void
test_take_prefetched_error(void **state)
{
	const char *p[3] = { "1", "2", "3" };
	struct db *db = mkdb();
	enum app_err err = APP_OK;
	int limit;

	db_queue(db, ST_STATUS, 3, p, 0);
	db->pre.queued = 0;
	db->pre.sent = 1;
	db->pre.err = APP_EDBDOWN;
	assert_null(db_take(db, *state, ST_STATUS, &limit, &err));
	assert_int_equal(err, APP_EDBDOWN);
	db_free(db);
}

/* With the database away, the check fails and so does the queued read. */
static void
test_check_database_down(void **state)
{
	const char *p[4] = { "1", "\\x00", "3", "4" };
	struct db *db = mkdb();
	enum app_err err = APP_OK;
	int limit;

	db_queue(db, ST_STATUS, 3, p, 0);
	assert_null(db_run_check(db, *state, 4, p, &err));
	assert_int_equal(err, APP_EDBDOWN);
	err = APP_OK;
	assert_null(db_take(db, *state, ST_STATUS, &limit, &err));
	assert_int_equal(err, APP_EDBDOWN);
	db_free(db);
}

/*
 * Every link asks for generic plans: left to choose, PostgreSQL planned
 * the list anew at each execution once a large table's statistics made
 * the generic plan look dearer, and list ran at half its rate at 1M rows
 * (make bench, docs/performance.md).
 */
static void
test_links_use_generic_plans(void **state)
{
	struct db *db = mkdb();

	(void)state;
	assert_non_null(
	    strstr(db->w.options, "-c plan_cache_mode=force_generic_plan"));
	assert_non_null(strstr(db->w.options, "-c statement_timeout="));
	db_free(db);
	snprintf(cfg.database_read, sizeof(cfg.database_read), "%s",
	    "host=/nonexistent/sessiond-test port=2 dbname=x");
	db = db_new(&cfg);
	assert_non_null(db);
	assert_non_null(
	    strstr(db->w.options, "-c plan_cache_mode=force_generic_plan"));
	assert_non_null(
	    strstr(db->r.options, "-c plan_cache_mode=force_generic_plan"));
	db_free(db);
	cfg.database_read[0] = '\0';
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_take_nothing_queued),
		T(test_queue_keeps_request),
		T(test_take_other_statement),
		T(test_take_prefetched_once),
		T(test_take_prefetched_error),
		T(test_check_database_down),
		T(test_links_use_generic_plans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
