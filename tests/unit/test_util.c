/*
 * test_util.c: the helpers that see untrusted text first. One table per
 * function: the input and what it must give, malformed rows included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "testlib.h"

/* parse_ll */

struct ll_case {
	const char *s;
	int base;
	long long min, max;
	int rc;
	long long want;
};

static const struct ll_case ll_cases[] = {
	/* In bounds. */
	{ "0", 10, 0, 10, 0, 0 },
	{ "10", 10, 0, 10, 0, 10 },
	{ "7", 10, 7, 7, 0, 7 },
	{ "007", 10, 0, 10, 0, 7 },
	{ "-5", 10, -10, 10, 0, -5 },
	{ "-0", 10, -1, 1, 0, 0 },
	{ "9223372036854775807", 10, 0, LLONG_MAX, 0, LLONG_MAX },
	{ "-9223372036854775808", 10, LLONG_MIN, 0, 0, LLONG_MIN },
	{ "0660", 8, 0, 0777, 0, 0660 },
	{ "777", 8, 0, 0777, 0, 0777 },
	/* Out of bounds. */
	{ "11", 10, 0, 10, -1, 0 },
	{ "6", 10, 7, 7, -1, 0 },
	{ "-11", 10, -10, 10, -1, 0 },
	{ "1000", 8, 0, 0777, -1, 0 },
	/* Signs: none unless negative numbers are allowed at all. */
	{ "-1", 10, 0, 10, -1, 0 },
	{ "-0", 10, 0, 10, -1, 0 },
	{ "+1", 10, 0, 10, -1, 0 },
	{ "+1", 10, -10, 10, -1, 0 },
	{ "--1", 10, -10, 10, -1, 0 },
	{ "-+1", 10, -10, 10, -1, 0 },
	{ "-", 10, -10, 10, -1, 0 },
	/* Whitespace anywhere. */
	{ " 1", 10, 0, 10, -1, 0 },
	{ "1 ", 10, 0, 10, -1, 0 },
	{ "\t1", 10, 0, 10, -1, 0 },
	{ "1\n", 10, 0, 10, -1, 0 },
	{ "- 1", 10, -10, 10, -1, 0 },
	/* Garbage. */
	{ "", 10, 0, 10, -1, 0 },
	{ "abc", 10, 0, 10, -1, 0 },
	{ "1a", 10, 0, 10, -1, 0 },
	{ "1.0", 10, 0, 10, -1, 0 },
	{ "1e2", 10, 0, 1000, -1, 0 },
	{ "0x10", 10, 0, 100, -1, 0 },
	{ "0x10", 8, 0, 100, -1, 0 },
	{ "8", 8, 0, 0777, -1, 0 },
	{ "09", 8, 0, 0777, -1, 0 },
	{ "1,000", 10, 0, 10000, -1, 0 },
	/* Overflow, and the length cap before strtoll is even asked. */
	{ "9223372036854775808", 10, 0, LLONG_MAX, -1, 0 },
	{ "-9223372036854775809", 10, LLONG_MIN, 0, -1, 0 },
	{ "99999999999999999999", 10, 0, LLONG_MAX, -1, 0 },
	{ "000000000000000000001", 10, 0, 10, -1, 0 },
};

static void
test_parse_ll(void **state)
{
	long long out;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < nitems(ll_cases); i++) {
		out = 4242;
		rc = parse_ll(ll_cases[i].s, ll_cases[i].base, ll_cases[i].min,
		    ll_cases[i].max, &out);
		if (rc != ll_cases[i].rc)
			fail_msg(
			    "parse_ll(\"%s\", %d, %lld, %lld): %d, want %d",
			    ll_cases[i].s, ll_cases[i].base, ll_cases[i].min,
			    ll_cases[i].max, rc, ll_cases[i].rc);
		/* On failure the output is left alone. */
		assert_int_equal(out, rc == 0 ? ll_cases[i].want : 4242);
	}
}

static void
test_parse_ll_null(void **state)
{
	long long out = 1;

	(void)state;
	assert_int_equal(parse_ll(NULL, 10, 0, 10, &out), -1);
	assert_int_equal(out, 1);
}

/* base64url */

struct b64_case {
	const char *raw;
	size_t n;
	const char *text;
};

