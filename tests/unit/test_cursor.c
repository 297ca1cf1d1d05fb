/*
 * test_cursor.c: the signed cursor: round trips, whatever a client
 * changes gives APP_ECURSOR, and keys rotate without breaking a paging
 * client.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "testlib.h"

static void
test_cursor_round_trip(void **state)
{
	static const long long as[] = {
		0,
		1,
		-1,
		1795884624000000LL,
		INT64_MAX,
		INT64_MIN,
	};
	struct keyring kr;
	struct cursor c, d;
	char t[CURSOR_TEXT_MAX + 1];
	size_t i, j;

	(void)state;
	ring(&kr, "k1", 0x11, NULL, 0);
	for (i = 0; i < nitems(as); i++) {
		c.a = as[i];
		for (j = 0; j < sizeof(c.b); j++)
			c.b[j] = (unsigned char)(i * 16 + j);
		cursor_encode(t, &kr, 42, 's', &c);
		assert_int_equal(strlen(t), CURSOR_TEXT_MAX);
		assert_true(strlen(t) <= CURSOR_MAX);
		memset(&d, 0, sizeof(d));
		assert_int_equal(cursor_decode(t, &kr, 42, 's', &d), APP_OK);
		assert_int_equal(d.a, c.a);
		assert_memory_equal(d.b, c.b, sizeof(c.b));
	}
}

static void
test_cursor_rejects(void **state)
{
	struct keyring kr, other;
	struct cursor c, d;
	char t[CURSOR_TEXT_MAX + 1], bad[CURSOR_TEXT_MAX + 8];
	size_t i;

	(void)state;
	ring(&kr, "k1", 0x11, NULL, 0);
	ring(&other, "k1", 0x12, NULL, 0);
	c.a = 1234567;
	memset(c.b, 0x5c, sizeof(c.b));
	cursor_encode(t, &kr, 42, 's', &c);

	/* Another user, another list, another key. */
	assert_int_equal(cursor_decode(t, &kr, 43, 's', &d), APP_ECURSOR);
	assert_int_equal(cursor_decode(t, &kr, -42, 's', &d), APP_ECURSOR);
	assert_int_equal(cursor_decode(t, &kr, 42, 'a', &d), APP_ECURSOR);
	assert_int_equal(cursor_decode(t, &other, 42, 's', &d), APP_ECURSOR);

	/* Shapes. */
	assert_int_equal(cursor_decode("", &kr, 42, 's', &d), APP_ECURSOR);
	assert_int_equal(cursor_decode("AAAA", &kr, 42, 's', &d), APP_ECURSOR);
	snprintf(bad, sizeof(bad), "%s=", t);
	assert_int_equal(cursor_decode(bad, &kr, 42, 's', &d), APP_ECURSOR);
	snprintf(bad, sizeof(bad), "%sA", t);
	assert_int_equal(cursor_decode(bad, &kr, 42, 's', &d), APP_ECURSOR);
	for (i = 0; i < CURSOR_TEXT_MAX; i++) {
		memcpy(bad, t, i);
		bad[i] = '\0';
		assert_int_equal(
		    cursor_decode(bad, &kr, 42, 's', &d), APP_ECURSOR);
		/* Each character changed, to base64url and to others. */
		memcpy(bad, t, CURSOR_TEXT_MAX + 1);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_int_equal(
		    cursor_decode(bad, &kr, 42, 's', &d), APP_ECURSOR);
		bad[i] = '.';
		assert_int_equal(
		    cursor_decode(bad, &kr, 42, 's', &d), APP_ECURSOR);
	}
	assert_int_equal(cursor_decode(t, &kr, 42, 's', &d), APP_OK);
	assert_int_equal(d.a, 1234567);
}

static void
test_cursor_rotation(void **state)
{
	struct keyring a, b, ba;
	struct cursor c, d;
	char t[CURSOR_TEXT_MAX + 1];

	(void)state;
	ring(&a, "A", 0xaa, NULL, 0);
	ring(&b, "B", 0xbb, NULL, 0);
	ring(&ba, "B", 0xbb, "A", 0xaa);
	c.a = 99;
	memset(c.b, 7, sizeof(c.b));
	cursor_encode(t, &a, 42, 'a', &c);
	/* A client paging across a key rotation keeps going. */
	assert_int_equal(cursor_decode(t, &ba, 42, 'a', &d), APP_OK);
	assert_int_equal(d.a, 99);
	/* Until the old key is dropped. */
	assert_int_equal(cursor_decode(t, &b, 42, 'a', &d), APP_ECURSOR);
	cursor_encode(t, &ba, 42, 'a', &c);
	assert_int_equal(cursor_decode(t, &b, 42, 'a', &d), APP_OK);
	assert_int_equal(cursor_decode(t, &a, 42, 'a', &d), APP_ECURSOR);
}
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_round_trip),
		cmocka_unit_test(test_cursor_rejects),
		cmocka_unit_test(test_cursor_rotation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
