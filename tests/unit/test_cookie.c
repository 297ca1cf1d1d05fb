/*
 * test_cookie.c: the keys file, the signed cookie, the CSRF token and the
 * signed cursor. Whatever a client changes in a cookie or a cursor must
 * give APP_EAUTH or APP_ECURSOR; keys rotate without breaking either.
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

#include "cookie.h"
#include "testlib.h"

/* "<kid>:<n bytes of fill, base64url>" into out. */
static void
key_line(
    char *out, size_t outlen, const char *kid, unsigned char fill, size_t n)
{
	unsigned char k[KEY_MAX + 8];
	char k64[b64url_len(sizeof(k)) + 1];

	assert_true(n <= sizeof(k));
	memset(k, fill, n);
	b64url_encode(k64, k, n);
	snprintf(out, outlen, "%s:%s", kid, k64);
}

/* A ring from "kid:fill" pairs, 32-byte keys. */
static void
ring(struct keyring *kr, const char *kid1, unsigned char f1, const char *kid2,
    unsigned char f2)
{
	char text[512], l1[128], l2[128];
	char err[128];

	key_line(l1, sizeof(l1), kid1, f1, 32);
	if (kid2 != NULL) {
		key_line(l2, sizeof(l2), kid2, f2, 32);
		snprintf(text, sizeof(text), "%s\n%s\n", l1, l2);
	} else
		snprintf(text, sizeof(text), "%s\n", l1);
	if (keyring_parse(kr, text, err, sizeof(err)) != 0)
		fail_msg("keyring_parse: %s", err);
}

static const unsigned char tok0[TOKEN_LEN] = {
	0,
	1,
	2,
	3,
	4,
	5,
	6,
	7,
	8,
	9,
	10,
	11,
	12,
	13,
	14,
	15,
	16,
	17,
	18,
	19,
	20,
	21,
	22,
	23,
	24,
	25,
	26,
	27,
	28,
	29,
	30,
	31,
};

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

/* device_cookie_make and device_cookie_parse */

static void
test_device_cookie(void **state)
{
	struct keyring kr, other;
	struct device d, got;
	struct cookie c;
	char v[DEVICE_COOKIE_MAX + 1], bad[DEVICE_COOKIE_MAX + 2];
	char sv[COOKIE_VALUE_MAX + 1];
	size_t i;

	(void)state;
	ring(&kr, "k1", 0x11, NULL, 0);
	ring(&other, "k1", 0x22, NULL, 0);
	d.uid = 4242;
	memcpy(d.id, tok0, DEVICE_ID_LEN);
	device_cookie_make(v, &kr, &d);
	assert_true(strlen(v) <= DEVICE_COOKIE_MAX);
	assert_true(strncmp(v, "d1.k1.4242.", 11) == 0);
	assert_int_equal(device_cookie_parse(v, &kr, &got), APP_OK);
	assert_int_equal(got.uid, 4242);
	assert_memory_equal(got.id, d.id, DEVICE_ID_LEN);
	/* Another server's key, any flipped character, a truncation. */
	assert_int_equal(device_cookie_parse(v, &other, &got), APP_EAUTH);
	for (i = 0; v[i] != '\0'; i++) {
		memcpy(bad, v, sizeof(v));
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		if (device_cookie_parse(bad, &kr, &got) != APP_EAUTH)
			fail_msg("flipped byte %zu accepted", i);
	}
	memcpy(bad, v, sizeof(v));
	bad[strlen(bad) - 1] = '\0';
	assert_int_equal(device_cookie_parse(bad, &kr, &got), APP_EAUTH);
	assert_int_equal(device_cookie_parse(NULL, &kr, &got), APP_EAUTH);
	assert_int_equal(device_cookie_parse("", &kr, &got), APP_EAUTH);
	/* Neither kind of cookie passes as the other. */
	cookie_make(sv, &kr, 4242, tok0);
	assert_int_equal(device_cookie_parse(sv, &kr, &got), APP_EAUTH);
	assert_int_equal(cookie_parse(v, &kr, &c), APP_EAUTH);
}

/* cookie_make and cookie_parse */

