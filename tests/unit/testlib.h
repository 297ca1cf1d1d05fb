/*
 * testlib.h: what the unit tests share: nitems, the arena fixture and
 * request builders. Include it after <cmocka.h> and the headers it needs
 * (stdarg, stddef, setjmp).
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "crypto.h"
#include "keyring.h"
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

/* "<kid>:<n bytes of fill, base64url>" into out. */
static inline void
key_line(
    char *out, size_t outlen, const char *kid, unsigned char fill, size_t n)
{
	unsigned char k[KEY_MAX + 8];
	char k64[b64url_len(sizeof(k)) + 1];

	assert_true(n <= sizeof(k));
	memset(k, fill, n);
	b64url_encode(k64, k, n);
	snprintf(out, outlen, "%s:%s", kid, k64);
}

/* A ring from "kid:fill" pairs, 32-byte keys. */
static inline void
ring(struct keyring *kr, const char *kid1, unsigned char f1, const char *kid2,
    unsigned char f2)
{
	char text[512], l1[128], l2[128];
	char err[128];

	key_line(l1, sizeof(l1), kid1, f1, 32);
	if (kid2 != NULL) {
		key_line(l2, sizeof(l2), kid2, f2, 32);
		snprintf(text, sizeof(text), "%s\n%s\n", l1, l2);
	} else
		snprintf(text, sizeof(text), "%s\n", l1);
	if (keyring_parse(kr, text, err, sizeof(err)) != 0)
		fail_msg("keyring_parse: %s", err);
}

/* A session token: 0, 1, ..., 31. */
__attribute__((unused)) static const unsigned char tok0[TOKEN_LEN] = {
	0,
	1,
	2,
	3,
	4,
	5,
	6,
	7,
	8,
	9,
	10,
	11,
	12,
	13,
	14,
	15,
	16,
	17,
	18,
	19,
	20,
	21,
	22,
	23,
	24,
	25,
	26,
	27,
	28,
	29,
	30,
	31,
};

/* For the tests of JSON answers (json.h included first). */
#ifdef JSON_H
/* The writer's text, checked to be what json-c parses as one value. */
static inline json_object *
parse_out(struct jw *w)
{
	struct req r;
	json_object *o;

	memset(&r, 0, sizeof(r));
	assert_int_equal(jw_reply(&r, 200, w), APP_OK);
	assert_int_equal(r.resp.status, 200);
	assert_non_null(o = json_tokener_parse(r.resp.body));
	return o;
}

static inline const char *
member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no member \"%s\"", key);
	return v == NULL ? NULL : json_object_get_string(v);
}

/* o is an object with exactly the members keys[0..n). */
static inline void
assert_members(json_object *o, const char *const *keys, size_t n)
{
	size_t i;

	assert_int_equal(json_object_object_length(o), n);
	for (i = 0; i < n; i++)
		(void)member(o, keys[i]);
}
#endif /* JSON_H */

#endif /* TESTLIB_H */
