/*
 * test_metrics.c: the hooks count what they should in shared memory, every
 * slot of both pools is summed, histograms are cumulative and agree with
 * their counts, outcomes follow the error, and the exposition is the
 * Prometheus text format line by line. Without metrics_init every hook is
 * a no-op (sessionctl and the notifier link the same code).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "arena.h"
#include "bounds.h"
#include "metrics.h"
#include "req.h"
#include "route.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* The exposition as one string (caller frees). */
static char *
render(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	metrics_render(f, 1);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* The value of the sample named exactly line (name and labels). */
static double
value(const char *text, const char *series)
{
	char want[256];
	const char *p;

	snprintf(want, sizeof(want), "\n%s ", series);
	p = strstr(text, want);
	if (p == NULL)
		fail_msg("no sample %s", series);
	return strtod(p + strlen(want), NULL);
}

/* A request that went through route_match for method and path. */
static void
request(struct arena *a, enum method m, const char *path, enum app_err err,
    int status, long long queued_ms)
{
	struct timespec t0;
	struct req r;

	memset(&r, 0, sizeof(r));
	r.arena = a;
	r.method = m;
	r.path = path;
	r.query = "";
	(void)route_match(&r);
	r.resp.status = status;
	r.queued_ms = queued_ms;
	metrics_request_begin(&t0);
	metrics_request_end(&r, err, &t0);
	arena_reset(a);
}

/* One password hash that began us microseconds ago. */
static void
hashed(long us)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	t0.tv_sec -= us / 1000000;
	t0.tv_nsec -= (us % 1000000) * 1000;
	if (t0.tv_nsec < 0) {
		t0.tv_nsec += 1000000000;
		t0.tv_sec--;
	}
	metrics_password_hash(&t0);
}

/* Before metrics_init: nothing counts, nothing breaks, nothing renders. */
static void
test_off(void **state)
{
	struct timespec t0 = { 0, 0 };
	char *text;

	request(*state, M_GET, "/healthz", APP_OK, 200, -1);
	metrics_db_round_trip(&t0);
	metrics_db_error(DBERR_LOST);
	metrics_db_reconnect();
	metrics_revoked("user", 3);
	metrics_password_hash(&t0);
	metrics_worker_died(0);
	metrics_workers(POOL_MAIN, 2);
	assert_int_equal(metrics_listen_fd(), -1);
	text = render();
	assert_string_equal(text, "");
	free(text);
}

