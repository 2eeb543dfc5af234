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

for sub in run index doctor render fetch version; do
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
run run --max-builds-in-flight -1
expect_eq "a negative bound on builds in flight exits 2" 2 "$rc"
expect_match "... and says the range (0: no bound)" "'--max-builds-in-flight' wants a whole number from 0 to 1000000" "$err"
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
run run --leader-elect --workers 0
expect_match "run --leader-elect alone is true (the next flag is read on)" "--workers" "$err"
run run --leader-elect=false --workers 0
expect_match "run --leader-elect=false is read too" "--workers" "$err"
run run --metrics-bind-address nowhere
expect_match "--metrics-bind-address is --metrics-addr" "--metrics-addr nowhere: want HOST:PORT" "$err"
run run --health-probe-bind-address nowhere
expect_match "--health-probe-bind-address is --health-addr" "--health-addr nowhere: want HOST:PORT" "$err"
run run --metrics-auth maybe
expect_match "--metrics-auth says what it wants" "--metrics-auth maybe: want auto, kubernetes or none" "$err"
run run --namespace team-a,Team_B
expect_match "--namespace refuses a name that is not a DNS label" "--namespace Team_B: a namespace name is a DNS label" "$err"
run run --retry-period 20s
expect_eq "run with a retry period over the renew deadline exits 2" 2 "$rc"
expect_match "run says how the lease durations must relate" "retry-period < --renew-deadline < --lease-duration" "$err"
run run --log-format xml
expect_eq "run --log-format xml exits 2" 2 "$rc"
run run --resync-period soon
expect_match "run names a malformed duration" "--resync-period soon: want a duration" "$err"
run run -v --workers 0
expect_match "run -v is taken (the next flag is read on)" "--workers" "$err"
run run -v=2 --workers 0
expect_match "run -v=2 is taken" "--workers" "$err"
run run -v=loud
expect_match "run -v with a bad level says what it wants" "want -v alone or -v=N" "$err"
# README's synopsis names exactly the flags each command's --help lists
for cmd in run index doctor render fetch version; do
	# the flags a help line defines (before its description) and the spellings it says are accepted too
	helped=$( { "$bin" "$cmd" --help 2>&1 | grep -E '^  -' | sed -E 's/^  (([^ ]| [^ ])*).*/\1/'
		"$bin" "$cmd" --help 2>&1 | grep -oE 'also spelt --[a-z-]+'; } | grep -oE -- '--?[a-z][a-z-]*' | grep -vx -- '--help' | sort -u)
	synopsis=$(awk -v cmd="$cmd" '/^```/ { inblock = !inblock; next } inblock && /^multiarch-controller / { on = ($2 == cmd) }
		inblock && on' README.md | grep -oE -- '(^|[ [(|])--?[a-z][a-z-]*' | grep -oE -- '--?[a-z][a-z-]*' | sort -u)
	expect_eq "README's synopsis of $cmd names the flags of its --help" "" "$(diff <(echo "$helped") <(echo "$synopsis") | grep '^[<>]')"
done
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

echo "-- render: what kubectl would send is what the pods get"
work=$(mktemp -d)
long_rev=$(printf 'r%.0s' $(seq 1 2300))
cat >"$work/src.yaml" <<YAML
metadata: {name: src, namespace: apps, uid: u1}
spec:
  image: r.io/team/app:1
  platforms: [linux/amd64]
  builder: {type: buildkit}
  cache: {enabled: no}
  source: {git: {url: "https://git.example.com/team/app.git", revision: "$long_rev", subPath: deep/dir}}
YAML
run render -f "$work/src.yaml"
expect_eq "render of a YAML 1.1 'no' exits 0" 0 "$rc"
expect_no_match "cache: {enabled: no} turns the cache off, as kubectl reads it" "buildcache" "$out"
expect_match "a long revision is kept whole, with its subPath" "#$long_rev:deep/dir\"" "$out"
sed -i 's/builder: {type: buildkit}/builder: {type: buildah}/' "$work/src.yaml"
run render -f "$work/src.yaml"
expect_match "buildah: the pod clones the revision itself and builds the subPath" \
	"\"SOURCE_GIT_REVISION\",[[:space:]]*\"value\":[[:space:]]*\"$long_rev\".*\"/tmp/source/deep/dir\"|\"/tmp/source/deep/dir\".*\"SOURCE_GIT_REVISION\",[[:space:]]*\"value\":[[:space:]]*\"$long_rev\"" \
	"$(printf '%s' "$out" | tr -d '\n\t')"
sed -i 's/builder: {type: buildah}/builder: {type: kaniko}/; s/revision: "r*"/revision: v7.3.0/' "$work/src.yaml"
run render -f "$work/src.yaml"
expect_match "kaniko: a tag revision is looked up as a branch or a tag, never forced to refs/heads" '"--git=branch=v7.3.0"' "$out"
expect_no_match "kaniko: no refs/heads/ for a tag" "refs/heads/v7.3.0" "$out"

echo "-- fetch: a verified HTTP archive source"
mkdir -p "$work/site/src/app" "$work/dest" "$work/bad"
printf 'FROM scratch\n' >"$work/site/src/app/Dockerfile"
tar -czf "$work/site/ctx.tgz" -C "$work/site/src" .
sum=$(sha256sum "$work/site/ctx.tgz" | cut -d' ' -f1)
port=$((20000 + RANDOM % 10000))
(cd "$work/site" && exec timeout 60 python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
server=$!
for _ in $(seq 1 50); do curl -fsS -o /dev/null "http://127.0.0.1:$port/ctx.tgz" 2>/dev/null && break; sleep 0.1; done
run fetch --url "http://127.0.0.1:$port/ctx.tgz" --sha256 "$sum" --dest "$work/dest"
expect_eq "fetch with the right sha256 exits 0" 0 "$rc"
expect_eq "fetch unpacks the archive" "FROM scratch" "$(cat "$work/dest/app/Dockerfile" 2>/dev/null)"
expect_eq "fetch leaves no archive behind" "" "$(find "$work/dest" -name '.multiarch-source-archive')"
run fetch --url "http://127.0.0.1:$port/ctx.tgz" --sha256 "$HEX" --dest "$work/bad"
expect_eq "fetch with the wrong sha256 exits 1" 1 "$rc"
expect_match "fetch names both digests" "sha256 $sum, expected $HEX" "$err"
expect_eq "fetch unpacks nothing on a mismatch" "" "$(ls -A "$work/bad")"
run fetch --url "http://127.0.0.1:$port/ctx.tgz" --max-bytes 64 --dest "$work/bad"
expect_match "fetch caps the download" "passed the 64-byte cap" "$err"
run fetch --url "http://127.0.0.1:$port/missing.tgz" --dest "$work/bad"
expect_eq "fetch of a missing archive exits 1" 1 "$rc"
run fetch --url "file:///etc/passwd" --dest "$work/bad"
expect_eq "fetch refuses other schemes" 2 "$rc"
run fetch --url "http://127.0.0.1:$port/ctx.tgz" --sha256 ABC --dest "$work/bad"
expect_match "fetch refuses a malformed sha256" "64 lowercase hex digits" "$err"
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null

# the kubectl plugin beside the controller (bin/kubectl-mab): its contract without a cluster
plugin=$(dirname "$bin")/kubectl-mab
mab() { out=$("$plugin" "$@" 2>/tmp/mac-cli-err.$$); rc=$?; err=$(cat /tmp/mac-cli-err.$$); }
mab --help
expect_eq "kubectl-mab --help exits 0" 0 "$rc"
expect_match "kubectl-mab --help lists every command" "wait NAME.*logs NAME.*rebuild NAME.*status NAME.*completion bash\|zsh" "$(tr '\n' ' ' <<<"$out")"
mab wait --help
expect_match "kubectl-mab wait --help shows the exit codes" "exit 124" "$out"
mab frobnicate x
expect_eq "kubectl-mab: an unknown command exits 2" 2 "$rc"
expect_match "... naming it" "frobnicate: unknown command" "$err"
mab --kubeconfig=/nonexistent wait x
expect_eq "kubectl-mab: a kubeconfig that cannot be read exits 1" 1 "$rc"
expect_match "... saying so" "cannot read kubeconfig /nonexistent" "$err"
mab wait x -n builds --kubeconfig /nonexistent
expect_eq "kubectl-mab: the kubeconfig flags after the command count too" "1 cannot read kubeconfig /nonexistent" "$rc $(grep -o 'cannot read kubeconfig /nonexistent' <<<"$err")"
mab wait
expect_eq "kubectl-mab wait without a name exits 2" 2 "$rc"
mab completion bash
expect_match "kubectl-mab completion bash registers the function" "complete -o nospace -F _kubectl_mab kubectl-mab" "$out"
bash -n <<<"$out"
expect_eq "... and bash parses it" 0 "$?"
mab completion fish
expect_eq "kubectl-mab completion of an unknown shell exits 2" 2 "$rc"
mab --kubeconfig=/nonexistent __complete re
expect_eq "kubectl-mab completes commands without a cluster" "rebuild :4" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
mab --kubeconfig=/nonexistent __complete logs x --pl
expect_eq "kubectl-mab completes a command's flags" "--platform= :4" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
expect_eq "kubectl_complete-mab is installed beside it, executable" "yes" "$([ -x "$(dirname "$bin")/kubectl_complete-mab" ] && echo yes)"
# run stops cleanly on SIGTERM, whatever thread the signal would reach (the client's transfer loop runs one of its
# own from the start): against a server that is not there, so it is still waiting for its caches
cat >"$work/nowhere.kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: x
clusters: [{name: x, cluster: {server: "http://127.0.0.1:1"}}]
contexts: [{name: x, context: {cluster: x, user: u}}]
users: [{name: u, user: {token: t}}]
EOF
term_codes=""
for _ in 1 2 3; do
	"$bin" run --kubeconfig "$work/nowhere.kubeconfig" --leader-elect false >"$work/run-term.log" 2>&1 &
	pid=$!
	sleep 1
	kill -TERM "$pid"
	wait "$pid"
	term_codes="$term_codes $?"
done
expect_eq "run exits 0 on SIGTERM (three times)" " 0 0 0" "$term_codes"
expect_match "... and says it stopped" "stopped" "$(tail -n1 "$work/run-term.log")"
rm -rf "$work" /tmp/mac-cli-err.$$

finish cli