static void
test_cookie_vector(void **state)
{
	struct keyring kr;
	struct cookie c;
	char v[COOKIE_VALUE_MAX + 1];
	unsigned char h[SHA256_LEN];

	(void)state;
	ring(&kr, "k1", 0x11, NULL, 0);
	cookie_make(v, &kr, 42, tok0);
	/* Computed independently (Python hmac) from the header's format. */
	assert_string_equal(v,
	    "v1.k1.42."
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8."
	    "6HqwzHMyG7EimOznIAuz97SDM8WhPlld6qosW5Czim0");
	memset(&c, 0, sizeof(c));
	assert_int_equal(cookie_parse(v, &kr, &c), APP_OK);
	assert_int_equal(c.uid, 42);
	assert_memory_equal(c.token, tok0, TOKEN_LEN);
	assert_int_equal(c.key_index, 0);
	crypto_sha256(h, tok0, TOKEN_LEN);
	assert_memory_equal(c.token_hash, h, SHA256_LEN);
}

static void
test_cookie_round_trip(void **state)
{
	static const long long uids[] = {
		1,
		2,
		42,
		999999,
		4294967296LL,
		INT64_MAX,
	};
	struct keyring kr;
	struct cookie c;
	char v[COOKIE_VALUE_MAX + 1];
	unsigned char tok[TOKEN_LEN];
	size_t i;

	(void)state;
	/* The longest kid and the longest uid fit COOKIE_VALUE_MAX. */
	ring(&kr, "0123456789abcdef", 0x22, NULL, 0);
	for (i = 0; i < nitems(uids); i++) {
		assert_int_equal(crypto_random(tok, sizeof(tok)), 0);
		cookie_make(v, &kr, uids[i], tok);
		assert_true(strlen(v) <= COOKIE_VALUE_MAX);
		memset(&c, 0, sizeof(c));
		assert_int_equal(cookie_parse(v, &kr, &c), APP_OK);
		assert_int_equal(c.uid, uids[i]);
		assert_memory_equal(c.token, tok, TOKEN_LEN);
	}
}

/* Replace s[at..at+n) of a valid cookie by rep: a tampered copy. */
struct tamper {
	const char *what;
	size_t at; /* (size_t)-1: append */
	size_t n;
	const char *rep;
};

/* Offsets into "v1.k1.42.<43 token>.<43 mac>" (token at 9, mac at 53). */
static const struct tamper tampers[] = {
	{ "version v2", 0, 2, "v2" },
	{ "version V1", 0, 2, "V1" },
	{ "version v10", 0, 2, "v10" },
	{ "no version", 0, 3, "" },
	{ "unknown kid", 3, 2, "k9" },
	{ "kid case", 3, 2, "K1" },
	{ "empty kid", 3, 2, "" },
	{ "uid + 1", 6, 2, "43" },
	{ "uid leading zero", 6, 2, "042" },
	{ "uid sign", 6, 2, "+42" },
	{ "negative uid", 6, 2, "-42" },
	{ "empty uid", 6, 2, "" },
	{ "uid 0", 6, 2, "0" },
	{ "token first char", 9, 1, "B" },
	{ "token last char", 51, 1, "w" },
	{ "token shorter", 51, 1, "" },
	{ "token longer", 52, 0, "A" },
	{ "mac first char", 53, 1, "7" },
	{ "mac last char", 95, 1, "E" },
	{ "mac non-canonical tail", 95, 1, "n" },
	{ "mac shorter", 95, 1, "" },
	{ "mac longer", 96, 0, "A" },
	{ "mac padded", 96, 0, "=" },
	{ "extra dot at the end", 96, 0, "." },
	{ "extra field", 96, 0, ".AAAA" },
	{ "extra dot in the token", 20, 0, "." },
	{ "double dot", 2, 1, ".." },
	{ "dot for dot", 8, 1, "" },
	{ "space at the end", 96, 0, " " },
	{ "space at the start", 0, 0, " " },
	{ "NUL-cut mac", 60, 36, "" },
	{ "token in standard base64", 9, 1, "+" },
	{ "mac in standard base64", 53, 1, "/" },
	{ "8-bit byte", 10, 1, "\xc3\xa9" },
};

