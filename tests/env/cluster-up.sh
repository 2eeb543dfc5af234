#!/usr/bin/env bash
# Starts the local test cluster: etcd, kube-apiserver (TLS, Node and RBAC authorization, audit), controller-manager,
# scheduler, a real amd64 node (tests/env/real-node.sh: containerd, kubelet, kube-proxy), kwok with fake nodes,
# a plain-HTTP and a TLS + basic-auth registry, and the builder configuration for the real node; writes the env file.
#
# With the real node, the API server and the registries listen on the node bridge's gateway address (a local
# address the pods reach too); without it, on 127.0.0.1.
#
# Environment: MAC_CLUSTER_DIR (state, default .local/cluster), MAC_CLUSTER_ENV (default .local/cluster.env),
# MAC_REAL_NODE (1, the default: start the real node; 0: fake nodes only), MAC_NODES_AMD64 / MAC_NODES_ARM64 /
# MAC_NODES_RISCV64 / MAC_NODES_PPC64LE (fake nodes per architecture; by default 2 amd64 only without the real amd64
# node, 2 arm64 only without the real arm64 node, no riscv64 or ppc64le; the integration tests ask for riscv64 and
# ppc64le nodes, architectures no real node serves here, for the tests that make attempts fail or hang); when fake
# nodes sit beside the real ones, the real ones are tainted multiarch.dev/real-node:NoSchedule and only builds
# that tolerate it (BUILDER_CONFIG's) go there;
# for the scale benchmark:
# MAC_KWOK_EXTRA_CONFIG (more kwok stages), MAC_CONTROL_PLANE_QPS (the controller-manager's and scheduler's
# client-side QPS, burst twice that; default their own), MAC_AUDIT_MAXSIZE (MB before the audit log rotates, default 200),
# MAC_APISERVER_PROFILING (true: the API server serves /debug/pprof to the admin, for bench/apiserver-profile.sh; default false).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/env/common.sh
. "$here/common.sh"

dir=$MAC_CLUSTER_DIR
real_node=${MAC_REAL_NODE:-1}
arm64_node=${MAC_ARM64_NODE:-1}
[ "$real_node" = 1 ] || arm64_node=0
export MAC_ARM64_NODE=$arm64_node
fake_arches=(amd64 arm64 riscv64 ppc64le)
declare -A fake_count=([amd64]=${MAC_NODES_AMD64:-2} [arm64]=${MAC_NODES_ARM64:-2}
	[riscv64]=${MAC_NODES_RISCV64:-0} [ppc64le]=${MAC_NODES_PPC64LE:-0})
[ "$real_node" = 1 ] && fake_count[amd64]=${MAC_NODES_AMD64:-0}
[ "$arm64_node" = 1 ] && fake_count[arm64]=${MAC_NODES_ARM64:-0}
fake_total=0
for arch in "${fake_arches[@]}"; do fake_total=$((fake_total + fake_count[$arch])); done
# real nodes beside fake nodes are tainted, so that only the builds that tolerate it (BUILDER_CONFIG's) go there
[ "$real_node" = 1 ] && [ "$fake_total" -gt 0 ] && export MAC_REAL_NODE_TAINT=1
qps_flags=()
[ -z "${MAC_CONTROL_PLANE_QPS:-}" ] || qps_flags=(--kube-api-qps="$MAC_CONTROL_PLANE_QPS" --kube-api-burst="$((MAC_CONTROL_PLANE_QPS * 2))")
kwok_configs=(--config="$here/kwok-stages.yaml")
[ -z "${MAC_KWOK_EXTRA_CONFIG:-}" ] || kwok_configs+=(--config="$MAC_KWOK_EXTRA_CONFIG")

if alive "$dir" kube-apiserver && [ -f "$MAC_CLUSTER_ENV" ]; then
	env_log "the cluster in $dir is already up; env: $MAC_CLUSTER_ENV"
	exit 0
fi
"$here/cluster-down.sh" >/dev/null 2>&1 || true

bin=$("$here/build-tools.sh")
export PATH="$bin:$PATH"
started=$SECONDS

on_error() {
	env_log "cluster-up failed; logs are in $dir/logs; stopping what was started"
	"$here/cluster-down.sh" >/dev/null 2>&1 || true
}
trap on_error ERR
trap 'on_error; exit 130' INT
trap 'on_error; exit 143' TERM

rm -rf "$dir"
mkdir -p "$dir/pki" "$dir/logs" "$dir/pids"
pki=$dir/pki
api_host=127.0.0.1
[ "$real_node" = 1 ] && api_host=$("$here/real-node.sh" net-up)

# --- certificates: one private CA; serving cert for the apiserver; client certs per identity
openssl ecparam -name prime256v1 -genkey -noout -out "$pki/ca.key" 2>/dev/null
openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=multiarch-test-ca" -days 30 -out "$pki/ca.crt" 2>/dev/null

