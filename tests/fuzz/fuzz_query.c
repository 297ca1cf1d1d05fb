/*
 * fuzz_query.c: libFuzzer harness for req_page(), the query string.
 *
 * The input is the raw query string. Besides the sanitizers' reports it
 * aborts when req_page() answers outside req.h's contract: a limit out of
 * 1..PAGE_MAX, a cursor empty or over CURSOR_MAX, or an error other than
 * the three it may give.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "req.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	struct req r;
	const char *cursor;
	char *q;
	int limit;

	if (a == NULL && (a = arena_new(ARENA_SIZE)) == NULL)
		abort();
	if ((q = malloc(size + 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(q, data, size);
	q[size] = '\0';

	memset(&r, 0, sizeof(r));
	r.arena = a;
	r.query = q;
	switch (req_page(&r, &limit, &cursor)) {
	case APP_OK:
		if (limit < 1 || limit > PAGE_MAX)
			abort();
		if (cursor != NULL &&
		    (*cursor == '\0' || strlen(cursor) > CURSOR_MAX))
			abort();
		break;
	case APP_EINVAL:
	case APP_ELIMIT:
	case APP_ECURSOR:
		break;
	default:
		abort();
	}
	arena_reset(a);
	free(q);
	return 0;
}
