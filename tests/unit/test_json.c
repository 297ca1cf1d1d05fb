/*
 * test_json.c: strict request bodies (json_body, json_str), the writer
 * and the error body (json_error_body).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "req.h"
#include "testlib.h"

static const char *const login_keys[] = { "username", "password", NULL };

struct body_case {
	const char *what;
	const char *body;
	size_t len; /* 0: strlen(body) */
	enum app_err rc;
};

static const struct body_case body_cases[] = {
	{ "login", "{\"username\":\"alice\",\"password\":\"pw\"}", 0, APP_OK },
	{ "one key", "{\"password\":\"pw\"}", 0, APP_OK },
	{ "empty object", "{}", 0, APP_OK },
	{ "whitespace around", " \t\r\n{ \"username\" : \"a\" }\r\n ", 0,
	    APP_OK },
	{ "escaped key", "{\"user\\u006eame\":\"a\"}", 0, APP_OK },
	{ "colons and braces in strings",
	    "{\"username\":\"a:b{c}[d]\",\"password\":\":\\\":}\"}", 0,
	    APP_OK },
	{ "escaped backslash at the end", "{\"username\":\"a\\\\\"}", 0,
	    APP_OK },
	{ "nested value (type checked later)", "{\"username\":{\"a\":[1,2]}}",
	    0, APP_OK },
	{ "unicode", "{\"username\":\"J\xc3\xbcrgen \xf0\x9f\x98\x80\"}", 0,
	    APP_OK },
	/* Keys. */
	{ "unknown key", "{\"username\":\"a\",\"admin\":true}", 0, APP_EJSON },
	{ "unknown key only", "{\"user\":\"a\"}", 0, APP_EJSON },
	{ "key case", "{\"Username\":\"a\"}", 0, APP_EJSON },
	{ "duplicate key", "{\"username\":\"a\",\"username\":\"b\"}", 0,
	    APP_EJSON },
	{ "duplicate key, other later",
	    "{\"password\":\"a\",\"username\":\"b\",\"password\":\"c\"}", 0,
	    APP_EJSON },
	{ "duplicate via escape",
	    "{\"username\":\"a\",\"user\\u006eame\":\"b\"}", 0, APP_EJSON },
	{ "empty key", "{\"\":\"a\"}", 0, APP_EJSON },
	/* Depth. */
	{ "too deep", "{\"username\":{\"a\":{\"b\":{\"c\":{\"d\":1}}}}}", 0,
	    APP_EJSON },
	{ "too deep in an array", "{\"username\":[[[[[[1]]]]]]}", 0,
	    APP_EJSON },
	/* Not an object. */
	{ "array", "[]", 0, APP_EJSON },
	{ "array of object", "[{\"username\":\"a\"}]", 0, APP_EJSON },
	{ "string", "\"username\"", 0, APP_EJSON },
	{ "number", "1", 0, APP_EJSON },
	{ "null", "null", 0, APP_EJSON },
	{ "true", "true", 0, APP_EJSON },
	/* Not strict JSON. */
	{ "single quotes", "{'username':'a'}", 0, APP_EJSON },
	{ "bare key", "{username:\"a\"}", 0, APP_EJSON },
	{ "trailing comma", "{\"username\":\"a\",}", 0, APP_EJSON },
	{ "comment", "{/*x*/\"username\":\"a\"}", 0, APP_EJSON },
	{ "bad escape", "{\"username\":\"\\x41\"}", 0, APP_EJSON },
	{ "short unicode escape", "{\"username\":\"\\u00\"}", 0, APP_EJSON },
	{ "unterminated", "{\"username\":\"a\"", 0, APP_EJSON },
	{ "unterminated string", "{\"username\":\"a", 0, APP_EJSON },
	/* Trailing bytes. */
	{ "trailing garbage", "{\"username\":\"a\"} x", 0, APP_EJSON },
	{ "two objects", "{}{}", 0, APP_EJSON },
	{ "trailing comma after", "{},", 0, APP_EJSON },
	{ "trailing form feed", "{}\f", 0, APP_EJSON },
	/* NUL anywhere in the body. */
	{ "NUL in a string", "{\"username\":\"a\0b\"}", 18, APP_EJSON },
	{ "NUL after", "{}\0", 3, APP_EJSON },
	{ "NUL first", "\0{}", 3, APP_EJSON },
	/* Invalid UTF-8, including what json-c's own check lets through. */
	{ "0xff", "{\"username\":\"\xff\"}", 0, APP_EJSON },
	{ "lone continuation", "{\"username\":\"\x80\"}", 0, APP_EJSON },
	{ "truncated", "{\"username\":\"\xc3\"}", 0, APP_EJSON },
	{ "overlong '/'", "{\"username\":\"\xc0\xaf\"}", 0, APP_EJSON },
	{ "overlong 3-byte", "{\"username\":\"\xe0\x80\xaf\"}", 0, APP_EJSON },
	{ "surrogate", "{\"username\":\"\xed\xa0\x80\"}", 0, APP_EJSON },
	{ "above U+10FFFF", "{\"username\":\"\xf4\x90\x80\x80\"}", 0,
	    APP_EJSON },
	{ "invalid UTF-8 in a key", "{\"user\xc0\xaf\":\"a\"}", 0, APP_EJSON },
	/* Raw control characters in strings (RFC 8259 section 7). */
	{ "raw tab", "{\"username\":\"a\tb\"}", 0, APP_EJSON },
	{ "raw newline", "{\"password\":\"a\nb\"}", 0, APP_EJSON },
	{ "raw 0x1f", "{\"password\":\"\x1f\"}", 0, APP_EJSON },
	{ "raw CR in a key", "{\"user\rname\":\"a\"}", 0, APP_EJSON },
	{ "escaped controls are fine", "{\"password\":\"a\\tb\\n\\u001f\"}", 0,
	    APP_OK },
	{ "DEL is not a control here", "{\"password\":\"\x7f\"}", 0, APP_OK },
	/* Empty. */
	{ "empty body", "", 0, APP_EJSON },
	{ "whitespace only", " \r\n", 0, APP_EJSON },
};

