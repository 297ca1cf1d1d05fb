/*
 * test_keyring.c: the keys file: its lines, key sizes, the number of keys,
 * the file's permissions and size, and new key lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyring.h"
#include "testlib.h"

/* keyring_parse */

#define K32 "ERERERERERERERERERERERERERERERERERERERERERE" /* 32 x 0x11 */

struct ring_case {
	const char *text;
	int rc;
	size_t n;	    /* keys when rc == 0 */
	const char *first;  /* kid of keys[0] */
	const char *needle; /* in err when rc == -1 */
};

static const struct ring_case ring_cases[] = {
	{ "k1:" K32, 0, 1, "k1", NULL },
	{ "k1:" K32 "\n", 0, 1, "k1", NULL },
	{ "k1:" K32 "\r\n", 0, 1, "k1", NULL },
	{ "k1:" K32 "  \t\n", 0, 1, "k1", NULL },
	{ "# keys\n\nk1:" K32 "\n# old\nk0:" K32 "\n\n", 0, 2, "k1", NULL },
	{ "new:" K32 "\nold:" K32 "\n", 0, 2, "new", NULL },
	{ "A-z_09:" K32, 0, 1, "A-z_09", NULL },
	{ "0123456789abcdef:" K32, 0, 1, "0123456789abcdef", NULL },
	/* No key at all. */
	{ "", -1, 0, NULL, "no key" },
	{ "\n\n", -1, 0, NULL, "no key" },
	{ "# only a comment\n", -1, 0, NULL, "no key" },
	/* Bad kid or no colon. */
	{ "k1", -1, 0, NULL, "line 1" },
	{ K32, -1, 0, NULL, "line 1" },
	{ ":" K32, -1, 0, NULL, "line 1" },
	{ "0123456789abcdefg:" K32, -1, 0, NULL, "line 1" },
	{ "k 1:" K32, -1, 0, NULL, "line 1" },
	{ "k.1:" K32, -1, 0, NULL, "line 1" },
	{ "k:1:" K32, -1, 0, NULL, "line 1" },
	{ " k1:" K32, -1, 0, NULL, "line 1" },
	{ "k\xc3\xa9:" K32, -1, 0, NULL, "line 1" },
	{ "# c\nk1:" K32 "\nbad line\n", -1, 0, NULL, "line 3" },
	/* Bad key text. */
	{ "k1:", -1, 0, NULL, "line 1" },
	{ "k1: " K32, -1, 0, NULL, "line 1" },
	{ "k1:" K32 "=", -1, 0, NULL, "line 1" },
	{ "k1:ERERERERERERERERERERERERERERERERERERERERERF", -1, 0, NULL,
	    "line 1" }, /* non-canonical trailing bits */
	{ "k1:ERERERERERERERERERERERERERERERERERERERERER+", -1, 0, NULL,
	    "line 1" },
	/* Duplicate key id. */
	{ "k1:" K32 "\nk1:" K32 "\n", -1, 0, NULL, "duplicate" },
	{ "a:" K32 "\nb:" K32 "\na:" K32 "\n", -1, 0, NULL, "line 3" },
};

static void
test_keyring_parse(void **state)
{
	struct keyring kr;
	char err[256];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < nitems(ring_cases); i++) {
		err[0] = '\0';
		rc = keyring_parse(&kr, ring_cases[i].text, err, sizeof(err));
		if (rc != ring_cases[i].rc)
			fail_msg("keyring row %zu: %d, want %d (%s)", i, rc,
			    ring_cases[i].rc, err);
		if (rc == 0) {
			assert_int_equal(kr.n, ring_cases[i].n);
			assert_string_equal(
			    kr.keys[0].kid, ring_cases[i].first);
			assert_int_equal(kr.keys[0].len, 32);
		} else if (strstr(err, ring_cases[i].needle) == NULL)
			fail_msg("keyring row %zu: \"%s\" lacks \"%s\"", i, err,
			    ring_cases[i].needle);
	}
}

/* Key sizes: 32..64 bytes, nothing else. */
static void
test_keyring_key_sizes(void **state)
{
	static const struct {
		size_t n;
		int rc;
	} sizes[] = {
		{ 0, -1 },
		{ 1, -1 },
		{ 16, -1 },
		{ 31, -1 },
		{ 32, 0 },
		{ 33, 0 },
		{ 48, 0 },
		{ 63, 0 },
		{ 64, 0 },
		{ 65, -1 },
		{ 72, -1 },
	};
	struct keyring kr;
	char line[256], err[256];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(sizes); i++) {
		key_line(line, sizeof(line), "k", 0x42, sizes[i].n);
		err[0] = '\0';
		if (keyring_parse(&kr, line, err, sizeof(err)) != sizes[i].rc)
			fail_msg("key of %zu bytes: want %d", sizes[i].n,
			    sizes[i].rc);
		if (sizes[i].rc == 0)
			assert_int_equal(kr.keys[0].len, sizes[i].n);
		else
			assert_non_null(strstr(err, "32..64"));
	}
}

