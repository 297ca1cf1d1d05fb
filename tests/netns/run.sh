#!/bin/bash
# tests/netns/run.sh: sessiond beyond one machine, on one machine.
#
# Builds a small data centre out of network namespaces (tests/netns/lib.sh
# has the map): nginx with nginx/sessiond-cluster.conf.example in front of
# two sessiond hosts that speak FastCGI over TCP, a PostgreSQL primary and
# its synchronous standby, and checks under a bounded wrk load that
#
#  1. when a sessiond host leaves the network, nginx routes around it:
#     no GET fails, and no more requests fail than were in flight on it;
#     and, one request at a time, that nginx resends a GET to the other
#     host when the first stalls, never a DELETE that reached a worker,
#     but a DELETE whose connection was refused;
#  2. a session revoked through either host is refused at once by the host
#     that reads from the standby (synchronous_commit = remote_apply), and
#     a control shows the same check failing without remote_apply;
#  3. when the primary's machine dies and the standby is promoted (Patroni
#     when installed, else pg_ctl promote, as an operator would), sessiond
#     serves again within seconds, and every revocation acknowledged with
#     204 before or during the failover is still refused, on both hosts;
#  4. sessiond works through pgbouncer in transaction mode with
#     prepared_statements = 0.
#
# Run as root (namespaces; PostgreSQL itself runs as $STACK_USER). Needs
# the release build (make all), nginx, PostgreSQL 15, wrk, jq, pgbouncer,
# and for the Patroni mode patroni and etcd-server (Debian packages).
#
# Environment:
#   FAILOVER=auto|patroni|manual  (auto: patroni if installed)
#   REVOCATIONS=200  FAILOVER_REVOCATIONS=80  LOAD_CONNECTIONS=16
#   RECOVER_MAX=15   seconds within which sessiond must serve again after
#                    the promotion
#   NETNS_NET=10.211.0  NETNS_DIR=.run/netns  KEEP_NETNS=1 keeps the files
#
# Prints "ok - ..." / "not ok - ..." lines with the figures, then
# "N passed, M failed"; exits non-zero on any failure. Everything it
# creates (namespaces, the veth pairs and bridge inside them, processes)
# goes away on exit, also on failure or Ctrl-C; the files under NETNS_DIR
# too, except the logs when something failed.

set -uo pipefail
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

FAILOVER=${FAILOVER:-auto}
REVOCATIONS=${REVOCATIONS:-200}
FAILOVER_REVOCATIONS=${FAILOVER_REVOCATIONS:-80}
LOAD_CONNECTIONS=${LOAD_CONNECTIONS:-16}
RECOVER_MAX=${RECOVER_MAX:-15}
USERS=(u1 u2 u3 u4)

bail() {
	not_ok "$*"
	echo "$passed passed, $((failed)) failed"
	exit 1
}

[ "$(id -u)" -eq 0 ] || bail "netns: must run as root (ip netns)"
missing=""
for c in ip nginx wrk curl jq openssl setpriv setfacl ss pgbouncer \
    "$PGBIN/initdb" "$PGBIN/pg_ctl" "$PGBIN/pg_basebackup" \
    "$BUILD/sessiond" "$BUILD/sessionctl"; do
	command -v "$c" >/dev/null || missing="$missing $c"
done
[ -z "$missing" ] || bail "netns: missing:$missing"
case $FAILOVER in
auto)	if patroni_available; then FAILOVER=patroni; else FAILOVER=manual; fi ;;
patroni) patroni_available || bail "netns: FAILOVER=patroni needs patroni and etcd" ;;
manual)	;;
*)	bail "netns: FAILOVER must be auto, patroni or manual" ;;
esac

mkdir -p "$RUN"
stale_cleanup
find "$RUN" -mindepth 1 -delete
echo $$ >"$RUN/owner"

