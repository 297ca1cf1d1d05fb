/*
 * sessionctl.c: the administrator's command line. Every command exits
 * non-zero with one line on stderr when it fails.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bounds.h"
#include "config.h"
#include "crypto.h"
#include "keyring.h"
#include "log.h"
#include "mail.h"
#include "password.h"
#include "pg.h"
#include "ua.h"
#include "util.h"

#define MIGRATIONS_MAX 256
#define PURGE_BATCH    10000

static struct config cfg;
static PGconn *conn;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("sessionctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (conn != NULL)
		PQfinish(conn);
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sessionctl [-c config] command\n"
	    "  migrate\n"
	    "  user add NAME [--email ADDR]  (password on standard input)\n"
	    "  user email NAME ADDR   (where alerts go; \"\" for none)\n"
	    "  user disable NAME\n"
	    "  user enable NAME\n"
	    "  user passwd NAME       (new password on standard input)\n"
	    "  sessions list NAME\n"
	    "  sessions revoke ID\n"
	    "  purge\n"
	    "  key generate [KID]\n");
	exit(2);
}

static void
db_open(void)
{
	/* The schema's owner (migrate, purge) when set; else the service's. */
	const char *conninfo =
	    cfg.admin_database[0] != '\0' ? cfg.admin_database : cfg.database;
	char *msg, *nl;

	conn = pg_open(conninfo, "sessionctl", "10", NULL);
	if (PQstatus(conn) != CONNECTION_OK) {
		msg = PQerrorMessage(conn);
		if ((nl = strchr(msg, '\n')) != NULL)
			*nl = '\0';
		die("cannot connect to the database: %s", msg);
	}
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
}

static char *
one_line(const char *s)
{
	static char buf[SERVER_MSG_MAX];
	char *nl;

	snprintf(buf, sizeof(buf), "%s", s);
	while ((nl = strchr(buf, '\n')) != NULL)
		*nl = ' ';
	return buf;
}

/* Run a statement; die on any failure. */
static PGresult *
q(const char *sql, int n, const char *const *params)
{
	PGresult *res;
	ExecStatusType st;

	if (n == 0)
		res = PQexec(conn, sql);
	else
		res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		die("%s", one_line(PQresultErrorMessage(res)));
	return res;
}

static void
qx(const char *sql, int n, const char *const *params)
{
	PQclear(q(sql, n, params));
}

/* The sql/ folder: $SESSIOND_SQL_DIR, or beside the installed binary. */
static void
sql_dir(char *out, size_t outlen)
{
	static const char *const rel[] = { "../share/sessiond/sql", "../sql" };
	const char *env = getenv("SESSIOND_SQL_DIR");
	char exe[PATH_MAX - 64], *slash;
	struct stat st;
	ssize_t n;
	size_t i;

	if (env != NULL && *env != '\0') {
		snprintf(out, outlen, "%s", env);
		return;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(out, outlen, "%s/%s", exe, rel[i]);
			if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
				return;
		}
	}
	die("cannot find the sql/ folder; set SESSIOND_SQL_DIR");
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
slurp(const char *path)
{
	FILE *f;
	char *buf;
	long len;

	if ((f = fopen(path, "r")) == NULL)
		die("%s: cannot open", path);
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)len + 1)) == NULL ||
	    fread(buf, 1, (size_t)len, f) != (size_t)len)
		die("%s: cannot read", path);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/*
 * Apply the NNN-name.sql files not yet recorded in schema_migrations, in
 * order, each in its own transaction; an advisory lock keeps two
 * migrations from running at once.
 */
