#!/usr/bin/env bash
# Stops everything cluster-up.sh and registry.sh started, by pid, and removes the env file.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/env/common.sh
. "$here/common.sh"

dir=$MAC_CLUSTER_DIR
[ -d "$dir/pids" ] || { rm -f "$MAC_CLUSTER_ENV"; exit 0; }
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
	stop_pid "$dir" "$name"
done
for pidfile in "$dir"/pids/*.pid; do
	[ -e "$pidfile" ] || continue
	name=$(basename "$pidfile" .pid)
	stop_pid "$dir" "$name"
done
rm -f "$MAC_CLUSTER_ENV"
left=$(leftovers "$dir")
if [ -n "$left" ]; then
	env_log "still running after stop: $(echo $left)"
	exit 1
fi
env_log "stopped everything in $dir"
