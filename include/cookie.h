/*
 * cookie.h: the signed session cookie and the device cookie.
 *
 * Cookie value: "v1.<kid>.<uid>.<token>.<mac>", where token is the 256-bit
 * session secret and mac = HMAC-SHA256(key[kid], "v1.<kid>.<uid>.<token>"),
 * both unpadded base64url. The user id rides next to the token so that
 * every query can name the user; the signature is checked (constant time)
 * before anything touches the database. The keys are keyring.h's.
 */
#ifndef COOKIE_H
#define COOKIE_H

#include <stddef.h>

#include "app.h"
#include "bounds.h"
#include "crypto.h"
#include "keyring.h"

struct cookie {
	long long uid;
	unsigned char token[TOKEN_LEN];
	unsigned char token_hash[SHA256_LEN];
	size_t key_index; /* which key verified it */
};

/* Longest value cookie_make writes, without the NUL. */
#define COOKIE_VALUE_MAX (3 + KID_MAX + 1 + 20 + 1 + 43 + 1 + 43)

/*
 * Verify and decode a cookie value. Returns APP_OK or APP_EAUTH for
 * anything else (length, shape, unknown kid, bad MAC). No allocation.
 */
enum app_err cookie_parse(
    const char *value, const struct keyring *, struct cookie *out);

/* Sign (uid, token) with the primary key into out. */
void cookie_make(char out[COOKIE_VALUE_MAX + 1], const struct keyring *,
    long long uid, const unsigned char token[TOKEN_LEN]);

/*
 * The device cookie (OWASP's defence against lockout by strangers): a
 * random device id signed for one user, "d1.<kid>.<uid>.<id>.<mac>" with
 * the same keys as the session cookie. It grants nothing but its own
 * budget of failed logins for that user (sql/003-account.sql). The id is
 * 16 random bytes, stored as a UUID (uuid_from_bytes; sessions.device_id).
 */
#define DEVICE_ID_LEN	  16
#define DEVICE_COOKIE_MAX (3 + KID_MAX + 1 + 20 + 1 + 22 + 1 + 43)

struct device {
	long long uid;
	unsigned char id[DEVICE_ID_LEN];
};

void device_cookie_make(char out[DEVICE_COOKIE_MAX + 1], const struct keyring *,
    const struct device *);

/* Verify and decode; APP_OK or APP_EAUTH, like cookie_parse. */
enum app_err device_cookie_parse(
    const char *value, const struct keyring *, struct device *out);

#endif /* COOKIE_H */