/* RFC 4648 section 10, unpadded, and the two url-safe characters. */
static const struct b64_case b64_cases[] = {
	{ "", 0, "" },
	{ "f", 1, "Zg" },
	{ "fo", 2, "Zm8" },
	{ "foo", 3, "Zm9v" },
	{ "foob", 4, "Zm9vYg" },
	{ "fooba", 5, "Zm9vYmE" },
	{ "foobar", 6, "Zm9vYmFy" },
	{ "\xfb\xff", 2, "-_8" },
	{ "\xff\xff\xff", 3, "____" },
	{ "\0\0\0", 3, "AAAA" },
	{ "\0", 1, "AA" },
};

static void
test_b64url_vectors(void **state)
{
	char text[64];
	unsigned char raw[64];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(b64_cases); i++) {
		memset(text, 'x', sizeof(text));
		b64url_encode(text, (const unsigned char *)b64_cases[i].raw,
		    b64_cases[i].n);
		assert_string_equal(text, b64_cases[i].text);
		assert_int_equal(strlen(text), b64url_len(b64_cases[i].n));
		assert_int_equal(
		    b64url_decode(raw, sizeof(raw), b64_cases[i].text,
			strlen(b64_cases[i].text)),
		    (long)b64_cases[i].n);
		assert_memory_equal(raw, b64_cases[i].raw, b64_cases[i].n);
	}
}

static void
test_b64url_round_trip(void **state)
{
	unsigned char in[67], out[67];
	char text[b64url_len(sizeof(in)) + 1];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		b64url_encode(text, in, n);
		assert_int_equal(strlen(text), b64url_len(n));
		/* Exactly enough room is enough. */
		assert_int_equal(
		    b64url_decode(out, n, text, strlen(text)), (long)n);
		assert_memory_equal(in, out, n);
		/* One byte less is not. */
		if (n > 0)
			assert_int_equal(
			    b64url_decode(out, n - 1, text, strlen(text)), -1);
	}
}

struct b64_bad {
	const char *text;
	size_t len;
	const char *why;
};

static const struct b64_bad b64_bad[] = {
	{ "Zg==", 4, "padding" },
	{ "Zg=", 3, "padding" },
	{ "Z", 1, "one character cannot hold a byte" },
	{ "Zm9vY", 5, "length 1 mod 4" },
	{ "Zm+v", 4, "'+' is standard base64" },
	{ "Zm/v", 4, "'/' is standard base64" },
	{ "Zm 9", 4, "space" },
	{ "Zm9\n", 4, "newline" },
	{ "Zm\0v", 4, "embedded NUL" },
	{ "Zm9.", 4, "dot" },
	{ "Zm9\xc3", 4, "8-bit byte" },
	{ "Zh", 2, "non-canonical: trailing bits of one byte" },
	{ "Zg9", 3, "non-canonical: trailing bits of two bytes" },
	{ "Zm9", 3, "non-canonical: 'Zm9' sets a trailing bit" },
	{ "__", 2, "non-canonical: 0xff plus 4 set bits" },
	{ "-_9", 3, "non-canonical: two set trailing bits" },
};

static void
test_b64url_rejects(void **state)
{
	unsigned char out[16];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(b64_bad); i++)
		if (b64url_decode(out, sizeof(out), b64_bad[i].text,
			b64_bad[i].len) != -1)
			fail_msg("b64url_decode accepted %s", b64_bad[i].why);
	/* The canonical forms of the same values are fine. */
	assert_int_equal(b64url_decode(out, sizeof(out), "Zg", 2), 1);
	assert_int_equal(b64url_decode(out, sizeof(out), "Zm8", 3), 2);
	assert_int_equal(b64url_decode(out, sizeof(out), "_w", 2), 1);
	assert_int_equal(out[0], 0xff);
}

static void
test_b64url_len_only(void **state)
{
	unsigned char out[4];

	(void)state;
	/* Only len characters are read: what follows does not matter. */
	assert_int_equal(b64url_decode(out, sizeof(out), "Zm9v!!!", 4), 3);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(b64url_decode(out, sizeof(out), "", 0), 0);
}

/* utf8_valid */

struct utf8_case {
	const char *s;
	size_t len;
	int valid;
	const char *what;
};

#define U(s, v, w)                     \
	{                              \
		s, sizeof(s) - 1, v, w \
	}

