#!/usr/bin/env bash
# The real amd64 node of the local cluster: Debian's containerd and runc (CRI, own socket, root and state in the
# cluster folder), a CNI bridge from Debian's plugins, and the kubelet and kube-proxy built from k8s.io/kubernetes.
#
# Usage: tests/env/real-node.sh net-up     the node's bridge (the API server and registries listen on its gateway)
#        tests/env/real-node.sh start      containerd, the node images, kubelet, kube-proxy (after the API server)
#        tests/env/real-node.sh stop       stops all of it and removes every process, mount, interface, iptables
#                                          rule, cgroup and sysctl change it made
#        tests/env/real-node.sh leftovers  prints what of the node is still there (empty after stop)
#
# One real node runs on a machine at a time (kube-proxy's and the kubelet's iptables chains are the machine's);
# the lock file names the cluster folder that holds it. Needs root.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/env/common.sh
. "$here/common.sh"

dir=$MAC_CLUSTER_DIR
node_dir=$dir/node
lock=/run/multiarch-controller-real-node.lock
bridge=${MAC_NODE_BRIDGE:-macbr0}
subnet_prefix=${MAC_NODE_SUBNET_PREFIX:-10.244.0}
gateway=$subnet_prefix.1
node_name=${MAC_REAL_NODE_NAME:-real-amd64-1}
cgroup_root=mac-real-node
sock=$node_dir/containerd/containerd.sock
# what the kubelet and kube-proxy rewrite: saved at net-up, restored at stop
sysctls=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward net.ipv4.conf.all.route_localnet
	net.bridge.bridge-nf-call-iptables)
rule_comment=multiarch-controller-real-node

ipt() { iptables -w 5 "$@"; }

# net_up: takes the machine's real-node lock, saves the sysctls, makes the bridge with its gateway address and lets
# the bridge's traffic through FORWARD (Docker sets its policy to DROP, and br_netfilter sends bridged frames there).
net_up() {
	local holder name
	[ "$(id -u)" -eq 0 ] || { env_log "the real node needs root"; return 1; }
	holder=$(cat "$lock" 2>/dev/null)
	if [ -n "$holder" ] && [ "$holder" != "$dir" ] && [ -d "$holder/node" ]; then
		env_log "the real node is held by the cluster in $holder (one at a time); stop it first"
		return 1
	fi
	echo "$dir" >"$lock"
	mkdir -p "$node_dir"
	: >"$node_dir/sysctl.saved"
	for name in "${sysctls[@]}"; do
		[ -e "/proc/sys/${name//.//}" ] && echo "$name=$(sysctl -n "$name")" >>"$node_dir/sysctl.saved"
	done
	# kept beside the node folder, which stop removes, so that leftovers can compare after a stop
	cp "$node_dir/sysctl.saved" "$dir/node.sysctl.before"
	ls /run/netns 2>/dev/null >"$dir/node.netns.before"
	ip link show "$bridge" >/dev/null 2>&1 && ip link delete "$bridge"
	ip link add "$bridge" type bridge || return 1
	ip addr add "$gateway/24" dev "$bridge" || return 1
	ip link set "$bridge" up || return 1
	ipt -I FORWARD -i "$bridge" -m comment --comment "$rule_comment" -j ACCEPT || return 1
	ipt -I FORWARD -o "$bridge" -m comment --comment "$rule_comment" -j ACCEPT || return 1
	echo "$gateway"
}

write_containerd_config() {
	mkdir -p "$node_dir/containerd" "$node_dir/cni/net.d" "$node_dir/cni/ipam"
	cat >"$node_dir/containerd/config.toml" <<TOML
version = 2
root = "$node_dir/containerd/root"
state = "$node_dir/containerd/state"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$node_dir/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$(node_image pause)"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$node_dir/cni/net.d"
    max_conf_num = 1
TOML
	cat >"$node_dir/cni/net.d/10-mac.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "mac-real-node", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$node_dir/cni/ipam", "ranges": [[{"subnet": "$subnet_prefix.0/24",
     "rangeStart": "$subnet_prefix.10", "rangeEnd": "$subnet_prefix.250", "gateway": "$gateway"}]],
     "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "loopback"}]}
JSON
}

# node_image NAME: the local name of a node image (tests/env/node-images.sh builds them)
node_image() { "$here/node-images.sh" name "$1"; }

write_kubelet_config() {
	local pki=$dir/pki kubelet_port=$1 healthz_port=$2
	mkdir -p "$node_dir/kubelet"
	cat >"$node_dir/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$cgroup_root
containerRuntimeEndpoint: unix://$sock
address: $gateway
port: $kubelet_port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $healthz_port
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: AlwaysAllow}
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
failSwapOn: false
maxPods: 60
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
nodeStatusUpdateFrequency: 5s
shutdownGracePeriod: 0s
YAML
}

