#!/bin/bash
# test_privileges.sh: the local stack gives its unprivileged users no way
# to root. Replays, as each of them (PostgreSQL's sessiond-dev, sessiond's
# sessiond-app, nginx's www-data), the three ways that once worked:
#   1. append a command to .run/env, which root sources;
#   2. swap .run/keys for a symbolic link to a root file, which the next
#      start chowned;
#   3. write another pid into .run/nginx.pid, which make stop killed;
# and checks the rules that close them: root's state in root's folder, pid
# files checked against the executable, nginx workers not the database's
# owner, no "trust" login to PostgreSQL.
#
# Needs the stack's environment (scripts/test) and root; as another user
# there is nothing to escalate from, and the test says so.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/faults/lib.sh
. "$ROOT/tests/integration/faults/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	ok "privileges: the stack runs as $(id -un), nothing to escalate # SKIP"
	exit 0
fi
: "${STACK_DIR:?}" "${PGHOST:?}"

USERS="sessiond-dev sessiond-app www-data"
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"; }

# 1. The env file.
canary=$tmp/ran-as-root
for u in $USERS; do
	as "$u" sh -c "printf 'touch $canary\n' >> '$STACK_DIR/env'" 2>/dev/null
	as "$u" sh -c "printf 'touch $canary\n' > '$STACK_DIR/env.x' &&
	    mv -f '$STACK_DIR/env.x' '$STACK_DIR/env'" 2>/dev/null
done
(. "$STACK_DIR/env" >/dev/null 2>&1)
if [ ! -e "$canary" ] && [ "$(stat -c %U "$STACK_DIR/env")" = root ]; then
	ok "env: none of $USERS can change .run/env; sourcing it as root ran nothing of theirs"
else
	not_ok "env: a command planted by another user ran as root ($(stat -c '%U %a' "$STACK_DIR/env"))"
fi

# 2. The keys file, and every file root reads or writes in the stack folder.
target=$tmp/root-file
echo secret > "$target"
chmod 600 "$target"
for u in $USERS; do
	as "$u" sh -c "rm -f '$STACK_DIR/keys'; ln -sf '$target' '$STACK_DIR/keys'" 2>/dev/null
	as "$u" sh -c "ln -sf '$target' '$STACK_DIR/sessiond.log.new'" 2>/dev/null
done
"$ROOT/scripts/stack" start >/dev/null 2>&1
if [ ! -L "$STACK_DIR/keys" ] && [ "$(stat -c %U:%a "$target")" = root:600 ] &&
    [ ! -e "$STACK_DIR/sessiond.log.new" ]; then
	ok "keys: no other user can swap .run/keys; a second start changed no root file"
else
	not_ok "keys: .run/keys $(stat -c '%U %F' "$STACK_DIR/keys"), root file $(stat -c %U:%a "$target")"
