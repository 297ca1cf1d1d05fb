#!/usr/bin/env bash
#
# test_key_rotation.sh: cookie keys rotate without logging anyone out.
#
# A cookie signed under the current key keeps working once a new key is
# put first in the keys file and sessiond reloaded (SIGHUP); new logins
# are signed with the new key; once the old key is removed (and reloaded)
# the old cookie gets 401 while the new one still works. The original keys
# file is put back at the end, whatever happens.
#
# Needs the stack's environment (scripts/test): SESSIOND_URL, STACK_DIR,
# SESSIONCTL, SESSIOND_RELOAD_CMD, PG*.

# Functions reached through the EXIT trap are not unreachable.
# shellcheck disable=SC2317

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=faults/lib.sh disable=SC1091
. "$HERE/faults/lib.sh"

KEYS=$(keys_path)
tmp=$(mktemp -d)
chmod 700 "$tmp"
saved=0
old_cookie=

restore() {
	local ms st
	if [ "$saved" = 1 ] && ! cmp -s "$tmp/keys.orig" "$KEYS"; then
		if write_keys "$KEYS" < "$tmp/keys.orig" &&
		    ms=$(reload_wait 30); then
			st=000
			[ -n "$old_cookie" ] &&
			    st=$(get_status "$old_cookie" \
			    /api/users/me/current-session/)
			if [ "$st" = 200 ]; then
				ok "original keys file restored (workers" \
				    "replaced in ${ms} ms; first cookie works" \
				    "again)"
			else
				not_ok "original keys restored, but the first" \
				    "cookie gets $st"
			fi
		else
			not_ok "could not restore the original keys file $KEYS"
		fi
	fi
	rm -rf "$tmp"
	[ "$failed" -eq 0 ]
}
# The plan last: the restore reports too.
trap 'restore; tap_end; exit' EXIT
trap 'exit 1' INT TERM

if [ ! -f "$KEYS" ]; then
	not_ok "keys file $KEYS not found"
	exit 1
fi
cp -p "$KEYS" "$tmp/keys.orig"
saved=1
mode=$(stat -c %a "$KEYS")
owner=$(stat -c %U:%G "$KEYS")
old_kid=$(sed -n 's/^\([A-Za-z0-9_-]\{1,16\}\):.*/\1/p' "$KEYS" | head -n 1)

make_user rot
old_cookie=$(login "$USER_NAME" "$USER_PASSWORD")
if [ -z "$old_cookie" ] || [ "$(cookie_kid "$old_cookie")" != "$old_kid" ]; then
	not_ok "login under the current key ($old_kid): cookie" \
	    "\"$(cookie_kid "$old_cookie")\""
	exit 1
fi
ok "login under the current key $old_kid"

# The new key first, the old ones after it.
new_kid="rot$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
if ! "$SESSIONCTL" key generate "$new_kid" > "$tmp/newkey" ||
    ! grep -q "^$new_kid:" "$tmp/newkey"; then
	not_ok "sessionctl key generate $new_kid"
	exit 1
fi
{ cat "$tmp/newkey"; cat "$tmp/keys.orig"; } | write_keys "$KEYS"
if [ "$(stat -c %a "$KEYS")" = "$mode" ] && [ $((8#$mode & 8#037)) -eq 0 ] &&
    [ "$(stat -c %U:%G "$KEYS")" = "$owner" ]; then
	ok "keys file rewritten with $new_kid first (mode $mode, owner" \
	    "$owner, as before)"
else
	not_ok "keys file mode $(stat -c %a "$KEYS") owner" \
	    "$(stat -c %U:%G "$KEYS"), want $mode (no write but the owner's, no read by others) $owner as before"
fi

if ms=$(reload_wait 30); then
	ok "SIGHUP replaced every worker in ${ms} ms"
else
	not_ok "workers not replaced within 30 s of SIGHUP"
fi
# A new login carries the new kid once the new workers answer.
t0=$(now_ms)
new_cookie=
tries=0
while [ $(($(now_ms) - t0)) -lt 20000 ]; do
	tries=$((tries + 1))
	new_cookie=$(login "$USER_NAME" "$USER_PASSWORD")
	[ "$(cookie_kid "$new_cookie")" = "$new_kid" ] && break
	sleep 0.2
done
if [ "$(cookie_kid "$new_cookie")" = "$new_kid" ]; then
	ok "a new login is signed with $new_kid (login $tries after the" \
	    "reload)"
else
	not_ok "new logins still signed with" \
	    "\"$(cookie_kid "$new_cookie")\", want $new_kid"
fi
# Every worker: several requests each, all must pass.
bad=0
for i in 1 2 3 4 5 6; do
	st=$(get_status "$old_cookie" /api/users/me/current-session/)
	[ "$st" = 200 ] || bad=$((bad + 1))
	st=$(get_status "$new_cookie" /api/users/me/current-session/)
	[ "$st" = 200 ] || bad=$((bad + 1))
	: "$i"
done
if [ "$bad" = 0 ]; then
	ok "old ($old_kid) and new ($new_kid) cookies both answer 200 with" \
	    "both keys loaded"
else
	not_ok "$bad of 12 requests with the old or new cookie failed with" \
	    "both keys loaded"
fi

# The old key removed: only the new one is left.
write_keys "$KEYS" < "$tmp/newkey"
if ms=$(reload_wait 30); then
	ok "old key removed; workers replaced in ${ms} ms"
else
	not_ok "workers not replaced within 30 s of SIGHUP"
fi
st_old=$(get_status "$old_cookie" /api/users/me/current-session/)
body=$(curl -s --max-time 10 -H "Cookie: sid=$old_cookie" \
    "$SESSIOND_URL/api/users/me/current-session/")
st_new=$(get_status "$new_cookie" /api/users/me/current-session/)
if [ "$st_old" = 401 ] && printf '%s' "$body" | grep -q '"not_authenticated"'
then
	ok "the old cookie gets 401 not_authenticated once $old_kid is gone"
else
	not_ok "old cookie after its key was removed: $st_old $body"
fi
if [ "$st_new" = 200 ]; then
	ok "the new cookie still works (200)"
else
	not_ok "the new cookie after the old key was removed: $st_new"
fi
