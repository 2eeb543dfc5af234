#!/usr/bin/env bash
# Chaos soak of the controller on the local cluster: builds run while the controller is SIGKILLed every few seconds,
# kube-apiserver restarts twice and etcd once (the restarts expire the controller's watches: 410, then a relist),
# and every registry request goes through a proxy that injects 503s, 429s with Retry-After, reset connections and
# slow answers. An auditor then checks the invariants. The controller is the ThreadSanitizer build by default.
# MAC_CHAOS_BUILDS and MAC_CHAOS_KILLS set the size (make test: 50 builds, at least 20 kills; make chaos: 200 and
# 60); MAC_CHAOS_REPORT names a file for the figures.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh

BIN=${MAC_CHAOS_BIN:-build/tsan/bin/multiarch-controller}
BUILDS=${MAC_CHAOS_BUILDS:-50}
MIN_KILLS=${MAC_CHAOS_KILLS:-20}
REPORT=${MAC_CHAOS_REPORT:-}
DEADLINE_S=${MAC_CHAOS_DEADLINE:-900} # the whole soak stops by itself after this long
NS=chaos
work=$(mktemp -d)
audit=$MAC_CLUSTER_DIR/logs/audit.log
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
export ASAN_OPTIONS="halt_on_error=1 exitcode=66"

