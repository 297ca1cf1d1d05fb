/*
 * metrics.h: counters, gauges and histograms in shared memory, and the
 * Prometheus text exposition of them.
 *
 * The master maps one anonymous shared region before it forks: a block
 * per worker slot (so that workers never write the same cache line), plus
 * the master's own gauges. A worker writes only its slot's block, with
 * relaxed atomic adds: no lock and no system call on the request path
 * (CLOCK_MONOTONIC is read through the vDSO). A separate process
 * ("sessiond-metrics", forked like a worker) sums the blocks of every
 * slot of both pools when scraped over HTTP on metrics_listen. Counters
 * live as long as the master, across worker restarts and reloads.
 *
 * Without metrics_init (sessionctl, the notifier, metrics_listen empty)
 * every hook is a no-op.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdio.h>
#include <time.h>

#include "app.h"

struct config;
struct req;

/* Worker slots the shared region holds: the master's most. */
#define METRICS_SLOTS 256

enum metrics_pool {
	POOL_MAIN,
	POOL_LOGIN,
	POOL__MAX
};

/* Kinds of database failure, as sessiond_db_errors_total{kind} shows. */
enum metrics_db_err {
	DBERR_CONNECT, /* a connection attempt failed */
	DBERR_LOST,    /* an open connection broke */
	DBERR_QUERY,   /* the server refused a statement */
	DBERR__MAX
};

/*
 * Map the shared region (before any fork) for worker slots 0..slots-1.
 * listen_fd is the scrape socket that metrics_serve answers on, or -1.
 * Returns 0, or -1 with errno set.
 */
int metrics_init(int slots, int listen_fd);

/* The scrape socket given to metrics_init, or -1 (metrics off). */
int metrics_listen_fd(void);

/* Master: slot i belongs to pool (before it forks the slot's worker). */
void metrics_slot_pool(int slot, enum metrics_pool pool);

/* Master: the listening socket of pool, whose queue the scrape reports. */
void metrics_pool_socket(enum metrics_pool pool, int fd);

/* In a freshly forked worker: from now on its hooks write slot's block. */
void metrics_attach(int slot);

/* Master: workers alive in pool now. */
void metrics_workers(enum metrics_pool pool, int alive);

/* Master: the worker of slot died unexpectedly and will be replaced. */
void metrics_worker_died(int slot);

/* Worker: a request was accepted; its start time goes to *t0. */
void metrics_request_begin(struct timespec *t0);

/*
 * Worker: the answer to r (err as the worker mapped it) is written.
 * Counts the request by route and status class, its error code, its
 * latency since t0, its wait in the listen queue, and for login,
 * re-auth and password change the outcome.
 */
void metrics_request_end(
    const struct req *r, enum app_err err, const struct timespec *t0);

/* db.c: one database round trip took since t0. */
void metrics_db_round_trip(const struct timespec *t0);

/* db.c: a failure of kind; a reconnection after one. */
void metrics_db_error(enum metrics_db_err kind);
void metrics_db_reconnect(void);

/* h_auth.c: one password hash (verify or new) ran since t0. */
void metrics_password_hash(const struct timespec *t0);

/* db.c: n sessions were revoked with reason ("user", "logout", ...). */
void metrics_revoked(const char *reason, int n);

/*
 * Write every metric, summed over all slots, in the Prometheus text
 * format (version 0.0.4) to out. db_up: 1 when the database answers, 0
 * when it does not, -1 unknown (not written).
 */
void metrics_render(FILE *out, int db_up);

/*
 * The scrape server's loop (in its own process): answer GET /metrics on
 * fd until SIGTERM or the master's death. cfg names the database that
 * sessiond_database_up probes.
 */
void metrics_serve(int fd, const struct config *cfg);

#endif /* METRICS_H */
