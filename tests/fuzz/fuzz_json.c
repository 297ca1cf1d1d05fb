/*
 * fuzz_json.c: libFuzzer harness for json_parse_body(), then json_body()
 * and json_str() with the login endpoint's keys.
 *
 * The input is the request body, held as the worker holds it (exact size
 * plus a NUL). Besides the sanitizers' reports (LeakSanitizer included:
 * the parsed object must go with the arena), it aborts when an accepted
 * body gives a string json.h promises never to return: empty, over its
 * maximum, holding a NUL, or not valid UTF-8.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "json.h"
#include "req.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const login_keys[] = { "username", "password", NULL };

static void
check_str(json_object *o, const char *key, size_t max)
{
	const char *s;
	size_t n;

	if ((s = json_str(o, key, max)) == NULL)
		return;
	n = strlen(s);
	if (n == 0 || n > max || !utf8_valid(s, n))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	struct req r;
	json_object *o = NULL;

	if (a == NULL && (a = arena_new(ARENA_SIZE)) == NULL)
		abort();
	if (size > BODY_MAX)
		return 0;
	memset(&r, 0, sizeof(r));
	r.arena = a;
	if ((r.body = arena_alloc(a, size + 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(r.body, data, size);
	r.body[size] = '\0';
	r.body_len = size;

	/* The worker's syntax check first, then the endpoint's keys. */
	switch (json_parse_body(&r)) {
	case APP_OK:
		if (r.json == NULL ||
		    !json_object_is_type(r.json, json_type_object) ||
		    !utf8_valid(r.body, r.body_len) ||
		    json_body(&r, NULL, &o) != APP_OK || o != r.json)
			abort();
		break;
	case APP_EJSON:
		if (r.json != NULL)
			abort();
		break;
	default:
		abort();
	}
	switch (json_body(&r, login_keys, &o)) {
	case APP_OK:
		if (o == NULL || o != r.json)
			abort();
		check_str(o, "username", USERNAME_MAX);
		check_str(o, "password", PASSWORD_MAX);
		break;
	case APP_EJSON:
		break;
	default:
		abort();
	}
	arena_reset(a);
	return 0;
}
