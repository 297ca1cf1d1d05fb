/*
 * req.c: FastCGI parameters to struct req; cookie and query parsing.
 */
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arena.h"
#include "bounds.h"
#include "log.h"
#include "req.h"
#include "util.h"

static const struct {
	const char *name;
	enum method m;
} methods[] = {
	{ "GET", M_GET },
	{ "POST", M_POST },
	{ "PUT", M_PUT },
	{ "PATCH", M_PATCH },
	{ "DELETE", M_DELETE },
};

/* A header we store or compare: bounded, valid UTF-8, no controls. */
static const char *
clean(struct arena *a, const char *v, size_t max)
{
	char *p;

	if (v == NULL)
		return NULL;
	if ((p = arena_alloc(a, max + 1)) == NULL)
		return NULL;
	text_clean(p, v, max);
	return p;
}

/*
 * The host the client addressed, with its port. Debian's fastcgi_params
 * pass nginx's $host (no port) as HTTP_HOST: then add SERVER_PORT unless
 * it is the scheme's default, so that the Origin check compares origins.
 */
static const char *
req_host(struct arena *a, const char *host, const char *port, int https)
{
	const char *colon, *bracket;
	char buf[HOST_PORT_MAX];
	int n;

	if (host == NULL || *host == '\0' || port == NULL || *port == '\0')
		return host;
	colon = strrchr(host, ':');
	bracket = strrchr(host, ']');
	if (colon != NULL && (bracket == NULL || colon > bracket))
		return host;
	if (strcmp(port, https ? "443" : "80") == 0)
		return host;
	n = snprintf(buf, sizeof(buf), "%s:%s", host, port);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return host;
	return arena_strndup(a, buf, (size_t)n);
}

/*
 * How long ago nginx handed the request over ("1732812345.123", nginx's
 * $msec), or -1: a request may wait in the listen queue behind slow ones.
 */
static long long
queued_ms(const char *v)
{
	struct timespec now;
	long long s, ms;
	const char *dot;
	char sec[24];

	if (v == NULL || (dot = strchr(v, '.')) == NULL ||
	    (size_t)(dot - v) >= sizeof(sec) || strlen(dot + 1) != 3)
		return -1;
	memcpy(sec, v, (size_t)(dot - v));
	sec[dot - v] = '\0';
	if (parse_ll(sec, 10, 0, INT32_MAX, &s) != 0 ||
	    parse_ll(dot + 1, 10, 0, 999, &ms) != 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &now);
	ms = ((long long)now.tv_sec * 1000 + now.tv_nsec / 1000000) -
	    (s * 1000 + ms);
	return ms < 0 ? 0 : ms;
}

enum app_err
req_parse(struct req *r, struct arena *a, req_param_fn get, void *ctx)
{
	const char *v;
	long long n;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->arena = a;
	r->fd = -1;
	r->content_length = -1;
	r->method = M_OTHER;
	if ((v = get(ctx, "REQUEST_METHOD")) == NULL)
		return APP_EINVAL;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(v, methods[i].name) == 0)
			r->method = methods[i].m;

	if ((v = get(ctx, "PATH_INFO")) == NULL || *v == '\0')
		v = get(ctx, "DOCUMENT_URI");
	if (v == NULL || *v != '/')
		return APP_EINVAL;
	r->path = v;
	r->query = (v = get(ctx, "QUERY_STRING")) != NULL ? v : "";
	r->https = (v = get(ctx, "HTTPS")) != NULL && strcmp(v, "on") == 0;
	r->ip = (v = get(ctx, "REMOTE_ADDR")) != NULL ? v : "";
	r->ua =
	    clean(a, (v = get(ctx, "HTTP_USER_AGENT")) ? v : "", UA_STORE_MAX);
	r->ch_ua =
	    clean(a, (v = get(ctx, "HTTP_SEC_CH_UA")) ? v : "", HINT_STORE_MAX);
	r->ch_platform = clean(a,
	    (v = get(ctx, "HTTP_SEC_CH_UA_PLATFORM")) ? v : "", HINT_STORE_MAX);
	r->ch_mobile = clean(a,
	    (v = get(ctx, "HTTP_SEC_CH_UA_MOBILE")) ? v : "", HINT_STORE_MAX);
	if (r->ua == NULL || r->ch_ua == NULL || r->ch_platform == NULL ||
	    r->ch_mobile == NULL)
		return APP_EINVAL;
	r->host = req_host(
	    a, get(ctx, "HTTP_HOST"), get(ctx, "SERVER_PORT"), r->https);
	r->origin = get(ctx, "HTTP_ORIGIN");
	r->fetch_site = get(ctx, "HTTP_SEC_FETCH_SITE");
	r->csrf = get(ctx, "HTTP_X_CSRF_TOKEN");
	r->content_type = get(ctx, "CONTENT_TYPE");
	if (r->content_type != NULL && *r->content_type == '\0')
		r->content_type = NULL;
	if ((v = get(ctx, "CONTENT_LENGTH")) != NULL && *v != '\0') {
		if (parse_ll(v, 10, 0, INT64_MAX, &n) != 0)
			return APP_EINVAL;
		r->content_length = n;
	}
	r->queued_ms = queued_ms(get(ctx, "REQUEST_START"));
	r->cookies = get(ctx, "HTTP_COOKIE");
	return APP_OK;
}

