/*
 * notify_cmd.c: handing an event to notify_command: one process per
 * event, the event's JSON on its standard input, no shell, an
 * environment without the database's secrets, and a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"
#include "notifier.h"
#include "util.h"

#define CMD_TIMEOUT_MS 10000 /* a command running longer is killed */
#define CMD_GRACE_MS   1000  /* from SIGTERM to SIGKILL */
#define POLL_MS	       1000  /* how late we may notice SIGTERM */

/* NOLINTNEXTLINE(readability-redundant-declaration): POSIX wants it */
extern char **environ;

/* JSON keys by column: the trigger's payload names them so. */
static const char *const col_keys[C_JSON_MAX] = {
	"id",
	"event",
	"reason",
	"user_id",
	"session_id",
	"at",
	"ip",
	"user_agent",
	"location",
	"new_device",
};

/*
 * Split notify_command on spaces and tabs into argv. There is no shell
 * and no quoting: nothing from an event ever reaches a command line.
 */
static int
split_command(struct notifier *n, char *err, size_t errlen)
{
	char *p, *word;
	size_t argc = 0;

	memcpy(n->cmdbuf, n->cfg.notify_command, sizeof(n->cmdbuf));
	p = n->cmdbuf;
	while ((word = strsep(&p, " \t")) != NULL) {
		if (*word == '\0')
			continue;
		if (argc == CMD_ARGS_MAX) {
			snprintf(err, errlen,
			    "notify_command: more than %d "
			    "words",
			    CMD_ARGS_MAX);
			return -1;
		}
		n->argv[argc++] = word;
	}
	n->argv[argc] = NULL;
	/* A path we can check now fails at startup, not at the first event. */
	if (argc > 0 && strchr(n->argv[0], '/') != NULL &&
	    access(n->argv[0], X_OK) == -1) {
		snprintf(err, errlen, "notify_command: %.200s: %s", n->argv[0],
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The command's environment: ours without anything that leads to the
 * database, which a command has no use for (it gets the event, not our
 * connection): libpq's variables (PGPASSWORD, PGPASSFILE, PGHOST, ...),
 * systemd's credentials folder (the passfile's copy) and our own
 * connection strings.
 */
static int
keep_for_command(const char *var)
{
	static const char *const secret[] = {
		"PG",
		"CREDENTIALS_DIRECTORY=",
		"SESSIOND_DATABASE=",
		"SESSIOND_DATABASE_READ=",
		"SESSIOND_SMTP_PASSWORD_FILE=",
	};
	size_t j;

	for (j = 0; j < sizeof(secret) / sizeof(secret[0]); j++)
		if (strncmp(var, secret[j], strlen(secret[j])) == 0)
			return 0;
	return 1;
}

static int
command_env(struct notifier *n, char *err, size_t errlen)
{
	size_t i, k = 0;

	for (i = 0; environ[i] != NULL; i++)
		;
	if ((n->envp = calloc(i + 1, sizeof(*n->envp))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; environ[i] != NULL; i++)
		if (keep_for_command(environ[i]))
			n->envp[k++] = environ[i];
	n->envp[k] = NULL;
	return 0;
}

/* The event as JSON text (malloc'd, the caller frees it), or NULL. */
static char *
event_json(const struct event *ev)
{
	json_object *o, *s;
	char *text = NULL;
	int c;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	for (c = 0; c < C_JSON_MAX; c++) {
		s = NULL;
		if (ev->v[c] == NULL)
			;
		else if (c == C_NEW_DEVICE)
			s = json_object_new_boolean(
			    strcmp(ev->v[c], "true") == 0);
		else if ((s = json_object_new_string(ev->v[c])) == NULL)
			goto out;
		if (json_object_object_add(o, col_keys[c], s) != 0) {
			json_object_put(s);
			goto out;
		}
	}
	text = strdup(json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(o);
	return text;
}

/*
 * Write the event to the command's stdin. The JSON is far smaller than a
 * pipe buffer, but a command that never reads must not hold us past the
 * deadline either.
 */
static void
feed_command(
    int fd, long long id, const char *text, size_t len, long long deadline)
{
	struct pollfd pfd;
	ssize_t w;
	long long left;

	pfd.fd = fd;
	pfd.events = POLLOUT;
	while (len > 0) {
		if ((w = write(fd, text, len)) >= 0) {
			text += w;
			len -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			/* EPIPE: the command chose not to read it all. */
			if (errno != EPIPE)
				log_warn("msg=\"cannot write to notify "
					 "command\" id=%lld error=%s",
				    id, log_q(strerror(errno)));
			return;
		}
		if ((left = deadline - now_ms()) <= 0)
			return;
		(void)poll(&pfd, 1, (int)(left > POLL_MS ? POLL_MS : left));
	}
}

/*
 * Wait for the command; past the deadline, end its whole process group.
 * Returns 0 with its wait status, 1 when it had to be killed, -1 when
 * waitpid fails (errno set).
 */
static int
reap_command(pid_t pid, long long deadline, int *status)
{
	long long nap = 1;
	int killed = 0;
	pid_t r;

	for (;;) {
		if ((r = waitpid(pid, status, WNOHANG)) == pid)
			return killed;
		if (r == -1 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline) {
			(void)kill(-pid, killed ? SIGKILL : SIGTERM);
			deadline = now_ms() + CMD_GRACE_MS;
			killed = 1;
		}
		/* Quick commands are reaped quickly; slow ones cost little. */
		sleep_ms(nap);
		if (nap < 50)
			nap *= 2;
	}
}

void
cmd_run(const struct notifier *n, const struct event *ev)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	char *text;
	long long deadline;
	pid_t pid;
	int fds[2], status, rc;

	if ((text = event_json(ev)) == NULL) {
		log_err("msg=\"cannot build event JSON\" id=%lld", ev->id);
		return;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_err("msg=\"pipe failed\" id=%lld error=%s", ev->id,
		    log_q(strerror(errno)));
		free(text);
		return;
	}
	/* Only our end: the command's stdin stays blocking. */
	(void)fcntl(fds[1], F_SETFL, O_NONBLOCK);

	/*
	 * The command gets SIGPIPE back (we ignore it, and an ignored signal
	 * survives exec) and its own process group, so that a timeout can
	 * end whatever it started.
	 */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
		POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	rc = posix_spawnp(&pid, n->argv[0], &fa, &attr, n->argv, n->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(fds[0]);
	if (rc != 0) {
		log_err("msg=\"cannot run notify command\" id=%lld command=%s "
			"error=%s",
		    ev->id, log_q(n->argv[0]), log_q(strerror(rc)));
		close(fds[1]);
		free(text);
		return;
	}

	deadline = now_ms() + CMD_TIMEOUT_MS;
	feed_command(fds[1], ev->id, text, strlen(text), deadline);
	/* One line of JSON: friendly to line-reading commands. */
	feed_command(fds[1], ev->id, "\n", 1, deadline);
	close(fds[1]);
	free(text);

	if ((rc = reap_command(pid, deadline, &status)) == -1)
		log_err("msg=\"waitpid failed\" id=%lld error=%s", ev->id,
		    log_q(strerror(errno)));
	else if (rc == 1)
		log_warn("msg=\"notify command timed out; killed\" id=%lld "
			 "timeout_ms=%d",
		    ev->id, CMD_TIMEOUT_MS);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_warn("msg=\"notify command failed\" id=%lld status=%d",
		    ev->id, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warn("msg=\"notify command killed\" id=%lld signal=%d",
		    ev->id, WTERMSIG(status));
	else
		log_debug("msg=\"notify command done\" id=%lld", ev->id);
}

int
cmd_init(struct notifier *n, char *err, size_t errlen)
{
	return split_command(n, err, errlen) == 0 &&
		command_env(n, err, errlen) == 0
	    ? 0
	    : -1;
}
