/*
 * json.h: request bodies in, response bodies out, with json-c.
 */
#ifndef JSON_H
#define JSON_H

#include <json-c/json.h>

#include "app.h"

struct app;
struct req;
struct session;

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

/* Attach o (ownership taken) as the response body with status. */
enum app_err json_reply(struct req *r, int status, json_object *o);

/* A new object; the caller owns it. Never NULL (json-c aborts on OOM). */
json_object *json_new(void);

/* o[key] = string s, an RFC 3339 time t (null when t == 0), or null. */
void json_set_str(json_object *o, const char *key, const char *s);
void json_set_time(json_object *o, const char *key, long long t);

/* The contract's session object; current marks the acting session. */
json_object *json_session(const struct session *s, int current);

/* The contract's error body for e. */
const char *json_error_body(enum app_err e);

#endif /* JSON_H */