int
req_peer_gone(const struct req *r)
{
	struct pollfd p = { .fd = r->fd, .events = POLLRDHUP };

	/*
	 * nginx (fastcgi_ignore_client_abort off) closes the upstream
	 * connection when its client leaves. The request's bytes may still
	 * be unread, so POLLIN says nothing; the peer's close shows as
	 * POLLRDHUP on TCP and on unix sockets alike.
	 */
	if (r->fd < 0 || poll(&p, 1, 0) != 1)
		return 0;
	return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

const char *
req_cookie(struct arena *a, const char *h, const char *name)
{
	const char *p = h, *found = NULL, *end;
	size_t nlen = strlen(name), flen = 0;

	if (strlen(h) > COOKIE_HDR_MAX)
		return NULL;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (*p == '\0')
			break;
		if ((end = strchr(p, ';')) == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			/* Two cookies of one name: someone planted one. */
			if (found != NULL)
				return NULL;
			found = p + nlen + 1;
			flen = (size_t)(end - found);
			while (flen > 0 &&
			    (found[flen - 1] == ' ' || found[flen - 1] == '\t'))
				flen--;
		}
		p = end;
	}
	if (found == NULL || flen == 0 || flen > COOKIE_MAX)
		return NULL;
	return arena_strndup(a, found, flen);
}

/* Value of key in query (raw), counting occurrences. */
static const char *
query_get(struct arena *a, const char *q, const char *key, int *count)
{
	const char *p = q, *end, *val = NULL;
	size_t klen = strlen(key), vlen = 0;

	*count = 0;
	while (*p != '\0') {
		if ((end = strchr(p, '&')) == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) >= klen && strncmp(p, key, klen) == 0 &&
		    (p[klen] == '=' || p + klen == end)) {
			(*count)++;
			val = p[klen] == '=' ? p + klen + 1 : end;
			vlen = (size_t)(end - val);
		}
		p = *end ? end + 1 : end;
	}
	return val != NULL ? arena_strndup(a, val, vlen) : NULL;
}

enum app_err
req_page(const struct req *r, int *limit, const char **cursor)
{
	const char *v;
	long long n;
	int count;

	*limit = PAGE_DEFAULT;
	*cursor = NULL;
	if (strlen(r->query) > QUERY_MAX)
		return APP_EINVAL;
	v = query_get(r->arena, r->query, "limit", &count);
	if (count > 1 ||
	    (count == 1 &&
		(v == NULL || parse_ll(v, 10, 1, PAGE_MAX, &n) != 0)))
		return APP_ELIMIT;
	if (count == 1)
		*limit = (int)n;
	v = query_get(r->arena, r->query, "cursor", &count);
	if (count > 1 ||
	    (count == 1 && (v == NULL || *v == '\0' || strlen(v) > CURSOR_MAX)))
		return APP_ECURSOR;
	*cursor = v;
	return APP_OK;
}

enum app_err
resp_header(struct req *r, const char *fmt, ...)
{
	char buf[RESP_HEADER_LINE_MAX], *p;
	va_list ap;
	int n;

	if (r->resp.nheaders == RESP_HEADERS_MAX) {
		log_err("msg=\"response header dropped: too many\" "
			"headers=%d",
		    RESP_HEADERS_MAX);
		return APP_EINTERNAL;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		log_err("msg=\"response header dropped: too long\" max=%d",
		    RESP_HEADER_LINE_MAX);
		return APP_EINTERNAL;
	}
	if ((p = arena_strndup(r->arena, buf, (size_t)n)) == NULL) {
		log_err("msg=\"response header dropped: out of request "
			"memory\"");
		return APP_EINTERNAL;
	}
	r->resp.headers[r->resp.nheaders++] = p;
	return APP_OK;
}

/*
 * An unsafe request from another site is refused, login included: the
 * Origin must be ours, or without one Sec-Fetch-Site must not say
 * another site sent it.
 */
enum app_err
req_check_origin(const struct req *r)
{
	char want[ORIGIN_MAX];

	if (r->origin != NULL) {
		if (r->host == NULL)
			return APP_ECSRF;
		snprintf(want, sizeof(want), "%s://%s",
		    r->https ? "https" : "http", r->host);
		return strcasecmp(r->origin, want) == 0 ? APP_OK : APP_ECSRF;
	}
	if (r->fetch_site != NULL &&
	    strcmp(r->fetch_site, "same-origin") != 0 &&
	    strcmp(r->fetch_site, "none") != 0)
		return APP_ECSRF;
	return APP_OK;
}