# issue NAME SUBJECT [SAN]
issue() {
	local name=$1 subject=$2 san=${3:-}
	openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$name.key" 2>/dev/null
	openssl req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
	if [ -n "$san" ]; then
		printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$pki/$name.ext"
	else
		printf 'extendedKeyUsage=clientAuth\n' >"$pki/$name.ext"
	fi
	openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
		-extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
	rm -f "$pki/$name.csr" "$pki/$name.ext"
}
issue apiserver "/CN=kube-apiserver" \
	"IP:127.0.0.1,IP:$api_host,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1"
issue admin "/O=system:masters/CN=mac-admin"
issue controller-manager "/CN=system:kube-controller-manager"
issue scheduler "/CN=system:kube-scheduler"
issue kwok "/O=system:masters/CN=kwok"
real_node_name=${MAC_REAL_NODE_NAME:-real-amd64-1}
if [ "$real_node" = 1 ]; then
	issue kubelet-amd64 "/O=system:nodes/CN=system:node:$real_node_name"
	[ "$arm64_node" = 1 ] && issue kubelet-arm64 "/O=system:nodes/CN=system:node:real-arm64-1"
	issue kube-proxy "/CN=system:kube-proxy"
	issue kubelet-serving "/CN=$real_node_name" "IP:$api_host,DNS:$real_node_name"
	issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
fi
openssl ecparam -name prime256v1 -genkey -noout -out "$pki/sa.key" 2>/dev/null
openssl ec -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null

etcd_port=$(free_port)
etcd_peer_port=$(free_port)
api_port=$(free_port)
kwok_port=$(free_port)
server="https://$api_host:$api_port"

# kubeconfig NAME: a kubeconfig for the identity NAME, with certificates embedded
kubeconfig() {
	local f="$dir/$1.kubeconfig"
	kubectl config set-cluster local --server="$server" --certificate-authority="$pki/ca.crt" --embed-certs --kubeconfig="$f" >/dev/null
	kubectl config set-credentials "$1" --client-certificate="$pki/$1.crt" --client-key="$pki/$1.key" --embed-certs --kubeconfig="$f" >/dev/null
	kubectl config set-context local --cluster=local --user="$1" --kubeconfig="$f" >/dev/null
	kubectl config use-context local --kubeconfig="$f" >/dev/null
}
for who in admin controller-manager scheduler kwok; do kubeconfig "$who"; done
if [ "$real_node" = 1 ]; then for who in kubelet-amd64 kube-proxy; do kubeconfig "$who"; done; fi
[ "$arm64_node" = 1 ] && kubeconfig kubelet-arm64
admin="$dir/admin.kubeconfig"

# --- etcd (loopback only)
start_bg etcd "$dir" etcd --name=mac-test --data-dir="$dir/etcd" \
	--listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
	--listen-peer-urls="http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
	--initial-cluster="mac-test=http://127.0.0.1:$etcd_peer_port" --unsafe-no-fsync --log-level=warn
wait_until 60 etcd curl -fsS "http://127.0.0.1:$etcd_port/health"

# --- kube-apiserver (with the real node, the kubernetes Service's endpoint is its own lease-kept address)
node_flags=(--endpoint-reconciler-type=none)
# shellcheck disable=SC2054 # the values of these flags are comma-separated lists
[ "$real_node" = 1 ] && node_flags=(--endpoint-reconciler-type=lease --enable-admission-plugins=NodeRestriction
	--kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" --kubelet-client-key="$pki/apiserver-kubelet-client.key"
	--kubelet-preferred-address-types=InternalIP,Hostname)
start_bg kube-apiserver "$dir" kube-apiserver \
	--etcd-servers="http://127.0.0.1:$etcd_port" \
	--bind-address="$api_host" --advertise-address="$api_host" --secure-port="$api_port" \
	--cert-dir="$dir/apiserver-certs" \
	--tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" --client-ca-file="$pki/ca.crt" \
	--authorization-mode=Node,RBAC \
	--service-account-issuer=https://kubernetes.default.svc.cluster.local \
	--service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
	--service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true --profiling="${MAC_APISERVER_PROFILING:-false}" "${node_flags[@]}" \
	--audit-policy-file="$here/audit-policy.yaml" --audit-log-path="$dir/logs/audit.log" \
	--audit-log-maxsize="${MAC_AUDIT_MAXSIZE:-200}" --audit-log-maxbackup=1
wait_until 120 kube-apiserver curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$server/readyz"

# --- controller-manager and scheduler (no serving port: nothing scrapes them here)
start_bg kube-controller-manager "$dir" kube-controller-manager \
	--kubeconfig="$dir/controller-manager.kubeconfig" --secure-port=0 --leader-elect=false \
	--service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
	--use-service-account-credentials=true --controllers='*' "${qps_flags[@]}"
