#!/usr/bin/env bash
#
# test_notifier.sh: sessiond-notifier against a running PostgreSQL.
#
# Needs: PGHOST, PGPORT, PGDATABASE, PGUSER exported with the schema
# applied; BUILD (default ./build) holding sessiond-notifier; psql.
# Optional: PG_RESTART_CMD, a shell command that restarts that PostgreSQL
# (fast shutdown); without it the restart check is skipped.
#
# Every event must reach the command exactly once, with the fields the
# trigger would give it: live, after a restart of the notifier (catch-up
# from its state file) and after a restart of PostgreSQL (catch-up of an
# event committed while the notifier was not listening).

# Functions reached through check and the EXIT trap are not unreachable.
# shellcheck disable=SC2317

set -u

BUILD=${BUILD:-./build}
NOTIFIER=$BUILD/sessiond-notifier
WAIT_S=20		# longest wait for an event (back-off tops at 5 s)

tmp=
npid=

# shellcheck source=tests/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tap.sh"
check() {		# check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

cleanup() {
	if [ -n "$npid" ]; then
		kill -CONT "$npid" 2>/dev/null
		kill -TERM "$npid" 2>/dev/null
		wait "$npid" 2>/dev/null
	fi
	if [ "$failed" -gt 0 ] && [ -n "$tmp" ]; then
		echo "# notifier log ($tmp/notifier.log):" >&2
		sed 's/^/#   /' "$tmp/notifier.log" >&2 2>/dev/null
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT

psql_q() { psql -X -A -t -q -v ON_ERROR_STOP=1 "$@"; }

# Insert one audit row; prints its id. Quoting is psql's (:'var').
insert_row() {		# insert_row EVENT REASON USER_ID IP USER_AGENT
	psql_q -v ev="$1" -v reason="$2" -v uid="$3" -v ip="$4" \
	    -v ua="$5" <<'SQL'
INSERT INTO audit_log (event, reason, user_id, target_session_id, ip,
    user_agent)
VALUES (:'ev', NULLIF(:'reason', ''), :'uid', gen_random_uuid(), :'ip',
    :'ua')
RETURNING id;
SQL
}

count_id() { grep -c -F "\"id\":\"$1\"" "$tmp/events" 2>/dev/null; }

wait_for() {		# wait_for ID: until it has arrived, at most WAIT_S
	local i
	for ((i = 0; i < WAIT_S * 10; i++)); do
		[ "$(count_id "$1")" -ge 1 ] && return 0
		sleep 0.1
	done
	return 1
}

wait_log() {		# wait_log PATTERN FILE
	local i
	for ((i = 0; i < WAIT_S * 10; i++)); do
		grep -q -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# The line that arrived for ID equals what the trigger would build for
# that row, compared as JSON by PostgreSQL itself.
fields_match() {	# fields_match ID
	local line
	line=$(grep -F "\"id\":\"$1\"" "$tmp/events" | head -n 1)
	[ "$(psql_q -v line="$line" -v id="$1" <<'SQL'
SELECT (:'line')::jsonb = jsonb_build_object(
    'id', id::text, 'event', event, 'reason', reason,
    'user_id', user_id::text, 'session_id', target_session_id,
    'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'ip', host(ip), 'user_agent', user_agent, 'location', location,
    'new_device', new_device)
FROM audit_log WHERE id = :'id';
SQL
)" = t ]
}

arrived_once() {	# arrived_once ID
	wait_for "$1" && sleep 0.3 && [ "$(count_id "$1")" -eq 1 ] &&
	    fields_match "$1"
}

start_notifier() {	# start_notifier CONFIG LOG
	env -u SESSIOND_CONFIG -u SESSIOND_NOTIFY_COMMAND \
	    -u SESSIOND_NOTIFY_STATE_FILE "$NOTIFIER" -c "$1" 2>>"$2" &
	npid=$!
}

stop_notifier() {	# returns the notifier's exit status
	local rc
	kill -TERM "$npid"
	wait "$npid"
	rc=$?
	npid=
	return $rc
}

# Preconditions.
if [ ! -x "$NOTIFIER" ]; then
	not_ok "$NOTIFIER is built"
	exit 1
fi
if ! psql_q -c 'SELECT 1 FROM audit_log LIMIT 0' >/dev/null; then
	not_ok "database reachable with the schema applied"
	exit 1
fi

tmp=$(mktemp -d /tmp/test_notifier.XXXXXX)
chmod 755 "$tmp"

# The command: one process per event, JSON on stdin.
cat >"$tmp/append.sh" <<'EOF'
#!/bin/sh
cat >>"$1"
EOF
chmod 755 "$tmp/append.sh"

cat >"$tmp/notifier.conf" <<EOF
notify_command = $tmp/append.sh $tmp/events
notify_state_file = $tmp/state
EOF
: >"$tmp/events"
uid=$((RANDOM * 32768 + RANDOM))

# Startup errors: non-zero exit and one line.
printf 'bogus = 1\n' >"$tmp/bad.conf"
out=$(env -u SESSIOND_CONFIG "$NOTIFIER" -c "$tmp/bad.conf" 2>&1)
rc=$?
check "unknown setting: non-zero exit with one line" \
    test "$rc" -ne 0 -a "$(printf '%s\n' "$out" | wc -l)" -eq 1
printf 'notify_command = %s/missing-command\n' "$tmp" >"$tmp/bad.conf"
env -u SESSIOND_CONFIG -u SESSIOND_NOTIFY_COMMAND "$NOTIFIER" \
    -c "$tmp/bad.conf" 2>/dev/null
check "missing notify command: non-zero exit" test $? -ne 0

# Live events.
start_notifier "$tmp/notifier.conf" "$tmp/notifier.log"
check "notifier starts listening" \
    wait_log 'msg=listening' "$tmp/notifier.log"
check "first start writes its position to the state file" test -s "$tmp/state"

id1=$(insert_row session.revoked admin "$uid" 203.0.113.7 'Mozilla/5.0 (X11)')
id2=$(insert_row session.created '' "$uid" 2001:db8::1 'curl/8.0')
id3=$(insert_row session.revoked user "$uid" 198.51.100.2 \
    $'evil "agent" \\ <img src=x onerror=alert(1)>\nsecond line\ttab')
idf=$(insert_row login.failed '' "$uid" 203.0.113.9 'Mozilla/5.0')
check "session.revoked arrives once with the trigger's fields" \
    arrived_once "$id1"
check "session.created (reason null, IPv6) arrives once" arrived_once "$id2"
check "hostile user agent arrives once, escaped, on one line" \
    arrived_once "$id3"

# Forged notifications name no session event: nothing is handed on.
psql_q <<SQL
NOTIFY session_events, '{"id":"$idf"}';
NOTIFY session_events, '{"id":"999999999999"}';
NOTIFY session_events, 'not json';
NOTIFY session_events, '{"id":"$id1"}';
SQL
id4=$(insert_row session.revoked others "$uid" 203.0.113.7 'Mozilla/5.0')
check "event after forged notifications arrives once" arrived_once "$id4"
check "login.failed is not handed on" test "$(count_id "$idf")" -eq 0
check "forged notifications are ignored (4 events so far)" \
    test "$(wc -l <"$tmp/events")" -eq 4
check "forgeries are logged" \
    wait_log 'names no session event' "$tmp/notifier.log"

# Restart of the notifier: what was committed meanwhile is caught up.
stop_notifier
check "SIGTERM: notifier exits 0" test $? -eq 0
id5=$(insert_row session.revoked evicted "$uid" 203.0.113.7 'Mozilla/5.0')
start_notifier "$tmp/notifier.conf" "$tmp/notifier.log"
check "event committed while the notifier was stopped arrives once" \
    arrived_once "$id5"
check "nothing handed on twice after the notifier restart" \
    test "$(wc -l <"$tmp/events")" -eq 5

# The command's environment leads nowhere near the database: no libpq
# variable, no credentials folder, no connection string; the rest stays.
cat >"$tmp/env.sh" <<'EOF'
#!/bin/sh
cat >/dev/null
env >"$1.new" && mv "$1.new" "$1"
EOF
chmod 755 "$tmp/env.sh"
printf 'notify_command = %s/env.sh %s/env\nnotify_state_file =\n' \
    "$tmp" "$tmp" >"$tmp/env.conf"
# PGPASSFILE (if set) and PGHOST are what the notifier itself connects
# with; the rest stands for what systemd and an operator may set.
PGPASSFILE=${PGPASSFILE:-$tmp/no-pgpass} PGHOST=${PGHOST:-localhost} \
    CREDENTIALS_DIRECTORY=$tmp/credentials \
    SESSIOND_DATABASE_READ="dbname=$PGDATABASE" SESSIOND_TEST_KEPT=yes \
    env -u SESSIOND_CONFIG -u SESSIOND_NOTIFY_COMMAND \
    -u SESSIOND_NOTIFY_STATE_FILE "$NOTIFIER" -c "$tmp/env.conf" \
    2>>"$tmp/env-mode.log" &
epid=$!
wait_log 'msg=listening' "$tmp/env-mode.log"
insert_row session.created '' "$uid" 192.0.2.1 'env' >/dev/null
wait_log 'SESSIOND_TEST_KEPT=yes' "$tmp/env"
check "command environment: the notifier's own variables reach it" \
    grep -q '^SESSIOND_TEST_KEPT=yes$' "$tmp/env"
check "command environment: no PG*, CREDENTIALS_DIRECTORY or database" \
    test "$(grep -c -E '^(PG|CREDENTIALS_DIRECTORY=|SESSIOND_DATABASE)' \
    "$tmp/env")" -eq 0
kill -TERM "$epid"
wait "$epid"
check "environment notifier exits 0 on SIGTERM" test $? -eq 0

# Log mode: a second notifier with no command logs one line per event.
printf 'notify_command =\nnotify_state_file =\n' >"$tmp/log.conf"
env -u SESSIOND_CONFIG -u SESSIOND_NOTIFY_COMMAND \
    -u SESSIOND_NOTIFY_STATE_FILE "$NOTIFIER" -c "$tmp/log.conf" \
    2>>"$tmp/log-mode.log" &
lpid=$!
wait_log 'msg=listening' "$tmp/log-mode.log"
id6=$(insert_row session.revoked user "$uid" 192.0.2.1 $'ua\nwith newline')
pat="msg=session_event id=$id6 event=session.revoked reason=user"
pat="$pat user_id=$uid session_id=[0-9a-f-]\{36\} ip=192.0.2.1"
pat="$pat at=[0-9-]\{10\}T[0-9:]\{8\}Z\$"
check "log mode: one log line for the event" \
    wait_log "$pat" "$tmp/log-mode.log"
check "log mode: user agents are not logged" \
    test "$(grep -c 'with newline' "$tmp/log-mode.log")" -eq 0
kill -TERM "$lpid"
wait "$lpid"
check "log mode notifier exits 0 on SIGTERM" test $? -eq 0
check "the command notifier got that event too" arrived_once "$id6"
check "nothing handed on twice before the database restart" \
    test "$(wc -l <"$tmp/events")" -eq 7

# Restart of PostgreSQL. The notifier is frozen meanwhile, so that the
# event is certainly committed while nobody listens: only the catch-up
# from audit_log can bring it.
if [ -z "${PG_RESTART_CMD:-}" ]; then
	skip "PostgreSQL restart (PG_RESTART_CMD unset)"
else
	kill -STOP "$npid"
	if bash -c "$PG_RESTART_CMD" >"$tmp/restart.log" 2>&1; then
		ok "PostgreSQL restarted"
	else
		not_ok "PostgreSQL restarted ($(tail -n 1 "$tmp/restart.log"))"
	fi
	id7=$(insert_row session.revoked admin "$uid" 203.0.113.7 'Mozilla/5.0')
	kill -CONT "$npid"
	check "event committed while disconnected arrives once (catch-up)" \
	    arrived_once "$id7"
	check "reconnect is logged" \
	    wait_log 'msg=reconnected' "$tmp/notifier.log"
	id8=$(insert_row session.created '' "$uid" 203.0.113.7 'Mozilla/5.0')
	check "live events flow again after the reconnect" arrived_once "$id8"
	check "nothing handed on twice across the database restart" \
	    test "$(wc -l <"$tmp/events")" -eq 9
fi

stop_notifier
check "notifier exits 0 at the end" test $? -eq 0
# After the exit, so that a sanitizer's leak report is in the log too.
check "no errors or sanitizer reports in the notifier logs" \
    test "$(cat "$tmp/notifier.log" "$tmp/log-mode.log" \
    "$tmp/env-mode.log" |
    grep -c -e 'level=error' -e 'Sanitizer' -e 'runtime error')" -eq 0

tap_end
