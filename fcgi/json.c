/*
 * json.c: strict request parsing, and the writer answers are built with.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "bounds.h"
#include "crypto.h"
#include "json.h"
#include "log.h"
#include "req.h"
#include "util.h"

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

#define JW_START 4096 /* first buffer; doubled as needed */

void
jw_init(struct jw *w, struct arena *a)
{
	memset(w, 0, sizeof(*w));
	w->a = a;
}

static void
jw_put(struct jw *w, const char *s, size_t n)
{
	size_t cap;
	char *nb;

	if (w->failed)
		return;
	if (w->len + n + 1 > w->cap) {
		cap = w->cap != 0 ? w->cap : JW_START;
		while (cap < w->len + n + 1)
			cap *= 2;
		if ((nb = arena_alloc(w->a, cap)) == NULL) {
			w->failed = 1;
			return;
		}
		if (w->len > 0)
			memcpy(nb, w->buf, w->len);
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* The comma and "key": before a value. */
static void
jw_key(struct jw *w, const char *key)
{
	if (w->more)
		jw_put(w, ",", 1);
	w->more = 1;
	if (key != NULL) {
		jw_put(w, "\"", 1);
		jw_put(w, key, strlen(key));
		jw_put(w, "\":", 2);
	}
}

/* s as a JSON string: ", \ and control characters escaped, '/' not. */
static void
jw_escaped(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	char u[6] = { '\\', 'u', '0', '0', 0, 0 };
	unsigned char c;

	jw_put(w, "\"", 1);
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jw_put(w, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"':
			jw_put(w, "\\\"", 2);
			break;
		case '\\':
			jw_put(w, "\\\\", 2);
			break;
		case '\n':
			jw_put(w, "\\n", 2);
			break;
		case '\r':
			jw_put(w, "\\r", 2);
			break;
		case '\t':
			jw_put(w, "\\t", 2);
			break;
		default:
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
			jw_put(w, u, sizeof(u));
		}
	}
	jw_put(w, run, (size_t)(s - run));
	jw_put(w, "\"", 1);
}

void
jw_open(struct jw *w, const char *key, char brace)
{
	jw_key(w, key);
	jw_put(w, &brace, 1);
	w->more = 0;
}

void
jw_close(struct jw *w, char brace)
{
	jw_put(w, &brace, 1);
	w->more = 1;
}

void
jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (s == NULL)
		jw_put(w, "null", 4);
	else
		jw_escaped(w, s);
}

void
jw_time(struct jw *w, const char *key, long long t)
{
	char buf[RFC3339_LEN + 3];

	jw_key(w, key);
	if (t == 0) {
		jw_put(w, "null", 4);
		return;
	}
	buf[0] = '"';
	rfc3339(buf + 1, (time_t)t);
	buf[RFC3339_LEN + 1] = '"';
	jw_put(w, buf, RFC3339_LEN + 2);
}

void
jw_bool(struct jw *w, const char *key, int b)
{
	jw_key(w, key);
	if (b)
		jw_put(w, "true", 4);
	else
		jw_put(w, "false", 5);
}

void
jw_int(struct jw *w, const char *key, long long n)
{
	char buf[24];
	int len;

	jw_key(w, key);
	len = snprintf(buf, sizeof(buf), "%lld", n);
	jw_put(w, buf, (size_t)len);
}

enum app_err
jw_reply(struct req *r, int status, struct jw *w)
{
	if (w->failed || w->buf == NULL) {
		log_err("msg=\"answer over the request memory cap\"");
		return APP_EINTERNAL;
	}
	r->resp.status = status;
	r->resp.body = w->buf;
	return APP_OK;
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
		o = json_object_new_object();
		err = json_object_new_object();
		json_object_object_add(
		    err, "code", json_object_new_string(info->code));
		json_object_object_add(
		    err, "message", json_object_new_string(info->message));
		json_object_object_add(o, "error", err);
		snprintf(bodies[e], sizeof(bodies[e]), "%s",
		    json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
	return bodies[e];
}
