/*
 * fuzz_route.c: libFuzzer harness for route_match().
 *
 * The first input byte picks the method, the rest is the path. Besides
 * the sanitizers' reports it aborts when the answer breaks route.h's
 * contract: a match without a route, an id marked valid that is not a
 * UUID, a 405 without exactly one Allow header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "route.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	struct req r;
	char *path;
	enum app_err rc;

	if (a == NULL && (a = arena_new(ARENA_SIZE)) == NULL)
		abort();
	if (size == 0)
		return 0;
	if ((path = malloc(size)) == NULL)
		return 0;
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';

	memset(&r, 0, sizeof(r));
	r.arena = a;
	r.method = (enum method)(data[0] % M__MAX);
	r.path = path;
	r.query = "";
	r.content_length = -1;
	rc = route_match(&r);
	switch (rc) {
	case APP_OK:
		if (r.route == NULL || r.route->handler == NULL ||
		    r.route->method != r.method || r.resp.nheaders != 0)
			abort();
		if (r.id_valid &&
		    (!uuid_valid(r.id) ||
			strchr(r.route->pattern, '*') == NULL))
			abort();
		break;
	case APP_EMETHOD:
		if (r.route != NULL || r.resp.nheaders != 1 ||
		    strncmp(r.resp.headers[0], "Allow: ", 7) != 0)
			abort();
		break;
	case APP_ENOTFOUND:
		if (r.route != NULL || r.resp.nheaders != 0)
			abort();
		break;
	default:
		abort();
	}
	arena_reset(a);
	free(path);
	return 0;
}