cleanup() {
	trap '' INT TERM
	net_down
	if [ "${KEEP_NETNS:-0}" = 1 ]; then
		:
	elif [ "$failed" -eq 0 ]; then
		rm -rf "$RUN"
	else
		rm -rf "$RUN"/pg1 "$RUN"/pg2 "$RUN"/etcd
		echo "# logs: $RUN" >&2
	fi
	rm -f "$RUN/owner" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "failover mode: $FAILOVER; namespaces $P-*; subnet $NET.0/24"

# --- the network ------------------------------------------------------

grant_access
net_up || bail "topology: could not create the namespaces"
# Reachable: a closed port answers with a reset (the bridge may take a
# moment to forward).
reach=1
for i in $(seq 20); do
	out=$(in_ns lb timeout 1 bash -c \
	    "exec 3<>/dev/tcp/$(addr pg2)/9" 2>&1)
	case $out in *"Connection refused"*) reach=0; break ;; esac
done
check $reach "topology: $(echo "$NODES" | wc -w) nodes on $NET.0/24 behind a bridge in $P-sw"

# --- PostgreSQL -------------------------------------------------------

PRIMARY_DB="host=$(addr pg1),$(addr pg2) port=5432 dbname=sessiond user=sessiond target_session_attrs=read-write"
# A query to a machine that vanished gets no answer, not even a reset:
# without tcp_user_timeout (and keepalives for idle connections) a worker
# would wait for TCP's own retransmission limit, about 15 minutes.
TCP_OPTS="tcp_user_timeout=3000 keepalives_idle=2 keepalives_interval=1 keepalives_count=2"
echo "database = $PRIMARY_DB" >"$RUN/sessionctl.conf"

t=$(now_ms)
if [ "$FAILOVER" = manual ]; then
	pg_manual_primary && db_setup pg1 && pg_manual_standby &&
	    pg_manual_sync
	check $? "postgres: primary pg1 and synchronous standby pg2" \
	    "(pg_basebackup, application_name=standby) in $(( ($(now_ms) - t) / 1000 )) s"
else
	etcd_start && patroni_start pg1 && wait_rest pg1 primary 90 &&
	    db_setup pg1 && patroni_start pg2 && wait_rest pg2 sync 90
	check $? "postgres: Patroni cluster (etcd in $P-dcs), leader pg1," \
	    "synchronous replica pg2, in $(( ($(now_ms) - t) / 1000 )) s"
