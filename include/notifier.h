/*
 * notifier.h: what sessiond-notifier's parts share. notifier.c is the
 * program (settings, signals, the main loop); notify_listen.c the LISTEN
 * loop and the catch-up, which hand each event on; notify_state.c the
 * position and the ids handled recently (the state file); notify_cmd.c
 * the command an event is handed to; alerts.c the alert mail.
 */
#ifndef NOTIFIER_H
#define NOTIFIER_H

#include <signal.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "alerts.h"
#include "config.h"

#define CMD_ARGS_MAX 32	  /* words of notify_command */
#define RECENT_MAX   1024 /* handled ids kept to drop duplicates */
#define ERR_MAX	     512  /* a server message in one log line */

/* The columns of an event as the queries read them (notify_listen.c). */
enum col {
	C_ID,
	C_EVENT,
	C_REASON,
	C_USER,
	C_SESSION,
	C_AT,
	C_IP,
	C_UA,
	C_LOCATION,
	C_NEW_DEVICE,
	C_JSON_MAX, /* the columns above are the payload's */
	C_USERNAME = C_JSON_MAX,
	C_EMAIL,
	C__MAX
};

/* One row of audit_log; NULL where the column is NULL. */
struct event {
	long long id;
	const char *v[C__MAX];
};

struct notifier {
	struct config cfg;
	volatile sig_atomic_t *stop; /* set by SIGTERM and SIGINT */
	char cmdbuf[CONFIG_STR_MAX];
	char *argv[CMD_ARGS_MAX + 1]; /* argv[0] NULL: log */
	char **envp;		      /* the command's environment */
	PGconn *conn;
	long long last;		      /* highest handled id; -1: not yet */
	long long recent[RECENT_MAX]; /* ring of handled ids */
	size_t nrecent, rnext;
	int state_failing;	/* log a failing state file once */
	size_t handled;		/* events handed on since connecting */
	struct alerts alerts;	/* the security-alert mail */
	char err[ERR_MAX + 64]; /* why the database failed */
};

/* notify_listen.c */

/*
 * Connect, LISTEN and catch up, retrying with back-off until it works or
 * *n->stop. lost: the connection was lost (logged already). Returns 0
 * connected, -1 stopping.
 */
int listen_connect(struct notifier *n, int lost);

/*
 * Wait up to a second for notifications and hand their events on.
 * Returns -1 when the connection is lost (the caller reconnects).
 */
int listen_wait(struct notifier *n);

/* notify_state.c */

/* Read notify_state_file (if set); -1 with a message in err if bad. */
int state_load(struct notifier *n, char *err, size_t errlen);
/* Write it, atomically; a failure is logged (once) and not fatal. */
void state_save(struct notifier *n);
/* id was handed on recently. */
int state_seen(const struct notifier *n, long long id);
/* Note id as handed on. */
void state_remember(struct notifier *n, long long id);
/* Start over at last: the state does not belong to this database. */
void state_forget(struct notifier *n, long long last);
/* Where a catch-up starts (below every recently handled id). */
long long state_floor(const struct notifier *n);

/* notify_cmd.c */

/* Split notify_command and make its environment; -1 with err if bad. */
int cmd_init(struct notifier *n, char *err, size_t errlen);
/* Run the command with the event's JSON on its standard input. */
void cmd_run(const struct notifier *n, const struct event *ev);

#endif /* NOTIFIER_H */
