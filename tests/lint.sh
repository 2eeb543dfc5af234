#!/usr/bin/env bash
# Static checks: banned unsafe calls, clang-tidy and cppcheck over every C source; prints one summary line.
# Usage: tests/lint.sh CPPFLAGS...   (the compiler flags the sources are built with)
set -u
flags=("$@")
mapfile -t srcs < <(git ls-files '*.c' 2>/dev/null | grep -v '^tests/' || true)
[ ${#srcs[@]} -gt 0 ] || mapfile -t srcs < <(find cmd controller kube registry util -name '*.c' | sort)
mapfile -t tests < <(find tests -name '*.c' | sort)
passed=0 failed=0
mkdir -p build/results

step() {
	local name=$1
	shift
	if "$@" >"build/results/lint-$name.log" 2>&1; then
		echo "ok   $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name, log: build/results/lint-$name.log"
		head -n 40 "build/results/lint-$name.log" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
}

banned() {
	# calls with no bound on their output or no error reporting
	! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atof|strtok|tmpnam|rand)[[:space:]]*\(' "${srcs[@]}" "${tests[@]}"
}

tidy() {
	clang-tidy --quiet "${srcs[@]}" "${tests[@]}" -- -std=c17 "${flags[@]}" 2>&1 | grep -v '^[0-9]* warnings\? generated' |
		tee /dev/stderr | { ! grep -qE '(warning|error):'; }
}

cppcheck_all() {
	cppcheck --quiet --std=c11 --enable=warning,performance,portability --error-exitcode=1 --inline-suppr \
		--suppress=missingIncludeSystem -I. -D_POSIX_C_SOURCE=200809L "${srcs[@]}" "${tests[@]}"
}

step banned-calls banned
step clang-tidy tidy
step cppcheck cppcheck_all
echo "$passed $failed" >build/results/lint.count
echo "lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
