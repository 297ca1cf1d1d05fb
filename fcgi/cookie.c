/*
 * cookie.c: keys, signed cookies, CSRF tokens and signed cursors.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cookie.h"
#include "util.h"

#define KEYS_FILE_MAX 8192

static int
kid_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > KID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

int
keyring_parse(struct keyring *kr, const char *text, char *err, size_t errlen)
{
	const char *line = text, *end, *colon;
	size_t i, len, lineno = 0;
	long n;

	memset(kr, 0, sizeof(*kr));
	for (; *line != '\0'; line = *end ? end + 1 : end) {
		lineno++;
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		len = (size_t)(end - line);
		while (len > 0 && isspace((unsigned char)line[len - 1]))
			len--;
		if (len == 0 || line[0] == '#')
			continue;
		colon = memchr(line, ':', len);
		if (colon == NULL || !kid_valid(line, (size_t)(colon - line))) {
			snprintf(err, errlen,
			    "keys line %zu: expected "
			    "<kid>:<base64url key>",
			    lineno);
			return -1;
		}
		if (kr->n == KEYS_MAX) {
			snprintf(
			    err, errlen, "keys: more than %d keys", KEYS_MAX);
			return -1;
		}
		memcpy(kr->keys[kr->n].kid, line, (size_t)(colon - line));
		n = b64url_decode(kr->keys[kr->n].secret, KEY_MAX, colon + 1,
		    len - (size_t)(colon - line) - 1);
		if (n < KEY_MIN) {
			snprintf(err, errlen,
			    "keys line %zu: key must be "
			    "%d..%d bytes of base64url",
			    lineno, KEY_MIN, KEY_MAX);
			return -1;
		}
		for (i = 0; i < kr->n; i++)
			if (strcmp(kr->keys[i].kid, kr->keys[kr->n].kid) == 0) {
				snprintf(err, errlen,
				    "keys line %zu: "
				    "duplicate key id",
				    lineno);
				return -1;
			}
		kr->keys[kr->n++].len = (size_t)n;
	}
	if (kr->n == 0) {
		snprintf(err, errlen, "keys: no key");
		return -1;
	}
	return 0;
}

int
keyring_load(struct keyring *kr, const char *path, char *err, size_t errlen)
{
	char buf[KEYS_FILE_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(
		    err, errlen, "keys_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || (st.st_mode & (S_IWGRP | S_IRWXO))) {
		snprintf(err, errlen,
		    "keys_file %s: must not be group-"
		    "writable nor readable by others (chmod 600 or 640)",
		    path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > KEYS_FILE_MAX) {
		snprintf(
		    err, errlen, "keys_file %s: unreadable or too large", path);
		return -1;
	}
	buf[n] = '\0';
	rc = keyring_parse(kr, buf, err, errlen);
	crypto_wipe(buf, sizeof(buf));
	return rc;
}

void
keyring_wipe(struct keyring *kr)
{
	crypto_wipe(kr, sizeof(*kr));
}

int
keyring_generate(char *out, size_t outlen, const char *kid)
{
	unsigned char k[KEY_MIN];
	char k64[b64url_len(KEY_MIN) + 1];
	int n;

	if (!kid_valid(kid, strlen(kid)) || crypto_random(k, sizeof(k)) != 0)
		return -1;
	b64url_encode(k64, k, sizeof(k));
	crypto_wipe(k, sizeof(k));
	n = snprintf(out, outlen, "%s:%s", kid, k64);
	crypto_wipe(k64, sizeof(k64));
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
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

void
csrf_token(char out[CSRF_LEN + 1], const unsigned char token[TOKEN_LEN])
{
	unsigned char mac[SHA256_LEN];

	crypto_hmac(mac, token, TOKEN_LEN, "csrf", 4);
	b64url_encode(out, mac, sizeof(mac));
}

int
csrf_check(const char *header, const unsigned char token[TOKEN_LEN])
{
	char want[CSRF_LEN + 1];

	if (header == NULL || strlen(header) != CSRF_LEN)
		return 0;
	csrf_token(want, token);
	return crypto_equal(header, want, CSRF_LEN);
}

#define CURSOR_BIN (1 + 8 + 16)
#define CURSOR_MAC 16

static void
cursor_mac(unsigned char out[SHA256_LEN], const struct key *k, long long uid,
    const unsigned char bin[CURSOR_BIN])
{
	unsigned char msg[8 + CURSOR_BIN];
	size_t i;

	for (i = 0; i < 8; i++)
		msg[i] =
		    (unsigned char)((unsigned long long)uid >> (56 - 8 * i));
	memcpy(msg + 8, bin, CURSOR_BIN);
	crypto_hmac(out, k->secret, k->len, msg, sizeof(msg));
}

void
cursor_encode(char out[CURSOR_TEXT_MAX + 1], const struct keyring *kr,
    long long uid, char kind, const struct cursor *c)
{
	unsigned char bin[CURSOR_BIN + CURSOR_MAC], mac[SHA256_LEN];
	size_t i;

	bin[0] = (unsigned char)kind;
	for (i = 0; i < 8; i++)
		bin[1 + i] =
		    (unsigned char)((unsigned long long)c->a >> (56 - 8 * i));
	memcpy(bin + 9, c->b, 16);
	cursor_mac(mac, &kr->keys[0], uid, bin);
	memcpy(bin + CURSOR_BIN, mac, CURSOR_MAC);
	b64url_encode(out, bin, sizeof(bin));
}

enum app_err
cursor_decode(const char *text, const struct keyring *kr, long long uid,
    char kind, struct cursor *out)
{
	unsigned char bin[CURSOR_BIN + CURSOR_MAC], mac[SHA256_LEN];
	unsigned long long a = 0;
	size_t i;

	if (strlen(text) != CURSOR_TEXT_MAX ||
	    b64url_decode(bin, sizeof(bin), text, CURSOR_TEXT_MAX) !=
		(long)sizeof(bin) ||
	    bin[0] != (unsigned char)kind)
		return APP_ECURSOR;
	/* Any current key: a rotation does not break a paging client. */
	for (i = 0; i < kr->n; i++) {
		cursor_mac(mac, &kr->keys[i], uid, bin);
		if (crypto_equal(mac, bin + CURSOR_BIN, CURSOR_MAC))
			break;
	}
	if (i == kr->n)
		return APP_ECURSOR;
	for (i = 0; i < 8; i++)
		a = a << 8 | bin[1 + i];
	out->a = (long long)a;
	memcpy(out->b, bin + 9, 16);
	return APP_OK;
}
