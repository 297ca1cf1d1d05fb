/*
 * keyring.h: the server's keys, which sign the cookies (cookie.h) and the
 * pagination cursors (cursor.h). Several keys are accepted at once, the
 * first signs: that is how keys rotate without logging anyone out.
 *
 * Keys file: one key per line, "<kid>:<base64url of 32..64 bytes>", '#'
 * comments; kid is 1..16 of [A-Za-z0-9_-]. First key = primary.
 */
#ifndef KEYRING_H
#define KEYRING_H

#include <stddef.h>

#include "bounds.h"

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

#endif /* KEYRING_H */
