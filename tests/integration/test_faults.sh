#!/usr/bin/env bash
#
# test_faults.sh: sessiond under faults, each with a bounded load through
# nginx on 127.0.0.1.
#
#   kill -9 of a random worker every second, under a load of revocations:
#	the master replaces it within a second; no revocation lost (204
#	answers, revoked rows, audit rows and NOTIFYs agree); no more
#	requests fail than the kills can explain
#   PostgreSQL restarted under load: only 200s and JSON 503
#	database_unavailable; every worker serving again within 2 s
#   SIGHUP again and again, and a key rotation, under load: all 200
#   nginx reloaded under load: all 200 with one connection per request;
#	with keep-alive, every answer 200 (requests lost to the idle
#	connections an old nginx worker closes are counted, not failed)
#   kill -9 of the master: the workers stop by themselves; restart
#   SIGTERM to the master with slow requests (logins) in flight: they get
#	their 200, every process is gone within seconds; restart
#
# Short by default (under a minute, as make test runs it); FAULTS_LONG=1
# runs each fault longer and more often (make faults, about 4 minutes);
# FAULTS_ONLY="workers pg hup rotation nginx master term" picks some.
# Whatever happens, the stack is left healthy (keys file restored,
# PostgreSQL, sessiond and nginx up).
#
# Needs the stack's environment (scripts/test): SESSIOND_URL, STACK_DIR,
# BUILD, PG*, SESSIONCTL, PG_RESTART_CMD, SESSIOND_START_CMD,
# SESSIOND_RELOAD_CMD; wrk, node, curl; root for the nginx reload.

# Functions reached through the EXIT trap are not unreachable.
# shellcheck disable=SC2317

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=faults/lib.sh disable=SC1091
. "$HERE/faults/lib.sh"

LONG=${FAULTS_LONG:-0}
if [ "$LONG" = 1 ]; then
	KILL_S=60 KILL_SESSIONS=60000 PG_RESTARTS=5 HUP_S=30 ROT_ROUNDS=5
	NGINX_S=30 MASTER_ROUNDS=3 TERM_ROUNDS=3
else
	KILL_S=8 KILL_SESSIONS=8000 PG_RESTARTS=1 HUP_S=5 ROT_ROUNDS=1
	NGINX_S=4 MASTER_ROUNDS=1 TERM_ROUNDS=1
fi
NODE_LIMIT_S=$((KILL_S + 120))

KEYS=$(keys_path)
tmp=$(mktemp -d)
chmod 700 "$tmp"
cp -p "$KEYS" "$tmp/keys.orig"
wrk_pid=
ka_pid=

cleanup() {
	local st
	trap - INT TERM
	[ -n "$wrk_pid" ] && kill "$wrk_pid" 2>/dev/null && wait "$wrk_pid"
	[ -n "$ka_pid" ] && kill "$ka_pid" 2>/dev/null && wait "$ka_pid"
	# The keys as they were, the database, sessiond and nginx up.
	if ! cmp -s "$tmp/keys.orig" "$KEYS"; then
		write_keys "$KEYS" < "$tmp/keys.orig"
		master_pid >/dev/null && reload_wait 30 >/dev/null
	fi
	if ! psql -X -q -A -t -c 'SELECT 1' >/dev/null 2>&1; then
		$PG_RESTART_CMD >/dev/null 2>&1
	fi
	sessiond_ensure
	st=$(healthz)
	if [ "$st" != 200 ]; then
		note "healthz $st after the faults: scripts/stack start"
		"$ROOT/scripts/stack" start >/dev/null 2>&1
		st=$(healthz)
	fi
	if [ "$st" = 200 ] && cmp -s "$tmp/keys.orig" "$KEYS"; then
		ok "stack healthy after the faults ($(nworkers) workers," \
		    "keys file as before)"
	else
		not_ok "stack after the faults: healthz $st, keys file" \
		    "$(cmp -s "$tmp/keys.orig" "$KEYS" && echo as before ||
		    echo changed)"
	fi
	rm -rf "$tmp"
	[ "$failed" -eq 0 ]
}
# The plan last: the cleanup reports too.
trap 'cleanup; tap_end; exit' EXIT
trap 'exit 1' INT TERM

# wrk in the background: authenticated GETs for SECONDS.
wrk_start() {		# wrk_start SECONDS COOKIE [THREADS CONNECTIONS]
	FAULT_COOKIE=$2 wrk -t"${3:-2}" -c"${4:-16}" -d"$1"s --timeout 10s \
	    -s "$HERE/faults/get.lua" "$SESSIOND_URL" > "$tmp/wrk.out" 2>&1 &
	wrk_pid=$!
}

