/*
 * worker.c: the accept loop. Read a request, route it, run the checks in
 * the contract's order (route, body, session, CSRF, recent auth), call
 * the handler, write the answer, reset the request memory.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include "csrf.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "req.h"
#include "route.h"
#include "worker.h"

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static const char *
param(void *ctx, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
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

/*
 * An unsafe request from another site, or one without the session's CSRF
 * token where the route asks for it (after the session's cookie is read).
 */
static enum app_err
check_forged(const struct req *r)
{
	if (r->method != M_GET && req_check_origin(r) != APP_OK)
		return APP_ECSRF;
	if ((r->route->flags & R_CSRF) && !csrf_check(r->csrf, r->ck->token))
		return APP_ECSRF;
	return APP_OK;
}

static enum app_err
check_session(struct app *app, struct req *r)
{
	struct cookie *ck;
	enum app_err err, perr = APP_OK;

	if ((ck = arena_alloc(r->arena, sizeof(*ck))) == NULL ||
	    (r->sess = arena_alloc(r->arena, sizeof(*r->sess))) == NULL)
		return APP_EINTERNAL;
	/* A forged or foreign cookie never reaches the database. */
	if (cookie_session_get(r, &app->keys, ck) != APP_OK)
		return APP_EAUTH;
	r->ck = ck;
	/* Before the prepare step: a revocation is queued only if APP_OK. */
	r->forged = check_forged(r);
	if (r->route->prepare != NULL)
		perr = r->route->prepare(app, r);
	if ((err = db_auth(app->db, r, ck, r->sess)) != APP_OK)
		return err;
	/* Asked once: the re-auth rule and the revoke handler both need it. */
	r->id_is_own = r->id_valid && strcmp(r->id, r->sess->id) == 0;
	return perr;
}

static enum app_err
check_reauth(const struct app *app, const struct req *r)
{
	/* Ending one's own session (logging out) never needs it. */
	if (app->cfg.reauth_window == 0 || r->id_is_own)
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
	if (flags & R_SESSION) {
		if ((err = check_session(app, r)) != APP_OK)
			return err;
	} else {
		r->forged = check_forged(r);
	}
	if (r->forged != APP_OK)
		return r->forged;
	if ((flags & R_REAUTH) && (err = check_reauth(app, r)) != APP_OK)
		return err;
	return r->route->handler(app, r);
}

static void
respond(struct req *r, enum app_err err, FCGX_Stream *out)
{
	const struct app_err_info *info;
	size_t i;

	if (err != APP_OK) {
		/* A failed answer carries nothing of the half-built one. */
		if (err == APP_EINTERNAL)
			r->resp.nheaders = 0;
		info = app_err_info(err);
		r->resp.status = info->status;
		r->resp.body = json_error_body(err);
	}
	if (r->resp.status == 0)
		r->resp.status = 500;
	log_request_end(r->route ? r->route->name : "-", r->resp.status);
	FCGX_FPrintF(out,
	    "Status: %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n",
	    r->resp.status, app_status_reason(r->resp.status));
	for (i = 0; i < r->resp.nheaders; i++)
		FCGX_FPrintF(out, "%s\r\n", r->resp.headers[i]);
	FCGX_PutS("\r\n", out);
	if (r->resp.body != NULL && r->resp.status != 204) {
		FCGX_PutS(r->resp.body, out);
		FCGX_PutS("\n", out);
	}
}

/*
 * Kept connections. nginx keeps FastCGI connections open (fastcgi_keep_conn
 * with an upstream keepalive) for the requests that may be retried, so a
 * worker owns several: it polls the listening socket, the pool's hand-off
 * socket and its idle kept connections, and hands one ready connection at
 * a time to libfcgi (FCGX_Accept_r reads from req->ipcFd when it is open;
 * FCGX_Finish_r leaves it open when nginx asked to keep it). A ready kept
 * connection goes before a new one, so nothing waits on a busy listen
 * queue. A worker that stops passes its idle connections to the rest of
 * its pool over the hand-off socket (SCM_RIGHTS): a reload or a restart
 * never closes a connection nginx may be sending on.
 */
struct conns {
	struct pollfd pfd[2 + KEPT_MAX]; /* listen, hand-off, kept */
	int nkept;
	int next; /* where the scan for a ready connection starts */
	int handoff[2];
};

static void
conns_add(struct conns *c, int fd)
{
	if (c->nkept == KEPT_MAX) {
		close(fd); /* nginx sees it closed while idle */
		return;
	}
	c->pfd[2 + c->nkept].fd = fd;
	c->pfd[2 + c->nkept].events = POLLIN;
	c->pfd[2 + c->nkept].revents = 0;
	c->nkept++;
}

static int
conns_take(struct conns *c, int i)
{
	int fd = c->pfd[2 + i].fd;

	c->pfd[2 + i] = c->pfd[2 + c->nkept - 1];
	c->nkept--;
	return fd;
}

