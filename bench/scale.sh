#!/usr/bin/env bash
# The controller at scale, side by side with k8s.io/sample-controller: for each size, a fresh local cluster with
# BENCH_NODES kwok nodes (half amd64, half arm64), the controller started and synced, then SIZE objects created at
# once (MultiArchBuilds, half single-platform and half two-platform; or Foos), run until every one is done, then left
# idle across two resyncs. Build and index pods are ended by a kwok stage (bench/scale-stages.yaml): no image is built.
# Each controller runs as its ServiceAccount (ours under deploy/rbac.yaml, sample-controller under
# bench/sample-controller-rbac.yaml), so that the API server's priority and fairness treats both as workloads.
#
# Usage: bench/scale.sh   BENCH_SCALE_SIZES (default "1000 10000"), BENCH_NODES (default 1000),
#                         BENCH_SCALE_DEADLINE seconds per run (default 2400), BENCH_CONTROLLERS (default both),
#                         BENCH_CREATE_RATE objects per second (default: all at once; a steady rate measures what the
#                         controller adds to each object's latency when it is not queueing a burst),
#                         BENCH_WORKERS both controllers' workers (default 2, sample-controller's own number),
#                         BENCH_IDLE_S how long to stay idle after (default two resyncs and 5 s; 0: not measured),
#                         BENCH_RUN a run label, BENCH_PROFILE_S (a CPU profile of the API server over that many
#                         seconds from the first create, bench/apiserver-profile.sh; default none)
# Output: build/bench/scale-IMPL-SIZE[-rateR].json (one per run), build/bench/scale.md; with BENCH_PROFILE_S
#         build/bench/profile-scale-IMPL-SIZE-wW[-RUN].{pb.gz,txt}
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${BENCH_SCALE_SIZES:-"1000 10000"}
NODES=${BENCH_NODES:-1000}
DEADLINE=${BENCH_SCALE_DEADLINE:-2400}
CONTROLLERS=${BENCH_CONTROLLERS:-"multiarch-controller sample-controller"}
RESYNC_S=30 # sample-controller's own resync period (fixed in its main.go); ours is given the same
out=build/bench
mkdir -p "$out"
export PATH=/usr/local/go/bin:$PATH
peers=$(bench/peers.sh)
export MAC_CLUSTER_DIR=$PWD/.local/bench-scale MAC_CLUSTER_ENV=$PWD/.local/bench-scale.env
export MAC_NODES_AMD64=$((NODES / 2)) MAC_NODES_ARM64=$((NODES - NODES / 2))
# the control plane's own clients must not be the bottleneck of a controller benchmark
export MAC_KWOK_EXTRA_CONFIG=$PWD/bench/scale-stages.yaml MAC_CONTROL_PLANE_QPS=1000 MAC_AUDIT_MAXSIZE=8000
# shellcheck source=tests/env/common.sh
. tests/env/common.sh
work=$(mktemp -d)
ctl_pid="" sampler_pid="" metrics_port=""
stop_all() {
	[ -z "$sampler_pid" ] || kill "$sampler_pid" 2>/dev/null || true
	[ -z "$ctl_pid" ] || { kill "$ctl_pid" 2>/dev/null; wait "$ctl_pid" 2>/dev/null || true; }
	sampler_pid="" ctl_pid=""
}
cleanup() {
	stop_all
	tests/env/cluster-down.sh >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }
# metric NAME: the value of an unlabelled sample of our controller's /metrics
metric() { curl -sS "http://127.0.0.1:$metrics_port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
now_rfc3339() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
IDLE_S=${BENCH_IDLE_S:-$((RESYNC_S * 2 + 5))}

# sa_kubeconfig NAMESPACE ACCOUNT FILE: a kubeconfig that authenticates as the ServiceAccount, with a token it asks for
sa_kubeconfig() {
	cat >"$3" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$MAC_APISERVER", certificate-authority: "$MAC_CLUSTER_CA"}}]
users: [{name: sa, user: {token: "$(kubectl create token "$2" -n "$1" --duration=4h)"}}]
contexts: [{name: sa, context: {cluster: local, user: sa}}]
current-context: sa
EOF
}

# write_objects IMPL N DIR: the N objects as YAML files of 500 each
write_objects() {
	local impl=$1 n=$2 dir=$3 i platforms
	mkdir -p "$dir"
	for i in $(seq 1 "$n"); do
		if [ "$impl" = multiarch-controller ]; then
			case $((i % 4)) in
			0 | 2) platforms='"linux/amd64", "linux/arm64"' ;;
			1) platforms='"linux/amd64"' ;;
			3) platforms='"linux/arm64"' ;;
			esac
			printf -- '---\napiVersion: multiarch.dev/v1alpha1\nkind: MultiArchBuild\nmetadata: {name: b%05d, namespace: bench}\nspec:\n  image: registry.bench.invalid/bench/b%05d:1.0\n  platforms: [%s]\n  source: {git: {url: https://git.example.com/bench/b%05d.git}}\n' \
				"$i" "$i" "$platforms" "$i"
		else
			printf -- '---\napiVersion: samplecontroller.k8s.io/v1alpha1\nkind: Foo\nmetadata: {name: b%05d, namespace: bench}\nspec: {deploymentName: b%05d, replicas: 1}\n' "$i" "$i"
		fi >>"$dir/objects-$(((i - 1) / ${BENCH_CREATE_RATE:-500})).yaml"
	done
}

