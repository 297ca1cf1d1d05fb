#!/usr/bin/env bash
#
# test_status.sh: what "systemctl status sessiond" shows. The master tells
# systemd, over $NOTIFY_SOCKET, READY=1 and a STATUS= line with its
# workers and whether the database answers; a database that refuses the
# password must show there, not only as 503s.
#
# Needs: PGHOST, PGPORT, PGDATABASE, PGUSER and PGPASSFILE of a running
# PostgreSQL with the schema applied (the test stack's env); BUILD
# (default ./build) holding sessiond and sessionctl; socat to play
# systemd's end of the notify socket.

set -u

BUILD=${BUILD:-./build}
WAIT_S=15

tmp=
spid=
rpid=

# shellcheck source=tests/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tap.sh"
check() {		# check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

stop_sessiond() {
	[ -n "$spid" ] || return 0
	kill -TERM "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	spid=
}

cleanup() {
	stop_sessiond
	if [ -n "$rpid" ]; then
		kill "$rpid" 2>/dev/null
		wait "$rpid" 2>/dev/null
	fi
	if [ "$failed" -gt 0 ] && [ -n "$tmp" ]; then
		echo "# notify messages:"
		tr '\0' '\n' <"$tmp/notify.log" | sed 's/^/#   /'
		echo "# sessiond log:"
		sed 's/^/#   /' "$tmp/sessiond.log"
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT

wait_notify() {		# wait_notify PATTERN
	local i
	for ((i = 0; i < WAIT_S * 10; i++)); do
		grep -q -a -- "$1" "$tmp/notify.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

start_sessiond() {	# start_sessiond PASSFILE
	: >"$tmp/notify.log"
	# No metrics listener: its default port may be another stack's.
	PGPASSFILE=$1 NOTIFY_SOCKET=$tmp/notify SESSIOND_METRICS_LISTEN= \
	    env -u SESSIOND_CONFIG -u SESSIOND_DATABASE "$BUILD/sessiond" \
	    -c "$tmp/sessiond.conf" 2>>"$tmp/sessiond.log" &
	spid=$!
}

for b in sessiond sessionctl; do
	if [ ! -x "$BUILD/$b" ]; then
		not_ok "$BUILD/$b is built"
		exit 1
	fi
done
if ! command -v socat >/dev/null; then
	not_ok "socat is installed (scripts/install-deps test)"
	exit 1
fi

tmp=$(mktemp -d /tmp/test_status.XXXXXX)
(umask 077; "$BUILD/sessionctl" key generate >"$tmp/keys")
cat >"$tmp/sessiond.conf" <<EOF
listen = unix:$tmp/sessiond.sock
login_listen =
workers = 2
keys_file = $tmp/keys
EOF
# systemd's end: every datagram appended to one file.
socat -u "UNIX-RECV:$tmp/notify" "OPEN:$tmp/notify.log,creat,append" &
rpid=$!
for ((i = 0; i < 50; i++)); do [ -S "$tmp/notify" ] && break; sleep 0.1; done

start_sessiond "$PGPASSFILE"
check "READY=1 once the workers run" wait_notify 'READY=1'
check "STATUS= names the workers and a reachable database" \
    wait_notify 'STATUS=2 of 2 workers running; database reachable'
stop_sessiond
check "STOPPING=1 on SIGTERM" wait_notify 'STOPPING=1'

# A database that refuses the password: the service is up (it answers
# 503 and retries), and its status says why.
(umask 077; printf '*:*:*:*:not-the-password\n' >"$tmp/wrong-pgpass")
start_sessiond "$tmp/wrong-pgpass"
check "wrong password: READY=1 all the same" wait_notify 'READY=1'
check "wrong password: STATUS= says the database refuses it" \
    wait_notify 'STATUS=2 of 2 workers running; database unreachable: .*password authentication failed'
check "wrong password: the master logs the check's failure once" \
    test "$(grep -c 'msg="database check failed"' "$tmp/sessiond.log")" \
    -eq 1
stop_sessiond

# A database that does not exist at all (nothing listens on the port).
printf 'database = host=127.0.0.1 port=1 dbname=x\n' >>"$tmp/sessiond.conf"
start_sessiond "$PGPASSFILE"
check "no database: STATUS= says it is unreachable" \
    wait_notify 'STATUS=2 of 2 workers running; database unreachable: .*127.0.0.1'
stop_sessiond

check "no sanitizer report in sessiond's log" \
    test "$(grep -c -e 'Sanitizer' -e 'runtime error' "$tmp/sessiond.log")" \
    -eq 0

tap_end
