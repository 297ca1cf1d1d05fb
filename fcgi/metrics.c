/*
 * metrics.c: counters and histograms in shared memory (one block per
 * worker slot, relaxed atomic adds), their Prometheus text exposition,
 * and the small HTTP server that answers scrapes on metrics_listen.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "req.h"
#include "route.h"

#ifndef SESSIOND_VERSION
#define SESSIOND_VERSION "unknown"
#endif

#define ROUTES_MAX   24 /* route table entries we label; one more: "none" */
#define CLASSES	     5	/* status classes 1xx .. 5xx */
#define BUCKETS_MAX  16
#define IO_TIMEOUT_S 2 /* a slow scraper cannot hold the server longer */

/* Bucket bounds in microseconds: 1 ms to 10 s, 2 s among them. */
static const long long req_bounds[] = { 1000, 2500, 5000, 10000, 25000, 50000,
	100000, 250000, 500000, 1000000, 2000000, 5000000, 10000000 };
/* A database round trip: 100 us to 5 s. */
static const long long db_bounds[] = { 100, 250, 500, 1000, 2500, 5000, 10000,
	25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000 };

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* What a password check ended in: login, re-auth, password change. */
enum outcome {
	OUT_SUCCESS,
	OUT_WRONG_PASSWORD,
	OUT_THROTTLED,
	OUT_DISABLED,
	OUT_BUSY,
	OUT_INVALID, /* any other 4xx: bad body, weak new password */
	OUT_ERROR,   /* any other 5xx: database unavailable, internal */
	OUT__MAX
};

static const char *const outcome_names[OUT__MAX] = { "success",
	"wrong_password", "throttled", "disabled", "busy", "invalid", "error" };

enum attempt {
	AT_LOGIN,
	AT_REAUTH,
	AT_PASSWORD,
	AT__MAX
};

static const struct {
	const char *route; /* route table name */
	const char *metric;
	const char *help;
} attempts[AT__MAX] = {
	{ "login", "sessiond_logins_total", "Login attempts by outcome." },
	{ "reauth", "sessiond_reauths_total",
	    "Re-authentication attempts by outcome." },
	{ "password", "sessiond_password_changes_total",
	    "Password change attempts by outcome." },
};

/* Revocation reasons of the contract; anything else counts as "other". */
static const char *const reasons[] = { "user", "logout", "others",
	"password_changed", "expired", "other" };
#define NREASONS nitems(reasons)

static const char *const pool_names[POOL__MAX] = { "main", "login" };
static const char *const dberr_names[DBERR__MAX] = { "connect", "lost",
	"query" };

/* Per bucket (not cumulative; the last one is +Inf) and the sum. */
struct hist {
	_Atomic uint64_t b[BUCKETS_MAX + 1];
	_Atomic uint64_t sum_us;
};

/* One worker slot's numbers; only that slot's worker adds to them. */
struct block {
	_Atomic uint64_t requests[ROUTES_MAX + 1][CLASSES];
	_Atomic uint64_t errors[APP_ERR__MAX];
	struct hist duration[ROUTES_MAX + 1];
	struct hist queue_wait;
	struct hist db_rtt;
	_Atomic uint64_t attempts[AT__MAX][OUT__MAX];
	_Atomic uint64_t revoked[NREASONS];
	_Atomic uint64_t db_errors[DBERR__MAX];
	_Atomic uint64_t db_reconnects;
	_Atomic uint64_t pw_hashes;
	_Atomic uint64_t pw_hash_us;
	_Atomic int64_t busy;
	_Atomic int pool; /* -1: slot unused */
} __attribute__((aligned(64)));

/* The master's numbers, then the slots. */
struct shared {
	_Atomic uint64_t restarts[POOL__MAX];
	_Atomic int64_t workers[POOL__MAX];
	long long start_time;
	int nslots;
	struct block slots[];
};