# Wait for wrk; sets W_line (faults/get.lua's figures), W_requests, W_bad.
wrk_wait() {
	wait "$wrk_pid"
	wrk_pid=
	W_line=$(grep '^requests=' "$tmp/wrk.out")
	W_requests=$(field requests "$W_line")
	W_bad=$(field bad "$W_line")
	if [ -z "$W_requests" ]; then
		sed 's/^/# wrk: /' "$tmp/wrk.out"
		W_requests=0 W_bad=1
	fi
}

field() {		# field NAME "a=1 b=2 ..."
	printf ' %s\n' "$2" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"
}

# Run a node load (faults/load.mjs), pass its lines on.
node_load() {		# node_load ARGS...
	local rc
	timeout "$NODE_LIMIT_S" node "$HERE/faults/load.mjs" "$@" \
	    > "$tmp/node.out" 2>&1
	rc=$?
	tap_pass "$tmp/node.out"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$tmp/node.out"; then
		not_ok "load.mjs $1 exited with status $rc"
	fi
}

if ! master_pid >/dev/null || [ "$(healthz)" != 200 ]; then
	not_ok "the stack is not healthy before the faults"
	exit 1
fi
NW=$(nworkers)
make_user faults
# The user of the logins and GET loads; the revocation loads make their own.
FUSER=$USER_NAME
FPASS=$USER_PASSWORD
COOKIE=$(login "$FUSER" "$FPASS")
if [ -z "$COOKIE" ]; then
	not_ok "login of $FUSER"
	exit 1
fi
note "$NW workers; $([ "$LONG" = 1 ] && echo long || echo short) runs"

# 1. kill -9 of a random worker every second, under revocations.
fault_workers() {
	make_user revoke
	node_load revoke --user "$USER_NAME" --sessions "$KILL_SESSIONS" \
	    --duration "$KILL_S" --concurrency 8 --kill-every 1000
	wait_healthy 10 || not_ok "healthz after the worker kills"
}

# 2. PostgreSQL restarted under load.
fault_pg() {
	make_user pgload
	node_load pgrestart --user "$USER_NAME" --restarts "$PG_RESTARTS" \
	    --concurrency 6
	wait_healthy 10 || not_ok "healthz after the PostgreSQL restarts"
}

# 3. SIGHUP every half second under load.
fault_hup() {
	local hups=0 t_end t0
	wrk_start "$HUP_S" "$COOKIE"
	t_end=$(($(now_ms) + HUP_S * 1000 - 700))
	while [ "$(now_ms)" -lt "$t_end" ]; do
		sleep 0.5
		$SESSIOND_RELOAD_CMD && hups=$((hups + 1))
	done
	wrk_wait
	# The replaced workers are gone and as many new ones serve.
	t0=$(now_ms)
	while [ "$(nworkers)" -ne "$NW" ] &&
	    [ $(($(now_ms) - t0)) -lt 10000 ]; do
		sleep 0.1
	done
	if [ "$W_bad" = 0 ] && [ "$W_requests" -gt 0 ] &&
	    [ "$hups" -gt 0 ] && [ "$(nworkers)" -eq "$NW" ]; then
		ok "SIGHUP x$hups under load: $W_requests requests, 0" \
		    "failed (all 200), $NW workers after"
	else
		not_ok "SIGHUP x$hups under load: $W_requests requests," \
		    "$W_bad failed ($W_line), $(nworkers) workers after" \
		    "(want $NW)"
	fi
}