static void
test_keyring_max(void **state)
{
	struct keyring kr;
	char text[KEYS_MAX * 80 + 160], line[128], kid[8];
	char err[256];
	size_t i;

	(void)state;
	text[0] = '\0';
	for (i = 0; i < KEYS_MAX; i++) {
		snprintf(kid, sizeof(kid), "k%zu", i);
		key_line(line, sizeof(line), kid, (unsigned char)i, 32);
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "%s\n", line);
	}
	assert_int_equal(keyring_parse(&kr, text, err, sizeof(err)), 0);
	assert_int_equal(kr.n, KEYS_MAX);
	assert_string_equal(kr.keys[KEYS_MAX - 1].kid, "k15");

	/* One more is refused, not silently dropped. */
	key_line(line, sizeof(line), "extra", 0x99, 32);
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s", line);
	err[0] = '\0';
	assert_int_equal(keyring_parse(&kr, text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than"));
}

/* keyring_load */

static void
write_keys(char path[64], const char *text, mode_t mode)
{
	FILE *f;
	int fd;

	snprintf(path, 64, "/tmp/test_cookie.XXXXXX");
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
test_keyring_load(void **state)
{
	static const struct {
		mode_t mode;
		int rc;
	} modes[] = {
		{ 0600, 0 },
		{ 0400, 0 },
		{ 0640, 0 },
		{ 0440, 0 },
		{ 0644, -1 },
		{ 0604, -1 },
		{ 0602, -1 },
		{ 0601, -1 },
		{ 0660, -1 },
		{ 0620, -1 },
		{ 0666, -1 },
		{ 0777, -1 },
	};
	struct keyring kr;
	char path[64], err[256];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(modes); i++) {
		write_keys(path, "# test\nk1:" K32 "\n", modes[i].mode);
		err[0] = '\0';
		if (keyring_load(&kr, path, err, sizeof(err)) != modes[i].rc)
			fail_msg("keys file mode %o: want %d", modes[i].mode,
			    modes[i].rc);
		if (modes[i].rc == 0) {
			assert_int_equal(kr.n, 1);
			assert_string_equal(kr.keys[0].kid, "k1");
		} else
			assert_non_null(strstr(err, path));
		unlink(path);
	}

	/* A missing file is an error naming it. */
	err[0] = '\0';
	assert_int_equal(
	    keyring_load(&kr, "/nonexistent/keys", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/keys"));

	/* So is a private file without a key. */
	write_keys(path, "# nothing\n", 0600);
	assert_int_equal(keyring_load(&kr, path, err, sizeof(err)), -1);
	unlink(path);
}

static void
test_keyring_load_large(void **state)
{
	struct keyring kr;
	char path[64], err[256], *text;
	size_t n = 9000;

	(void)state;
	assert_non_null(text = malloc(n + 1));
	memset(text, '#', n);
	text[n] = '\0';
	write_keys(path, text, 0600);
	free(text);
	err[0] = '\0';
	assert_int_equal(keyring_load(&kr, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too large"));
	unlink(path);
}

static void
test_keyring_generate(void **state)
{
	struct keyring kr;
	char line[128], err[128];

	(void)state;
	assert_int_equal(keyring_generate(line, sizeof(line), "2026-11"), 0);
	assert_int_equal(keyring_parse(&kr, line, err, sizeof(err)), 0);
	assert_string_equal(kr.keys[0].kid, "2026-11");
	assert_int_equal(kr.keys[0].len, KEY_MIN);
	/* A kid keyring_parse would refuse, or no room. */
	assert_int_equal(keyring_generate(line, sizeof(line), "bad kid"), -1);
	assert_int_equal(keyring_generate(line, sizeof(line), ""), -1);
	assert_int_equal(keyring_generate(line, 10, "k1"), -1);
	keyring_wipe(&kr);
	assert_int_equal(kr.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyring_parse),
		cmocka_unit_test(test_keyring_key_sizes),
		cmocka_unit_test(test_keyring_max),
		cmocka_unit_test(test_keyring_load),
		cmocka_unit_test(test_keyring_load_large),
		cmocka_unit_test(test_keyring_generate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
