#!/bin/bash
# The checks of make deploy-test, run inside the booted Debian 12
# container by tests/deploy/run.sh (as root, with systemd as PID 1):
#
#   inside.sh install    docs/deploy.md sections 1 and 3-10 as written
#                        (steps.sh, extracted by run.sh), then the checks
#   inside.sh rebooted   the same site after a reboot of the container
#   inside.sh purge      apt purge, and what it leaves behind
#
# Prints TAP lines (tests/tap.sh, copied beside it; run.sh numbers them and
# writes the plan) and "# ..." diagnostics.
set -u
cd /root/deploy || exit 1
export LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive

SITE=sessiond.example.com
PASSWORD=deploy-test-password-$$
CURL=(curl -s --max-time 10 --resolve "$SITE:443:127.0.0.1"
    --resolve "$SITE:80:127.0.0.1"
    --cacert /etc/ssl/certs/sessiond.example.crt)
JSON=(-H 'Content-Type: application/json' -H "Origin: https://$SITE")

# shellcheck source=tests/tap.sh
. /root/deploy/tap.sh
diag() { sed 's/^/#   /'; }
check() {		# check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# nice_of NAME: the nice values of the processes named NAME, once each
# (/proc/PID/stat field 19; minbase has no ps).
nice_of() {
	cat /proc/[0-9]*/stat 2>/dev/null | sed -n "s/^[0-9]* ($1) //p" |
	    awk '{ print $17 }' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# wait_for SECONDS COMMAND...: until it succeeds.
wait_for() {
	local n=$1 i
	shift
	for ((i = 0; i < n * 4; i++)); do
		"$@" && return 0
		sleep 0.25
	done
	return 1
}

status_text() { systemctl show -p StatusText --value sessiond; }
status_is() { status_text | grep -q -- "$1"; }

# login JAR: logs alice in over HTTP/2; prints "HTTPVERSION CODE", keeps
# the answer in JAR.body.
login() {
	"${CURL[@]}" --http2 -c "$1" -o "$1.body" -w '%{http_version} %{http_code}' \
	    "${JSON[@]}" --data "{\"username\":\"alice\",\"password\":\"$PASSWORD\"}" \
	    "https://$SITE/api/auth/login/"
}
session_id() { grep -o '"id": *"[0-9a-f-]\{36\}"' "$1.body" | head -n 1 |
    grep -o '[0-9a-f-]\{36\}'; }
csrf() { grep -o '"csrf_token": *"[^"]*"' "$1.body" | sed 's/.*: *"//; s/"$//'; }

# get JAR PATH: prints the status code, the body in JAR.get.
get() {
	"${CURL[@]}" --http2 -b "$1" -o "$1.get" -w '%{http_code}' \
	    "https://$SITE$2"
}

units_active() {
	local u out
	for u in sessiond.service sessiond-notifier.service \
	    sessiond-purge.timer nginx.service postgresql.service; do
		out=$(systemctl is-active "$u")
		if [ "$out" = active ]; then ok "$u is active"; else
			not_ok "$u is active (it is $out)"
			systemctl status --no-pager -n 20 "$u" 2>&1 | diag
		fi
	done
}

phase_install() {
	# The guide's steps. "editor" is the operator's hand: on this test
	# host the example site fits as it is (the certificate of section 9).
	# The first user's password comes on standard input (section 7).
	# Section 1 (packages) first, on its own: the package must leave its
	# units off until the database is there.
	{
		echo 'set -ex'
		echo 'editor() { :; }'
		awk '/^# --- section / { s = $4 } s == 1' steps.sh
	} >steps-1.sh
	{
		echo 'set -ex'
		echo 'editor() { :; }'
		awk '/^# --- section / { s = $4 } s > 1' steps.sh
	} >steps-3-10.sh
	if bash steps-1.sh </dev/null >steps.log 2>&1; then
		ok "docs/deploy.md section 1 (packages) runs as written"
	else
		not_ok "docs/deploy.md section 1 (packages) runs as written"
		tail -n 25 steps.log | diag
		return 1
	fi
	check "the package leaves sessiond disabled and stopped" \
	    test "$(systemctl is-enabled sessiond.service sessiond-notifier.service \
	    sessiond-purge.timer | sort -u) $(systemctl is-active sessiond)" = \
	    "disabled inactive"
	if printf '%s\n' "$PASSWORD" | bash steps-3-10.sh >>steps.log 2>&1; then
		ok "docs/deploy.md sections 3-10 run as written"
	else
		not_ok "docs/deploy.md sections 3-10 run as written"
		tail -n 25 steps.log | diag
		return 1
	fi
	check "package installed: sessiond $(dpkg-query -W -f='${Version}' sessiond)" \
	    bash -c 'dpkg-query -W sessiond >/dev/null'
	check "keys file made by the package: sessiond:root 0600" \
	    test "$(stat -c '%U:%G %a' /etc/sessiond/keys)" = "sessiond:root 600"
	check "www-data is in group sessiond (sysusers.d)" \
	    bash -c 'id -nG www-data | grep -qw sessiond'
	check "/etc/sessiond/sessiond.conf is a conffile" \
	    bash -c 'dpkg-query -W -f="\${Conffiles}" sessiond |
	    grep -q /etc/sessiond/sessiond.conf'

	units_active
	wait_for 15 status_is 'database reachable'
	check "systemctl status shows STATUS=: \"$(status_text)\"" \
	    status_is 'workers running; database reachable'
	# login_nice under the unit's system call filter: the login workers
	# run 10 steps nicer than the main pool, and said nothing about it.
	check "login workers run nice 10, the main pool 0 (login_nice)" \
	    test "$(nice_of sessiond-login)/$(nice_of sessiond-worker)" = "10/0"
	check "no 'nice failed' in the journal" \
	    bash -c '! journalctl -u sessiond --no-pager | grep -q "nice failed"'

	# Reinstalling (as an upgrade does) keeps the keys, the edited
	# conffile and the running service.
	local keys_before conf_before
	keys_before=$(sha256sum </etc/sessiond/keys)
	conf_before=$(sha256sum </etc/sessiond/sessiond.conf)
	check "apt reinstall of the package" bash -c \
	    'apt-get install -y -q --reinstall ./sessiond_*.deb >reinstall.log 2>&1'
	check "reinstall keeps the keys" \
	    test "$(sha256sum </etc/sessiond/keys)" = "$keys_before"
	check "reinstall keeps the edited sessiond.conf" \
	    test "$(sha256sum </etc/sessiond/sessiond.conf)" = "$conf_before"
	check "reinstall leaves sessiond running" \
	    test "$(systemctl is-active sessiond)" = active

	# Login, list and revoke over HTTPS with HTTP/2: two sessions, the
	# first revokes the second.
	local r1 r2 id1 id2 code
	r1=$(login a)
	r2=$(login b)
	id1=$(session_id a)
	id2=$(session_id b)
	check "login over HTTP/2: $r1, $r2" test "$r1 $r2" = "2 200 2 200"
	code=$(get a /api/auth/sessions/)
	check "list over HTTP/2 shows both sessions ($code)" \
	    bash -c "[ $code = 200 ] && grep -q '$id1' a.get && grep -q '$id2' a.get"
	code=$("${CURL[@]}" --http2 -b a -o /dev/null -w '%{http_code}' \
	    -X DELETE -H "X-CSRF-Token: $(csrf a)" -H "Origin: https://$SITE" \
	    "https://$SITE/api/auth/sessions/$id2/")
	check "revoke the other session over HTTP/2: 204 (got $code)" \
	    test "$code" = 204
	code=$(get b /api/auth/sessions/)
	check "the revoked session is refused: 401 (got $code)" test "$code" = 401
	check "sessionctl sessions list alice (owner role) shows the session" \
	    bash -c "PGPASSFILE=/etc/sessiond/pgpass-admin sessionctl sessions list alice | grep -q '$id1'"

	# nginx's own 413 over HTTP/2 is JSON.
	head -c 20480 /dev/zero | tr '\0' a >big
	code=$("${CURL[@]}" --http2 -o big.out -D big.h -w '%{http_version} %{http_code}' \
	    "${JSON[@]}" --data-binary @big "https://$SITE/api/auth/login/")
	if [ "$code" = "2 413" ] && grep -qi '^content-type: application/json' big.h &&
	    grep -q '"payload_too_large"' big.out; then
		ok "20 KiB body over HTTP/2: JSON 413"
	else
		not_ok "20 KiB body over HTTP/2: JSON 413 (got $code)"
		cat big.h big.out | diag
	fi

	# The notifier's journal: one line for the login, one for the revoke.
	wait_for 10 bash -c "journalctl -u sessiond-notifier -o cat |
	    grep -q 'event=session.revoked.*$id2'"
	check "notifier logged the login (session.created)" \
	    bash -c "journalctl -u sessiond-notifier -o cat |
	    grep -q 'event=session.created.*session_id=$id1'"
	check "notifier logged the revoke (session.revoked reason=user)" \
	    bash -c "journalctl -u sessiond-notifier -o cat |
	    grep -q 'event=session.revoked reason=user.*session_id=$id2'"

	# Reload under load: two clients keep asking while sessiond reloads
	# twice; not one request may fail.
	local i fails total
	for i in 1 2; do
		(for ((k = 0; k < 150; k++)); do
			"${CURL[@]}" --http2 -b a -o /dev/null -w '%{http_code}\n' \
			    "https://$SITE/api/auth/sessions/"
		done >load.$i) &
	done
	sleep 1
	systemctl reload sessiond && sleep 1 && systemctl reload sessiond
	local rc=$?
	wait
	total=$(cat load.1 load.2 | wc -l)
	fails=$(cat load.1 load.2 | grep -vc '^200$')
	check "reload under load: $total requests, $fails failed (reload exit $rc)" \
	    test "$rc" -eq 0 -a "$total" -eq 300 -a "$fails" -eq 0

	# The purge job, as its timer starts it.
	check "sessiond-purge.timer triggers sessiond-purge.service" \
	    bash -c "systemctl show -p Triggers --value sessiond-purge.timer |
	    grep -qw sessiond-purge.service"
	systemctl start sessiond-purge.service
	check "sessiond-purge.service runs to success (owner role)" \
	    test "$(systemctl show -p Result --value sessiond-purge.service)" = success
	journalctl -u sessiond-purge -o cat -n 3 | diag

	# The service's role in the database: audit_log is append-only.
	check "runtime role may not delete audit rows" bash -c \
	    "PGPASSFILE=/etc/sessiond/pgpass psql -X -q -h 127.0.0.1 -U sessiond \
	    -d sessiond -c 'DELETE FROM audit_log' 2>&1 |
	    grep -q 'permission denied'"
	check "runtime role may not disable the NOTIFY trigger" bash -c \
	    "PGPASSFILE=/etc/sessiond/pgpass psql -X -q -h 127.0.0.1 -U sessiond \
	    -d sessiond -c 'ALTER TABLE audit_log DISABLE TRIGGER audit_log_notify' \
	    2>&1 | grep -q 'must be owner'"

	# The status line when the database refuses the password, and back.
	local pw
	pw=$(cut -d: -f5- /etc/sessiond/pgpass)
	echo "ALTER ROLE sessiond PASSWORD 'not-the-one';" |
	    runuser -u postgres -- psql -q -d postgres 2>/dev/null
	wait_for 20 status_is 'password authentication failed'
	check "refused password shows in the status line: \"$(status_text)\"" \
	    status_is 'database unreachable: .*password authentication failed'
	check "unit stays active meanwhile" test "$(systemctl is-active sessiond)" = active
	printf '\\set pw %s\nALTER ROLE sessiond PASSWORD :'"'"'pw'"'"';\n' "$pw" |
	    runuser -u postgres -- psql -q -d postgres 2>/dev/null
	wait_for 20 status_is 'database reachable'
	check "status line recovers with the password: \"$(status_text)\"" \
	    status_is 'database reachable'

	# systemctl restart keeps the sessions.
	systemctl restart sessiond
	check "systemctl restart sessiond: active" \
	    test "$(systemctl is-active sessiond)" = active
	code=$(get a /api/auth/sessions/)
	check "the session survives the restart ($code)" test "$code" = 200

	# The sandbox, as systemd 252 rates it on a booted system.
	local u score
	for u in sessiond.service sessiond-notifier.service sessiond-purge.service; do
		score=$(systemd-analyze security --no-pager "$u" 2>/dev/null |
		    sed -n 's/.*exposure level for [^:]*: //p')
		check "systemd-analyze security $u: $score" \
		    test -n "$score"
	done
}

phase_rebooted() {
	units_active
	wait_for 15 status_is 'database reachable'
	check "after the reboot: status \"$(status_text)\"" \
	    status_is 'workers running; database reachable'
	local code
	code=$("${CURL[@]}" -o h.out -w '%{http_code}' "https://$SITE/healthz")
	check "after the reboot: /healthz over HTTPS 200 ($code)" test "$code" = 200
	code=$(get a /api/auth/sessions/)
	check "after the reboot: the session is still valid ($code)" \
	    test "$code" = 200
}

phase_purge() {
	if apt-get purge -y -q sessiond >purge.log 2>&1; then
		ok "apt purge sessiond"
	else
		not_ok "apt purge sessiond"
		tail -n 20 purge.log | diag
	fi
	check "the package is gone" bash -c '! dpkg-query -W -f="\${Status}" sessiond 2>/dev/null | grep -q installed'
	# What may stay: the operator's own files (passfiles, nginx site,
	# certificate), the database, and the system user (Debian policy
	# keeps system users).
	local left
	left=$(find / -xdev \( -path /proc -o -path /sys -o -path /root/deploy \
	    -o -path /var/log/journal -o -path /var/lib/postgresql \
	    -o -path /var/cache/apt \) -prune -o -name '*sessiond*' -print 2>/dev/null |
	    grep -v -E '^/etc/sessiond(/pgpass|/pgpass-admin)?$|^/etc/nginx/sites-(available|enabled)/sessiond$|^/etc/ssl/(certs|private)/sessiond\.example\.(crt|key)$' |
	    sort)
	if [ -z "$left" ]; then
		ok "apt purge leaves only the operator's files"
	else
		not_ok "apt purge leaves only the operator's files"
		printf '%s\n' "$left" | diag
	fi
	check "the system user sessiond stays (Debian policy)" \
	    bash -c 'id sessiond >/dev/null'
}

case ${1:-} in
install)	phase_install ;;
rebooted)	phase_rebooted ;;
purge)		phase_purge ;;
*)		echo "usage: inside.sh install|rebooted|purge" >&2; exit 2 ;;
esac
exit 0
