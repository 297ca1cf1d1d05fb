/*
 * alerts.c: the notifier's security-alert mail (alerts.h).
 *
 * Sending blocks the notifier, on purpose: the events after an unsent
 * alert are not handed on, and the saved position does not pass it, so
 * that a mail server that is away, or a restart meanwhile, loses no alert
 * (at least once; a crash between a mail's acceptance and the saved
 * position is the only way to send one twice). A request never waits on
 * any of this: sessiond only writes the audit row.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "alerts.h"
#include "crypto.h"
#include "log.h"
#include "util.h"

#define RETRY_MIN_MS   1000
#define RETRY_MAX_MS   60000
#define REMIND_MS      60000
#define SMTP_TIMEOUT_S 30
#define MESSAGE_MAX    (16 * 1024)

/*
 * Sleep ms, a second at a time: SIGTERM cuts a sleep short, but one that
 * lands just before it starts must not wait out a whole minute.
 */
static void
nap(const struct alerts *al, long long ms)
{
	for (; ms > 0 && !*al->stop; ms -= 1000)
		sleep_ms(ms < 1000 ? ms : 1000);
}

static int
read_secret(const char *path, char *buf, size_t size, char *err, size_t errlen)
{
	FILE *f;
	size_t n;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "smtp_password_file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (n == size - 1 || *buf == '\0') {
		snprintf(err, errlen, "smtp_password_file %s: %s", path,
		    *buf == '\0' ? "empty" : "too long");
		return -1;
	}
	return 0;
}

int
alerts_init(struct alerts *al, const struct config *cfg,
    volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	const char *tls = cfg->smtp_tls;

	memset(al, 0, sizeof(*al));
	al->cfg = cfg;
	al->stop = stop;
	if (*cfg->smtp_url == '\0')
		return 0;
	if (strncmp(cfg->smtp_url, "smtp://", 7) != 0 &&
	    strncmp(cfg->smtp_url, "smtps://", 8) != 0) {
		snprintf(err, errlen,
		    "smtp_url: smtp://HOST[:PORT] or "
		    "smtps://HOST[:PORT]");
		return -1;
	}
	if (strcmp(tls, "auto") != 0 && strcmp(tls, "required") != 0 &&
	    strcmp(tls, "off") != 0) {
		snprintf(err, errlen, "smtp_tls: auto, required or off");
		return -1;
	}
	if (!mail_addr_ok(cfg->mail_from)) {
		snprintf(err, errlen,
		    "mail_from: a mail address "
		    "(local@domain) is needed with smtp_url");
		return -1;
	}
	if (strncmp(cfg->site_url, "https://", 8) != 0 &&
	    strncmp(cfg->site_url, "http://", 7) != 0) {
		snprintf(err, errlen,
		    "site_url: the site's http(s):// "
		    "address is needed with smtp_url");
		return -1;
	}
	if (strpbrk(cfg->site_url, " \t\r\n") != NULL) {
		snprintf(err, errlen, "site_url: no white space");
		return -1;
	}
	if (*cfg->smtp_user != '\0' &&
	    read_secret(cfg->smtp_password_file, al->password,
		sizeof(al->password), err, errlen) != 0)
		return -1;
	if (*cfg->smtp_user != '\0' && strcmp(tls, "off") == 0 &&
	    strncmp(cfg->smtp_url, "smtps://", 8) != 0) {
		snprintf(err, errlen,
		    "smtp_tls off with smtp_user would send "
		    "the password in the clear");
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl: cannot initialise");
		return -1;
	}
	al->host = strchr(cfg->mail_from, '@') + 1;
	al->on = 1;
	return 0;
}

void
alerts_free(struct alerts *al)
{
	if (al->on)
		curl_global_cleanup();
	crypto_wipe(al->password, sizeof(al->password));
}

int
alerts_pending(const struct alerts *al)
{
	return al->nqueue;
}

struct upload {
	const char *p;
	size_t left;
};

