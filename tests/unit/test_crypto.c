/*
 * test_crypto.c: hashes and MACs against published vectors, constant-time
 * comparison, and password hashing. scrypt at our cost takes about 0.35 s
 * a call, so the password rows that reach it are few; stored hashes with a
 * low cost (made with Python's hashlib.scrypt) check the format cheaply.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "testlib.h"

static void
hex(char *out, const unsigned char *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

struct sha_case {
	const char *in;
	size_t n;
	const char *want;
};

/* FIPS 180-2 examples. */
static const struct sha_case sha_cases[] = {
	{ "", 0,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"
	    "5" },
	{ "abc", 3,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"
	    "d" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c"
	    "1" },
};

static void
test_sha256(void **state)
{
	unsigned char h[SHA256_LEN];
	char x[2 * SHA256_LEN + 1], *big;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(sha_cases); i++) {
		crypto_sha256(h, sha_cases[i].in, sha_cases[i].n);
		hex(x, h, sizeof(h));
		assert_string_equal(x, sha_cases[i].want);
	}
	/* One million 'a'. */
	assert_non_null(big = malloc(1000000));
	memset(big, 'a', 1000000);
	crypto_sha256(h, big, 1000000);
	free(big);
	hex(x, h, sizeof(h));
	assert_string_equal(x,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

struct hmac_case {
	const char *what;
	unsigned char key[131];
	size_t keylen;
	const char *msg;
	const char *want;
};

/* RFC 4231 test cases 1, 2 and 6 (HMAC-SHA-256). */
static const struct hmac_case hmac_cases[] = {
	{ "RFC 4231 case 1",
	    { 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
		0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b },
	    20, "Hi There",
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff"
	    "7" },
	{ "RFC 4231 case 2", "Jefe", 4, "what do ya want for nothing?",
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec384"
	    "3" },
	{ "RFC 4231 case 6", { 0 }, 131,
	    "Test Using Larger Than Block-Size Key - Hash Key First",
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f5"
	    "4" },
};

static void
test_hmac(void **state)
{
	unsigned char key[131], mac[SHA256_LEN];
	char x[2 * SHA256_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(hmac_cases); i++) {
		memcpy(key, hmac_cases[i].key, sizeof(key));
		if (i == 2) /* 131 bytes of 0xaa */
			memset(key, 0xaa, sizeof(key));
		crypto_hmac(mac, key, hmac_cases[i].keylen, hmac_cases[i].msg,
		    strlen(hmac_cases[i].msg));
		hex(x, mac, sizeof(mac));
		if (strcmp(x, hmac_cases[i].want) != 0)
			fail_msg("%s: %s", hmac_cases[i].what, x);
	}
}

/*
 * One MAC context serves every call: each call's key must replace the
 * last one, an empty or NULL key included.
 */
static void
test_hmac_context_reuse(void **state)
{
	static const char empty_want[] = "b613679a0814d9ec772f95d778c35fc5"
					 "ff1697c493715653c6c712144292c5ad";
	unsigned char a[SHA256_LEN], b[SHA256_LEN], again[SHA256_LEN];
	char x[2 * SHA256_LEN + 1];

	(void)state;
	crypto_hmac(a, "key-a", 5, "msg", 3);
	crypto_hmac(b, "key-b", 5, "msg", 3);
	crypto_hmac(again, "key-a", 5, "msg", 3);
	assert_memory_not_equal(a, b, SHA256_LEN);
	assert_memory_equal(a, again, SHA256_LEN);
	crypto_hmac(a, NULL, 0, "", 0);
	hex(x, a, sizeof(a));
	assert_string_equal(x, empty_want);
	crypto_hmac(b, "", 0, "", 0);
	assert_memory_equal(a, b, SHA256_LEN);
}

static void
test_equal(void **state)
{
	unsigned char a[64], b[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (unsigned char)i;
	assert_int_equal(crypto_equal(a, b, sizeof(a)), 1);
	assert_int_equal(crypto_equal(a, b, 0), 1);
	/* A difference anywhere, in any bit, counts. */
	for (i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		assert_int_equal(crypto_equal(a, b, sizeof(a)), 0);
		b[i] ^= 0x81;
		assert_int_equal(crypto_equal(a, b, sizeof(a)), 0);
		b[i] ^= 0x01;
	}
	/* Only n bytes are compared. */
	b[63] = 0;
	assert_int_equal(crypto_equal(a, b, 63), 1);
}

static void
test_random_wipe(void **state)
{
	unsigned char a[32], b[32], zero[32];

	(void)state;
	memset(zero, 0, sizeof(zero));
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(crypto_random(a, 0), 0);
	crypto_wipe(a, sizeof(a));
	assert_memory_equal(a, zero, sizeof(a));
}

/* Low-cost hashes of "correct horse", salt 00..0f, from hashlib.scrypt. */
#define PW "correct horse"
#define STORED_LN10                                     \
	"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$" \
	"nfkj3u1fRTHCea-fVr03sWV770kp5wLOLoEakziKhqE"
#define STORED_LN11                                     \
	"$scrypt$ln=11,r=4,p=2$AAECAwQFBgcICQoLDA0ODw$" \
	"rxLo99XQjfdLM_XiW6J4HA-t0BkEzlodMSGd_hwzYzo"

struct verify_case {
	const char *pw;
	const char *stored;
	int want;
};

/* Parameters travel with the hash: these cost milliseconds. */
static const struct verify_case cheap_cases[] = {
	{ PW, STORED_LN10, 1 },
	{ PW, STORED_LN11, 1 },
	{ "correct horsE", STORED_LN10, 0 },
	{ "correct hors", STORED_LN10, 0 },
	{ "correct horse ", STORED_LN11, 0 },
	{ "", STORED_LN10, 0 },
};

static void
test_pw_verify_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cheap_cases); i++)
		if (crypto_pw_verify(cheap_cases[i].pw,
			strlen(cheap_cases[i].pw),
			cheap_cases[i].stored) != cheap_cases[i].want)
			fail_msg("verify(\"%s\", row %zu): want %d",
			    cheap_cases[i].pw, i, cheap_cases[i].want);
	/* The length is what counts, not a NUL. */
	assert_int_equal(
	    crypto_pw_verify(PW "\0x", sizeof(PW) + 1, STORED_LN10), 0);
}

