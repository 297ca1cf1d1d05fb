/*
 * fuzz_cookie.c: libFuzzer harness for cookie_parse(),
 * device_cookie_parse(), cursor_decode() and csrf_check() against a fixed
 * keyring.
 *
 * The whole input is the value. Besides the sanitizers' reports it aborts
 * when a value is accepted that is not exactly what cookie_make() or
 * cursor_encode() would write for what it decoded to: one encoding per
 * value, so a client cannot vary a signed value it did not sign (the
 * device cookie likewise with device_cookie_make()). (The
 * seed corpus holds values signed with these keys, so the accepting paths
 * are reached.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "csrf.h"
#include "cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* k1 (32 x 0x11) signs; k0 (32 x 0x22) is the older key. */
#define K1 "k1:ERERERERERERERERERERERERERERERERERERERERERE\n"
#define K0 "k0:IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI\n"

static struct keyring ring, ring_k0;
static unsigned char tok0[TOKEN_LEN];

static void
init(void)
{
	static int done;
	char err[128];

	if (done)
		return;
	if (keyring_parse(&ring, K1 K0, err, sizeof(err)) != 0 ||
	    keyring_parse(&ring_k0, K0, err, sizeof(err)) != 0)
		abort();
	done = 1;
}

static void
check_cookie(const char *v)
{
	struct cookie c;
	char again[COOKIE_VALUE_MAX + 1];

	if (cookie_parse(v, &ring, &c) != APP_OK)
		return;
	if (c.uid < 1 || c.key_index > 1)
		abort();
	cookie_make(again, c.key_index == 0 ? &ring : &ring_k0, c.uid, c.token);
	if (strcmp(again, v) != 0)
		abort();
}

static void
check_device(const char *v)
{
	struct device d;
	char again[DEVICE_COOKIE_MAX + 1];

	if (device_cookie_parse(v, &ring, &d) != APP_OK)
		return;
	if (d.uid < 1)
		abort();
	/* Accepted under k1 or k0: the same text from one of them. */
	device_cookie_make(again, &ring, &d);
	if (strcmp(again, v) == 0)
		return;
	device_cookie_make(again, &ring_k0, &d);
	if (strcmp(again, v) != 0)
		abort();
}

static void
check_cursor(const char *v, char kind)
{
	struct cursor c;
	char again[CURSOR_TEXT_MAX + 1];

	if (cursor_decode(v, &ring, 42, kind, &c) != APP_OK)
		return;
	/* Accepted under k1 or k0: the same text from one of them. */
	cursor_encode(again, &ring, 42, kind, &c);
	if (strcmp(again, v) == 0)
		return;
	cursor_encode(again, &ring_k0, 42, kind, &c);
	if (strcmp(again, v) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	init();
	/* An exact-size copy plus its NUL, so ASan sees any over-read. */
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);
	buf[size] = '\0';

	check_cookie(buf);
	check_device(buf);
	check_cursor(buf, 's');
	check_cursor(buf, 'a');
	/* tok0 is all zero bytes; its CSRF token is in the corpus. */
	(void)csrf_check(buf, tok0);

	free(buf);
	return 0;
}
