/*
 * log.h: one line per event on stderr, "level=... msg=... key=value".
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

/* Tag every line with this program name (default "sessiond"). */
void log_init(const char *name);

/* printf-style; the line ends with a newline added here. */
void log_msg(enum log_level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)

#endif /* LOG_H */
