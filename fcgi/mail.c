/*
 * mail.c: security alerts as mail messages.
 *
 * Headers hold only what we chose: a fixed subject per kind, the date,
 * and addresses that passed mail_addr_ok (no white space, no line ends,
 * no comment or quoting characters). What a user or a browser chose (a
 * user agent, a place, a user name) goes into the body only, cleaned by
 * text_clean (no control bytes, well-formed UTF-8) and bounded, so that
 * nothing in it can end a line or start a header. Lines stay far below
 * RFC 5322's 998 bytes; the SMTP client dot-stuffs the body.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mail.h"
#include "ua.h"
#include "util.h"

#define VALUE_MAX 200 /* bytes of one untrusted value in the body */

/* A string builder over a fixed buffer; overflow sticks. */
struct sb {
	char *p;
	size_t size, len;
	int over;
};

static void
sb_init(struct sb *b, char *buf, size_t size)
{
	b->p = buf;
	b->size = size;
	b->len = 0;
	b->over = 0;
}

__attribute__((format(printf, 2, 3))) static void
put(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->size - b->len)
		b->over = 1;
	else
		b->len += (size_t)n;
}

/*
 * A mail address as we accept it: dot-atom local part and domain
 * (RFC 5322 3.4.1 without quoted strings or literals), printable ASCII,
 * one '@', at most EMAIL_MAX bytes. Stricter than the RFC on purpose:
 * what passes cannot break a header or an SMTP command.
 */
static int
atom_char(int c, int domain)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-')
		return 1;
	return !domain && c != '\0' && strchr("!#$%&'*+/=?^_`{|}~", c) != NULL;
}

static int
dot_atom(const char *s, size_t n, int domain)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '.' ? s[i + 1] == '.' : !atom_char(s[i], domain))
			return 0;
	return 1;
}

