# shellcheck shell=bash
#
# tests/tap.sh: the TAP every shell test prints, sourced by each; scripts/test
# counts it with tests/tap-count (TAP::Parser). Sourced, not run.
#
#   ok MESSAGE        a check that held
#   not_ok MESSAGE    a check that did not
#   skip MESSAGE      a check that could not run here (counts as passed)
#   note MESSAGE      a comment line
#   tap_end           the plan ("1..N", after the tests) and the exit
#                     status: the last command of every shell test. A test
#                     that dies before it has no plan, and counts as failed.
#
# $passed and $failed count them.

passed=0
failed=0

ok() {
	echo "ok - $*"
	passed=$((passed + 1))
}

not_ok() {
	echo "not ok - $*"
	failed=$((failed + 1))
}

skip() {
	echo "ok - $* # SKIP"
	passed=$((passed + 1))
}

note() { echo "# $*"; }

tap_end() {
	echo "1..$((passed + failed))"
	[ "$failed" -eq 0 ]
}