fi
[ "$failed" -eq 0 ] || bail "postgres: setup failed; see $RUN/*.log"
sync_state=$(psql_at pg1 -d postgres -c "SELECT application_name || '=' ||
    sync_state FROM pg_stat_replication")
sync_commit=$(psql_at pg1 -d postgres -c "SHOW synchronous_commit")
[ "${sync_state#*=}" = sync ] && [ "$sync_commit" = remote_apply ]
check $? "postgres: pg1 replicates to $sync_state, synchronous_commit = $sync_commit"

(umask 077 && in_ns lb "$BUILD/sessionctl" key generate >"$RUN/keys")
chown "$STACK_USER:" "$RUN/keys"
pids=()
for u in "${USERS[@]}"; do
	printf 'password-%s\n' "$u" | in_ns lb env \
	    SESSIOND_CONFIG="$RUN/sessionctl.conf" "$BUILD/sessionctl" \
	    user add "$u" >/dev/null &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
check $rc "sessionctl: users ${USERS[*]} created on the primary"

# --- sessiond and nginx -----------------------------------------------

app_conf app1 "$PRIMARY_DB $TCP_OPTS"
app_conf app2 "$PRIMARY_DB $TCP_OPTS" \
    "host=$(addr pg2),$(addr pg1) port=5432 dbname=sessiond user=sessiond target_session_attrs=prefer-standby $TCP_OPTS"
app_start app1
app_start app2
nginx_conf || bail "nginx: could not write the configuration"
in_ns lb nginx -t -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" \
    >"$RUN/nginx-t.out" 2>&1
rc=$?
! grep -q '\[warn\]\|\[emerg\]' "$RUN/nginx-t.out" && [ $rc -eq 0 ]
check $? "nginx: sessiond-cluster.conf.example passes nginx -t without warnings"
nginx_start || bail "nginx: did not start; see $RUN/nginx/error.log"

for i in $(seq 100); do
	a=$(curl_lb -o /dev/null -w '%{http_code}' "$(url app1)/healthz")
	b=$(curl_lb -o /dev/null -w '%{http_code}' "$(url app2)/healthz")
	[ "$a $b" = "200 200" ] && break
	sleep 0.1
done
s=$(curl_lb -o /dev/null -w '%{http_code}' "$(url site)/healthz")
[ "$a $b $s" = "200 200 200" ]
check $? "sessiond: app1 and app2 listen on $(addr app1):9000 and" \
    "$(addr app2):9000 (FastCGI over TCP), healthy through nginx ($a $b $s)"
[ "$a $b" = "200 200" ] || bail "sessiond: not healthy; see $RUN/app*.log"

# The sessions: four for the load, one per user; the rest to revoke.
t=$(now_ms)
logins site 4 "$RUN/load.sessions" "${USERS[@]}"
rc1=$?
half=$(( (REVOCATIONS + FAILOVER_REVOCATIONS + 2) / 2 ))
logins app1 "$half" "$RUN/s1" "${USERS[@]}" &
p1=$!
logins app2 "$half" "$RUN/s2" "${USERS[@]}" &
p2=$!
wait $p1
rc2=$?
wait $p2
rc3=$?
cat "$RUN/s1" "$RUN/s2" >"$RUN/all.sessions"
head -n 2 "$RUN/all.sessions" >"$RUN/control.sessions"
sed -n "3,$((REVOCATIONS + 2))p" "$RUN/all.sessions" >"$RUN/revoke.sessions"
sed -n "$((REVOCATIONS + 3)),\$p" "$RUN/all.sessions" |
    head -n "$FAILOVER_REVOCATIONS" >"$RUN/failover.sessions"
n_all=$(wc -l <"$RUN/all.sessions")
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ] &&
    [ "$(wc -l <"$RUN/failover.sessions")" -eq "$FAILOVER_REVOCATIONS" ]
check $? "sessions: $((n_all + 4)) logins through nginx in" \
    "$(( ($(now_ms) - t) / 1000 )) s (scrypt each)"
[ "$failed" -eq 0 ] || bail "sessions: logins failed; see $RUN/app*.log"

# --- 1. a sessiond host leaves the network under load -----------------

phase_host_down() {
	local out=$RUN/wrk-hostdown.txt wpid tdown tup inflight total
	local f5 g5 d5 retried back werr
	wrk_run hostdown 28 "$LOAD_CONNECTIONS" site "$out" &
	wpid=$!
	sleep 5
	link_down app1
	tdown=$(now_ms)
	# In flight on app1: nginx's FastCGI connections to it (one request
	# each, no keepalive) when it left.
	inflight=$(in_ns lb ss -Htn state established \
	    "( dst $(addr app1) and dport = :9000 )" | wc -l)
	sleep 14		# past nginx's 10 s read timeout
	link_up app1
	tup=$(now_ms)
	wait "$wpid"
	phase_log hostdown >"$RUN/hostdown.log"
	total=$(wc -l <"$RUN/hostdown.log")
	f5=$(awk '$4 >= 500' "$RUN/hostdown.log" | wc -l)
	g5=$(awk '$4 >= 500 && $3 == "GET"' "$RUN/hostdown.log" | wc -l)
	d5=$(awk '$4 >= 500 && $3 != "GET"' "$RUN/hostdown.log" | wc -l)
	retried=$(grep -c ', ' "$RUN/hostdown.log")
	# Back in rotation once fail_timeout (5 s) has passed.
	back=$(awk -v t="$tup" -v a="\"$(addr app1):9000\"" \
	    '$1 * 1000 > t && $7 == a && $4 < 500' "$RUN/hostdown.log" | wc -l)
	# wrk's socket errors count as failures too (one may come from nginx
	# closing a client connection after keepalive_requests, which is not
	# a failure of this test, but wrk cannot tell which request it hit).
	werr=$(wrk_errors "$out")
	werr=${werr:-0}
	[ "$g5" -eq 0 ] && [ $((f5 + werr)) -le "$inflight" ] &&
	    [ "$total" -gt 0 ]
	check $? "host down: app1 off the network for $(( (tup - tdown) / 1000 )) s" \
	    "under wrk: $(wrk_requests "$out") requests ($(wrk_rps "$out")/s)," \
	    "$((f5 + werr)) failed ($g5 GET, $d5 DELETE answered 5xx; $werr wrk" \
	    "socket errors) <= $inflight in flight on app1; $retried resent" \
	    "to app2"
	[ "$back" -gt 0 ]
	check $? "host back: app1 served $back requests after it returned"
}
phase_host_down

