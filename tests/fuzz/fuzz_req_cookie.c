/*
 * fuzz_req_cookie.c: libFuzzer harness for req_cookie(), the Cookie
 * header.
 *
 * The input is the header; both of our cookie names are looked up in it.
 * Besides the sanitizers' reports it aborts when a value comes back that
 * req.h rules out: empty, over COOKIE_MAX, holding a ';', ending in
 * blanks, or not found in the header right after "<name>=".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "req.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(struct arena *a, const char *h, const char *name)
{
	const char *v, *p;
	size_t n, nlen = strlen(name);

	if ((v = req_cookie(a, h, name)) == NULL)
		return;
	n = strlen(v);
	if (n == 0 || n > COOKIE_MAX || strchr(v, ';') != NULL ||
	    v[n - 1] == ' ' || v[n - 1] == '\t' || strlen(h) > COOKIE_HDR_MAX)
		abort();
	/* The value sits in the header right after "name=". */
	for (p = h; (p = strstr(p, v)) != NULL; p++)
		if ((size_t)(p - h) > nlen && p[-1] == '=' &&
		    memcmp(p - 1 - nlen, name, nlen) == 0)
			return;
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	char *h;

	if (a == NULL && (a = arena_new(ARENA_SIZE)) == NULL)
		abort();
	if ((h = malloc(size + 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(h, data, size);
	h[size] = '\0';
	check(a, h, "sid");
	check(a, h, "__Host-sid");
	arena_reset(a);
	free(h);
	return 0;
}
