/*
 * worker.c: the accept loop. Read a request, route it, run the checks in
 * the contract's order (route, body, session, CSRF, recent auth), call
 * the handler, write the answer, reset the request memory.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "arena.h"
#include "bounds.h"
#include "cookie.h"
#include "crypto.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "req.h"
#include "route.h"
#include "worker.h"

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static const char *
param(void *ctx, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

int
worker_set_cookie(struct req *r, const char *value, int max_age)
{
	return resp_header(r,
	    "Set-Cookie: %s=%s; Path=/; Max-Age=%d; "
	    "HttpOnly; SameSite=Lax%s",
	    req_cookie_name(r), value, max_age, r->https ? "; Secure" : "");
}

/* A body may hold a password: wipe it when the request ends. */
static void
wipe_body(void *p)
{
	struct req *r = p;

	crypto_wipe(r->body, r->body_len);
}

static int
is_json(const char *ct)
{
	size_t n = strlen("application/json");

	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/*
 * Sizes first, then the type, then read exactly the declared bytes and
 * check that they are one JSON object: malformed JSON is a body error,
 * answered before the session and CSRF checks. The handler checks the keys.
 */
static enum app_err
check_body(struct req *r, FCGX_Request *fr)
{
	int n;

	if (r->content_length > BODY_MAX)
		return APP_ETOOBIG;
	if (!(r->route->flags & R_JSON))
		return APP_OK;
	if (!is_json(r->content_type))
		return APP_ETYPE;
	if (r->content_length <= 0)
		return APP_EJSON;
	r->body_len = (size_t)r->content_length;
	if ((r->body = arena_alloc(r->arena, r->body_len + 1)) == NULL)
		return APP_EINTERNAL;
	if (arena_cleanup(r->arena, wipe_body, r) != 0)
		return APP_EINTERNAL;
	n = FCGX_GetStr(r->body, (int)r->body_len, fr->in);
	if (n != (int)r->body_len)
		return APP_EJSON;
	return json_parse_body(r);
}

static enum app_err
check_session(struct app *app, struct req *r)
{
	struct cookie *ck;
	enum app_err err, perr = APP_OK;

	if (r->cookie == NULL)
		return APP_EAUTH;
	if ((ck = arena_alloc(r->arena, sizeof(*ck))) == NULL ||
	    (r->sess = arena_alloc(r->arena, sizeof(*r->sess))) == NULL)
		return APP_EINTERNAL;
	/* A forged or foreign cookie never reaches the database. */
	if (cookie_parse(r->cookie, &app->keys, ck) != APP_OK)
		return APP_EAUTH;
	r->ck = ck;
	if (r->route->prepare != NULL)
		perr = r->route->prepare(app, r);
	if ((err = db_auth(app->db, r, ck, r->sess)) != APP_OK)
		return err;
	return perr;
}

/*
 * An unsafe request from another site is refused, login included: the
 * Origin must be ours, or without one Sec-Fetch-Site must not say
 * another site sent it.
 */
static enum app_err
check_origin(const struct req *r)
{
	char want[300];

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

static enum app_err
check_reauth(const struct app *app, const struct req *r)
{
	/* Ending one's own session (logging out) never needs it. */
	if (app->cfg.reauth_window == 0 ||
	    (r->id_valid && strcmp(r->id, r->sess->id) == 0))
		return APP_OK;
	if (time(NULL) - r->sess->authenticated_at > app->cfg.reauth_window)
		return APP_EREAUTH;
	return APP_OK;
}

static enum app_err
handle(struct app *app, struct req *r, FCGX_Request *fr)
{
	enum app_err err;
	unsigned int flags;

	if ((err = route_match(r)) != APP_OK)
		return err;
	flags = r->route->flags;
	if ((err = check_body(r, fr)) != APP_OK)
		return err;
	if ((flags & R_SESSION) && (err = check_session(app, r)) != APP_OK)
		return err;
	if (r->method != M_GET && (err = check_origin(r)) != APP_OK)
		return err;
	if ((flags & R_CSRF) && !csrf_check(r->csrf, r->ck->token))
		return APP_ECSRF;
	if ((flags & R_REAUTH) && (err = check_reauth(app, r)) != APP_OK)
		return err;
	return r->route->handler(app, r);
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

static void
respond(struct req *r, enum app_err err, FCGX_Stream *out)
{
	const struct app_err_info *info;
	size_t i;

	if (err != APP_OK) {
		info = app_err_info(err);
		r->resp.status = info->status;
		r->resp.body = json_error_body(err);
		if (info->status >= 500)
			log_err("msg=\"request failed\" route=%s status=%d",
			    r->route ? r->route->name : "-", info->status);
	}
	if (r->resp.status == 0)
		r->resp.status = 500;
	FCGX_FPrintF(out,
	    "Status: %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n",
	    r->resp.status, status_text(r->resp.status));
	for (i = 0; i < r->resp.nheaders; i++)
		FCGX_FPrintF(out, "%s\r\n", r->resp.headers[i]);
	FCGX_PutS("\r\n", out);
	if (r->resp.body != NULL && r->resp.status != 204) {
		FCGX_PutS(r->resp.body, out);
		FCGX_PutS("\n", out);
	}
}

void
worker_run(struct app *app, int fd)
{
	struct sigaction sa;
	FCGX_Request fr;
	struct arena *arena;
	struct req r;
	enum app_err err;
	pid_t master = getppid();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term; /* no SA_RESTART: accept() returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	/* The master's death, even by SIGKILL, stops us after this request. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != master)
		return;

	if ((arena = arena_new(ARENA_SIZE)) == NULL) {
		log_err("msg=\"out of memory\"");
		return;
	}
	(void)db_ready(app->db); /* connect now; retried per request */
	FCGX_InitRequest(&fr, fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!stopping) {
		if (FCGX_Accept_r(&fr) < 0) {
			if (stopping || errno == EINTR)
				continue;
			log_err("msg=\"accept failed\" error=\"%s\"",
			    strerror(errno));
			break;
		}
		err = req_parse(&r, arena, param, &fr);
		if (err == APP_OK)
			err = handle(app, &r, &fr);
		respond(&r, err, fr.out);
		FCGX_Finish_r(&fr);
		db_request_done(app->db);
		arena_reset(arena);
	}
	FCGX_Free(&fr, 1);
	arena_free(arena);
}
