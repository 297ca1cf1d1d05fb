#!/bin/bash
# make deploy-test: the Debian package on a Debian 12 booted under systemd.
#
# Takes the newest build/deb/sessiond_*.deb (make deploy-test builds it
# first), a minimal Debian 12 root from scripts/debian-root (cached in
# $SESSIOND_CACHE, default /var/cache/sessiond, with systemd, PostgreSQL
# and nginx-light already in it), boots it with systemd as PID 1
# (systemd-nspawn -b, the host's network), and inside follows
# docs/deploy.md sections 1 and 3 to 10 as written: their ```sh blocks,
# in order. Then tests/deploy/inside.sh checks the result, reboots the
# container, checks again, purges the package. Prints TAP.
#
#   tests/deploy/run.sh        (root)
#
# Environment: DEPLOY_DIR (default /var/tmp/sessiond-deploy) holds the
# container's root, its console log and the TAP output (tap.txt).
# While it runs, the container's nginx and PostgreSQL listen on the
# host's ports 80, 443 and 5432 (127.0.0.1): nothing else may use them.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
[ "$(id -u)" -eq 0 ] || { echo "deploy-test: run as root" >&2; exit 1; }
WORK=${DEPLOY_DIR:-/var/tmp/sessiond-deploy}
CACHE=${SESSIOND_CACHE:-/var/cache/sessiond}
MACHINE=sessiond-deploy
INCLUDE=systemd,systemd-sysv,dbus,postgresql,nginx-light,curl,openssl
INCLUDE=$INCLUDE,ca-certificates,procps,libfcgi0ldbl,libjson-c5,libpq5
nspawn=
leader=

deb=$(ls -t build/deb/sessiond_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "deploy-test: no build/deb/sessiond_*.deb (make deb)" >&2; exit 1; }
for p in 80 443 5432; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		echo "deploy-test: port $p is in use on this host" >&2
		exit 1
	fi
done

cleanup() {
	if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
		[ -n "$leader" ] && nsenter -t "$leader" -a systemctl poweroff \
		    >/dev/null 2>&1
		for _ in $(seq 60); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.5; done
		kill "$nspawn" 2>/dev/null
		wait "$nspawn" 2>/dev/null
	fi
}
trap 'exit 130' INT TERM

t0=$(date +%s)
mkdir -p "$WORK"
echo "# deploy-test: Debian 12 root in $WORK/root (cache $CACHE)"
scripts/debian-root "$WORK/root" "$INCLUDE" || exit 1
mkdir -p "$WORK/root/root/deploy"
cp "$deb" tests/deploy/inside.sh tests/tap.sh "$WORK/root/root/deploy/"
# docs/deploy.md, sections 1 and 3 to 10: their ```sh blocks, in order.
awk '
/^## [0-9]+\./ { n = $2 + 0; run = (n == 1 || (n >= 3 && n <= 10)) }
/^```sh$/ { if (run) { inblock = 1; print "# --- section " n; next } }
/^```$/ { if (inblock) { inblock = 0; print ""; next } }
inblock { print }
' docs/deploy.md >"$WORK/root/root/deploy/steps.sh"
: >"$WORK/console.log"

boot() {
	SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn -q -b -D "$WORK/root" \
	    --machine="$MACHINE" --register=no --keep-unit --console=passive \
	    --resolv-conf=copy-host --timezone=off \
	    --bind="$CACHE/apt-archives:/var/cache/apt/archives" \
	    >>"$WORK/console.log" 2>&1 &
	nspawn=$!
	leader=
	for _ in $(seq 100); do
		leader=$(ps -o pid= --ppid "$nspawn" | head -n 1 | tr -d ' ')
		[ -n "$leader" ] && break
		sleep 0.2
	done
	[ -n "$leader" ] || return 1
	local state
	for _ in $(seq 120); do
		state=$(inside systemctl is-system-running 2>/dev/null)
		case $state in running|degraded) return 0 ;; esac
		sleep 0.5
	done
	echo "# boot: system is $state"
	return 1
}

inside() {
	nsenter -t "$leader" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root TERM=dumb "$@"
}

# The container asks for a reboot (exit 133, as systemd-nspawn@.service
# reads it); boot the same root again.
reboot_container() {
	inside systemctl reboot
	wait "$nspawn"
	local rc=$?
	nspawn=
	echo "# reboot: systemd-nspawn exited $rc"
	[ "$rc" -eq 133 ] && boot
}

# The checks run in a subshell (the pipeline below): it powers the
# container off itself when it ends, however it ends.
{
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	if boot; then
		echo "ok - Debian 12 boots with systemd as PID 1"
		inside /root/deploy/inside.sh install
		if reboot_container; then
			echo "ok - the container reboots"
			inside /root/deploy/inside.sh rebooted
		else
			echo "not ok - the container reboots"
		fi
		inside /root/deploy/inside.sh purge
	else
		echo "not ok - Debian 12 boots with systemd as PID 1"
		tail -n 30 "$WORK/console.log" | sed 's/^/#   /'
	fi
} | tr -d '\r' | awk '
/^(ok|not ok) / { n++; sub(/^ok /, "ok " n " "); sub(/^not ok /, "not ok " n " ");
	if ($0 ~ /^not ok/) f++ }
{ print; fflush() }
END { print "1.." n; printf "deploy-test: %d passed, %d failed\n", n - f, f
	exit f > 0 }' | tee "$WORK/tap.txt"
rc=$?
echo "# deploy-test: $(( $(date +%s) - t0 )) s; TAP in $WORK/tap.txt, console in $WORK/console.log"
exit $rc
