#!/usr/bin/env bash
# Fault actions on the local test cluster: restart one process with the command it was started with, or compact
# etcd's history to its current revision (so that every watch resuming from an older resourceVersion gets 410 Gone).
# Usage: tests/env/cluster-ctl.sh restart kube-apiserver|etcd|kube-controller-manager|kube-scheduler|kwok
#        tests/env/cluster-ctl.sh compact-etcd      prints the revision compacted to
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/env/common.sh
. "$here/common.sh"

action=${1:-}
name=${2:-}
dir=$MAC_CLUSTER_DIR
case $action in
restart) [ -n "$name" ] || { echo "usage: $0 restart NAME" >&2; exit 2; } ;;
compact-etcd) ;;
*)
	echo "usage: $0 restart NAME | compact-etcd" >&2
	exit 2
	;;
esac

if [ "$action" = compact-etcd ]; then
	etcd_url=$(grep -o -- '--listen-client-urls=[^ ]*' "$dir/cmds/etcd" | cut -d= -f2)
	# etcd's JSON gateway: the current revision from a range read, then a physical compaction to it
	revision=$(curl -fsS -X POST "$etcd_url/v3/kv/range" -d '{"key":"AA==","limit":1}' | jq -r .header.revision)
	curl -fsS -X POST "$etcd_url/v3/kv/compaction" -d "{\"revision\":\"$revision\",\"physical\":true}" >/dev/null
	env_log "compacted etcd to revision $revision"
	echo "$revision"
	exit 0
fi
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
