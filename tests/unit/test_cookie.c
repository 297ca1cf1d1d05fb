/*
 * test_cookie.c: the signed session and device cookies. Whatever a
 * client changes in a cookie must give APP_EAUTH; keys rotate without
 * logging anyone out.
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

/* cookie_session_get, _set, _clear; cookie_device_get, _set */

/* Which uid the request's session cookie names; 0 when it has none. */
static long long
session_uid(struct req *r, const struct keyring *kr)
{
	struct cookie c;

	return cookie_session_get(r, kr, &c) == APP_OK ? c.uid : 0;
}

/* The name HTTPS decides: over HTTPS the unprefixed name is not ours. */
static void
test_cookie_session_get(void **state)
{
	struct keyring kr;
	struct req r;
	char v1[COOKIE_VALUE_MAX + 1], v2[COOKIE_VALUE_MAX + 1];
	char h[3 * COOKIE_VALUE_MAX];

	ring(&kr, "k1", 0x11, NULL, 0);
	cookie_make(v1, &kr, 1, tok0);
	cookie_make(v2, &kr, 2, tok0);
	mkreq(&r, *state, M_GET, "/");
	assert_int_equal(session_uid(&r, &kr), 0);
	snprintf(h, sizeof(h), "sid=%s; __Host-sid=%s", v1, v2);
	r.cookies = h;
	assert_int_equal(session_uid(&r, &kr), 1);
	r.https = 1;
	assert_int_equal(session_uid(&r, &kr), 2);
	snprintf(h, sizeof(h), "sid=%s", v1);
	assert_int_equal(session_uid(&r, &kr), 0);
	/* Two of one name: someone planted one, so none. */
	snprintf(h, sizeof(h), "__Host-sid=%s; __Host-sid=%s", v1, v2);
	assert_int_equal(session_uid(&r, &kr), 0);
	/* Not ours. */
	snprintf(h, sizeof(h), "__Host-sid=v1.k1.1.AAAA.BBBB");
	assert_int_equal(session_uid(&r, &kr), 0);
	arena_reset(*state);
}

/* Set, then read back by a request that sends what was set. */
static void
test_cookie_session_set(void **state)
{
	static const char *const want[] = {
		"Set-Cookie: sid=%s; Path=/; Max-Age=600; HttpOnly; "
		"SameSite=Lax",
		"Set-Cookie: __Host-sid=%s; Path=/; Max-Age=600; HttpOnly; "
		"SameSite=Lax; Secure",
	};
	struct keyring kr;
	struct req r, back;
	char v[COOKIE_VALUE_MAX + 1], line[RESP_HEADER_LINE_MAX];
	const char *eq;
	int https;

	ring(&kr, "k1", 0x11, NULL, 0);
	cookie_make(v, &kr, 42, tok0);
	for (https = 0; https <= 1; https++) {
		mkreq(&r, *state, M_POST, "/api/auth/login/");
		r.https = https;
		assert_int_equal(
		    cookie_session_set(&r, &kr, 42, tok0, 600), APP_OK);
		assert_int_equal(r.resp.nheaders, 1);
		snprintf(line, sizeof(line), want[https], v);
		assert_string_equal(r.resp.headers[0], line);

		mkreq(&back, *state, M_GET, "/");
		back.https = https;
		eq = strchr(r.resp.headers[0], ' ') + 1;
		back.cookies =
		    arena_strndup(*state, eq, (size_t)(strchr(eq, ';') - eq));
		assert_int_equal(session_uid(&back, &kr), 42);
		arena_reset(*state);
	}
}

static void
test_cookie_session_clear(void **state)
{
	struct req r;

	mkreq(&r, *state, M_POST, "/api/auth/logout/");
	assert_int_equal(cookie_session_clear(&r), APP_OK);
	assert_string_equal(r.resp.headers[0],
	    "Set-Cookie: sid=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
	r.https = 1;
	assert_int_equal(cookie_session_clear(&r), APP_OK);
	assert_string_equal(r.resp.headers[1],
	    "Set-Cookie: __Host-sid=; Path=/; Max-Age=0; HttpOnly; "
	    "SameSite=Lax; Secure");
	arena_reset(*state);
}

/*
 * An answer with no room left for the cookie is an error, not an answer
 * without it (a logout that says 204 but leaves the cookie set).
 */
static void
test_cookie_no_room(void **state)
{
	struct keyring kr;
	struct device d = { 42, { 0 } };
	struct req r;
	size_t i;

	ring(&kr, "k1", 0x11, NULL, 0);
	mkreq(&r, *state, M_POST, "/api/auth/logout/");
	for (i = 0; i < RESP_HEADERS_MAX; i++)
		assert_int_equal(resp_header(&r, "X-N: %zu", i), APP_OK);
	assert_int_equal(cookie_session_clear(&r), APP_EINTERNAL);
	assert_int_equal(
	    cookie_session_set(&r, &kr, 42, tok0, 600), APP_EINTERNAL);
	assert_int_equal(cookie_device_set(&r, &kr, &d, 600), APP_EINTERNAL);
	assert_int_equal(r.resp.nheaders, RESP_HEADERS_MAX);
	arena_reset(*state);
}

static void
test_cookie_device(void **state)
{
	struct keyring kr;
	struct device d, got;
	struct req r, back;
	const char *eq;
	int https;

	ring(&kr, "k1", 0x11, NULL, 0);
	d.uid = 7;
	memcpy(d.id, tok0, DEVICE_ID_LEN);
	for (https = 0; https <= 1; https++) {
		mkreq(&r, *state, M_POST, "/api/auth/login/");
		r.https = https;
		assert_int_equal(cookie_device_set(&r, &kr, &d, 60), APP_OK);
		assert_non_null(strstr(r.resp.headers[0],
		    https ? "Set-Cookie: __Host-did=" : "Set-Cookie: did="));
		assert_int_equal(
		    https, strstr(r.resp.headers[0], "; Secure") != NULL);
		mkreq(&back, *state, M_GET, "/");
		back.https = https;
		eq = strchr(r.resp.headers[0], ' ') + 1;
		back.cookies =
		    arena_strndup(*state, eq, (size_t)(strchr(eq, ';') - eq));
		assert_int_equal(cookie_device_get(&back, &kr, &got), APP_OK);
		assert_int_equal(got.uid, 7);
		assert_memory_equal(got.id, d.id, DEVICE_ID_LEN);
		/* The session cookie is another name. */
		assert_int_equal(session_uid(&back, &kr), 0);
		back.https = !https;
		assert_int_equal(
		    cookie_device_get(&back, &kr, &got), APP_EAUTH);
		arena_reset(*state);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_vector),
		cmocka_unit_test(test_cookie_round_trip),
		cmocka_unit_test(test_cookie_tampering),
		cmocka_unit_test(test_cookie_every_byte),
		cmocka_unit_test(test_cookie_shapes),
		cmocka_unit_test(test_cookie_signed_garbage),
		cmocka_unit_test(test_cookie_keys),
		cmocka_unit_test(test_device_cookie),
		T(test_cookie_session_get),
		T(test_cookie_session_set),
		T(test_cookie_session_clear),
		T(test_cookie_no_room),
		T(test_cookie_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