static void
test_body(void **state)
{
	const struct body_case *c;
	struct req r;
	json_object *o;
	size_t i;
	enum app_err rc;

	for (i = 0; i < nitems(body_cases); i++) {
		c = &body_cases[i];
		mkreq_body(
		    &r, *state, c->body, c->len ? c->len : strlen(c->body));
		o = NULL;
		rc = json_body(&r, login_keys, &o);
		if (rc != c->rc)
			fail_msg("%s: %d, want %d", c->what, rc, c->rc);
		if (rc == APP_OK)
			assert_true(json_object_is_type(o, json_type_object));
		/* The object (if any) is freed here: LeakSanitizer checks. */
		arena_reset(*state);
	}
}

static void
test_body_none(void **state)
{
	struct req r;
	json_object *o = NULL;

	memset(&r, 0, sizeof(r));
	r.arena = *state;
	assert_int_equal(json_body(&r, login_keys, &o), APP_EJSON);
	assert_null(o);
}

/* A deep nest fails cleanly, not by recursion. */
static void
test_body_very_deep(void **state)
{
	struct req r;
	json_object *o;
	char *s;
	size_t n = 10000, i;

	assert_non_null(s = malloc(2 * n + 16));
	memcpy(s, "{\"username\":", 12);
	for (i = 0; i < n; i++)
		s[12 + i] = '[';
	for (i = 0; i < n; i++)
		s[12 + n + i] = ']';
	memcpy(s + 12 + 2 * n, "}", 2);
	mkreq_body(&r, *state, s, strlen(s));
	free(s);
	assert_int_equal(json_body(&r, login_keys, &o), APP_EJSON);
	arena_reset(*state);
}

/* json_parse_body: the worker's syntax check; keys are json_body's. */
static void
test_parse_body(void **state)
{
	static const char body[] = "{\"password\":\"hunter2\",\"x\":1}";
	struct req r;
	json_object *o, *o2;
	const char *pw;

	mkreq_body(&r, *state, body, strlen(body));
	assert_int_equal(json_parse_body(&r), APP_OK);
	assert_non_null(r.json);
	/* Unknown keys are refused by json_body, and any pass with NULL. */
	assert_int_equal(json_body(&r, login_keys, &o), APP_EJSON);
	assert_int_equal(json_body(&r, NULL, &o), APP_OK);
	assert_ptr_equal(o, r.json);

	/* Parsed once: the object stays what the body was. */
	memset(r.body, '!', r.body_len);
	assert_int_equal(json_body(&r, NULL, &o2), APP_OK);
	assert_ptr_equal(o2, o);

	/* The strings are wiped when the request ends. */
	pw = json_str(o, "password", 64);
	assert_string_equal(pw, "hunter2");
	json_object_get(o);
	arena_reset(*state);
	assert_memory_equal(pw, "\0\0\0\0\0\0\0", 7);
	json_object_put(o);

	/* Malformed: nothing kept. */
	mkreq_body(&r, *state, "{\"a\":1,\"a\":2}", 13);
	assert_int_equal(json_parse_body(&r), APP_EJSON);
	assert_null(r.json);
	assert_int_equal(json_body(&r, NULL, &o), APP_EJSON);
	arena_reset(*state);
}

