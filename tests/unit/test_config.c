/*
 * test_config.c: defaults, each setting's bounds, the file format and the
 * environment overrides. Every error must name what is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "testlib.h"

enum kind {
	K_STR,
	K_INT,
	K_MODE
};

/* Every setting, its bounds and its default, as config.h documents them. */
struct setting_case {
	const char *name;
	enum kind kind;
	size_t off;
	long long min, max;
	long long def;
	const char *sdef;
};

#define I(n, lo, hi, d)                                                \
	{                                                              \
#n, K_INT, offsetof(struct config, n), lo, hi, d, NULL \
	}
#define M(n, lo, hi, d)                                                 \
	{                                                               \
#n, K_MODE, offsetof(struct config, n), lo, hi, d, NULL \
	}
#define S(n, d)                                                   \
	{                                                         \
#n, K_STR, offsetof(struct config, n), 0, 0, 0, d \
	}

static const struct setting_case settings[] = {
	S(listen, "unix:/run/sessiond/sessiond.sock"),
	M(socket_mode, 0, 0777, 0660),
	I(workers, 0, 256, 0),
	I(backlog, 1, 65535, 1024),
	S(database, ""),
	S(keys_file, "/etc/sessiond/keys"),
	I(idle_timeout, 60, 31536000, 86400),
	I(absolute_lifetime, 60, 315360000, 2592000),
	I(reauth_window, 0, 31536000, 900),
	I(max_sessions, 1, 100000, 100),
	I(login_window, 1, 86400, 900),
	I(login_max_per_user_ip, 1, 1000000, 10),
	I(login_max_per_ip, 1, 1000000, 100),
	I(login_max_per_user, 1, 1000000, 50),
	I(login_max_per_device, 1, 1000000, 10),
	I(reauth_max_per_session, 1, 1000000, 5),
	I(device_cookie_lifetime, 60, 315360000, 31536000),
	I(retention_days, 0, 36500, 30),
	I(touch_interval, 1, 3600, 60),
	S(notify_command, ""),
	S(notify_state_file, ""),
};

static int
int_at(const struct config *cfg, size_t off)
{
	int v;

	memcpy(&v, (const char *)cfg + off, sizeof(v));
	return v;
}

static const char *
str_at(const struct config *cfg, size_t off)
{
	return (const char *)cfg + off;
}

static void
env_name(char *buf, size_t len, const char *key)
{
	size_t i;

	snprintf(buf, len, "SESSIOND_%s", key);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 'a' + 'A');
}

/* No SESSIOND_* override from the environment the tests run in. */
static int
clean_env(void **state)
{
	char name[64];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(settings); i++) {
		env_name(name, sizeof(name), settings[i].name);
		unsetenv(name);
	}
	unsetenv("SESSIOND_CONFIG");
	return 0;
}

/* A temporary file holding text; the caller unlinks path. */
static void
write_temp(char path[64], const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, 64, "/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd != -1);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
test_defaults(void **state)
{
	struct config cfg;
	size_t i;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	config_defaults(&cfg);
	for (i = 0; i < nitems(settings); i++) {
		if (settings[i].kind == K_STR)
			assert_string_equal(
			    str_at(&cfg, settings[i].off), settings[i].sdef);
		else if (int_at(&cfg, settings[i].off) != settings[i].def)
			fail_msg("default %s: %d, want %lld", settings[i].name,
			    int_at(&cfg, settings[i].off), settings[i].def);
	}
}

/* min and max are accepted, one outside either is refused naming the key. */
static void
test_int_bounds(void **state)
{
	struct config cfg;
	char v[32], err[256];
	long long ok[2], bad[2];
	size_t i, j;

	(void)state;
	for (i = 0; i < nitems(settings); i++) {
		if (settings[i].kind == K_STR)
			continue;
		ok[0] = settings[i].min;
		ok[1] = settings[i].max;
		bad[0] = settings[i].min - 1;
		bad[1] = settings[i].max + 1;
		for (j = 0; j < 2; j++) {
			config_defaults(&cfg);
			snprintf(v, sizeof(v),
			    settings[i].kind == K_MODE ? "%llo" : "%lld",
			    ok[j]);
			if (config_set(&cfg, settings[i].name, v, err,
				sizeof(err)) != 0)
				fail_msg("%s = %s refused: %s",
				    settings[i].name, v, err);
			assert_int_equal(int_at(&cfg, settings[i].off), ok[j]);

			/* min - 1 may be -1: refused as a sign anyway. */
			config_defaults(&cfg);
			snprintf(v, sizeof(v),
			    settings[i].kind == K_MODE && bad[j] >= 0 ? "%llo"
								      : "%lld",
			    bad[j]);
			err[0] = '\0';
			if (config_set(&cfg, settings[i].name, v, err,
				sizeof(err)) != -1)
				fail_msg(
				    "%s = %s accepted", settings[i].name, v);
			assert_non_null(strstr(err, settings[i].name));
			/* A refused value leaves the old one. */
			assert_int_equal(
			    int_at(&cfg, settings[i].off), settings[i].def);
		}
	}
}

struct value_case {
	const char *key;
	size_t off;
	const char *value;
	int rc;
	long long want;
};

#define V(k, v, rc, w)                                   \
	{                                                \
#k, offsetof(struct config, k), v, rc, w \
	}

static const struct value_case value_cases[] = {
	V(workers, "4", 0, 4),
	V(workers, "004", 0, 4),
	V(workers, "", -1, 0),
	V(workers, "four", -1, 0),
	V(workers, "4 ", -1, 0),
	V(workers, " 4", -1, 0),
	V(workers, "+4", -1, 0),
	V(workers, "-4", -1, 0),
	V(workers, "4.0", -1, 0),
	V(workers, "0x4", -1, 0),
	V(workers, "4 # four", -1, 0),
	V(workers, "99999999999999999999999", -1, 0),
	V(idle_timeout, "1e3", -1, 0),
	V(idle_timeout, "9223372036854775808", -1, 0),
	V(idle_timeout, "4294967356", -1, 0),
	V(socket_mode, "0600", 0, 0600),
	V(socket_mode, "600", 0, 0600),
	V(socket_mode, "0", 0, 0),
	V(socket_mode, "0678", -1, 0),
	V(socket_mode, "rw-rw----", -1, 0),
	V(socket_mode, "01777", -1, 0),
};

static void
test_values(void **state)
{
	struct config cfg;
	char err[256];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < nitems(value_cases); i++) {
		config_defaults(&cfg);
		err[0] = '\0';
		rc = config_set(&cfg, value_cases[i].key, value_cases[i].value,
		    err, sizeof(err));
		if (rc != value_cases[i].rc)
			fail_msg("%s = \"%s\": %d, want %d", value_cases[i].key,
			    value_cases[i].value, rc, value_cases[i].rc);
		if (rc == 0)
			assert_int_equal(int_at(&cfg, value_cases[i].off),
			    value_cases[i].want);
		else /* The error names the setting. */
			assert_non_null(strstr(err, value_cases[i].key));
	}
}