static void
test_cookie_tampering(void **state)
{
	struct keyring kr;
	struct cookie c;
	char v[COOKIE_VALUE_MAX + 1], bad[COOKIE_VALUE_MAX * 2];
	size_t i, at;

	(void)state;
	ring(&kr, "k1", 0x11, "k9", 0x99);
	cookie_make(v, &kr, 42, tok0);
	assert_int_equal(strlen(v), 96);
	assert_int_equal(v[52], '.');
	for (i = 0; i < nitems(tampers); i++) {
		at = tampers[i].at;
		snprintf(bad, sizeof(bad), "%.*s%s%s", (int)at, v,
		    tampers[i].rep, v + at + tampers[i].n);
		assert_string_not_equal(bad, v);
		if (cookie_parse(bad, &kr, &c) != APP_EAUTH)
			fail_msg("cookie accepted with %s: %s", tampers[i].what,
			    bad);
	}
	/* The untouched value still passes. */
	assert_int_equal(cookie_parse(v, &kr, &c), APP_OK);
}

/* Every byte of the value matters: one changed character is refused. */
static void
test_cookie_every_byte(void **state)
{
	static const char subst[] = "Aa0-_.=+/ \x01\xff";
	struct keyring kr;
	struct cookie c;
	char v[COOKIE_VALUE_MAX + 1], bad[COOKIE_VALUE_MAX + 1];
	size_t i, j, len;

	(void)state;
	ring(&kr, "k1", 0x11, NULL, 0);
	cookie_make(v, &kr, 42, tok0);
	len = strlen(v);
	for (i = 0; i < len; i++) {
		for (j = 0; j < sizeof(subst) - 1; j++) {
			if (v[i] == subst[j])
				continue;
			memcpy(bad, v, len + 1);
			bad[i] = subst[j];
			if (cookie_parse(bad, &kr, &c) != APP_EAUTH)
				fail_msg("byte %zu as 0x%02x accepted", i,
				    (unsigned char)subst[j]);
		}
		/* And every truncation. */
		memcpy(bad, v, i);
		bad[i] = '\0';
		assert_int_equal(cookie_parse(bad, &kr, &c), APP_EAUTH);
	}
}

