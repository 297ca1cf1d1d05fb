/*
 * test_mail.c: the alert address rule and the alert messages: the
 * headers hold only what we chose, whatever a user agent or a place says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mail.h"
#include "testlib.h"

static const struct mail_head head = {
	"alerts@example.com", "alice@example.org", "alice",
	"https://sessions.example.com", "example.com",
	1796206800, /* 2026-12-02T10:20:00Z, a Wednesday */
};

static const struct mail_event signin = {
	"session.created",
	NULL,
	"2026-12-02T10:20:00Z",
	"192.0.2.7",
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 "
	"Firefox/133.0",
	"Paris, France",
	"true",
};

static void
test_addr_ok(void **state)
{
	static const char *const good[] = { "a@b.co", "first.last@ex-ample.org",
		"x+tag@sub.example.com", "o'neil@example.ie",
		"{weird}=ok@example.com" };
	static const char *const bad[] = { "", "@", "a@", "@b.co", "a@b",
		"a b@c.de", "a@b.co\r\nBcc: x@y.zz", "a@b.co\n", "<a@b.co>",
		"a@@b.co", "a@b@c.de", ".a@b.co", "a.@b.co", "a..b@c.de",
		"a@.b.co", "a@b..co", "a@b.co.", "\"a\"@b.co", "a@[1.2.3.4]",
		"a,b@c.de", "a;b@c.de", "a@b_c.de", "caf\xc3\xa9@b.co",
		"a\x7f@b.co", "(a)@b.co" };
	char longest[EMAIL_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(good); i++)
		assert_true(mail_addr_ok(good[i]));
	for (i = 0; i < nitems(bad); i++)
		assert_false(mail_addr_ok(bad[i]));
	assert_false(mail_addr_ok(NULL));
	/* EMAIL_MAX bytes pass, one more does not. */
	memset(longest, 'a', sizeof(longest));
	memcpy(longest + EMAIL_MAX - 6, "@ex.co", 7);
	assert_int_equal(strlen(longest), EMAIL_MAX);
	assert_true(mail_addr_ok(longest));
	memset(longest, 'a', sizeof(longest));
	memcpy(longest + EMAIL_MAX + 1 - 6, "@ex.co", 7);
	assert_false(mail_addr_ok(longest));
}

static void
test_kind_of(void **state)
{
	static const struct {
		const char *event, *reason, *new_device;
		enum mail_kind kind;
	} cases[] = {
		{ "session.created", NULL, "true", MAIL_SIGNIN },
		{ "session.created", NULL, "false", MAIL_NONE },
		{ "session.created", NULL, NULL, MAIL_NONE },
		{ "password.changed", "user", NULL, MAIL_PASSWORD },
		{ "password.changed", "admin", NULL, MAIL_PASSWORD },
		{ "session.revoked", "others", NULL, MAIL_ENDED },
		{ "session.revoked", "admin", NULL, MAIL_ENDED },
		{ "session.revoked", "password_changed", NULL, MAIL_ENDED },
		/* The user's own doing, the cap and the clock: no mail. */
		{ "session.revoked", "user", NULL, MAIL_NONE },
		{ "session.revoked", "logout", NULL, MAIL_NONE },
		{ "session.revoked", "evicted", NULL, MAIL_NONE },
		{ "session.revoked", "expired", NULL, MAIL_NONE },
		{ "session.revoked", NULL, NULL, MAIL_NONE },
		{ "login.failed", NULL, "true", MAIL_NONE },
		{ NULL, NULL, "true", MAIL_NONE },
	};
	struct mail_event ev = signin;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		ev.event = cases[i].event;
		ev.reason = cases[i].reason;
		ev.new_device = cases[i].new_device;
		assert_int_equal(mail_kind_of(&ev), cases[i].kind);
	}
}

