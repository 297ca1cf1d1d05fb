#!/usr/bin/env bash
#
# test_deploy_configs.sh: the deployment files work as shipped.
#
#  - systemd/sessiond.conf.example lists every setting of fcgi/config.c,
#    and sessiond -t accepts it with all the defaults uncommented;
#  - systemd/*.in, with @BINDIR@, @DATADIR@ and @SYSCONFDIR@ filled in
#    the way "make install" does, pass "systemd-analyze verify" (offline:
#    no running systemd needed) with no warning, and "systemd-analyze
#    security" rates each service at most $SECURITY_MAX exposure;
#  - nginx/sessiond.conf.example, with paths pointed at this tree, a
#    throwaway certificate and high ports on 127.0.0.1, passes "nginx -t"
#    with no warning;
#  - that nginx, started without sessiond behind it, redirects HTTP to
#    HTTPS, speaks HTTP/2, answers /api/ and /healthz failures as JSON and
#    throttles only the login endpoint with a JSON 429 and Retry-After.
#
# Environment: BUILD (default ./build) holds the built binaries; a missing
# one is replaced by a stub so that the units can still be verified.
# Prints TAP-like "ok - ..." / "not ok - ..." lines and a summary; exits
# non-zero on any failure.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-./build}
SECURITY_MAX=${SECURITY_MAX:-2.0}
BINARIES="sessiond sessionctl sessiond-notifier"

tmp=
nginx_pid=

# shellcheck source=tests/tap.sh
. "$ROOT/tests/tap.sh"

# Indent captured output under a failed check.
show() {
	sed 's/^/#   /' "$1"
}

