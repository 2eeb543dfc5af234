#!/usr/bin/env bash
# Stops everything cluster-up.sh and registry.sh started, by pid, and the real node with all it left on the machine
# (tests/env/real-node.sh stop), and removes the env file.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/env/common.sh
. "$here/common.sh"

dir=$MAC_CLUSTER_DIR
[ -d "$dir/pids" ] || { rm -f "$MAC_CLUSTER_ENV"; exit 0; }
node_ok=0
[ -d "$dir/node" ] && { "$here/real-node.sh" stop || node_ok=1; }
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
if [ -n "$left" ] || [ $node_ok -ne 0 ]; then
	env_log "still running after stop: $(echo $left)"
	exit 1
fi
env_log "stopped everything in $dir"