/* The header block of msg: every line "Name: value", CRLF ended. */
static size_t
check_headers(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n"), *p = msg, *eol;
	size_t n = 0;

	assert_non_null(end);
	while (p < end) {
		eol = strstr(p, "\r\n");
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ", *p));
		assert_non_null(memchr(p, ':', (size_t)(eol - p)));
		for (; p < eol; p++)
			assert_true(*p >= 0x20 && *p < 0x7f);
		p = eol + 2;
		n++;
	}
	return n;
}

static void
test_signin(void **state)
{
	char msg[8192];
	struct mail_alert a = { MAIL_SIGNIN, signin, 0, NULL };
	long n;

	(void)state;
	n = mail_write(msg, sizeof(msg), &head, &a);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(msg));
	assert_int_equal(check_headers(msg), 9);
	assert_non_null(strstr(msg, "From: alerts@example.com\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: alice@example.org\r\n"));
	assert_non_null(
	    strstr(msg, "\r\nSubject: New sign-in to your account\r\n"));
	assert_non_null(
	    strstr(msg, "\r\nDate: Wed, 02 Dec 2026 10:20:00 +0000\r\n"));
	assert_non_null(strstr(msg, "@example.com>\r\n"));
	assert_non_null(strstr(msg, "Hello alice,"));
	assert_non_null(strstr(msg, "When:     2026-12-02T10:20:00Z (UTC)"));
	assert_non_null(strstr(msg, "Browser:  Firefox 133"));
	assert_non_null(strstr(msg, "OS:       Linux"));
	assert_non_null(strstr(msg, "IP:       192.0.2.7"));
	assert_non_null(strstr(msg, "Location: Paris, France"));
	assert_non_null(
	    strstr(msg, "https://sessions.example.com/settings/sessions\r\n"));
}

/*
 * A user agent, a place and a user name that try to add headers or end
 * the message: they stay on their body line, cleaned.
 */
static void
test_hostile_values(void **state)
{
	char msg[8192];
	struct mail_head h = head;
	struct mail_alert a = { MAIL_SIGNIN, signin, 0, NULL };
	const char *body, *p;

	(void)state;
	a.ev.user_agent = "Evil\r\nBcc: victim@example.net\r\n\r\nbody";
	a.ev.location = "Nowhere\r\n.\r\nMAIL FROM:<x@y.zz>";
	a.ev.ip = "192.0.2.7\nSubject: hi";
	h.username = "al\rice\nX-Injected: 1";
	assert_true(mail_write(msg, sizeof(msg), &h, &a) > 0);
	assert_int_equal(check_headers(msg), 9);
	body = strstr(msg, "\r\n\r\n") + 4;
	assert_null(strstr(msg, "\nBcc:"));
	assert_null(strstr(msg, "\nX-Injected"));
	assert_null(strstr(msg, "\nSubject: hi"));
	assert_null(strstr(body, "\r\n.\r\n"));
	assert_null(strstr(msg, "\nMAIL FROM"));
	/* Every body line ends in CRLF: no bare CR or LF anywhere. */
	for (p = msg; *p != '\0'; p++) {
		if (*p == '\r')
			assert_int_equal(p[1], '\n');
		if (*p == '\n')
			assert_true(p > msg && p[-1] == '\r');
	}
	/* Addresses are never taken as given. */
	h = head;
	h.to = "alice@example.org\r\nBcc: victim@example.net";
	assert_int_equal(mail_write(msg, sizeof(msg), &h, &a), -1);
	h = head;
	h.from = "a@b.co>\r\nX: y";
	assert_int_equal(mail_write(msg, sizeof(msg), &h, &a), -1);
	h = head;
	h.msgid_host = "example.com>\r\nX: y";
	assert_int_equal(mail_write(msg, sizeof(msg), &h, &a), -1);
}