static struct shared *shm;
static struct block *self; /* this worker's slot, or NULL */
static int listen_fd = -1;
static int pool_fd[POOL__MAX] = { -1, -1 }; /* each pool's socket */
static int attempt_route[AT__MAX];	    /* route index, or -1 */

#define ADD(p, n) atomic_fetch_add_explicit((p), (n), memory_order_relaxed)
#define GET(p)	  atomic_load_explicit((p), memory_order_relaxed)

static long long
since_us(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - t0->tv_sec) * 1000000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000;
}

static void
observe(struct hist *h, const long long *bounds, size_t n, long long us)
{
	size_t i;

	if (us < 0)
		us = 0;
	for (i = 0; i < n && us > bounds[i]; i++)
		;
	ADD(&h->b[i], 1);
	ADD(&h->sum_us, (uint64_t)us);
}

int
metrics_init(int slots, int fd)
{
	size_t size;
	unsigned int i;
	int k;

	size = sizeof(struct shared) + (size_t)slots * sizeof(struct block);
	shm = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		shm = NULL;
		return -1;
	}
	shm->nslots = slots;
	shm->start_time = (long long)time(NULL);
	for (k = 0; k < slots; k++)
		atomic_init(&shm->slots[k].pool, -1);
	for (k = 0; k < AT__MAX; k++) {
		attempt_route[k] = -1;
		for (i = 0; i < route_count() && i < ROUTES_MAX; i++)
			if (strcmp(route_at(i)->name, attempts[k].route) == 0)
				attempt_route[k] = (int)i;
	}
	listen_fd = fd;
	return 0;
}

int
metrics_listen_fd(void)
{
	return listen_fd;
}

void
metrics_slot_pool(int slot, enum metrics_pool pool)
{
	if (shm != NULL && slot >= 0 && slot < shm->nslots)
		atomic_store(&shm->slots[slot].pool, (int)pool);
}

void
metrics_pool_socket(enum metrics_pool pool, int fd)
{
	if (pool >= 0 && pool < POOL__MAX)
		pool_fd[pool] = fd;
}

void
metrics_attach(int slot)
{
	if (shm != NULL && slot >= 0 && slot < shm->nslots)
		self = &shm->slots[slot];
}

void
metrics_workers(enum metrics_pool pool, int alive)
{
	if (shm != NULL)
		atomic_store_explicit(
		    &shm->workers[pool], alive, memory_order_relaxed);
}

void
metrics_worker_died(int slot)
{
	struct block *b;
	int pool;

	if (shm == NULL || slot < 0 || slot >= shm->nslots)
		return;
	b = &shm->slots[slot];
	/* It may have died inside a request. */
	atomic_store_explicit(&b->busy, 0, memory_order_relaxed);
	if ((pool = GET(&b->pool)) >= 0 && pool < POOL__MAX)
		ADD(&shm->restarts[pool], 1);
}

void
metrics_request_begin(struct timespec *t0)
{
	if (self == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, t0);
	ADD(&self->busy, 1);
}

static enum outcome
outcome_of(enum app_err err, int status)
{
	switch (err) {
	case APP_OK:
		return OUT_SUCCESS;
	case APP_ECREDS:
		return OUT_WRONG_PASSWORD;
	case APP_ETHROTTLE:
		return OUT_THROTTLED;
	case APP_EDISABLED:
		return OUT_DISABLED;
	case APP_EBUSY:
		return OUT_BUSY;
	default:
		return status >= 500 ? OUT_ERROR : OUT_INVALID;
	}
}