# --- 1b. which requests nginx sends to another host ------------------

# one_request KIND TAG: a GET (current session) or a DELETE (of an unknown
# session id: 404, a write that changes nothing) through the site; prints
# "status upstreams" from nginx's log.
one_request() {
	local id ck csrf
	read -r id ck csrf < <(sed -n 1p "$RUN/load.sessions")
	if [ "$1" = GET ]; then
		curl_lb -o /dev/null -H "Cookie: $ck" -H "X-Load-Phase: $2" \
		    "$(url site)/api/users/me/current-session/"
	else
		curl_lb -o /dev/null -X DELETE -H "Cookie: $ck" \
		    -H "X-CSRF-Token: $csrf" -H "X-Load-Phase: $2" \
		    "$(url site)/api/auth/sessions/$(cat /proc/sys/kernel/random/uuid)/"
	fi
	phase_log "$2" | awk '{ match($0, /"[^"]*"/)
	    u = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", u)
	    print $4, u }'
}

# first_on_app1 KIND TAG: the same request until nginx tries app1 first
# (round robin alternates); prints the last "status upstreams".
first_on_app1() {
	local i out a1
	a1="$(addr app1):9000"
	for i in 1 2 3 4 5 6; do
		out=$(one_request "$1" "$2-$i")
		case $out in
		*" $a1"*)	echo "$out"; return 0 ;;
		esac
	done
	echo "$out"
	return 1
}

phase_retry_rules() {
	local pids a1 a2 d g r i
	a1="$(addr app1):9000"
	a2="$(addr app2):9000"
	sleep 6		# fail_timeout: app1 counts as healthy again

	# app1 stalls (its processes stopped): connections are accepted, the
	# request is sent, no answer comes. After fastcgi_read_timeout a GET
	# goes to app2; a DELETE, which app1 may have run, must not.
	pids=$(ip netns pids "$P-app1")
	# shellcheck disable=SC2086
	kill -STOP $pids
	d=$(first_on_app1 DELETE retry-stalled-delete)
	sleep 6
	g=$(first_on_app1 GET retry-stalled-get)
	# shellcheck disable=SC2086
	kill -CONT $pids
	[ "${d%% *}" = 504 ] && [ "${d#* }" = "$a1" ] &&
	    [ "${g%% *}" = 200 ] && [[ "${g#* }" = "$a1"*"$a2" ]]
	check $? "retry rules: app1 stalled after accepting: DELETE answered" \
	    "${d%% *} from ${d#* } alone (not resent), GET answered" \
	    "${g%% *} via ${g#* } (resent)"

	# app1's sessiond stopped: the connection is refused, nothing was
	# sent, and a DELETE may go to app2 as well.
	kill -TERM "$(cat "$RUN/app1.pid")"
	for i in $(seq 100); do
		kill -0 "$(cat "$RUN/app1.pid")" 2>/dev/null || break
		sleep 0.1
	done
	sleep 6
	r=$(first_on_app1 DELETE retry-refused-delete)
	app_start app1
	[ "${r%% *}" = 404 ] && [[ "${r#* }" = "$a1"*"$a2" ]]
	check $? "retry rules: app1 refusing connections: DELETE answered" \
	    "${r%% *} via ${r#* } (never reached app1, so resent)"
	for i in $(seq 100); do
		[ "$(curl_lb -o /dev/null -w '%{http_code}' \
		    "$(url app1)/healthz")" = 200 ] && break
		sleep 0.1
	done
	sleep 6		# back in nginx's rotation
}
phase_retry_rules