# 4. Key rotation under load: new key first, old kept; then back.
fault_rotation() {
	local r kid ms1 ms2 c2 st2 bad=0 requests=0 slowest=0
	for r in $(seq "$ROT_ROUNDS"); do
		wrk_start 5 "$COOKIE"
		sleep 1
		kid="flt$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
		"$SESSIONCTL" key generate "$kid" > "$tmp/newkey"
		cat "$tmp/newkey" "$tmp/keys.orig" | write_keys "$KEYS"
		ms1=$(reload_wait 20) || ms1=never
		c2=$(login "$FUSER" "$FPASS")
		st2=$(get_status "$c2" /api/users/me/current-session/)
		sleep 1
		write_keys "$KEYS" < "$tmp/keys.orig"
		ms2=$(reload_wait 20) || ms2=never
		wrk_wait
		requests=$((requests + W_requests))
		if [ "$W_bad" != 0 ] || [ "$(cookie_kid "$c2")" != "$kid" ] ||
		    [ "$st2" != 200 ] || [ "$ms1" = never ] ||
		    [ "$ms2" = never ]; then
			bad=$((bad + 1))
			note "rotation $r: $W_line; login under $kid:" \
			    "$(cookie_kid "$c2") $st2; reloads $ms1, $ms2 ms"
		else
			[ "$ms1" -gt "$slowest" ] && slowest=$ms1
			[ "$ms2" -gt "$slowest" ] && slowest=$ms2
		fi
	done
	if [ "$bad" = 0 ]; then
		ok "key rotation x$ROT_ROUNDS under load (new key first, old" \
		    "kept, then back): $requests requests with the old" \
		    "cookie, 0 failed (all 200); a login in between signed" \
		    "with the new key; workers replaced within $slowest ms"
	else
		not_ok "key rotation under load: $bad of $ROT_ROUNDS rounds" \
		    "failed"
	fi
}

# 5. nginx reloaded under load. Two loads: one connection per request,
# which must not lose a single one; and keep-alive connections, where a
# request sent just as the old nginx worker closes the idle connection is
# lost (nginx's graceful shutdown; browsers resend those): counted and
# shown, not failed, as long as every answer is a 200.
fault_nginx() {
	local ngx_pid reloads=0 t_end ka_line
	ngx_pid=$(cat "$STACK_DIR/nginx.pid")
	FAULT_COOKIE=$COOKIE wrk -t1 -c8 -d"$NGINX_S"s --timeout 10s \
	    -s "$HERE/faults/get.lua" "$SESSIOND_URL" > "$tmp/wrk-ka.out" \
	    2>&1 &
	ka_pid=$!
	FAULT_CLOSE=1 wrk_start "$NGINX_S" "$COOKIE" 1 8
	t_end=$(($(now_ms) + NGINX_S * 1000 - 900))
	while [ "$(now_ms)" -lt "$t_end" ]; do
		sleep 0.8
		nginx -q -s reload -e "$STACK_DIR/nginx-error.log" \
		    -p "$STACK_DIR" -c "$STACK_DIR/nginx.conf" &&
		    reloads=$((reloads + 1))
	done
	wait "$ka_pid"
	ka_pid=
	ka_line=$(grep '^requests=' "$tmp/wrk-ka.out")
	wrk_wait
	if [ "$W_bad" = 0 ] && [ "$W_requests" -gt 0 ] &&
	    [ "$reloads" -gt 0 ] &&
	    [ "$(cat "$STACK_DIR/nginx.pid")" = "$ngx_pid" ]; then
		ok "nginx reload x$reloads under load: $W_requests requests" \
		    "(one connection each), 0 failed (all 200)"
	else
		not_ok "nginx reload x$reloads under load: $W_requests" \
		    "requests, $W_bad failed ($W_line)"
	fi
	if [ -n "$ka_line" ] &&
	    [ "$(field ok "$ka_line")" = "$(field requests "$ka_line")" ] &&
	    [ "$(field connect "$ka_line")" = 0 ] &&
	    [ "$(field timeout "$ka_line")" = 0 ]; then
		ok "nginx reload, keep-alive load: $(field requests \
		    "$ka_line") requests, every answer 200;" \
		    "$(field read "$ka_line") requests lost to idle" \
		    "keep-alive connections closed by the old worker"
	else
		not_ok "nginx reload, keep-alive load: ${ka_line:-no figures}"
	fi
}

# 6. kill -9 of the master: the workers notice and stop by themselves.
fault_master() {
	local r m ws n t0 gone left p up
	for r in $(seq "$MASTER_ROUNDS"); do
		if ! m=$(master_pid); then
			not_ok "kill -9 master: no master running"
			sessiond_ensure
			continue
		fi
		# Logins go to the login pool: one per login worker keeps
		# every one of them hashing when the signal goes out.
		ws=$(login_workers "$m")
		[ -n "$ws" ] || ws=$(workers "$m")
		allw="$ws $(workers "$m")"
		n=$(printf '%s\n' "$ws" | grep -c .)
		kill -KILL "$m"
		t0=$(now_ms)
		while [ $(($(now_ms) - t0)) -lt 10000 ]; do
			left=
			for p in $ws; do
				proc_alive "$p" && left="$left $p"
			done
			[ -z "$left" ] && break
			sleep 0.02
		done
		gone=$(($(now_ms) - t0))
		for p in $left; do kill -KILL "$p" 2>/dev/null; done
		rm -f "$STACK_DIR/sessiond.pid"
		t0=$(now_ms)
		$SESSIOND_START_CMD >/dev/null 2>&1
		if wait_healthy 20; then
			up=$(($(now_ms) - t0))
		else
			up=never
		fi
		if [ "$n" -gt 0 ] && [ -z "$left" ] && [ "$gone" -le 2000 ] &&
		    [ "$up" != never ]; then
			ok "kill -9 master: all $n workers gone ${gone} ms" \
			    "later (limit 2000 ms); restarted, healthz 200" \
			    "after ${up} ms"
		else
			not_ok "kill -9 master: $n workers, still running" \
			    "after ${gone} ms:${left:- none}; restart healthy" \
			    "after ${up} ms"
		fi
	done
}