cleanup() {
	if [ -n "$nginx_pid" ]; then
		kill "$nginx_pid" 2>/dev/null
		wait "$nginx_pid" 2>/dev/null
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sessiond-deploy.XXXXXX") || exit 1

# --- systemd -----------------------------------------------------------

# The units as "make install" writes them: @BINDIR@ is where the binaries
# are, @DATADIR@ sessiond's share folder (unused by the units today),
# @SYSCONFDIR@ the parent of sessiond/ with the config, keys and pgpass.
test_units() {
	local bin=$tmp/bin units=$tmp/units f b name missing=""

	mkdir -p "$bin" "$units"
	for b in $BINARIES; do
		if [ -x "$BUILD/$b" ]; then
			ln -s "$(cd "$BUILD" && pwd)/$b" "$bin/$b"
		else
			printf '#!/bin/sh\nexit 0\n' >"$bin/$b"
			chmod 0755 "$bin/$b"
			missing="$missing $b"
		fi
	done
	[ -n "$missing" ] &&
	    echo "# note: not built in $BUILD, using stubs:$missing"

	set -- "$ROOT"/systemd/*.in
	if [ ! -e "$1" ]; then
		not_ok "systemd/*.in: no unit templates found"
		return
	fi
	for f in "$@"; do
		name=$(basename "$f" .in)
		sed -e "s|@BINDIR@|$bin|g" -e "s|@DATADIR@|$tmp/share|g" \
		    -e "s|@SYSCONFDIR@|/etc|g" "$f" >"$units/$name"
		if grep -n '^[^#]*@[A-Z_]*@' "$units/$name" >"$tmp/out"; then
			not_ok "$name: placeholders the install does not fill"
			show "$tmp/out"
		fi
	done

	if ! command -v systemd-analyze >/dev/null; then
		skip "systemd units: systemd-analyze not installed"
		return
	fi
	for f in "$units"/*; do
		name=$(basename "$f")
		# Offline: loads the files with a test manager, needs neither
		# PID 1 nor D-Bus. Warnings (an unknown or misspelt setting)
		# exit 0, so any line naming the unit counts as a failure.
		if SYSTEMD_LOG_LEVEL=notice SYSTEMD_PAGER='' \
		    systemd-analyze verify --man=no "$f" >"$tmp/out" 2>&1 &&
		    ! grep -q "$name" "$tmp/out"; then
			ok "systemd-analyze verify $name"
		else
			not_ok "systemd-analyze verify $name"
			show "$tmp/out"
		fi
	done

	if ! systemd-analyze security --help 2>/dev/null | grep -q -- --offline
	then
		skip "systemd-analyze security: no --offline in this systemd"
		return
	fi
	for f in "$units"/*.service; do
		name=$(basename "$f")
		# --threshold counts tenths of the 0.0..10.0 exposure.
		if SYSTEMD_PAGER='' systemd-analyze security --offline=yes \
		    --threshold="$(awk -v x="$SECURITY_MAX" \
		    'BEGIN { printf "%d", x * 10 + 0.5 }')" --no-pager "$f" \
		    >"$tmp/out" 2>&1; then
			ok "systemd-analyze security $name:" \
			    "$(sed -n 's/.*exposure level for [^:]*: //p' \
			    "$tmp/out")"
		else
			not_ok "systemd-analyze security $name above" \
			    "$SECURITY_MAX"
			grep '✗' "$tmp/out" | show /dev/stdin
			tail -n 1 "$tmp/out" | show /dev/stdin
		fi
	done
}

# --- sessiond.conf.example -----------------------------------------------

# Every setting of fcgi/config.c's table is in the example, and the example
# with every line uncommented (all the defaults) is a valid config.
test_config_example() {
	local ex=$ROOT/systemd/sessiond.conf.example name missing=""

	while read -r name; do
		grep -qE "^#$name =( |$)" "$ex" || missing="$missing $name"
	done < <(sed -n 's/^[[:space:]]*S(\([a-z_]*\),.*/\1/p' \
	    "$ROOT/fcgi/config.c")
	if [ -z "$missing" ] && grep -q '^#listen = ' "$ex"; then
		ok "sessiond.conf.example lists every setting"
	else
		not_ok "sessiond.conf.example lacks:${missing:- (no settings found)}"
	fi

	if [ ! -x "$BUILD/sessiond" ] || [ ! -x "$BUILD/sessionctl" ]; then
		skip "sessiond -t on sessiond.conf.example: not built"
		return
	fi
	sed -E 's/^#([a-z_]+ =)/\1/' "$ex" >"$tmp/all.conf"
	(umask 077; "$BUILD/sessionctl" -c "$tmp/all.conf" key generate \
	    >"$tmp/keys" 2>"$tmp/out")
	if SESSIOND_KEYS_FILE=$tmp/keys "$BUILD/sessiond" -t \
	    -c "$tmp/all.conf" >>"$tmp/out" 2>&1; then
		ok "sessiond -t accepts every default in sessiond.conf.example"
	else
		not_ok "sessiond -t on sessiond.conf.example"
		show "$tmp/out"
	fi
}

# --- nginx -------------------------------------------------------------

# A TCP port on 127.0.0.1 that nothing answers on, below the ephemeral
# range (32768 up), where outgoing connections would make bind() fail.
free_port() {
	local p i

	for i in 1 2 3 4 5 6 7 8 9 10; do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# The example, pointed at this tree. Every rewrite is checked, so that a
# change to the example cannot make the test pass by testing less.
make_site() {
	local site=$tmp/nginx/site.conf

	sed -e "s|@DATADIR@/nginx|$ROOT/nginx|g" \
	    -e "s|@DATADIR@/www|$ROOT/nginx/www|g" \
	    -e "s|/etc/ssl/certs/sessiond.example.crt|$tmp/nginx/cert.pem|" \
	    -e "s|/etc/ssl/private/sessiond.example.key|$tmp/nginx/key.pem|" \
	    -e "s|unix:/run/sessiond/sessiond.sock|unix:$tmp/sessiond.sock|" \
	    -e "s|unix:/run/sessiond/login.sock|unix:$tmp/login.sock|" \
	    -e "s|^\([[:space:]]*listen[[:space:]]*\)80;|\1127.0.0.1:$HTTP_PORT;|" \
	    -e "s|^\([[:space:]]*listen[[:space:]]*\)443 |\1127.0.0.1:$HTTPS_PORT |" \
	    -e '/^[[:space:]]*listen[[:space:]]*\[::\]/d' \
	    "$ROOT/nginx/sessiond.conf.example" >"$site"
	if grep -nE '^[^#]*(@[A-Z_]+@|/etc/ssl|/run/sessiond)' "$site" \
	    >"$tmp/out" ||
	    grep -nE '^[^#]*listen[[:space:]]+(80|443)\b' "$site" >>"$tmp/out"
	then
		not_ok "sessiond.conf.example: paths the test cannot rewrite"
		show "$tmp/out"
		return 1
	fi
	if [ "$(grep -c "listen.*127\.0\.0\.1:" "$site")" -ne 2 ]; then
		not_ok "sessiond.conf.example: expected one listen on 80 and" \
		    "one on 443"
		return 1
	fi
	return 0
}

make_nginx_conf() {
	local d=$tmp/nginx

	{
		# As root the workers would run as nobody, who may not read
		# this tree; as anyone else the directive only warns.
		[ "$(id -u)" -eq 0 ] && echo "user root;"
		cat <<EOF
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events {
	worker_connections 64;
}
http {
	include mime.types;
	default_type application/octet-stream;
	access_log $d/access.log;
	client_body_temp_path $d/tmp/body;
	fastcgi_temp_path $d/tmp/fastcgi;
	proxy_temp_path $d/tmp/proxy;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	include $d/site.conf;
}
EOF
	} >"$d/nginx.conf"
}

test_nginx() {
	local d=$tmp/nginx f

	if ! command -v nginx >/dev/null; then
		skip "nginx -t: nginx not installed"
		return
	fi
	mkdir -p "$d/tmp"
	# "include fastcgi_params" in the snippets is relative to the
	# directory of the -c file.
	for f in fastcgi_params mime.types; do
		if [ ! -r "/etc/nginx/$f" ]; then
			not_ok "nginx: /etc/nginx/$f missing"
			return
		fi
		cp "/etc/nginx/$f" "$d/"
	done
	if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 1 -subj /CN=sessiond.example.com \
	    -keyout "$d/key.pem" -out "$d/cert.pem" >"$tmp/out" 2>&1; then
		not_ok "openssl: self-signed certificate"
		show "$tmp/out"
		return
	fi
	if ! HTTP_PORT=$(free_port) || ! HTTPS_PORT=$(free_port); then
		not_ok "nginx: no free port"
		return
	fi
	make_site || return
	make_nginx_conf

	if nginx -t -q -p "$d/" -c "$d/nginx.conf" >"$tmp/out" 2>&1 &&
	    ! grep -qE '\[(warn|emerg|alert|crit|error)\]' "$tmp/out"; then
		ok "nginx -t sessiond.conf.example"
	else
		not_ok "nginx -t sessiond.conf.example"
		show "$tmp/out"
		return
	fi

	if ! command -v curl >/dev/null; then
		skip "nginx behaviour: curl not installed"
		return
	fi
	test_nginx_running
}

# Status line, headers and body of one request, for the checks below.
fetch() {
	curl -sk -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
	    --max-time 5 "$@" 2>/dev/null
}

has_header() {
	grep -qi "^$1: *$2" "$tmp/headers"
}

test_nginx_running() {
	local d=$tmp/nginx https code i n429 n502 other

	https="https://127.0.0.1:$HTTPS_PORT"
	nginx -p "$d/" -c "$d/nginx.conf" >"$d/stdout" 2>&1 &
	nginx_pid=$!
	for i in $(seq 50); do
		curl -sk -o /dev/null --max-time 1 "$https/" && break
		sleep 0.1
	done
	if ! kill -0 "$nginx_pid" 2>/dev/null; then
		nginx_pid=
		not_ok "nginx starts with sessiond.conf.example"
		show "$d/error.log"
		return
	fi

	code=$(fetch "http://127.0.0.1:$HTTP_PORT/settings/sessions?x=1")
	if [ "$code" = 301 ] && has_header Location \
	    'https://sessiond.example.com/settings/sessions?x=1'; then
		ok "HTTP redirects to the same path on HTTPS"
	else
		not_ok "HTTP redirects to HTTPS (got $code)"
		show "$tmp/headers"
	fi

	code=$(fetch --http2 "$https/")
	if [ "$code" = 302 ] && grep -q '^HTTP/2 ' "$tmp/headers" &&
	    has_header Location '[^ ]*/settings/sessions' &&
	    has_header Strict-Transport-Security 'max-age='; then
		ok "HTTPS speaks HTTP/2, serves the pages, sends HSTS"
	else
		not_ok "HTTP/2, pages and HSTS (got $code)"
		show "$tmp/headers"
	fi

	# No sessiond behind it: nginx's own errors must still be JSON (502
	# or 503: the snippet may or may not rewrite the status).
	code=$(fetch "$https/healthz")
	if { [ "$code" = 502 ] || [ "$code" = 503 ]; } &&
	    has_header Content-Type application/json &&
	    grep -q '"error"' "$tmp/body"; then
		ok "/healthz without sessiond: $code JSON"
	else
		not_ok "/healthz without sessiond: 5xx JSON (got $code)"
		show "$tmp/headers"
	fi

	code=$(fetch "$https/api/auth/sessions/")
	if [ "$code" = 502 ] &&
	    has_header Content-Type application/json &&
	    has_header Cache-Control no-store &&
	    grep -q '"code"' "$tmp/body"; then
		ok "/api/ without sessiond: 502 JSON"
	else
		not_ok "/api/ without sessiond: 502 JSON (got $code)"
		show "$tmp/headers"
	fi

	# A body over client_max_body_size, over HTTP/2 and HTTP/1.1: nginx
	# refuses it itself, and its 413 must be the JSON one. Over HTTP/2
	# the refusal can come before a location is chosen, where only
	# server-level error_page lines apply.
	head -c 20480 /dev/zero | tr '\0' a >"$tmp/big"
	for f in --http2 --http1.1; do
		for i in 1 2 3 4 5; do
			code=$(fetch "$f" -X POST \
			    -H 'Content-Type: application/json' \
			    --data-binary @"$tmp/big" "$https/api/auth/login/")
			[ "$code" = 413 ] &&
			    has_header Content-Type application/json &&
			    grep -q '"payload_too_large"' "$tmp/body" || break
		done
		if [ "$i" = 5 ] && [ "$code" = 413 ] &&
		    grep -q '"payload_too_large"' "$tmp/body"; then
			ok "20 KiB body to /api/auth/login/ ${f#--}: JSON 413"
		else
			not_ok "20 KiB body to /api/auth/login/ ${f#--}:" \
			    "JSON 413 (got $code, try $i)"
			show "$tmp/headers"
			head -c 300 "$tmp/body" | show /dev/stdin
		fi
	done

	# 1r/s with a burst of 20: 30 quick attempts, with and without the
	# trailing slash (one bucket), must see 429s.
	n429=0
	other=
	for i in $(seq 30); do
		if [ $((i % 2)) -eq 0 ]; then f=/api/auth/login/; else
			f=/api/auth/login; fi
		code=$(fetch -X POST -H 'Content-Type: application/json' \
		    --data '{"username":"u","password":"p"}' "$https$f")
		case $code in
		429)	n429=$((n429 + 1))
			cp "$tmp/headers" "$tmp/h429"
			cp "$tmp/body" "$tmp/b429" ;;
		502)	;;
		*)	other="$other $code" ;;
		esac
	done
	if [ "$n429" -gt 0 ] && [ -z "$other" ] &&
	    grep -qi '^Retry-After: *[0-9]' "$tmp/h429" &&
	    grep -qi '^Content-Type: *application/json' "$tmp/h429" &&
	    grep -q '"too_many_requests"' "$tmp/b429"; then
		ok "login flood: $n429 of 30 get JSON 429 with Retry-After"
	else
		not_ok "login flood: JSON 429 with Retry-After" \
		    "(429s: $n429, unexpected:${other:- none})"
		[ -f "$tmp/h429" ] && show "$tmp/h429"
	fi

	n502=0
	for i in $(seq 30); do
		code=$(fetch "$https/api/auth/sessions/")
		[ "$code" = 502 ] && n502=$((n502 + 1))
	done
	if [ "$n502" -eq 30 ]; then
		ok "the login limit leaves other API paths alone"
	else
		not_ok "other API paths throttled ($n502 of 30 reached" \
		    "the upstream)"
	fi
}

test_units
test_config_example
test_nginx

tap_end
