# shellcheck shell=bash
#
# tests/tap.sh: the TAP lines every shell test prints, sourced by each
# (scripts/test counts "ok" and "not ok"). Sourced, not run.
#
#   ok MESSAGE        a check that held
#   not_ok MESSAGE    a check that did not
#   skip MESSAGE      a check that could not run here (counts as passed)
#   note MESSAGE      a comment line
#
# $passed and $failed count them; end a test with [ "$failed" -eq 0 ].

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