void
metrics_request_end(
    const struct req *r, enum app_err err, const struct timespec *t0)
{
	long long ri = ROUTES_MAX;
	int status = r->resp.status, cls, k;

	if (self == NULL)
		return;
	if (r->route != NULL) {
		ri = r->route - route_at(0);
		if (ri < 0 || ri >= ROUTES_MAX)
			ri = ROUTES_MAX;
	}
	cls = status / 100 - 1;
	if (cls < 0 || cls >= CLASSES)
		cls = CLASSES - 1;
	ADD(&self->requests[ri][cls], 1);
	if (err > APP_OK && err < APP_ERR__MAX)
		ADD(&self->errors[err], 1);
	observe(
	    &self->duration[ri], req_bounds, nitems(req_bounds), since_us(t0));
	if (r->queued_ms >= 0)
		observe(&self->queue_wait, req_bounds, nitems(req_bounds),
		    r->queued_ms * 1000);
	for (k = 0; k < AT__MAX; k++)
		if (attempt_route[k] == ri)
			ADD(&self->attempts[k][outcome_of(err, status)], 1);
	ADD(&self->busy, -1);
}

void
metrics_db_round_trip(const struct timespec *t0)
{
	if (self != NULL)
		observe(
		    &self->db_rtt, db_bounds, nitems(db_bounds), since_us(t0));
}

void
metrics_db_error(enum metrics_db_err kind)
{
	if (self != NULL && kind >= 0 && kind < DBERR__MAX)
		ADD(&self->db_errors[kind], 1);
}

void
metrics_db_reconnect(void)
{
	if (self != NULL)
		ADD(&self->db_reconnects, 1);
}

void
metrics_password_hash(const struct timespec *t0)
{
	if (self != NULL) {
		ADD(&self->pw_hashes, 1);
		ADD(&self->pw_hash_us, since_us(t0));
	}
}

void
metrics_revoked(const char *reason, int n)
{
	size_t i;

	if (self == NULL || n <= 0)
		return;
	for (i = 0; i < NREASONS - 1; i++)
		if (strcmp(reason, reasons[i]) == 0)
			break;
	ADD(&self->revoked[i], (uint64_t)n);
}

/* --- exposition ---------------------------------------------------- */

static int
used(const struct block *b)
{
	int pool = GET(&b->pool);

	return pool >= 0 && pool < POOL__MAX;
}

static void
head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A counter without labels: its HELP and TYPE lines, then its sample. */
static void
counter(FILE *out, const char *name, const char *help, uint64_t v)
{
	head(out, name, "counter", help);
	fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

/* Sum of field at byte offset off over the used slots (of pool, or all). */
static uint64_t
sum_at(size_t off, int pool)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < shm->nslots; i++) {
		const struct block *b = &shm->slots[i];

		if (used(b) && (pool < 0 || GET(&b->pool) == pool))
			n += GET((const _Atomic uint64_t *)(const void
				*)((const char *)b + off));
	}
	return n;
}

#define SUM(field, pool) sum_at(offsetof(struct block, field), (pool))

/* One histogram series: cumulative buckets, then sum and count. */
static void
hist_series(FILE *out, const char *name, const char *labels, size_t hist_off,
    const long long *bounds, size_t n, int pool)
{
	uint64_t cum = 0;
	size_t i;
	size_t b0 = hist_off + offsetof(struct hist, b);

	for (i = 0; i <= n; i++) {
		cum += sum_at(b0 + i * sizeof(_Atomic uint64_t), pool);
		if (i < n)
			fprintf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name,
			    labels, *labels ? "," : "", (double)bounds[i] / 1e6,
			    (unsigned long long)cum);
		else
			fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
			    labels, *labels ? "," : "",
			    (unsigned long long)cum);
	}
	fprintf(out, "%s_sum%s%s%s %.6f\n", name, *labels ? "{" : "", labels,
	    *labels ? "}" : "",
	    (double)sum_at(hist_off + offsetof(struct hist, sum_us), pool) /
		1e6);
	fprintf(out, "%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels,
	    *labels ? "}" : "", (unsigned long long)cum);
}

static const char *
route_label(unsigned int i)
{
	return i < route_count() && i < ROUTES_MAX ? route_at(i)->name : "none";
}

static unsigned int
nroutes(void)
{
	return route_count() < ROUTES_MAX ? route_count() : ROUTES_MAX;
}