static void
test_strings(void **state)
{
	struct config cfg;
	char v[CONFIG_STR_MAX + 1], err[256];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(settings); i++) {
		if (settings[i].kind != K_STR)
			continue;
		config_defaults(&cfg);
		/* The longest value that fits, and one byte more. */
		memset(v, 'x', CONFIG_STR_MAX - 1);
		v[CONFIG_STR_MAX - 1] = '\0';
		assert_int_equal(
		    config_set(&cfg, settings[i].name, v, err, sizeof(err)), 0);
		assert_string_equal(str_at(&cfg, settings[i].off), v);
		assert_int_equal(
		    config_set(&cfg, settings[i].name, "", err, sizeof(err)),
		    0);
		assert_string_equal(str_at(&cfg, settings[i].off), "");
		memset(v, 'x', CONFIG_STR_MAX);
		v[CONFIG_STR_MAX] = '\0';
		err[0] = '\0';
		assert_int_equal(
		    config_set(&cfg, settings[i].name, v, err, sizeof(err)),
		    -1);
		assert_non_null(strstr(err, settings[i].name));
	}
}

static void
test_unknown_key(void **state)
{
	static const char *bad[] = {
		"",
		"Workers",
		"WORKERS",
		"worker",
		"workers ",
		" workers",
		"idle-timeout",
		"SESSIOND_WORKERS",
		"workers\n",
		"#workers",
	};
	struct config cfg;
	char err[256];
	size_t i;

	(void)state;
	config_defaults(&cfg);
	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		if (config_set(&cfg, bad[i], "1", err, sizeof(err)) != -1)
			fail_msg("unknown key \"%s\" accepted", bad[i]);
		assert_non_null(strstr(err, "unknown setting"));
	}
	/* A small err buffer is still terminated, never overrun. */
	memset(err, '#', sizeof(err));
	assert_int_equal(config_set(&cfg, "nope", "1", err, 8), -1);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(err[8], '#');
}

static void
test_file(void **state)
{
	struct config cfg;
	char path[64], err[256];

	(void)state;
	write_temp(path,
	    "# sessiond settings\n"
	    "\n"
	    "   # an indented comment\n"
	    "workers = 3\n"
	    "\tidle_timeout=120   \n"
	    "  listen   =   127.0.0.1:9000\n"
	    "database = host=/tmp port=5433 dbname=x\n"
	    "socket_mode = 0600\r\n"
	    "notify_command =\n"
	    "   \t  \n"
	    "reauth_window = 0");
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(cfg.idle_timeout, 120);
	assert_string_equal(cfg.listen, "127.0.0.1:9000");
	/* Only the first '=' splits: conninfo values hold their own. */
	assert_string_equal(cfg.database, "host=/tmp port=5433 dbname=x");
	assert_int_equal(cfg.socket_mode, 0600);
	assert_string_equal(cfg.notify_command, "");
	assert_int_equal(cfg.reauth_window, 0);
	/* What the file does not set keeps its default. */
	assert_int_equal(cfg.backlog, 1024);
	unlink(path);
}

struct bad_file {
	const char *text;
	const char *needle[2]; /* err must hold both */
};

