/*
 * master.c: forks, watches and replaces workers. No request I/O here; the
 * signal handlers only set flags (nginx's process cycle).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "geoip.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "util.h"
#include "worker.h"

#define WORKERS_MAX	 256
#define BACKOFF_MIN_MS	 100
#define BACKOFF_MAX_MS	 5000
/*
 * A worker alive this long resets its back-off: a crash loop dies within
 * milliseconds of the fork, while a worker killed from outside once a
 * second has served for most of that second and must come back at once.
 */
#define STABLE_MS	 500
#define STOP_GRACE_S	 10 /* then SIGKILL */
/*
 * The database check behind systemd's STATUS= line: how often, and how
 * long one attempt may take (libpq's connect_timeout is not applied to a
 * non-blocking connection).
 */
#define PROBE_OK_MS	 10000
#define PROBE_DOWN_MS	 5000
#define PROBE_TIMEOUT_MS 5000

struct slot {
	int fd;		  /* the pool's listening socket */
	int *handoff;	  /* the pool's kept-connection hand-off pair */
	const char *name; /* process name: which pool, in ps */
	int pool;	  /* enum metrics_pool; -1: the scrape server */
	pid_t pid;	  /* 0: empty, waiting for restart_at */
	long long started_ms;
	long long restart_at_ms;
	int backoff_ms;
};

static volatile sig_atomic_t got_term, got_hup, got_chld;

static void
on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

void
master_notify(const char *state)
{
	struct sockaddr_un sa;
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;
	int fd;

	if (path == NULL || (len = strlen(path)) == 0 ||
	    len >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

/*
 * The database as the master last saw it: one connection attempt at a
 * time, made from the poll loop, so that "systemctl status sessiond"
 * says whether the workers can reach it (a wrong password, a database
 * that is down) instead of only "active (running)".
 */
struct probe {
	struct db_probe *p;
	long long deadline_ms, next_ms;
	int state; /* 0: not known yet, 1: reachable, -1: not */
	char msg[256];
};

/* The master's one probe; static so that a forked worker can drop it. */
static struct probe probe;

static void
probe_done(struct probe *pr, int state, long long t)
{
	db_probe_free(pr->p);
	pr->p = NULL;
	if (state == -1 && pr->state != -1)
		log_warn("msg=\"database check failed\" error=\"%s\"", pr->msg);
	else if (state == 1 && pr->state == -1)
		log_info("msg=\"database check passed\"");
	pr->state = state;
	pr->next_ms = t + (state == 1 ? PROBE_OK_MS : PROBE_DOWN_MS);
}

/* Start an attempt when one is due; fill pfd with what it waits for. */
static int
probe_prepare(struct probe *pr, const struct config *cfg, long long t,
    struct pollfd *pfd, long long *wait_ms)
{
	if (pr->p == NULL && t >= pr->next_ms) {
		if ((pr->p = db_probe_start(cfg)) == NULL) {
			snprintf(pr->msg, sizeof(pr->msg), "out of memory");
			probe_done(pr, -1, t);
		} else
			pr->deadline_ms = t + PROBE_TIMEOUT_MS;
	}
	if (pr->p == NULL) {
		if (pr->next_ms - t < *wait_ms)
			*wait_ms = pr->next_ms - t;
		return 0;
	}
	if (pr->deadline_ms - t < *wait_ms)
		*wait_ms = pr->deadline_ms - t;
	db_probe_wait(pr->p, pfd);
	return 1;
}

static void
probe_advance(struct probe *pr, const struct pollfd *pfd, long long t)
{
	int rc;

	if (pr->p == NULL)
		return;
	if (pfd->fd == -1 || pfd->revents != 0) {
		rc = db_probe_step(pr->p, pr->msg, sizeof(pr->msg));
		if (rc != 1) {
			probe_done(pr, rc == 0 ? 1 : -1, t);
			return;
		}
	}
	if (t >= pr->deadline_ms) {
		snprintf(pr->msg, sizeof(pr->msg), "no answer within %d ms",
		    PROBE_TIMEOUT_MS);
		probe_done(pr, -1, t);
	}
}

static pid_t
spawn(struct app *app, const struct slot *s, int idx, sigset_t *oldmask)
{
	char err[CONFIG_STR_MAX + 64];
	pid_t pid;

	if ((pid = fork()) == -1) {
		log_err("msg=\"fork failed\" error=%s", log_q(strerror(errno)));
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_NAME, s->name);
		/* The master's connection attempt is not the worker's. */
		db_probe_abandon(probe.p);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		if (s->pool < 0) {
			metrics_serve(s->fd, &app->cfg);
			_exit(0);
		}
		if (metrics_listen_fd() != -1)
			close(metrics_listen_fd());
		/*
		 * Hashing takes the CPU the other requests leave: during a
		 * storm, listing and revoking stay fast, and logins that
		 * cannot be hashed in time are refused within 2 s (h_auth.c).
		 */
		errno = 0;
		if (s->pool == POOL_LOGIN && app->cfg.login_nice > 0 &&
		    nice(app->cfg.login_nice) == -1 && errno != 0)
			log_warn("msg=\"login pool: nice failed\" error=%s",
			    log_q(strerror(errno)));
		metrics_attach(idx);
		if ((app->db = db_new(&app->cfg)) == NULL)
			_exit(1);
		if (geoip_open(app->cfg.geoip_database, err, sizeof(err)) != 0)
			log_err("msg=\"no locations\" error=\"%s\"", err);
		worker_run(app, s->fd, s->handoff);
		geoip_close();
		db_free(app->db);
		_exit(0);
	}
	return pid;
}

static void
start_slot(struct slot *s, int idx, struct app *app, sigset_t *oldmask)
{
	s->pid = spawn(app, s, idx, oldmask);
	s->started_ms = now_ms();
	if (s->pid == -1) {
		s->pid = 0;
		s->restart_at_ms = now_ms() + BACKOFF_MAX_MS;
	}
}

/* Collect dead workers; schedule restarts with a doubling back-off. */
static void
reap(struct slot *slots, int n, int stopping)
{
	pid_t pid;
	int status, i;
	long long t;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n; i++)
			if (slots[i].pid == pid)
				break;
		if (i == n)
			continue; /* an old worker replaced on reload */
		slots[i].pid = 0;
		if (stopping)
			continue;
		metrics_worker_died(i);
		t = now_ms();
		if (t - slots[i].started_ms >= STABLE_MS)
			slots[i].backoff_ms = 0;
		else if (slots[i].backoff_ms == 0)
			slots[i].backoff_ms = BACKOFF_MIN_MS;
		else if ((slots[i].backoff_ms *= 2) > BACKOFF_MAX_MS)
			slots[i].backoff_ms = BACKOFF_MAX_MS;
		slots[i].restart_at_ms = t + slots[i].backoff_ms;
		if (WIFSIGNALED(status))
			log_warn("msg=\"worker died\" pid=%d signal=%d "
				 "restart_in_ms=%d",
			    (int)pid, WTERMSIG(status), slots[i].backoff_ms);
		else
			log_warn("msg=\"worker exited\" pid=%d status=%d "
				 "restart_in_ms=%d",
			    (int)pid, WEXITSTATUS(status), slots[i].backoff_ms);
	}
}

