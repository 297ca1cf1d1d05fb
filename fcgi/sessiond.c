/*
 * sessiond.c: startup. Load and check everything that can be wrong before
 * forking (configuration, keys, the socket), then hand over to the master.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "config.h"
#include "geoip.h"
#include "keyring.h"
#include "log.h"
#include "master.h"
#include "metrics.h"

static const char *config_path;

static void
usage(void)
{
	fprintf(stderr, "usage: sessiond [-t] [-c config]\n");
	exit(2);
}

static int
load(struct app *app, char *err, size_t errlen)
{
	struct config cfg;
	struct keyring keys;

	if (config_load(&cfg, config_path, err, errlen) != 0 ||
	    keyring_load(&keys, cfg.keys_file, err, errlen) != 0)
		return -1;
	/* Each worker opens the GeoIP database; a bad one fails here. */
	if (geoip_open(cfg.geoip_database, err, errlen) != 0) {
		keyring_wipe(&keys);
		return -1;
	}
	geoip_close();
	app->cfg = cfg;
	app->keys = keys;
	keyring_wipe(&keys);
	return 0;
}

static int
reload(struct app *app)
{
	char err[CONFIG_STR_MAX + 64];
	char listen_was[CONFIG_STR_MAX], login_was[CONFIG_STR_MAX];
	char metrics_was[CONFIG_STR_MAX];

	memcpy(listen_was, app->cfg.listen, sizeof(listen_was));
	memcpy(login_was, app->cfg.login_listen, sizeof(login_was));
	memcpy(metrics_was, app->cfg.metrics_listen, sizeof(metrics_was));
	if (load(app, err, sizeof(err)) != 0) {
		log_err("msg=\"reload failed; keeping the old settings\" "
			"error=%s",
		    log_q(err));
		return -1;
	}
	if (strcmp(listen_was, app->cfg.listen) != 0 ||
	    strcmp(login_was, app->cfg.login_listen) != 0 ||
	    strcmp(metrics_was, app->cfg.metrics_listen) != 0) {
		log_warn("msg=\"listen changes need a restart\"");
		memcpy(app->cfg.listen, listen_was, sizeof(listen_was));
		memcpy(app->cfg.login_listen, login_was, sizeof(login_was));
		memcpy(
		    app->cfg.metrics_listen, metrics_was, sizeof(metrics_was));
	}
	return 0;
}

static int
open_unix(const char *path, int mode, int backlog, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	size_t len;
	int fd;

	if ((len = strlen(path)) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "listen: socket path too long");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		goto fail;
	(void)unlink(path); /* a stale socket from an unclean stop */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    chmod(path, (mode_t)mode) == -1 || listen(fd, backlog) == -1)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "listen: %.*s: %s", (int)sizeof(sa.sun_path),
	    path, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

static int
open_tcp(const char *spec, int backlog, char *err, size_t errlen)
{
	struct addrinfo hints, *res;
	char host[256];
	const char *colon = strrchr(spec, ':');
	int fd, one = 1, rc;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host)) {
		snprintf(err, errlen,
		    "listen: expected unix:/path or "
		    "host:port, got \"%.64s\"",
		    spec);
		return -1;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	/* [::1]:9000 */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res)) !=
	    0) {
		snprintf(err, errlen, "listen: %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, backlog) == -1) {
		snprintf(err, errlen, "listen: %s: %s", spec, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* "unix:/path" or "host:port". */
static int
open_listen(
    const char *spec, const struct config *cfg, char *err, size_t errlen)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return open_unix(
		    spec + 5, cfg->socket_mode, cfg->backlog, err, errlen);
	return open_tcp(spec, cfg->backlog, err, errlen);
}

int
main(int argc, char *argv[])
{
	static struct app app;
	char err[CONFIG_STR_MAX + 64];
	int ch, fd, login_fd = -1, metrics_fd = -1, test = 0, rc;

	log_init("sessiond");
	while ((ch = getopt(argc, argv, "c:t")) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			test = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (load(&app, err, sizeof(err)) != 0) {
		fprintf(stderr, "sessiond: %s\n", err);
		return 1;
	}
	if (test) {
		fprintf(stderr, "sessiond: configuration ok\n");
		return 0;
	}
	if ((fd = open_listen(app.cfg.listen, &app.cfg, err, sizeof(err))) ==
		-1 ||
	    (app.cfg.login_listen[0] != '\0' &&
		(login_fd = open_listen(app.cfg.login_listen, &app.cfg, err,
		     sizeof(err))) == -1)) {
		fprintf(stderr, "sessiond: %s\n", err);
		return 1;
	}
	/* Metrics: shared memory mapped now, before any fork. */
	if (app.cfg.metrics_listen[0] != '\0') {
		if ((metrics_fd = open_listen(app.cfg.metrics_listen, &app.cfg,
			 err, sizeof(err))) == -1) {
			fprintf(stderr, "sessiond: metrics_%s\n", err);
			return 1;
		}
		if (metrics_init(METRICS_SLOTS, metrics_fd) != 0) {
			fprintf(
			    stderr, "sessiond: metrics: %s\n", strerror(errno));
			return 1;
		}
	}
	if (FCGX_Init() != 0) {
		fprintf(stderr, "sessiond: FCGX_Init failed\n");
		return 1;
	}
	log_info("msg=\"listening\" listen=%s login_listen=%s "
		 "metrics_listen=%s",
	    log_q(app.cfg.listen),
	    log_q(app.cfg.login_listen[0] ? app.cfg.login_listen : "-"),
	    log_q(app.cfg.metrics_listen[0] ? app.cfg.metrics_listen : "-"));
	rc = master_run(&app, fd, login_fd, reload);
	close(fd);
	if (strncmp(app.cfg.listen, "unix:", 5) == 0)
		(void)unlink(app.cfg.listen + 5);
	if (login_fd != -1) {
		close(login_fd);
		if (strncmp(app.cfg.login_listen, "unix:", 5) == 0)
			(void)unlink(app.cfg.login_listen + 5);
	}
	if (metrics_fd != -1) {
		close(metrics_fd);
		if (strncmp(app.cfg.metrics_listen, "unix:", 5) == 0)
			(void)unlink(app.cfg.metrics_listen + 5);
	}
	keyring_wipe(&app.keys);
	return rc;
}