# 7. SIGTERM to the master with logins in flight, one per worker.
fault_term() {
	local r m ws allw n i p busy t_start t_term gone left good inflight
	local answers code t_end t_last after up body
	for r in $(seq "$TERM_ROUNDS"); do
		if ! m=$(master_pid); then
			not_ok "SIGTERM: no master running"
			sessiond_ensure
			continue
		fi
		# Logins go to the login pool: one per login worker keeps
		# every one of them hashing when the signal goes out.
		ws=$(login_workers "$m")
		[ -n "$ws" ] || ws=$(workers "$m")
		allw="$ws $(workers "$m")"
		n=$(printf '%s\n' "$ws" | grep -c .)
		body=$(printf '{"username":"%s","password":"%s"}' \
		    "$FUSER" "$FPASS")
		t_start=$(now_ms)
		for i in $(seq "$n"); do
			(
				code=$(curl -s -o /dev/null -w '%{http_code}' \
				    --max-time 30 -X POST --data "$body" -H \
				    'Content-Type: application/json' \
				    "$SESSIOND_URL/api/auth/login/")
				echo "$code $(now_ms)" > "$tmp/login.$i"
			) &
		done
		# Every worker busy hashing a password (running), at most 2 s.
		while [ $(($(now_ms) - t_start)) -lt 2000 ]; do
			busy=0
			for p in $ws; do
				[ "$(proc_state "$p")" = R ] &&
				    busy=$((busy + 1))
			done
			[ "$busy" -ge "$n" ] && break
			sleep 0.01
		done
		kill -TERM "$m"
		t_term=$(now_ms)
		while [ $(($(now_ms) - t_term)) -lt 15000 ]; do
			left=
			for p in $m $allw; do
				proc_alive "$p" && left="$left $p"
			done
			[ -z "$left" ] && break
			sleep 0.02
		done
		gone=$(($(now_ms) - t_term))
		wait
		good=0
		inflight=0
		answers=
		t_last=$t_term
		for i in $(seq "$n"); do
			read -r code t_end < "$tmp/login.$i"
			answers="$answers $code"
			[ "$code" = 200 ] && good=$((good + 1))
			# Still running when the SIGTERM went out.
			[ "$t_end" -gt "$t_term" ] && inflight=$((inflight + 1))
			[ "$t_end" -gt "$t_last" ] && t_last=$t_end
		done
		# How long the processes outlived the last answer.
		after=$((t_term + gone - t_last))
		for p in $left; do kill -KILL "$p" 2>/dev/null; done
		rm -f "$STACK_DIR/sessiond.pid"
		t_start=$(now_ms)
		$SESSIOND_START_CMD >/dev/null 2>&1
		if wait_healthy 20; then
			up=$(($(now_ms) - t_start))
		else
			up=never
		fi
		if [ "$n" -gt 0 ] && [ "$good" = "$n" ] &&
		    [ "$inflight" = "$n" ] && [ -z "$left" ] &&
		    [ "$after" -le 3000 ] && [ "$up" != never ]; then
			ok "SIGTERM with $n logins in flight: all $good" \
			    "answered 200 (the last $((t_last - t_term)) ms" \
			    "after the signal); master and workers gone" \
			    "${gone} ms after the signal, ${after} ms after" \
			    "the last answer (limit 3000 ms); restarted," \
			    "healthz 200 after ${up} ms"
		else
			not_ok "SIGTERM with $n logins ($inflight still in" \
			    "flight at the signal): answers$answers;" \
			    "processes left:${left:- none} after ${gone} ms;" \
			    "restart healthy after ${up} ms"
		fi
	done
}

for f in ${FAULTS_ONLY:-workers pg hup rotation nginx master term}; do
	"fault_$f"
done