static void
render_requests(FILE *out)
{
	char labels[64];
	unsigned int i, n = nroutes();
	int c, e;

	head(out, "sessiond_requests_total", "counter",
	    "Requests answered, by route and status class.");
	for (i = 0; i <= n; i++) {
		unsigned int ri = i == n ? ROUTES_MAX : i;

		for (c = 1; c < CLASSES; c++)
			fprintf(out,
			    "sessiond_requests_total{route=\"%s\","
			    "status=\"%dxx\"} %llu\n",
			    route_label(ri), c + 1,
			    (unsigned long long)SUM(requests[ri][c], -1));
	}
	head(out, "sessiond_request_errors_total", "counter",
	    "Error answers, by the error code of the JSON body.");
	for (e = APP_OK + 1; e < APP_ERR__MAX; e++)
		fprintf(out,
		    "sessiond_request_errors_total{code=\"%s\"} %llu\n",
		    app_err_info(e)->code,
		    (unsigned long long)SUM(errors[e], -1));
	head(out, "sessiond_request_duration_seconds", "histogram",
	    "Time from accepting a request to the end of its answer.");
	for (i = 0; i <= n; i++) {
		unsigned int ri = i == n ? ROUTES_MAX : i;

		snprintf(
		    labels, sizeof(labels), "route=\"%s\"", route_label(ri));
		hist_series(out, "sessiond_request_duration_seconds", labels,
		    offsetof(struct block, duration[ri]), req_bounds,
		    nitems(req_bounds), -1);
	}
}

static void
render_auth(FILE *out)
{
	size_t i;
	int k, o;

	for (k = 0; k < AT__MAX; k++) {
		head(out, attempts[k].metric, "counter", attempts[k].help);
		for (o = 0; o < OUT__MAX; o++)
			fprintf(out, "%s{outcome=\"%s\"} %llu\n",
			    attempts[k].metric, outcome_names[o],
			    (unsigned long long)SUM(attempts[k][o], -1));
	}
	counter(out, "sessiond_password_hashes_total",
	    "Passwords hashed or verified (the KDF run once each).",
	    SUM(pw_hashes, -1));
	head(out, "sessiond_password_hash_seconds_total", "counter",
	    "CPU-bound time spent in those hashes.");
	fprintf(out, "sessiond_password_hash_seconds_total %.6f\n",
	    (double)SUM(pw_hash_us, -1) / 1e6);
	head(out, "sessiond_sessions_revoked_total", "counter",
	    "Sessions revoked by sessiond, by reason.");
	for (i = 0; i < NREASONS; i++)
		fprintf(out,
		    "sessiond_sessions_revoked_total{reason=\"%s\"} %llu\n",
		    reasons[i], (unsigned long long)SUM(revoked[i], -1));
}

static void
render_db(FILE *out, int db_up)
{
	int k;

	if (db_up >= 0) {
		head(out, "sessiond_database_up", "gauge",
		    "1 when the database accepted a connection at this "
		    "scrape, else 0.");
		fprintf(out, "sessiond_database_up %d\n", db_up);
	}
	head(out, "sessiond_db_errors_total", "counter",
	    "Database failures seen by the workers, by kind.");
	for (k = 0; k < DBERR__MAX; k++)
		fprintf(out, "sessiond_db_errors_total{kind=\"%s\"} %llu\n",
		    dberr_names[k], (unsigned long long)SUM(db_errors[k], -1));
	counter(out, "sessiond_db_reconnects_total",
	    "Connections re-established after a database failure.",
	    SUM(db_reconnects, -1));
	head(out, "sessiond_db_round_trip_seconds", "histogram",
	    "Time of one database round trip (a statement or a pipeline).");
	hist_series(out, "sessiond_db_round_trip_seconds", "",
	    offsetof(struct block, db_rtt), db_bounds, nitems(db_bounds), -1);
}

/*
 * Connections waiting in the accept queue of the unix listening socket
 * fd, from the kernel's sock_diag (the queue length of a listener), or -1
 * when it cannot tell (no netlink, e.g. under the systemd unit's
 * RestrictAddressFamilies).
 */