static const struct bad_file bad_files[] = {
	{ "workers 3\n", { ":1:", "expected key = value" } },
	{ "# ok\n\nworkers\n", { ":3:", "expected key = value" } },
	{ "workers = 3\nidle_timeout = soon\n", { ":2:", "idle_timeout" } },
	{ "idle_timeout = 59\n", { ":1:", "idle_timeout" } },
	{ "max_sessions = 0\n", { ":1:", "max_sessions" } },
	{ "no_such = 1\n", { ":1:", "unknown setting" } },
	{ "= 1\n", { ":1:", "unknown setting" } },
	{ "workers = 3 # three\n", { ":1:", "workers" } },
	{ "[sessiond]\nworkers = 3\n", { ":1:", "expected key = value" } },
};

static void
test_file_errors(void **state)
{
	struct config cfg;
	char path[64], err[512];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(bad_files); i++) {
		write_temp(path, bad_files[i].text);
		err[0] = '\0';
		if (config_load(&cfg, path, err, sizeof(err)) != -1)
			fail_msg("file row %zu accepted", i);
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, bad_files[i].needle[0]));
		assert_non_null(strstr(err, bad_files[i].needle[1]));
		unlink(path);
	}
}

static void
test_file_long_line(void **state)
{
	struct config cfg;
	char path[64], err[256], *text;
	size_t n = CONFIG_STR_MAX + 256;

	(void)state;
	text = malloc(n + 32);
	assert_non_null(text);
	memcpy(text, "database = ", 11);
	memset(text + 11, 'x', n);
	memcpy(text + 11 + n, "\nworkers = 2\n", 14);
	write_temp(path, text);
	free(text);
	err[0] = '\0';
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	unlink(path);
}

static void
test_missing_files(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	/* A file named on purpose must exist. */
	err[0] = '\0';
	assert_int_equal(
	    config_load(&cfg, "/nonexistent/sessiond.conf", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "/nonexistent/sessiond.conf"));

	/* So must one named in SESSIOND_CONFIG. */
	setenv("SESSIOND_CONFIG", "/nonexistent/env.conf", 1);
	err[0] = '\0';
	assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/env.conf"));
	unsetenv("SESSIOND_CONFIG");

	/* The default file may be absent: defaults apply. */
	if (access(CONFIG_PATH_DEFAULT, F_OK) == 0)
		skip();
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
	assert_int_equal(cfg.idle_timeout, 86400);
	assert_string_equal(cfg.keys_file, "/etc/sessiond/keys");
}

static void
test_config_env_file(void **state)
{
	struct config cfg;
	char path[64], err[256];

	(void)state;
	write_temp(path, "workers = 7\n");
	setenv("SESSIOND_CONFIG", path, 1);
	assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
	assert_int_equal(cfg.workers, 7);
	/* An explicit path wins over SESSIOND_CONFIG. */
	assert_int_equal(
	    config_load(&cfg, "/nonexistent/x.conf", err, sizeof(err)), -1);
	unsetenv("SESSIOND_CONFIG");
	unlink(path);
}

static void
test_env_override(void **state)
{
	struct config cfg;
	char path[64], err[256];

	(void)state;
	write_temp(path, "idle_timeout = 120\nworkers = 2\n");

	/* The environment beats the file. */
	setenv("SESSIOND_IDLE_TIMEOUT", "300", 1);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(cfg.idle_timeout, 300);
	assert_int_equal(cfg.workers, 2);

	/* And the default. */
	setenv("SESSIOND_LISTEN", "127.0.0.1:9999", 1);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(cfg.listen, "127.0.0.1:9999");
	unsetenv("SESSIOND_LISTEN");

	/* A bad override names the variable and the setting. */
	setenv("SESSIOND_IDLE_TIMEOUT", "forever", 1);
	err[0] = '\0';
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "SESSIOND_IDLE_TIMEOUT"));
	assert_non_null(strstr(err, "idle_timeout"));
	setenv("SESSIOND_IDLE_TIMEOUT", "59", 1);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
	setenv("SESSIOND_IDLE_TIMEOUT", "", 1);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);

	/* Only the upper-case name counts. */
	unsetenv("SESSIOND_IDLE_TIMEOUT");
	setenv("SESSIOND_idle_timeout", "300", 1);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(cfg.idle_timeout, 120);
	unsetenv("SESSIOND_idle_timeout");
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, clean_env),
		cmocka_unit_test_setup(test_int_bounds, clean_env),
		cmocka_unit_test_setup(test_values, clean_env),
		cmocka_unit_test_setup(test_strings, clean_env),
		cmocka_unit_test_setup(test_unknown_key, clean_env),
		cmocka_unit_test_setup(test_file, clean_env),
		cmocka_unit_test_setup(test_file_errors, clean_env),
		cmocka_unit_test_setup(test_file_long_line, clean_env),
		cmocka_unit_test_setup(test_missing_files, clean_env),
		cmocka_unit_test_setup(test_config_env_file, clean_env),
		cmocka_unit_test_setup(test_env_override, clean_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
