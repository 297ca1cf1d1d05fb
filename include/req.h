/*
 * req.h: one request, typed. req.c is the only code that reads raw
 * FastCGI parameters; everything after works on struct req.
 */
#ifndef REQ_H
#define REQ_H

#include <stddef.h>

#include "app.h"
#include "bounds.h"
#include "util.h"

struct arena;
struct route;
struct session;

enum method {
	M_GET,
	M_POST,
	M_PUT,
	M_PATCH,
	M_DELETE,
	M_OTHER,
	M__MAX
};

struct resp {
	int status;
	const char *body; /* JSON text, NUL-terminated, or NULL */
	const char *headers[RESP_HEADERS_MAX]; /* "Name: value" */
	size_t nheaders;
};

struct req {
	struct arena *arena;
	enum method method;
	const char *path;    /* decoded path, no query */
	const char *query;   /* raw query string, "" if none */
	int https;	     /* served over TLS: Secure cookie */
	const char *cookies; /* the Cookie header (cookie.h reads it) */
	const char *ip;	     /* client address as nginx saw it */
	const char *ua;	     /* cleaned, at most UA_STORE_MAX */
	const char *ch_ua;   /* client hints, cleaned */
	const char *ch_platform;
	const char *ch_mobile;
	const char *host;	  /* Host header */
	const char *origin;	  /* Origin header, or NULL */
	const char *fetch_site;	  /* Sec-Fetch-Site, or NULL */
	const char *csrf;	  /* X-CSRF-Token, or NULL */
	const char *content_type; /* or NULL */
	long long content_length; /* -1 when absent */
	long long queued_ms;	  /* since nginx sent it; -1 unknown */
	int fd;			  /* the FastCGI connection; -1 none */
	char *body;		  /* read by the worker, NUL-terminated */
	size_t body_len;
	struct json_object *json; /* the parsed body (json.h) */

	/* Filled by the router and the session check. */
	const struct route *route;
	char id[UUID_LEN + 1]; /* the path's <id>, if any */
	int id_valid;
	struct session *sess;
	int id_is_own; /* the path's <id> is sess's own id */
	const struct cookie *ck;
	/*
	 * APP_OK, or APP_ECSRF when the Origin or the CSRF token is refused:
	 * decided once, before a prepare step may queue a write.
	 */
	enum app_err forged;

	struct resp resp;
};

/* Look up a FastCGI parameter; NULL when absent. */
typedef const char *(*req_param_fn)(void *ctx, const char *name);

/*
 * Fill r from the request's parameters (memory from arena). Returns APP_OK,
 * or APP_EINVAL when the request line itself is unusable.
 */
enum app_err req_parse(struct req *r, struct arena *, req_param_fn, void *ctx);

/*
 * 1 when nginx has closed r's FastCGI connection (its client went away
 * and nginx gave the request up), 0 while it waits for the answer or when
 * r has no connection (fd -1). Costs one poll(2) with no wait.
 */
int req_peer_gone(const struct req *r);

/*
 * The value of cookie name in a Cookie header, or NULL. When the name
 * appears twice the request is ambiguous and NULL is returned.
 */
const char *req_cookie(struct arena *, const char *header, const char *name);

/*
 * Parse the query string: limit (1..PAGE_MAX, default PAGE_DEFAULT) and
 * cursor (returned raw, NULL if absent). Unknown keys are ignored; a
 * repeated or malformed key is an error (APP_ELIMIT or APP_ECURSOR).
 */
/*
 * An unsafe request from another site is refused, login included: the
 * Origin must be ours, or without one Sec-Fetch-Site must not say another
 * site sent it. APP_OK or APP_ECSRF.
 */
enum app_err req_check_origin(const struct req *);

enum app_err req_page(const struct req *, int *limit, const char **cursor);

/*
 * Add a response header (copied into the arena). APP_OK, or APP_EINTERNAL
 * (logged) when the answer has no room for it: a header the answer needs
 * (a cookie, Allow, Retry-After) is never silently left out.
 */
enum app_err resp_header(struct req *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), warn_unused_result));

#endif /* REQ_H */
