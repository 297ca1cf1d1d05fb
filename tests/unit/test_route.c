/*
 * test_route.c: the route table against the contract's API table: every
 * route with and without the trailing slash, 404 and 405 with the right
 * Allow header, and the session id segment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "handlers.h"
#include "route.h"
#include "testlib.h"

#define ID    "0b6c3f4e-2a1d-4c8b-9e7f-1234567890ab"
#define ID_UP "0B6C3F4E-2A1D-4C8B-9E7F-1234567890AB"

/* The contract's table: method, path, handler, checks. */
struct route_case {
	enum method m;
	const char *path;
	handler_fn handler;
	unsigned int flags;
	const char *id; /* the id segment, or NULL */
};

static const struct route_case route_cases[] = {
	{ M_GET, "/healthz", h_health, 0, NULL },
	{ M_POST, "/api/auth/login", h_login, R_JSON, NULL },
	{ M_POST, "/api/auth/logout", h_logout, R_SESSION | R_CSRF, NULL },
	{ M_POST, "/api/auth/reauth", h_reauth, R_JSON | R_SESSION | R_CSRF,
	    NULL },
	{ M_POST, "/api/auth/password", h_password, R_JSON | R_SESSION | R_CSRF,
	    NULL },
	{ M_GET, "/api/users/me/current-session", h_current, R_SESSION, NULL },
	{ M_GET, "/api/auth/sessions", h_list, R_SESSION, NULL },
	/* Recent auth for a revocation: checked in its own statement. */
	{ M_DELETE, "/api/auth/sessions", h_revoke_others,
	    R_SESSION | R_CSRF | R_REAUTH_DB, NULL },
	{ M_GET, "/api/auth/sessions/" ID "/status", h_status, R_SESSION, ID },
	{ M_DELETE, "/api/auth/sessions/" ID, h_revoke,
	    R_SESSION | R_CSRF | R_REAUTH_DB, ID },
	{ M_GET, "/api/auth/audit", h_audit, R_SESSION, NULL },
};

static void
check_route(struct req *r, const struct route_case *c, const char *path)
{
	enum app_err rc;

	rc = route_match(r);
	if (rc != APP_OK)
		fail_msg("%s: %d", path, rc);
	assert_non_null(r->route);
	assert_int_equal(r->route->method, c->m);
	assert_ptr_equal(r->route->handler, c->handler);
	if (r->route->flags != c->flags)
		fail_msg(
		    "%s: flags %#x, want %#x", path, r->route->flags, c->flags);
	assert_non_null(r->route->name);
	assert_int_equal(r->resp.nheaders, 0);
	if (c->id != NULL) {
		assert_int_equal(r->id_valid, 1);
		assert_string_equal(r->id, c->id);
	} else
		assert_int_equal(r->id_valid, 0);
}

static void
test_routes(void **state)
{
	struct req r;
	char path[PATH_MAX_LEN + 2];
	size_t i;

	for (i = 0; i < nitems(route_cases); i++) {
		mkreq(&r, *state, route_cases[i].m, route_cases[i].path);
		check_route(&r, &route_cases[i], route_cases[i].path);
		/* The same with a trailing slash. */
		snprintf(path, sizeof(path), "%s/", route_cases[i].path);
		mkreq(&r, *state, route_cases[i].m, path);
		check_route(&r, &route_cases[i], path);
		arena_reset(*state);
	}
}

/* Known paths, other methods: 405 with every allowed method. */
struct method_case {
	enum method m;
	const char *path;
	const char *allow;
};