static void
cmd_migrate(void)
{
	char dir[PATH_MAX], path[PATH_MAX * 2], ver[16];
	char *names[MIGRATIONS_MAX], *sql;
	const char *p[2];
	struct dirent *de;
	DIR *d;
	PGresult *res;
	size_t n = 0, i;
	long long v;
	int applied = 0;

	sql_dir(dir, sizeof(dir));
	if ((d = opendir(dir)) == NULL)
		die("%s: cannot open", dir);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 8 || !isdigit((unsigned char)de->d_name[0]) ||
		    strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		if (n == MIGRATIONS_MAX)
			die("too many migrations");
		if ((names[n++] = strdup(de->d_name)) == NULL)
			die("out of memory");
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmpstr);

	db_open();
	qx("SELECT pg_advisory_lock(7263541)", 0, NULL);
	qx("CREATE TABLE IF NOT EXISTS schema_migrations ("
	   "version int PRIMARY KEY, name text NOT NULL, "
	   "applied_at timestamptz NOT NULL DEFAULT now())",
	    0, NULL);
	for (i = 0; i < n; i++) {
		/* The version is the file name's leading digits. */
		snprintf(ver, sizeof(ver), "%.*s",
		    (int)strspn(names[i], "0123456789"), names[i]);
		if (parse_ll(ver, 10, 0, INT_MAX, &v) != 0)
			die("%s: version out of range", names[i]);
		snprintf(ver, sizeof(ver), "%lld", v);
		p[0] = ver;
		p[1] = names[i];
		res = q(
		    "SELECT 1 FROM schema_migrations WHERE version = $1", 1, p);
		if (PQntuples(res) == 1) {
			PQclear(res);
			continue;
		}
		PQclear(res);
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		sql = slurp(path);
		qx("BEGIN", 0, NULL);
		res = PQexec(conn, sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    PQresultStatus(res) != PGRES_TUPLES_OK)
			die("%s: %s", names[i],
			    one_line(PQresultErrorMessage(res)));
		PQclear(res);
		qx("INSERT INTO schema_migrations (version, name) "
		   "VALUES ($1, $2)",
		    2, p);
		qx("COMMIT", 0, NULL);
		free(sql);
		printf("applied %s\n", names[i]);
		applied++;
	}
	qx("SELECT pg_advisory_unlock(7263541)", 0, NULL);
	if (applied == 0)
		printf("database is up to date\n");
	for (i = 0; i < n; i++)
		free(names[i]);
}

static void
check_username(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > USERNAME_MAX)
		die("user name must be 1 to %d characters", USERNAME_MAX);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) &&
		    strchr("._@-", name[i]) == NULL)
			die("user name may hold letters, digits and . _ @ -");
}

/* One line from standard input, without echo when it is a terminal. */
static void
read_password(char *buf, size_t len)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO);
	size_t n;

	if (tty) {
		fprintf(stderr, "Password: ");
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (fgets(buf, (int)len, stdin) == NULL)
		buf[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n == len - 1)
		die("password longer than %d bytes", PASSWORD_MAX);
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (!utf8_valid(buf, n))
		die("password is not valid UTF-8");
}

/* An alert address as mail.c accepts it, or "" for none. */
static void
check_email(const char *addr)
{
	if (*addr != '\0' && !mail_addr_ok(addr))
		die("not a mail address we accept (local@domain, at most %d "
		    "printable ASCII characters, no spaces or quotes)",
		    EMAIL_MAX);
}

