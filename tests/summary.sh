#!/usr/bin/env bash
# Adds up the counts every test step wrote under build/results and prints the closing summary line.
set -u
passed=0 failed=0
for f in build/results/*.count; do
	[ -e "$f" ] || continue
	read -r p fl <"$f"
	passed=$((passed + p))
	failed=$((failed + fl))
done
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
