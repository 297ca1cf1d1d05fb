/*
 * config.h: settings of sessiond, sessionctl and the notifier.
 *
 * One mechanism: a file of "key = value" lines (default
 * /etc/sessiond/sessiond.conf, or the path given with -c or in
 * SESSIOND_CONFIG), then environment overrides named SESSIOND_<KEY> in
 * upper case. Every setting has a default that works in the local stack.
 * A bad value is an error naming the setting.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#define CONFIG_PATH_DEFAULT "/etc/sessiond/sessiond.conf"
#define CONFIG_STR_MAX	    1024

struct config {
	char listen[CONFIG_STR_MAX];	   /* unix:/path or host:port */
	int socket_mode;		   /* octal mode of a unix socket */
	int workers;			   /* 0: number of CPUs */
	char login_listen[CONFIG_STR_MAX]; /* login pool; "" = no pool */
	int login_workers; /* login pool size; 0: half the CPUs */
	int login_nice;	   /* login pool's nice, above the main's */
	/* Prometheus scrapes: host:port or unix:/path; "" = off */
	char metrics_listen[CONFIG_STR_MAX];
	int backlog;			    /* listen(2) backlog */
	char database[CONFIG_STR_MAX];	    /* libpq conninfo; "" = PG* env */
	char database_read[CONFIG_STR_MAX]; /* standby for reads; "" = none */
	int prepared_statements;	    /* 0 behind a transaction pooler */
	char keys_file[CONFIG_STR_MAX];	    /* cookie keys, see cookie.h */
	int idle_timeout;		    /* seconds */
	int absolute_lifetime;		    /* seconds */
	int reauth_window;		    /* seconds; 0 turns it off */
	int max_sessions;		    /* active sessions per user */
	int login_window;		    /* seconds of the throttle window */
	int login_max_per_user_ip;	    /* per user name and client IP */
	int login_max_per_ip;		    /* failures per client IP */
	int login_max_per_user;		    /* per user name, all IPs */
	int login_max_per_device;	    /* per device cookie */
	int reauth_max_per_session;	    /* re-auth, password form */
	int device_cookie_lifetime;	    /* seconds */
	int retention_days;		    /* purge: keep ended sessions */
	int touch_interval; /* seconds between last-seen writes */
	char
	    geoip_database[CONFIG_STR_MAX]; /* MaxMind-format file; "" = none */
	char notify_command
	    [CONFIG_STR_MAX]; /* notifier: argv, split on spaces */
	char notify_state_file[CONFIG_STR_MAX]; /* notifier: last event id */
	/* The notifier's alert mail (docs/notifier.md); "" = no mail. */
	char smtp_url[CONFIG_STR_MAX];	/* smtp://host:port, smtps:// */
	char smtp_tls[CONFIG_STR_MAX];	/* auto, required, off */
	char smtp_user[CONFIG_STR_MAX]; /* "" = no authentication */
	char smtp_password_file[CONFIG_STR_MAX]; /* its password, one line */
	char smtp_ca_file[CONFIG_STR_MAX];	 /* "" = the system's CAs */
	char mail_from[CONFIG_STR_MAX];		 /* the alerts' From */
	char site_url[CONFIG_STR_MAX]; /* https://host, for the link */
	int mail_limit;		       /* alert mails per user per window, */
	int mail_limit_window;	       /* seconds; the rest go in a summary */
	char admin_database[CONFIG_STR_MAX]; /* sessionctl: the owner's */
};

/*
 * Fill cfg with defaults, then the file at path (NULL: SESSIOND_CONFIG or
 * none; a missing default file is fine, a missing named file is not), then
 * environment overrides. On error writes one line naming the setting to
 * err (errlen bytes) and returns -1; returns 0 on success.
 */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/*
 * Apply one "key = value" line; used by config_load and by the fuzzer.
 * Returns 0, or -1 with a message in err.
 */
int config_set(struct config *cfg, const char *key, const char *value,
    char *err, size_t errlen);

/* Defaults only. */
void config_defaults(struct config *cfg);

#endif /* CONFIG_H */
