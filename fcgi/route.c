/*
 * route.c: the route table and the matcher.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "route.h"

static const struct route routes[] = {
	{ M_GET, "/healthz", 0, NULL, h_health, "health" },
	{ M_POST, "/api/auth/login", R_JSON, NULL, h_login, "login" },
	{ M_POST, "/api/auth/logout", R_SESSION | R_CSRF, p_logout, h_logout,
	    "logout" },
	{ M_POST, "/api/auth/reauth", R_JSON | R_SESSION | R_CSRF, NULL,
	    h_reauth, "reauth" },
	{ M_POST, "/api/auth/password", R_JSON | R_SESSION | R_CSRF, NULL,
	    h_password, "password" },
	{ M_GET, "/api/users/me/current-session", R_SESSION, NULL, h_current,
	    "current" },
	{ M_GET, "/api/auth/sessions", R_SESSION, p_list, h_list, "list" },
	{ M_DELETE, "/api/auth/sessions", R_SESSION | R_CSRF | R_REAUTH_DB,
	    p_revoke_others, h_revoke_others, "revoke_others" },
	{ M_GET, "/api/auth/sessions/*/status", R_SESSION, p_status, h_status,
	    "status" },
	{ M_DELETE, "/api/auth/sessions/*", R_SESSION | R_CSRF | R_REAUTH_DB,
	    p_revoke, h_revoke, "revoke" },
	{ M_GET, "/api/auth/audit", R_SESSION, p_audit, h_audit, "audit" },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

unsigned int
route_count(void)
{
	return NROUTES;
}

const struct route *
route_at(unsigned int i)
{
	return i < NROUTES ? &routes[i] : NULL;
}

static const char *const method_names[M__MAX] = {
	"GET",
	"POST",
	"PUT",
	"PATCH",
	"DELETE",
	"",
};

/*
 * Match path (len bytes, trailing slash already removed) against pattern.
 * On a '*' segment, copy it to id (at most idmax - 1 bytes, else no match).
 */
static int
match(const char *pat, const char *path, size_t len, char *id, size_t idmax)
{
	const char *p = path, *end = path + len, *seg;

	while (*pat != '\0') {
		if (*pat == '*') {
			seg = p;
			while (p < end && *p != '/')
				p++;
			if (p == seg || (size_t)(p - seg) >= idmax)
				return 0;
			memcpy(id, seg, (size_t)(p - seg));
			id[p - seg] = '\0';
			pat++;
			continue;
		}
		if (p == end || *p != *pat)
			return 0;
		p++;
		pat++;
	}
	return p == end;
}

enum app_err
route_match(struct req *r)
{
	char id[PATH_MAX_LEN + 1] = "", allow[64] = "";
	size_t len, i, j, n = 0;
	int found = 0;

	len = strlen(r->path);
	if (len > PATH_MAX_LEN)
		return APP_ENOTFOUND;
	if (len > 1 && r->path[len - 1] == '/')
		len--;
	for (i = 0; i < NROUTES; i++) {
		if (!match(routes[i].pattern, r->path, len, id, sizeof(id)))
			continue;
		if (routes[i].method == r->method) {
			r->route = &routes[i];
			if (strchr(routes[i].pattern, '*') != NULL) {
				/* Any other segment is a malformed id: 400 later. */
				r->id_valid = uuid_valid(id);
				/* One spelling: answers echo the canonical id. */
				for (j = 0; r->id_valid && j <= UUID_LEN; j++)
					r->id[j] =
					    (char)tolower((unsigned char)id[j]);
			}
			return APP_OK;
		}
		/* Truncation cannot happen: every method of a path fits. */
		n += (size_t)snprintf(allow + n, sizeof(allow) - n, "%s%s",
		    found++ ? ", " : "", method_names[routes[i].method]);
		if (n >= sizeof(allow))
			n = sizeof(allow) - 1;
	}
	if (!found)
		return APP_ENOTFOUND;
	if (resp_header(r, "Allow: %s", allow) != APP_OK)
		return APP_EINTERNAL;
	return APP_EMETHOD;
}