/* json_str */

struct str_case {
	const char *body;
	size_t max;
	const char *want; /* NULL: refused */
};

static const struct str_case str_cases[] = {
	{ "{\"username\":\"alice\"}", 64, "alice" },
	{ "{\"username\":\"alice\"}", 5, "alice" },
	{ "{\"username\":\"alice\"}", 4, NULL },
	{ "{\"username\":\"\xc3\xa9\"}", 2, "\xc3\xa9" },
	{ "{\"username\":\"\xc3\xa9\"}", 1, NULL },
	{ "{\"username\":\"\\u00e9\"}", 2, "\xc3\xa9" },
	{ "{\"username\":\"\"}", 64, NULL },
	{ "{\"username\":\"a\\u0000b\"}", 64, NULL },
	{ "{\"username\":\"\\u0000\"}", 64, NULL },
	{ "{\"username\":1}", 64, NULL },
	{ "{\"username\":1.5}", 64, NULL },
	{ "{\"username\":true}", 64, NULL },
	{ "{\"username\":null}", 64, NULL },
	{ "{\"username\":[\"a\"]}", 64, NULL },
	{ "{\"username\":{\"a\":\"b\"}}", 64, NULL },
	/*
	 * json-c's strict mode still takes these non-JSON numbers; they
	 * never pass as a string, so the endpoint refuses them all the same.
	 */
	{ "{\"username\":NaN}", 64, NULL },
	{ "{\"username\":-Infinity}", 64, NULL },
	{ "{\"username\":1.}", 64, NULL },
	{ "{\"password\":\"alice\"}", 64, NULL },
	{ "{}", 64, NULL },
};

static void
test_str(void **state)
{
	struct req r;
	json_object *o;
	const char *s;
	size_t i;

	for (i = 0; i < nitems(str_cases); i++) {
		mkreq_body(
		    &r, *state, str_cases[i].body, strlen(str_cases[i].body));
		assert_int_equal(json_body(&r, login_keys, &o), APP_OK);
		s = json_str(o, "username", str_cases[i].max);
		if (str_cases[i].want == NULL && s != NULL)
			fail_msg("%s (max %zu): got \"%s\"", str_cases[i].body,
			    str_cases[i].max, s);
		if (str_cases[i].want != NULL &&
		    (s == NULL || strcmp(s, str_cases[i].want) != 0))
			fail_msg("%s (max %zu): refused", str_cases[i].body,
			    str_cases[i].max);
		arena_reset(*state);
	}
}

/* The writer (jw_*) */

static void
test_writer_values(void **state)
{
	struct req r;
	struct jw w;

	memset(&r, 0, sizeof(r));
	jw_init(&w, *state);
	jw_open(&w, NULL, '{');
	jw_time(&w, "t", 0);
	jw_time(&w, "u", 1);
	jw_str(&w, "s", NULL);
	jw_str(&w, "q", "\"<>&'/\\\n\t\r\x01\x1f\x7f");
	jw_int(&w, "n", -9223372036854775807LL - 1);
	jw_bool(&w, "b", 0);
	jw_open(&w, "a", '[');
	jw_close(&w, ']');
	jw_open(&w, "o", '{');
	jw_close(&w, '}');
	jw_close(&w, '}');
	assert_int_equal(jw_reply(&r, 201, &w), APP_OK);
	assert_int_equal(r.resp.status, 201);
	/* Plain, the same text json-c wrote, and '/' not escaped. */
	assert_string_equal(r.resp.body,
	    "{\"t\":null,\"u\":\"1970-01-01T00:00:01Z\",\"s\":null,"
	    "\"q\":\"\\\"<>&'/\\\\\\n\\t\\r\\u0001\\u001f\x7f\","
	    "\"n\":-9223372036854775808,\"b\":false,\"a\":[],\"o\":{}}");
}

/*
 * Random strings (every byte but NUL, and UTF-8 up to four bytes) in
 * random arrays and objects: json-c parses the text back to the same
 * strings, in order.
 */