static int
alive(const struct slot *slots, int n)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		k += slots[i].pid > 0;
	return k;
}

/* Workers alive per pool, for the metrics. */
static void
count_pools(const struct slot *slots, int n)
{
	int i, k[POOL__MAX] = { 0 };

	for (i = 0; i < n; i++)
		if (slots[i].pid > 0 && slots[i].pool >= 0)
			k[slots[i].pool]++;
	for (i = 0; i < POOL__MAX; i++)
		metrics_workers((enum metrics_pool)i, k[i]);
}

/* SIGTERM every worker, wait for them, SIGKILL what is left. */
static void
stop_all(struct slot *slots, int n, sigset_t *oldmask)
{
	long long deadline = now_ms() + STOP_GRACE_S * 1000LL;
	struct timespec ts = { 0, 50 * 1000000L };
	int i;

	for (i = 0; i < n; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, SIGTERM);
	while (alive(slots, n) > 0 && now_ms() < deadline) {
		ppoll(NULL, 0, &ts, oldmask);
		reap(slots, n, 1);
	}
	for (i = 0; i < n; i++)
		if (slots[i].pid > 0) {
			log_warn("msg=\"worker did not stop\" pid=%d",
			    (int)slots[i].pid);
			kill(slots[i].pid, SIGKILL);
		}
	while (waitpid(-1, NULL, 0) > 0)
		;
}

/* STATUS= for systemd, sent when it changes. */
static void
status_update(const struct slot *slots, int n, const struct probe *pr,
    char *last, size_t len)
{
	char buf[512];
	int i, up = 0, workers = 0;

	/* Workers of both pools; the scrape server is not one. */
	for (i = 0; i < n; i++)
		if (slots[i].pool >= 0) {
			workers++;
			up += slots[i].pid > 0;
		}
	snprintf(buf, sizeof(buf), "STATUS=%d of %d workers running; %s%s", up,
	    workers,
	    pr->state == 1	 ? "database reachable"
		: pr->state == 0 ? "database not checked yet"
				 : "database unreachable: ",
	    pr->state == -1 ? pr->msg : "");
	if (strcmp(buf, last) == 0)
		return;
	snprintf(last, len, "%s", buf);
	master_notify(buf);
}

/*
 * The slots: the main pool's workers, the login pool's, and the scrape
 * server's; the pools' hand-off sockets. Returns how many, or -1.
 */