static long long
unix_queue(int fd)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} msg;
	char buf[4096] __attribute__((aligned(8)));
	struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
	struct unix_diag_msg *m;
	struct rtattr *rta;
	struct stat st;
	long long q = -1;
	ssize_t n;
	int nl, len;

	if (fstat(fd, &st) != 0 ||
	    (nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
		 NETLINK_SOCK_DIAG)) == -1)
		return -1;
	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST;
	msg.req.sdiag_family = AF_UNIX;
	msg.req.udiag_states = ~0U;
	msg.req.udiag_ino = (unsigned int)st.st_ino;
	msg.req.udiag_show = UDIAG_SHOW_RQLEN;
	msg.req.udiag_cookie[0] = msg.req.udiag_cookie[1] = ~0U;
	if (send(nl, &msg, sizeof(msg), 0) != (ssize_t)sizeof(msg) ||
	    (n = recv(nl, buf, sizeof(buf), 0)) < (ssize_t)sizeof(*h) ||
	    !NLMSG_OK(h, (unsigned int)n) ||
	    h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
		close(nl);
		return -1;
	}
	m = NLMSG_DATA(h);
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (rta = (struct rtattr *)(m + 1); RTA_OK(rta, len);
	     rta = RTA_NEXT(rta, len))
		if (rta->rta_type == UNIX_DIAG_RQLEN &&
		    RTA_PAYLOAD(rta) >= sizeof(struct unix_diag_rqlen))
			q = ((struct unix_diag_rqlen *)RTA_DATA(rta))
				->udiag_rqueue;
	close(nl);
	return q;
}

/* Connections waiting for a worker on listening socket fd, or -1. */
static long long
listen_queue(int fd)
{
	struct sockaddr_storage ss;
	struct tcp_info ti;
	socklen_t len = sizeof(ss), tlen = sizeof(ti);

	memset(&ss, 0, sizeof(ss));
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_UNIX)
		return unix_queue(fd);
	/* A TCP listener's tcpi_unacked is its accept queue's length. */
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) != 0)
		return -1;
	return ti.tcpi_unacked;
}

static void
render_workers(FILE *out)
{
	char labels[32];
	int p, i;
	long long busy, q;

	head(out, "sessiond_workers", "gauge", "Worker processes alive.");
	for (p = 0; p < POOL__MAX; p++)
		fprintf(out, "sessiond_workers{pool=\"%s\"} %lld\n",
		    pool_names[p], (long long)GET(&shm->workers[p]));
	head(out, "sessiond_workers_busy", "gauge",
	    "Workers inside a request at this scrape.");
	for (p = 0; p < POOL__MAX; p++) {
		busy = 0;
		for (i = 0; i < shm->nslots; i++)
			if (GET(&shm->slots[i].pool) == p)
				busy += GET(&shm->slots[i].busy);
		fprintf(out, "sessiond_workers_busy{pool=\"%s\"} %lld\n",
		    pool_names[p], busy < 0 ? 0 : busy);
	}
	head(out, "sessiond_listen_queue", "gauge",
	    "Connections waiting for a worker in the pool's listen queue.");
	for (p = 0; p < POOL__MAX; p++)
		if ((q = listen_queue(pool_fd[p])) >= 0)
			fprintf(out,
			    "sessiond_listen_queue{pool=\"%s\"} %lld\n",
			    pool_names[p], q);
	head(out, "sessiond_worker_restarts_total", "counter",
	    "Workers that died and were replaced.");
	for (p = 0; p < POOL__MAX; p++)
		fprintf(out,
		    "sessiond_worker_restarts_total{pool=\"%s\"} %llu\n",
		    pool_names[p], (unsigned long long)GET(&shm->restarts[p]));
	head(out, "sessiond_queue_wait_seconds", "histogram",
	    "Time from nginx receiving a request to a worker taking it "
	    "(millisecond resolution).");
	for (p = 0; p < POOL__MAX; p++) {
		snprintf(labels, sizeof(labels), "pool=\"%s\"", pool_names[p]);
		hist_series(out, "sessiond_queue_wait_seconds", labels,
		    offsetof(struct block, queue_wait), req_bounds,
		    nitems(req_bounds), p);
	}
}

