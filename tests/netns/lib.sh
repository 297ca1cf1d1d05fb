# tests/netns/lib.sh: the pieces of the multi-host topology test, sourced
# by run.sh. Every node is a network namespace of its own; all of them hang
# off one bridge that lives in a further namespace (the "switch"), so that
# nothing is added to the host's own network: no interface, no address, no
# route. Traffic only ever goes between the addresses below, inside those
# namespaces.
#
#	lb    .10   nginx (the cluster site), wrk, curl, psql
#	app1  .11   sessiond, reads and writes on the primary
#	app2  .12   sessiond, reads on the standby (database_read)
#	pg1   .21   PostgreSQL, first primary
#	pg2   .22   PostgreSQL, synchronous standby, primary after failover
#	dcs   .30   etcd (Patroni mode only)
#	pool  .40   pgbouncer (transaction mode) and a third sessiond
#
# shellcheck shell=bash disable=SC2034

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
RUN=${NETNS_DIR:-$ROOT/.run/netns}
STACK_USER=${STACK_USER:-sessiond-dev}
NET=${NETNS_NET:-10.211.0}		# a /24 of our own, inside the namespaces
ID=${NETNS_ID:-$(( $$ % 10000 ))}
P=sdn$ID				# namespace prefix
NODES="lb app1 app2 pg1 pg2 dcs pool"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
WORKERS=${NETNS_WORKERS:-2}		# sessiond workers per host

declare -A HOST=([lb]=10 [app1]=11 [app2]=12 [pg1]=21 [pg2]=22 [dcs]=30
    [pool]=40)

addr() { echo "$NET.${HOST[$1]}"; }
LB=$(addr lb)

now_ms() { date +%s%3N; }
log() { printf '# %s\n' "$*"; }

# shellcheck source=tests/tap.sh
. "$ROOT/tests/tap.sh"
# check CONDITION-STATUS MESSAGE: ok or not ok from an exit status.
check() {
	local rc=$1
	shift
	if [ "$rc" -eq 0 ]; then ok "$@"; else not_ok "$@"; fi
}

# --- namespaces -------------------------------------------------------

in_ns() {
	local ns=$1
	shift
	ip netns exec "$P-$ns" "$@"
}

# The same as the unprivileged stack user (PostgreSQL refuses root).
in_ns_user() {
	local ns=$1
	shift
	ip netns exec "$P-$ns" setpriv --reuid="$STACK_USER" \
	    --regid="$STACK_USER" --init-groups -- "$@"
}

# Record what we create before creating it, so that cleanup finds it even
# if we are killed half way.
record() { echo "$1" >>"$RUN/created"; }

net_up() {
	local n
	record "$P-sw"
	ip netns add "$P-sw"
	ip -n "$P-sw" link set lo up
	ip -n "$P-sw" link add br0 type bridge
	ip -n "$P-sw" link set br0 up
	for n in $NODES; do
		record "$P-$n"
		ip netns add "$P-$n"
		ip -n "$P-$n" link set lo up
		# One end on the bridge, the other in the node as eth0.
		ip -n "$P-sw" link add "v$ID$n" type veth peer name eth0 \
		    netns "$P-$n"
		ip -n "$P-sw" link set "v$ID$n" master br0 up
		ip -n "$P-$n" addr add "$(addr "$n")/24" dev eth0
		ip -n "$P-$n" link set eth0 up
	done
}

# A node leaves the network, as when its machine dies: packets to it are
# dropped, nothing answers, not even with a reset.
link_down() { ip -n "$P-sw" link set "v$ID$1" down; }
link_up() { ip -n "$P-sw" link set "v$ID$1" up; }