static void
test_cookie_shapes(void **state)
{
	static const char *bad[] = {
		"",
		"v1",
		"v1.",
		"v1..",
		"v1...",
		"v1....",
		".....",
		"v1.k1",
		"v1.k1.42",
		"v1.k1.42.",
		"v1.k1.42.x",
		"v1.k1.42.x.y",
		"v1.k1.42.AAAA.BBBB",
		"sid=v1.k1.42.a.b",
		"null",
		"undefined",
	};
	struct keyring kr;
	struct cookie c;
	char longv[COOKIE_VALUE_MAX + 64];
	char v[COOKIE_VALUE_MAX + 1];
	size_t i;

	(void)state;
	ring(&kr, "k1", 0x11, NULL, 0);
	for (i = 0; i < nitems(bad); i++)
		if (cookie_parse(bad[i], &kr, &c) != APP_EAUTH)
			fail_msg("cookie \"%s\" accepted", bad[i]);
	assert_int_equal(cookie_parse(NULL, &kr, &c), APP_EAUTH);

	/* Over the length cap, whatever follows. */
	cookie_make(v, &kr, 42, tok0);
	memset(longv, 'A', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	memcpy(longv, v, strlen(v));
	assert_int_equal(cookie_parse(longv, &kr, &c), APP_EAUTH);
	memset(longv, 'A', sizeof(longv) - 1);
	memcpy(longv, "v1.k1.", 6);
	longv[COOKIE_VALUE_MAX + 1] = '\0';
	assert_int_equal(cookie_parse(longv, &kr, &c), APP_EAUTH);
}

/* Values signed with our key whose fields are still bad. */
static void
test_cookie_signed_garbage(void **state)
{
	static const char *inner[] = {
		"v1.k1.0.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"v1.k1.-1.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"v1.k1.+1.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"v1.k1. 1.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"v1.k1.1x.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"v1.k1.99999999999999999999."
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"v1.k1.42.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9",
		"v1.k1.42.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh!",
		"v1.k1.42.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH+8",
	};
	struct keyring kr;
	struct cookie c;
	unsigned char mac[SHA256_LEN];
	char v[256], m64[b64url_len(SHA256_LEN) + 1];
	size_t i;

	(void)state;
	ring(&kr, "k1", 0x11, NULL, 0);
	for (i = 0; i < nitems(inner); i++) {
		crypto_hmac(mac, kr.keys[0].secret, kr.keys[0].len, inner[i],
		    strlen(inner[i]));
		b64url_encode(m64, mac, sizeof(mac));
		snprintf(v, sizeof(v), "%s.%s", inner[i], m64);
		if (cookie_parse(v, &kr, &c) != APP_EAUTH)
			fail_msg("signed garbage accepted: %s", v);
	}
	/* The same construction with good fields passes: the test is fair. */
	snprintf(v, sizeof(v), "v1.k1.7.%s",
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
	crypto_hmac(mac, kr.keys[0].secret, kr.keys[0].len, v, strlen(v));
	b64url_encode(m64, mac, sizeof(mac));
	snprintf(v + strlen(v), sizeof(v) - strlen(v), ".%s", m64);
	assert_int_equal(cookie_parse(v, &kr, &c), APP_OK);
	assert_int_equal(c.uid, 7);
}

static void
test_cookie_keys(void **state)
{
	struct keyring a, b, ba, a2, other_kid;
	struct cookie c;
	char v[COOKIE_VALUE_MAX + 1], w[COOKIE_VALUE_MAX + 1];

	(void)state;
	ring(&a, "A", 0xaa, NULL, 0);
	ring(&b, "B", 0xbb, NULL, 0);
	ring(&ba, "B", 0xbb, "A", 0xaa);
	ring(&a2, "A", 0xab, NULL, 0);	      /* same kid, other secret */
	ring(&other_kid, "C", 0xaa, NULL, 0); /* same secret, other kid */

	cookie_make(v, &a, 42, tok0);
	assert_int_equal(cookie_parse(v, &a, &c), APP_OK);
	/* Rotation: B signs now, A still verifies. */
	assert_int_equal(cookie_parse(v, &ba, &c), APP_OK);
	assert_int_equal(c.key_index, 1);
	assert_int_equal(c.uid, 42);
	/* A retired: its cookies end. */
	assert_int_equal(cookie_parse(v, &b, &c), APP_EAUTH);
	assert_int_equal(cookie_parse(v, &a2, &c), APP_EAUTH);
	assert_int_equal(cookie_parse(v, &other_kid, &c), APP_EAUTH);

	/* New cookies are signed with the first key. */
	cookie_make(w, &ba, 42, tok0);
	assert_int_equal(strncmp(w, "v1.B.", 5), 0);
	assert_int_equal(cookie_parse(w, &b, &c), APP_OK);
	assert_int_equal(c.key_index, 0);
	assert_int_equal(cookie_parse(w, &a, &c), APP_EAUTH);
}

/* CSRF */

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

/* Cursors */

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
		cmocka_unit_test(test_keyring_parse),
		cmocka_unit_test(test_keyring_key_sizes),
		cmocka_unit_test(test_keyring_max),
		cmocka_unit_test(test_keyring_load),
		cmocka_unit_test(test_keyring_load_large),
		cmocka_unit_test(test_keyring_generate),
		cmocka_unit_test(test_cookie_vector),
		cmocka_unit_test(test_cookie_round_trip),
		cmocka_unit_test(test_cookie_tampering),
		cmocka_unit_test(test_cookie_every_byte),
		cmocka_unit_test(test_cookie_shapes),
		cmocka_unit_test(test_cookie_signed_garbage),
		cmocka_unit_test(test_cookie_keys),
		cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_cursor_round_trip),
		cmocka_unit_test(test_cursor_rejects),
		cmocka_unit_test(test_cursor_rotation),
		cmocka_unit_test(test_device_cookie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
