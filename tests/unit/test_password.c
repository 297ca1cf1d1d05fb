/*
 * test_password.c: the rules for new passwords, one row per rule, and the
 * built-in common-password list.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "password.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

struct pw_case {
	const char *pw;
	const char *current;
	enum app_err want;
};

static const struct pw_case cases[] = {
	{ "correct horse battery staple", NULL, APP_OK },
	{ "Tr0ub4dor&3 sings at dawn", NULL, APP_OK },
	{ "zebra quill morning", NULL, APP_OK },
	/* Code points, not bytes: 12 of them, 24 bytes. */
	{ "жёлтый дождь", NULL, APP_OK },
	{ "жёлтый дож", NULL, APP_EPWSHORT },
	{ "short", NULL, APP_EPWSHORT },
	{ "elevenchars", NULL, APP_EPWSHORT },
	{ "           ", NULL, APP_EPWSHORT },
	/* 129 code points. */
	{ "xq7 zebra quill morning xq7 zebra quill morning xq7 zebra quill "
	  "morning xq7 zebra quill morning xq7 zebra quill morning xq7 zebra "
	  "q",
	    NULL, APP_EPWLONG },
	{ "alice-example", NULL, APP_EPWNAME },
	{ "my name is ALICE-EXAMPLE ok", NULL, APP_EPWNAME },
	{ "zebra quill morning", "zebra quill morning", APP_EPWSAME },
	{ "password1234", NULL, APP_EPWCOMMON },
	{ "PASSWORD1234", NULL, APP_EPWCOMMON },
	{ "Password!!!!", NULL, APP_EPWCOMMON },
	{ "qwertyuiop123", NULL, APP_EPWCOMMON },
	{ "1234567890123", NULL, APP_EPWSIMPLE },
	{ "abcdefghijklm", NULL, APP_EPWSIMPLE },
	{ "zzzzzzzzzzzzz", NULL, APP_EPWSIMPLE },
	{ "quill zebra ######", NULL, APP_EPWSIMPLE },
	{ "quill zebra жжжжжж", NULL, APP_EPWSIMPLE },
	{ "quill zebra #####", NULL, APP_OK },
	{ "xq7zebraarbez7qx", NULL, APP_EPWSIMPLE },
};

static void
test_rules(void **state)
{
	enum app_err got;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		got = password_rules(
		    cases[i].pw, "alice-example", cases[i].current);
		if (got != cases[i].want)
			fail_msg("\"%s\": got %d, want %d", cases[i].pw, got,
			    cases[i].want);
	}
}

static void
test_dictionary(void **state)
{
	enum app_err got;

	(void)state;
	/* cracklib: a dictionary word with small changes. */
	got = password_rules("Accomplishment", "bob", NULL);
	assert_true(got == APP_EPWDICT);
}

static void
test_common_list(void **state)
{
	static const char *common[] = { "password", "123456", "dragon",
		"Dragon", "dragon2024!", "iloveyou", "letmein99" };
	static const char *rare[] = { "zebra quill morning", "", "1234x",
		"qzx" };
	size_t i;

	(void)state;
	for (i = 0; i < nitems(common); i++)
		if (!password_common(common[i]))
			fail_msg("\"%s\" should be common", common[i]);
	for (i = 0; i < nitems(rare); i++)
		if (password_common(rare[i]))
			fail_msg("\"%s\" should not be common", rare[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_dictionary),
		cmocka_unit_test(test_common_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