# --- 2. revocations and the standby that serves reads ----------------

# user_of SESSION-ID: its user id, from the primary.
user_of() {
	psql_at "$1" -d sessiond -c "SELECT user_id FROM sessions WHERE id = '$2'"
}

replay() {	# replay pause|resume
	psql_at pg2 -d postgres -c "SELECT pg_wal_replay_$1()" >/dev/null
}

phase_standby() {
	local cid cck did dck dcsrf uid st pid t code s2 s3 out
	local i=0 n=0 acked=0 refused=0 stale=0 other=0 w
	read -r cid cck _ < <(sed -n 1p "$RUN/control.sessions")
	read -r did dck dcsrf < <(sed -n 2p "$RUN/control.sessions")

	# Control: a writer without remote_apply, while the standby lags
	# (replay paused), commits a revocation that the standby does not
	# show yet. The check below must see that, or it proves nothing.
	# (Patroni resumes a paused replay unless in maintenance mode.)
	# A first request makes the session's last-seen write, due once a
	# minute, so that the checks after it are plain reads on the standby:
	# a due write goes to the primary and would find the revocation.
	status_of app2 "$cck" >/dev/null
	[ "$FAILOVER" = patroni ] && patroni_pause true
	replay pause
	uid=$(user_of pg1 "$cid")
	psql_at pg1 -d sessiond -c "SET synchronous_commit = on" \
	    -c "SELECT count(*) FROM session_revoke($uid, NULL, '$cid',
	    'admin', 86400, NULL, 'tests/netns control')" >/dev/null
	st=$(status_of app2 "$cck")
	[ "$st" = 200 ]
	check $? "control: revoked with synchronous_commit = on while the" \
	    "standby lags, app2 (reading from it) still accepts the session" \
	    "($st): the stale read the rule prevents"

	# The same lag with remote_apply: the revoke waits for the standby.
	t=$(now_ms)
	curl_lb -o "$RUN/wait.body" -w '%{http_code}' -X DELETE \
	    -H "Cookie: $dck" -H "X-CSRF-Token: $dcsrf" \
	    "$(url app1)/api/auth/sessions/$did/" >"$RUN/wait.code" &
	pid=$!
	sleep 2
	kill -0 "$pid" 2>/dev/null
	st=$?
	replay resume
	wait "$pid"
	code=$(cat "$RUN/wait.code")
	t=$(( $(now_ms) - t ))
	[ "$FAILOVER" = patroni ] && patroni_pause false
	s2=$(status_of app2 "$dck")
	s3=$(status_of app2 "$cck")
	[ "$st" -eq 0 ] && [ "$code" = 204 ] && [ "$s2 $s3" = "401 401" ]
	check $? "remote_apply: with replay paused a revoke via app1 was" \
	    "still waiting after 2 s ($([ "$st" -eq 0 ] && echo yes || echo no));" \
	    "it answered $code once replay resumed ($t ms in all); app2 then" \
	    "refuses it and the control ($s2 $s3)"
	[ "$code" = 204 ] && echo "$did $dck" >>"$RUN/acked"

	# Revoke through app1 and app2 in turn; the very next request, in
	# the same curl, asks app2 (standby reads) with the revoked cookie.
	# Before them a first request takes care of the last-seen write (see
	# above), so that app2's answer comes from the standby alone.
	while read -r id ck csrf; do
		i=$((i + 1))
		w=app$((i % 2 + 1))
		out=$(in_ns lb curl -sk --max-time 20 -o /dev/null -w '' \
		    -H "Cookie: $ck" \
		    "$(url app2)/api/users/me/current-session/" \
		    --next -sk --max-time 20 -o /dev/null \
		    -w '%{http_code} ' -X DELETE -H "Cookie: $ck" \
		    -H "X-CSRF-Token: $csrf" \
		    "$(url "$w")/api/auth/sessions/$id/" \
		    --next -sk --max-time 20 -o /dev/null -w '%{http_code}' \
		    -H "Cookie: $ck" \
		    "$(url app2)/api/users/me/current-session/")
		n=$((n + 1))
		case $out in
		"204 401")	acked=$((acked + 1)); refused=$((refused + 1))
				echo "$id $ck" >>"$RUN/acked" ;;
		"204 200")	acked=$((acked + 1)); stale=$((stale + 1))
				echo "$id $ck" >>"$RUN/acked" ;;
		*)		other=$((other + 1)); log "revoke via $w: $out" ;;
		esac
	done <"$RUN/revoke.sessions"
	[ "$n" -eq "$REVOCATIONS" ] && [ "$refused" -eq "$n" ]
	check $? "standby reads: $n revocations via app1 and app2 in turn," \
	    "each followed at once by its cookie on app2 (reads on the" \
	    "standby): $acked answered 204, $refused refused (401), $stale" \
	    "accepted, $other other"
}
phase_standby

