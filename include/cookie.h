/*
 * cookie.h: the cookies the service sets, the session cookie and the
 * device cookie: their names, attributes and values, read from a request,
 * set and cleared on its answer. Nothing else knows a cookie's name.
 *
 * Names: "sid" and "did", or over HTTPS "__Host-sid" and "__Host-did".
 * Attributes: Path=/; HttpOnly; SameSite=Lax, and Secure over HTTPS.
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
#include "req.h"

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

/*
 * The request's session cookie, verified into *out: APP_OK, or APP_EAUTH
 * when there is none, two of its name, or one that is not ours. A forged
 * cookie never reaches the database.
 */
enum app_err cookie_session_get(
    struct req *, const struct keyring *, struct cookie *out);

/*
 * The answer sets a new session cookie for (uid, token), signed with the
 * primary key, kept max_age seconds. APP_OK, or APP_EINTERNAL (logged)
 * when the answer has no room for it.
 */
enum app_err cookie_session_set(struct req *, const struct keyring *,
    long long uid, const unsigned char token[TOKEN_LEN], int max_age)
    __attribute__((warn_unused_result));

/* The answer clears the session cookie. APP_OK or APP_EINTERNAL. */
enum app_err cookie_session_clear(struct req *)
    __attribute__((warn_unused_result));

/* The request's device cookie, verified: APP_OK or APP_EAUTH. */
enum app_err cookie_device_get(
    struct req *, const struct keyring *, struct device *out);

/* The answer sets the device cookie d. APP_OK or APP_EINTERNAL. */
enum app_err cookie_device_set(struct req *, const struct keyring *,
    const struct device *d, int max_age) __attribute__((warn_unused_result));

#endif /* COOKIE_H */