static void
test_counts(void **state)
{
	char *text;

	assert_int_equal(metrics_init(4, -1), 0);
	metrics_slot_pool(0, POOL_MAIN);
	metrics_slot_pool(1, POOL_MAIN);
	metrics_slot_pool(2, POOL_LOGIN);
	/* slot 3 unused: a block nobody attached to adds nothing */

	metrics_attach(0);
	request(*state, M_GET, "/healthz", APP_OK, 200, -1);
	request(*state, M_GET, "/api/auth/sessions/", APP_EAUTH, 401, 2);
	request(*state, M_GET, "/nope", APP_ENOTFOUND, 404, 0);
	request(*state, M_GET, "/api/auth/sessions", APP_EDBDOWN, 503, 0);
	metrics_revoked("user", 1);
	metrics_revoked("others", 4);
	metrics_revoked("no-such-reason", 1);
	metrics_db_error(DBERR_CONNECT);
	metrics_db_reconnect();
	metrics_attach(1);
	request(*state, M_GET, "/healthz/", APP_OK, 200, -1);
	metrics_db_error(DBERR_LOST);
	metrics_attach(2);
	hashed(400000);
	hashed(350000);
	request(*state, M_POST, "/api/auth/login", APP_OK, 200, 1);
	request(*state, M_POST, "/api/auth/login", APP_ECREDS, 401, 1);
	request(*state, M_POST, "/api/auth/login", APP_ETHROTTLE, 429, 1);
	request(*state, M_POST, "/api/auth/login", APP_EDISABLED, 403, 1);
	request(*state, M_POST, "/api/auth/login", APP_EBUSY, 503, 9000);
	request(*state, M_POST, "/api/auth/login", APP_EJSON, 400, 1);
	request(*state, M_POST, "/api/auth/reauth", APP_EDBDOWN, 503, 1);
	metrics_workers(POOL_MAIN, 2);
	metrics_workers(POOL_LOGIN, 1);
	metrics_worker_died(2);
	metrics_worker_died(0);
	metrics_worker_died(0);

	text = render();
	/* Summed over slots 0 and 1 of the main pool. */
	assert_int_equal(
	    value(text,
		"sessiond_requests_total{route=\"health\",status=\"2xx\"}"),
	    2);
	assert_int_equal(
	    value(
		text, "sessiond_requests_total{route=\"list\",status=\"4xx\"}"),
	    1);
	assert_int_equal(
	    value(
		text, "sessiond_requests_total{route=\"list\",status=\"5xx\"}"),
	    1);
	assert_int_equal(
	    value(
		text, "sessiond_requests_total{route=\"none\",status=\"4xx\"}"),
	    1);
	assert_int_equal(
	    value(text,
		"sessiond_requests_total{route=\"login\",status=\"4xx\"}"),
	    4);
	assert_int_equal(
	    value(text,
		"sessiond_request_errors_total{code=\"database_unavailable\"}"),
	    2);
	assert_int_equal(
	    value(text, "sessiond_request_errors_total{code=\"not_found\"}"),
	    1);
	assert_int_equal(
	    value(text, "sessiond_logins_total{outcome=\"success\"}"), 1);
	assert_int_equal(
	    value(text, "sessiond_logins_total{outcome=\"wrong_password\"}"),
	    1);
	assert_int_equal(
	    value(text, "sessiond_logins_total{outcome=\"throttled\"}"), 1);
	assert_int_equal(
	    value(text, "sessiond_logins_total{outcome=\"disabled\"}"), 1);
	assert_int_equal(
	    value(text, "sessiond_logins_total{outcome=\"busy\"}"), 1);
	assert_int_equal(
	    value(text, "sessiond_logins_total{outcome=\"invalid\"}"), 1);
	assert_int_equal(
	    value(text, "sessiond_reauths_total{outcome=\"error\"}"), 1);
	assert_int_equal(
	    value(text, "sessiond_sessions_revoked_total{reason=\"user\"}"), 1);
	assert_int_equal(
	    value(text, "sessiond_sessions_revoked_total{reason=\"others\"}"),
	    4);
	assert_int_equal(
	    value(text, "sessiond_sessions_revoked_total{reason=\"other\"}"),
	    1);
	assert_int_equal(
	    value(text, "sessiond_db_errors_total{kind=\"connect\"}"), 1);
	assert_int_equal(
	    value(text, "sessiond_db_errors_total{kind=\"lost\"}"), 1);
	assert_int_equal(value(text, "sessiond_db_reconnects_total"), 1);
	assert_int_equal(value(text, "sessiond_password_hashes_total"), 2);
	/* the 0.75 s the two hashes began before they were counted */
	assert_non_null(
	    strstr(text, "sessiond_password_hash_seconds_total 0.75"));
	assert_int_equal(value(text, "sessiond_workers{pool=\"main\"}"), 2);
	assert_int_equal(value(text, "sessiond_workers{pool=\"login\"}"), 1);
	assert_int_equal(
	    value(text, "sessiond_worker_restarts_total{pool=\"main\"}"), 2);
	assert_int_equal(
	    value(text, "sessiond_worker_restarts_total{pool=\"login\"}"), 1);
	assert_int_equal(
	    value(text, "sessiond_workers_busy{pool=\"main\"}"), 0);
	assert_int_equal(value(text, "sessiond_database_up"), 1);
	/*
	 * Histograms: counted once each. (Which bucket is up to the clock:
	 * under valgrind a request may take over 1 ms.)
	 */
	assert_int_equal(
	    value(text,
		"sessiond_request_duration_seconds_count{route=\"login\"}"),
	    6);
	assert_int_equal(
	    value(text,
		"sessiond_request_duration_seconds_bucket{route=\"login\","
		"le=\"+Inf\"}"),
	    6);
	assert_int_equal(
	    value(text,
		"sessiond_request_duration_seconds_bucket{route=\"health\","
		"le=\"10\"}"),
	    2);
	/* Queue waits: in the login pool one of 9 s, the rest of 1 ms. */
	assert_int_equal(
	    value(text,
		"sessiond_queue_wait_seconds_bucket{pool=\"login\","
		"le=\"0.001\"}"),
	    6);
	assert_int_equal(
	    value(text,
		"sessiond_queue_wait_seconds_bucket{pool=\"login\",le=\"5\"}"),
	    6);
	assert_int_equal(
	    value(text,
		"sessiond_queue_wait_seconds_bucket{pool=\"login\",le=\"10\"}"),
	    7);
	assert_true(
	    value(text, "sessiond_queue_wait_seconds_sum{pool=\"login\"}") >
	    9.0);
	/* The main pool: -1 (no REQUEST_START) is not observed. */
	assert_int_equal(
	    value(text, "sessiond_queue_wait_seconds_count{pool=\"main\"}"), 3);
	free(text);
}