static size_t
feed(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nitems < u->left ? size * nitems : u->left;

	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/* Returns 0 sent, 1 refused for good, -1 try again later. */
static int
smtp_send(struct alerts *al, const char *to, const char *msg, size_t len,
    char *err, size_t errlen)
{
	const struct config *cfg = al->cfg;
	char from[CONFIG_STR_MAX + 2], rcpt[EMAIL_MAX + 3];
	char cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *rcpts;
	struct upload u = { msg, len };
	long code = 0;
	CURL *c;
	CURLcode rc;

	snprintf(from, sizeof(from), "<%s>", cfg->mail_from);
	snprintf(rcpt, sizeof(rcpt), "<%s>", to);
	if ((c = curl_easy_init()) == NULL ||
	    (rcpts = curl_slist_append(NULL, rcpt)) == NULL) {
		curl_easy_cleanup(c);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)SMTP_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	/* auto: STARTTLS where offered, and always before a password. */
	curl_easy_setopt(c, CURLOPT_USE_SSL,
	    strcmp(cfg->smtp_tls, "off") == 0 ? (long)CURLUSESSL_NONE
		: strcmp(cfg->smtp_tls, "required") == 0 ||
		    *cfg->smtp_user != '\0'
		? (long)CURLUSESSL_ALL
		: (long)CURLUSESSL_TRY);
	if (*cfg->smtp_ca_file != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->smtp_ca_file);
	if (*cfg->smtp_user != '\0') {
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, al->password);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(c);
	if (rc == CURLE_OK)
		return 0;
	snprintf(err, errlen, "%s (%ld)",
	    *cerr != '\0' ? cerr : curl_easy_strerror(rc), code);
	/*
	 * Refused for good: a 5xx about this message or its recipient. A
	 * refused login, sender or plain connection (530: authenticate or
	 * STARTTLS first) is our settings, which an operator fixes: those
	 * are retried, so that nothing is lost meanwhile.
	 */
	return code >= 500 && code <= 599 && code != 530 &&
		rc != CURLE_LOGIN_DENIED && strstr(cerr, "MAIL failed") == NULL
	    ? 1
	    : -1;
}

/*
 * Write and send one alert, retrying while the server is away. Returns
 * 0 done (sent or refused for good), -1 stopping.
 */
static int
send_alert(struct alerts *al, long long uid, const char *to,
    const char *username, const struct mail_alert *a)
{
	static char msg[MESSAGE_MAX];
	char err[CURL_ERROR_SIZE + 64];
	struct mail_head h = { al->cfg->mail_from, to, username,
		al->cfg->site_url, al->host, time(NULL) };
	long long delay = RETRY_MIN_MS, reminded = 0;
	long len;
	int rc;

	if ((len = mail_write(msg, sizeof(msg), &h, a)) < 0) {
		log_err("msg=\"alert mail not written\" user_id=%lld kind=%d",
		    uid, (int)a->kind);
		al->dropped++;
		return 0;
	}
	while ((rc = smtp_send(al, to, msg, (size_t)len, err, sizeof(err))) ==
	    -1) {
		if (!al->failing || now_ms() - reminded >= REMIND_MS) {
			log_warn("msg=\"mail server unavailable; retrying\" "
				 "error=%s",
			    log_q(err));
			reminded = now_ms();
		}
		al->failing = 1;
		nap(al, delay);
		if (*al->stop)
			return -1;
		delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
	}
	if (al->failing)
		log_info("msg=\"mail server back\"");
	al->failing = 0;
	if (rc == 1) {
		log_warn("msg=\"alert mail refused\" user_id=%lld error=%s",
		    uid, log_q(err));
		al->dropped++;
		return 0;
	}
	al->sent++;
	log_info(
	    "msg=\"alert mailed\" user_id=%lld kind=%d", uid, (int)a->kind);
	return 0;
}

/* The user's window, made or taken over (the quietest without held ones). */
static struct alert_user *
user_of(struct alerts *al, long long uid)
{
	struct alert_user *u, *pick = NULL;
	int i;

	for (i = 0; i < ALERTS_USERS_MAX; i++) {
		u = &al->users[i];
		if (u->uid == uid)
			return u;
		if (u->held > 0)
			continue;
		if (pick == NULL || u->uid == 0 ||
		    (pick->uid != 0 &&
			(u->nsent == 0 ? 0 : u->sent[u->nsent - 1]) <
			    (pick->nsent == 0 ? 0
					      : pick->sent[pick->nsent - 1])))
			pick = u;
	}
	if (pick == NULL) /* every slot holds alerts: the first gives way */
		pick = &al->users[0];
	if (pick->held > 0)
		log_warn("msg=\"held alerts dropped\" user_id=%lld count=%d",
		    pick->uid, pick->held);
	memset(pick, 0, sizeof(*pick));
	pick->uid = uid;
	return pick;
}

/* Forget mails older than the window; 1 when another may go now. */
static int
has_room(struct alerts *al, struct alert_user *u, long long now)
{
	int i = 0;

	while (i < u->nsent &&
	    now - u->sent[i] >= al->cfg->mail_limit_window * 1000LL)
		i++;
	memmove(
	    u->sent, u->sent + i, (size_t)(u->nsent - i) * sizeof(*u->sent));
	u->nsent -= i;
	return u->nsent < al->cfg->mail_limit;
}

static void
note_sent(struct alert_user *u, long long now)
{
	if (u->nsent < (int)(sizeof(u->sent) / sizeof(u->sent[0])))
		u->sent[u->nsent++] = now;
}

static void
hold(struct alert_user *u, const struct alert *q)
{
	char line[256];
	size_t n = mail_line(line, sizeof(line), &q->a);

	if (u->held == 0)
		snprintf(u->at, sizeof(u->at), "%s", q->v[2]);
	u->held++;
	snprintf(u->to, sizeof(u->to), "%s", q->to);
	snprintf(u->username, sizeof(u->username), "%s", q->username);
	if (u->held_len + n + 3 < sizeof(u->held_lines)) {
		memcpy(u->held_lines + u->held_len, line, n);
		memcpy(u->held_lines + u->held_len + n, "\r\n", 3);
		u->held_len += n + 2;
	}
}

/* Send (or hold back) queued alert i. Returns 0, or -1 stopping. */
static int
flush_one(struct alerts *al, const struct alert *q)
{
	struct alert_user *u = user_of(al, q->uid);
	long long now = now_ms();

	if (!has_room(al, u, now)) {
		hold(u, q);
		log_info("msg=\"alert held back for a summary\" "
			 "user_id=%lld held=%d",
		    q->uid, u->held);
		return 0;
	}
	if (send_alert(al, q->uid, q->to, q->username, &q->a) == -1)
		return -1;
	note_sent(u, now_ms());
	return 0;
}

int
alerts_flush(struct alerts *al)
{
	int i, j;

	/* Sessions ended with a password change go in its mail. */
	for (i = 0; i < al->nqueue; i++) {
		struct alert *q = &al->queue[i];

		if (q->a.kind != MAIL_ENDED || q->a.count == 0)
			continue;
		for (j = 0; j < al->nqueue; j++)
			if (al->queue[j].a.kind == MAIL_PASSWORD &&
			    al->queue[j].uid == q->uid)
				break;
		if (j < al->nqueue) {
			al->queue[j].a.count += q->a.count;
			q->a.count = 0;
		}
	}
	for (i = 0; i < al->nqueue; i++) {
		if (al->queue[i].a.kind == MAIL_ENDED &&
		    al->queue[i].a.count == 0)
			continue;
		if (flush_one(al, &al->queue[i]) == -1) {
			/* What was sent stays sent: shift the rest down. */
			memmove(al->queue, al->queue + i,
			    (size_t)(al->nqueue - i) * sizeof(*al->queue));
			al->nqueue -= i;
			return -1;
		}
	}
	al->nqueue = 0;
	return 0;
}

static void
copy(char *dst, const char **ptr)
{
	if (*ptr == NULL)
		return;
	snprintf(dst, ALERTS_VALUE_MAX, "%s", *ptr);
	*ptr = dst;
}

void
alerts_add(struct alerts *al, long long uid, const char *username,
    const char *to, const struct mail_event *ev)
{
	enum mail_kind kind = mail_kind_of(ev);
	struct alert *q;
	int i;

	if (!al->on || kind == MAIL_NONE || to == NULL || !mail_addr_ok(to))
		return;
	/* More sessions of one revoke: the same mail. */
	for (i = 0; kind == MAIL_ENDED && i < al->nqueue; i++) {
		q = &al->queue[i];
		if (q->a.kind == MAIL_ENDED && q->uid == uid &&
		    strcmp(q->v[1], ev->reason) == 0) {
			q->a.count++;
			return;
		}
	}
	if (al->nqueue == ALERTS_QUEUE_MAX && alerts_flush(al) == -1)
		return; /* stopping: caught up again at the next start */
	q = &al->queue[al->nqueue++];
	memset(q, 0, sizeof(*q));
	q->uid = uid;
	snprintf(q->to, sizeof(q->to), "%s", to);
	snprintf(q->username, sizeof(q->username), "%s",
	    username != NULL ? username : "");
	q->a.kind = kind;
	q->a.count = kind == MAIL_ENDED ? 1 : 0;
	q->a.ev = *ev;
	copy(q->v[0], &q->a.ev.event);
	copy(q->v[1], &q->a.ev.reason);
	copy(q->v[2], &q->a.ev.at);
	copy(q->v[3], &q->a.ev.ip);
	copy(q->v[4], &q->a.ev.user_agent);
	copy(q->v[5], &q->a.ev.location);
	q->a.ev.new_device = NULL;
}

void
alerts_tick(struct alerts *al)
{
	struct mail_alert a;
	struct alert_user *u;
	long long now = now_ms();
	int i;

	for (i = 0; i < ALERTS_USERS_MAX && !*al->stop; i++) {
		u = &al->users[i];
		if (u->held == 0 || !has_room(al, u, now))
			continue;
		memset(&a, 0, sizeof(a));
		a.kind = MAIL_SUMMARY;
		a.count = u->held;
		a.lines = u->held_lines;
		a.ev.at = u->at;
		if (send_alert(al, u->uid, u->to, u->username, &a) == -1)
			return;
		note_sent(u, now_ms());
		u->held = 0;
		u->held_len = 0;
		u->held_lines[0] = '\0';
	}
}