static const struct utf8_case utf8_cases[] = {
	U("", 1, "empty"),
	U("plain ascii", 1, "ascii"),
	U("a\0b", 1, "NUL is a character"),
	U("\x7f", 1, "DEL"),
	U("\xc3\xa9", 1, "U+00E9"),
	U("\xc2\x80", 1, "U+0080, smallest 2-byte"),
	U("\xdf\xbf", 1, "U+07FF"),
	U("\xe0\xa0\x80", 1, "U+0800, smallest 3-byte"),
	U("\xe2\x82\xac", 1, "U+20AC"),
	U("\xed\x9f\xbf", 1, "U+D7FF, just below the surrogates"),
	U("\xee\x80\x80", 1, "U+E000, just above the surrogates"),
	U("\xef\xbf\xbf", 1, "U+FFFF"),
	U("\xf0\x90\x80\x80", 1, "U+10000, smallest 4-byte"),
	U("\xf0\x9f\x98\x80", 1, "U+1F600"),
	U("\xf4\x8f\xbf\xbf", 1, "U+10FFFF, the last code point"),
	U("Mozilla/5.0 \xe2\x80\x94 \xf0\x9f\x98\x80", 1, "mixed"),
	/* Overlongs. */
	U("\xc0\x80", 0, "overlong NUL"),
	U("\xc0\xaf", 0, "overlong '/'"),
	U("\xc1\xbf", 0, "overlong 2-byte"),
	U("\xe0\x80\x80", 0, "overlong 3-byte NUL"),
	U("\xe0\x80\xaf", 0, "overlong 3-byte '/'"),
	U("\xe0\x9f\xbf", 0, "overlong U+07FF"),
	U("\xf0\x80\x80\x80", 0, "overlong 4-byte NUL"),
	U("\xf0\x8f\xbf\xbf", 0, "overlong U+FFFF"),
	/* Surrogates. */
	U("\xed\xa0\x80", 0, "U+D800"),
	U("\xed\xbf\xbf", 0, "U+DFFF"),
	U("\xed\xa0\xbd\xed\xb8\x80", 0, "CESU-8 pair"),
	/* Beyond Unicode. */
	U("\xf4\x90\x80\x80", 0, "U+110000"),
	U("\xf5\x80\x80\x80", 0, "F5 lead"),
	U("\xf7\xbf\xbf\xbf", 0, "F7 lead"),
	U("\xf8\x88\x80\x80\x80", 0, "5-byte form"),
	U("\xfc\x84\x80\x80\x80\x80", 0, "6-byte form"),
	U("\xfe", 0, "FE"),
	U("\xff", 0, "FF"),
	/* Truncated and broken sequences. */
	U("\xc3", 0, "2-byte cut after the lead"),
	U("\xe2\x82", 0, "3-byte cut"),
	U("\xe2", 0, "3-byte lead alone"),
	U("\xf0\x9f\x98", 0, "4-byte cut"),
	U("abc\xf0\x9f", 0, "4-byte cut at the end"),
	U("\x80", 0, "lone continuation"),
	U("\xbf", 0, "lone continuation BF"),
	U("\xc3\x28", 0, "bad continuation"),
	U("\xe2\x28\xa1", 0, "bad second byte of 3"),
	U("\xe2\x82\x28", 0, "bad third byte of 3"),
	U("\xf0\x28\x8c\xbc", 0, "bad second byte of 4"),
	U("\xf0\x90\x28\xbc", 0, "bad third byte of 4"),
	U("\xf0\x90\x8c\x28", 0, "bad fourth byte of 4"),
	U("\xc3\xa9\xa9", 0, "one continuation too many"),
};

static void
test_utf8_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(utf8_cases); i++)
		if (utf8_valid(utf8_cases[i].s, utf8_cases[i].len) !=
		    utf8_cases[i].valid)
			fail_msg("utf8_valid: %s: want %d", utf8_cases[i].what,
			    utf8_cases[i].valid);
}

static void
test_utf8_valid_len(void **state)
{
	(void)state;
	/* Only len bytes count: a cut at the length is a truncation. */
	assert_int_equal(utf8_valid("\xc3\xa9", 1), 0);
	assert_int_equal(utf8_valid("\xc3\xa9", 2), 1);
	assert_int_equal(utf8_valid("ab\xff", 2), 1);
	assert_int_equal(utf8_valid(NULL, 0), 1);
}

