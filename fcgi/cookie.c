/*
 * cookie.c: the session and device cookies: names, attributes, signed
 * values, read, set and clear.
 */
#include <stdio.h>
#include <string.h>

#include "cookie.h"
#include "crypto.h"
#include "req.h"
#include "util.h"

#define SESSION_NAME	    "sid"
#define SESSION_NAME_SECURE "__Host-sid"
#define DEVICE_NAME	    "did"
#define DEVICE_NAME_SECURE  "__Host-did"

static const char *
session_name(const struct req *r)
{
	return r->https ? SESSION_NAME_SECURE : SESSION_NAME;
}

static const char *
device_name(const struct req *r)
{
	return r->https ? DEVICE_NAME_SECURE : DEVICE_NAME;
}

/* The one place the attributes are written. */
static enum app_err
set_cookie(struct req *r, const char *name, const char *value, int max_age)
{
	return resp_header(r,
	    "Set-Cookie: %s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
	    name, value, max_age, r->https ? "; Secure" : "");
}

/* The value of cookie name in the request, or NULL. */
static const char *
get_cookie(struct req *r, const char *name)
{
	if (r->cookies == NULL)
		return NULL;
	return req_cookie(r->arena, r->cookies, name);
}

static void
mac_text(
    unsigned char out[SHA256_LEN], const struct key *k, const char *s, size_t n)
{
	crypto_hmac(out, k->secret, k->len, s, n);
}

/*
 * A signed value "<ver>.<kid>.<uid>.<payload>.<mac>" with payload n bytes
 * (base64url) and mac = HMAC-SHA256(key, everything before ".<mac>").
 * The version prefix keeps one kind of cookie from passing as another.
 */
static void
signed_make(char *out, size_t outlen, const char *ver, const struct keyring *kr,
    long long uid, const unsigned char *payload, size_t plen)
{
	unsigned char mac[SHA256_LEN];
	char p64[b64url_len(TOKEN_LEN) + 1];
	int n;

	b64url_encode(p64, payload, plen);
	n = snprintf(
	    out, outlen, "%s.%s.%lld.%s", ver, kr->keys[0].kid, uid, p64);
	mac_text(mac, &kr->keys[0], out, (size_t)n);
	out[n++] = '.';
	b64url_encode(out + n, mac, sizeof(mac));
	crypto_wipe(p64, sizeof(p64));
}

/* Length, shape, key, MAC (constant time), then decode; no allocation. */
static enum app_err
signed_parse(const char *v, size_t vmax, const char *ver,
    const struct keyring *kr, long long *uidp, unsigned char *payload,
    size_t plen, size_t *key_index)
{
	unsigned char mac[SHA256_LEN], want[SHA256_LEN];
	const char *kid, *uid, *tok, *sig;
	size_t i, vl = strlen(ver);
	char num[21];
	long long u;

	/* Length first: nothing longer than ours is worth a look. */
	if (v == NULL || strlen(v) > vmax || strncmp(v, ver, vl) != 0 ||
	    v[vl] != '.')
		return APP_EAUTH;
	kid = v + vl + 1;
	if ((uid = strchr(kid, '.')) == NULL ||
	    (tok = strchr(++uid, '.')) == NULL ||
	    (sig = strchr(++tok, '.')) == NULL)
		return APP_EAUTH;
	sig++;
	if ((size_t)(sig - tok - 1) != b64url_len(plen) ||
	    strlen(sig) != b64url_len(SHA256_LEN) || tok - uid - 1 <= 0 ||
	    (size_t)(tok - uid - 1) >= sizeof(num))
		return APP_EAUTH;
	for (i = 0; i < kr->n; i++)
		if (strlen(kr->keys[i].kid) == (size_t)(uid - kid - 1) &&
		    memcmp(kr->keys[i].kid, kid, (size_t)(uid - kid - 1)) == 0)
			break;
	if (i == kr->n)
		return APP_EAUTH;
	if (b64url_decode(mac, sizeof(mac), sig, strlen(sig)) != SHA256_LEN)
		return APP_EAUTH;
	mac_text(want, &kr->keys[i], v, (size_t)(sig - v - 1));
	if (!crypto_equal(mac, want, SHA256_LEN))
		return APP_EAUTH;

	/* Signed by us: now decode. */
	memcpy(num, uid, (size_t)(tok - uid - 1));
	num[tok - uid - 1] = '\0';
	if (parse_ll(num, 10, 1, INT64_MAX, &u) != 0 ||
	    b64url_decode(payload, plen, tok, b64url_len(plen)) != (long)plen)
		return APP_EAUTH;
	*uidp = u;
	*key_index = i;
	return APP_OK;
}

void
cookie_make(char out[COOKIE_VALUE_MAX + 1], const struct keyring *kr,
    long long uid, const unsigned char token[TOKEN_LEN])
{
	signed_make(out, COOKIE_VALUE_MAX + 1, "v1", kr, uid, token, TOKEN_LEN);
}

enum app_err
cookie_parse(const char *v, const struct keyring *kr, struct cookie *out)
{
	enum app_err err;

	err = signed_parse(v, COOKIE_VALUE_MAX, "v1", kr, &out->uid, out->token,
	    TOKEN_LEN, &out->key_index);
	if (err != APP_OK)
		return err;
	crypto_sha256(out->token_hash, out->token, TOKEN_LEN);
	return APP_OK;
}

void
device_cookie_make(char out[DEVICE_COOKIE_MAX + 1], const struct keyring *kr,
    const struct device *d)
{
	signed_make(
	    out, DEVICE_COOKIE_MAX + 1, "d1", kr, d->uid, d->id, DEVICE_ID_LEN);
}

enum app_err
device_cookie_parse(const char *v, const struct keyring *kr, struct device *out)
{
	size_t ki;

	return signed_parse(v, DEVICE_COOKIE_MAX, "d1", kr, &out->uid, out->id,
	    DEVICE_ID_LEN, &ki);
}

enum app_err
cookie_session_get(struct req *r, const struct keyring *kr, struct cookie *out)
{
	const char *v = get_cookie(r, session_name(r));

	if (v == NULL)
		return APP_EAUTH;
	return cookie_parse(v, kr, out);
}

enum app_err
cookie_session_set(struct req *r, const struct keyring *kr, long long uid,
    const unsigned char token[TOKEN_LEN], int max_age)
{
	char value[COOKIE_VALUE_MAX + 1];
	enum app_err err;

	cookie_make(value, kr, uid, token);
	err = set_cookie(r, session_name(r), value, max_age);
	crypto_wipe(value, sizeof(value));
	return err;
}

enum app_err
cookie_session_clear(struct req *r)
{
	return set_cookie(r, session_name(r), "", 0);
}

enum app_err
cookie_device_get(struct req *r, const struct keyring *kr, struct device *out)
{
	const char *v = get_cookie(r, device_name(r));

	if (v == NULL)
		return APP_EAUTH;
	return device_cookie_parse(v, kr, out);
}

enum app_err
cookie_device_set(struct req *r, const struct keyring *kr,
    const struct device *d, int max_age)
{
	char value[DEVICE_COOKIE_MAX + 1];

	device_cookie_make(value, kr, d);
	return set_cookie(r, device_name(r), value, max_age);
}
