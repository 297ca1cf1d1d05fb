/*
 * master.h: the master process. It opens nothing itself: it forks the
 * workers over a listening socket, replaces those that die (with a
 * back-off), reloads on SIGHUP by replacing them one by one, and on
 * SIGTERM/SIGINT lets them finish their requests and exit.
 */
#ifndef MASTER_H
#define MASTER_H

struct app;

/*
 * Run until told to stop; returns the exit status. fd is the socket of
 * the main pool (cfg.workers); login_fd, unless -1, that of the login
 * pool (cfg.login_workers), where nginx sends login and re-auth so that
 * a storm of password hashes cannot hold up other requests. reload is
 * called on SIGHUP to re-read configuration and keys into app (0 on
 * success; on failure the old settings stay).
 */
int master_run(struct app *, int fd, int login_fd, int (*reload)(struct app *));

/* Tell systemd (if it started us) our state: "READY=1", ... */
void master_notify(const char *state);

#endif /* MASTER_H */
