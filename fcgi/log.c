/*
 * log.c: stderr lines, one per event, "key=value" pairs that parse: a
 * value from outside (an error message, a path) goes through log_q(),
 * which quotes and escapes it. A line is written with a single write(2)
 * so that workers do not interleave. Under journald (JOURNAL_STREAM names
 * our stderr) the line carries no "prog[pid]:" prefix, since journald
 * records both, but a "<N>" priority that journald reads as the level.
 *
 * A request that fails is one line: what went wrong inside (log_fail) is
 * kept and written with the response's status by log_request_end.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LINE_MAX_LEN 1024
#define QUOTE_SLOTS  4

static const char *prog = "sessiond";
static enum log_level threshold = LOG_INFO;
static int journal;

static int in_request;
static char cause[LOG_VALUE_MAX * 2];

static const char *const level_names[LOG_LEVEL__MAX] = {
	"debug",
	"info",
	"warn",
	"error",
};

/* sd-daemon(3) priorities: debug, info, warning, err. */
static const char *const level_prio[LOG_LEVEL__MAX] = {
	"<7>",
	"<6>",
	"<4>",
	"<3>",
};

/* Whether JOURNAL_STREAM ("device:inode") names our stderr. */
static int
stderr_is_journal(void)
{
	const char *v, *colon;
	char dev[32];
	long long d, i;
	struct stat st;

	if ((v = getenv("JOURNAL_STREAM")) == NULL ||
	    (colon = strchr(v, ':')) == NULL ||
	    (size_t)(colon - v) >= sizeof(dev))
		return 0;
	memcpy(dev, v, (size_t)(colon - v));
	dev[colon - v] = '\0';
	if (parse_ll(dev, 10, 0, LLONG_MAX, &d) != 0 ||
	    parse_ll(colon + 1, 10, 0, LLONG_MAX, &i) != 0 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)d == (unsigned long long)st.st_dev &&
	    (unsigned long long)i == (unsigned long long)st.st_ino;
}

void
log_init(const char *name)
{
	const char *lv;
	int i;

	prog = name;
	journal = stderr_is_journal();
	if ((lv = getenv("SESSIOND_LOG_LEVEL")) == NULL)
		return;
	for (i = 0; i < LOG_LEVEL__MAX; i++)
		if (strcmp(lv, level_names[i]) == 0)
			threshold = (enum log_level)i;
}

/* No control bytes. */
static int
plain(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20)
			return 0;
	return 1;
}

const char *
log_q(const char *s)
{
	static char slots[QUOTE_SLOTS][LOG_VALUE_MAX];
	static unsigned next;
	static const char hex[] = "0123456789abcdef";
	char *out = slots[next++ % QUOTE_SLOTS], esc[5];
	size_t n = 0, k;
	unsigned char c;

	/* A plain word stays as it is, as logfmt writes it. */
	if (s != NULL && *s != '\0' && strlen(s) < LOG_VALUE_MAX &&
	    s[strcspn(s, " \"\\=\x7f")] == '\0' && plain(s)) {
		memcpy(out, s, strlen(s) + 1);
		return out;
	}
	out[n++] = '"';
	for (; s != NULL && *s != '\0'; s++) {
		c = (unsigned char)*s;
		k = 0;
		if (c == '"' || c == '\\') {
			esc[k++] = '\\';
			esc[k++] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			esc[k++] = '\\';
			esc[k++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20 || c == 0x7f) {
			esc[k++] = '\\';
			esc[k++] = 'x';
			esc[k++] = hex[c >> 4];
			esc[k++] = hex[c & 15];
		} else
			esc[k++] = (char)c;
		/* Room for this, "..." and the closing quote and NUL. */
		if (n + k + 5 > LOG_VALUE_MAX) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(out + n, esc, k);
		n += k;
	}
	out[n++] = '"';
	out[n] = '\0';
	return out;
}

static void
vlog(enum log_level level, const char *fmt, va_list ap)
{
	char line[LINE_MAX_LEN];
	int n, m;

	if (level < threshold)
		return;
	if (journal)
		n = snprintf(line, sizeof(line), "%slevel=%s ",
		    level_prio[level], level_names[level]);
	else
		n = snprintf(line, sizeof(line), "%s[%d]: level=%s ", prog,
		    (int)getpid(), level_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	/* A long line is cut, never split across writes. */
	if ((size_t)m >= sizeof(line) - (size_t)n - 1)
		m = (int)(sizeof(line) - (size_t)n - 2);
	n += m;
	/* Keep one event on one line whatever the message held. */
	for (m = 0; m < n; m++)
		if (line[m] == '\n' || line[m] == '\r')
			line[m] = ' ';
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void
log_request_begin(void)
{
	in_request = 1;
	cause[0] = '\0';
}

void
log_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* The first cause goes with the response; a later one, alone. */
	if (in_request && cause[0] == '\0')
		(void)vsnprintf(cause, sizeof(cause), fmt, ap);
	else
		vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_request_end(const char *route, int status)
{
	if (status >= 500)
		log_err("msg=\"request failed\" route=%s status=%d%s%s", route,
		    status, cause[0] != '\0' ? " " : "", cause);
	else if (cause[0] != '\0')
		/* The request recovered; what failed inside is still news. */
		log_err("%s route=%s status=%d", cause, route, status);
	in_request = 0;
	cause[0] = '\0';
}
