#!/usr/bin/env bash
# Runs the cmocka unit-test binaries (under the sanitizers or valgrind) and prints one summary line.
# Usage: tests/unit/run.sh asan|valgrind BINARY...
set -u
mode=$1
shift
passed=0 failed=0 broken=0
mkdir -p build/results
for t in "$@"; do
	log="build/results/$(basename "$t").$mode.log"
	case $mode in
	valgrind)
		valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
			--errors-for-leak-kinds=definite,indirect,possible --track-origins=yes "$t" >"$log" 2>&1
		;;
	*)
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$t" >"$log" 2>&1
		;;
	esac
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$log" | tail -n1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' "$log" | tail -n1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		# a crash, a sanitizer report or a valgrind error: the binary counts as one failure
		broken=$((broken + 1))
		failed=$((failed + 1))
	fi
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $(basename "$t") ($mode), log: $log"
		sed 's/^/    /' "$log" | tail -n 40
	else
		echo "ok   $(basename "$t") ($mode): ${p:-0} tests"
	fi
done
echo "$passed $failed" >"build/results/unit-$mode.count"
echo "unit-$mode: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
