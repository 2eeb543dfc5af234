#!/usr/bin/env bash
# Command-line contract tests: version, --help on every subcommand, one-line errors and exit 2 on bad input.
# Usage: tests/cli.sh BINARY
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"

HEX=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

run() { out=$("$bin" "$@" 2>/tmp/mac-cli-err.$$); rc=$?; err=$(cat /tmp/mac-cli-err.$$); }

run version
expect_eq "version exits 0" 0 "$rc"
expect_match "version names the program and version" "^multiarch-controller $(cat VERSION) " "$out"
expect_match "version lists the linked libraries" "libcurl .*libyaml .*cJSON .*libwebsockets .*OpenSSL" "$out"
run --version
expect_eq "--version exits 0" 0 "$rc"
run version --short
expect_eq "version --short prints the number" "$(cat VERSION)" "$out"

for sub in run index doctor render version; do
	run "$sub" --help
	expect_eq "$sub --help exits 0" 0 "$rc"
	expect_match "$sub --help prints usage" "^usage: multiarch-controller $sub" "$out"
	run "$sub" --no-such-flag
	expect_eq "$sub with an unknown flag exits 2" 2 "$rc"
	expect_eq "$sub with an unknown flag prints one line" 1 "$(printf '%s\n' "$err" | wc -l)"
	expect_match "$sub names the unknown flag" "unknown flag '--no-such-flag'" "$err"
	expect_eq "$sub prints nothing on stdout for a bad flag" "" "$out"
done

run
expect_eq "no command exits 2" 2 "$rc"
run --help
expect_eq "--help exits 0" 0 "$rc"
expect_match "--help lists the commands" "index .*merge" "$(printf '%s' "$out" | tr '\n' ' ')"
run frobnicate
expect_eq "unknown command exits 2" 2 "$rc"
expect_match "unknown command is named" "unknown command 'frobnicate'" "$err"

run run --workers
expect_eq "a flag missing its value exits 2" 2 "$rc"
expect_match "a flag missing its value is named" "'--workers' needs a value" "$err"
run run --workers 0
expect_eq "an out-of-range number exits 2" 2 "$rc"
expect_match "an out-of-range number says the range" "from 1 to 64" "$err"
run run --workers=12x
expect_eq "a malformed number exits 2" 2 "$rc"
run version extra
expect_eq "a stray argument exits 2" 2 "$rc"
expect_match "a stray argument is named" "unexpected argument 'extra'" "$err"
run version --short=1
expect_eq "a value for a flag that takes none exits 2" 2 "$rc"
expect_match "a value for a flag that takes none is named" "'--short' takes no value" "$err"

run index --source "127.0.0.1:5000/a@sha256:$HEX"
expect_eq "index without --image exits 2" 2 "$rc"
expect_match "index without --image says so" "--image is required" "$err"
run index --image 127.0.0.1:5000/a:1
expect_eq "index without --source exits 2" 2 "$rc"
run index --image "127.0.0.1:5000/A:1" --source "127.0.0.1:5000/a@sha256:$HEX"
expect_eq "index with a bad image exits 2" 2 "$rc"
expect_match "index says what is wrong with the image" "must be lowercase" "$err"
run index --image "127.0.0.1:5000/a@sha256:$HEX" --source "127.0.0.1:5000/a@sha256:$HEX"
expect_eq "index with a digest target exits 2" 2 "$rc"
expect_match "index wants a tag target" "must be a tag" "$err"
run index --image 127.0.0.1:5000/a:1 --source 127.0.0.1:5000/a:amd64
expect_eq "index with a tag source exits 2" 2 "$rc"
expect_match "index wants sources by digest" "by digest" "$err"
run index --image 127.0.0.1:5000/a:1 --source "127.0.0.1:5000/a@sha256:$HEX" --annotation novalue
expect_eq "index with a bad annotation exits 2" 2 "$rc"

rm -f /tmp/mac-cli-err.$$
run run --leader-elect maybe
expect_eq "run --leader-elect with a bad value exits 2" 2 "$rc"
expect_match "run --leader-elect says what it wants" "want true or false" "$err"
run run --retry-period 20s
expect_eq "run with a retry period over the renew deadline exits 2" 2 "$rc"
expect_match "run says how the lease durations must relate" "retry-period < --renew-deadline < --lease-duration" "$err"
run run --log-format xml
expect_eq "run --log-format xml exits 2" 2 "$rc"
run run --resync-period soon
expect_match "run names a malformed duration" "--resync-period soon: want a duration" "$err"
run render
expect_eq "render without -f exits 2" 2 "$rc"
expect_match "render without -f says so" "-f FILE is required" "$err"
printf 'metadata: [unclosed\n' >/tmp/mac-cli-bad.$$.yaml
run render -f /tmp/mac-cli-bad.$$.yaml
expect_eq "render of broken YAML exits 2" 2 "$rc"
expect_match "render of broken YAML names the line" "line [0-9]+" "$err"
printf 'metadata: {name: x}\nspec: {image: r.io/a:1, platforms: [linux/arm64, linux/aarch64]}\n' >/tmp/mac-cli-bad.$$.yaml
run render -f /tmp/mac-cli-bad.$$.yaml
expect_eq "render of an unusable spec exits 2" 2 "$rc"
expect_match "render says why the spec is unusable" "the same platform" "$err"
rm -f /tmp/mac-cli-bad.$$.yaml
run render -f examples/two-arch.yaml
expect_eq "render of an example exits 0" 0 "$rc"
expect_eq "render of an example gives two pods and a Job" "Pod Pod Job" "$(printf '%s' "$out" | jq -r '[.items[].kind] | join(" ")')"

finish cli
