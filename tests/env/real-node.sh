#!/usr/bin/env bash
# The real nodes of the local cluster: amd64 runs Debian's containerd and runc (CRI, own socket, root and state in the
# cluster folder) on a CNI bridge from Debian's plugins, with the kubelet and kube-proxy built from k8s.io/kubernetes;
# and (unless MAC_ARM64_NODE=0) an arm64 node: a kubelet built for arm64, run under qemu-user through binfmt_misc, over
# a containerd of its own, whose pods run arm64 code, emulated. Its containerd is Debian's native one: Debian's arm64
# containerd runs under qemu-user, but its shim does not start ("failed to start shim: invalid argument"), and with
# the native shim it cannot create a pod that asks for a seccomp profile ("seccomp is not supported": qemu-user
# refuses PR_SET_SECCOMP), which the index Job and kaniko pods do (docs/testing.md).
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
cgroup_prefix=mac-real-node
archs=(amd64)
[ "${MAC_ARM64_NODE:-1}" = 1 ] && archs+=(arm64)

# select_node ARCH: the variables of that node: name, folder, containerd socket, cgroup root, address range
select_node() {
	arch=$1
	node_name=real-$arch-1
	[ "$arch" = amd64 ] && node_name=${MAC_REAL_NODE_NAME:-real-amd64-1}
	adir=$node_dir/$arch
	sock=$adir/containerd/containerd.sock
	cgroup_root=$cgroup_prefix-$arch
	range_start=10 range_end=127
	[ "$arch" = arm64 ] && range_start=128 range_end=250
}
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
	if [ -n "$holder" ] && [ "$holder" != "$dir" ]; then
		if alive "$holder" containerd-amd64 || alive "$holder" kubelet-amd64; then
			env_log "the real node is held by the cluster in $holder (one at a time); stop it first (make cluster-down)"
			return 1
		fi
		# a node whose processes are gone (a killed session): clean up what it left, then take the node
		MAC_CLUSTER_DIR=$holder "$0" stop >/dev/null 2>&1
	fi
	[ -d "$node_dir" ] && stop_node >/dev/null 2>&1
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
	mkdir -p "$adir/containerd" "$adir/cni/net.d" "$adir/cni/ipam"
	cat >"$adir/containerd/config.toml" <<TOML
version = 2
root = "$adir/containerd/root"
state = "$adir/containerd/state"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$adir/containerd/opt"
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
    conf_dir = "$adir/cni/net.d"
    max_conf_num = 1
TOML
	cat >"$adir/cni/net.d/10-mac.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "mac-real-node", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$adir/cni/ipam", "ranges": [[{"subnet": "$subnet_prefix.0/24",
     "rangeStart": "$subnet_prefix.$range_start", "rangeEnd": "$subnet_prefix.$range_end", "gateway": "$gateway"}]],
     "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "loopback"}]}
JSON
}

# node_image NAME: the local name of a node image (tests/env/node-images.sh builds them)
node_image() { "$here/node-images.sh" name "$1"; }

write_kubelet_config() {
	local pki=$dir/pki kubelet_port=$1 healthz_port=$2
	mkdir -p "$adir/kubelet" "$adir/pod-logs"
	# podLogsDir: each node's own (the two kubelets of one host would each collect the other's pods' logs as
	# orphans from a shared /var/log/pods, and kubectl logs and termination messages from logs would fail)
	cat >"$adir/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
podLogsDir: $adir/pod-logs
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

# start_containerd: the node's containerd, and its images (the arm64 node's built for arm64)
start_containerd() {
	start_bg containerd-$arch "$dir" containerd --config "$adir/containerd/config.toml" --log-level warn
	wait_until 120 "containerd's socket ($dir/logs/containerd-$arch.log)" ctr --address "$sock" version || return 1
	if [ "$arch" = amd64 ]; then "$here/node-images.sh" load "$sock"; else "$here/node-images.sh" load-arm64 "$sock"; fi
}

# start_kubelet: the node's kubelet (the arm64 build runs under qemu-user through binfmt_misc)
start_kubelet() {
	local bin=$1 kubelet_port healthz_port taint_flags=() kubelet=$1/kubelet
	[ "$arch" = arm64 ] && kubelet=$bin/kubelet-arm64
	kubelet_port=$(free_port) && healthz_port=$(free_port) || return 1
	write_kubelet_config "$kubelet_port" "$healthz_port"
	[ "${MAC_REAL_NODE_TAINT:-}" = 1 ] && taint_flags=(--register-with-taints=multiarch.dev/real-node=true:NoSchedule)
	start_bg kubelet-$arch "$dir" "$kubelet" --config="$adir/kubelet/config.yaml" --kubeconfig="$dir/kubelet-$arch.kubeconfig" \
		--root-dir="$adir/kubelet/root" --cert-dir="$adir/kubelet/pki" --hostname-override="$node_name" \
		--node-ip="$gateway" --node-labels=multiarch.dev/node=real,type=real "${taint_flags[@]}" --v=1
}

start_node() {
	local bin proxy_healthz proxy_metrics
	bin=$("$here/build-tools.sh" --print)
	[ "${MAC_ARM64_NODE:-1}" = 1 ] && { prepare_arm64 || return 1; }
	for a in "${archs[@]}"; do
		select_node "$a"
		make_cgroup_root || { env_log "cannot make the kubelet's cgroup root /$cgroup_root"; return 1; }
		write_containerd_config
		start_containerd || return 1
		start_kubelet "$bin" || return 1
	done
	# one kube-proxy: the nodes share this machine's network stack
	proxy_healthz=$(free_port) && proxy_metrics=$(free_port) || return 1
	select_node amd64
	start_bg kube-proxy "$dir" "$bin/kube-proxy" --kubeconfig="$dir/kube-proxy.kubeconfig" --hostname-override="$node_name" \
		--proxy-mode=iptables --cluster-cidr="$subnet_prefix.0/24" --iptables-localhost-nodeports=false \
		--conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0 \
		--healthz-bind-address="127.0.0.1:$proxy_healthz" --metrics-bind-address="127.0.0.1:$proxy_metrics" --v=1
	for a in "${archs[@]}"; do
		select_node "$a"
		wait_until 300 "the real node $node_name Ready (kubelet log: $dir/logs/kubelet-$a.log)" node_ready || return 1
	done
	wait_until 60 "kube-proxy's rules for the kubernetes Service ($dir/logs/kube-proxy.log)" service_rules || return 1
}

# prepare_arm64: qemu-user registered for arm64 binaries in binfmt_misc (undone at stop when this script did it),
# and Debian's arm64 package list (the arm64 busybox of the base image comes from it)
prepare_arm64() {
	dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq; } || return 1
	mkdir -p "$node_dir"
	if ! mountpoint -q /proc/sys/fs/binfmt_misc; then
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || return 1
		touch "$node_dir/binfmt.mounted"
	fi
	if [ "$(head -n1 /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null)" != enabled ]; then
		update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || { env_log "cannot register qemu-aarch64 in binfmt_misc"; return 1; }
		touch "$node_dir/binfmt.enabled"
	fi
}

