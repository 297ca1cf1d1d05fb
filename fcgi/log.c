/*
 * log.c: stderr lines, one per event. journald adds the time; a line is
 * written with a single write(2) so that workers do not interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *prog = "sessiond";
static enum log_level threshold = LOG_INFO;

static const char *const level_names[LOG_LEVEL__MAX] = {
	"debug",
	"info",
	"warn",
	"error",
};

void
log_init(const char *name)
{
	const char *lv;
	int i;

	prog = name;
	if ((lv = getenv("SESSIOND_LOG_LEVEL")) == NULL)
		return;
	for (i = 0; i < LOG_LEVEL__MAX; i++)
		if (strcmp(lv, level_names[i]) == 0)
			threshold = (enum log_level)i;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n, m;

	if (level < threshold)
		return;
	n = snprintf(line, sizeof(line), "%s[%d]: level=%s ", prog,
	    (int)getpid(), level_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
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