/* text_clean */

struct clean_case {
	const char *src;
	size_t max;
	const char *want;
};

static const struct clean_case clean_cases[] = {
	{ "", 10, "" },
	{ "abc", 10, "abc" },
	{ "abc", 3, "abc" },
	{ "abc", 2, "ab" },
	{ "abc", 0, "" },
	{ "a\tb", 10, "a?b" },
	{ "a\r\nb", 10, "a??b" },
	{ "\x1b[31m", 10, "?[31m" },
	{ "\x7f", 10, "?" },
	{ "\x01\x1f ", 10, "?? " },
	{ "caf\xc3\xa9", 10, "caf\xc3\xa9" },
	/* Cut on a character boundary, never inside one. */
	{ "caf\xc3\xa9", 4, "caf" },
	{ "\xc3\xa9", 1, "" },
	{ "\xe2\x82\xac\xe2\x82\xac", 5, "\xe2\x82\xac" },
	{ "\xe2\x82\xac\xe2\x82\xac", 6, "\xe2\x82\xac\xe2\x82\xac" },
	{ "a\xf0\x9f\x98\x80", 4, "a" },
	{ "a\xf0\x9f\x98\x80", 5, "a\xf0\x9f\x98\x80" },
	/* Malformed bytes become one '?' each. */
	{ "\xff", 10, "?" },
	{ "a\xc3", 10, "a?" },
	{ "\xc0\x80", 10, "??" },
	{ "\xed\xa0\x80", 10, "???" },
	{ "\xf4\x90\x80\x80", 10, "????" },
	{ "\xe2\x82x", 10, "??x" },
	{ "\xff\xff\xff", 2, "??" },
};

static void
test_text_clean(void **state)
{
	char dst[32];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(clean_cases); i++) {
		/* Canary after the room the contract promises. */
		memset(dst, '#', sizeof(dst));
		text_clean(dst, clean_cases[i].src, clean_cases[i].max);
		if (strcmp(dst, clean_cases[i].want) != 0)
			fail_msg("text_clean row %zu: \"%s\"", i, dst);
		assert_true(strlen(dst) <= clean_cases[i].max);
		assert_int_equal(dst[clean_cases[i].max + 1], '#');
		assert_true(utf8_valid(dst, strlen(dst)));
	}
}

/* rfc3339 */

struct time_case {
	time_t t;
	const char *want;
};

static const struct time_case time_cases[] = {
	{ 0, "1970-01-01T00:00:00Z" },
	{ 1795884624, "2026-11-28T16:50:24Z" },
	{ 951782400, "2000-02-29T00:00:00Z" },
	{ 2147483647, "2038-01-19T03:14:07Z" },
	{ 4102444800LL, "2100-01-01T00:00:00Z" },
	{ -1, "1969-12-31T23:59:59Z" },
};

static void
test_rfc3339(void **state)
{
	char buf[RFC3339_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(time_cases); i++) {
		rfc3339(buf, time_cases[i].t);
		assert_string_equal(buf, time_cases[i].want);
		assert_int_equal(strlen(buf), RFC3339_LEN);
	}
}

/* Against gmtime_r + strftime: the edges, then random times. */
static void
test_rfc3339_property(void **state)
{
	static const long long edges[] = { 0, 59, 86399, 86400, 951782399,
		951782400, 951868800, 4107542400LL, 4107455999LL,
		253402214400LL, RFC3339_MAX, RFC3339_MAX + 1, -86401 };
	char got[RFC3339_LEN + 1], want[64];
	unsigned long long x = 0x9e3779b97f4a7c15ULL;
	struct tm tm;
	time_t t;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(edges) + 200000; i++) {
		if (i < nitems(edges))
			t = (time_t)edges[i];
		else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			t = (time_t)(x % (unsigned long long)(RFC3339_MAX + 1));
		}
		gmtime_r(&t, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (strlen(want) != RFC3339_LEN)
			continue; /* beyond 9999: not ours to format */
		rfc3339(got, t);
		if (strcmp(got, want) != 0)
			fail_msg(
			    "t=%lld: %s, strftime %s", (long long)t, got, want);
	}
}

/* UUIDs */

struct uuid_case {
	const char *s;
	int valid;
};