# done_count IMPL: how many objects are done (Ready; for a Foo, its status written)
done_count() {
	if [ "$1" = multiarch-controller ]; then
		# the controller's count of Succeeded builds in its cache (the status it wrote, as the watch brought it
		# back): a look that costs the API server nothing, where a list of every build costs it a few percent
		local n
		n=$(metric 'multiarch_builds{phase="Succeeded"}')
		echo "${n:-0}"
	else
		kubectl get foos -n bench -o json --chunk-size=2000 | jq '[.items[] | select(.status.availableReplicas != null)] | length'
	fi
}

run() {
	local impl=$1 n=$2 report log=$work/$1-$2.log workers=${BENCH_WORKERS:-2} sa_config=$work/$1.kubeconfig
	report=$out/scale-$1-$2${BENCH_CREATE_RATE:+-rate$BENCH_CREATE_RATE}-w$workers${BENCH_RUN:+-$BENCH_RUN}.json
	echo "bench: $impl with $n objects on $NODES nodes: starting a fresh cluster" >&2
	tests/env/cluster-down.sh >/dev/null 2>&1 || true
	MAC_APISERVER_PROFILING=${BENCH_PROFILE_S:+true} MAC_REAL_NODE=0 tests/env/cluster-up.sh >&2 # kwok nodes only: the scale benchmark measures the controller
	# shellcheck disable=SC1090
	. "$MAC_CLUSTER_ENV"
	kubectl create namespace bench >/dev/null
	if [ "$impl" = multiarch-controller ]; then
		kubectl apply -f crds/multiarch.dev_multiarchbuilds.yaml >/dev/null
		# kubectl wait fails at once while the CRD has no conditions yet: asked again until it is served
		wait_until 60 "the MultiArchBuild CRD" kubectl wait --for condition=established crd/multiarchbuilds.multiarch.dev --timeout=10s
		kubectl apply -f deploy/namespace.yaml -f deploy/serviceaccount.yaml -f deploy/rbac.yaml >/dev/null
		sa_kubeconfig multiarch-system multiarch-controller "$sa_config"
		metrics_port=$(free_port)
		bin/multiarch-controller run --kubeconfig "$sa_config" --config tests/env/policy-open.yaml --leader-elect false --resync-period "${RESYNC_S}s" \
			--workers "$workers" --metrics-addr "127.0.0.1:$metrics_port" >"$log" 2>&1 &
		ctl_pid=$!
		synced() { grep -q "caches synced" "$log"; }
	else
		kubectl apply -f "$peers/sample-controller-crd.yaml" >/dev/null
		wait_until 60 "the Foo CRD" kubectl wait --for condition=established crd/foos.samplecontroller.k8s.io --timeout=10s
		kubectl apply -f bench/sample-controller-rbac.yaml >/dev/null
		sa_kubeconfig sample-system sample-controller "$sa_config"
		SAMPLE_CONTROLLER_WORKERS=$workers "$peers/sample-controller" --kubeconfig "$sa_config" >"$log" 2>&1 &
		ctl_pid=$!
		synced() { grep -q "Started workers" "$log"; }
	fi
	for _ in $(seq 1 600); do synced && break; sleep 0.1; done
	synced || { echo "bench: $impl did not sync; log: $log" >&2; tail -5 "$log" >&2; exit 1; }
	sleep 5
	local rss_empty
	rss_empty=$(rss_kb "$ctl_pid")
	( while kill -0 "$ctl_pid" 2>/dev/null; do rss_kb "$ctl_pid" 2>/dev/null; sleep 1; done ) >"$work/rss-$impl-$n" &
	sampler_pid=$!

	rm -rf "$work/objects" && write_objects "$impl" "$n" "$work/objects"
	local started done_at count=0
	started=$(date +%s.%N)
	python3 bench/cpu-shares.py snapshot $$ >"$work/cpu-start.json"
	local k profiler=
	if [ -n "${BENCH_PROFILE_S:-}" ]; then
		bench/apiserver-profile.sh "$BENCH_PROFILE_S" "$out/profile-scale-$impl-$n-w$workers${BENCH_RUN:+-$BENCH_RUN}" &
		profiler=$!
	fi
	if [ -n "${BENCH_CREATE_RATE:-}" ]; then
		# one file of BENCH_CREATE_RATE objects a second
		for ((k = 0; k * BENCH_CREATE_RATE < n; k++)); do
			kubectl create -f "$work/objects/objects-$k.yaml" >/dev/null &
			sleep 1
		done
	else
		# four kubectl at once, each creating its share of the files in turn
		for k in 0 1 2 3; do
			(
				for f in "$work"/objects/objects-*.yaml; do
					idx=${f##*-}
					idx=${idx%.yaml}
					[ $((idx % 4)) -eq "$k" ] || continue
					kubectl create -f "$f" >/dev/null
				done
			) &
		done
	fi
	wait_creators() {
		local j
		for j in $(jobs -p); do [ "$j" = "$ctl_pid" ] || [ "$j" = "$sampler_pid" ] || [ "$j" = "$profiler" ] || wait "$j"; done
	}
	wait_creators
	local created_in
	created_in=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	echo "bench: $n objects created in ${created_in}s" >&2
	while :; do
		count=$(done_count "$impl")
		elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
		echo "bench: $impl: $count of $n done after ${elapsed}s" >&2
		[ "$count" -lt "$n" ] || break
		awk -v e="$elapsed" -v d="$DEADLINE" 'BEGIN { exit !(e > d) }' && break
		kill -0 "$ctl_pid" 2>/dev/null || { echo "bench: $impl exited; log: $log" >&2; tail -5 "$log" >&2; exit 1; }
		# each look lists every object: rarely for large runs, so the looking does not load the API server
		if [ "$n" -gt 2000 ]; then sleep 30; else sleep 5; fi
	done
	done_at=$elapsed
	python3 bench/cpu-shares.py snapshot $$ >"$work/cpu-done.json"
	local events_done_s=null histograms=null
	if [ "$impl" = multiarch-controller ]; then
		# the controller's own part of each step's latency: the wait in its queue and the reconcile
		curl -sS "http://127.0.0.1:$metrics_port/metrics" >"$work/metrics.txt"
		histograms=$(python3 bench/histograms.py "$work/metrics.txt" multiarch_workqueue_wait_seconds multiarch_reconcile_duration_seconds)
		# the Events of the last builds may still be queued: the controller is not idle until they are written
		for _ in $(seq 1 600); do
			[ "$(metric multiarch_events_pending)" = 0 ] && break
			sleep 1
		done
		events_done_s=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	fi
	# idle across two resyncs: what a controller writes now, it writes for nothing
	sleep 3
	local idle_from idle_to rss_rest peak cpu cached events_dropped=null
	idle_from=$(now_rfc3339)
	sleep "$IDLE_S"
	idle_to=$(now_rfc3339)
	rss_rest=$(rss_kb "$ctl_pid")
	peak=$(hwm_kb "$ctl_pid")
	cpu=$(cpu_s "$ctl_pid")
	if [ "$impl" = multiarch-controller ]; then
		cached=$((n + $(kubectl get pods,jobs -n bench --no-headers --chunk-size=2000 | wc -l)))
	else
		cached=$((n + $(kubectl get deployments -n bench --no-headers --chunk-size=2000 | wc -l)))
	fi
	if [ "$impl" = multiarch-controller ]; then
		events_dropped=$(metric multiarch_events_dropped_total)
	fi
	[ -z "$profiler" ] || wait "$profiler"
	stop_all
	python3 bench/scale-audit.py "$MAC_CLUSTER_DIR/logs/audit.log" "$impl" "$idle_from" "$idle_to" >"$work/audit.json"
	jq --arg impl "$impl" --argjson n "$n" --argjson nodes "$NODES" --argjson "done" "$count" --argjson done_s "$done_at" \
		--argjson rate "${BENCH_CREATE_RATE:-0}" --argjson workers "$workers" --arg run "${BENCH_RUN:-}" \
		--argjson created_s "$created_in" --argjson rss_empty "$rss_empty" --argjson rss_rest "$rss_rest" --argjson peak "$peak" \
		--argjson cpu "$cpu" --argjson cached "$cached" --argjson events_dropped "${events_dropped:-null}" \
		--argjson events_done_s "$events_done_s" --argjson idle_s "$IDLE_S" \
		--argjson cpu_shares "$(python3 bench/cpu-shares.py diff "$work/cpu-start.json" "$work/cpu-done.json")" \
		--argjson histograms "$histograms" \
		'{controller: $impl, workers: $workers, run: $run, objects: $n, nodes: $nodes, create_rate: $rate, done: $done, all_done_s: $done_s, created_s: $created_s,
		  rss_synced_empty_kib: $rss_empty, rss_at_rest_kib: $rss_rest, rss_peak_kib: $peak, cpu_s: $cpu,
		  cached_objects: $cached, events_dropped: $events_dropped, events_written_s: $events_done_s, idle_s: $idle_s, cpu_until_done: $cpu_shares, controller_histograms: $histograms, kib_per_cached_object: ((($rss_rest - $rss_empty) / $cached) * 100 | round / 100),
		  audit: .}' "$work/audit.json" >"$report"
	cp "$log" "${report%.json}.log"
	echo "bench: $impl, $n objects: $(jq -c '{done, all_done_s, rss_at_rest_kib, rss_peak_kib, cpu_s, kib_per_cached_object}' "$report")" >&2
}

for n in $SIZES; do
	for impl in $CONTROLLERS; do
		run "$impl" "$n"
	done
done
python3 bench/summarize.py scale "$out"/scale-*-*.json >"$out/scale.md"
cat "$out/scale.md"
