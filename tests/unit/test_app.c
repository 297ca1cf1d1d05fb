/*
 * test_app.c: the one table from enum app_err to status, code and message.
 * Every value has an entry; codes are the contract's snake_case strings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "app.h"
#include "testlib.h"

struct err_case {
	enum app_err e;
	int status;
	const char *code;
};

/* RFC 9110 section 15's reason phrases for the statuses we answer with. */
static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{ 200, "OK" },
	{ 204, "No Content" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 413, "Content Too Large" },
	{ 415, "Unsupported Media Type" },
	{ 429, "Too Many Requests" },
	{ 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
};

/* As app.h (and the contract, where it names them) has them. */
static const struct err_case err_cases[] = {
	{ APP_OK, 200, "ok" },
	{ APP_EINVAL, 400, "bad_request" },
	{ APP_EJSON, 400, "invalid_json" },
	{ APP_ELIMIT, 400, "invalid_limit" },
	{ APP_ECURSOR, 400, "invalid_cursor" },
	{ APP_ESESSID, 400, "invalid_session_id" },
	{ APP_EPWSHORT, 400, "weak_password" },
	{ APP_EPWLONG, 400, "weak_password" },
	{ APP_EPWNAME, 400, "weak_password" },
	{ APP_EPWSAME, 400, "weak_password" },
	{ APP_EPWCOMMON, 400, "weak_password" },
	{ APP_EPWDICT, 400, "weak_password" },
	{ APP_EPWSIMPLE, 400, "weak_password" },
	{ APP_EAUTH, 401, "not_authenticated" },
	{ APP_ECREDS, 401, "invalid_credentials" },
	{ APP_ECSRF, 403, "csrf_failed" },
	{ APP_EREAUTH, 403, "reauth_required" },
	{ APP_EDISABLED, 403, "account_disabled" },
	{ APP_ENOTFOUND, 404, "not_found" },
	{ APP_ENOSESS, 404, "session_not_found" },
	{ APP_EMETHOD, 405, "method_not_allowed" },
	{ APP_ETOOBIG, 413, "payload_too_large" },
	{ APP_ETYPE, 415, "unsupported_media_type" },
	{ APP_ETHROTTLE, 429, "too_many_requests" },
	{ APP_EINTERNAL, 500, "internal_error" },
	{ APP_EDBDOWN, 503, "database_unavailable" },
	{ APP_EBUSY, 503, "server_busy" },
};

/* [a-z]+(_[a-z]+)* */
static int
snake_case(const char *s)
{
	size_t i;

	if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			continue;
		if (s[i] == '_' && s[i + 1] >= 'a' && s[i + 1] <= 'z')
			continue;
		return 0;
	}
	return 1;
}

static void
test_every_value(void **state)
{
	const struct app_err_info *info, *other;
	size_t len;
	int e, f;

	(void)state;
	for (e = 0; e < APP_ERR__MAX; e++) {
		info = app_err_info((enum app_err)e);
		assert_non_null(info);
		if (e == APP_OK)
			assert_int_equal(info->status, 200);
		else if (info->status < 400 || info->status > 599)
			fail_msg("error %d: status %d", e, info->status);
		if (!snake_case(info->code))
			fail_msg("error %d: code \"%s\"", e,
			    info->code ? info->code : "(null)");
		/* A sentence for people ("limit must be ..." may start low). */
		assert_non_null(info->message);
		len = strlen(info->message);
		assert_true(len > 1);
		assert_int_equal(info->message[len - 1], '.');
		/*
		 * Codes tell errors apart: no two share one, except the
		 * password rules, one code whose messages name the rule.
		 */
		for (f = 0; f < e; f++) {
			other = app_err_info((enum app_err)f);
			if (strcmp(info->code, other->code) == 0 &&
			    strcmp(info->code, "weak_password") != 0)
				fail_msg("errors %d and %d share \"%s\"", f, e,
				    info->code);
		}
	}
}

static void
test_table(void **state)
{
	const struct app_err_info *info;
	size_t i;

	(void)state;
	/* The case table covers the whole enum. */
	assert_int_equal(nitems(err_cases), APP_ERR__MAX);
	for (i = 0; i < nitems(err_cases); i++) {
		assert_int_equal(err_cases[i].e, i);
		info = app_err_info(err_cases[i].e);
		if (info->status != err_cases[i].status ||
		    strcmp(info->code, err_cases[i].code) != 0)
			fail_msg("error %d: %d %s, want %d %s", err_cases[i].e,
			    info->status, info->code, err_cases[i].status,
			    err_cases[i].code);
	}
}

static void
test_out_of_range(void **state)
{
	static const int bad[] = { APP_ERR__MAX, APP_ERR__MAX + 1, 1000, -1 };
	size_t i;

	(void)state;
	for (i = 0; i < nitems(bad); i++)
		assert_ptr_equal(app_err_info((enum app_err)bad[i]),
		    app_err_info(APP_EINTERNAL));
}

/* Every row's reason is its status's, and the status line finds it. */
static void
test_reasons(void **state)
{
	const struct app_err_info *info;
	size_t i;
	int e, found;

	(void)state;
	for (i = 0; i < nitems(reasons); i++)
		assert_string_equal(
		    app_status_reason(reasons[i].status), reasons[i].reason);
	for (e = 0; e < APP_ERR__MAX; e++) {
		info = app_err_info((enum app_err)e);
		found = 0;
		for (i = 0; i < nitems(reasons); i++)
			if (reasons[i].status == info->status) {
				assert_string_equal(
				    info->reason, reasons[i].reason);
				found = 1;
			}
		if (!found)
			fail_msg("error %d: status %d has no reason", e,
			    info->status);
	}
	/* Nothing else is answered: an unknown status is a 500. */
	assert_string_equal(app_status_reason(0), "Internal Server Error");
	assert_string_equal(app_status_reason(302), "Internal Server Error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_value),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
