/*
 * testlib.h: what the unit tests share: nitems, the arena fixture and
 * request builders. Include it after <cmocka.h> and the headers it needs
 * (stdarg, stddef, setjmp).
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "req.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* Fixture: *state is a fresh arena of ARENA_SIZE, freed afterwards. */
static inline int
arena_setup(void **state)
{
	*state = arena_new(ARENA_SIZE);
	return *state == NULL ? -1 : 0;
}

static inline int
arena_teardown(void **state)
{
	arena_free(*state);
	return 0;
}

/* A test that gets the arena fixture. */
#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)

/* A request as req_parse leaves it, for method m and path. */
static inline void
mkreq(struct req *r, struct arena *a, enum method m, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->arena = a;
	r->method = m;
	r->path = path;
	r->query = "";
	r->content_length = -1;
}

/* A request whose body is an exact-size arena copy of n bytes of s. */
static inline void
mkreq_body(struct req *r, struct arena *a, const char *s, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->arena = a;
	r->body = arena_alloc(a, n + 1);
	assert_non_null(r->body);
	memcpy(r->body, s, n);
	r->body[n] = '\0';
	r->body_len = n;
}

#endif /* TESTLIB_H */