# make_cgroup_root: the kubelet's cgroupRoot in every cgroup v1 hierarchy (the kubelet wants it to exist), with the
# cpuset hierarchy's CPUs and memory nodes copied from its parent
make_cgroup_root() {
	local h
	for h in /sys/fs/cgroup/*/; do
		[ -f "$h/cgroup.procs" ] && [ "$h" != /sys/fs/cgroup/unified/ ] || continue
		mkdir -p "$h$cgroup_root" || return 1
	done
	if [ -d /sys/fs/cgroup/cpuset/$cgroup_root ]; then
		cat /sys/fs/cgroup/cpuset/cpuset.cpus >/sys/fs/cgroup/cpuset/$cgroup_root/cpuset.cpus &&
			cat /sys/fs/cgroup/cpuset/cpuset.mems >/sys/fs/cgroup/cpuset/$cgroup_root/cpuset.mems || return 1
	fi
}

start_node() {
	local bin kubelet_port healthz_port proxy_healthz proxy_metrics taint_flags=()
	bin=$("$here/build-tools.sh" --print)
	make_cgroup_root || { env_log "cannot make the kubelet's cgroup root /$cgroup_root"; return 1; }
	write_containerd_config
	start_bg containerd "$dir" containerd --config "$node_dir/containerd/config.toml" --log-level warn
	wait_until 60 "containerd's socket ($dir/logs/containerd.log)" ctr --address "$sock" version || return 1
	"$here/node-images.sh" load "$sock" || return 1
	kubelet_port=$(free_port) && healthz_port=$(free_port) && proxy_healthz=$(free_port) && proxy_metrics=$(free_port) || return 1
	write_kubelet_config "$kubelet_port" "$healthz_port"
	[ "${MAC_REAL_NODE_TAINT:-}" = 1 ] && taint_flags=(--register-with-taints=multiarch.dev/real-node=true:NoSchedule)
	start_bg kubelet "$dir" "$bin/kubelet" --config="$node_dir/kubelet/config.yaml" --kubeconfig="$dir/kubelet.kubeconfig" \
		--root-dir="$node_dir/kubelet/root" --cert-dir="$node_dir/kubelet/pki" --hostname-override="$node_name" \
		--node-ip="$gateway" --node-labels=multiarch.dev/node=real,type=real "${taint_flags[@]}" --v=1
	start_bg kube-proxy "$dir" "$bin/kube-proxy" --kubeconfig="$dir/kube-proxy.kubeconfig" --hostname-override="$node_name" \
		--proxy-mode=iptables --cluster-cidr="$subnet_prefix.0/24" --iptables-localhost-nodeports=false \
		--conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0 \
		--healthz-bind-address="127.0.0.1:$proxy_healthz" --metrics-bind-address="127.0.0.1:$proxy_metrics" --v=1
	wait_until 120 "the real node $node_name Ready (kubelet log: $dir/logs/kubelet.log)" node_ready || return 1
	wait_until 60 "kube-proxy's rules for the kubernetes Service ($dir/logs/kube-proxy.log)" service_rules || return 1
}

node_ready() {
	[ "$(kubectl --kubeconfig="$dir/admin.kubeconfig" get node "$node_name" \
		-o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

service_rules() { iptables-save -t nat 2>/dev/null | grep -q 'KUBE-SVC-.*default/kubernetes'; }

# kill_node_processes: every process of the node's pods (by cgroup) and every containerd shim of this node's socket
kill_node_processes() {
	local pid cg
	for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $sock" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null
	done
	for cg in /sys/fs/cgroup/*/"$cgroup_root"; do
		[ -d "$cg" ] || continue
		find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	done
}

# remove_cgroups: the node's cgroup subtree in every hierarchy, deepest first
remove_cgroups() {
	local cg i
	for i in 1 2 3 4 5; do
		for cg in /sys/fs/cgroup/*/"$cgroup_root" /sys/fs/cgroup/"$cgroup_root"; do
			[ -d "$cg" ] || continue
			find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
		done
		[ -z "$(ls -d /sys/fs/cgroup/*/"$cgroup_root" 2>/dev/null)" ] && return 0
		kill_node_processes
		sleep 0.5
	done
}

# new_netns: the network namespaces made since net-up (containerd's cni-* for the node's pods)
new_netns() {
	local ns
	for ns in $(ls /run/netns 2>/dev/null); do
		case $ns in cni-*) grep -qx "$ns" "$dir/node.netns.before" 2>/dev/null || echo "$ns" ;; esac
	done
}

