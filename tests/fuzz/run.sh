#!/usr/bin/env bash
# Runs every libFuzzer target on its committed seed corpus, bounded by time or by a fixed count of runs, and
# prints one summary line.
# Usage: tests/fuzz/run.sh seconds N BINARY...   explore for N seconds each (new inputs kept under build/)
#        tests/fuzz/run.sh runs N BINARY...      replay the seeds, then N mutations from a fixed seed: the same
#                                                inputs on every clean checkout, so a test run never fails by luck
set -u
mode=$1 limit=$2
shift 2
case "$mode" in
seconds) bound=(-max_total_time="$limit") unit="in ${limit}s" ;;
runs) bound=(-runs="$limit" -seed=1) unit="(fixed seed)" ;;
*)
	echo "usage: tests/fuzz/run.sh seconds|runs N BINARY..." >&2
	exit 2
	;;
esac
passed=0 failed=0
mkdir -p build/results
for bin in "$@"; do
	name=$(basename "$bin")
	seeds="tests/fuzz/corpus/$name"
	work="build/fuzz/corpus/$name"
	mkdir -p "$work" "$seeds" build/fuzz/crashes
	log="build/results/$name.fuzz.log"
	dirs=("$work" "$seeds")
	# a fixed-count run starts from the committed seeds only, so what it tries does not depend on earlier runs
	if [ "$mode" = runs ]; then
		rm -rf "$work.fixed" && mkdir -p "$work.fixed" && dirs=("$work.fixed" "$seeds")
	fi
	# new inputs go to build/, the committed seeds are only read
	if "$bin" "${bound[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		-artifact_prefix="build/fuzz/crashes/$name-" "${dirs[@]}" >"$log" 2>&1; then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n1)
		echo "ok   $name: ${runs:-?} runs $unit, no finding"
		passed=$((passed + 1))
	else
		echo "FAIL $name: finding saved under build/fuzz/crashes/, log: $log"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
echo "$passed $failed" >build/results/fuzz.count
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