static void
test_password_and_ended(void **state)
{
	char msg[8192];
	struct mail_alert a = { MAIL_PASSWORD, signin, 3, NULL };

	(void)state;
	a.ev.event = "password.changed";
	a.ev.reason = "user";
	assert_true(mail_write(msg, sizeof(msg), &head, &a) > 0);
	assert_non_null(strstr(msg, "Subject: Your password was changed\r\n"));
	assert_non_null(strstr(msg,
	    "from Firefox 133 on Linux (Desktop) at "
	    "192.0.2.7 (Paris, France)"));
	assert_non_null(strstr(msg, "3 other sessions were signed out"));
	/* No place known: no empty parentheses. */
	a.ev.location = NULL;
	assert_true(mail_write(msg, sizeof(msg), &head, &a) > 0);
	assert_non_null(strstr(msg, "(Desktop) at 192.0.2.7.\r\n"));
	a.ev.location = signin.location;

	a.ev.reason = "admin";
	a.count = 0;
	assert_true(mail_write(msg, sizeof(msg), &head, &a) > 0);
	assert_non_null(strstr(msg, "by an administrator"));
	assert_null(strstr(msg, "signed out with it"));

	a.kind = MAIL_ENDED;
	a.ev.event = "session.revoked";
	a.ev.reason = "others";
	a.count = 2;
	assert_true(mail_write(msg, sizeof(msg), &head, &a) > 0);
	assert_non_null(strstr(
	    msg, "Subject: Sessions of your account were signed out\r\n"));
	assert_non_null(strstr(msg,
	    "2 sessions of your account were signed "
	    "out at 2026-12-02T10:20:00Z (UTC) from "
	    "Firefox 133"));
	a.count = 1;
	a.ev.reason = "admin";
	assert_true(mail_write(msg, sizeof(msg), &head, &a) > 0);
	assert_non_null(strstr(msg,
	    "1 session of your account was signed "
	    "out at 2026-12-02T10:20:00Z (UTC) by an "
	    "administrator."));
	a.kind = MAIL_NONE;
	assert_int_equal(mail_write(msg, sizeof(msg), &head, &a), -1);
}

static void
test_summary_and_line(void **state)
{
	char msg[8192], line[256], lines[600];
	struct mail_alert a = { MAIL_SIGNIN, signin, 0, NULL };
	struct mail_alert s = { MAIL_SUMMARY, signin, 2, NULL };
	size_t n;

	(void)state;
	n = mail_line(line, sizeof(line), &a);
	assert_int_equal(n, strlen(line));
	assert_string_equal(line,
	    "  2026-12-02T10:20:00Z  new sign-in: "
	    "Firefox 133 on Linux (Desktop), 192.0.2.7");
	snprintf(lines, sizeof(lines), "%s\r\n%s\r\n", line, line);
	s.lines = lines;
	assert_true(mail_write(msg, sizeof(msg), &head, &s) > 0);
	assert_non_null(
	    strstr(msg, "Subject: Security alerts for your account\r\n"));
	assert_non_null(strstr(msg, "These 2 were held back"));
	assert_non_null(strstr(msg, lines));
	/* Cut short on a whole character, never mid-sequence. */
	a.ev.ip = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
	for (n = 1; n < 90; n++) {
		size_t len = mail_line(line, n, &a);

		assert_true(len < n);
		assert_int_equal(len, strlen(line));
	}
	assert_int_equal(mail_line(line, 0, &a), 0);
}

/* A buffer too small is an error, never a truncated message. */
static void
test_too_small(void **state)
{
	char msg[8192];
	struct mail_alert a = { MAIL_SIGNIN, signin, 0, NULL };
	long full = mail_write(msg, sizeof(msg), &head, &a);
	size_t n;

	(void)state;
	assert_true(full > 0);
	for (n = 0; n <= (size_t)full; n += 37)
		assert_int_equal(mail_write(msg, n, &head, &a), -1);
	assert_int_equal(mail_write(msg, (size_t)full, &head, &a), -1);
	assert_int_equal(mail_write(msg, (size_t)full + 1, &head, &a), full);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_ok),
		cmocka_unit_test(test_kind_of),
		cmocka_unit_test(test_signin),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_password_and_ended),
		cmocka_unit_test(test_summary_and_line),
		cmocka_unit_test(test_too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