static void
cmd_user_add(const char *name, const char *email)
{
	char pw[PASSWORD_MAX + 2], hash[PWHASH_MAX];
	const char *p[3];
	PGresult *res;

	check_username(name);
	check_email(email);
	read_password(pw, sizeof(pw));
	if (strlen(pw) < 8)
		die("password must be at least 8 characters");
	if (crypto_pw_hash(pw, strlen(pw), hash) != 0)
		die("cannot hash the password");
	crypto_wipe(pw, sizeof(pw));
	db_open();
	p[0] = name;
	p[1] = hash;
	p[2] = email;
	res = PQexecParams(conn,
	    "INSERT INTO users (username, password_hash, email) "
	    "VALUES ($1, $2, nullif($3, '')) ON CONFLICT (username) DO NOTHING "
	    "RETURNING id",
	    3, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		die("%s", one_line(PQresultErrorMessage(res)));
	if (PQntuples(res) == 0)
		die("user %s already exists", name);
	printf("created user %s (id %s)\n", name, PQgetvalue(res, 0, 0));
	PQclear(res);
}

static void
cmd_user_email(const char *name, const char *email)
{
	const char *p[2] = { name, email };
	PGresult *res;

	check_username(name);
	check_email(email);
	db_open();
	res = PQexecParams(conn,
	    "UPDATE users SET email = nullif($2, '') WHERE username = $1", 2,
	    NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		die("%s", one_line(PQresultErrorMessage(res)));
	if (strcmp(PQcmdTuples(res), "1") != 0)
		die("no user %s", name);
	PQclear(res);
	if (*email == '\0')
		printf("user %s has no alert address\n", name);
	else
		printf("alerts for user %s go to %s\n", name, email);
}

/*
 * A new password for NAME under the rules of the password form (the
 * current one included); every session of the user ends (reason admin)
 * and password.changed is audited, in one transaction.
 */
static void
cmd_user_passwd(const char *name)
{
	char pw[PASSWORD_MAX + 2], hash[PWHASH_MAX];
	const char *p[2];
	enum app_err e;
	PGresult *res;
	int same;

	read_password(pw, sizeof(pw));
	db_open();
	p[0] = name;
	res =
	    q("SELECT id, password_hash FROM users WHERE username = $1", 1, p);
	if (PQntuples(res) != 1)
		die("no user %s", name);
	if ((e = password_rules(pw, name, NULL)) != APP_OK) {
		crypto_wipe(pw, sizeof(pw));
		die("%s", app_err_info(e)->message);
	}
	same = crypto_pw_verify(pw, strlen(pw), PQgetvalue(res, 0, 1));
	if (same != 0) {
		crypto_wipe(pw, sizeof(pw));
		die("%s",
		    same > 0 ? app_err_info(APP_EPWSAME)->message
			     : "cannot check the current password");
	}
	if (crypto_pw_hash(pw, strlen(pw), hash) != 0)
		die("cannot hash the password");
	crypto_wipe(pw, sizeof(pw));
	p[0] = PQgetvalue(res, 0, 0);
	p[1] = hash;
	PQclear(q("SELECT password_change(NULL, $1, NULL, $2, true, NULL, "
		  "'sessionctl')",
	    2, p));
	crypto_wipe(hash, sizeof(hash));
	printf("changed the password of %s; signed out every session\n", name);
	PQclear(res);
}

/* Revoke sessions of uid (one, or all when id is NULL) as reason admin. */
static int
revoke_admin(const char *uid, const char *id)
{
	char idle[16];
	const char *p[4];
	PGresult *res;
	int n;

	snprintf(idle, sizeof(idle), "%d", cfg.idle_timeout);
	p[0] = uid;
	p[1] = id;
	p[2] = idle;
	p[3] = "sessionctl";
	res = q("SELECT * FROM session_revoke($1, NULL, $2, 'admin', $3, "
		"NULL, $4)",
	    4, p);
	n = PQntuples(res);
	PQclear(res);
	return n;
}

static void
cmd_user_disable(const char *name, int disable)
{
	const char *p[1] = { name };
	PGresult *res;
	char uid[24];

	db_open();
	qx("BEGIN", 0, NULL);
	res = q(disable
		? "UPDATE users SET disabled_at = coalesce(disabled_at, now()) "
		  "WHERE username = $1 RETURNING id"
		: "UPDATE users SET disabled_at = NULL WHERE username = $1 "
		  "RETURNING id",
	    1, p);
	if (PQntuples(res) != 1)
		die("no user %s", name);
	snprintf(uid, sizeof(uid), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (disable)
		printf("disabled user %s; revoked %d sessions\n", name,
		    revoke_admin(uid, NULL));
	else
		printf("enabled user %s\n", name);
	qx("COMMIT", 0, NULL);
}

static void
cmd_sessions_list(const char *name)
{
	char idle[16], t1[RFC3339_LEN + 1], t2[RFC3339_LEN + 1];
	const char *p[2];
	PGresult *res;
	struct ua_info ua;
	int i;

	db_open();
	snprintf(idle, sizeof(idle), "%d", cfg.idle_timeout);
	p[0] = name;
	p[1] = idle;
	res = q("SELECT 1 FROM users WHERE username = $1", 1, p);
	if (PQntuples(res) != 1)
		die("no user %s", name);
	PQclear(res);
	res = q(
	    "SELECT s.id, epoch(s.created_at), epoch(s.last_seen_at), "
	    "coalesce(host(s.ip), '-'), s.user_agent, s.ch_ua, s.ch_platform, "
	    "s.ch_mobile FROM sessions s JOIN users u ON u.id = s.user_id "
	    "WHERE u.username = $1 AND s.revoked_at IS NULL "
	    "AND session_expires(s, $2::int) > now() "
	    "ORDER BY s.created_at DESC, s.id DESC",
	    2, p);
	printf("%-36s  %-20s  %-20s  %-15s  %s\n", "ID", "CREATED", "LAST SEEN",
	    "IP", "DEVICE");
	for (i = 0; i < PQntuples(res); i++) {
		/* banned-ok(strtoll): epoch seconds PostgreSQL printed */
		rfc3339(t1, (time_t)strtoll(PQgetvalue(res, i, 1), NULL, 10));
		rfc3339(t2, (time_t)strtoll(PQgetvalue(res, i, 2), NULL, 10));
		ua_parse(PQgetvalue(res, i, 4), PQgetvalue(res, i, 5),
		    PQgetvalue(res, i, 6), PQgetvalue(res, i, 7), &ua);
		printf("%-36s  %-20s  %-20s  %-15s  %s, %s, %s\n",
		    PQgetvalue(res, i, 0), t1, t2, PQgetvalue(res, i, 3),
		    ua.browser, ua.os, ua.device);
	}
	PQclear(res);
}

static void
cmd_sessions_revoke(const char *id)
{
	const char *p[1] = { id };
	PGresult *res;
	char uid[24];

	if (!uuid_valid(id))
		die("%s is not a session id", id);
	db_open();
	res = q("SELECT user_id FROM sessions WHERE id = $1", 1, p);
	if (PQntuples(res) != 1)
		die("no session %s", id);
	snprintf(uid, sizeof(uid), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (revoke_admin(uid, id) != 1)
		die("session %s is not active", id);
	printf("revoked session %s\n", id);
}

/*
 * Record sessions that ended by time (reason 'expired', audited), then
 * delete sessions ended longer ago than the retention period, in batches
 * so that no lock is held long, and failed password checks older than the
 * throttle's window. Audit rows stay.
 */
/* The count a one-row, one-column answer holds. */
static long long
count_of(const PGresult *res)
{
	long long n;

	if (PQntuples(res) != 1 ||
	    parse_ll(PQgetvalue(res, 0, 0), 10, 0, LLONG_MAX, &n) != 0)
		die("unexpected answer from the database");
	return n;
}

static void
cmd_purge(void)
{
	char idle[16], days[16], batch[16];
	const char *p[2];
	PGresult *res;
	long long expired = 0, deleted = 0, n;

	db_open();
	snprintf(idle, sizeof(idle), "%d", cfg.idle_timeout);
	snprintf(days, sizeof(days), "%d", cfg.retention_days);
	snprintf(batch, sizeof(batch), "%d", PURGE_BATCH);
	p[0] = idle;
	p[1] = batch;
	/* The rules are SQL's (sql/007-expiry.sql); we only batch them. */
	do {
		res = q("SELECT sessions_expire($1::int, $2::int)", 2, p);
		n = count_of(res);
		expired += n;
		PQclear(res);
	} while (n == PURGE_BATCH);
	p[0] = days;
	do {
		res = q("SELECT sessions_purge($1::int, $2::int)", 2, p);
		n = count_of(res);
		deleted += n;
		PQclear(res);
	} while (n == PURGE_BATCH);
	/* Failed password checks count only within the throttle's window. */
	snprintf(days, sizeof(days), "%d", cfg.login_window);
	p[0] = days;
	PQclear(q("DELETE FROM auth_failures WHERE at < now() - "
		  "make_interval(secs => $1::int)",
	    1, p));
	printf("recorded %lld expired sessions; deleted %lld ended more than "
	       "%d days ago\n",
	    expired, deleted, cfg.retention_days);
}

static void
cmd_key_generate(const char *kid)
{
	char line[256], def[32];
	time_t t = time(NULL);
	struct tm tm;

	if (kid == NULL) {
		gmtime_r(&t, &tm);
		strftime(def, sizeof(def), "k%Y%m%d%H%M%S", &tm);
		kid = def;
	}
	if (keyring_generate(line, sizeof(line), kid) != 0)
		die("key id must be 1 to %d of A-Z a-z 0-9 _ -", KID_MAX);
	printf("%s\n", line);
	crypto_wipe(line, sizeof(line));
}

int
main(int argc, char *argv[])
{
	char err[CONFIG_STR_MAX + 64];
	const char *path = NULL;
	int ch;

	log_init("sessionctl");
	/* "+": options end at the command ("user add NAME --email ADDR"). */
	while ((ch = getopt(argc, argv, "+c:")) != -1) {
		if (ch == 'c')
			path = optarg;
		else
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (config_load(&cfg, path, err, sizeof(err)) != 0)
		die("%s", err);

	if (strcmp(argv[0], "migrate") == 0 && argc == 1)
		cmd_migrate();
	else if (strcmp(argv[0], "user") == 0 && argc == 3 &&
	    strcmp(argv[1], "add") == 0)
		cmd_user_add(argv[2], "");
	else if (strcmp(argv[0], "user") == 0 && argc == 5 &&
	    strcmp(argv[1], "add") == 0 && strcmp(argv[3], "--email") == 0)
		cmd_user_add(argv[2], argv[4]);
	else if (strcmp(argv[0], "user") == 0 && argc == 4 &&
	    strcmp(argv[1], "email") == 0)
		cmd_user_email(argv[2], argv[3]);
	else if (strcmp(argv[0], "user") == 0 && argc == 3 &&
	    strcmp(argv[1], "disable") == 0)
		cmd_user_disable(argv[2], 1);
	else if (strcmp(argv[0], "user") == 0 && argc == 3 &&
	    strcmp(argv[1], "enable") == 0)
		cmd_user_disable(argv[2], 0);
	else if (strcmp(argv[0], "user") == 0 && argc == 3 &&
	    strcmp(argv[1], "passwd") == 0)
		cmd_user_passwd(argv[2]);
	else if (strcmp(argv[0], "sessions") == 0 && argc == 3 &&
	    strcmp(argv[1], "list") == 0)
		cmd_sessions_list(argv[2]);
	else if (strcmp(argv[0], "sessions") == 0 && argc == 3 &&
	    strcmp(argv[1], "revoke") == 0)
		cmd_sessions_revoke(argv[2]);
	else if (strcmp(argv[0], "purge") == 0 && argc == 1)
		cmd_purge();
	else if (strcmp(argv[0], "key") == 0 && (argc == 2 || argc == 3) &&
	    strcmp(argv[1], "generate") == 0)
		cmd_key_generate(argc == 3 ? argv[2] : NULL);
	else
		usage();
	if (conn != NULL)
		PQfinish(conn);
	return 0;
}