start_bg kube-scheduler "$dir" kube-scheduler \
	--kubeconfig="$dir/scheduler.kubeconfig" --secure-port=0 --leader-elect=false "${qps_flags[@]}"

# --- kwok: the simulated kubelets of the fake nodes
start_bg kwok "$dir" kwok --kubeconfig="$dir/kwok.kubeconfig" "${kwok_configs[@]}" \
	--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
	--node-lease-duration-seconds=40 --server-address="127.0.0.1:$kwok_port"

# --- fake nodes
{
	for arch in "${fake_arches[@]}"; do
		count=${fake_count[$arch]}
		for i in $(seq 1 "$count"); do
			cat <<NODE
---
apiVersion: v1
kind: Node
metadata:
  name: fake-$arch-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: $arch
    kubernetes.io/os: linux
    kubernetes.io/hostname: fake-$arch-$i
    type: kwok
NODE
		done
	done
} >"$dir/fake-nodes.yaml"
[ -s "$dir/fake-nodes.yaml" ] && kubectl --kubeconfig="$admin" apply -f "$dir/fake-nodes.yaml" >/dev/null

want=$fake_total
ready_nodes() {
	[ "$(kubectl --kubeconfig="$admin" get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
		grep -c True)" -ge "$want" ]
}
wait_until 120 "$want fake nodes Ready (kwok log: $dir/logs/kwok.log)" ready_nodes
# --- the real node
if [ "$real_node" = 1 ]; then
	"$here/real-node.sh" start
	want=$((want + 1 + arm64_node))
fi
# the node lifecycle controller lifts the not-ready taint once it sees the nodes Ready
untainted() {
	[ -z "$(kubectl --kubeconfig="$admin" get nodes -o jsonpath='{range .items[*]}{.spec.taints[*].key}{"\n"}{end}' | grep not-ready)" ]
}
wait_until 120 "the nodes' not-ready taint to be lifted (controller-manager log: $dir/logs/kube-controller-manager.log)" untainted
# the controller-manager is working once the default service account exists
wait_until 120 "the default service account (controller-manager log: $dir/logs/kube-controller-manager.log)" \
	kubectl --kubeconfig="$admin" get serviceaccount default -n default
for c in kube-controller-manager kube-scheduler kwok; do
	alive "$dir" $c || { env_log "$c exited; see $dir/logs/$c.log"; false; }
done

# --- registries: plain HTTP, and TLS from a private CA with basic auth
export MAC_REGISTRY_HOST=$api_host
registry=$("$here/registry.sh" start plain)
registry_tls=$("$here/registry.sh" start basic-tls tls)
# the builder configuration for builds on the real node: the images built here, the registries' settings
cat >"$dir/builder-config.yaml" <<YAML
# written by tests/env/cluster-up.sh: the builder images of the real node (tests/env/node-images.sh) and the
# local registries (plain HTTP at $registry; TLS at $registry_tls, its CA trusted)
images:
  buildkit: $("$here/node-images.sh" name buildkit)
  buildah: $("$here/node-images.sh" name buildah)
  kaniko: $("$here/node-images.sh" name kaniko)
  index: $("$here/node-images.sh" name controller)
caBundleFile: $dir/registry-tls/ca.crt
registries:
  insecure: [$registry]
defaults:
  tolerations:
  - {key: multiarch.dev/real-node, operator: Exists, effect: NoSchedule}
# the tests' own namespaces run the privileged-level backends, and test_node names builder images of its own
policy:
  privilegedNamespaces: ['*']
  builderImages: ['*']
YAML

cat >"$MAC_CLUSTER_ENV" <<ENV
# written by tests/env/cluster-up.sh; source it to use the local test cluster
export KUBECONFIG=$admin
export REGISTRY=$registry
export REGISTRY_TLS=$registry_tls
export REGISTRY_TLS_ENV=$dir/registry-tls/env
export BUILDER_CONFIG=$dir/builder-config.yaml
export MAC_REGISTRY_HOST=$api_host
export MAC_REAL_NODE=$real_node
export MAC_REAL_NODE_NAME=$real_node_name
export MAC_ARM64_NODE=$arm64_node
export MAC_CLUSTER_DIR=$dir
export MAC_CLUSTER_CA=$pki/ca.crt
export MAC_APISERVER=$server
export MAC_TOOLS_BIN=$bin
export PATH=$bin:\$PATH
ENV
trap - ERR INT TERM
nodes_text="$fake_total fake nodes"
[ "$real_node" = 1 ] && nodes_text="the real node $real_node_name (amd64) and $nodes_text"
[ "$arm64_node" = 1 ] && nodes_text="the real node real-arm64-1 (arm64, emulated by qemu-user), $nodes_text"
env_log "cluster up in $((SECONDS - started))s: apiserver $server, registry $registry, $nodes_text; env: $MAC_CLUSTER_ENV"