void
metrics_render(FILE *out, int db_up)
{
	if (shm == NULL)
		return;
	head(out, "sessiond_build_info", "gauge",
	    "Always 1; the version of the running sessiond.");
	fprintf(
	    out, "sessiond_build_info{version=\"%s\"} 1\n", SESSIOND_VERSION);
	head(out, "sessiond_start_time_seconds", "gauge",
	    "When the master started, in seconds since the epoch.");
	fprintf(out, "sessiond_start_time_seconds %lld\n", shm->start_time);
	render_requests(out);
	render_auth(out);
	render_db(out, db_up);
	render_workers(out);
}

/* --- the scrape server --------------------------------------------- */

static volatile sig_atomic_t serve_stop;

static void
on_term(int sig)
{
	(void)sig;
	serve_stop = 1;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR && !serve_stop)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
reply(int fd, const char *status, const char *extra, const char *body,
    size_t len, int with_body)
{
	char hdr[256];
	int n;

	n = snprintf(hdr, sizeof(hdr),
	    "HTTP/1.1 %s\r\n"
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "%s"
	    "Connection: close\r\n\r\n",
	    status, len, extra);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return;
	if (write_all(fd, hdr, (size_t)n) == 0 && with_body && len > 0)
		(void)write_all(fd, body, len);
}

/* Read up to the end of the headers; the request line is all we use. */
static int
read_request(int fd, char *buf, size_t max)
{
	size_t got = 0;
	ssize_t r;

	while (got < max - 1) {
		if ((r = read(fd, buf + got, max - 1 - got)) <= 0) {
			if (r == -1 && errno == EINTR && !serve_stop)
				continue;
			return -1;
		}
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL ||
		    strstr(buf, "\n\n") != NULL)
			return 0;
	}
	return -1;
}

static void
serve_one(int fd, const struct config *cfg)
{
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	char buf[SCRAPE_REQUEST_MAX], *path, *end, *body = NULL;
	size_t len = 0;
	FILE *out;
	int head_only;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (read_request(fd, buf, sizeof(buf)) != 0 ||
	    (path = strchr(buf, ' ')) == NULL) {
		reply(fd, "400 Bad Request", "", "bad request\n", 12, 1);
		return;
	}
	*path++ = '\0';
	if ((end = strpbrk(path, " ?\r\n")) != NULL)
		*end = '\0';
	head_only = strcmp(buf, "HEAD") == 0;
	if (strcmp(buf, "GET") != 0 && !head_only) {
		reply(fd, "405 Method Not Allowed", "Allow: GET, HEAD\r\n",
		    "method not allowed\n", 19, 1);
		return;
	}
	if (strcmp(path, "/metrics") != 0) {
		reply(fd, "404 Not Found", "", "not found: try /metrics\n", 24,
		    !head_only);
		return;
	}
	if ((out = open_memstream(&body, &len)) == NULL) {
		reply(fd, "500 Internal Server Error", "", "", 0, 0);
		return;
	}
	metrics_render(out, pg_server_up(cfg->database));
	if (fclose(out) != 0 || body == NULL)
		reply(fd, "500 Internal Server Error", "", "", 0, 0);
	else
		reply(fd, "200 OK", "", body, len, !head_only);
	free(body);
}

void
metrics_serve(int fd, const struct config *cfg)
{
	int c;

	if (child_signals(on_term) != 0)
		return;
	while (!serve_stop) {
		if ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			log_err("msg=\"metrics accept failed\" error=%s",
			    log_q(strerror(errno)));
			sleep(1);
			continue;
		}
		serve_one(c, cfg);
		close(c);
	}
}
