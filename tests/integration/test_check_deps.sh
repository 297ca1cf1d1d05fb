#!/bin/bash
# test_check_deps.sh: the dependency check finds a program whose package
# is missing from its target's set. Takes a package that a test script
# needs (wrk, for the fault tests) out of a copy of scripts/packages and
# expects scripts/check-deps test to fail naming it; the real list passes.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# shellcheck source=tests/tap.sh
. "$ROOT/tests/tap.sh"

if ! command -v wrk >/dev/null; then
	not_ok "check-deps: wrk is not installed, though the test set has it"
	exit 1
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sed -E '/^(test|bench|netns):/s/ wrk\b//' scripts/packages > "$tmp"
out=$(SESSIOND_PACKAGES=$tmp scripts/check-deps test 2>&1)
if [ $? -ne 0 ] && grep -q '^not ok - check-deps test:.*wrk (package wrk)' <<<"$out"; then
	ok "check-deps fails naming wrk when the test set lacks it"
else
	not_ok "check-deps without wrk in the test set: $out"
fi
if out=$(scripts/check-deps test 2>&1); then
	ok "check-deps passes with scripts/packages as it is"
else
	not_ok "check-deps on scripts/packages: $out"
fi
tap_end
