#!/bin/sh
# The alerting and recording rules: promtool (Debian's prometheus package)
# checks monitoring/sessiond.rules.yml and runs its unit tests; and every
# alert has a test where it fires and one where it stays silent.
# Prints "ok - ..." / "not ok - ..." lines.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RULES=$ROOT/monitoring/sessiond.rules.yml
TESTS=$ROOT/tests/monitoring/sessiond.rules.test.yml

if ! command -v promtool >/dev/null; then
	echo "not ok - promtool is missing (scripts/install-deps test)"
	exit 1
fi
if out=$(promtool check rules "$RULES" 2>&1); then
	echo "ok - promtool check rules: $(echo "$out" | grep -o '[0-9]* rules found')"
else
	printf '%s\n' "$out"
	echo "not ok - promtool check rules"
fi
if out=$(cd "$ROOT/tests/monitoring" && promtool test rules "$TESTS" 2>&1); then
	echo "ok - promtool test rules"
else
	printf '%s\n' "$out"
	echo "not ok - promtool test rules"
fi
# Each alert: a test expecting it (exp_alerts with entries) and one
# expecting silence (exp_alerts: []).
for a in $(sed -n 's/^ *- alert: *\([A-Za-z]*\).*/\1/p' "$RULES"); do
	silent=$(grep -c "alertname: $a, exp_alerts: \[\]" "$TESTS")
	firing=$(grep -A 1 "alertname: $a\$" "$TESTS" | grep -c 'exp_alerts:$')
	if [ "$silent" -gt 0 ] && [ "$firing" -gt 0 ]; then
		echo "ok - $a: tested firing ($firing) and silent ($silent)"
	else
		echo "not ok - $a: tested firing $firing times, silent $silent times"
	fi
done