static void
test_writer_property(void **state)
{
	static const char *const utf8[] = { "\xc3\xa9", "\xe2\x82\xac",
		"\xf0\x9f\x94\x91", "\"", "\\", "/", "\n", "\x7f" };
	unsigned long long x = 0x243f6a8885a308d3ULL;
	char strs[8][64];
	json_object *o, *arr, *v;
	struct jw w;
	size_t len, k, round;
	int i, n;

#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
	for (round = 0; round < 2000; round++) {
		n = (int)(RND() % 8);
		for (i = 0; i < n; i++) {
			len = 0;
			k = RND() % 20;
			while (k-- > 0 && len < sizeof(strs[i]) - 5) {
				if (RND() % 4 == 0) {
					const char *u = utf8[RND() % 8];

					memcpy(strs[i] + len, u, strlen(u));
					len += strlen(u);
				} else
					strs[i][len++] =
					    (char)(1 + RND() % 127);
			}
			strs[i][len] = '\0';
		}
		arena_reset(*state);
		jw_init(&w, *state);
		jw_open(&w, NULL, '{');
		jw_open(&w, "a", '[');
		for (i = 0; i < n; i++) {
			if (i % 2 == 0)
				jw_str(&w, NULL, strs[i]);
			else {
				jw_open(&w, NULL, '{');
				jw_str(&w, "s", strs[i]);
				jw_close(&w, '}');
			}
		}
		jw_close(&w, ']');
		jw_int(&w, "n", n);
		jw_close(&w, '}');
		o = parse_out(&w);
		assert_true(json_object_object_get_ex(o, "a", &arr));
		assert_int_equal(json_object_array_length(arr), n);
		for (i = 0; i < n; i++) {
			v = json_object_array_get_idx(arr, (size_t)i);
			if (i % 2 == 1)
				assert_true(
				    json_object_object_get_ex(v, "s", &v));
			assert_true(json_object_is_type(v, json_type_string));
			assert_int_equal(
			    json_object_get_string_len(v), strlen(strs[i]));
			assert_memory_equal(json_object_get_string(v), strs[i],
			    strlen(strs[i]));
		}
		json_object_put(o);
	}
#undef RND
}

/* A body over the arena's cap fails once, at the reply. */
static void
test_writer_cap(void **state)
{
	struct req r;
	struct jw w;
	char big[1024];
	int i;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&r, 0, sizeof(r));
	jw_init(&w, *state);
	jw_open(&w, NULL, '[');
	for (i = 0; i < ARENA_SIZE / 512; i++)
		jw_str(&w, NULL, big);
	jw_close(&w, ']');
	assert_int_equal(jw_reply(&r, 200, &w), APP_EINTERNAL);
}

/* json_error_body */

static void
check_error_body(enum app_err e, enum app_err as)
{
	const struct app_err_info *info = app_err_info(as);
	const char *body;
	json_object *o, *err, *v;

	body = json_error_body(e);
	assert_non_null(body);
	assert_non_null(o = json_tokener_parse(body));
	assert_true(json_object_is_type(o, json_type_object));
	assert_int_equal(json_object_object_length(o), 1);
	assert_true(json_object_object_get_ex(o, "error", &err));
	assert_true(json_object_is_type(err, json_type_object));
	assert_int_equal(json_object_object_length(err), 2);
	assert_true(json_object_object_get_ex(err, "code", &v));
	assert_string_equal(json_object_get_string(v), info->code);
	assert_true(json_object_object_get_ex(err, "message", &v));
	assert_string_equal(json_object_get_string(v), info->message);
	json_object_put(o);
	/* Rendered once: the same text the second time. */
	assert_ptr_equal(json_error_body(e), body);
}

static void
test_error_body(void **state)
{
	int e;

	(void)state;
	for (e = 0; e < APP_ERR__MAX; e++)
		check_error_body((enum app_err)e, (enum app_err)e);
	assert_string_equal(json_error_body(APP_ENOSESS),
	    "{\"error\":{\"code\":\"session_not_found\","
	    "\"message\":\"No such active session.\"}}");
	/* Out of range: an internal error, never a crash. */
	check_error_body(APP_ERR__MAX, APP_EINTERNAL);
	check_error_body((enum app_err) - 1, APP_EINTERNAL);
	check_error_body((enum app_err)1000, APP_EINTERNAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_body),
		T(test_body_none),
		T(test_body_very_deep),
		T(test_parse_body),
		T(test_str),
		T(test_writer_values),
		T(test_writer_property),
		T(test_writer_cap),
		T(test_error_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