/* Connections another worker of the pool passed on. */
static void
conns_receive(struct conns *c)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * KEPT_MAX)];
	} u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	char byte;
	size_t i, n;
	int fd;

	iov.iov_base = &byte;
	iov.iov_len = 1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	if (recvmsg(c->handoff[1], &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0)
		return; /* another worker took it */
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(
			    &fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			conns_add(c, fd);
		}
	}
}

/* Pass every idle kept connection on to the pool, then close ours. */
static void
conns_handoff(struct conns *c)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * KEPT_MAX)];
	} u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	char byte = 0;
	int i;

	if (c->nkept == 0)
		return;
	if (c->handoff[0] != -1) {
		iov.iov_base = &byte;
		iov.iov_len = 1;
		memset(&msg, 0, sizeof(msg));
		memset(&u, 0, sizeof(u));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)c->nkept);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)c->nkept);
		for (i = 0; i < c->nkept; i++)
			memcpy(CMSG_DATA(cm) + (size_t)i * sizeof(int),
			    &c->pfd[2 + i].fd, sizeof(int));
		if (sendmsg(c->handoff[0], &msg, MSG_DONTWAIT) < 0)
			log_warn("msg=\"could not pass kept connections on\" "
				 "connections=%d error=%s",
			    c->nkept, log_q(strerror(errno)));
	}
	for (i = 0; i < c->nkept; i++)
		close(c->pfd[2 + i].fd);
	c->nkept = 0;
}

/*
 * Wait for the next connection with a request. The ready kept
 * connections and the listening socket take turns (round robin, the
 * listening socket one more place in the ring), so that neither a busy
 * kept connection nor a stream of new ones starves the other. -1 when
 * interrupted (stopping) or when there was nothing after all (another
 * worker accepted the new connection).
 */
static int
conns_next(struct conns *c, const sigset_t *waitmask)
{
	int i, k, n, fd;

	if (ppoll(c->pfd, (nfds_t)2 + (nfds_t)c->nkept, NULL, waitmask) < 0)
		return -1;
	if (c->pfd[1].revents & POLLIN)
		conns_receive(c);
	n = c->nkept + 1;
	for (k = 0; k < n; k++) {
		i = (c->next + k) % n;
		if (i < c->nkept) {
			if (c->pfd[2 + i].revents == 0)
				continue;
			c->next = i + 1;
			return conns_take(c, i);
		}
		if (!(c->pfd[0].revents & POLLIN))
			continue;
		c->next = 0;
		fd = accept4(c->pfd[0].fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNABORTED && errno != EINTR)
			log_err("msg=\"accept failed\" error=%s",
			    log_q(strerror(errno)));
	}
	return -1;
}

void
worker_run(struct app *app, int fd, const int handoff[2])
{
	sigset_t mask, waitmask;
	FCGX_Request fr;
	struct arena *arena;
	struct conns c;
	struct req r;
	struct timespec t0;
	enum app_err err;
	int conn;

	/* The master's death, even by SIGKILL, stops us after this request. */
	if (child_signals(on_term) != 0)
		return;
	/* SIGTERM arrives only inside ppoll(): no race with the flag. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	if ((arena = arena_new(ARENA_SIZE)) == NULL) {
		log_err("msg=\"out of memory\"");
		return;
	}
	memset(&c, 0, sizeof(c));
	c.handoff[0] = handoff != NULL ? handoff[0] : -1;
	c.handoff[1] = handoff != NULL ? handoff[1] : -1;
	/* Every worker of the pool wakes for a new connection; one gets it. */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	c.pfd[0].fd = fd;
	c.pfd[0].events = POLLIN;
	c.pfd[1].fd = c.handoff[1];
	c.pfd[1].events = POLLIN;
	(void)db_ready(app->db); /* connect now; retried per request */
	/* No listening socket for libfcgi: we accept; it only reads. */
	FCGX_InitRequest(&fr, -1, 0);
	while (!stopping) {
		if ((conn = conns_next(&c, &waitmask)) < 0)
			continue;
		/* FCGX_Accept_r must not close the connection we hand it. */
		fr.ipcFd = conn;
		fr.keepConnection = 1;
		if (FCGX_Accept_r(&fr) < 0)
			continue; /* closed by nginx while idle, or garbage */
		log_request_begin();
		metrics_request_begin(&t0);
		err = req_parse(&r, arena, param, &fr);
		r.fd = fr.ipcFd;
		if (err == APP_OK)
			err = handle(app, &r, &fr);
		respond(&r, err, fr.out);
		FCGX_Finish_r(&fr);
		metrics_request_end(&r, err, &t0);
		if (fr.ipcFd >= 0) /* nginx keeps it */
			conns_add(&c, fr.ipcFd);
		fr.ipcFd = -1;
		db_request_done(app->db);
		arena_reset(arena);
	}
	conns_handoff(&c);
	FCGX_Free(&fr, 1);
	arena_free(arena);
}