# Stop every process in the namespaces listed in $RUN/created, then the
# namespaces (the veth pairs and the bridge go with them).
net_down() {
	local ns pids i
	[ -f "$RUN/created" ] || return 0
	# Patroni would restart PostgreSQL: it goes first. Then PostgreSQL,
	# at once but cleanly, so that it releases its shared memory.
	for d in "$RUN"/patroni-*.pid; do
		[ -f "$d" ] && kill -KILL "$(cat "$d")" 2>/dev/null
	done
	for d in "$RUN"/pg1 "$RUN"/pg2; do
		[ -f "$d/postmaster.pid" ] || continue
		setpriv --reuid="$STACK_USER" --regid="$STACK_USER" \
		    --init-groups -- "$PGBIN/pg_ctl" -D "$d" -m immediate \
		    -w -t 10 stop >/dev/null 2>&1 || true
	done
	while read -r ns; do
		ip netns list 2>/dev/null | grep -q "^$ns\b" || continue
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
		[ "${#pids[@]}" -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
		for i in $(seq 50); do
			mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
			[ "${#pids[@]}" -eq 0 ] && break
			sleep 0.1
		done
		[ "${#pids[@]}" -gt 0 ] && kill -KILL "${pids[@]}" 2>/dev/null
	done <"$RUN/created"
	while read -r ns; do
		ip netns del "$ns" 2>/dev/null || true
	done <"$RUN/created"
	rm -f "$RUN/created"
}

# A run killed before its trap could run leaves its namespaces behind:
# clean them up if their owner is gone.
stale_cleanup() {
	local owner
	[ -f "$RUN/owner" ] || return 0
	owner=$(cat "$RUN/owner")
	if kill -0 "$owner" 2>/dev/null; then
		echo "netns: another run ($owner) uses $RUN" >&2
		exit 1
	fi
	log "cleaning up after an interrupted run ($owner)"
	net_down
}

# The stack user must reach $RUN, the build and the tree's nginx files.
grant_access() {
	local d
	if ! id -u "$STACK_USER" >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin \
		    "$STACK_USER"
	fi
	d=$ROOT
	while [ "$d" != / ]; do
		if ! setpriv --reuid="$STACK_USER" --regid="$STACK_USER" \
		    --init-groups test -x "$d" 2>/dev/null; then
			setfacl -m "u:$STACK_USER:x" "$d"
		fi
		d=$(dirname "$d")
	done
	if [ -d "$ROOT/.run" ] && ! setpriv --reuid="$STACK_USER" \
	    --regid="$STACK_USER" --init-groups test -x "$ROOT/.run"; then
		setfacl -m "u:$STACK_USER:x" "$ROOT/.run"
	fi
	setfacl -R -m "u:$STACK_USER:rX" "$ROOT/nginx" "$ROOT/sql" \
	    "$BUILD" 2>/dev/null || true
	chown "$STACK_USER:" "$RUN"
	chmod 750 "$RUN"
}

# --- PostgreSQL -------------------------------------------------------

# psql as the superuser over the private network, from the lb node.
psql_at() {
	local node=$1
	shift
	in_ns lb psql -X -q -At -v ON_ERROR_STOP=1 -h "$(addr "$node")" \
	    -p 5432 -U postgres "$@"
}

pg_ctl_at() {
	local node=$1
	shift
	in_ns_user "$node" "$PGBIN/pg_ctl" -D "$RUN/$node" "$@"
}

pg_start() {
	pg_ctl_at "$1" -l "$RUN/$1.log" -w -t 60 start >/dev/null
}

# What both servers share. synchronous_commit = remote_apply for every
# writer (sessiond, sessionctl, anything else): a commit returns once the
# synchronous standby has applied it, so a standby that serves reads never
# shows what the primary already changed.
pg_common_conf() {
	cat <<-EOF
	# tests/netns: one of two servers.
	port = 5432
	unix_socket_directories = ''
	max_connections = 60
	shared_buffers = 64MB
	wal_level = replica
	max_wal_senders = 5
	hot_standby = on
	synchronous_commit = remote_apply
	log_line_prefix = '%m [%p] %q%a '
	EOF
}

# Primary pg1: initdb, trust inside the private subnet (test only).
pg_manual_primary() {
	install -d -m 700 -o "$STACK_USER" "$RUN/pg1"
	(cd "$RUN" && in_ns_user pg1 "$PGBIN/initdb" -D "$RUN/pg1" \
	    -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null) ||
	    return 1
	{
		pg_common_conf
		echo "listen_addresses = '$(addr pg1)'"
	} >>"$RUN/pg1/postgresql.conf"
	cat >>"$RUN/pg1/pg_hba.conf" <<-EOF
	host	all		all	$NET.0/24	trust
	host	replication	all	$NET.0/24	trust
	EOF
	pg_start pg1
}

# Standby pg2: a base backup of pg1 that streams from it as "standby",
# the name pg1's synchronous_standby_names waits for.
pg_manual_standby() {
	install -d -m 700 -o "$STACK_USER" "$RUN/pg2"
	in_ns_user pg2 "$PGBIN/pg_basebackup" -h "$(addr pg1)" -U postgres \
	    -D "$RUN/pg2" -X stream -R -c fast >/dev/null || return 1
	# -R wrote standby.signal; the connection names itself.
	echo "primary_conninfo = 'host=$(addr pg1) port=5432 user=postgres" \
	    "application_name=standby'" >"$RUN/pg2/postgresql.auto.conf"
	# Its own address; and once promoted it has no standby to wait for.
	cat >>"$RUN/pg2/postgresql.conf" <<-EOF
	listen_addresses = '$(addr pg2)'
	synchronous_standby_names = ''
	EOF
	pg_start pg2
}

# Make pg2 the synchronous standby of pg1 and wait until it is.
pg_manual_sync() {
	local i
	psql_at pg1 -d postgres -c \
	    "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (standby)'" \
	    -c "SELECT pg_reload_conf()" >/dev/null
	for i in $(seq 100); do
		[ "$(psql_at pg1 -d postgres -c "SELECT sync_state FROM
		    pg_stat_replication WHERE application_name = 'standby'")" \
		    = sync ] && return 0
		sleep 0.1
	done
	return 1
}

# The database and role, the schema, the users. Settings that must hold
# whatever the client sends (a pooler drops startup options) belong to
# the role.
db_setup() {
	psql_at "$1" -d postgres -c "CREATE ROLE sessiond LOGIN" \
	    -c "CREATE ROLE sessiond_runtime NOLOGIN" \
	    -c "GRANT sessiond_runtime TO sessiond" \
	    -c "ALTER ROLE sessiond SET statement_timeout = '5s'" \
	    -c "CREATE DATABASE sessiond OWNER sessiond" >/dev/null &&
	    in_ns lb env SESSIOND_CONFIG="$RUN/sessionctl.conf" \
	    SESSIOND_SQL_DIR="$ROOT/sql" "$BUILD/sessionctl" migrate >/dev/null
}

# --- Patroni ----------------------------------------------------------

patroni_available() {
	command -v patroni >/dev/null && command -v etcd >/dev/null
}

etcd_start() {
	local a i
	a=$(addr dcs)
	install -d -m 700 -o "$STACK_USER" "$RUN/etcd"
	bg_user dcs "$RUN/etcd.pid" "$RUN/etcd.log" \
	    etcd --name dcs --data-dir "$RUN/etcd" \
	    --listen-client-urls "http://$a:2379" \
	    --advertise-client-urls "http://$a:2379" \
	    --listen-peer-urls "http://$a:2380" \
	    --initial-advertise-peer-urls "http://$a:2380" \
	    --initial-cluster "dcs=http://$a:2380" \
	    --initial-cluster-state new
	for i in $(seq 100); do
		in_ns lb curl -fsS -o /dev/null "http://$a:2379/health" \
		    2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Patroni's configuration for one node. ttl 10, loop_wait 2: a dead
# primary's leader key expires within 10 s (production keeps the defaults
# 30/10 or tunes them to its network). synchronous_mode: Patroni names the
# healthy replica in synchronous_standby_names, and promotes only a
# synchronous one, so no acknowledged commit is lost.
patroni_conf() {
	local n=$1 a
	a=$(addr "$n")
	cat <<-EOF
	scope: sessiond-netns
	name: $n
	log:
	  level: INFO
	restapi:
	  listen: $a:8008
	  connect_address: $a:8008
	etcd3:
	  hosts: $(addr dcs):2379
	bootstrap:
	  dcs:
	    ttl: 10
	    loop_wait: 2
	    retry_timeout: 3
	    maximum_lag_on_failover: 1048576
	    synchronous_mode: true
	    postgresql:
	      use_pg_rewind: false
	      parameters:
	        max_connections: 60
	        shared_buffers: 64MB
	        wal_level: replica
	        hot_standby: "on"
	        max_wal_senders: 5
	        synchronous_commit: remote_apply
	  initdb:
	    - encoding: UTF8
	    - locale: C.UTF-8
	  pg_hba:
	    - host all all $NET.0/24 trust
	    - host replication all $NET.0/24 trust
	postgresql:
	  listen: $a:5432
	  connect_address: $a:5432
	  data_dir: $RUN/$n
	  bin_dir: $PGBIN
	  pgpass: $RUN/pgpass-$n
	  basebackup:
	    - checkpoint: fast
	  authentication:
	    superuser:
	      username: postgres
	      password: unused-trust
	    replication:
	      username: replicator
	      password: unused-trust
	  parameters:
	    unix_socket_directories: ''
	    log_line_prefix: '%m [%p] %q%a '
	tags:
	  nofailover: false
	  noloadbalance: false
	  clonefrom: false
	EOF
}

patroni_start() {
	local n=$1
	patroni_conf "$n" >"$RUN/patroni-$n.yml"
	chown "$STACK_USER:" "$RUN/patroni-$n.yml"
	install -d -m 700 -o "$STACK_USER" "$RUN/$n"
	bg_user "$n" "$RUN/patroni-$n.pid" "$RUN/patroni-$n.log" \
	    env HOME="$RUN" patroni "$RUN/patroni-$n.yml"
}

# patroni_pause true|false: maintenance mode on or off, and wait until
# pg2 sees it (else it resumes a paused WAL replay on its next loop).
patroni_pause() {
	local i p
	in_ns lb curl -fsS -o /dev/null -X PATCH \
	    -H 'Content-Type: application/json' -d "{\"pause\": $1}" \
	    "http://$(addr pg1):8008/config" || return 1
	for i in $(seq 100); do
		p=$(in_ns lb curl -fsS --max-time 1 \
		    "http://$(addr pg2):8008/patroni" | jq -r '.pause // false')
		[ "$p" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_rest NODE PATH [SECONDS]: until Patroni's REST API answers 200.
wait_rest() {
	local i
	for i in $(seq $((${3:-60} * 10))); do
		in_ns lb curl -fsS -o /dev/null --max-time 1 \
		    "http://$(addr "$1"):8008/$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# bg_user NODE PIDFILE LOG PROGRAM ARGS...: start a daemon in NODE as the
# stack user. ip execs setpriv, which execs the program: the pid in
# PIDFILE is the program's own.
bg_user() {
	local ns=$1 pidfile=$2 logf=$3
	shift 3
	ip netns exec "$P-$ns" setpriv --reuid="$STACK_USER" \
	    --regid="$STACK_USER" --init-groups -- "$@" </dev/null \
	    >>"$logf" 2>&1 &
	echo $! >"$pidfile"
	disown $!
}

# --- sessiond ---------------------------------------------------------

# app_conf NODE DATABASE [DATABASE_READ] [EXTRA LINES]
app_conf() {
	local n=$1
	{
		echo "# tests/netns: sessiond on $n"
		echo "listen = $(addr "$n"):9000"
		echo "workers = $WORKERS"
		echo "login_listen = $(addr "$n"):9001"
		echo "login_workers = $WORKERS"
		echo "database = $2"
		[ -n "${3:-}" ] && echo "database_read = $3"
		echo "keys_file = $RUN/keys"
		echo "max_sessions = 1000"
		echo "reauth_window = 0"
		[ -n "${4:-}" ] && printf '%s\n' "$4"
	} >"$RUN/$n.conf"
	chmod 644 "$RUN/$n.conf"
}

app_start() {
	local n=$1
	bg_user "$n" "$RUN/$n.pid" "$RUN/$n.log" "$BUILD/sessiond" \
	    -c "$RUN/$n.conf"
}

# --- nginx ------------------------------------------------------------

# The cluster site as shipped, pointed at this topology. Every rewrite is
# checked, so that a change to the example cannot make the test pass by
# testing less.
nginx_site() {
	local src=$ROOT/nginx/sessiond-cluster.conf.example
	local site=$RUN/nginx/site.conf
	sed -e "s|@DATADIR@/nginx|$ROOT/nginx|g" \
	    -e "s|@DATADIR@/www|$ROOT/nginx/www|g" \
	    -e "s|/etc/ssl/certs/sessiond.example.crt|$RUN/nginx/cert.pem|" \
	    -e "s|/etc/ssl/private/sessiond.example.key|$RUN/nginx/key.pem|" \
	    -e "s|^\([[:space:]]*server[[:space:]]*\)10\.0\.0\.11:|\1$(addr app1):|" \
	    -e "s|^\([[:space:]]*server[[:space:]]*\)10\.0\.0\.12:|\1$(addr app2):|" \
	    -e "s|^\([[:space:]]*listen[[:space:]]*\)80;|\1$LB:80;|" \
	    -e "s|^\([[:space:]]*listen[[:space:]]*\)443 |\1$LB:443 |" \
	    -e '/^[[:space:]]*listen[[:space:]]*\[::\]/d' \
	    "$src" >"$site"
	if grep -nE '^[^#]*(@[A-Z_]+@|/etc/ssl|10\.0\.0\.)' "$site" ||
	    grep -nE '^[^#]*listen[[:space:]]+(80|443)\b' "$site"; then
		echo "netns: $src has lines the test cannot rewrite" >&2
		return 1
	fi
	if [ "$(grep -cE "^[[:space:]]*server[[:space:]]+$NET\." "$site")" \
	    -ne 4 ] || [ "$(grep -c "listen.*$LB:" "$site")" -ne 2 ]; then
		echo "netns: expected two servers in each of the two" \
		    "upstreams, one listen on 80 and one on 443 in $src" >&2
		return 1
	fi
}

# A server {} that reaches one sessiond host only (probes, and requests
# that must land on a given host), over TLS like the site, so that the
# cookie (__Host-sid) is the same.
probe_server() {	# probe_server PORT ADDRESS
	cat <<-EOF
	server {
		listen		$LB:$1 ssl;
		ssl_certificate		$RUN/nginx/cert.pem;
		ssl_certificate_key	$RUN/nginx/key.pem;
		location / {
			include		fastcgi_params;
			fastcgi_param	SCRIPT_NAME	"";
			fastcgi_param	PATH_INFO	\$uri;
			fastcgi_param	HTTPS		\$https if_not_empty;
			fastcgi_param	REMOTE_ADDR	\$remote_addr;
			fastcgi_pass	$2:9000;
			fastcgi_next_upstream	off;
			fastcgi_read_timeout	30s;
			location ~ ^/api/auth/(login|reauth|password)/?$ {
				fastcgi_pass	$2:9001;
			}
		}
	}
	EOF
}

nginx_conf() {
	local d=$RUN/nginx
	install -d -o "$STACK_USER" "$d" "$d/tmp"
	cp /etc/nginx/fastcgi_params "$d/fastcgi_params"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 1 -subj /CN=sessiond.example.com \
	    -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null || return 1
	nginx_site || return 1
	cat >"$d/nginx.conf" <<-EOF
	user $STACK_USER;
	worker_processes 2;
	pid $d/nginx.pid;
	error_log $d/error.log warn;
	events {
		worker_connections 4096;
	}
	http {
		include		/etc/nginx/mime.types;
		default_type	application/octet-stream;
		# Fields: time phase method status seconds uri upstream(s)
		# upstream status(es); the upstream lists go last, they hold
		# ", " when nginx retried.
		log_format	netns '\$msec \$http_x_load_phase \$request_method '
				'\$status \$request_time \$uri '
				'"\$upstream_addr" "\$upstream_status"';
		access_log	$d/access.log netns;
		client_body_temp_path	$d/tmp/body;
		fastcgi_temp_path	$d/tmp/fastcgi;
		proxy_temp_path		$d/tmp/proxy;
		uwsgi_temp_path		$d/tmp/uwsgi;
		scgi_temp_path		$d/tmp/scgi;

		include	$d/site.conf;

		# Test only: one port per sessiond host.
	$(probe_server 8001 "$(addr app1)")
	$(probe_server 8002 "$(addr app2)")
	$(probe_server 8003 "$(addr pool)")
	}
	EOF
}

nginx_start() {
	in_ns lb nginx -q -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf"
}

# --- HTTP -------------------------------------------------------------

# The site through nginx's upstream, or one host through its probe port.
url() {
	case $1 in
	site)	echo "https://$LB" ;;
	app1)	echo "https://$LB:8001" ;;
	app2)	echo "https://$LB:8002" ;;
	pool)	echo "https://$LB:8003" ;;
	esac
}

curl_lb() { in_ns lb curl -sk --max-time "${CURL_MAX:-20}" "$@"; }

# login WHERE USER PASSWORD: prints "session-id cookie csrf" or fails.
login() {
	local out hdr body id csrf cookie
	out=$(curl_lb -D - -H 'Content-Type: application/json' \
	    --data "{\"username\":\"$2\",\"password\":\"$3\"}" \
	    "$(url "$1")/api/auth/login/") || return 1
	hdr=${out%%$'\r\n\r\n'*}
	body=${out#*$'\r\n\r\n'}
	cookie=$(printf '%s\n' "$hdr" |
	    sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-sid=[^;]*\).*/\1/p' |
	    head -n 1)
	id=$(printf '%s' "$body" | jq -r '.session.id // empty' 2>/dev/null)
	csrf=$(printf '%s' "$body" | jq -r '.csrf_token // empty' 2>/dev/null)
	[ -n "$cookie" ] && [ -n "$id" ] && [ -n "$csrf" ] || return 1
	echo "$id $cookie $csrf"
}

# logins WHERE COUNT FILE USERS...: COUNT sessions spread over USERS,
# four at a time (each costs an scrypt), one line each in FILE.
logins() {
	local where=$1 count=$2 file=$3 i u
	shift 3
	local users=("$@") pids=() p
	: >"$file"
	for i in $(seq "$count"); do
		u=${users[$((i % ${#users[@]}))]}
		login "$where" "$u" "password-$u" >>"$file" &
		pids+=($!)
		if [ "${#pids[@]}" -ge 4 ]; then
			wait "${pids[0]}"
			pids=("${pids[@]:1}")
		fi
	done
	for p in "${pids[@]}"; do wait "$p"; done
	[ "$(wc -l <"$file")" -eq "$count" ]
}

# status WHERE COOKIE: the status of GET current-session.
status_of() {
	curl_lb -o /dev/null -w '%{http_code}' -H "Cookie: $2" \
	    "$(url "$1")/api/users/me/current-session/"
}

# --- wrk --------------------------------------------------------------

# wrk_run PHASE SECONDS CONNECTIONS WHERE OUT: the mixed load of load.lua.
wrk_run() {
	in_ns lb env LOAD_PHASE="$1" LOAD_SESSIONS="$RUN/load.sessions" \
	    wrk -t 2 -c "$3" -d "${2}s" --timeout 20s \
	    -s "$ROOT/tests/netns/load.lua" "$(url "$4")/" >"$5" 2>&1
}

wrk_requests() { sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$1"; }
wrk_errors() {
	sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$1" |
	    awk '{ print $1 + $2 + $3 + $4 }'
}
wrk_rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }

# Lines of nginx's access log for one load phase.
phase_log() { awk -v p="$1" '$2 == p' "$RUN/nginx/access.log"; }