# --- 3. the primary's machine dies ------------------------------------

# health_loop HOST: /healthz on one host every 100 ms, with the time.
health_loop() {
	local code
	while [ ! -f "$RUN/stop-health" ]; do
		code=$(in_ns lb curl -sk --max-time 1 -o /dev/null \
		    -w '%{http_code}' "$(url "$1")/healthz")
		echo "$(now_ms) $1 $code" >>"$RUN/health.log"
		sleep 0.1
	done
}

revoke_loop() {
	local i=0 w t code id ck csrf
	while read -r id ck csrf; do
		i=$((i + 1))
		w=app$((i % 2 + 1))
		t=$(now_ms)
		code=$(in_ns lb curl -sk --max-time 20 -o /dev/null \
		    -w '%{http_code}' -X DELETE -H "Cookie: $ck" \
		    -H "X-CSRF-Token: $csrf" \
		    "$(url "$w")/api/auth/sessions/$id/")
		echo "$t $(now_ms) $w $code $id $ck" >>"$RUN/failover-revokes.log"
		sleep 0.2
	done <"$RUN/failover.sessions"
}

# recovered HOST T0: ms from T0 to the first 200 after the last failure
# of /healthz on HOST (0 if it never failed).
recovered() {
	awk -v h="$1" -v t0="$2" '
	$2 == h && $1 >= t0 { if ($3 != 200) { bad = $1; good = 0 }
	    else if (bad && !good) good = $1 }
	END { print (bad ? (good ? good - t0 : -1) : 0) }' "$RUN/health.log"
}

