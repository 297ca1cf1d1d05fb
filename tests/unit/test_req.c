/*
 * test_req.c: FastCGI parameters to struct req, the Cookie header, the
 * query string and response headers. Parameters come from a table.
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
#include "req.h"
#include "testlib.h"

struct param {
	const char *name;
	const char *value;
};

/* req_param_fn over a NULL-terminated table. */
static const char *
param(void *ctx, const char *name)
{
	const struct param *p;

	for (p = ctx; p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p->value;
	return NULL;
}

#define P(n, v)      \
	{            \
		n, v \
	}
#define END                \
	{                  \
		NULL, NULL \
	}

/* req_parse: methods */

struct method_case {
	const char *m;
	enum method want;
};

static const struct method_case method_cases[] = {
	{ "GET", M_GET },
	{ "POST", M_POST },
	{ "PUT", M_PUT },
	{ "PATCH", M_PATCH },
	{ "DELETE", M_DELETE },
	{ "get", M_OTHER },
	{ "Get", M_OTHER },
	{ "OPTIONS", M_OTHER },
	{ "HEAD", M_OTHER },
	{ "", M_OTHER },
	{ "GET ", M_OTHER },
	{ "GETX", M_OTHER },
	{ "DELET", M_OTHER },
};

static void
test_parse_methods(void **state)
{
	struct req r;
	struct param ps[] = { P("REQUEST_METHOD", NULL), P("DOCUMENT_URI", "/"),
		END };
	size_t i;

	for (i = 0; i < nitems(method_cases); i++) {
		ps[0].value = method_cases[i].m;
		assert_int_equal(req_parse(&r, *state, param, ps), APP_OK);
		if (r.method != method_cases[i].want)
			fail_msg(
			    "method \"%s\": %d", method_cases[i].m, r.method);
		arena_reset(*state);
	}
	/* No method at all: the request line is unusable. */
	ps[0].name = "REQUEST_METHOX";
	assert_int_equal(req_parse(&r, *state, param, ps), APP_EINVAL);
}

/* req_parse: path, query, HTTPS, content length */

struct parse_case {
	const char *what;
	struct param ps[8];
	enum app_err rc;
	const char *path;
	const char *query;
	int https;
	long long clen;
};

#define GET P("REQUEST_METHOD", "GET")
#define URI P("DOCUMENT_URI", "/healthz")

static const struct parse_case parse_cases[] = {
	{ "PATH_INFO wins",
	    { GET, P("PATH_INFO", "/api/auth/login"), URI, END }, APP_OK,
	    "/api/auth/login", "", 0, -1 },
	{ "DOCUMENT_URI without PATH_INFO", { GET, URI, END }, APP_OK,
	    "/healthz", "", 0, -1 },
	{ "DOCUMENT_URI for an empty PATH_INFO",
	    { GET, P("PATH_INFO", ""), URI, END }, APP_OK, "/healthz", "", 0,
	    -1 },
	{ "no path", { GET, END }, APP_EINVAL, NULL, NULL, 0, 0 },
	{ "empty path", { GET, P("DOCUMENT_URI", ""), END }, APP_EINVAL, NULL,
	    NULL, 0, 0 },
	{ "relative path", { GET, P("DOCUMENT_URI", "healthz"), END },
	    APP_EINVAL, NULL, NULL, 0, 0 },
	{ "absolute URI", { GET, P("DOCUMENT_URI", "http://x/healthz"), END },
	    APP_EINVAL, NULL, NULL, 0, 0 },
	{ "relative PATH_INFO, no fallback",
	    { GET, P("PATH_INFO", "x"), URI, END }, APP_EINVAL, NULL, NULL, 0,
	    0 },
	{ "query", { GET, URI, P("QUERY_STRING", "limit=5"), END }, APP_OK,
	    "/healthz", "limit=5", 0, -1 },
	{ "HTTPS on", { GET, URI, P("HTTPS", "on"), END }, APP_OK, "/healthz",
	    "", 1, -1 },
	{ "HTTPS off", { GET, URI, P("HTTPS", "off"), END }, APP_OK, "/healthz",
	    "", 0, -1 },
	{ "HTTPS empty", { GET, URI, P("HTTPS", ""), END }, APP_OK, "/healthz",
	    "", 0, -1 },
	{ "HTTPS ON", { GET, URI, P("HTTPS", "ON"), END }, APP_OK, "/healthz",
	    "", 0, -1 },
	{ "CONTENT_LENGTH", { GET, URI, P("CONTENT_LENGTH", "42"), END },
	    APP_OK, "/healthz", "", 0, 42 },
	{ "CONTENT_LENGTH 0", { GET, URI, P("CONTENT_LENGTH", "0"), END },
	    APP_OK, "/healthz", "", 0, 0 },
	{ "CONTENT_LENGTH empty", { GET, URI, P("CONTENT_LENGTH", ""), END },
	    APP_OK, "/healthz", "", 0, -1 },
	{ "CONTENT_LENGTH huge but a number",
	    { GET, URI, P("CONTENT_LENGTH", "9223372036854775807"), END },
	    APP_OK, "/healthz", "", 0, 9223372036854775807LL },
	{ "CONTENT_LENGTH garbage",
	    { GET, URI, P("CONTENT_LENGTH", "abc"), END }, APP_EINVAL, NULL,
	    NULL, 0, 0 },
	{ "CONTENT_LENGTH negative",
	    { GET, URI, P("CONTENT_LENGTH", "-1"), END }, APP_EINVAL, NULL,
	    NULL, 0, 0 },
	{ "CONTENT_LENGTH sign", { GET, URI, P("CONTENT_LENGTH", "+5"), END },
	    APP_EINVAL, NULL, NULL, 0, 0 },
	{ "CONTENT_LENGTH space", { GET, URI, P("CONTENT_LENGTH", " 5"), END },
	    APP_EINVAL, NULL, NULL, 0, 0 },
	{ "CONTENT_LENGTH trailing",
	    { GET, URI, P("CONTENT_LENGTH", "5x"), END }, APP_EINVAL, NULL,
	    NULL, 0, 0 },
	{ "CONTENT_LENGTH hex", { GET, URI, P("CONTENT_LENGTH", "0x10"), END },
	    APP_EINVAL, NULL, NULL, 0, 0 },
	{ "CONTENT_LENGTH overflow",
	    { GET, URI, P("CONTENT_LENGTH", "9223372036854775808"), END },
	    APP_EINVAL, NULL, NULL, 0, 0 },
};

static void
test_parse(void **state)
{
	const struct parse_case *c;
	struct req r;
	size_t i;
	enum app_err rc;

	for (i = 0; i < nitems(parse_cases); i++) {
		c = &parse_cases[i];
		rc = req_parse(&r, *state, param, (void *)c->ps);
		if (rc != c->rc)
			fail_msg("%s: %d, want %d", c->what, rc, c->rc);
		if (rc == APP_OK) {
			assert_string_equal(r.path, c->path);
			assert_string_equal(r.query, c->query);
			assert_int_equal(r.https, c->https);
			assert_int_equal(r.content_length, c->clen);
			/* What was not sent is NULL or empty, never junk. */
			assert_null(r.cookies);
			assert_null(r.content_type);
			assert_string_equal(r.ip, "");
			assert_string_equal(r.ua, "");
			assert_null(r.route);
			assert_int_equal(r.resp.nheaders, 0);
		}
		arena_reset(*state);
	}
}

static void
test_parse_headers(void **state)
{
	static const struct param ps[] = {
		P("REQUEST_METHOD", "POST"),
		P("DOCUMENT_URI", "/api/auth/login/"),
		P("REMOTE_ADDR", "203.0.113.7"),
		P("HTTP_HOST", "example.com"),
		P("HTTP_ORIGIN", "https://example.com"),
		P("HTTP_SEC_FETCH_SITE", "same-origin"),
		P("HTTP_X_CSRF_TOKEN", "tok"),
		P("CONTENT_TYPE", "application/json"),
		P("HTTP_SEC_CH_UA", "\"Chromium\";v=\"131\""),
		P("HTTP_SEC_CH_UA_PLATFORM", "\"Linux\"\n"),
		P("HTTP_SEC_CH_UA_MOBILE", "?0"),
		P("HTTP_USER_AGENT", "Mozilla/5.0\t(X11)"),
		END,
	};
	struct req r;

	assert_int_equal(req_parse(&r, *state, param, (void *)ps), APP_OK);
	assert_int_equal(r.method, M_POST);
	assert_ptr_equal(r.arena, *state);
	assert_string_equal(r.ip, "203.0.113.7");
	assert_string_equal(r.host, "example.com");
	assert_string_equal(r.origin, "https://example.com");
	assert_string_equal(r.fetch_site, "same-origin");
	assert_string_equal(r.csrf, "tok");
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(r.ch_ua, "\"Chromium\";v=\"131\"");
	/* Control bytes in stored headers become '?'. */
	assert_string_equal(r.ch_platform, "\"Linux\"?");
	assert_string_equal(r.ch_mobile, "?0");
	assert_string_equal(r.ua, "Mozilla/5.0?(X11)");
	arena_reset(*state);
}

/* The user agent is cleaned and cut on a UTF-8 boundary. */
static void
test_parse_ua(void **state)
{
	struct param ps[] = { P("REQUEST_METHOD", "GET"), URI,
		P("HTTP_USER_AGENT", NULL), P("HTTP_SEC_CH_UA", NULL), END };
	struct req r;
	char *ua, *hint;
	size_t n = UA_STORE_MAX + 100;

	assert_non_null(ua = malloc(n + 1));
	assert_non_null(hint = malloc(n + 1));

	/* Long ASCII: cut at exactly UA_STORE_MAX. */
	memset(ua, 'a', n);
	ua[n] = '\0';
	memset(hint, 'h', n);
	hint[n] = '\0';
	ps[2].value = ua;
	ps[3].value = hint;
	assert_int_equal(req_parse(&r, *state, param, ps), APP_OK);
	assert_int_equal(strlen(r.ua), UA_STORE_MAX);
	assert_int_equal(strlen(r.ch_ua), HINT_STORE_MAX);
	arena_reset(*state);

	/* A 2-byte character straddling the cap is dropped whole. */
	memset(ua, 'a', UA_STORE_MAX - 1);
	memcpy(ua + UA_STORE_MAX - 1, "\xc3\xa9tail", 7);
	assert_int_equal(req_parse(&r, *state, param, ps), APP_OK);
	assert_int_equal(strlen(r.ua), UA_STORE_MAX - 1);
	assert_int_equal(r.ua[UA_STORE_MAX - 2], 'a');
	arena_reset(*state);

	/* A 4-byte one ending exactly at the cap is kept. */
	memset(ua, 'a', UA_STORE_MAX - 4);
	memcpy(ua + UA_STORE_MAX - 4, "\xf0\x9f\x98\x80tail", 9);
	assert_int_equal(req_parse(&r, *state, param, ps), APP_OK);
	assert_int_equal(strlen(r.ua), UA_STORE_MAX);
	assert_memory_equal(r.ua + UA_STORE_MAX - 4, "\xf0\x9f\x98\x80", 4);
	arena_reset(*state);

	/* Malformed bytes and controls become '?'. */
	ps[2].value = "A\xff\xc0\x80\r\nB\xed\xa0\x80";
	assert_int_equal(req_parse(&r, *state, param, ps), APP_OK);
	assert_string_equal(r.ua, "A?????B???");
	arena_reset(*state);

	free(ua);
	free(hint);
}

/* The Cookie header is kept whole: cookie.c picks its cookies from it. */
static void
test_parse_cookie(void **state)
{
	struct param ps[] = { P("REQUEST_METHOD", "GET"), URI,
		P("HTTP_COOKIE", "sid=plain; __Host-sid=secure"), END };
	struct req r;

	assert_int_equal(req_parse(&r, *state, param, ps), APP_OK);
	assert_string_equal(r.cookies, "sid=plain; __Host-sid=secure");
	arena_reset(*state);
}

/* req_cookie */

struct cookie_case {
	const char *header;
	const char *want; /* NULL: no cookie */
};

static const struct cookie_case cookie_cases[] = {
	{ "sid=abc", "abc" },
	{ "sid=abc;", "abc" },
	{ "a=1; sid=abc; b=2", "abc" },
	{ "a=1;sid=abc;b=2", "abc" },
	{ "a=1;\tsid=abc", "abc" },
	{ "  sid=abc  ", "abc" },
	{ ";;; sid=abc ;;", "abc" },
	{ "sid=a=b", "a=b" },
	{ "sid=v1.k1.42.x.y", "v1.k1.42.x.y" },
	{ "xsid=1; sid=2", "2" },
	{ "sid=2; xsid=1", "2" },
	{ "sidx=1; sid=2", "2" },
	{ "__Host-sid=1; sid=2", "2" },
	{ "sid=2; sid_=3", "2" },
	/* Duplicates: someone planted one. */
	{ "sid=1; sid=2", NULL },
	{ "sid=1; sid=1", NULL },
	{ "sid=1;sid=", NULL },
	{ "sid=; sid=1", NULL },
	/* Empty or absent. */
	{ "", NULL },
	{ ";", NULL },
	{ "sid=", NULL },
	{ "sid=  ", NULL },
	{ "sid=; x=1", NULL },
	{ "sid", NULL },
	{ "sid;", NULL },
	{ "xsid=1", NULL },
	{ "sidx=1", NULL },
	{ "SID=1", NULL },
	{ "sid =1", NULL },
	{ "a=1 sid=2", NULL },
	{ "a=\"x;sid", NULL },
};

static void
test_cookie(void **state)
{
	const char *v;
	size_t i;

	for (i = 0; i < nitems(cookie_cases); i++) {
		v = req_cookie(*state, cookie_cases[i].header, "sid");
		if (cookie_cases[i].want == NULL && v != NULL)
			fail_msg("\"%s\": got \"%s\", want none",
			    cookie_cases[i].header, v);
		if (cookie_cases[i].want != NULL &&
		    (v == NULL || strcmp(v, cookie_cases[i].want) != 0))
			fail_msg("\"%s\": got \"%s\", want \"%s\"",
			    cookie_cases[i].header, v ? v : "(null)",
			    cookie_cases[i].want);
	}
	arena_reset(*state);
}

static void
test_cookie_lengths(void **state)
{
	char h[COOKIE_HDR_MAX + 64];
	const char *v;

	/* The longest value we take, and one byte more. */
	memcpy(h, "sid=", 4);
	memset(h + 4, 'v', COOKIE_MAX);
	h[4 + COOKIE_MAX] = '\0';
	assert_non_null(v = req_cookie(*state, h, "sid"));
	assert_int_equal(strlen(v), COOKIE_MAX);
	h[4 + COOKIE_MAX] = 'v';
	h[5 + COOKIE_MAX] = '\0';
	assert_null(req_cookie(*state, h, "sid"));

	/* A whole header at the cap is scanned; one over it is not. */
	memset(h, 'x', COOKIE_HDR_MAX);
	memcpy(h, "a=", 2);
	memcpy(h + COOKIE_HDR_MAX - 7, "; sid=1", 7);
	h[COOKIE_HDR_MAX] = '\0';
	assert_non_null(v = req_cookie(*state, h, "sid"));
	assert_string_equal(v, "1");
	memset(h, 'x', COOKIE_HDR_MAX + 1);
	memcpy(h, "sid=1; a=", 9);
	h[COOKIE_HDR_MAX + 1] = '\0';
	assert_null(req_cookie(*state, h, "sid"));
	arena_reset(*state);
}

/* req_page */

struct page_case {
	const char *query;
	enum app_err rc;
	int limit;
	const char *cursor;
};

static const struct page_case page_cases[] = {
	{ "", APP_OK, PAGE_DEFAULT, NULL },
	{ "limit=1", APP_OK, 1, NULL },
	{ "limit=100", APP_OK, 100, NULL },
	{ "limit=50", APP_OK, 50, NULL },
	{ "limit=007", APP_OK, 7, NULL },
	{ "cursor=abc", APP_OK, PAGE_DEFAULT, "abc" },
	{ "limit=5&cursor=abc", APP_OK, 5, "abc" },
	{ "cursor=abc&limit=5", APP_OK, 5, "abc" },
	{ "foo=bar&limit=5&x", APP_OK, 5, NULL },
	{ "&&limit=5&&", APP_OK, 5, NULL },
	{ "limitx=5", APP_OK, PAGE_DEFAULT, NULL },
	{ "xlimit=5", APP_OK, PAGE_DEFAULT, NULL },
	{ "cursors=1", APP_OK, PAGE_DEFAULT, NULL },
	{ "limit=0", APP_ELIMIT, 0, NULL },
	{ "limit=101", APP_ELIMIT, 0, NULL },
	{ "limit=abc", APP_ELIMIT, 0, NULL },
	{ "limit=-1", APP_ELIMIT, 0, NULL },
	{ "limit=+1", APP_ELIMIT, 0, NULL },
	{ "limit=1e2", APP_ELIMIT, 0, NULL },
	{ "limit=1.0", APP_ELIMIT, 0, NULL },
	{ "limit=0x10", APP_ELIMIT, 0, NULL },
	{ "limit=%31", APP_ELIMIT, 0, NULL },
	{ "limit= 1", APP_ELIMIT, 0, NULL },
	{ "limit=99999999999999999999", APP_ELIMIT, 0, NULL },
	{ "limit=", APP_ELIMIT, 0, NULL },
	{ "limit", APP_ELIMIT, 0, NULL },
	{ "limit=1&limit=1", APP_ELIMIT, 0, NULL },
	{ "limit=1&limit=2", APP_ELIMIT, 0, NULL },
	{ "limit&limit=2", APP_ELIMIT, 0, NULL },
	{ "limit=0&cursor=", APP_ELIMIT, 0, NULL },
	{ "cursor=", APP_ECURSOR, 0, NULL },
	{ "cursor", APP_ECURSOR, 0, NULL },
	{ "cursor=a&cursor=b", APP_ECURSOR, 0, NULL },
	{ "cursor=a&cursor=a", APP_ECURSOR, 0, NULL },
	{ "limit=5&cursor=", APP_ECURSOR, 0, NULL },
};

static void
test_page(void **state)
{
	struct req r;
	const char *cursor;
	size_t i;
	int limit;
	enum app_err rc;

	for (i = 0; i < nitems(page_cases); i++) {
		memset(&r, 0, sizeof(r));
		r.arena = *state;
		r.query = page_cases[i].query;
		rc = req_page(&r, &limit, &cursor);
		if (rc != page_cases[i].rc)
			fail_msg("\"%s\": %d, want %d", page_cases[i].query, rc,
			    page_cases[i].rc);
		if (rc != APP_OK)
			continue;
		assert_int_equal(limit, page_cases[i].limit);
		if (page_cases[i].cursor == NULL)
			assert_null(cursor);
		else
			assert_string_equal(cursor, page_cases[i].cursor);
	}
	arena_reset(*state);
}

static void
test_page_lengths(void **state)
{
	char q[QUERY_MAX + 64];
	struct req r;
	const char *cursor;
	int limit;

	memset(&r, 0, sizeof(r));
	r.arena = *state;
	r.query = q;

	/* The longest cursor we take, and one byte more. */
	memcpy(q, "cursor=", 7);
	memset(q + 7, 'c', CURSOR_MAX);
	q[7 + CURSOR_MAX] = '\0';
	assert_int_equal(req_page(&r, &limit, &cursor), APP_OK);
	assert_int_equal(strlen(cursor), CURSOR_MAX);
	q[7 + CURSOR_MAX] = 'c';
	q[8 + CURSOR_MAX] = '\0';
	assert_int_equal(req_page(&r, &limit, &cursor), APP_ECURSOR);

	/* A query over QUERY_MAX is refused whole. */
	memset(q, 'x', QUERY_MAX + 1);
	memcpy(q, "limit=5&", 8);
	q[QUERY_MAX + 1] = '\0';
	assert_int_equal(req_page(&r, &limit, &cursor), APP_EINVAL);
	q[QUERY_MAX] = '\0';
	assert_int_equal(req_page(&r, &limit, &cursor), APP_OK);
	assert_int_equal(limit, 5);
	arena_reset(*state);
}

/* resp_header */

static void
test_resp_header(void **state)
{
	struct req r;
	char big[600];
	size_t i;

	memset(&r, 0, sizeof(r));
	r.arena = *state;
	assert_int_equal(resp_header(&r, "Allow: %s", "GET, DELETE"), APP_OK);
	assert_int_equal(r.resp.nheaders, 1);
	assert_string_equal(r.resp.headers[0], "Allow: GET, DELETE");
	assert_int_equal(resp_header(&r, "Retry-After: %lld", 900LL), APP_OK);
	assert_string_equal(r.resp.headers[1], "Retry-After: 900");

	/* Too long for one header line: refused, nothing added. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(resp_header(&r, "X-Big: %s", big), APP_EINTERNAL);
	assert_int_equal(r.resp.nheaders, 2);
	big[511 - 7] = '\0';
	assert_int_equal(resp_header(&r, "X-Big: %s", big), APP_OK);
	assert_int_equal(strlen(r.resp.headers[2]), 511);

	/* Full table. */
	for (i = r.resp.nheaders; i < RESP_HEADERS_MAX; i++)
		assert_int_equal(resp_header(&r, "X-N: %zu", i), APP_OK);
	assert_int_equal(resp_header(&r, "X-N: %d", 99), APP_EINTERNAL);
	assert_int_equal(r.resp.nheaders, RESP_HEADERS_MAX);
	assert_string_equal(r.resp.headers[RESP_HEADERS_MAX - 1], "X-N: 7");
	arena_reset(*state);
}

static void
test_resp_header_arena_full(void **state)
{
	struct arena *a;
	struct req r;

	(void)state;
	assert_non_null(a = arena_new(16));
	memset(&r, 0, sizeof(r));
	r.arena = a;
	assert_int_equal(resp_header(&r, "A: %s", "1"), APP_OK);
	assert_int_equal(resp_header(&r, "B: %s", "2"), APP_EINTERNAL);
	assert_int_equal(r.resp.nheaders, 1);
	arena_free(a);
}

/* REQUEST_START ($msec): how long the request waited for a worker. */
static void
test_parse_queued(void **state)
{
	static const struct {
		const char *v;
		int known;
	} cases[] = {
		{ NULL, 0 },
		{ "", 0 },
		{ "abc", 0 },
		{ "1732812345", 0 },
		{ "1732812345.12", 0 },
		{ "1732812345.1234", 0 },
		{ "-1.000", 0 },
		{ "1.x00", 0 },
		{ "99999999999.000", 0 },
		{ "1.000", 1 },
		{ "1732812345.123", 1 },
	};
	struct req r;
	struct param ps[] = { P("REQUEST_METHOD", "POST"),
		P("DOCUMENT_URI", "/"), P("REQUEST_START", NULL), END };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ps[2].value = cases[i].v;
		assert_int_equal(req_parse(&r, *state, param, ps), APP_OK);
		if (cases[i].known)
			assert_true(r.queued_ms > 8000); /* long ago */
		else
			assert_int_equal(r.queued_ms, -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_parse_methods),
		T(test_parse_queued),
		T(test_parse),
		T(test_parse_headers),
		T(test_parse_ua),
		T(test_parse_cookie),
		T(test_cookie),
		T(test_cookie_lengths),
		T(test_page),
		T(test_page_lengths),
		T(test_resp_header),
		T(test_resp_header_arena_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
