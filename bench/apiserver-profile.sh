#!/usr/bin/env bash
# A CPU profile of the local cluster's API server over SECONDS, for reading where its time goes under a benchmark.
#
# Usage: bench/apiserver-profile.sh SECONDS OUT   (the cluster of MAC_CLUSTER_ENV, started with
#        MAC_APISERVER_PROFILING=true; bench/scale.sh and bench/capacity.sh do so when BENCH_PROFILE_S is set)
# Output: OUT.pb.gz (the profile, for `go tool pprof`) and OUT.txt (the top functions by cumulative time, then the
#         time spent per API request kind, read from the handler chain's frames)
set -euo pipefail
seconds=${1:?usage: bench/apiserver-profile.sh SECONDS OUT}
out=${2:?usage: bench/apiserver-profile.sh SECONDS OUT}
# shellcheck disable=SC1090
. "${MAC_CLUSTER_ENV:?the cluster env file}"
pki=$MAC_CLUSTER_DIR/pki
curl -fsS --max-time "$((seconds + 30))" --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
	-o "$out.pb.gz" "$MAC_APISERVER/debug/pprof/profile?seconds=$seconds"
{
	echo "# the API server's CPU over $seconds s: top by cumulative time"
	go tool pprof -top -cum -nodecount=60 "$out.pb.gz" 2>/dev/null
	echo
	echo "# by own time"
	go tool pprof -top -nodecount=40 "$out.pb.gz" 2>/dev/null
} >"$out.txt"
