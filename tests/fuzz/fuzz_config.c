/*
 * fuzz_config.c: libFuzzer harness for config_set() and keyring_parse().
 *
 * config_set() gets the input split at its first '=' (key before, value
 * after; no '=' gives an empty value); keyring_parse() gets the whole
 * input as a keys file. Besides the sanitizers' reports it aborts when an
 * accepted setting leaves a string unterminated or an accepted keyring
 * breaks cookie.h's rules (1..KEYS_MAX keys of KEY_MIN..KEY_MAX bytes,
 * kids of 1..KID_MAX of [A-Za-z0-9_-], no kid twice), or when an error
 * message is not a terminated string.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "keyring.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_err(const char *err, size_t len)
{
	if (memchr(err, '\0', len) == NULL)
		abort();
}

static void
check_config(char *buf)
{
	struct config cfg;
	char err[256], *eq;
	const char *value = "";

	if ((eq = strchr(buf, '=')) != NULL) {
		*eq = '\0';
		value = eq + 1;
	}
	config_defaults(&cfg);
	memset(err, 'x', sizeof(err));
	if (config_set(&cfg, buf, value, err, sizeof(err)) != 0) {
		check_err(err, sizeof(err));
		return;
	}
	if (memchr(cfg.listen, '\0', sizeof(cfg.listen)) == NULL ||
	    memchr(cfg.database, '\0', sizeof(cfg.database)) == NULL ||
	    memchr(cfg.keys_file, '\0', sizeof(cfg.keys_file)) == NULL ||
	    memchr(cfg.notify_command, '\0', sizeof(cfg.notify_command)) ==
		NULL ||
	    memchr(cfg.notify_state_file, '\0',
		sizeof(cfg.notify_state_file)) == NULL)
		abort();
	if (cfg.socket_mode < 0 || cfg.socket_mode > 0777 || cfg.workers < 0 ||
	    cfg.idle_timeout < 60 || cfg.max_sessions < 1 ||
	    cfg.touch_interval < 1)
		abort();
}

static void
check_keys(const char *text)
{
	struct keyring kr;
	char err[256];
	size_t i, j, n;

	memset(err, 'x', sizeof(err));
	if (keyring_parse(&kr, text, err, sizeof(err)) != 0) {
		check_err(err, sizeof(err));
		return;
	}
	if (kr.n < 1 || kr.n > KEYS_MAX)
		abort();
	for (i = 0; i < kr.n; i++) {
		n = strnlen(kr.keys[i].kid, sizeof(kr.keys[i].kid));
		if (n == 0 || n > KID_MAX ||
		    strspn(kr.keys[i].kid,
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
			abort();
		if (kr.keys[i].len < KEY_MIN || kr.keys[i].len > KEY_MAX)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(kr.keys[i].kid, kr.keys[j].kid) == 0)
				abort();
	}
	keyring_wipe(&kr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);
	buf[size] = '\0';
	check_keys(buf);
	check_config(buf); /* last: it cuts buf at the '=' */
	free(buf);
	return 0;
}
