/*
 * notify_state.c: the notifier's position: the highest event id handed
 * on and the ids handed on recently, so that a catch-up that overlaps
 * what the notifications brought hands nothing on twice, kept in
 * notify_state_file across restarts (docs/notifier.md, "The state file").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "notifier.h"
#include "util.h"

#define STATE_MAX (32 * 1024) /* RECENT_MAX + 1 ids of 20 digits */

int
state_seen(const struct notifier *n, long long id)
{
	size_t i;

	for (i = 0; i < n->nrecent; i++)
		if (n->recent[i] == id)
			return 1;
	return 0;
}

void
state_remember(struct notifier *n, long long id)
{
	n->recent[n->rnext] = id;
	n->rnext = (n->rnext + 1) % RECENT_MAX;
	if (n->nrecent < RECENT_MAX)
		n->nrecent++;
	if (id > n->last)
		n->last = id;
}

/* Forget everything: the state does not belong to this database. */
void
state_forget(struct notifier *n, long long last)
{
	n->nrecent = n->rnext = 0;
	n->last = last;
}

/*
 * Where a catch-up starts: below every recently handled id, so that a
 * transaction that took an id before our last event but committed after
 * it (ids are not handed out in commit order) is not skipped.
 */
long long
state_floor(const struct notifier *n)
{
	long long lo = n->last;
	size_t i;

	for (i = 0; i < n->nrecent; i++)
		if (n->recent[i] < lo)
			lo = n->recent[i];
	return lo;
}

/*
 * State file: the highest handled id, then the recently handled ids,
 * oldest first, separated by white space. An operator may write a single
 * number to choose where the next start picks up.
 */
int
state_load(struct notifier *n, char *err, size_t errlen)
{
	const char *path = n->cfg.notify_state_file;
	char buf[STATE_MAX + 1], *p, *tok;
	long long id;
	ssize_t r;
	size_t len = 0;
	int fd, first = 1;

	n->last = -1;
	if (*path == '\0')
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0; /* first start */
		snprintf(err, errlen, "notify_state_file %.200s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (len < sizeof(buf) &&
	    (r = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "notify_state_file %.200s: %s",
			    path, strerror(errno));
			close(fd);
			return -1;
		}
		len += (size_t)r;
	}
	close(fd);
	if (len > STATE_MAX || memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen,
		    "notify_state_file %.200s: not a state "
		    "file",
		    path);
		return -1;
	}
	buf[len] = '\0';
	p = buf;
	while ((tok = strsep(&p, " \t\r\n")) != NULL) {
		if (*tok == '\0')
			continue;
		if (parse_ll(tok, 10, 0, LLONG_MAX, &id) != 0) {
			snprintf(err, errlen,
			    "notify_state_file %.200s: "
			    "\"%.32s\" is not an event id",
			    path, tok);
			return -1;
		}
		if (first)
			n->last = id;
		else
			state_remember(n, id);
		first = 0;
	}
	/* An empty file is a damaged one: guessing could lose events. */
	if (first) {
		snprintf(err, errlen, "notify_state_file %.200s: empty", path);
		return -1;
	}
	return 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
state_write(const struct notifier *n, const char *path, const char *tmp)
{
	char buf[STATE_MAX];
	size_t len, i, k;
	int fd, rc = 0;

	len = (size_t)snprintf(buf, sizeof(buf), "%lld\n", n->last);
	k = (n->rnext + RECENT_MAX - n->nrecent) % RECENT_MAX;
	for (i = 0; i < n->nrecent; i++, k = (k + 1) % RECENT_MAX)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%lld",
		    i == 0 ? "" : " ", n->recent[k]);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\n");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1)
		return -1;
	/*
	 * fsync before rename, so that a crash leaves the old state or the
	 * new one, never an empty file. The directory is not synced: losing
	 * the rename only means handing on a few events again.
	 */
	if (write_all(fd, buf, len) == -1 || fsync(fd) == -1)
		rc = -1;
	if (close(fd) == -1)
		rc = -1;
	if (rc == 0)
		rc = rename(tmp, path);
	if (rc == -1)
		(void)unlink(tmp);
	return rc;
}

/* Record progress; a failure is logged when it starts and when it ends. */
void
state_save(struct notifier *n)
{
	const char *path = n->cfg.notify_state_file;
	char tmp[CONFIG_STR_MAX + 8];

	if (*path == '\0')
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (state_write(n, path, tmp) == -1) {
		if (!n->state_failing)
			log_err("msg=\"cannot write state file; events may be "
				"handed on again after a restart\" path=%s "
				"error=%s",
			    log_q(path), log_q(strerror(errno)));
		n->state_failing = 1;
	} else if (n->state_failing) {
		log_info("msg=\"state file written again\" path=%s", path);
		n->state_failing = 0;
	}
}
