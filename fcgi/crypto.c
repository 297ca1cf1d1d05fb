/*
 * crypto.c: OpenSSL behind a small interface.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "log.h"
#include "util.h"

/* OWASP's scrypt choice of N=2^15, r=8, p=3: 32 MiB, ~0.35 s here. */
#define KDF_LN	   15
#define KDF_R	   8
#define KDF_P	   3
#define KDF_LN_MAX 20 /* refuse stored costs that could DoS */
#define KDF_P_MAX  16
#define SALT_LEN   16
#define DK_LEN	   32

int
crypto_random(void *buf, size_t n)
{
	if (n > INT32_MAX || RAND_bytes(buf, (int)n) != 1) {
		log_err("msg=\"RAND_bytes failed\"");
		return -1;
	}
	return 0;
}

/*
 * The digest and MAC are fetched from the provider once per process, and
 * one context of each is reused: OpenSSL 3's one-shot SHA256() and HMAC()
 * look the algorithm up and allocate a context on every call, which the
 * session check pays several times per request. Workers are single
 * threaded, so one context each is enough.
 */
static EVP_MD *sha256_md;
static EVP_MD_CTX *sha256_ctx;
static EVP_MAC *hmac_mac;
static EVP_MAC_CTX *hmac_ctx;

/* Failure here means the OpenSSL installation is broken: nothing to serve. */
static void
crypto_fatal(const char *what)
{
	log_err("msg=\"OpenSSL failed\" op=%s", log_q(what));
	abort();
}

static void
crypto_init_contexts(void)
{
	OSSL_PARAM params[2];

	if ((sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (sha256_ctx = EVP_MD_CTX_new()) == NULL)
		crypto_fatal("EVP_MD_fetch");
	if ((hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (hmac_ctx = EVP_MAC_CTX_new(hmac_mac)) == NULL)
		crypto_fatal("EVP_MAC_fetch");
	/* The digest is set once; each call only supplies its key. */
	params[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hmac_ctx, params) != 1)
		crypto_fatal("EVP_MAC_CTX_set_params");
}

void
crypto_sha256(unsigned char out[SHA256_LEN], const void *in, size_t n)
{
	if (sha256_ctx == NULL)
		crypto_init_contexts();
	if (EVP_DigestInit_ex2(sha256_ctx, sha256_md, NULL) != 1 ||
	    EVP_DigestUpdate(sha256_ctx, in, n) != 1 ||
	    EVP_DigestFinal_ex(sha256_ctx, out, NULL) != 1)
		crypto_fatal("SHA-256");
}

void
crypto_hmac(unsigned char out[SHA256_LEN], const void *key, size_t keylen,
    const void *msg, size_t n)
{
	size_t outlen;

	if (hmac_ctx == NULL)
		crypto_init_contexts();
	/* A NULL key would make EVP_MAC_init keep the previous call's key. */
	if (key == NULL)
		key = "";
	if (EVP_MAC_init(hmac_ctx, key, keylen, NULL) != 1 ||
	    EVP_MAC_update(hmac_ctx, msg, n) != 1 ||
	    EVP_MAC_final(hmac_ctx, out, &outlen, SHA256_LEN) != 1 ||
	    outlen != SHA256_LEN)
		crypto_fatal("HMAC-SHA256");
}

int
crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
crypto_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

static int
scrypt(const char *pw, size_t len, const unsigned char *salt, size_t saltlen,
    int ln, int r, int p, unsigned char out[DK_LEN])
{
	uint64_t maxmem;

	/* scrypt needs 128 * r * (N + p) bytes; allow exactly that, plus slack. */
	maxmem =
	    128ULL * (uint64_t)r * ((1ULL << ln) + (uint64_t)p) + (1 << 20);
	if (EVP_PBE_scrypt(pw, len, salt, saltlen, 1ULL << ln, (uint64_t)r,
		(uint64_t)p, maxmem, out, DK_LEN) != 1) {
		log_err("msg=\"scrypt failed\"");
		return -1;
	}
	return 0;
}

int
crypto_pw_hash(const char *pw, size_t len, char out[PWHASH_MAX])
{
	unsigned char salt[SALT_LEN], dk[DK_LEN];
	char s64[b64url_len(SALT_LEN) + 1], d64[b64url_len(DK_LEN) + 1];

	if (crypto_random(salt, sizeof(salt)) != 0 ||
	    scrypt(pw, len, salt, sizeof(salt), KDF_LN, KDF_R, KDF_P, dk) != 0)
		return -1;
	b64url_encode(s64, salt, sizeof(salt));
	b64url_encode(d64, dk, sizeof(dk));
	crypto_wipe(dk, sizeof(dk));
	snprintf(out, PWHASH_MAX, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", KDF_LN,
	    KDF_R, KDF_P, s64, d64);
	return 0;
}

/* Parse "$scrypt$ln=L,r=R,p=P$salt$hash"; 0 on success. */
static int
parse_stored(const char *stored, int *ln, int *r, int *p,
    unsigned char salt[SALT_LEN], unsigned char dk[DK_LEN])
{
	char s64[64], d64[64];
	int n = 0;

	if (strlen(stored) >= PWHASH_MAX)
		return -1;
	/*
	 * banned-ok(sscanf): every conversion has a width (%2d cannot
	 * overflow, %63[...] fits s64/d64) and the ranges are checked below.
	 */
	/* NOLINTNEXTLINE(cert-err34-c): %2d cannot overflow; checked below */
	if (sscanf(stored,
		"$scrypt$ln=%2d,r=%2d,p=%2d$%63[A-Za-z0-9_-]$"
		"%63[A-Za-z0-9_-]%n",
		ln, r, p, s64, d64, &n) != 5 ||
	    stored[n] != '\0')
		return -1;
	if (*ln < 10 || *ln > KDF_LN_MAX || *r < 1 || *r > 32 || *p < 1 ||
	    *p > KDF_P_MAX)
		return -1;
	if (b64url_decode(salt, SALT_LEN, s64, strlen(s64)) != SALT_LEN ||
	    b64url_decode(dk, DK_LEN, d64, strlen(d64)) != DK_LEN)
		return -1;
	return 0;
}

int
crypto_pw_verify(const char *pw, size_t len, const char *stored)
{
	unsigned char salt[SALT_LEN], want[DK_LEN], got[DK_LEN];
	int ln = KDF_LN, r = KDF_R, p = KDF_P, dummy, rc;

	/* Unknown user or a broken row: same work, always "no". */
	dummy = stored == NULL ||
	    parse_stored(stored, &ln, &r, &p, salt, want) != 0;
	if (dummy) {
		ln = KDF_LN;
		r = KDF_R;
		p = KDF_P;
		memset(salt, 0x5a, sizeof(salt));
		memset(want, 0, sizeof(want));
	}
	if (scrypt(pw, len, salt, sizeof(salt), ln, r, p, got) != 0)
		return -1;
	rc = crypto_equal(got, want, DK_LEN) && !dummy;
	crypto_wipe(got, sizeof(got));
	return rc;
}
