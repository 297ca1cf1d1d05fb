/*
 * route.h: the API's table of contents. Each entry names a method, a path
 * pattern ('*' matches one path segment, the session id), what the worker
 * must check before calling the handler, and the handler.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include "app.h"
#include "req.h"

struct app;

/* What the worker checks, in the contract's order, before the handler. */
#define R_JSON	    0x01 /* body must be application/json */
#define R_SESSION   0x02 /* a valid session, else 401 */
#define R_CSRF	    0x04 /* X-CSRF-Token, else 403 */
#define R_REAUTH    0x08 /* recent auth, unless the target is self */
/*
 * Recent auth as R_REAUTH, applied by the database in the statement that
 * acts (the handler answers 403 reauth_required), so that the rule and the
 * change are one step; the worker does not check it.
 */
#define R_REAUTH_DB 0x10

typedef enum app_err (*handler_fn)(struct app *, struct req *);

/*
 * A route may name a prepare step: it parses the request's parameters
 * and queues the handler's read with them (db_queue_*: the pending slot
 * keeps them) so that it goes to the database together with the session
 * check. Its error is reported
 * only after the session check passed, keeping the contract's order.
 */
struct route {
	enum method method;
	const char *pattern;
	unsigned int flags;
	handler_fn prepare; /* or NULL */
	handler_fn handler;
	const char *name; /* for logs */
};

/*
 * Find the route for r->method and r->path (trailing slash optional).
 * Returns APP_OK and sets r->route (and r->id when the pattern has '*'),
 * APP_ENOTFOUND, or APP_EMETHOD with the Allow header added to r.
 */
enum app_err route_match(struct req *r);

/* The table's size and its entry i (i < route_count()), for metrics. */
unsigned int route_count(void);
const struct route *route_at(unsigned int i);

#endif /* ROUTE_H */
