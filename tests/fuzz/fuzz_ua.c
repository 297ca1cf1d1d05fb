/*
 * fuzz_ua.c: libFuzzer harness for ua_parse().
 *
 * The input is up to four NUL-separated parts: User-Agent, Sec-CH-UA,
 * Sec-CH-UA-Platform, Sec-CH-UA-Mobile. Parts the input does not reach
 * are NULL, which ua_parse() must take as well. Besides the sanitizers'
 * reports, it aborts when an output field is empty, unterminated, or holds
 * a byte our own names and numbers cannot: input must never reach output.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ua.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_field(const char *f)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < UA_FIELD_MAX && f[i] != '\0'; i++) {
		c = (unsigned char)f[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == ' '))
			abort();
	}
	if (i == 0 || i == UA_FIELD_MAX)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ua_info info;
	char *buf, *part[4];
	size_t i, n;

	/* An exact-size copy plus its NUL, so ASan sees any over-read. */
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);
	buf[size] = '\0';

	part[0] = buf;
	n = 1;
	for (i = 0; i < size && n < 4; i++)
		if (buf[i] == '\0')
			part[n++] = buf + i + 1;
	for (; n < 4; n++)
		part[n] = NULL;

	memset(&info, 0xa5, sizeof(info));
	ua_parse(part[0], part[1], part[2], part[3], &info);
	check_field(info.browser);
	check_field(info.os);
	check_field(info.device);

	free(buf);
	return 0;
}
