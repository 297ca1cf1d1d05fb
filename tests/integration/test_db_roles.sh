#!/usr/bin/env bash
#
# test_db_roles.sh: least privilege in the database (sql/004). The group
# role sessiond_runtime, which sessiond and the notifier log in as a
# member of, can do what the service does (log in, touch, revoke, read
# the audit log) and no more: audit_log is append-only for it, and the
# trigger that sends NOTIFY is out of its reach.
#
# Needs: PGHOST, PGPORT, PGDATABASE, PGUSER (the schema's owner, a member
# of sessiond_runtime, as scripts/stack sets it up) with the schema
# applied; psql; BUILD (default ./build) holding sessionctl.

set -u

# shellcheck source=tests/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tap.sh"

# as_runtime SQL: run it as sessiond_runtime in a transaction that is
# rolled back; prints psql's output, fails as psql does.
as_runtime() {
	psql -X -A -t -q -v ON_ERROR_STOP=1 2>&1 <<SQL
BEGIN;
SET LOCAL ROLE sessiond_runtime;
$1
ROLLBACK;
SQL
}

allowed() {		# allowed DESCRIPTION SQL
	local out
	if out=$(as_runtime "$2"); then
		ok "runtime may $1"
	else
		not_ok "runtime may $1"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

denied() {		# denied DESCRIPTION SQL
	local out
	out=$(as_runtime "$2")
	if [ $? -ne 0 ] && printf '%s\n' "$out" |
	    grep -qE 'permission denied|must be owner|must be superuser'; then
		ok "runtime may not $1"
	else
		not_ok "runtime may not $1"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

if ! psql -X -q -c 'SET ROLE sessiond_runtime' >/dev/null; then
	not_ok "the owner can SET ROLE sessiond_runtime (scripts/stack)"
	exit 1
fi

uid=$(psql -X -A -t -q -v ON_ERROR_STOP=1 -c "INSERT INTO users (username,
    password_hash) VALUES ('roles-' || gen_random_uuid(), 'x')
    RETURNING id")

# What the service does, through the same functions and statements.
allowed "take back a throttle row" \
    "DELETE FROM auth_failures WHERE id = -1;"
allowed "log in, touch, re-authenticate, list, revoke, expire" "
SELECT id AS sid FROM session_login($uid, sha256('roles'), 86400, 3600,
    100, '192.0.2.1', 'ua', '', '', '', NULL) \\gset
UPDATE sessions SET last_seen_at = now(), ip = '192.0.2.2'
    WHERE user_id = $uid AND id = :'sid';
UPDATE sessions SET authenticated_at = now() WHERE user_id = $uid
    AND id = :'sid';
SELECT count(*) FROM sessions WHERE user_id = $uid;
SELECT * FROM session_revoke($uid, :'sid', :'sid', 'logout', 3600,
    '192.0.2.1', 'ua');
SELECT session_expire($uid, :'sid', 3600, '192.0.2.1', 'ua');"
allowed "record a failed login" "
INSERT INTO audit_log (event, reason, user_id, username, ip)
    VALUES ('login.failed', 'login', $uid, 'x', '192.0.2.1');"
allowed "read the audit log (notifier catch-up)" \
    "SELECT count(*) FROM audit_log WHERE user_id = $uid;"

# audit_log: append-only, its trigger untouchable.
denied "update audit rows" "UPDATE audit_log SET reason = 'x';"
denied "delete audit rows" "DELETE FROM audit_log;"
denied "truncate audit_log" "TRUNCATE audit_log;"
denied "disable the NOTIFY trigger" \
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_notify;"
denied "drop the NOTIFY trigger" \
    "DROP TRIGGER audit_log_notify ON audit_log;"
denied "replace the trigger's function" "
CREATE OR REPLACE FUNCTION audit_notify() RETURNS trigger
LANGUAGE plpgsql AS \$\$ BEGIN RETURN NULL; END \$\$;"
denied "skip triggers (session_replication_role)" \
    "SET session_replication_role = replica;"
denied "drop audit_log" "DROP TABLE audit_log;"
# Nor anything else it has no use for.
denied "delete sessions" "DELETE FROM sessions;"
denied "change users" "UPDATE users SET disabled_at = NULL;"
denied "change a password directly" \
    "UPDATE users SET password_hash = 'x' WHERE id = $uid;"
denied "add users" \
    "INSERT INTO users (username, password_hash) VALUES ('evil', 'x');"
denied "rewrite the migration record" "DELETE FROM schema_migrations;"
denied "create tables in the schema" "CREATE TABLE evil (x int);"

# sessionctl connects with admin_database (the owner) when it is set.
if [ -x "${BUILD:-./build}/sessionctl" ]; then
	out=$(SESSIOND_ADMIN_DATABASE="dbname=no_such_owner_db" \
	    "${BUILD:-./build}/sessionctl" purge 2>&1)
	if [ $? -ne 0 ] && printf '%s\n' "$out" | grep -q no_such_owner_db; then
		ok "sessionctl uses admin_database when set"
	else
		not_ok "sessionctl uses admin_database when set"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
	if out=$(SESSIOND_ADMIN_DATABASE= SESSIOND_DATABASE="dbname=$PGDATABASE" \
	    "${BUILD:-./build}/sessionctl" purge 2>&1); then
		ok "sessionctl uses database when admin_database is empty"
	else
		not_ok "sessionctl uses database when admin_database is empty"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
fi

psql -X -q -c "DELETE FROM users WHERE id = $uid" >/dev/null

tap_end
