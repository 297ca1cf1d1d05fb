/*
 * config.c: defaults, the config file, then SESSIOND_* environment
 * overrides. The table below is the whole list of settings.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

enum kind {
	K_STR,
	K_INT,
	K_MODE
};

struct setting {
	const char *name;
	enum kind kind;
	size_t off;
	long long min, max; /* K_INT, K_MODE */
	const char *def;
};

#define S(n, k, lo, hi, d)                                   \
	{                                                    \
#n, k, offsetof(struct config, n), lo, hi, d \
	}

static const struct setting settings[] = {
	S(listen, K_STR, 0, 0, "unix:/run/sessiond/sessiond.sock"),
	S(socket_mode, K_MODE, 0, 0777, "0660"),
	S(workers, K_INT, 0, 256, "0"),
	S(login_listen, K_STR, 0, 0, "unix:/run/sessiond/login.sock"),
	S(login_workers, K_INT, 0, 64, "0"),
	S(login_nice, K_INT, 0, 19, "10"),
	S(metrics_listen, K_STR, 0, 0, "127.0.0.1:9464"),
	S(backlog, K_INT, 1, 65535, "1024"),
	S(database, K_STR, 0, 0, ""),
	S(database_read, K_STR, 0, 0, ""),
	S(admin_database, K_STR, 0, 0, ""),
	S(prepared_statements, K_INT, 0, 1, "1"),
	S(keys_file, K_STR, 0, 0, "/etc/sessiond/keys"),
	S(idle_timeout, K_INT, 60, 31536000, "86400"),
	S(absolute_lifetime, K_INT, 60, 315360000, "2592000"),
	S(reauth_window, K_INT, 0, 31536000, "900"),
	S(max_sessions, K_INT, 1, 100000, "100"),
	S(login_window, K_INT, 1, 86400, "900"),
	S(login_max_per_user_ip, K_INT, 1, 1000000, "10"),
	S(login_max_per_ip, K_INT, 1, 1000000, "100"),
	S(login_max_per_user, K_INT, 1, 1000000, "50"),
	S(login_max_per_device, K_INT, 1, 1000000, "10"),
	S(reauth_max_per_session, K_INT, 1, 1000000, "5"),
	S(device_cookie_lifetime, K_INT, 60, 315360000, "31536000"),
	S(retention_days, K_INT, 0, 36500, "30"),
	S(touch_interval, K_INT, 1, 3600, "60"),
	S(geoip_database, K_STR, 0, 0, ""),
	S(notify_command, K_STR, 0, 0, ""),
	S(notify_state_file, K_STR, 0, 0, ""),
	S(smtp_url, K_STR, 0, 0, ""),
	S(smtp_tls, K_STR, 0, 0, "auto"),
	S(smtp_user, K_STR, 0, 0, ""),
	S(smtp_password_file, K_STR, 0, 0, ""),
	S(smtp_ca_file, K_STR, 0, 0, ""),
	S(mail_from, K_STR, 0, 0, ""),
	S(site_url, K_STR, 0, 0, ""),
	S(mail_limit, K_INT, 1, 20, "4"),
	S(mail_limit_window, K_INT, 1, 86400, "3600"),
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const struct setting *
find(const char *key)
{
	size_t i;

	for (i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, key) == 0)
			return &settings[i];
	return NULL;
}

int
config_set(struct config *cfg, const char *key, const char *value, char *err,
    size_t errlen)
{
	const struct setting *s;
	long long n;
	size_t len;
	char *p = (char *)cfg;

	if ((s = find(key)) == NULL) {
		snprintf(err, errlen, "unknown setting \"%.64s\"", key);
		return -1;
	}
	switch (s->kind) {
	case K_STR:
		if ((len = strlen(value)) >= CONFIG_STR_MAX) {
			snprintf(err, errlen, "%s: value too long", key);
			return -1;
		}
		memcpy(p + s->off, value, len + 1);
		return 0;
	case K_INT:
	case K_MODE:
		if (parse_ll(value, s->kind == K_MODE ? 8 : 10, s->min, s->max,
			&n) != 0) {
			snprintf(err, errlen,
			    "%s: \"%.64s\" is not %s "
			    "between %lld and %lld",
			    key, value,
			    s->kind == K_MODE ? "an octal mode" : "a number",
			    s->min, s->max);
			return -1;
		}
		*(int *)(void *)(p + s->off) = (int)n;
		return 0;
	}
	return -1;
}

void
config_defaults(struct config *cfg)
{
	char err[128];
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NSETTINGS; i++)
		if (config_set(cfg, settings[i].name, settings[i].def, err,
			sizeof(err)) != 0)
			abort(); /* a default that fails its own bounds */
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
load_file(struct config *cfg, const char *path, int must_exist, char *err,
    size_t errlen)
{
	FILE *f;
	char line[CONFIG_STR_MAX + 128], msg[CONFIG_STR_MAX];
	char *key, *eq;
	int lineno = 0, rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		if (!must_exist && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "config %s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(
			    err, errlen, "%s:%d: line too long", path, lineno);
			rc = -1;
			break;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value",
			    path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		if (config_set(
			cfg, trim(key), trim(eq + 1), msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

static int
load_env(struct config *cfg, char *err, size_t errlen)
{
	char name[64], msg[CONFIG_STR_MAX];
	const char *v;
	size_t i, j;

	for (i = 0; i < NSETTINGS; i++) {
		snprintf(name, sizeof(name), "SESSIOND_%s", settings[i].name);
		for (j = 9; name[j] != '\0'; j++)
			name[j] = (char)toupper((unsigned char)name[j]);
		if ((v = getenv(name)) == NULL)
			continue;
		if (config_set(cfg, settings[i].name, v, msg, sizeof(msg)) !=
		    0) {
			snprintf(err, errlen, "%s: %s", name, msg);
			return -1;
		}
	}
	return 0;
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	int must_exist = 1;

	config_defaults(cfg);
	if (path == NULL)
		path = getenv("SESSIOND_CONFIG");
	if (path == NULL) {
		path = CONFIG_PATH_DEFAULT;
		must_exist = 0;
	}
	if (load_file(cfg, path, must_exist, err, errlen) != 0)
		return -1;
	return load_env(cfg, err, errlen);
}