cleanup() {
	for f in "$work"/*.pid; do
		[ -e "$f" ] || continue
		kill -KILL "$(cat "$f")" 2>/dev/null
	done
	touch "$work/kubelet.stop"
	[ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null
	wait 2>/dev/null
	kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

metrics_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# the controller, in the background, with one identity across restarts (as a restarted pod keeps its name)
start_controller() {
	"$BIN" run --config tests/env/policy-open.yaml --insecure-registry "$PROXY" --retry-backoff 1s --identity chaos --namespace "$NS" --leader-election-id chaos \
		--metrics-addr "127.0.0.1:$metrics_port" --log-level debug >>"$work/ctl.log" 2>&1 &
	echo $! >"$work/ctl.pid"
	starts=$((starts + 1))
}

# stop_controller SIGNAL: stops it, waits, and records how it ended
stop_controller() {
	local pid code
	pid=$(cat "$work/ctl.pid" 2>/dev/null) || return 0
	exec 3>&2 2>/dev/null
	kill "-$1" "$pid"
	wait "$pid"
	code=$?
	exec 2>&3 3>&-
	echo "$1 $code" >>"$work/exits"
	rm -f "$work/ctl.pid"
}

# scrape: adds the running controller's informer counters to the totals (they restart from zero with each process)
scrape() {
	local m
	m=$(curl -fsS --max-time 2 "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null) || return 0
	expired=$((expired + $(awk '/^multiarch_informer_expired_total/ { s += $2 } END { print s + 0 }' <<<"$m")))
	lists=$((lists + $(awk '/^multiarch_informer_lists_total/ { s += $2 } END { print s + 0 }' <<<"$m")))
}

ready_count() {
	kubectl get mab -n "$NS" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c True
}
all_ready() { [ "$(ready_count)" -eq "$BUILDS" ]; }

# platforms_of I: the platforms build I asks for (a mix of one and two)
platforms_of() {
	case $(($1 % 4)) in
	0) echo "linux/riscv64" ;;
	1) echo "linux/ppc64le" ;;
	*) echo "linux/ppc64le,linux/riscv64" ;;
	esac
}

kubectl apply -f crds/multiarch.dev_multiarchbuilds.yaml >/dev/null
kubectl wait --for condition=established crd/multiarchbuilds.multiarch.dev --timeout=30s >/dev/null
# a run before this one on the same cluster leaves its builds, Jobs and Events: each run starts from none
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1
kubectl create namespace "$NS" >/dev/null

# registry faults: a few of each kind per ten builds, then the proxy passes everything
per=$(((BUILDS + 9) / 10))
faults="503x${per}@/manifests/,429x${per}@/manifests/,resetx${per}@/blobs/,slowx${per}"
coproc PROXY_CO { exec tests/env/fault-proxy.py --upstream "$REGISTRY" --faults "$faults" --log "$work/proxy.log" --lifetime "$DEADLINE_S"; }
PROXY_PID=$PROXY_CO_PID
read -r proxy_port <&"${PROXY_CO[0]}"
PROXY=127.0.0.1:$proxy_port

tests/env/fake-kubelet.py --binary "$BIN" --parallel 6 --log "$work/kubelet.log" --stop-file "$work/kubelet.stop" \
	--max-seconds "$DEADLINE_S" >"$work/kubelet.out" 2>&1 &
echo $! >"$work/kubelet.pid"

echo "-- $BUILDS builds under SIGKILLs, API server and etcd restarts and registry faults"
for i in $(seq 1 "$BUILDS"); do
	printf -- '---\napiVersion: multiarch.dev/v1alpha1\nkind: MultiArchBuild\nmetadata: {name: b%d, namespace: %s}\n' "$i" "$NS"
	printf 'spec:\n  image: %s/%s/b%d:1.0\n  platforms: [%s]\n' "$PROXY" "$NS" "$i" "$(platforms_of "$i")"
	printf '  source: {git: {url: https://git.example.com/team/b%d.git}}\n  policy: {retries: 10}\n' "$i"
done >"$work/builds.yaml"
mark=$(wc -l <"$audit")
starts=0 kills=0 apiserver_restarts=0 etcd_restarts=0 expired=0 lists=0 ready_at=""
started_at=$SECONDS
start_controller
kubectl apply -f "$work/builds.yaml" >/dev/null
deadline=$((SECONDS + DEADLINE_S))
# SIGKILL every 2 to 5 s; after the 3rd and 9th kill the API server restarts, after the 6th etcd does. The
# controller lives through each restart (10 s) so its watches meet the new server; killing goes on until every
# build is Ready, every restart happened and there were at least MIN_KILLS kills.
until { all_ready && [ $kills -ge "$MIN_KILLS" ] && [ $apiserver_restarts -ge 2 ] && [ $etcd_restarts -ge 1 ]; } || [ $SECONDS -ge $deadline ]; do
	sleep "$((RANDOM % 4 + 2)).$((RANDOM % 10))"
	[ -z "$ready_at" ] && all_ready && ready_at=$((SECONDS - started_at))
	scrape
	stop_controller KILL
	kills=$((kills + 1))
	start_controller
	case $kills in
	3 | 9)
		# a write the controller does not watch moves etcd past every resourceVersion it holds; compacting there
		# makes each of its watches resume too old: 410 Gone from the restarted server, then a relist
		kubectl create configmap "revision-bump-$kills" -n default >/dev/null 2>&1
		tests/env/cluster-ctl.sh compact-etcd >/dev/null 2>&1
		tests/env/cluster-ctl.sh restart kube-apiserver >/dev/null 2>&1 && apiserver_restarts=$((apiserver_restarts + 1))
		sleep 10
		;;
	6)
		tests/env/cluster-ctl.sh restart etcd >/dev/null 2>&1 && etcd_restarts=$((etcd_restarts + 1))
		sleep 10
		;;
	esac
done
# a last stretch without kills: what is left finishes under one process
wait_for $((deadline - SECONDS > 0 ? deadline - SECONDS : 1)) all_ready
took=$((SECONDS - started_at))
[ -n "$ready_at" ] || ready_at=$took
scrape
stop_controller TERM
touch "$work/kubelet.stop"

echo "-- the auditor"
expect_eq "every build is Ready" "$BUILDS" "$(ready_count)"
if [ "$kills" -ge "$MIN_KILLS" ]; then pass "the controller was killed $kills times (at least $MIN_KILLS)"; else
	fail "the controller was killed at least $MIN_KILLS times" "only $kills before the deadline"; fi
expect_eq "kube-apiserver restarted twice, etcd once" "2 1" "$apiserver_restarts $etcd_restarts"
if [ "$expired" -gt 0 ]; then pass "watches expired (410) and were relisted: $expired times"; else
	fail "watches expired (410) and were relisted" "expired=$expired lists=$lists"; fi
for kind in 503 429 reset slow; do
	n=$(grep -cE " ${kind}(:[0-9]+)?\$" "$work/proxy.log")
	expect_eq "the registry proxy injected every $kind fault ($per)" "$per" "$n"
done
bad_index=0 missing_index=""
for i in $(seq 1 "$BUILDS"); do
	want=$(platforms_of "$i")
	got=$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/$NS/b$i:1.0" 2>/dev/null |
		jq -r '[.manifests[].platform | .os + "/" + .architecture] | sort | join(",")' 2>/dev/null)
	if [ "$got" != "$want" ]; then
		bad_index=$((bad_index + 1))
		missing_index="$missing_index b$i($got)"
	fi
done
expect_eq "every index holds exactly its build's platforms (skopeo)" "0" "$bad_index${missing_index:+:$missing_index}"
image_mismatch=$(kubectl get mab -n "$NS" -o json | jq -r '.items[] | select(.status.image != (.spec.image | sub(":1.0$"; "")) + "@" + .status.digest) | .metadata.name')
expect_eq "every status.image is the build's repository at its index digest" "" "$image_mismatch"
dups=$(kubectl get pods -n "$NS" -l multiarch.dev/role=build -o json |
	jq -r '.items[].metadata.labels | [.["multiarch.dev/build"], .["multiarch.dev/generation"], .["multiarch.dev/platform"], .["multiarch.dev/attempt"]] | join("/")' |
	sort | uniq -d)
expect_eq "no two pods for one (build, generation, platform, attempt)" "" "$dups"
created=$(tail -n +"$mark" "$audit" | jq -r --arg ns "$NS" 'select(.stage == "ResponseComplete" and .verb == "create" and .objectRef.namespace == $ns
	and (.objectRef.resource == "pods" or .objectRef.resource == "jobs") and (.objectRef.subresource // "") == "" and .responseStatus.code == 201
	and .objectRef.name != null) | .objectRef.resource + "/" + .objectRef.name')
expect_eq "no pod or Job name created twice (audit log)" "" "$(sort <<<"$created" | uniq -d)"
# counted in the API, not the audit log: a create the API server stored just before it was killed has no
# ResponseComplete entry (the controller's retry met AlreadyExists and adopted it)
index_jobs=$(kubectl get jobs -n "$NS" -l multiarch.dev/role=index -o json |
	jq -r '[(.items | length), ([.items[] | select(.status.succeeded == 1)] | length)] | map(tostring) | join(" ")')
expect_eq "one index Job per build, each completed once" "$BUILDS $BUILDS" "$index_jobs"
succeeded_twice=$(kubectl get events -n "$NS" -o json | jq -r '.items[] | select(.reason == "Succeeded") | .regarding.name // .involvedObject.name' | sort | uniq -d)
expect_eq "no build reported Succeeded twice" "" "$succeeded_twice"
# build pods and Jobs belong to a living build, index pods to a living Job
owners=$(kubectl get mab,jobs -n "$NS" -o jsonpath='{range .items[*]}{.metadata.uid}{"\n"}{end}')
orphans=$(kubectl get pods,jobs -n "$NS" -l multiarch.dev/build -o json | jq -r '.items[] | .metadata.name + " " + (.metadata.ownerReferences[0].uid // "none")' |
	while read -r name uid; do grep -qx "$uid" <<<"$owners" || echo "$name"; done)
expect_eq "no orphaned pods or Jobs" "" "$orphans"
expect_eq "no build pod left running or pending" "" \
	"$(kubectl get pods -n "$NS" -l multiarch.dev/role=build --field-selector=status.phase!=Succeeded,status.phase!=Failed -o name)"
crashes=$(grep -v -e '^KILL 137$' -e '^TERM 0$' "$work/exits")
expect_eq "the controller never exited but when killed (and 0 on SIGTERM)" "" "$crashes"
reports=$(grep -h -A30 -E "WARNING: ThreadSanitizer|ERROR: (Address|Leak)Sanitizer|runtime error|Segmentation fault|Aborted" \
	"$work/ctl.log" "$work/kubelet.log" "$work/kubelet.out" | head -n 80)
expect_eq "no sanitizer report and no crash in the controller's or the index runs' logs" "" "$reports"
# the logs stay for a look afterwards
mkdir -p build/results/chaos
cp "$work/ctl.log" "$work/kubelet.log" "$work/proxy.log" "$work/exits" build/results/chaos/ 2>/dev/null
retried=$(kubectl get mab -n "$NS" -o json | jq '[.items[].status.platforms[] | select(.attempts > 1)] | length')
requests=$(wc -l <"$work/proxy.log")
echo "figures: builds=$BUILDS ready_after=${ready_at}s took=${took}s kills=$kills starts=$starts apiserver_restarts=$apiserver_restarts etcd_restarts=$etcd_restarts" \
	"expired=$expired lists=$lists registry_requests=$requests faults_each=$per retried_platforms=$retried"
if [ -n "$REPORT" ]; then
	cat >"$REPORT" <<EOF
| figure | value |
|---|---|
| builds (one or two platforms) | $BUILDS |
| controller binary | \`$BIN\` |
| every build Ready after (checked between kills) | $ready_at s |
| soak length (until every build was Ready and every kill and restart done) | $took s |
| controller SIGKILLs / starts | $kills / $starts |
| kube-apiserver restarts / etcd restarts | $apiserver_restarts / $etcd_restarts |
| watches expired with 410 and relisted (summed over processes) | $expired |
| full LISTs by informers (summed over processes) | $lists |
| registry requests through the fault proxy | $requests |
| faults injected: 503 / 429 (Retry-After: 1) / reset / slow (2 s) | $per each |
| platforms that needed more than one attempt | $retried |
| auditor checks passed / failed | $T_PASSED / $T_FAILED |
EOF
fi
finish chaos
