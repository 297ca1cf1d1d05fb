/*
 * alerts.h: the notifier's security-alert mail. Events are queued as the
 * notifier hands them on and sent together when it has handed on what
 * was there (a revoke of all other sessions is one mail, not one per
 * session), over SMTP with libcurl, retried with back-off while the mail
 * server is away, at most mail_limit per user in mail_limit_window (an
 * hour) and the rest summed up in one mail when the window has room.
 */
#ifndef ALERTS_H
#define ALERTS_H

#include <signal.h>
#include <stddef.h>

#include "bounds.h"
#include "config.h"
#include "mail.h"

#define ALERTS_QUEUE_MAX 64   /* alerts queued before a flush */
#define ALERTS_USERS_MAX 256  /* users whose window we remember */
#define ALERTS_HELD_MAX	 2048 /* summary lines kept per user */
#define ALERTS_VALUE_MAX 512  /* a copied event column */
#define ALERTS_LIMIT_MAX 20   /* mail_limit's upper bound */

/* A queued alert with copies of what it names. */
struct alert {
	struct mail_alert a;
	long long uid;
	char to[EMAIL_MAX + 1], username[USERNAME_MAX + 1];
	char v[6][ALERTS_VALUE_MAX]; /* event, reason, at, ip, ua, location */
};

/* One user's mails in the last window. */
struct alert_user {
	long long uid;			  /* 0: free */
	long long sent[ALERTS_LIMIT_MAX]; /* monotonic ms of the mails */
	int nsent;
	int held; /* alerts held back */
	size_t held_len;
	char held_lines[ALERTS_HELD_MAX];
	char to[EMAIL_MAX + 1], username[USERNAME_MAX + 1], at[32];
};

struct alerts {
	int on; /* smtp_url set */
	const struct config *cfg;
	volatile sig_atomic_t *stop;
	char password[CONFIG_STR_MAX];
	const char *host; /* mail_from's domain: Message-ID */
	struct alert queue[ALERTS_QUEUE_MAX];
	int nqueue;
	struct alert_user users[ALERTS_USERS_MAX];
	int failing; /* the mail server is away (logged once) */
	size_t sent, dropped;
};

/*
 * Check the mail settings and read the password file. Mail is off when
 * smtp_url is empty. Returns 0, or -1 with a message in err.
 */
int alerts_init(struct alerts *, const struct config *,
    volatile sig_atomic_t *stop, char *err, size_t errlen);
void alerts_free(struct alerts *);

/*
 * Queue the alert for an event of user uid (username, to: the user's
 * address, NULL for none), if it is one that is mailed. A full queue is
 * flushed first.
 */
void alerts_add(struct alerts *, long long uid, const char *username,
    const char *to, const struct mail_event *ev);

/* Queued alerts not sent yet. */
int alerts_pending(const struct alerts *);

/*
 * Send what is queued. A mail server that is away is retried with
 * back-off until it answers or *stop; one that refuses an address drops
 * that mail (logged) and goes on. Returns 0 when the queue is empty, -1
 * when stopping with alerts unsent.
 */
int alerts_flush(struct alerts *);

/* Send the summaries whose user's window has room again. */
void alerts_tick(struct alerts *);

#endif /* ALERTS_H */
