/*
 * crypto.h: the only OpenSSL user besides cookie.c. Random bytes, SHA-256,
 * HMAC-SHA256, constant-time comparison and password hashing.
 */
#ifndef CRYPTO_H
#define CRYPTO_H

#include <stddef.h>

#define SHA256_LEN 32
#define TOKEN_LEN  32 /* 256-bit session token */

/* n bytes from the OpenSSL CSPRNG. Returns 0, or -1 (logged). */
int crypto_random(void *buf, size_t n);

void crypto_sha256(unsigned char out[SHA256_LEN], const void *in, size_t n);

void crypto_hmac(unsigned char out[SHA256_LEN], const void *key, size_t keylen,
    const void *msg, size_t n);

/* 1 when a and b (n bytes each) are equal; time independent of content. */
int crypto_equal(const void *a, const void *b, size_t n);

/* Wipe a secret. */
void crypto_wipe(void *p, size_t n);

/*
 * Password hashes are "$scrypt$ln=15,r=8,p=3$<salt>$<hash>" (base64url):
 * the parameters travel with the hash so that they can be raised later.
 */
#define PWHASH_MAX 128

/* Hash pw (len bytes) with a fresh salt into out. Returns 0 or -1. */
int crypto_pw_hash(const char *pw, size_t len, char out[PWHASH_MAX]);

/*
 * 1 when pw matches stored, 0 when it does not or stored is malformed,
 * -1 on an internal error. With stored NULL it does the same work against
 * a dummy hash and returns 0, so that an unknown user costs the same time.
 */
int crypto_pw_verify(const char *pw, size_t len, const char *stored);

#endif /* CRYPTO_H */
