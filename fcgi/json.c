/*
 * json.c: strict request parsing and response rendering.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "crypto.h"
#include "db.h"
#include "json.h"
#include "req.h"
#include "ua.h"
#include "util.h"

static void
put_json(void *p)
{
	json_object_put(p);
}

/*
 * A request body may hold a password: wipe its strings before json-c
 * frees them (our bodies are flat objects).
 */
static void
wipe_put_json(void *p)
{
	json_object *o = p;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			if (json_object_is_type(val, json_type_string))
				crypto_wipe(
				    (void *)(uintptr_t)json_object_get_string(
					val),
				    (size_t)json_object_get_string_len(val));
		}
	}
	json_object_put(o);
}

/*
 * Members of the top-level object as written (duplicates included): json-c
 * keeps only the last of a repeated key, and we refuse ambiguity. SIZE_MAX
 * when a string holds a raw control character: JSON forbids them (RFC 8259
 * section 7) and json-c's strict mode lets them through.
 */
static size_t
raw_members(const char *s, size_t n)
{
	size_t i, members = 0;
	int depth = 0, in_str = 0;

	for (i = 0; i < n; i++) {
		if (in_str) {
			if ((unsigned char)s[i] < 0x20)
				return SIZE_MAX;
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
			continue;
		}
		switch (s[i]) {
		case '"':
			in_str = 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			depth--;
			break;
		case ':':
			if (depth == 1)
				members++;
			break;
		}
	}
	return members;
}

enum app_err
json_parse_body(struct req *r)
{
	struct json_tokener *tok;
	json_object *o;
	size_t off;

	/* json-c's VALIDATE_UTF8 lets overlongs and surrogates through. */
	if (r->body == NULL || r->body_len == 0 ||
	    memchr(r->body, '\0', r->body_len) != NULL ||
	    !utf8_valid(r->body, r->body_len))
		return APP_EJSON;
	if ((tok = json_tokener_new_ex(JSON_DEPTH_MAX)) == NULL)
		return APP_EINTERNAL;
	json_tokener_set_flags(
	    tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	off = json_tokener_get_parse_end(tok);
	if (o != NULL && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (o == NULL)
		return APP_EJSON;
	if (arena_cleanup(r->arena, wipe_put_json, o) != 0)
		return APP_EINTERNAL;
	/* Nothing but whitespace may follow the value. */
	for (; off < r->body_len; off++)
		if (strchr(" \t\r\n", r->body[off]) == NULL)
			return APP_EJSON;
	if (!json_object_is_type(o, json_type_object) ||
	    raw_members(r->body, r->body_len) !=
		(size_t)json_object_object_length(o))
		return APP_EJSON;
	r->json = o;
	return APP_OK;
}

enum app_err
json_body(struct req *r, const char *const *allowed, json_object **out)
{
	enum app_err err;
	size_t i;
	int known;

	if (r->json == NULL && (err = json_parse_body(r)) != APP_OK)
		return err;
	json_object_object_foreach(r->json, key, val)
	{
		if (allowed == NULL)
			break;
		(void)val;
		known = 0;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				known = 1;
		if (!known)
			return APP_EJSON;
	}
	*out = r->json;
	return APP_OK;
}

enum app_err
json_opt_bool(json_object *o, const char *key, int *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return APP_OK;
	if (!json_object_is_type(v, json_type_boolean))
		return APP_EJSON;
	*out = json_object_get_boolean(v);
	return APP_OK;
}

const char *
json_str(json_object *o, const char *key, size_t max)
{
	json_object *v;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > max || strlen(s) != len)
		return NULL;
	return s;
}

enum app_err
json_reply(struct req *r, int status, json_object *o)
{
	if (arena_cleanup(r->arena, put_json, o) != 0)
		return APP_EINTERNAL;
	r->resp.status = status;
	r->resp.body = json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	return r->resp.body != NULL ? APP_OK : APP_EINTERNAL;
}

json_object *
json_new(void)
{
	return json_object_new_object();
}

void
json_set_str(json_object *o, const char *key, const char *s)
{
	json_object_object_add(
	    o, key, s != NULL ? json_object_new_string(s) : NULL);
}

void
json_set_time(json_object *o, const char *key, long long t)
{
	char buf[RFC3339_LEN + 1];

	if (t == 0) {
		json_object_object_add(o, key, NULL);
		return;
	}
	rfc3339(buf, (time_t)t);
	json_object_object_add(o, key, json_object_new_string(buf));
}

json_object *
json_session(const struct session *s, int current)
{
	struct ua_info ua;
	json_object *o = json_new();

	ua_parse_cached(s->ua, s->ch_ua, s->ch_platform, s->ch_mobile, &ua);
	json_set_str(o, "id", s->id);
	json_object_object_add(o, "current", json_object_new_boolean(current));
	json_set_time(o, "created_at", s->created_at);
	json_set_time(o, "last_seen_at", s->last_seen_at);
	json_set_time(o, "expires_at", s->expires_at);
	json_set_time(o, "authenticated_at", s->authenticated_at);
	json_set_str(o, "ip", *s->ip != '\0' ? s->ip : NULL);
	json_set_str(o, "user_agent", s->ua);
	json_set_str(o, "browser", ua.browser);
	json_set_str(o, "os", ua.os);
	json_set_str(o, "device", ua.device);
	return o;
}

const char *
json_error_body(enum app_err e)
{
	static char bodies[APP_ERR__MAX][256];
	const struct app_err_info *info;
	json_object *o, *err;

	if (e < 0 || e >= APP_ERR__MAX)
		e = APP_EINTERNAL;
	/* Rendered once per worker; the table never changes. */
	if (bodies[e][0] == '\0') {
		info = app_err_info(e);
		o = json_new();
		err = json_new();
		json_set_str(err, "code", info->code);
		json_set_str(err, "message", info->message);
		json_object_object_add(o, "error", err);
		snprintf(bodies[e], sizeof(bodies[e]), "%s",
		    json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
	return bodies[e];
}
