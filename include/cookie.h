/*
 * cookie.h: server keys, the signed session cookie, the CSRF token and the
 * signed pagination cursor.
 *
 * Cookie value: "v1.<kid>.<uid>.<token>.<mac>", where token is the 256-bit
 * session secret and mac = HMAC-SHA256(key[kid], "v1.<kid>.<uid>.<token>"),
 * both unpadded base64url. The user id rides next to the token so that
 * every query can name the user; the signature is checked (constant time)
 * before anything touches the database. Several keys are accepted at once,
 * the first signs: that is how keys rotate without logging anyone out.
 *
 * Keys file: one key per line, "<kid>:<base64url of 32..64 bytes>", '#'
 * comments; kid is 1..16 of [A-Za-z0-9_-]. First key = primary.
 */
#ifndef COOKIE_H
#define COOKIE_H

#include <stddef.h>

#include "app.h"
#include "bounds.h"
#include "crypto.h"
#include "util.h"

#define KEY_MIN 32
#define KEY_MAX 64

struct key {
	char kid[KID_MAX + 1];
	unsigned char secret[KEY_MAX];
	size_t len;
};

struct keyring {
	struct key keys[KEYS_MAX];
	size_t n; /* keys[0] signs */
};

/*
 * Load the keys file: it must exist, hold at least one key, and not be
 * readable or writable by others. Returns 0, or -1 with a message.
 */
int keyring_load(struct keyring *, const char *path, char *err, size_t errlen);

/* Parse keys from text (the file's contents). Returns 0 or -1. */
int keyring_parse(struct keyring *, const char *text, char *err, size_t errlen);

void keyring_wipe(struct keyring *);

/* A new key line "<kid>:<secret>" (no newline) into out. 0 or -1. */
int keyring_generate(char *out, size_t outlen, const char *kid);

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
 * The session's CSRF token: base64url(HMAC-SHA256(token, "csrf")). Bound
 * to the session secret, so no storage and no server key involved (a key
 * rotation does not change it).
 */
#define CSRF_LEN 43
void csrf_token(char out[CSRF_LEN + 1], const unsigned char token[TOKEN_LEN]);

/* 1 when header equals the session's CSRF token (constant time). */
int csrf_check(const char *header, const unsigned char token[TOKEN_LEN]);

/*
 * Pagination cursor: (a, b) where a is a 64-bit number and b 16 bytes,
 * MACed with the primary key over the user id and the list kind, so a
 * client can neither forge one nor replay one against another user.
 */
struct cursor {
	long long a;
	unsigned char b[16];
};

#define CURSOR_TEXT_MAX b64url_len(1 + 8 + 16 + 16)
void cursor_encode(char out[CURSOR_TEXT_MAX + 1], const struct keyring *,
    long long uid, char kind, const struct cursor *);
enum app_err cursor_decode(const char *text, const struct keyring *,
    long long uid, char kind, struct cursor *out);

#endif /* COOKIE_H */
