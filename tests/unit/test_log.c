/*
 * test_log.c: every line parses as logfmt whatever a value held (a libpq
 * message with quotes, a newline, a backslash), no "prog[pid]:" prefix
 * when stderr is journald's stream, and one line per failed request.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "testlib.h"

#define OUT_MAX 8192
#define KV_MAX	16

static int saved_fd = -1;
static FILE *cap;
static char out[OUT_MAX];

/* Send stderr to a temporary file until capture_end(). */
static void
capture_begin(void)
{
	assert_non_null(cap = tmpfile());
	assert_true((saved_fd = dup(STDERR_FILENO)) >= 0);
	assert_true(dup2(fileno(cap), STDERR_FILENO) >= 0);
}

/* Stderr back; the captured text in out. */
static const char *
capture_end(void)
{
	size_t n;

	assert_true(dup2(saved_fd, STDERR_FILENO) >= 0);
	close(saved_fd);
	rewind(cap);
	n = fread(out, 1, sizeof(out) - 1, cap);
	out[n] = '\0';
	fclose(cap);
	return out;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

struct kv {
	char key[32];
	char val[1024];
};

static int
hex(char c)
{
	return c >= 'a' ? c - 'a' + 10 : c - '0';
}

/*
 * Parse one logfmt line (after any prefix up to "level=") into kv;
 * returns the number of pairs, or -1 when the line does not parse.
 */
static int
logfmt(const char *line, struct kv *kv, int max)
{
	const char *p = strstr(line, "level=");
	size_t k, v;
	int n = 0;

	if (p == NULL)
		return -1;
	while (*p != '\0' && *p != '\n') {
		if (n == max)
			return -1;
		for (k = 0; *p != '=' && *p != ' ' && *p != '\0'; p++)
			if (k < sizeof(kv[n].key) - 1)
				kv[n].key[k++] = *p;
		kv[n].key[k] = '\0';
		if (*p++ != '=' || k == 0)
			return -1;
		v = 0;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0' || *p == '\n')
					return -1;
				if (*p == '\\') {
					p++;
					if (*p == 'n')
						kv[n].val[v++] = '\n';
					else if (*p == 't')
						kv[n].val[v++] = '\t';
					else if (*p == 'r')
						kv[n].val[v++] = '\r';
					else if (*p == '"' || *p == '\\')
						kv[n].val[v++] = *p;
					else if (*p == 'x' && p[1] && p[2]) {
						kv[n].val[v++] =
						    (char)(hex(p[1]) << 4 |
							hex(p[2]));
						p += 2;
					} else
						return -1;
				} else
					kv[n].val[v++] = *p;
				if (v >= sizeof(kv[n].val) - 1)
					return -1;
			}
			p++;
		} else {
			for (; *p != ' ' && *p != '\n' && *p != '\0'; p++) {
				if (*p == '"' || *p == '=')
					return -1;
				kv[n].val[v++] = *p;
				if (v >= sizeof(kv[n].val) - 1)
					return -1;
			}
		}
		kv[n++].val[v] = '\0';
		if (*p == ' ')
			p++;
		else if (*p != '\n' && *p != '\0')
			return -1;
	}
	return n;
}

static const char *
get(const struct kv *kv, int n, const char *key)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].val;
	return NULL;
}

static void
test_libpq_error_parses(void **state)
{
	/* What PQresultErrorMessage gives for a bad query: quotes, newlines. */
	static const char msg[] =
	    "ERROR:  duplicate key value violates unique constraint "
	    "\"sessions_pkey\"\nDETAIL:  Key (id)=(x) already exists.\n"
	    "HINT: a \\ backslash\tand a tab \x01";
	struct kv kv[KV_MAX];
	int n;

	(void)state;
	capture_begin();
	log_init("test_log");
	log_err("msg=\"query failed\" stmt=%d error=%s route=%s", 3, log_q(msg),
	    log_q("sessions.revoke"));
	capture_end();
	assert_int_equal(count_lines(out), 1);
	n = logfmt(out, kv, KV_MAX);
	assert_int_equal(n, 5);
	assert_string_equal(get(kv, n, "level"), "error");
	assert_string_equal(get(kv, n, "msg"), "query failed");
	assert_string_equal(get(kv, n, "error"), msg);
	assert_string_equal(get(kv, n, "route"), "sessions.revoke");
}

