# shellcheck shell=bash
#
# tests/tap.sh: the TAP every shell test prints, sourced by each; scripts/test
# counts it with tests/tap-count (TAP::Parser). Sourced, not run.
#
#   ok MESSAGE        a check that held
#   not_ok MESSAGE    a check that did not
#   skip MESSAGE      a check that could not run here (counts as passed)
#   note MESSAGE      a comment line
#   tap_pass FILE     print another program's TAP result lines (a load
#                     generator's), counted as if this shell had printed
#                     them
#   tap_end           the plan ("1..N", after the tests) and the exit
#                     status: the last command of every shell test. A test
#                     that dies before it has no plan, and counts as failed.
#
# $passed and $failed count them in this shell; the plan counts every
# result line, those printed by subshells (a pipeline, $(...)) too.

passed=0
failed=0
TAP_RESULTS=$(mktemp "${TMPDIR:-/tmp}/tap.XXXXXX")

ok() {
	echo "ok - $*"
	echo ok >>"$TAP_RESULTS"
	passed=$((passed + 1))
}

not_ok() {
	echo "not ok - $*"
	echo not ok >>"$TAP_RESULTS"
	failed=$((failed + 1))
}

skip() {
	echo "ok - $* # SKIP"
	echo ok >>"$TAP_RESULTS"
	passed=$((passed + 1))
}

note() { echo "# $*"; }

tap_pass() {
	local line
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case $line in
		'ok '*) echo ok >>"$TAP_RESULTS"; passed=$((passed + 1)) ;;
		'not ok '*) echo not ok >>"$TAP_RESULTS"; failed=$((failed + 1)) ;;
		esac
	done <"$1"
}

tap_end() {
	local n bad
	n=$(wc -l <"$TAP_RESULTS")
	bad=$(grep -c '^not ok' "$TAP_RESULTS")
	rm -f "$TAP_RESULTS"
	echo "1..$n"
	[ "$bad" -eq 0 ]
}