static int
setup_slots(struct slot *slots, struct app *app, int fd, int login_fd,
    int handoff[2][2])
{
	int n, i, lw, cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < 1)
		cpus = 1;
	n = app->cfg.workers > 0 ? app->cfg.workers : cpus;
	/*
	 * Hashing gets half the CPUs: a login storm keeps every login worker
	 * busy, and the other half stays with the main pool, nginx and
	 * PostgreSQL (docs/operations.md, the login queue).
	 */
	lw = app->cfg.login_workers > 0 ? app->cfg.login_workers
					: (cpus + 1) / 2;
	memset(slots, 0, sizeof(slots[0]) * WORKERS_MAX);
	/* A worker that stops passes its kept connections to its pool. */
	for (i = 0; i < 2; i++)
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0,
			handoff[i]) != 0) {
			log_err("msg=\"socketpair failed\" error=%s",
			    log_q(strerror(errno)));
			return -1;
		}
	/* One slot stays free for the scrape server. */
	for (i = 0; i < n && i < WORKERS_MAX - 1; i++) {
		slots[i].fd = fd;
		slots[i].handoff = handoff[0];
		slots[i].name = "sessiond-worker";
		slots[i].pool = POOL_MAIN;
	}
	/* The login pool: the password hash never holds up other requests. */
	for (; login_fd != -1 && i < n + lw && i < WORKERS_MAX - 1; i++) {
		slots[i].fd = login_fd;
		slots[i].handoff = handoff[1];
		slots[i].name = "sessiond-login";
		slots[i].pool = POOL_LOGIN;
	}
	n = i;
	for (i = 0; i < n; i++)
		metrics_slot_pool(i, (enum metrics_pool)slots[i].pool);
	metrics_pool_socket(POOL_MAIN, fd);
	metrics_pool_socket(POOL_LOGIN, login_fd);
	if (metrics_listen_fd() != -1) {
		slots[n].fd = metrics_listen_fd();
		slots[n].name = "sessiond-metrics";
		slots[n].pool = -1;
		n++;
	}
	return n;
}

/*
 * Start the slots whose restart is due; returns how long until the next
 * one is (at most a second).
 */
static long long
restart_due(
    struct slot *slots, int n, struct app *app, sigset_t *oldmask, long long t)
{
	long long wait_ms = 1000;
	int i;

	for (i = 0; i < n; i++) {
		if (slots[i].pid != 0)
			continue;
		if (slots[i].restart_at_ms <= t)
			start_slot(&slots[i], i, app, oldmask);
		else if (slots[i].restart_at_ms - t < wait_ms)
			wait_ms = slots[i].restart_at_ms - t;
	}
	return wait_ms;
}

/* After a reload: a new worker first, then the old one retires. */
static void
replace_all(struct slot *slots, int n, struct app *app, sigset_t *oldmask)
{
	int i;

	log_info("msg=\"reloaded; replacing workers\"");
	for (i = 0; i < n; i++) {
		pid_t old = slots[i].pid;

		start_slot(&slots[i], i, app, oldmask);
		if (old > 0)
			kill(old, SIGTERM);
	}
}

int
master_run(struct app *app, int fd, int login_fd, int (*reload)(struct app *))
{
	struct slot slots[WORKERS_MAX];
	int handoff[2][2]; /* main pool, login pool */
	struct sigaction sa;
	struct timespec ts;
	sigset_t mask, oldmask;
	struct probe *pr = &probe;
	struct pollfd pfd;
	char status[512] = "";
	long long t, wait_ms;
	int n, i, npfd;

	if ((n = setup_slots(slots, app, fd, login_fd, handoff)) < 0)
		return 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Signals arrive only inside ppoll(): no race with the flags. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);

	for (i = 0; i < n; i++)
		start_slot(&slots[i], i, app, &oldmask);
	count_pools(slots, n);
	log_info("msg=\"started\" workers=%d", n);
	master_notify("READY=1");

	while (!got_term) {
		t = now_ms();
		wait_ms = restart_due(slots, n, app, &oldmask, t);
		npfd = probe_prepare(pr, &app->cfg, t, &pfd, &wait_ms);
		if (wait_ms < 0)
			wait_ms = 0;
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (wait_ms % 1000) * 1000000L;
		if (ppoll(npfd && pfd.fd != -1 ? &pfd : NULL,
			npfd && pfd.fd != -1 ? 1 : 0, &ts, &oldmask) == -1)
			pfd.revents = 0;
		if (npfd)
			probe_advance(pr, &pfd, now_ms());
		if (got_chld) {
			got_chld = 0;
			reap(slots, n, 0);
		}
		count_pools(slots, n);
		if (got_hup && !got_term) {
			got_hup = 0;
			master_notify("RELOADING=1");
			if (reload(app) == 0)
				replace_all(slots, n, app, &oldmask);
			master_notify("READY=1");
		}
		status_update(slots, n, pr, status, sizeof(status));
	}
	db_probe_free(pr->p);
	pr->p = NULL;
	master_notify("STOPPING=1");
	log_info("msg=\"stopping\"");
	stop_all(slots, n, &oldmask);
	log_info("msg=\"stopped\"");
	return 0;
}
