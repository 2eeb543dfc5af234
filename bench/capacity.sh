#!/usr/bin/env bash
# The API server's write capacity on this machine, the floor the scale benchmark's throughput is read against: on a
# fresh local cluster like bench/scale.sh's (kwok nodes, the same flags), one raw multiplexed client
# (build/release/bench/write-capacity: the kube client's transfer loop, HTTP/2 streams) writes as fast as answers
# come, for each kind of write the controller makes (pod creates, Event creates, MultiArchBuild status patches, and
# their mix per build), at each concurrency, several runs each, in a namespace of its own that is deleted after.
#
# Usage: bench/capacity.sh   BENCH_NODES (default 1000), BENCH_CAPACITY_KINDS (default "pods events status mix"),
#                            BENCH_CAPACITY_THREADS (default "8 32 64"), BENCH_CAPACITY_SECONDS per run (default 20),
#                            BENCH_RUNS (default 3), BENCH_PROFILE_S (a CPU profile of the API server over that many
#                            seconds of each run, bench/apiserver-profile.sh; default none)
# Output: build/bench/capacity.jsonl (one line a run), build/bench/capacity.md (median and spread per kind and
#         concurrency), with BENCH_PROFILE_S build/bench/profile-capacity-RUN-KIND-THREADS.{pb.gz,txt}
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${BENCH_NODES:-1000}
KINDS=${BENCH_CAPACITY_KINDS:-"pods events status mix"}
THREADS=${BENCH_CAPACITY_THREADS:-"8 32 64"}
SECONDS_PER_RUN=${BENCH_CAPACITY_SECONDS:-20}
RUNS=${BENCH_RUNS:-3}
out=build/bench
mkdir -p "$out"
make -s build/release/bench/write-capacity
export MAC_CLUSTER_DIR=$PWD/.local/bench-scale MAC_CLUSTER_ENV=$PWD/.local/bench-scale.env
export MAC_NODES_AMD64=$((NODES / 2)) MAC_NODES_ARM64=$((NODES - NODES / 2))
export MAC_KWOK_EXTRA_CONFIG=$PWD/bench/scale-stages.yaml MAC_CONTROL_PLANE_QPS=1000 MAC_AUDIT_MAXSIZE=8000
# shellcheck source=tests/env/common.sh
. tests/env/common.sh
trap 'tests/env/cluster-down.sh >/dev/null 2>&1 || true' EXIT
tests/env/cluster-down.sh >/dev/null 2>&1 || true
MAC_APISERVER_PROFILING=${BENCH_PROFILE_S:+true} MAC_REAL_NODE=0 tests/env/cluster-up.sh >&2
# shellcheck disable=SC1090
. "$MAC_CLUSTER_ENV"
kubectl apply -f crds/multiarch.dev_multiarchbuilds.yaml >/dev/null
# kubectl wait fails at once while the CRD has no conditions yet: asked again until it is served
wait_until 60 "the MultiArchBuild CRD" kubectl wait --for condition=established crd/multiarchbuilds.multiarch.dev --timeout=10s
: >"$out/capacity.jsonl"
for run in $(seq 1 "$RUNS"); do
	for kind in $KINDS; do
		for threads in $THREADS; do
			ns=cap-$run-$kind-$threads
			kubectl create namespace "$ns" >/dev/null
			for _ in $(seq 1 100); do kubectl get serviceaccount default -n "$ns" >/dev/null 2>&1 && break; sleep 0.2; done
			profiler=
			if [ -n "${BENCH_PROFILE_S:-}" ]; then
				bench/apiserver-profile.sh "$BENCH_PROFILE_S" "$out/profile-capacity-$run-$kind-$threads" &
				profiler=$!
			fi
			line=$(build/release/bench/write-capacity "$ns" "$kind" "$threads" "$SECONDS_PER_RUN")
			[ -z "$profiler" ] || wait "$profiler"
			echo "bench: capacity run $run, $kind, $threads threads: $line" >&2
			python3 -c 'import json, shlex, sys
fields = dict(kv.split("=", 1) for kv in shlex.split(sys.argv[4]))
print(json.dumps({"run": int(sys.argv[1]), "kind": sys.argv[2], "threads": int(sys.argv[3]), "rate": float(fields["rate"]),
                  "writes": int(fields["writes"]), "errors": int(fields["errors"]), "connections": int(fields["connections"]),
                  "peak_in_flight": int(fields["peak_in_flight"]), "first_error": fields["first_error"]}))' \
				"$run" "$kind" "$threads" "$line" >>"$out/capacity.jsonl"
			kubectl delete namespace "$ns" --timeout=300s >/dev/null
		done
	done
done
python3 bench/summarize.py capacity "$out/capacity.jsonl" >"$out/capacity.md"
cat "$out/capacity.md"
