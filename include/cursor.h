/*
 * cursor.h: the pagination cursor: (a, b) where a is a 64-bit number and
 * b 16 bytes, MACed with the primary key over the user id and the list
 * kind, so a client can neither forge one nor replay one against another
 * user. Any current key verifies: a key rotation does not break a paging
 * client.
 */
#ifndef CURSOR_H
#define CURSOR_H

#include "app.h"
#include "keyring.h"
#include "util.h"

struct cursor {
	long long a;
	unsigned char b[16];
};

#define CURSOR_TEXT_MAX b64url_len(1 + 8 + 16 + 16)

/* c for user uid's list kind, signed with the primary key, into out. */
void cursor_encode(char out[CURSOR_TEXT_MAX + 1], const struct keyring *,
    long long uid, char kind, const struct cursor *c);

/* Verify and decode text into *out: APP_OK or APP_ECURSOR. */
enum app_err cursor_decode(const char *text, const struct keyring *,
    long long uid, char kind, struct cursor *out);

#endif /* CURSOR_H */
