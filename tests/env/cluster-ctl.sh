#!/usr/bin/env bash
# Restarts one process of the local test cluster with the command it was started with (for fault tests).
# Usage: tests/env/cluster-ctl.sh restart kube-apiserver|etcd|kube-controller-manager|kube-scheduler|kwok
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/env/common.sh
. "$here/common.sh"

action=${1:-}
name=${2:-}
dir=$MAC_CLUSTER_DIR
[ "$action" = restart ] && [ -n "$name" ] || { echo "usage: $0 restart NAME" >&2; exit 2; }
[ -f "$dir/cmds/$name" ] || { env_log "no process named $name was started in $dir"; exit 1; }
# shellcheck disable=SC1090
. "$MAC_CLUSTER_ENV"
stop_pid "$dir" "$name"
eval "start_bg $(printf '%q' "$name") $(printf '%q' "$dir") $(cat "$dir/cmds/$name")"
if [ "$name" = kube-apiserver ]; then
	wait_until 120 kube-apiserver curl -fsS --cacert "$dir/pki/ca.crt" --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" \
		"$MAC_APISERVER/readyz"
fi
env_log "restarted $name"
