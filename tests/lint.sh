#!/usr/bin/env bash
# Static checks: banned unsafe calls, clang-tidy, cppcheck and clang-format over every C source, shellcheck over
# every shell script; prints one summary line.
# Usage: tests/lint.sh CPPFLAGS...   (the compiler flags the sources are built with)
set -u
flags=("$@")
mapfile -t srcs < <(git ls-files '*.c' 2>/dev/null | grep -v '^tests/' || true)
[ ${#srcs[@]} -gt 0 ] || mapfile -t srcs < <(find cmd controller kube plugin registry util -name '*.c' | sort)
mapfile -t tests < <(find tests -name '*.c' | sort)
passed=0 failed=0
mkdir -p build/results

step() {
	local name=$1 started=$SECONDS
	shift
	if "$@" >"build/results/lint-$name.log" 2>&1; then
		echo "ok   $name ($((SECONDS - started)) s)"
		passed=$((passed + 1))
	else
		echo "FAIL $name, log: build/results/lint-$name.log"
		head -n 40 "build/results/lint-$name.log" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
}

banned() {
	# calls with no bound on their output or no error reporting, as util/banned.h names them; it makes the compiler
	# refuse them too, so every source file includes it (after its system headers)
	local names
	names=$(sed -n 's/^#pragma GCC poison //p' util/banned.h | tr ' ' '|')
	[ -n "$names" ] && ! grep -nE "\\b($names)[[:space:]]*\\(" "${srcs[@]}" "${tests[@]}" &&
		! grep -L '^#include "util/banned.h"$' "${srcs[@]}" "${tests[@]}" | sed 's/$/: does not include util\/banned.h/' | grep .
}

tidy() {
	# one clang-tidy per group of files, as many at once as there are cores
	printf '%s\0' "${srcs[@]}" "${tests[@]}" |
		xargs -0 -n 8 -P "$(nproc)" bash -c 'f=(); while [ "$1" != :: ]; do f+=("$1"); shift; done; shift
			clang-tidy --quiet "$@" -- "${f[@]}"' tidy -std=c17 "${flags[@]}" :: 2>&1 |
		grep -v '^[0-9]* warnings\? generated' | tee /dev/stderr | { ! grep -qE '(warning|error):'; }
}

cppcheck_all() {
	cppcheck --quiet -j "$(nproc)" --std=c11 --enable=warning,performance,portability --error-exitcode=1 --inline-suppr \
		--suppress=missingIncludeSystem -I. -D_POSIX_C_SOURCE=200809L "${srcs[@]}" "${tests[@]}"
}

formatted() {
	# the layout .clang-format describes: `clang-format -i FILE` puts a file right
	local headers
	mapfile -t headers < <(git ls-files '*.h' 2>/dev/null)
	clang-format --style=file --dry-run --Werror "${srcs[@]}" "${tests[@]}" "${headers[@]}"
}

shell_scripts() {
	local scripts
	mapfile -t scripts < <(git ls-files '*.sh' 2>/dev/null)
	shellcheck -S warning "${scripts[@]}" .ci/run
}

step banned-calls banned
step clang-tidy tidy
step cppcheck cppcheck_all
step clang-format formatted
step shellcheck shell_scripts
echo "$passed $failed" >build/results/lint.count
echo "lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