/*
 * Malformed stored hashes answer 0. Each still costs one scrypt at our
 * cost (an unknown or broken row must take as long as a real one), so
 * the table is short.
 */
static const char *const malformed[] = {
	"",
	"$argon2id$v=19$m=65536,t=3,p=4$AAECAwQFBgcICQoLDA0ODw$"
	"nfkj3u1fRTHCea-fVr03sWV770kp5wLOLoEakziKhqE",
	"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$"
	"nfkj3u1fRTHCea-fVr03sWV770kp5wLOLoEakziKhqE$", /* trailing */
	"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$"
	"nfkj3u1fRTHCea-fVr03sWV770kp5wLOLoEakziKhq", /* short hash */
	"$scrypt$ln=9,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$"
	"nfkj3u1fRTHCea-fVr03sWV770kp5wLOLoEakziKhqE", /* too cheap */
	"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$"
	"nfkj3u1fRTHCea-fVr03sWV770kp5wLOLoEakziKhqE", /* padded */
};

static void
test_pw_verify_malformed(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(malformed); i++)
		if (crypto_pw_verify(PW, strlen(PW), malformed[i]) != 0)
			fail_msg("malformed stored hash row %zu accepted", i);
}

/* Costs a stored row could ask for that would tie up a worker. */
static void
test_pw_verify_absurd_cost(void **state)
{
	static const char *const absurd[] = {
		"$scrypt$ln=30,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$"
		"nfkj3u1fRTHCea-fVr03sWV770kp5wLOLoEakziKhqE",
		"$scrypt$ln=10,r=8,p=99$AAECAwQFBgcICQoLDA0ODw$"
		"nfkj3u1fRTHCea-fVr03sWV770kp5wLOLoEakziKhqE",
	};
	size_t i;

	(void)state;
	/*
	 * Refused, and the dummy runs at our own cost: had it tried 2^30
	 * (128 GiB), scrypt would have failed and the answer been -1. No
	 * timing here: the machine and valgrind decide those.
	 */
	for (i = 0; i < nitems(absurd); i++)
		assert_int_equal(
		    crypto_pw_verify(PW, strlen(PW), absurd[i]), 0);
}

static void
test_pw_hash(void **state)
{
	char h[PWHASH_MAX], h2[PWHASH_MAX];

	(void)state;
	memset(h, 0xa5, sizeof(h));
	assert_int_equal(crypto_pw_hash(PW, strlen(PW), h), 0);
	assert_true(strlen(h) < PWHASH_MAX);
	assert_int_equal(strncmp(h, "$scrypt$ln=15,r=8,p=3$", 22), 0);
	assert_int_equal(crypto_pw_verify(PW, strlen(PW), h), 1);
	assert_int_equal(crypto_pw_verify("correct horsf", strlen(PW), h), 0);
	/* A fresh salt every time. */
	assert_int_equal(crypto_pw_hash(PW, strlen(PW), h2), 0);
	assert_string_not_equal(h, h2);
}

static void
test_pw_verify_null(void **state)
{
	(void)state;
	/* No such user: the same work, always no. */
	assert_int_equal(crypto_pw_verify(PW, strlen(PW), NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_hmac_context_reuse),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_random_wipe),
		cmocka_unit_test(test_pw_verify_vectors),
		cmocka_unit_test(test_pw_verify_malformed),
		cmocka_unit_test(test_pw_verify_absurd_cost),
		cmocka_unit_test(test_pw_hash),
		cmocka_unit_test(test_pw_verify_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