static const struct method_case method_cases[] = {
	{ M_POST, "/healthz", "GET" },
	{ M_DELETE, "/healthz/", "GET" },
	{ M_OTHER, "/healthz", "GET" },
	{ M_GET, "/api/auth/login", "POST" },
	{ M_PUT, "/api/auth/login/", "POST" },
	{ M_GET, "/api/auth/logout", "POST" },
	{ M_DELETE, "/api/auth/reauth", "POST" },
	{ M_GET, "/api/auth/password/", "POST" },
	{ M_POST, "/api/users/me/current-session", "GET" },
	{ M_PATCH, "/api/users/me/current-session/", "GET" },
	{ M_POST, "/api/auth/sessions", "GET, DELETE" },
	{ M_PUT, "/api/auth/sessions/", "GET, DELETE" },
	{ M_OTHER, "/api/auth/sessions", "GET, DELETE" },
	{ M_GET, "/api/auth/sessions/" ID, "DELETE" },
	{ M_POST, "/api/auth/sessions/" ID "/", "DELETE" },
	{ M_GET, "/api/auth/sessions/not-an-id", "DELETE" },
	{ M_DELETE, "/api/auth/sessions/" ID "/status", "GET" },
	{ M_POST, "/api/auth/sessions/x/status/", "GET" },
	{ M_POST, "/api/auth/audit", "GET" },
	{ M_DELETE, "/api/auth/audit/", "GET" },
};

static void
test_methods(void **state)
{
	struct req r;
	char want[64];
	size_t i;
	enum app_err rc;

	for (i = 0; i < nitems(method_cases); i++) {
		mkreq(&r, *state, method_cases[i].m, method_cases[i].path);
		rc = route_match(&r);
		if (rc != APP_EMETHOD)
			fail_msg("%d %s: %d, want 405", method_cases[i].m,
			    method_cases[i].path, rc);
		assert_null(r.route);
		assert_int_equal(r.resp.nheaders, 1);
		snprintf(
		    want, sizeof(want), "Allow: %s", method_cases[i].allow);
		assert_string_equal(r.resp.headers[0], want);
		arena_reset(*state);
	}
}

static const char *const unknown[] = {
	"",
	"/",
	"//",
	"/api",
	"/api/",
	"/api/auth",
	"/api/auth/",
	"/healthz//",
	"/healthzz",
	"/healthz.json",
	"/HEALTHZ",
	"/api/auth/login//",
	"/api/auth/login/x",
	"/api/auth/Login",
	"/api/auth/login?x=1",
	"api/auth/login",
	"/api//auth/login",
	"/api/auth/sessions//",
	"/api/auth/sessions///",
	"/api/auth/sessions//status",
	"/api/auth/sessions/" ID "/status/x",
	"/api/auth/sessions/" ID "/statuses",
	"/api/auth/sessions/" ID "//",
	"/api/auth/sessions/" ID "/" ID,
	"/api/auth/sessions/../x",
	"/api/auth/sessions/./../../healthz",
	"/api/auth/sessions/../../../etc/passwd",
	"/api/auth/sessions/..%2f..%2fx/status/x",
	"/api/users/me",
	"/api/users/me/current-session/x",
	"/api/users/1/current-session",
	"/api/auth/audit/1",
	"/../healthz",
	"/healthz/..",
	"/x/healthz",
};

static void
test_unknown(void **state)
{
	static const enum method ms[] = { M_GET, M_POST, M_DELETE, M_OTHER };
	struct req r;
	size_t i, j;
	enum app_err rc;

	for (i = 0; i < nitems(unknown); i++)
		for (j = 0; j < nitems(ms); j++) {
			mkreq(&r, *state, ms[j], unknown[i]);
			rc = route_match(&r);
			if (rc != APP_ENOTFOUND)
				fail_msg("\"%s\" (method %d): %d, want 404",
				    unknown[i], ms[j], rc);
			assert_null(r.route);
			assert_int_equal(r.resp.nheaders, 0);
		}
	arena_reset(*state);
}

/* The id segment: any one segment matches; only a UUID is valid. */
struct id_case {
	const char *seg;
	int valid;
	const char *id; /* r->id when valid: lower case */
};

