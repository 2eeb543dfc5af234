#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time on its committed seed corpus, and prints one summary line.
# Usage: tests/fuzz/run.sh SECONDS BINARY...
set -u
seconds=$1
shift
passed=0 failed=0
mkdir -p build/results
for bin in "$@"; do
	name=$(basename "$bin")
	seeds="tests/fuzz/corpus/$name"
	work="build/fuzz/corpus/$name"
	mkdir -p "$work" "$seeds" build/fuzz/crashes
	log="build/results/$name.fuzz.log"
	# new inputs go to build/, the committed seeds are only read
	if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		-artifact_prefix="build/fuzz/crashes/$name-" "$work" "$seeds" >"$log" 2>&1; then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n1)
		echo "ok   $name: ${runs:-?} runs in ${seconds}s, no finding"
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