phase_failover() {
	local out=$RUN/wrk-failover.txt wpid hpid hpid2 rpid t0 tp rc how
	local r1 r2 rmax acked failed5 first tail5 total f5
	: >"$RUN/health.log"
	: >"$RUN/failover-revokes.log"
	wrk_run failover 40 "$LOAD_CONNECTIONS" site "$out" &
	wpid=$!
	health_loop app1 &
	hpid=$!
	health_loop app2 &
	hpid2=$!
	revoke_loop &
	rpid=$!
	sleep 5

	# The machine dies: off the network first, then fenced (stopped),
	# so that it cannot come back as a second primary.
	t0=$(now_ms)
	link_down pg1
	if [ "$FAILOVER" = patroni ]; then
		kill -KILL "$(cat "$RUN/patroni-pg1.pid")" 2>/dev/null
		pg_ctl_at pg1 -m immediate -w stop >/dev/null 2>&1
		wait_rest pg2 primary 60
		rc=$?
		how="Patroni promoted pg2 (leader key ttl 10 s)"
	else
		pg_ctl_at pg1 -m immediate -w stop >/dev/null 2>&1
		pg_ctl_at pg2 -w promote >/dev/null
		rc=$?
		how="pg_ctl promote on pg2"
	fi
	tp=$(now_ms)
	check $rc "failover: pg1 left the network and was stopped; $how" \
	    "$(( (tp - t0) / 1000 )).$(( (tp - t0) % 1000 / 100 )) s later"

	wait "$rpid"
	# Let the health probes see both hosts serve for a while.
	for i in $(seq 300); do
		r1=$(recovered app1 "$t0")
		r2=$(recovered app2 "$t0")
		[ "$r1" -ge 0 ] && [ "$r2" -ge 0 ] &&
		    [ $(( $(now_ms) - t0 )) -gt $(( (r1 > r2 ? r1 : r2) + 3000 )) ] &&
		    break
		sleep 0.1
	done
	touch "$RUN/stop-health"
	wait "$hpid"
	wait "$hpid2"
	wait "$wpid"
	rm -f "$RUN/stop-health"

	r1=$(recovered app1 "$t0")
	r2=$(recovered app2 "$t0")
	rmax=$(( r1 > r2 ? r1 : r2 ))
	[ "$r1" -ge 0 ] && [ "$r2" -ge 0 ] &&
	    [ $(( t0 + rmax - tp )) -le $(( RECOVER_MAX * 1000 )) ]
	check $? "recovery: /healthz 200 again on app1 after" \
	    "$((r1 / 1000)).$((r1 % 1000 / 100)) s, on app2 after" \
	    "$((r2 / 1000)).$((r2 % 1000 / 100)) s from the loss of pg1;" \
	    "$(( (t0 + rmax - tp) / 1000 )).$(( (t0 + rmax - tp) % 1000 / 100 )) s" \
	    "after the promotion (limit ${RECOVER_MAX} s)"

	acked=$(awk '$4 == 204' "$RUN/failover-revokes.log" | wc -l)
	failed5=$(awk '$4 != 204' "$RUN/failover-revokes.log" | wc -l)
	first=$(awk -v t="$t0" '$1 >= t && $4 == 204 { print $2 - t; exit }' \
	    "$RUN/failover-revokes.log")
	awk '$4 == 204 { print $5, $6 }' "$RUN/failover-revokes.log" \
	    >>"$RUN/acked"
	[ -n "$first" ]
	check $? "revokes across the failover: $acked answered 204, $failed5" \
	    "did not (they may or may not have happened); the first 204" \
	    "begun after the loss of pg1 came $(( ${first:-0} / 1000 )).$(( ${first:-0} % 1000 / 100 )) s after it"

	phase_log failover >"$RUN/failover.log"
	total=$(wc -l <"$RUN/failover.log")
	f5=$(awk '$4 >= 500' "$RUN/failover.log" | wc -l)
	tail5=$(awk -v t=$(( t0 + rmax + 1000 )) '$1 * 1000 > t && $4 >= 500' \
	    "$RUN/failover.log" | wc -l)
	[ "$tail5" -eq 0 ] && [ "$total" -gt 0 ]
	check $? "failover under wrk: $(wrk_requests "$out") requests," \
	    "$f5 answered 5xx while the database was away, $tail5 after" \
	    "recovery; $acked revocations acknowledged during it"
}
phase_failover

