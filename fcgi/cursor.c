/*
 * cursor.c: the signed pagination cursor.
 */
#include <string.h>

#include "crypto.h"
#include "cursor.h"
#include "util.h"

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