# restore_binfmt: what prepare_arm64 changed in binfmt_misc, undone
restore_binfmt() {
	[ -f "$node_dir/binfmt.enabled" ] && update-binfmts --disable qemu-aarch64 >/dev/null 2>&1
	[ -f "$node_dir/binfmt.mounted" ] && umount /proc/sys/fs/binfmt_misc 2>/dev/null
	rm -f "$node_dir/binfmt.enabled" "$node_dir/binfmt.mounted"
}

node_ready() {
	[ "$(kubectl --kubeconfig="$dir/admin.kubeconfig" get node "$node_name" \
		-o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

service_rules() { iptables-save -t nat 2>/dev/null | grep -q 'KUBE-SVC-.*default/kubernetes'; }

# kill_node_processes: every process of the node's pods (by cgroup) and every containerd shim of this node's socket
kill_node_processes() {
	local pid cg
	for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $node_dir/" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null
	done
	for cg in /sys/fs/cgroup/*/"$cgroup_prefix"-*; do
		[ -d "$cg" ] || continue
		find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
	done
}

# remove_cgroups: the node's cgroup subtree in every hierarchy, deepest first
remove_cgroups() {
	local cg
	for _ in 1 2 3 4 5; do
		for cg in /sys/fs/cgroup/*/"$cgroup_prefix"-*; do
			[ -d "$cg" ] || continue
			find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
		done
		[ -z "$(ls -d /sys/fs/cgroup/*/"$cgroup_prefix"-* 2>/dev/null)" ] && return 0
		kill_node_processes
		sleep 0.5
	done
}

# new_netns: the network namespaces made since net-up (containerd's cni-* for the node's pods)
new_netns() {
	local path ns
	for path in /run/netns/cni-*; do
		[ -e "$path" ] || continue
		ns=${path##*/}
		grep -qx "$ns" "$dir/node.netns.before" 2>/dev/null || echo "$ns"
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

# stop_node: also cleans up after a node whose folder is gone, so it never returns early
stop_node() {
	stop_pid "$dir" kube-proxy
	stop_pid "$dir" kubelet-amd64
	stop_pid "$dir" kubelet-arm64
	kill_node_processes
	stop_pid "$dir" containerd-amd64
	stop_pid "$dir" containerd-arm64
	kill_node_processes
	unmount_all
	remove_cgroups
	ip link show "$bridge" >/dev/null 2>&1 && ip link delete "$bridge"
	remove_rules
	[ -f "$node_dir/sysctl.saved" ] && restore_sysctls
	restore_binfmt
	[ "$(cat "$lock" 2>/dev/null)" = "$dir" ] && rm -f "$lock"
	rm -rf "$node_dir"
	# what was still going away (a killed pod's process, a lazy unmount) gets a few seconds, then is named
	local left
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		left=$(node_leftovers)
		[ -z "$left" ] && return 0
		kill_node_processes
		unmount_all
		remove_cgroups
		sleep 1
	done
	env_log "left after stop: ${left//$'\n'/; }"
	return 1
}

# node_leftovers: what of a real node is still on the machine
node_leftovers() {
	local line name want
	pgrep -f "$node_dir" >/dev/null 2>&1 && echo "processes: $(pgrep -f "$node_dir" | tr '\n' ' ')"
	grep -q " $node_dir" /proc/self/mounts && echo "mounts under $node_dir"
	ip link show "$bridge" >/dev/null 2>&1 && echo "interface $bridge"
	[ -n "$(ip -o link show type veth 2>/dev/null | grep "master $bridge")" ] && echo "veth interfaces on $bridge"
	ls -d /sys/fs/cgroup/*/"$cgroup_prefix"-* >/dev/null 2>&1 && echo "cgroups /sys/fs/cgroup/*/$cgroup_prefix-*"
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
	[ -f "$node_dir/binfmt.enabled" ] && echo "binfmt_misc entry qemu-aarch64"
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
