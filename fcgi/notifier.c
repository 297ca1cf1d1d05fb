/*
 * notifier.c: sessiond-notifier, which hands session events on (a log
 * line or notify_command) and mails the security alerts. This file is
 * the program: settings, signals and the main loop; notifier.h names the
 * parts (docs/notifier.md says what it guarantees).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "alerts.h"
#include "config.h"
#include "log.h"
#include "notifier.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The standard descriptors, open on /dev/null if we were started without. */
static void
std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= STDERR_FILENO)
		;
	if (fd > STDERR_FILENO)
		close(fd);
}

static void
usage(void)
{
	fprintf(stderr, "usage: sessiond-notifier [-c config]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	static struct notifier n;
	struct sigaction sa;
	const char *cfgpath = NULL;
	char err[CONFIG_STR_MAX + 256];
	int ch, lost = 0;

	std_fds();
	log_init("sessiond-notifier");
	n.stop = &stop;
	opterr = 0; /* usage() is the one line */
	while ((ch = getopt(argc, argv, "c:")) != -1) {
		switch (ch) {
		case 'c':
			cfgpath = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (config_load(&n.cfg, cfgpath, err, sizeof(err)) != 0 ||
	    cmd_init(&n, err, sizeof(err)) != 0 ||
	    state_load(&n, err, sizeof(err)) != 0 ||
	    alerts_init(&n.alerts, &n.cfg, &stop, err, sizeof(err)) != 0) {
		log_err("msg=\"cannot start\" error=%s", log_q(err));
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal must cut poll and nanosleep short. */
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	log_info("msg=starting handler=%s state=%s mail=%s",
	    log_q(n.argv[0] != NULL ? n.argv[0] : "log"),
	    log_q(*n.cfg.notify_state_file != '\0' ? n.cfg.notify_state_file
						   : "none"),
	    n.alerts.on ? "on" : "off");
	while (!stop) {
		if (n.conn == NULL && listen_connect(&n, lost) == -1)
			break;
		if (listen_wait(&n) == -1) {
			PQfinish(n.conn);
			n.conn = NULL;
			lost = 1;
		}
		alerts_tick(&n.alerts);
	}
	if (n.conn != NULL)
		PQfinish(n.conn);
	free(n.envp);
	alerts_free(&n.alerts);
	log_info("msg=stopped last_id=%lld", n.last);
	return 0;
}
