/*
 * log.h: one line per event on stderr, "level=... msg=... key=value".
 * Values from outside go through log_q() so that every line parses.
 * Never pass tokens, cookies or passwords.
 */
#ifndef LOG_H
#define LOG_H

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERR,
	LOG_LEVEL__MAX
};

/* Longest quoted value log_q() returns, quotes included. */
#define LOG_VALUE_MAX 384

/* Tag every line with this program name (default "sessiond"). */
void log_init(const char *name);

/* printf-style; the line ends with a newline added here. */
void log_msg(enum log_level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)

/*
 * s as a logfmt value: a word without spaces, quotes, '=', '\\' or
 * control bytes as it is; anything else in double quotes with '"', '\\'
 * and control bytes escaped, cut with "..." to LOG_VALUE_MAX; NULL and ""
 * are "". The result lives until the fourth call after this one: enough
 * for one log line.
 */
const char *log_q(const char *s);

/*
 * One line per failed request. Between log_request_begin and
 * log_request_end, log_fail keeps its "key=value ..." text (the first
 * one; a later one is logged at once); log_request_end writes it with
 * the route and status when the status is 5xx, or on its own line when
 * the request recovered. Outside a request log_fail is log_err.
 */
void log_request_begin(void);
void log_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_request_end(const char *route, int status);

#endif /* LOG_H */
