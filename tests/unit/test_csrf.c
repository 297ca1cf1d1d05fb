/*
 * test_csrf.c: the CSRF token against an independent vector, and every
 * change to it refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "csrf.h"
#include "testlib.h"

static void
test_csrf(void **state)
{
	static const char want[] =
	    "tBXxoCXUkWZmRFMPw0lozS5HeGKJLtA3EkbdxuMWouc";
	unsigned char tok1[TOKEN_LEN];
	char t[CSRF_LEN + 1], u[CSRF_LEN + 1], bad[CSRF_LEN + 8];
	size_t i;

	(void)state;
	/* HMAC-SHA256(token, "csrf"), computed independently (Python). */
	csrf_token(t, tok0);
	assert_string_equal(t, want);
	assert_int_equal(strlen(t), CSRF_LEN);
	assert_int_equal(csrf_check(t, tok0), 1);

	memcpy(tok1, tok0, TOKEN_LEN);
	tok1[31] ^= 1;
	csrf_token(u, tok1);
	assert_string_not_equal(t, u);
	assert_int_equal(csrf_check(t, tok1), 0);
	assert_int_equal(csrf_check(u, tok0), 0);

	assert_int_equal(csrf_check(NULL, tok0), 0);
	assert_int_equal(csrf_check("", tok0), 0);
	for (i = 0; i < CSRF_LEN; i++) {
		/* Every prefix, and every changed character. */
		memcpy(bad, t, i);
		bad[i] = '\0';
		assert_int_equal(csrf_check(bad, tok0), 0);
		memcpy(bad, t, CSRF_LEN + 1);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_int_equal(csrf_check(bad, tok0), 0);
	}
	snprintf(bad, sizeof(bad), "%s=", t);
	assert_int_equal(csrf_check(bad, tok0), 0);
	snprintf(bad, sizeof(bad), " %s", t);
	assert_int_equal(csrf_check(bad, tok0), 0);
}
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csrf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