# Every revocation acknowledged with 204 is still refused, on both hosts.
phase_after() {
	local n=0 bad=0 id ck s1 s2 ids left ctl=0 cok=0
	while read -r id ck; do
		n=$((n + 1))
		s1=$(status_of app1 "$ck")
		s2=$(status_of app2 "$ck")
		[ "$s1 $s2" = "401 401" ] || { bad=$((bad + 1)); log "$id: $s1 $s2"; }
	done <"$RUN/acked"
	[ "$n" -ge "$REVOCATIONS" ] && [ "$bad" -eq 0 ]
	check $? "after failover: $n revocations acknowledged with 204" \
	    "before or during it, each refused on app1 and app2" \
	    "($((2 * n)) requests, $bad accepted)"

	ids=$(awk '{ printf "%s'\''%s'\''", (NR > 1 ? "," : ""), $1 }' \
	    "$RUN/acked")
	left=$(psql_at pg2 -d sessiond -c "SELECT count(*) FROM sessions
	    WHERE id IN ($ids) AND revoked_at IS NULL")
	[ "$left" = 0 ]
	check $? "after failover: the new primary pg2 holds all $n as" \
	    "revoked ($left active)"

	while read -r id ck _; do
		ctl=$((ctl + 1))
		[ "$(status_of app1 "$ck") $(status_of app2 "$ck")" = "200 200" ] &&
		    cok=$((cok + 1))
	done <"$RUN/load.sessions"
	[ "$cok" -eq "$ctl" ]
	check $? "after failover: the $ctl sessions never revoked still work" \
	    "on both hosts ($cok/$ctl)"
}
phase_after

# --- 4. pgbouncer in transaction mode ---------------------------------

phase_pgbouncer() {
	local d=$RUN/pgbouncer a id ck csrf c1 c2 c3 c4 c5 out xacts
	a=$(addr pool)
	install -d -o "$STACK_USER" "$d"
	printf '"sessiond" ""\n"postgres" ""\n' >"$d/userlist.txt"
	# The primary is pg2 now. Startup options (statement_timeout,
	# synchronous_commit) do not pass through pgbouncer: it refuses
	# them unless told to ignore them, and then they are lost, which is
	# why both are also set on the server (role and postgresql.conf).
	cat >"$d/pgbouncer.ini" <<-EOF
	[databases]
	sessiond = host=$(addr pg2) port=5432 dbname=sessiond
	[pgbouncer]
	listen_addr = $a
	listen_port = 6432
	unix_socket_dir =
	auth_type = trust
	auth_file = $d/userlist.txt
	admin_users = postgres
	pool_mode = transaction
	default_pool_size = 4
	max_client_conn = 200
	ignore_startup_parameters = options
	logfile = $d/pgbouncer.log
	pidfile = $d/pgbouncer.pid
	EOF
	chown -R "$STACK_USER:" "$d"
	bg_user pool "$d/pid" "$d/stderr.log" pgbouncer "$d/pgbouncer.ini"
	app_conf pool "host=$a port=6432 dbname=sessiond user=sessiond" "" \
	    "prepared_statements = 0"
	for i in $(seq 50); do
		in_ns lb bash -c "exec 3<>/dev/tcp/$a/6432" 2>/dev/null && break
		sleep 0.1
	done
	app_start pool
	for i in $(seq 100); do
		[ "$(curl_lb -o /dev/null -w '%{http_code}' \
		    "$(url pool)/healthz")" = 200 ] && break
		sleep 0.1
	done
	read -r id ck csrf < <(login pool u1 password-u1)
	c1=$(status_of pool "$ck")
	c2=$(curl_lb -o /dev/null -w '%{http_code}' -H "Cookie: $ck" \
	    "$(url pool)/api/auth/sessions/")
	c3=$(curl_lb -o /dev/null -w '%{http_code}' -X DELETE \
	    -H "Cookie: $ck" -H "X-CSRF-Token: $csrf" \
	    "$(url pool)/api/auth/sessions/$id/")
	c4=$(status_of pool "$ck")
	c5=$(status_of app2 "$ck")
	out=$RUN/wrk-pool.txt
	wrk_run pool 4 8 pool "$out"
	f5=$(phase_log pool | awk '$4 >= 500' | wc -l)
	xacts=$(psql_at pool -p 6432 -d pgbouncer -c "SHOW STATS" 2>/dev/null |
	    awk -F'|' '$1 == "sessiond" { print $2 }')
	[ -n "$id" ] && [ "$c1 $c2 $c3 $c4 $c5" = "200 200 204 401 401" ] &&
	    [ "$f5" -eq 0 ] && [ "$(wrk_requests "$out")" -gt 0 ]
	check $? "pgbouncer: transaction mode, prepared_statements = 0:" \
	    "login, check, list, revoke, refused here and on app2:" \
	    "$c1 $c2 $c3 $c4 $c5; wrk $(wrk_requests "$out") requests" \
	    "($(wrk_rps "$out")/s), $f5 failed; ${xacts:-?} transactions" \
	    "through the pooler"
}
phase_pgbouncer

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
