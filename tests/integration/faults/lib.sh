# shellcheck shell=bash
#
# faults/lib.sh: shell helpers shared by test_faults.sh and
# test_key_rotation.sh. Sourced, not run.
#
# Needs the stack's environment (scripts/test exports it): SESSIOND_URL,
# STACK_DIR, SESSIONCTL, SESSIOND_RELOAD_CMD, SESSIOND_START_CMD, PG*.

# Functions reached only through traps are not unreachable.
# shellcheck disable=SC2317

# shellcheck source=tests/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tap.sh"

now_ms() { date +%s%3N; }

# A process's state letter (R running, S sleeping, Z zombie, ...).
proc_state() {		# proc_state PID
	[ -n "$1" ] &&
	    sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" \
	    2>/dev/null
}

# A process that exists and is not a zombie waiting to be reaped.
proc_alive() {		# proc_alive PID
	local st
	st=$(proc_state "$1")
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# The sessiond master's pid, when it runs.
master_pid() {
	local pid
	pid=$(cat "$STACK_DIR/sessiond.pid" 2>/dev/null) || return 1
	proc_alive "$pid" || return 1
	echo "$pid"
}

# The live workers of one pool (children of the master named
# sessiond-worker, or sessiond-login for the login pool), one pid a line.
pool() {		# pool NAME [MASTER]
	local name=$1 m=${2:-} p
	[ -n "$m" ] || m=$(master_pid) || return 0
	for p in $(cat "/proc/$m/task/$m/children" 2>/dev/null ||
	    pgrep -P "$m"); do
		proc_alive "$p" &&
		    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$name" ] &&
		    echo "$p"
	done
}

# The main pool's workers: those that serve everything but login.
# shellcheck disable=SC2120
workers() { pool sessiond-worker "${1:-}"; }
login_workers() { pool sessiond-login "${1:-}"; }

# shellcheck disable=SC2119
nworkers() { workers | wc -l; }

# HTTP status of GET PATH with the session cookie (000: no answer).
get_status() {		# get_status COOKIE PATH
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	    -H "Cookie: sid=$1" "$SESSIOND_URL$2"
}

healthz() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	    "$SESSIOND_URL/healthz"
}

# Wait until /healthz answers 200; at most SECONDS (default 20).
wait_healthy() {	# wait_healthy [SECONDS]
	local end=$(($(now_ms) + ${1:-20} * 1000))
	while [ "$(now_ms)" -lt "$end" ]; do
		[ "$(healthz)" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}

# Log in; prints the new sid cookie value. On failure prints nothing
# and tells why on standard error.
login() {		# login USER PASSWORD
	local h c
	h=$(curl -s -D - --max-time 20 -X POST \
	    -H 'Content-Type: application/json' \
	    --data "{\"username\":\"$1\",\"password\":\"$2\"}" \
	    "$SESSIOND_URL/api/auth/login/" | tr -d '\r')
	c=$(printf '%s\n' "$h" |
	    sed -n 's/^[Ss]et-[Cc]ookie: sid=\([^;]*\);.*/\1/p' | head -n 1)
	if [ -z "$c" ]; then
		printf '# login %s failed: %s\n' "$1" \
		    "$(printf '%s\n' "$h" | sed -n '1p;$p' | tr '\n' ' ')" >&2
		return 1
	fi
	printf '%s\n' "$c"
}

# The key id a cookie was signed with: v1.<kid>.<uid>.<token>.<mac>
cookie_kid() { printf '%s\n' "$1" | cut -d. -f2; }

# A user with a random password; sets USER_NAME and USER_PASSWORD.
make_user() {		# make_user PREFIX
	USER_NAME="$1-$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
	USER_PASSWORD="pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
	printf '%s\n' "$USER_PASSWORD" | "$SESSIONCTL" user add "$USER_NAME" \
	    >/dev/null
}

# The keys file named by the sessiond configuration.
keys_path() {
	local conf=${SESSIOND_CONFIG:-$STACK_DIR/sessiond.conf} k
	k=$(sed -n 's/^[[:space:]]*keys_file[[:space:]]*=[[:space:]]*//p' \
	    "$conf" 2>/dev/null | tail -n 1 | sed 's/[[:space:]]*$//')
	echo "${k:-$STACK_DIR/keys}"
}

# Replace the keys file with standard input, atomically, keeping its
# owner, group and mode (the service may read it through its group).
write_keys() {		# write_keys PATH < CONTENT
	local path=$1 owner mode tmp
	owner=$(stat -c %u:%g "$path") || return 1
	mode=$(stat -c %a "$path") || return 1
	tmp=$(dirname "$path")/.keys.$$.tmp
	(umask 077 && cat > "$tmp") || return 1
	chown "$owner" "$tmp" && chmod "$mode" "$tmp" && mv -f "$tmp" "$path"
}

# SIGHUP and wait until every worker present before it has been replaced
# (none of them alive, as many workers as before). Prints milliseconds.
reload_wait() {		# reload_wait [SECONDS]
	local before n end t0 p left
	# shellcheck disable=SC2119
	before=$(workers)
	n=$(printf '%s\n' "$before" | grep -c .)
	t0=$(now_ms)
	end=$((t0 + ${1:-20} * 1000))
	$SESSIOND_RELOAD_CMD || return 1
	while [ "$(now_ms)" -lt "$end" ]; do
		left=0
		for p in $before; do
			proc_alive "$p" && left=1
		done
		if [ "$left" = 0 ] && [ "$(nworkers)" -ge "$n" ]; then
			echo $(($(now_ms) - t0))
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# sessiond back after a kill: start it unless it runs; healthy again.
sessiond_ensure() {
	if ! master_pid >/dev/null; then
		rm -f "$STACK_DIR/sessiond.pid"
		$SESSIOND_START_CMD >/dev/null 2>&1 || true
	fi
	wait_healthy 20
}