/* Every line is a comment or "name{labels} value"; buckets only grow. */
static void
test_format(void **state)
{
	regex_t sample, comment;
	char *text, *line, *save = NULL, prev_name[128] = "";
	double prev = 0;

	(void)state;
	assert_int_equal(regcomp(&sample,
			     "^[a-z_]+(\\{([a-z_]+=\"[^\"\\\\]*\",)*"
			     "[a-z_]+=\"[^\"\\\\]*\"\\})? [0-9.+e-]+$",
			     REG_EXTENDED | REG_NOSUB),
	    0);
	assert_int_equal(regcomp(&comment,
			     "^# (HELP [a-z_]+ .+|TYPE [a-z_]+ "
			     "(counter|gauge|histogram))$",
			     REG_EXTENDED | REG_NOSUB),
	    0);
	text = render();
	assert_true(strlen(text) > 1000);
	assert_int_equal(text[strlen(text) - 1], '\n');
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (regexec(line[0] == '#' ? &comment : &sample, line, 0, NULL,
			0) != 0)
			fail_msg("not the text format: %s", line);
		/* No user or session ids in labels. */
		assert_null(strstr(line, "{user_id="));
		assert_null(strstr(line, ",user_id="));
		assert_null(strstr(line, "{session_id="));
		assert_null(strstr(line, ",session_id="));
		if (strstr(line, "_bucket{") != NULL) {
			char name[128];
			const char *le = strstr(line, "le=");
			double v = strtod(strrchr(line, ' ') + 1, NULL);

			snprintf(
			    name, sizeof(name), "%.*s", (int)(le - line), line);
			if (strcmp(name, prev_name) == 0 && v < prev)
				fail_msg(
				    "bucket smaller than the last: %s", line);
			snprintf(prev_name, sizeof(prev_name), "%s", name);
			prev = v;
		}
	}
	free(text);
	regfree(&sample);
	regfree(&comment);
}

/* A child process writes its slot; the parent sees it: shared memory. */
static void
test_shared_across_fork(void **state)
{
	char *text;
	double before;
	pid_t pid;
	int status;

	text = render();
	before = value(
	    text, "sessiond_requests_total{route=\"audit\",status=\"2xx\"}");
	free(text);
	if ((pid = fork()) == 0) {
		metrics_attach(1);
		request(*state, M_GET, "/api/auth/audit", APP_OK, 200, 0);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	text = render();
	assert_int_equal(
	    value(text,
		"sessiond_requests_total{route=\"audit\",status=\"2xx\"}"),
	    before + 1);
	free(text);
}

/* Connect n clients to the listener fd at sa (never accepted). */
static void
connect_n(const struct sockaddr *sa, socklen_t len, int n, int *fds)
{
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = socket(sa->sa_family, SOCK_STREAM, 0);
		assert_true(fds[i] >= 0);
		assert_int_equal(connect(fds[i], sa, len), 0);
	}
}

/* The pools' listen queues: what waits for a worker, unix and TCP. */
static void
test_listen_queue(void **state)
{
	struct sockaddr_un su;
	struct sockaddr_in si;
	socklen_t len = sizeof(si);
	int ufd, tfd, c[5], i;
	char *text;

	(void)state;
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	snprintf(su.sun_path, sizeof(su.sun_path), "/tmp/test_metrics.%d",
	    (int)getpid());
	(void)unlink(su.sun_path);
	ufd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(ufd, (struct sockaddr *)&su, sizeof(su)), 0);
	assert_int_equal(listen(ufd, 16), 0);
	memset(&si, 0, sizeof(si));
	si.sin_family = AF_INET;
	si.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	tfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(tfd, (struct sockaddr *)&si, sizeof(si)), 0);
	assert_int_equal(listen(tfd, 16), 0);
	assert_int_equal(getsockname(tfd, (struct sockaddr *)&si, &len), 0);
	metrics_pool_socket(POOL_MAIN, tfd);
	metrics_pool_socket(POOL_LOGIN, ufd);

	text = render();
	assert_int_equal(
	    value(text, "sessiond_listen_queue{pool=\"main\"}"), 0);
	assert_int_equal(
	    value(text, "sessiond_listen_queue{pool=\"login\"}"), 0);
	free(text);
	connect_n((struct sockaddr *)&si, sizeof(si), 3, c);
	connect_n((struct sockaddr *)&su, sizeof(su), 2, c + 3);
	text = render();
	assert_int_equal(
	    value(text, "sessiond_listen_queue{pool=\"main\"}"), 3);
	assert_int_equal(
	    value(text, "sessiond_listen_queue{pool=\"login\"}"), 2);
	free(text);

	for (i = 0; i < 5; i++)
		close(c[i]);
	close(tfd);
	close(ufd);
	(void)unlink(su.sun_path);
	metrics_pool_socket(POOL_MAIN, -1);
	metrics_pool_socket(POOL_LOGIN, -1);
	/* No socket: no sample. */
	text = render();
	assert_null(strstr(text, "\nsessiond_listen_queue{"));
	free(text);
}

static int
setup(void **state)
{
	*state = arena_new(ARENA_SIZE);
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	arena_free(*state);
	return 0;
}

int
main(void)
{
	/* In this order: off first, then the counts the others build on. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_shared_across_fork),
		cmocka_unit_test(test_listen_queue),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