# unmount_all: every mount under the node folder and the pods' network namespaces, deepest first
unmount_all() {
	local m ns
	for _ in 1 2 3; do
		awk -v d="$node_dir" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
	done
	for ns in $(new_netns); do
		umount "/run/netns/$ns" 2>/dev/null
		rm -f "/run/netns/$ns"
	done
}

# remove_rules: the bridge's FORWARD rules, kube-proxy's chains (its own --cleanup), and the kubelet's chains, in
# the nft and the legacy tables alike
remove_rules() {
	local bin tool table chain
	bin=$("$here/build-tools.sh" --print)
	while ipt -D FORWARD -i "$bridge" -m comment --comment "$rule_comment" -j ACCEPT 2>/dev/null; do :; done
	while ipt -D FORWARD -o "$bridge" -m comment --comment "$rule_comment" -j ACCEPT 2>/dev/null; do :; done
	[ -x "$bin/kube-proxy" ] && "$bin/kube-proxy" --cleanup --proxy-mode=iptables >/dev/null 2>&1
	for tool in iptables iptables-legacy ip6tables ip6tables-legacy; do
		command -v "$tool" >/dev/null || continue
		for table in filter nat mangle; do
			for chain in $("$tool" -w 5 -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ { print $2 }'); do
				"$tool" -w 5 -t "$table" -S 2>/dev/null | awk -v c="$chain" '$1 == "-A" && $0 ~ ("-j " c "( |$)") { $1 = "-D"; print }' |
					while read -r rule; do
						# shellcheck disable=SC2086 # the rule is words
						"$tool" -w 5 -t "$table" $rule 2>/dev/null
					done
				"$tool" -w 5 -t "$table" -F "$chain" 2>/dev/null
			done
			for chain in $("$tool" -w 5 -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ { print $2 }'); do
				"$tool" -w 5 -t "$table" -X "$chain" 2>/dev/null
			done
		done
	done
}

restore_sysctls() {
	local line
	while read -r line; do
		[ -n "$line" ] && sysctl -q -w "$line" >/dev/null 2>&1
	done <"$node_dir/sysctl.saved"
}

stop_node() {
	[ -d "$node_dir" ] || return 0
	stop_pid "$dir" kube-proxy
	stop_pid "$dir" kubelet
	kill_node_processes
	stop_pid "$dir" containerd
	kill_node_processes
	unmount_all
	remove_cgroups
	ip link show "$bridge" >/dev/null 2>&1 && ip link delete "$bridge"
	remove_rules
	[ -f "$node_dir/sysctl.saved" ] && restore_sysctls
	[ "$(cat "$lock" 2>/dev/null)" = "$dir" ] && rm -f "$lock"
	rm -rf "$node_dir"
	[ -z "$(node_leftovers)" ]
}

# node_leftovers: what of a real node is still on the machine
node_leftovers() {
	local line name want
	pgrep -f "$node_dir" >/dev/null 2>&1 && echo "processes: $(pgrep -f "$node_dir" | tr '\n' ' ')"
	grep -q " $node_dir" /proc/self/mounts && echo "mounts under $node_dir"
	ip link show "$bridge" >/dev/null 2>&1 && echo "interface $bridge"
	[ -n "$(ip -o link show type veth 2>/dev/null | grep "master $bridge")" ] && echo "veth interfaces on $bridge"
	ls -d /sys/fs/cgroup/*/"$cgroup_root" >/dev/null 2>&1 && echo "cgroups /sys/fs/cgroup/*/$cgroup_root"
	[ -n "$(new_netns)" ] && echo "network namespaces: $(new_netns | tr '\n' ' ')"
	for tool in iptables iptables-legacy; do
		command -v "$tool" >/dev/null || continue
		"$tool"-save 2>/dev/null | grep -qE "^:KUBE-|$rule_comment" && echo "$tool rules: $("$tool"-save 2>/dev/null |
			grep -oE "^:KUBE-[A-Z-]+|$rule_comment" | sort -u | tr '\n' ' ')"
	done
	if [ -f "$MAC_CLUSTER_DIR/node.sysctl.before" ]; then
		while IFS='=' read -r name want; do
			[ "$(sysctl -n "$name" 2>/dev/null)" = "$want" ] || echo "sysctl $name is $(sysctl -n "$name"), was $want"
		done <"$MAC_CLUSTER_DIR/node.sysctl.before"
	fi
	[ "$(cat "$lock" 2>/dev/null)" = "$dir" ] && echo "lock $lock"
	true
}

case ${1:-} in
net-up) net_up ;;
start) start_node ;;
stop) stop_node ;;
leftovers) node_leftovers ;;
*)
	echo "usage: $0 net-up|start|stop|leftovers" >&2
	exit 2
	;;
esac
