/*
 * keyring.c: the server's keys: the keys file, its parsing and new keys.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "keyring.h"
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