static const struct uuid_case uuid_cases[] = {
	{ "0b6c3f4e-2a1d-4c8b-9e7f-1234567890ab", 1 },
	{ "0B6C3F4E-2A1D-4C8B-9E7F-1234567890AB", 1 },
	{ "0b6C3f4E-2a1D-4c8B-9e7F-1234567890aB", 1 },
	{ "00000000-0000-0000-0000-000000000000", 1 },
	{ "ffffffff-ffff-ffff-ffff-ffffffffffff", 1 },
	{ "", 0 },
	{ "0b6c3f4e-2a1d-4c8b-9e7f-1234567890a", 0 },
	{ "0b6c3f4e-2a1d-4c8b-9e7f-1234567890abc", 0 },
	{ "0b6c3f4e-2a1d-4c8b-9e7f-1234567890ab\n", 0 },
	{ " 0b6c3f4e-2a1d-4c8b-9e7f-1234567890a", 0 },
	{ "0b6c3f4e2a1d4c8b9e7f1234567890ab", 0 },
	{ "0b6c3f4e2-a1d-4c8b-9e7f-1234567890ab", 0 },
	{ "0b6c3f4e-2a1d-4c8b-9e7f_1234567890ab", 0 },
	{ "0b6c3f4e-2a1d-4c8b-9e7f-1234567890ag", 0 },
	{ "gb6c3f4e-2a1d-4c8b-9e7f-1234567890ab", 0 },
	{ "0b6c3f4e-2a1d-4c8b-9e7f-12345678-0ab", 0 },
	{ "------------------------------------", 0 },
	{ "{b6c3f4e-2a1d-4c8b-9e7f-1234567890a}", 0 },
	{ "0b6c3f4e-2a1d-4c8b-9e7f-1234567890\xc3\xa9", 0 },
	{ "..", 0 },
};

static void
test_uuid_valid(void **state)
{
	unsigned char b[16];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(uuid_cases); i++) {
		if (uuid_valid(uuid_cases[i].s) != uuid_cases[i].valid)
			fail_msg("uuid_valid(\"%s\"): want %d", uuid_cases[i].s,
			    uuid_cases[i].valid);
		memset(b, 0xee, sizeof(b));
		assert_int_equal(uuid_to_bytes(uuid_cases[i].s, b),
		    uuid_cases[i].valid ? 0 : -1);
		if (!uuid_cases[i].valid)
			assert_int_equal(b[0], 0xee);
	}
}

static void
test_uuid_bytes(void **state)
{
	static const unsigned char want[16] = {
		0x0b,
		0x6c,
		0x3f,
		0x4e,
		0x2a,
		0x1d,
		0x4c,
		0x8b,
		0x9e,
		0x7f,
		0x12,
		0x34,
		0x56,
		0x78,
		0x90,
		0xab,
	};
	unsigned char b[16];
	char text[UUID_LEN + 1];
	size_t i, j;

	(void)state;
	assert_int_equal(
	    uuid_to_bytes("0B6C3F4E-2A1D-4C8B-9E7F-1234567890AB", b), 0);
	assert_memory_equal(b, want, sizeof(want));
	/* Back to text: always lower case. */
	uuid_from_bytes(text, b);
	assert_string_equal(text, "0b6c3f4e-2a1d-4c8b-9e7f-1234567890ab");
	assert_true(uuid_valid(text));
	/* Every byte value survives the round trip. */
	for (i = 0; i < 256; i += 16) {
		for (j = 0; j < 16; j++)
			b[j] = (unsigned char)(i + j);
		uuid_from_bytes(text, b);
		assert_true(uuid_valid(text));
		memset(b, 0, sizeof(b));
		assert_int_equal(uuid_to_bytes(text, b), 0);
		for (j = 0; j < 16; j++)
			assert_int_equal(b[j], i + j);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ll),
		cmocka_unit_test(test_parse_ll_null),
		cmocka_unit_test(test_b64url_vectors),
		cmocka_unit_test(test_b64url_round_trip),
		cmocka_unit_test(test_b64url_rejects),
		cmocka_unit_test(test_b64url_len_only),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_valid_len),
		cmocka_unit_test(test_text_clean),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_rfc3339_property),
		cmocka_unit_test(test_uuid_valid),
		cmocka_unit_test(test_uuid_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
