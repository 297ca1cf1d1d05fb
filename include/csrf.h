/*
 * csrf.h: the session's CSRF token: base64url(HMAC-SHA256(token, "csrf")).
 * Bound to the session secret, so no storage and no server key involved
 * (a key rotation does not change it).
 */
#ifndef CSRF_H
#define CSRF_H

#include "crypto.h"

#define CSRF_LEN 43

/* The token for the session secret token into out. */
void csrf_token(char out[CSRF_LEN + 1], const unsigned char token[TOKEN_LEN]);

/* 1 when header equals the session's CSRF token (constant time), else 0. */
int csrf_check(const char *header, const unsigned char token[TOKEN_LEN]);

#endif /* CSRF_H */
