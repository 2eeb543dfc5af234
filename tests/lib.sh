# Shell test helpers: named expectations that count passes and failures, and one summary line at the end.
# shellcheck shell=bash

T_PASSED=0
T_FAILED=0

pass() { T_PASSED=$((T_PASSED + 1)); echo "ok   $1"; }
fail() {
	T_FAILED=$((T_FAILED + 1))
	echo "FAIL $1"
	[ $# -lt 2 ] || printf '%s\n' "$2" | head -n 20 | sed 's/^/    /'
}

# expect_eq NAME WANT GOT
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want: $2"$'\n'"got:  $3"; fi; }

# expect_match NAME EXTENDED_REGEX TEXT
# (a here-string, not a pipe: with pipefail, grep -q leaving early would fail the writer with SIGPIPE)
expect_match() { if grep -E -- "$2" <<<"$3" >/dev/null; then pass "$1"; else fail "$1" "no match for /$2/ in:"$'\n'"$3"; fi; }

# expect_no_match NAME EXTENDED_REGEX TEXT
expect_no_match() { if grep -E -- "$2" <<<"$3" >/dev/null; then fail "$1" "unexpected match for /$2/ in:"$'\n'"$3"; else pass "$1"; fi; }

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds; returns 1 on timeout.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.2
	done
}

# finish SUITE: records the counts for the overall summary and prints the suite's summary line.
finish() {
	mkdir -p build/results
	echo "$T_PASSED $T_FAILED" >"build/results/$1.count"
	echo "$1: $T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
}

# apply_mab NS NAME [PLATFORMS] [EXTRA_SPEC_YAML]: applies a MultiArchBuild of $REGISTRY/NS/NAME:1.0 built from a Git
# URL for PLATFORMS ('"linux/riscv64", "linux/ppc64le"' by default: the fake nodes' architectures, see
# tests/integration/run.sh), creating the namespace when missing.
apply_mab() {
	local platforms=${3:-'"linux/riscv64", "linux/ppc64le"'}
	kubectl get namespace "$1" >/dev/null 2>&1 || kubectl create namespace "$1" >/dev/null 2>&1
	kubectl apply -f - >/dev/null <<EOF
apiVersion: multiarch.dev/v1alpha1
kind: MultiArchBuild
metadata: {name: $2, namespace: $1}
spec:
  image: $REGISTRY/$1/$2:1.0
  platforms: [$platforms]
  source: {git: {url: https://git.example.com/team/$2.git}}
${4:-}
EOF
}

# inline_builder_config: BUILDER_CONFIG with the TLS registry's CA inline (the file is this host's; pods read the
# configuration from a ConfigMap)
inline_builder_config() {
	grep -v '^caBundleFile:' "$BUILDER_CONFIG"
	echo "caBundle: |"
	sed 's/^/  /' "$MAC_CLUSTER_DIR/registry-tls/ca.crt"
}

# build_hello NS SECONDS: a one-platform buildah build `hello` of examples/hello in NS on the real nodes, for the
# controller under test to run; waits up to SECONDS until it is Ready and prints its status.image
build_hello() {
	kubectl create configmap hello-src -n "$1" --from-file=examples/hello/Dockerfile --from-file=examples/hello/hello.txt >/dev/null
	kubectl apply -f - >/dev/null <<EOF
apiVersion: multiarch.dev/v1alpha1
kind: MultiArchBuild
metadata: {name: hello, namespace: $1}
spec:
  image: $REGISTRY/$1/hello:1.0
  platforms: [linux/amd64]
  source: {configMap: {name: hello-src}}
  builder: {type: buildah}
  placement: {nodeSelector: {multiarch.dev/node: real}}
  policy: {retries: 0, timeout: 10m}
EOF
	wait_for "$2" hello_ready "$1"
	kubectl get mab hello -n "$1" -o jsonpath='{.status.image}'
}
hello_ready() { [ "$(kubectl get mab hello -n "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