int
mail_addr_ok(const char *addr)
{
	const char *at;
	size_t n;

	if (addr == NULL || (n = strnlen(addr, EMAIL_MAX + 1)) > EMAIL_MAX ||
	    (at = strchr(addr, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return 0;
	return dot_atom(addr, (size_t)(at - addr), 0) &&
	    dot_atom(at + 1, n - (size_t)(at - addr) - 1, 1) &&
	    strchr(at + 1, '.') != NULL;
}

enum mail_kind
mail_kind_of(const struct mail_event *ev)
{
	const char *r = ev->reason != NULL ? ev->reason : "";

	if (ev->event == NULL)
		return MAIL_NONE;
	if (strcmp(ev->event, "session.created") == 0)
		return ev->new_device != NULL &&
			strcmp(ev->new_device, "true") == 0
		    ? MAIL_SIGNIN
		    : MAIL_NONE;
	if (strcmp(ev->event, "password.changed") == 0)
		return MAIL_PASSWORD;
	/* Ended by someone else: not the user's own revoke or sign-out,
	 * not the cap or the clock. */
	if (strcmp(ev->event, "session.revoked") == 0 &&
	    (strcmp(r, "others") == 0 || strcmp(r, "admin") == 0 ||
		strcmp(r, "password_changed") == 0))
		return MAIL_ENDED;
	return MAIL_NONE;
}

/* An untrusted value for the body: cleaned, bounded, "unknown" if none. */
static const char *
clean(char dst[VALUE_MAX + 1], const char *src)
{
	if (src == NULL || *src == '\0')
		return "unknown";
	text_clean(dst, src, VALUE_MAX);
	return dst;
}

/*
 * End a string that vsnprintf cut short on a whole character: drop a
 * trailing lead byte and the continuation bytes after it. Returns the
 * length.
 */
static size_t
utf8_trim(char *s)
{
	size_t n = strlen(s), i = n;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i > 0 && (unsigned char)s[i - 1] >= 0xC0 &&
	    !utf8_valid(s + i - 1, n - i + 1))
		n = i - 1;
	s[n] = '\0';
	return n;
}

static const char *
plural(int n)
{
	return n == 1 ? "" : "s";
}

/* "Firefox 133 on Linux (Desktop)" */
static void
put_device(struct sb *b, const char *user_agent)
{
	struct ua_info ui;

	ua_parse(user_agent, NULL, NULL, NULL, &ui);
	put(b, "%s on %s (%s)", ui.browser, ui.os, ui.device);
}

/* Who acted: an administrator, or a session at an address. */
static void
put_actor(struct sb *b, const struct mail_event *ev)
{
	char ip[VALUE_MAX + 1], loc[VALUE_MAX + 1];

	if (ev->reason != NULL && strcmp(ev->reason, "admin") == 0) {
		put(b, "by an administrator");
		return;
	}
	put(b, "from ");
	put_device(b, ev->user_agent);
	put(b, " at %s", clean(ip, ev->ip));
	if (ev->location != NULL && *ev->location != '\0')
		put(b, " (%s)", clean(loc, ev->location));
}

static void
put_body(struct sb *b, const struct mail_head *h, const struct mail_alert *a)
{
	const struct mail_event *ev = &a->ev;
	char name[VALUE_MAX + 1], at[VALUE_MAX + 1], ip[VALUE_MAX + 1];
	char loc[VALUE_MAX + 1];
	struct ua_info ui;

	put(b, "Hello %s,\r\n\r\n", clean(name, h->username));
	clean(at, ev->at);
	switch (a->kind) {
	case MAIL_SIGNIN:
		ua_parse(ev->user_agent, NULL, NULL, NULL, &ui);
		put(b,
		    "Your account was just signed in to from a device it was "
		    "not used on before.\r\n\r\n"
		    "  When:     %s (UTC)\r\n"
		    "  Device:   %s\r\n"
		    "  Browser:  %s\r\n"
		    "  OS:       %s\r\n"
		    "  IP:       %s\r\n"
		    "  Location: %s\r\n\r\n"
		    "If this was you, there is nothing to do. If it was not, "
		    "sign that session\r\nout and change your password:\r\n",
		    at, ui.device, ui.browser, ui.os, clean(ip, ev->ip),
		    clean(loc, ev->location));
		break;
	case MAIL_PASSWORD:
		put(b, "The password of your account was changed at %s (UTC) ",
		    at);
		put_actor(b, ev);
		put(b, ".\r\n");
		if (a->count > 0)
			put(b, "%d other session%s signed out with it.\r\n",
			    a->count, a->count == 1 ? " was" : "s were");
		put(b,
		    "\r\nIf you did not do this, sign in and see where your "
		    "account is in use:\r\n");
		break;
	case MAIL_ENDED:
		put(b,
		    "%d session%s of your account %s signed out at %s (UTC) ",
		    a->count, plural(a->count), a->count == 1 ? "was" : "were",
		    at);
		if (ev->reason != NULL &&
		    strcmp(ev->reason, "password_changed") == 0)
			put(b, "because the password was changed");
		else
			put_actor(b, ev);
		put(b, ".\r\n\r\nSee the sessions that remain:\r\n");
		break;
	case MAIL_SUMMARY:
		put(b,
		    "More security alerts came for your account than are "
		    "mailed one by one\r\nin a short time. These %d were held "
		    "back:\r\n\r\n%s\r\n"
		    "See where your account is signed in:\r\n",
		    a->count, a->lines != NULL ? a->lines : "");
		break;
	case MAIL_NONE:
		b->over = 1;
		return;
	}
	put(b, "\r\n  %s/settings/sessions\r\n\r\n-- \r\nsessiond\r\n",
	    h->site_url);
}

static const char *const subjects[] = {
	[MAIL_SIGNIN] = "New sign-in to your account",
	[MAIL_PASSWORD] = "Your password was changed",
	[MAIL_ENDED] = "Sessions of your account were signed out",
	[MAIL_SUMMARY] = "Security alerts for your account",
};

long
mail_write(char *buf, size_t size, const struct mail_head *h,
    const struct mail_alert *a)
{
	static const char *const wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	/* Fixed widths: a message's length does not vary with the id. */
	static unsigned long seq;
	struct sb b;
	struct tm tm;

	sb_init(&b, buf, size);
	if (size == 0 || a->kind == MAIL_NONE || !mail_addr_ok(h->from) ||
	    !mail_addr_ok(h->to) || gmtime_r(&h->date, &tm) == NULL)
		return -1;
	/* The Message-ID's host is ours (a setting), checked like a domain. */
	if (!dot_atom(h->msgid_host, strlen(h->msgid_host), 1))
		return -1;
	put(&b,
	    "From: %s\r\nTo: %s\r\nSubject: %s\r\n"
	    "Date: %s, %02d %s %d %02d:%02d:%02d +0000\r\n"
	    "Message-ID: <%010lld.%07ld.%010lu@%s>\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n",
	    h->from, h->to, subjects[a->kind], wday[tm.tm_wday], tm.tm_mday,
	    mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (long long)h->date, (long)getpid(), ++seq % 10000000000UL,
	    h->msgid_host);
	put_body(&b, h, a);
	return b.over ? -1 : (long)b.len;
}

size_t
mail_line(char *buf, size_t size, const struct mail_alert *a)
{
	struct sb b;
	char at[VALUE_MAX + 1], ip[VALUE_MAX + 1];
	static const char *const what[] = {
		[MAIL_SIGNIN] = "new sign-in:",
		[MAIL_PASSWORD] = "password changed",
		[MAIL_ENDED] = "sessions signed out:",
		[MAIL_SUMMARY] = "",
		[MAIL_NONE] = "",
	};

	if (size == 0)
		return 0;
	sb_init(&b, buf, size);
	buf[0] = '\0';
	put(&b, "  %s  %s ", clean(at, a->ev.at), what[a->kind]);
	if (a->kind == MAIL_SIGNIN) {
		put_device(&b, a->ev.user_agent);
		put(&b, ", %s", clean(ip, a->ev.ip));
	} else if (a->kind == MAIL_ENDED) {
		put(&b, "%d", a->count);
	}
	return b.over ? utf8_trim(buf) : b.len;
}
