#!/bin/bash
# The alerting and recording rules: promtool (Debian's prometheus package)
# checks monitoring/sessiond.rules.yml and runs its unit tests; and every
# alert has a test where it fires and one where it stays silent.
# TAP (tests/tap.sh).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/tap.sh
. "$ROOT/tests/tap.sh"
RULES=$ROOT/monitoring/sessiond.rules.yml
TESTS=$ROOT/tests/monitoring/sessiond.rules.test.yml

if ! command -v promtool >/dev/null; then
	not_ok "promtool is missing (scripts/install-deps test)"
	tap_end
	exit
fi
if out=$(promtool check rules "$RULES" 2>&1); then
	ok "promtool check rules: $(echo "$out" | grep -o '[0-9]* rules found')"
else
	printf '%s\n' "$out"
	not_ok "promtool check rules"
fi
if out=$(cd "$ROOT/tests/monitoring" && promtool test rules "$TESTS" 2>&1); then
	ok "promtool test rules"
else
	printf '%s\n' "$out"
	not_ok "promtool test rules"
fi
# Each alert: a test expecting it (exp_alerts with entries) and one
# expecting silence (exp_alerts: []).
for a in $(sed -n 's/^ *- alert: *\([A-Za-z]*\).*/\1/p' "$RULES"); do
	silent=$(grep -c "alertname: $a, exp_alerts: \[\]" "$TESTS")
	firing=$(grep -A 1 "alertname: $a\$" "$TESTS" | grep -c 'exp_alerts:$')
	if [ "$silent" -gt 0 ] && [ "$firing" -gt 0 ]; then
		ok "$a: tested firing ($firing) and silent ($silent)"
	else
		not_ok "$a: tested firing $firing times, silent $silent times"
	fi
done
tap_end
