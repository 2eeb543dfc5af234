#!/usr/bin/env bash
# Integration tests of `multiarch-controller run` on the local cluster: the real apiserver, etcd, scheduler and
# controller-manager (Job and garbage collectors); only the kubelet's part is played, by tests/env/fake-kubelet.py.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh

# the AddressSanitizer + UBSan build: any memory error, leak at exit or undefined behaviour ends it with a report
BIN=${MAC_CONTROLLER_BIN:-build/asan/bin/multiarch-controller}
export ASAN_OPTIONS="halt_on_error=1 exitcode=66"
work=$(mktemp -d)
plan=$work/plan.json
audit=$MAC_CLUSTER_DIR/logs/audit.log
echo '{}' >"$plan"

cleanup() {
	# the nodes this test added or cordoned go back as they were, for the tests after it
	kubectl delete node fake-s390x-1 fake-ppc64le-3 fake-amd64-9 --ignore-not-found >/dev/null 2>&1
	kubectl uncordon fake-ppc64le-1 fake-ppc64le-2 >/dev/null 2>&1
	for f in "$work"/*.pid; do
		[ -e "$f" ] || continue
		kill -KILL "$(cat "$f")" 2>/dev/null
	done
	touch "$work/kubelet.stop"
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# start_controller NAME [FLAGS...]: runs a controller replica with identity NAME in the background.
start_controller() {
	local name=$1
	shift
	"$BIN" run --config tests/env/policy-open.yaml --insecure-registry "$REGISTRY" --retry-backoff 1s --identity "$name" --log-level debug "$@" >>"$work/$name.log" 2>&1 &
	echo $! >"$work/$name.pid"
}

# stop_controller NAME [SIGNAL]: stops it (SIGTERM by default) and waits for it.
stop_controller() {
	local pid
	pid=$(cat "$work/$1.pid" 2>/dev/null) || return 0
	# the shell's own "Killed" notice goes nowhere: the kill is the point
	exec 3>&2 2>/dev/null
	kill "-${2:-TERM}" "$pid"
	wait "$pid"
	echo $? >"$work/$1.exit"
	exec 2>&3 3>&-
	rm -f "$work/$1.pid"
}

ready() { kubectl wait --for=condition=Ready "mab/$2" -n "$1" --timeout="${3:-60}s" >/dev/null 2>&1; }
field() { kubectl get mab "$2" -n "$1" -o jsonpath="$3" 2>/dev/null; }
condition() { field "$1" "$2" "{.status.conditions[?(@.type==\"$3\")].status}/{.status.conditions[?(@.type==\"$3\")].reason}"; }
# predicates for wait_for, which runs its command again on each try (a $(...) argument would be read only once)
field_is() { [ "$(field "$1" "$2" "$3")" = "$4" ]; }
condition_is() { [ "$(condition "$1" "$2" "$3")" = "$4" ]; }
pod_phase_is() { [ "$(kubectl get pod -n "$1" "$2" -o jsonpath='{.status.phase}' 2>/dev/null)" = "$3" ]; }
pod_running() { kubectl get pod -n "$1" "$2" -o jsonpath='{.status.phase}' 2>/dev/null | grep -q Running; }
pod_gone() { [ -z "$(kubectl get pod -n "$1" "$2" -o name 2>/dev/null)" ]; }
children_gone() { [ -z "$(kubectl get pods,jobs -n "$1" -l "multiarch.dev/build=$2" -o name 2>/dev/null)" ]; }

# index_platforms NS NAME: the platforms of the pushed index, sorted, as skopeo reads them.
index_platforms() {
	skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/$1/$2:1.0" |
		jq -r '[.manifests[].platform | .os + "/" + .architecture + (if .variant then "/" + .variant else "" end)] | sort | join(",")'
}

# pods_off_arch NS: build pods whose node's architecture is not their platform's ("" when none).
pods_off_arch() {
	local pod platform node arch
	while read -r pod platform node; do
		arch=$(kubectl get node "$node" -o jsonpath='{.metadata.labels.kubernetes\.io/arch}')
		[ "linux-$arch" = "$platform" ] || echo "$pod ($platform) on $node ($arch)"
	done < <(kubectl get pods -n "$1" -l multiarch.dev/role=build \
		-o jsonpath='{range .items[*]}{.metadata.name} {.metadata.labels.multiarch\.dev/platform} {.spec.nodeName}{"\n"}{end}')
}

# elapsed SINCE: seconds since SINCE (date +%s.%N), to a tenth
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
# at_most A B: A <= B, as decimals
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
# became_leader NAME FROM_LINE: the replica's log says so after line FROM_LINE
became_leader() { tail -n +"$2" "$work/$1.log" | grep -q "became the leader"; }
log_lines() { wc -l <"$work/$1.log"; }

set_plan() { printf '%s\n' "$1" >"$plan"; }

# start_skewed NAME OFFSET: a replica (the release build: the sanitizers' runtime must load first) whose wall clock is
# OFFSET ("+30s") off through libfaketime, its monotonic clock untouched; preloaded directly (the faketime command
# would stand between the pid recorded and the controller's)
libfaketime=$(dpkg -L libfaketime 2>/dev/null | grep -m1 '/libfaketime\.so\.1$')
start_skewed() {
	LD_PRELOAD=$libfaketime FAKETIME=$2 FAKETIME_DONT_FAKE_MONOTONIC=1 bin/multiarch-controller run --config tests/env/policy-open.yaml --insecure-registry "$REGISTRY" \
		--retry-backoff 1s --identity "$1" --log-level debug >>"$work/$1.log" 2>&1 &
	echo $! >"$work/$1.pid"
}

add_node() {
	kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $1
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/arch: $2, kubernetes.io/os: linux, kubernetes.io/hostname: $1, type: kwok}
EOF
}

# writes_by NAME [SINCE_LINE]: write requests in the audit log from replica NAME to builds, pods and Jobs.
writes_by() {
	tail -n +"${2:-1}" "$audit" | jq -c --arg ua "($1)" 'select(.stage == "ResponseComplete" and ((.userAgent // "") | endswith($ua))
		and (.objectRef.resource == "multiarchbuilds" or .objectRef.resource == "pods" or .objectRef.resource == "jobs"))' | wc -l
}
audit_lines() { wc -l <"$audit"; }

kubectl apply -f crds/multiarch.dev_multiarchbuilds.yaml >/dev/null
kubectl wait --for condition=established crd/multiarchbuilds.multiarch.dev --timeout=30s >/dev/null
# a run before this one on the same cluster leaves its builds: each test starts from none
kubectl delete namespace ctl-two ctl-three ctl-guard ctl-gone ctl-retry ctl-timeout ctl-nodes ctl-change ctl-ha ctl-identity ctl-bound --ignore-not-found --wait=true \
	--timeout=120s >/dev/null 2>&1
tests/env/fake-kubelet.py --binary "$BIN" --plan "$plan" --log "$work/kubelet.log" --stop-file "$work/kubelet.stop" --max-seconds 1800 \
	>"$work/kubelet.out" 2>&1 &
echo $! >"$work/kubelet.pid"

echo "-- two and three platforms"
start_controller main --status-batch 5s
add_node fake-s390x-1 s390x
mark=$(audit_lines)
apply_mab ctl-two hello '"linux/riscv64", "linux/ppc64le"'
if ready ctl-two hello; then pass "two platforms: Ready"; else fail "two platforms: Ready" "$(kubectl get mab,pods -n ctl-two -o wide; tail -20 "$work/main.log")"; fi
expect_eq "two platforms: the index holds exactly them" "linux/ppc64le,linux/riscv64" "$(index_platforms ctl-two hello)"
expect_eq "two platforms: every pod bound to a node of its architecture" "" "$(pods_off_arch ctl-two)"
expect_match "two platforms: status.image is repo@digest" "^$REGISTRY/ctl-two/hello@sha256:[0-9a-f]{64}$" "$(field ctl-two hello '{.status.image}')"
expect_eq "two platforms: observedGeneration, phase, summary" "1 Succeeded 2/2" \
	"$(field ctl-two hello '{.status.observedGeneration} {.status.phase} {.status.platformSummary}')"
expect_eq "two platforms: kstatus conditions" "True/Succeeded False/Succeeded False/Succeeded" \
	"$(condition ctl-two hello Ready) $(condition ctl-two hello Reconciling) $(condition ctl-two hello Stalled)"
digest=$(field ctl-two hello '{.status.digest}')
expect_eq "two platforms: the status digest is the registry's" "$digest" \
	"sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/ctl-two/hello:1.0" | sha256sum | cut -d' ' -f1)"
for arch in riscv64 ppc64le; do
	d=$(field ctl-two hello "{.status.platforms[?(@.platform==\"linux/$arch\")].digest}")
	expect_eq "two platforms: linux/$arch digest in status resolves with skopeo --override-arch" "$d" \
		"sha256:$(skopeo inspect --raw --tls-verify=false --override-arch "$arch" "docker://$REGISTRY/ctl-two/hello@$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/ctl-two/hello:1.0" | jq -r --arg a "$arch" '.manifests[] | select(.platform.architecture == $a) | .digest')" | sha256sum | cut -d' ' -f1)"
done
sleep 2
writes=$(writes_by main "$mark")
if [ "$writes" -ge 3 ] && [ "$writes" -le 6 ]; then pass "one two-platform build: $writes writes (two pods and a status at least, at most platforms + 4 = 6)"; else
	fail "one two-platform build: $writes writes (from 3 to 6)" "$(tail -n +"$mark" "$audit" | jq -r 'select((.userAgent // "") | endswith("(main)")) | .verb + " " + .requestURI')"
fi
events=$(kubectl get events -n ctl-two --field-selector involvedObject.name=hello -o jsonpath='{range .items[*]}{.reason}{"\n"}{end}' | sort | tr '\n' ' ')
expect_eq "two platforms: one Event, for the outcome" "Succeeded " "$events"
expect_match "the outcome's Event names every platform and its node" \
	"holds 2 platforms: linux/riscv64 on fake-riscv64-[0-9] \\(1 attempt\\); linux/ppc64le on fake-ppc64le-[0-9] \\(1 attempt\\)" \
	"$(kubectl get events -n ctl-two --field-selector involvedObject.name=hello,reason=Succeeded -o jsonpath='{.items[0].message}')"
owners='{range .items[*]}{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].controller}{"\n"}{end}'
owner=$({ kubectl get pods -n ctl-two -l multiarch.dev/role=build -o jsonpath="$owners"; kubectl get jobs -n ctl-two -o jsonpath="$owners"; } | sort -u)
expect_eq "two platforms: every child has the build as controller owner" "MultiArchBuild/true" "$owner"
sel=$(kubectl get pod -n ctl-two hello-g1-linux-ppc64le-a1 -o jsonpath='{.spec.nodeSelector.kubernetes\.io/arch} {.spec.automountServiceAccountToken} {.metadata.labels.multiarch\.dev/role}')
expect_eq "two platforms: ppc64le pod pinned, no service account token, labelled" "ppc64le false build" "$sel"

apply_mab ctl-three hello '"linux/riscv64", "linux/ppc64le", "linux/s390x"'
if ready ctl-three hello; then pass "three platforms: Ready"; else fail "three platforms: Ready" "$(kubectl get mab,pods -n ctl-three -o wide)"; fi
expect_eq "three platforms: the index holds exactly them" "linux/ppc64le,linux/riscv64,linux/s390x" "$(index_platforms ctl-three hello)"
expect_eq "three platforms: every pod bound to a node of its architecture" "" "$(pods_off_arch ctl-three)"

echo "-- identity: a named ServiceAccount, its token mounted only there"
kubectl create namespace ctl-identity >/dev/null 2>&1
kubectl create serviceaccount registry-pusher -n ctl-identity --dry-run=client -o yaml | kubectl apply -f - >/dev/null
apply_mab ctl-identity pusher '"linux/riscv64"' '  serviceAccountName: registry-pusher'
apply_mab ctl-identity admin '"linux/riscv64"' '  serviceAccountName: default'
if ready ctl-identity pusher; then pass "a named ServiceAccount: Ready"; else fail "a named ServiceAccount: Ready" "$(kubectl get mab,pods -n ctl-identity -o wide)"; fi
# token_volumes NS POD: its account, automountServiceAccountToken and how many token volumes the API server added
token_volumes() { kubectl get "$2" -n "$1" -o json | jq -r '[.spec.serviceAccountName // "-", (.spec.automountServiceAccountToken | tostring),
	([.spec.volumes[]? | select(.projected.sources[]?.serviceAccountToken)] | length | tostring)] | join(" ")'; }
expect_eq "the build pod runs as it, the API server mounted its token" "registry-pusher true 1" \
	"$(token_volumes ctl-identity pod/pusher-g1-linux-riscv64-a1)"
index_pod=$(kubectl get pods -n ctl-identity -l multiarch.dev/build=pusher,multiarch.dev/role=index -o name | head -n1)
expect_eq "so does the index Job's pod" "registry-pusher true 1" "$(token_volumes ctl-identity "$index_pod")"
expect_eq "a pod of a build that names none: the default account, no token" "default false 0" \
	"$(token_volumes ctl-two pod/hello-g1-linux-ppc64le-a1)"
wait_for 30 condition_is ctl-identity admin Stalled True/PolicyViolation
expect_match "an account outside the policy: refused, nothing made" "spec.serviceAccountName default is outside the operator's policy.*0$" \
	"$(field ctl-identity admin '{.status.conditions[?(@.type=="Stalled")].message}') $(kubectl get pods -n ctl-identity -l multiarch.dev/build=admin -o name | wc -l)"

echo "-- the operator's policy: a build outside it gets no child"
apply_mab ctl-policy miner '"linux/riscv64"' '  builder: {image: evil.example/miner:1}'
apply_mab ctl-policy cp '"linux/riscv64"' '  placement: {nodeSelector: {node-role.kubernetes.io/control-plane: ""}, tolerations: [{operator: Exists}]}'
if wait_for 30 condition_is ctl-policy miner Stalled True/PolicyViolation; then
	pass "a builder image outside the policy: Stalled, PolicyViolation"
else
	fail "a builder image outside the policy: Stalled, PolicyViolation" "$(kubectl get mab miner -n ctl-policy -o yaml)"
fi
expect_match "... the message names the field" "spec.builder.image evil.example/miner:1 is outside the operator's policy" \
	"$(field ctl-policy miner '{.status.conditions[?(@.type=="Stalled")].message}')"
wait_for 30 condition_is ctl-policy cp Stalled True/PolicyViolation
expect_match "a toleration of every taint (control-plane nodes): refused, naming the field" \
	"spec.placement.tolerations\[0\] \(key \"\", operator Exists\) is outside the operator's policy" \
	"$(field ctl-policy cp '{.status.conditions[?(@.type=="Stalled")].message}')"
expect_eq "no pod, Job or ConfigMap was created for either" "" \
	"$(kubectl get pods,jobs,configmaps -n ctl-policy -l multiarch.dev/role -o name 2>/dev/null)"
kubectl delete namespace ctl-policy --wait=false >/dev/null 2>&1

echo "-- the fake kubelet runs no build of an architecture a real node serves"
if [ "${MAC_REAL_NODE:-0}" = 1 ]; then
	add_node fake-amd64-9 amd64
	kubectl create namespace ctl-guard >/dev/null 2>&1
	kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: guard-g1-linux-amd64-a1
  namespace: ctl-guard
  labels: {multiarch.dev/build: guard, multiarch.dev/role: build, multiarch.dev/platform: linux-amd64, multiarch.dev/attempt: "1"}
  annotations: {multiarch.dev/repository: $REGISTRY/ctl-guard/guard}
spec:
  nodeName: fake-amd64-9
  containers: [{name: build, image: registry.invalid/builder:1}]
EOF
	wait_for 30 pod_phase_is ctl-guard guard-g1-linux-amd64-a1 Failed
	expect_match "an amd64 build pod on a fake amd64 node fails, saying real nodes build amd64" \
		"^Failed fake-kubelet: a real node serves amd64" \
		"$(kubectl get pod -n ctl-guard guard-g1-linux-amd64-a1 -o jsonpath='{.status.phase} {.status.containerStatuses[0].state.terminated.message}')"
	expect_eq "nothing was pushed for it" "" "$(skopeo list-tags --tls-verify=false "docker://$REGISTRY/ctl-guard/guard" 2>/dev/null | jq -r '.Tags[]?')"
	kubectl delete namespace ctl-guard --wait=false >/dev/null 2>&1
	kubectl delete node fake-amd64-9 >/dev/null 2>&1
fi

echo "-- no-op resync"
stop_controller main
start_controller main --resync-period 2s
sleep 4
mark=$(audit_lines)
sleep 8
expect_eq "no-op resyncs (every 2s for 8s): zero writes" "0" "$(writes_by main "$mark")"
expect_match "the restarted controller re-read every build" "caches synced builds=[0-9]+" "$(cat "$work/main.log")"

echo "-- a finished pod deleted before the controller read it"
# the pods hang (the fake kubelet leaves them Running); with the controller held (SIGSTOP), the test finishes
# each one itself, with the digest of an image it pushed, and deletes it, as the pod garbage collector does at
# scale: resumed, the controller learns of both only from its watch, and must read the results from the delete
# events instead of building again. Without leader election, so that being held costs no lease.
set_plan '{"ctl-gone/gone-1/linux-riscv64/1": "hang", "ctl-gone/gone-2/linux-riscv64/1": "hang",
	"ctl-gone/gone-3/linux-riscv64/1": "hang", "ctl-gone/gone-4/linux-riscv64/1": "hang"}'
stop_controller main
start_controller gone --leader-elect=false
tests/env/make-image.sh "$work/gone-oci" img riscv64 >/dev/null
for i in 1 2 3 4; do
	skopeo copy -q --dest-tls-verify=false --digestfile "$work/gone-$i.digest" "oci:$work/gone-oci:img" \
		"docker://$REGISTRY/ctl-gone/gone-$i:staged"
	apply_mab ctl-gone "gone-$i" '"linux/riscv64"'
done
for i in 1 2 3 4; do wait_for 30 pod_phase_is ctl-gone "gone-$i-g1-linux-riscv64-a1" Running; done
kill -STOP "$(cat "$work/gone.pid")"
for i in 1 2 3 4; do
	kubectl patch pod -n ctl-gone "gone-$i-g1-linux-riscv64-a1" --subresource=status --type=merge -p "$(jq -cn \
		--arg digest "$(cat "$work/gone-$i.digest")" '{status: {phase: "Succeeded", containerStatuses: [{name: "build",
		image: "builder", imageID: "", ready: false, restartCount: 0, state: {terminated: {exitCode: 0,
		reason: "Completed", message: ($digest + "\n")}}}]}}')" >/dev/null
done
kubectl delete pod -n ctl-gone -l multiarch.dev/role=build --force --grace-period=0 >/dev/null 2>&1
kill -CONT "$(cat "$work/gone.pid")"
all_ready=1
for i in 1 2 3 4; do ready ctl-gone "gone-$i" 60 || all_ready=0; done
expect_eq "the four builds whose finished pods were deleted unread are Ready" 1 "$all_ready"
expect_eq "each from its first attempt, read from the deleted pod" "1 1 1 1" \
	"$(for i in 1 2 3 4; do field ctl-gone "gone-$i" '{.status.platforms[0].attempts}'; echo; done | paste -sd' ')"
expect_eq "with the digest the pod said" "$(cat "$work/gone-1.digest")" "$(field ctl-gone gone-1 '{.status.platforms[0].digest}')"
expect_eq "no build pod was made again" "" "$(kubectl get pods -n ctl-gone -l multiarch.dev/role=build -o name)"
stop_controller gone
expect_eq "the held controller exits cleanly (no sanitizer report)" "0" "$(cat "$work/gone.exit")"
set_plan '{}'

echo "-- the bound on builds in flight"
# one build at a time: the first's pod hangs, so the second waits, says why and makes no pod; once the first is
# done (its pod deleted, the attempt made again, as the plan lets it succeed), the second starts
set_plan '{"ctl-bound/first/linux-riscv64/1": "hang"}'
bound_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_controller bound --leader-elect=false --max-builds-in-flight 1 --metrics-addr "127.0.0.1:$bound_port"
apply_mab ctl-bound first '"linux/riscv64"'
wait_for 30 pod_phase_is ctl-bound first-g1-linux-riscv64-a1 Running
apply_mab ctl-bound second '"linux/riscv64"'
if wait_for 30 condition_is ctl-bound second Ready False/Queued; then pass "bound 1: the second build is Queued"; else
	fail "bound 1: the second build is Queued" "$(kubectl get mab -n ctl-bound -o yaml | tail -40)"; fi
expect_eq "bound 1: its platform Pending, reason Queued, no pod" "Pending/Queued/" \
	"$(field ctl-bound second '{.status.platforms[0].phase}/{.status.platforms[0].reason}')/$(kubectl get pods -n ctl-bound -l multiarch.dev/build=second -o name)"
expect_match "bound 1: the message names the bound" "runs at most 1 build at once \\(--max-builds-in-flight\\)" \
	"$(field ctl-bound second '{.status.conditions[?(@.type=="Ready")].message}')"
expect_eq "bound 1: the metrics count one in flight, one queued, the bound" "1 1 1" \
	"$(curl -s "http://127.0.0.1:$bound_port/metrics" | awk '$1 == "multiarch_builds_in_flight" || $1 == "multiarch_builds_queued" ||
		$1 == "multiarch_builds_in_flight_limit" { v[$1] = $2 } END { print v["multiarch_builds_in_flight"], v["multiarch_builds_queued"], v["multiarch_builds_in_flight_limit"] }')"
set_plan '{}'
kubectl delete pod -n ctl-bound first-g1-linux-riscv64-a1 --wait=false >/dev/null
if ready ctl-bound first && ready ctl-bound second; then pass "bound 1: both Ready, one after the other"; else
	fail "bound 1: both Ready" "$(kubectl get mab,pods -n ctl-bound -o wide; tail -20 "$work/bound.log")"; fi
expect_eq "bound 1: the second's pod was made after the first build finished" "true" \
	"$(jq -rn --arg finished "$(field ctl-bound first '{.status.completionTime}')" \
		--arg made "$(kubectl get pod -n ctl-bound second-g1-linux-riscv64-a1 -o jsonpath='{.metadata.creationTimestamp}')" '$made >= $finished')"
expect_eq "bound 1: nothing in flight or queued afterwards" "0 0" \
	"$(curl -s "http://127.0.0.1:$bound_port/metrics" | awk '$1 == "multiarch_builds_in_flight" || $1 == "multiarch_builds_queued" { v[$1] = $2 }
		END { print v["multiarch_builds_in_flight"], v["multiarch_builds_queued"] }')"
stop_controller bound
expect_eq "the bounded controller exits cleanly" "0" "$(cat "$work/bound.exit")"
start_controller main --resync-period 2s

echo "-- retries"
set_plan '{"ctl-retry/once/linux-ppc64le/1": "fail", "ctl-retry/never/linux-ppc64le/*": "fail",
	"ctl-retry/partial/linux-ppc64le/*": "fail"}'
apply_mab ctl-retry once '"linux/riscv64", "linux/ppc64le"'
apply_mab ctl-retry never '"linux/riscv64", "linux/ppc64le"' '  policy: {retries: 1}'
apply_mab ctl-retry partial '"linux/riscv64", "linux/ppc64le"' '  policy: {retries: 0, optionalPlatforms: [linux/ppc64le]}'
if ready ctl-retry once; then pass "a platform failing once: Ready"; else fail "a platform failing once: Ready" "$(kubectl get mab,pods -n ctl-retry)"; fi
expect_eq "failing once: ppc64le took 2 attempts, riscv64 1" "2 1" \
	"$(field ctl-retry once '{.status.platforms[?(@.platform=="linux/ppc64le")].attempts} {.status.platforms[?(@.platform=="linux/riscv64")].attempts}')"
expect_eq "failing once: the riscv64 pod was not recreated" "once-g1-linux-riscv64-a1" \
	"$(kubectl get pods -n ctl-retry -l multiarch.dev/build=once,multiarch.dev/platform=linux-riscv64 -o jsonpath='{.items[*].metadata.name}')"
expect_eq "failing once: the failed attempt's pod is kept for its logs" "Failed" "$(kubectl get pod -n ctl-retry once-g1-linux-ppc64le-a1 -o jsonpath='{.status.phase}')"
if kubectl wait --for=condition=Stalled mab/never -n ctl-retry --timeout=60s >/dev/null 2>&1; then pass "retries exhausted: Stalled"; else
	fail "retries exhausted: Stalled" "$(kubectl get mab never -n ctl-retry -o yaml)"; fi
expect_eq "retries exhausted: phase, Ready and Stalled reasons" "Failed False/RetriesExhausted True/RetriesExhausted" \
	"$(field ctl-retry never '{.status.phase}') $(condition ctl-retry never Ready) $(condition ctl-retry never Stalled)"
expect_match "retries exhausted: the good riscv64 digest is kept" "^sha256:[0-9a-f]{64}$" \
	"$(field ctl-retry never '{.status.platforms[?(@.platform=="linux/riscv64")].digest}')"
expect_match "retries exhausted: the message says why" "no retries left.*simulated build failure" \
	"$(field ctl-retry never '{.status.platforms[?(@.platform=="linux/ppc64le")].message}')"
expect_eq "retries exhausted: no index Job" "" "$(kubectl get jobs -n ctl-retry -l multiarch.dev/build=never -o name)"
expect_eq "retries exhausted: 2 ppc64le attempts" "never-g1-linux-ppc64le-a1 never-g1-linux-ppc64le-a2" \
	"$(kubectl get pods -n ctl-retry -l multiarch.dev/build=never,multiarch.dev/platform=linux-ppc64le -o jsonpath='{.items[*].metadata.name}')"

if ready ctl-retry partial; then pass "an optional platform failed: Ready all the same"; else
	fail "an optional platform failed: Ready all the same" "$(kubectl get mab partial -n ctl-retry -o yaml)"; fi
expect_eq "and Degraded says the index is partial, naming what it lacks" \
	"True/PartialIndex the index lacks linux/ppc64le: optional, failed" \
	"$(condition ctl-retry partial Degraded) $(field ctl-retry partial '{.status.conditions[?(@.type=="Degraded")].message}')"
expect_eq "the index holds the platform that succeeded only" "linux/riscv64" "$(skopeo inspect --raw --tls-verify=false \
	"docker://$REGISTRY/ctl-retry/partial:1.0" | jq -r '[.manifests[].platform | .os + "/" + .architecture] | join(",")')"
expect_eq "a complete index: Degraded=False/CompleteIndex" "False/CompleteIndex" "$(condition ctl-retry once Degraded)"

echo "-- timeout"
set_plan '{"ctl-timeout/slow/linux-ppc64le/1": "hang"}'
apply_mab ctl-timeout slow '"linux/riscv64", "linux/ppc64le"' '  policy: {timeout: 1m, retries: 1}'
wait_for 20 pod_running ctl-timeout slow-g1-linux-ppc64le-a1
# a minute is the shortest timeout the API allows; the controller measures from the pod's creation
if ready ctl-timeout slow 100; then pass "a hanging attempt times out and the retry succeeds"; else
	fail "a hanging attempt times out and the retry succeeds" "$(kubectl get mab,pods -n ctl-timeout; kubectl get mab slow -n ctl-timeout -o yaml)"; fi
expect_eq "timeout: the hanging pod was deleted" "" "$(kubectl get pod -n ctl-timeout slow-g1-linux-ppc64le-a1 -o name 2>/dev/null)"
expect_match "timeout: recorded as a timeout event" "timed out after 60s" \
	"$(kubectl get events -n ctl-timeout -o jsonpath='{range .items[*]}{.message}{"\n"}{end}')"
set_plan '{}'

echo "-- missing nodes"
kubectl cordon fake-ppc64le-1 fake-ppc64le-2 >/dev/null
apply_mab ctl-nodes waits '"linux/riscv64", "linux/ppc64le"'
apply_mab ctl-nodes fails '"linux/riscv64", "linux/ppc64le"' '  policy: {missingNodes: Fail}'
wait_for 20 condition_is ctl-nodes waits NodesAvailable False/NoMatchingNodes
expect_eq "no ppc64le node: NodesAvailable False/NoMatchingNodes" "False/NoMatchingNodes" "$(condition ctl-nodes waits NodesAvailable)"
expect_eq "no ppc64le node: Reconciling, not Stalled" "True False" \
	"$(field ctl-nodes waits '{.status.conditions[?(@.type=="Reconciling")].status} {.status.conditions[?(@.type=="Stalled")].status}')"
expect_eq "no ppc64le node: ppc64le Waiting" "Waiting" "$(field ctl-nodes waits '{.status.platforms[?(@.platform=="linux/ppc64le")].phase}')"
wait_for 20 test -n "$(kubectl get pod -n ctl-nodes waits-g1-linux-ppc64le-a1 -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}' 2>/dev/null)"
expect_eq "no ppc64le node: its pod is made all the same, pinned, and Pending as Unschedulable (for an autoscaler)" \
	"ppc64le Pending Unschedulable" "$(kubectl get pod -n ctl-nodes waits-g1-linux-ppc64le-a1 -o jsonpath='{.spec.nodeSelector.kubernetes\.io/arch} {.status.phase} {.status.conditions[?(@.type=="PodScheduled")].reason}')"
expect_match "no ppc64le node: the platform's message says the pod waits, and how long it may" \
	"has taken pod waits-g1-linux-ppc64le-a1; it waits for one until [0-9T:-]+Z \\(policy.nodeWaitTimeout 900s\\)" \
	"$(field ctl-nodes waits '{.status.platforms[?(@.platform=="linux/ppc64le")].message}')"
apply_mab ctl-nodes never '"linux/riscv64", "linux/386"' '  policy: {nodeWaitTimeout: 10s}'
if kubectl wait --for=condition=Stalled mab/fails -n ctl-nodes --timeout=30s >/dev/null 2>&1; then pass "no ppc64le node, policy Fail: Stalled"; else
	fail "no ppc64le node, policy Fail: Stalled" "$(kubectl get mab fails -n ctl-nodes -o yaml)"; fi
expect_eq "policy Fail: reason NoMatchingNodes" "False/NoMatchingNodes" "$(condition ctl-nodes fails Ready)"
if kubectl wait --for=condition=Stalled mab/never -n ctl-nodes --timeout=60s >/dev/null 2>&1; then
	pass "no node within policy.nodeWaitTimeout (10s): Stalled"; else fail "nodeWaitTimeout: Stalled" "$(kubectl get mab never -n ctl-nodes -o yaml)"; fi
expect_eq "nodeWaitTimeout: the platform failed with NoMatchingNodes, in one attempt" "Failed NoMatchingNodes 1" \
	"$(field ctl-nodes never '{.status.platforms[?(@.platform=="linux/386")].phase} {.status.platforms[?(@.platform=="linux/386")].reason} {.status.platforms[?(@.platform=="linux/386")].attempts}')"
wait_for 20 pod_gone ctl-nodes never-g1-linux-386-a1
expect_eq "nodeWaitTimeout: its waiting pod is deleted" "" "$(kubectl get pod -n ctl-nodes never-g1-linux-386-a1 -o name 2>/dev/null)"
add_node fake-ppc64le-3 ppc64le
if ready ctl-nodes waits; then pass "policy Wait: the build goes on once a ppc64le node is added"; else fail "policy Wait: continues" "$(kubectl get mab,pods -n ctl-nodes -o wide)"; fi
expect_eq "policy Wait: the ppc64le pod ran on the new node" "fake-ppc64le-3" \
	"$(kubectl get pod -n ctl-nodes waits-g1-linux-ppc64le-a1 -o jsonpath='{.spec.nodeName}')"
kubectl uncordon fake-ppc64le-1 fake-ppc64le-2 >/dev/null

echo "-- spec changed and deleted mid-build"
set_plan '{"ctl-change/moved/linux-ppc64le/*": "hang", "ctl-change/gone/linux-ppc64le/*": "hang"}'
apply_mab ctl-change moved '"linux/riscv64", "linux/ppc64le"'
apply_mab ctl-change gone '"linux/riscv64", "linux/ppc64le"'
wait_for 20 pod_running ctl-change moved-g1-linux-ppc64le-a1
wait_for 20 pod_running ctl-change gone-g1-linux-ppc64le-a1
set_plan '{"ctl-change/gone/linux-ppc64le/*": "hang"}'
kubectl patch mab moved -n ctl-change --type=merge -p '{"spec":{"buildArgs":[{"name":"VERSION","value":"2"}]}}' >/dev/null
if ready ctl-change moved; then pass "spec changed mid-build: generation 2 Ready"; else fail "spec changed: Ready" "$(kubectl get mab,pods -n ctl-change)"; fi
expect_eq "spec changed: observedGeneration 2" "2" "$(field ctl-change moved '{.status.observedGeneration}')"
wait_for 20 pod_gone ctl-change moved-g1-linux-ppc64le-a1
expect_eq "spec changed: the running generation-1 pod was stopped" "" "$(kubectl get pod -n ctl-change moved-g1-linux-ppc64le-a1 -o name 2>/dev/null)"
expect_match "spec changed: a Restarted event" "Restarted" "$(kubectl get events -n ctl-change --field-selector involvedObject.name=moved -o jsonpath='{.items[*].reason}')"
kubectl delete mab gone -n ctl-change --wait=false >/dev/null
wait_for 30 children_gone ctl-change gone
expect_eq "deleted mid-build: its pods are collected" "" "$(kubectl get pods,jobs -n ctl-change -l multiarch.dev/build=gone -o name)"
sleep 3
expect_eq "deleted mid-build: nothing is recreated" "" "$(kubectl get pods,jobs -n ctl-change -l multiarch.dev/build=gone -o name)"
gen1=$(field ctl-change moved '{.metadata.generation}')
kubectl patch mab moved -n ctl-change --type=merge -p '{"spec":{"rebuildRequest":"again"}}' >/dev/null
wait_for 20 field_is ctl-change moved '{.status.observedGeneration}' "$((gen1 + 1))"
if ready ctl-change moved; then pass "rebuildRequest: built again"; else fail "rebuildRequest: built again"; fi
expect_match "rebuildRequest: new generation's pods" "moved-g3-linux-riscv64-a1" "$(kubectl get pods -n ctl-change -o name)"
# the annotation a GitOps tool leaves alone: the same generation is built again under new pod names
kubectl annotate mab moved -n ctl-change multiarch.dev/requested-at=2026-12-02T10:00:00Z >/dev/null
wait_for 20 field_is ctl-change moved '{.status.lastHandledRequestedAt}' 2026-12-02T10:00:00Z
if ready ctl-change moved; then pass "requested-at: built again"; else fail "requested-at: built again" "$(kubectl get mab,pods -n ctl-change)"; fi
expect_eq "requested-at: the generation did not move" "$((gen1 + 1)) $((gen1 + 1))" \
	"$(field ctl-change moved '{.metadata.generation} {.status.observedGeneration}')"
round_pods=$(kubectl get pods -n ctl-change -l multiarch.dev/build=moved,multiarch.dev/role=build,multiarch.dev/request -o name | sort | tr '\n' ' ')
expect_match "requested-at: the round's own pods" "^pod/moved-g3r[0-9a-f]{8}-linux-ppc64le-a1 pod/moved-g3r[0-9a-f]{8}-linux-riscv64-a1 $" "$round_pods"
expect_eq "requested-at: the earlier round's pods stay" "pod/moved-g3-linux-riscv64-a1" "$(kubectl get pod -n ctl-change moved-g3-linux-riscv64-a1 -o name)"
expect_match "requested-at: the round's index digest" "^sha256:[0-9a-f]{64}$" "$(field ctl-change moved '{.status.digest}')"
expect_match "requested-at: a Restarted event names it" "multiarch.dev/requested-at is \"2026-12-02T10:00:00Z\": the same spec is built again" \
	"$(kubectl get events -n ctl-change --field-selector involvedObject.name=moved,reason=Restarted -o jsonpath='{.items[*].message}')"
# retention (the defaults: one earlier succeeded round, one failed or stopped): g3 stays, g2 goes (g1, stopped, keeps
# what had finished before its spec changed, which depends on timing; test_reconcile covers stopped rounds)
g2_gone() { [ -z "$(kubectl get pods,jobs -n ctl-change -l multiarch.dev/build=moved,multiarch.dev/generation=2 -o name)" ]; }
wait_for 20 g2_gone
expect_eq "retention: the older succeeded round's pods and Job are deleted, the newer one's stay" \
	"0 2" "$(for g in 2 3; do kubectl get pods -n ctl-change -l multiarch.dev/build=moved,multiarch.dev/role=build,multiarch.dev/generation=$g,!multiarch.dev/request -o name | wc -l; done | paste -sd' ')"
expect_match "history: one entry per finished round, newest last" "^g2 g3 g3r[0-9a-f]{8}$" "$(field ctl-change moved '{.status.history[*].round}')"
expect_match "history: each with its digest and outcome" "^Succeeded sha256:[0-9a-f]{64}$" \
	"$(field ctl-change moved '{.status.history[-1:].phase} {.status.history[-1:].digest}')"
# a GitOps tool applies the manifest from Git (without the annotation) server-side: the annotation stays, nothing is built
kubectl get mab moved -n ctl-change -o json | jq '{apiVersion, kind, metadata: {name: .metadata.name, namespace: .metadata.namespace}, spec}' |
	kubectl apply --server-side --field-manager=gitops-sync -f - >/dev/null
sleep 3
expect_eq "requested-at: a sync of the manifest keeps it and builds nothing" "2026-12-02T10:00:00Z 2026-12-02T10:00:00Z 2" \
	"$(field ctl-change moved '{.metadata.annotations.multiarch\.dev/requested-at} {.status.lastHandledRequestedAt}') $(kubectl get pods -n ctl-change -l multiarch.dev/build=moved,multiarch.dev/role=build,multiarch.dev/request -o name | wc -l)"
set_plan '{}'

echo "-- two replicas"
# the single replica used so far holds the lease: it goes first, releasing it
stop_controller main
expect_eq "the single replica stopped cleanly" "0" "$(cat "$work/main.exit")"
start_controller alpha
if wait_for 20 grep -q "became the leader" "$work/alpha.log"; then pass "two replicas: one became the leader"; else
	fail "two replicas: one became the leader" "$(tail -3 "$work/alpha.log")"; fi
# the standbys' wall clocks are off by 30 s either way: a lease's renewTime is its holder's clock, which a standby
# never compares with its own (it measures how long the lease has not changed, on its monotonic clock)
start_skewed beta -30s
start_skewed gamma +30s
leader=alpha other=beta
mark=$(audit_lines)
apply_mab ctl-ha one '"linux/riscv64", "linux/ppc64le"'
if ready ctl-ha one; then pass "two replicas: the build is Ready"; else fail "two replicas: Ready"; fi
sleep 4
expect_eq "two replicas: the standby wrote nothing" "0" "$(writes_by "$other" "$mark")"
expect_match "two replicas: the leader did the writes" "^[1-9]" "$(writes_by "$leader" "$mark")"
expect_no_match "a standby whose clock is 30 s ahead does not take a lease renewed 2 s ago" "became the leader" "$(cat "$work/gamma.log")"
expect_eq "it wrote nothing" "0" "$(writes_by gamma "$mark")"
stop_controller gamma
killed_at=$(date +%s.%N)
stop_controller "$leader" KILL
if wait_for 30 became_leader "$other" 1; then
	took=$(elapsed "$killed_at")
	if at_most "$took" 20; then pass "two replicas: takeover after SIGKILL in ${took}s by a standby 30 s behind (lease 15s + 2 retries of 2s)"; else
		fail "two replicas: takeover within 20s by a standby 30 s behind" "took ${took}s"; fi
else
	fail "two replicas: the standby took over" "$(tail -5 "$work/$other.log")"
fi
apply_mab ctl-ha two '"linux/riscv64", "linux/ppc64le"'
if ready ctl-ha two; then pass "two replicas: the new leader builds"; else fail "two replicas: the new leader builds"; fi
from=$(($(log_lines "$leader") + 1))
start_controller "$leader"
wait_for 20 grep -q "waiting for lease" <(tail -n +"$from" "$work/$leader.log")
sleep 1
released_at=$(date +%s.%N)
stop_controller "$other" TERM
expect_eq "graceful stop: exit 0" "0" "$(cat "$work/$other.exit")"
if wait_for 10 became_leader "$leader" "$from"; then
	took=$(elapsed "$released_at")
	if at_most "$took" 3.5; then pass "graceful stop: the lease is released and taken over in ${took}s"; else
		fail "graceful stop: takeover within 3s" "took ${took}s"; fi
else
	fail "graceful stop: takeover" "$(tail -5 "$work/$leader.log")"
fi
stop_controller "$leader"

touch "$work/kubelet.stop"
expect_no_match "no sanitizer report in any controller or index run" "AddressSanitizer|LeakSanitizer|runtime error" "$(cat "$work"/*.log "$work/kubelet.out")"
echo "-- logs"
if out=$(python3 tests/env/log-check.py "$work/main.log" --need namespace=reconciled --need build=reconciled --need phase=reconciled \
	--need builds="caches synced" --need lease="became the leader"); then
	pass "every text log line is TIME LEVEL MESSAGE key=value..., with the fields each message names"
else
	fail "every text log line is TIME LEVEL MESSAGE key=value..., with the fields each message names" "$out"
fi
expect_no_match "... no message carries a build's name" "^  .*(hello|moved|ctl-)" "$out"

finish controller