static const struct id_case id_cases[] = {
	{ ID, 1, ID },
	{ ID_UP, 1, ID },
	{ "0b6C3f4E-2a1D-4c8B-9e7F-1234567890aB", 1, ID },
	{ "00000000-0000-0000-0000-000000000000", 1,
	    "00000000-0000-0000-0000-000000000000" },
	{ "x", 0, NULL },
	{ "..", 0, NULL },
	{ ".", 0, NULL },
	{ "current", 0, NULL },
	{ "123", 0, NULL },
	{ "0b6c3f4e-2a1d-4c8b-9e7f-1234567890a", 0, NULL },
	{ "0b6c3f4e-2a1d-4c8b-9e7f-1234567890abc", 0, NULL },
	{ "0b6c3f4e2a1d4c8b9e7f1234567890ab", 0, NULL },
	{ "{0b6c3f4e-2a1d-4c8b-9e7f-1234567890ab}", 0, NULL },
	{ "0b6c3f4e-2a1d-4c8b-9e7f-1234567890ag", 0, NULL },
	{ "0b6c3f4e-2a1d-4c8b-9e7f-1234567890ab%00", 0, NULL },
	{ "0b6c3f4e-2a1d-4c8b-9e7f-1234567890ab;x", 0, NULL },
	{ "\xc3\xa9", 0, NULL },
	{ "' OR 1=1 --", 0, NULL },
};

static void
test_ids(void **state)
{
	struct req r;
	char path[PATH_MAX_LEN + 2];
	size_t i, k;

	for (i = 0; i < nitems(id_cases); i++) {
		for (k = 0; k < 4; k++) {
			snprintf(path, sizeof(path), "/api/auth/sessions/%s%s",
			    id_cases[i].seg,
			    k == 0	 ? ""
				: k == 1 ? "/"
				: k == 2 ? "/status"
					 : "/status/");
			mkreq(&r, *state, k < 2 ? M_DELETE : M_GET, path);
			assert_int_equal(route_match(&r), APP_OK);
			assert_ptr_equal(
			    r.route->handler, k < 2 ? h_revoke : h_status);
			if (r.id_valid != id_cases[i].valid)
				fail_msg(
				    "\"%s\": id_valid %d", path, r.id_valid);
			/* One spelling: answers echo the canonical id. */
			if (id_cases[i].valid)
				assert_string_equal(r.id, id_cases[i].id);
			else
				assert_string_equal(r.id, "");
		}
	}
	arena_reset(*state);
}

/* Overlong ids still reach the route (400 later) up to PATH_MAX_LEN. */
static void
test_long_paths(void **state)
{
	char path[PATH_MAX_LEN + 64];
	struct req r;
	size_t pre = strlen("/api/auth/sessions/");

	/* The longest path we route, all of it the id. */
	memcpy(path, "/api/auth/sessions/", pre);
	memset(path + pre, 'a', PATH_MAX_LEN - pre);
	path[PATH_MAX_LEN] = '\0';
	mkreq(&r, *state, M_DELETE, path);
	assert_int_equal(route_match(&r), APP_OK);
	assert_ptr_equal(r.route->handler, h_revoke);
	assert_int_equal(r.id_valid, 0);
	mkreq(&r, *state, M_GET, path);
	assert_int_equal(route_match(&r), APP_EMETHOD);

	/* With a trailing slash past the cap: no API path is that long. */
	path[PATH_MAX_LEN] = '/';
	path[PATH_MAX_LEN + 1] = '\0';
	mkreq(&r, *state, M_DELETE, path);
	assert_int_equal(route_match(&r), APP_ENOTFOUND);

	/* A UUID padded to just below the cap stays invalid. */
	snprintf(path, sizeof(path), "/api/auth/sessions/%s%0*d", ID,
	    (int)(PATH_MAX_LEN - pre - strlen(ID)), 0);
	assert_int_equal(strlen(path), PATH_MAX_LEN);
	mkreq(&r, *state, M_DELETE, path);
	assert_int_equal(route_match(&r), APP_OK);
	assert_int_equal(r.id_valid, 0);
	arena_reset(*state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_routes),
		T(test_methods),
		T(test_unknown),
		T(test_ids),
		T(test_long_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