fi
bad=""
while read -r owner path; do
	case ${path##*/} in pg|pgsock|sock|app-pgpass) continue ;; esac
	[ "$owner" = root ] || bad="$bad $path($owner)"
done < <(stat -c '%U %n' "$STACK_DIR" "$STACK_DIR"/*)
writable=$(find "$STACK_DIR" -maxdepth 1 -perm /022 ! -type l ! -name sock | tr '\n' ' ')
if [ -z "$bad" ] && [ -z "$writable" ]; then
	ok "stack folder: root owns it and all it reads, and only it can write them"
else
	not_ok "stack folder: not root's:$bad; writable by others: $writable"
fi

# 3. The pid files: no other user writes them, and a wrong pid is not
# signalled.
for u in $USERS; do
	as "$u" sh -c "echo 1 > '$STACK_DIR/nginx.pid'" 2>/dev/null
done
ngx=$(cat "$STACK_DIR/nginx.pid")
if [ "$(readlink "/proc/$ngx/exe")" = "$(readlink -f "$(command -v nginx)")" ]; then
	ok "nginx.pid: no other user could write it (still nginx's master, $ngx)"
else
	not_ok "nginx.pid now names $ngx ($(readlink "/proc/$ngx/exe"))"
fi
decoy_dir=$tmp/stack
mkdir -p "$decoy_dir"
sleep 300 &
decoy=$!
echo "$decoy" > "$decoy_dir/nginx.pid"
echo "$decoy" > "$decoy_dir/sessiond.pid"
STACK_DIR=$decoy_dir HTTP_PORT=1 "$ROOT/scripts/stack" stop >/dev/null 2>&1
if kill -0 "$decoy" 2>/dev/null; then
	ok "make stop signals only a pid whose executable is nginx or sessiond"
else
	not_ok "make stop killed an unrelated process named in a pid file"
fi
kill "$decoy" 2>/dev/null

# Who runs what.
pgdata_owner=$(stat -c %U "$STACK_DIR/pg")
master=$(cat "$STACK_DIR/nginx.pid")
workers=$(ps -o user= --ppid "$master" | sort -u | tr '\n' ' ')
sd_user=$(ps -o user= -p "$(cat "$STACK_DIR/sessiond.pid")")
if [ -n "$workers" ] && ! grep -qw "$pgdata_owner" <<<"$workers" &&
    [ "$sd_user" != "$pgdata_owner" ] && [ "$sd_user" != root ]; then
	ok "nginx workers ($workers) and sessiond ($sd_user) are not the database's owner ($pgdata_owner)"
else
	not_ok "nginx workers: $workers, sessiond: $sd_user, database owner: $pgdata_owner"
fi
if ! as www-data cat "$STACK_DIR/keys" >/dev/null 2>&1 &&
    as sessiond-app cat "$STACK_DIR/keys" >/dev/null 2>&1; then
	ok "keys: sessiond reads them, nginx's workers cannot"
else
	not_ok "keys: readable by www-data, or not by sessiond-app"
fi

# No trust: without the password, no one but the admin gets in.
bad=""
for u in sessiond-app www-data; do
	for role in postgres sessiond; do
		as "$u" env -u PGPASSFILE PGPASSFILE=/nonexistent psql -X -w \
		    -h "$PGHOST" -p "$PGPORT" -U "$role" -d sessiond \
		    -c 'SELECT 1' >/dev/null 2>&1 && bad="$bad $u->$role"
	done
done
as sessiond-dev env PGPASSFILE=/nonexistent psql -X -w -h "$PGHOST" \
    -p "$PGPORT" -U sessiond -d sessiond -c 'SELECT 1' >/dev/null 2>&1 &&
    bad="$bad sessiond-dev->sessiond"
if [ -z "$bad" ] && psql -X -w -tAc 'SELECT 1' >/dev/null 2>&1; then
	ok "PostgreSQL: no login without the password (the admin's works)"
else
	not_ok "PostgreSQL logins without a password:$bad"
fi

# make stop takes back what make run gave outside the checkout: a copy of
# the checkout in a folder only root may enter, started and stopped.
hidden=$tmp/hidden
mkdir -m 700 "$hidden"
mkdir -p "$hidden/co/build/bin"
cp -r "$ROOT/scripts" "$ROOT/sql" "$ROOT/nginx" "$hidden/co/"
cp "$BUILD/sessiond" "$BUILD/sessionctl" "$hidden/co/build/bin/"
acl_of() { getfacl -cp "$1" 2>/dev/null | grep -cE '^(user|group):[^:]+:|^mask'; }
if STACK_DIR=$hidden/co/.run HTTP_PORT=$((HTTP_PORT + 7)) BUILD=$hidden/co/build/bin \
    "$hidden/co/scripts/stack" start >"$tmp/hidden.log" 2>&1; then
	during=$(acl_of "$hidden")
	STACK_DIR=$hidden/co/.run BUILD=$hidden/co/build/bin \
	    "$hidden/co/scripts/stack" stop >>"$tmp/hidden.log" 2>&1
	after=$(acl_of "$hidden")
	if [ "$during" -gt 0 ] && [ "$after" -eq 0 ] &&
	    [ "$(stat -c %a "$hidden")" = 700 ]; then
		ok "make stop took back the $during ACL entries make run put on a folder above the checkout"
	else
		not_ok "ACL entries above the checkout: $during while running, $after after make stop"
	fi
else
	not_ok "a stack in a checkout under a root-only folder did not start: $(tail -n 3 "$tmp/hidden.log")"
	STACK_DIR=$hidden/co/.run BUILD=$hidden/co/build/bin \
	    "$hidden/co/scripts/stack" stop >/dev/null 2>&1
fi

tap_end