static void
test_quote_words(void **state)
{
	(void)state;
	assert_string_equal(log_q("user"), "user");
	assert_string_equal(log_q("/run/sessiond.sock"), "/run/sessiond.sock");
	assert_string_equal(log_q(""), "\"\"");
	assert_string_equal(log_q(NULL), "\"\"");
	assert_string_equal(log_q("a b"), "\"a b\"");
	assert_string_equal(log_q("k=v"), "\"k=v\"");
	assert_string_equal(log_q("\"q\""), "\"\\\"q\\\"\"");
	assert_string_equal(log_q("a\\b"), "\"a\\\\b\"");
	assert_string_equal(log_q("\x7f"), "\"\\x7f\"");
}

static void
test_quote_cut(void **state)
{
	char big[4000];
	const char *q;
	struct kv kv[KV_MAX];
	size_t len;
	int n;

	(void)state;
	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	q = log_q(big);
	len = strlen(q);
	assert_true(len < LOG_VALUE_MAX);
	assert_memory_equal(q + len - 4, "...\"", 4);
	/* Never half an escape: the cut value still parses. */
	capture_begin();
	log_init("test_log");
	log_err("msg=x error=%s", q);
	capture_end();
	assert_int_equal(n = logfmt(out, kv, KV_MAX), 3);
	assert_int_equal(
	    strspn(get(kv, n, "error"), "\""), strlen(get(kv, n, "error")) - 3);
}

static void
test_journal_no_prefix(void **state)
{
	struct stat st;
	char v[64];

	(void)state;
	capture_begin();
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	log_init("test_log");
	log_info("msg=hello");
	capture_end();
	/* journald records the program and pid; the priority says the level. */
	assert_string_equal(out, "<6>level=info msg=hello\n");

	/* A JOURNAL_STREAM inherited from elsewhere is not our stderr. */
	capture_begin();
	setenv("JOURNAL_STREAM", "1:2", 1);
	log_init("test_log");
	log_info("msg=hello");
	capture_end();
	snprintf(v, sizeof(v), "test_log[%d]: level=info msg=hello\n",
	    (int)getpid());
	assert_string_equal(out, v);
	unsetenv("JOURNAL_STREAM");
}

static void
test_request_logged_once(void **state)
{
	struct kv kv[KV_MAX];
	int n;

	(void)state;
	capture_begin();
	log_init("test_log");
	log_request_begin();
	log_fail("cause=\"query failed\" stmt=%d error=%s", 4,
	    log_q("ERROR: \"x\""));
	log_request_end("sessions.revoke", 500);
	capture_end();
	assert_int_equal(count_lines(out), 1);
	n = logfmt(out, kv, KV_MAX);
	assert_int_equal(n, 7);
	assert_string_equal(get(kv, n, "msg"), "request failed");
	assert_string_equal(get(kv, n, "route"), "sessions.revoke");
	assert_string_equal(get(kv, n, "status"), "500");
	assert_string_equal(get(kv, n, "cause"), "query failed");
	assert_string_equal(get(kv, n, "error"), "ERROR: \"x\"");

	/* A 5xx without a cause inside is one line too. */
	capture_begin();
	log_request_begin();
	log_request_end("-", 503);
	capture_end();
	assert_int_equal(count_lines(out), 1);
	assert_non_null(
	    strstr(out, "msg=\"request failed\" route=- status=503"));

	/* A request that succeeded logs nothing; one that recovered, once. */
	capture_begin();
	log_request_begin();
	log_request_end("sessions.list", 200);
	log_request_begin();
	log_fail("cause=\"query failed\" stmt=%d", 2);
	log_request_end("sessions.list", 200);
	capture_end();
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "status=200"));

	/* A second failure in one request has its own line. */
	capture_begin();
	log_request_begin();
	log_fail("cause=one");
	log_fail("cause=two");
	log_request_end("sessions.list", 500);
	capture_end();
	assert_int_equal(count_lines(out), 2);

	/* Outside a request log_fail writes at once. */
	capture_begin();
	log_fail("cause=alone");
	capture_end();
	assert_int_equal(count_lines(out), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libpq_error_parses),
		cmocka_unit_test(test_quote_words),
		cmocka_unit_test(test_quote_cut),
		cmocka_unit_test(test_journal_no_prefix),
		cmocka_unit_test(test_request_logged_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
