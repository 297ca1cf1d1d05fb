/*
 * mail.h: the security alerts as mail messages (RFC 5322 text), and the
 * one rule for a mail address. No I/O: alerts.c sends what this writes.
 */
#ifndef MAIL_H
#define MAIL_H

#include <stddef.h>
#include <time.h>

#include "bounds.h"

/* 1 when addr may be a recipient or sender (see mail.c), else 0. */
int mail_addr_ok(const char *addr);

/* What an alert is about; MAIL_NONE: the event is not mailed. */
enum mail_kind {
	MAIL_NONE,
	MAIL_SIGNIN,   /* session.created from a new device */
	MAIL_PASSWORD, /* password.changed */
	MAIL_ENDED,    /* session.revoked by someone else */
	MAIL_SUMMARY,  /* the alerts the hourly limit held back */
};

/*
 * An event as the notifier reads it from audit_log (NULL where a column
 * is NULL). Every string is untrusted: it goes into the body cleaned and
 * bounded, never into a header.
 */
struct mail_event {
	const char *event, *reason, *at, *ip, *user_agent, *location;
	const char *new_device; /* "true", "false" or NULL */
};

enum mail_kind mail_kind_of(const struct mail_event *ev);

/* One alert, ready to be written as a message. */
struct mail_alert {
	enum mail_kind kind;
	struct mail_event ev; /* the (first) event */
	int count;	      /* MAIL_ENDED: sessions; MAIL_PASSWORD: sessions
				 ended with it; MAIL_SUMMARY: alerts */
	const char *lines;    /* MAIL_SUMMARY: one line per alert held back */
};

/* The settings and the envelope a message needs. */
struct mail_head {
	const char *from, *to, *username, *site_url;
	const char *msgid_host; /* the right side of Message-ID */
	time_t date;
};

/*
 * Write the message (headers, blank line, body; CRLF line ends) for a to
 * buf. Returns its length, or -1 when it does not fit or an address is
 * not one mail_addr_ok accepts.
 */
long mail_write(char *buf, size_t size, const struct mail_head *h,
    const struct mail_alert *a);

/*
 * One line (no line end) naming an alert, for a summary: "2026-12-03T
 * 10:00:00Z  new sign-in: Firefox 133 on Linux, 192.0.2.1". Returns its
 * length (truncated to size - 1).
 */
size_t mail_line(char *buf, size_t size, const struct mail_alert *a);

#endif /* MAIL_H */
