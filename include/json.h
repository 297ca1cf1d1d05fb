/*
 * json.h: request bodies in (json-c), response bodies out (a writer).
 */
#ifndef JSON_H
#define JSON_H

#include <json-c/json.h>

#include "app.h"

struct app;
struct req;

/*
 * Parse r->body as one JSON object into r->json: bounded depth, strict,
 * valid UTF-8, no control characters in strings, no repeated key. The
 * worker calls it before the session check (malformed JSON is a body
 * error); its strings are wiped when the request ends. APP_OK or
 * APP_EJSON.
 */
enum app_err json_parse_body(struct req *r);

/*
 * The body's object (parsed if need be) when all its keys are in allowed
 * (NULL terminated; NULL allows any); APP_EJSON otherwise.
 */
enum app_err json_body(
    struct req *r, const char *const *allowed, json_object **out);

/*
 * The string member key of o: present, a string, 1..max bytes, no NUL.
 * Returns it, or NULL.
 */
const char *json_str(json_object *o, const char *key, size_t max);

/*
 * The optional boolean member key of o: *out keeps its default when the
 * key is absent; anything but true or false is APP_EJSON.
 */
enum app_err json_opt_bool(json_object *o, const char *key, int *out);

/*
 * Answers are written straight into the request arena as JSON text, with
 * no json-c objects: a writer starts with jw_init(); jw_open() and
 * jw_close() write '{' '}' '[' ']'; the value calls write one member
 * (key: a constant of ours, written as is) or, with key NULL, one array
 * element. Strings are escaped (RFC 8259 section 7); NULL strings and
 * zero times are null. A writer whose arena ran out fails once, at
 * jw_reply().
 */
struct jw {
	struct arena *a;
	char *buf;
	size_t len, cap;
	int more;   /* a value precedes at this level: a comma first */
	int failed; /* the arena's cap was reached */
};

void jw_init(struct jw *, struct arena *);
void jw_open(struct jw *, const char *key, char brace);
void jw_close(struct jw *, char brace);
void jw_str(struct jw *, const char *key, const char *s);
void jw_time(struct jw *, const char *key, long long t);
void jw_bool(struct jw *, const char *key, int b);
void jw_int(struct jw *, const char *key, long long n);

/* The writer's text (NUL-terminated) as the response body with status. */
enum app_err jw_reply(struct req *r, int status, struct jw *w);

/* The contract's error body for e. */
const char *json_error_body(enum app_err e);

#endif /* JSON_H */
