/*
 * test_geoip.c: geoip_lookup() against the small database that
 * tests/geoip/make-test-db.pl writes (documentation ranges only), and
 * geoip_private() on the ranges no database places.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "geoip.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

static int
setup(void **state)
{
	char err[256];

	(void)state;
	if (geoip_open(TEST_GEOIP_DB, err, sizeof(err)) != 0) {
		print_error("%s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	geoip_close();
	return 0;
}

static void
test_places(void **state)
{
	static const struct {
		const char *ip, *place;
	} cases[] = {
		{ "192.0.2.7", "Berlin, Germany" },
		{ "192.0.2.255", "Berlin, Germany" },
		{ "198.51.100.1", "Japan" }, /* no city: the country alone */
		{ "2001:db8::1", "Paris, France" },
		{ "::ffff:192.0.2.7", "Berlin, Germany" },
		{ "8.8.8.8", "" }, /* not in the database */
		{ "192.0.3.1", "" },
		{ "127.0.0.1", "" }, /* loopback and private: never */
		{ "10.1.2.3", "" },
		{ "192.168.1.1", "" },
		{ "172.16.0.1", "" },
		{ "169.254.1.1", "" },
		{ "100.64.0.1", "" },
		{ "::1", "" },
		{ "fd00::1", "" },
		{ "fe80::1", "" },
		{ "::ffff:10.0.0.1", "" },
		{ "", "" }, /* malformed */
		{ "not an address", "" },
		{ "192.0.2.7 ", "" },
	};
	char out[GEOIP_PLACE_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		assert_int_equal(
		    geoip_lookup(cases[i].ip, out), cases[i].place[0] != '\0');
		assert_string_equal(out, cases[i].place);
	}
	assert_int_equal(geoip_lookup(NULL, out), 0);
	assert_string_equal(out, "");
}

/* A name from the file is text we did not choose: no control bytes. */
static void
test_hostile_name(void **state)
{
	char out[GEOIP_PLACE_MAX + 1];
	const char *p;

	(void)state;
	assert_int_equal(geoip_lookup("203.0.113.9", out), 1);
	for (p = out; *p != '\0'; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	assert_non_null(strstr(out, "<img src=x onerror=alert(1)>??Bcc"));
	assert_non_null(strstr(out, ", Nowhere"));
	assert_true(strlen(out) <= GEOIP_PLACE_MAX);
}

static void
test_no_database(void **state)
{
	char out[GEOIP_PLACE_MAX + 1], err[256];

	(void)state;
	assert_int_equal(geoip_open("", err, sizeof(err)), 0);
	assert_int_equal(geoip_lookup("192.0.2.7", out), 0);
	assert_string_equal(out, "");
	/* A file that is not a database: an error naming the setting, and
	 * the database already open stays. */
	assert_int_equal(geoip_open(TEST_GEOIP_DB, err, sizeof(err)), 0);
	assert_int_equal(geoip_open("/dev/null", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "geoip_database"));
	assert_int_equal(geoip_open("/nonexistent.mmdb", err, sizeof(err)), -1);
	assert_int_equal(geoip_lookup("192.0.2.7", out), 1);
	assert_string_equal(out, "Berlin, Germany");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_places),
		cmocka_unit_test(test_hostile_name),
		cmocka_unit_test(test_no_database),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
