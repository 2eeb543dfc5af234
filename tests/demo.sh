#!/usr/bin/env bash
# make demo: the whole flow on this machine. Starts the local cluster and registry (or reuses them), runs
# `multiarch-controller run` against it, applies examples/hello/ with kubectl, follows the build, and proves the
# result with skopeo. Both platforms build on real nodes (a real kubelet and containerd running the builder images
# built here; the arm64 node's kubelet and its pods' arm64 code emulated by qemu-user). With MAC_ARM64_NODE=0 the
# arm64 node is simulated (kwok), and for it alone tests/env/fake-kubelet.py plays the kubelet's part, running
# buildah on this host.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export MAC_CLUSTER_DIR=${MAC_CLUSTER_DIR:-$PWD/.local/cluster}
export MAC_CLUSTER_ENV=${MAC_CLUSTER_ENV:-$PWD/.local/cluster.env}
# shellcheck source=tests/env/common.sh
. tests/env/common.sh

ns=${MAC_DEMO_NAMESPACE:-demo}
timeout_s=${MAC_DEMO_TIMEOUT:-180}
logs=$MAC_CLUSTER_DIR/logs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }
fail() {
	echo "demo: FAILED at: $*" >&2
	echo "demo: logs: $logs/controller.log (the controller), $logs/node-helper.log (the fake nodes' helper)," >&2
	echo "demo:       and the cluster's own in $logs/" >&2
	exit 1
}

step "starting the local cluster (real etcd, kube-apiserver, scheduler, controller-manager, real nodes) and registry"
tests/env/cluster-up.sh || fail "starting the cluster"
# shellcheck disable=SC1090
. "$MAC_CLUSTER_ENV"
kubectl get nodes -L kubernetes.io/arch,type || fail "listing the nodes"
real_nodes=$(kubectl get nodes -l multiarch.dev/node=real -o jsonpath='{range .items[*]}{.metadata.name} ({.metadata.labels.kubernetes\.io/arch}, kubelet {.status.nodeInfo.kubeletVersion}, {.status.nodeInfo.containerRuntimeVersion}){"\n"}{end}')
echo "real nodes (a real kubelet and containerd run their pods): ${real_nodes:-none}"
echo "simulated nodes (kwok; the helper runs their builds with buildah on this host): $(kubectl get nodes -l type=kwok -o jsonpath='{.items[*].metadata.name}')"
[ "${MAC_ARM64_NODE:-0}" = 1 ] && echo "the arm64 node's kubelet and its pods' arm64 code run under qemu-user (emulated)"

step "installing the MultiArchBuild CRD; checking the cluster with 'multiarch-controller doctor'"
kubectl apply -f crds/ >/dev/null || fail "installing the CRD"
kubectl wait --for=condition=Established crd/multiarchbuilds.multiarch.dev --timeout=60s >/dev/null || fail "waiting for the CRD"
bin/multiarch-controller doctor || fail "doctor"

step "starting the controller: multiarch-controller run (log: $logs/controller.log)"
for name in controller node-helper; do
	stop_pid "$MAC_CLUSTER_DIR" "$name" # a previous demo's, so this run uses the binary just built
	: >"$logs/$name.log"
done
config_flags=()
[ -n "${BUILDER_CONFIG:-}" ] && config_flags=(--config "$BUILDER_CONFIG")
start_bg controller "$MAC_CLUSTER_DIR" bin/multiarch-controller run --insecure-registry "$REGISTRY" --retry-backoff 2s "${config_flags[@]}"
start_bg node-helper "$MAC_CLUSTER_DIR" tests/env/fake-kubelet.py --buildah --max-seconds 86400
wait_until 30 "the controller's lease" grep -q "became the leader" "$logs/controller.log" || fail "starting the controller"

step "applying examples/hello/ (a FROM-scratch Dockerfile project, as ConfigMap hello-src) in namespace $ns"
kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns" >/dev/null || fail "creating namespace $ns"
kubectl delete mab hello -n "$ns" --ignore-not-found --wait=true >/dev/null || fail "removing the previous run's build"
kubectl create configmap hello-src -n "$ns" --from-file=examples/hello/Dockerfile --from-file=examples/hello/hello.txt \
	--dry-run=client -o yaml | kubectl apply -f - >/dev/null || fail "creating the source ConfigMap"
# with the real nodes, each platform they serve is pinned to them (the test cluster also has simulated nodes); the
# emulated arm64 node has only the Kaniko image, so with it the demo builds with kaniko
pin='.'
if [ "${MAC_ARM64_NODE:-0}" = 1 ]; then
	pin='.spec.builder.type = "kaniko" | .spec.perPlatform = [{platform: "linux/amd64", nodeSelector: {"multiarch.dev/node": "real"}},
		{platform: "linux/arm64", nodeSelector: {"multiarch.dev/node": "real"}}]'
	echo "the arm64 node is real (emulated): building with kaniko, the builder it has"
elif [ "${MAC_REAL_NODE:-0}" = 1 ]; then
	pin='.spec.perPlatform = [{platform: "linux/amd64", nodeSelector: {"multiarch.dev/node": "real"}}]'
fi
sed "s|localhost:5000|$REGISTRY|" examples/hello/build.yaml | kubectl create --dry-run=client -n "$ns" -o json -f - | jq "$pin" |
	kubectl apply -n "$ns" -f - || fail "applying examples/hello/build.yaml"

step "following the build"
progress() {
	kubectl get mab hello -n "$ns" -o json 2>/dev/null | jq -r '
		(.status.phase // "Pending") as $phase
		| ([.status.platforms[]? | "\(.platform): \(.phase)\(if .pod then " (pod \(.pod))" else "" end)"] | join(", ")) as $p
		| "\($phase)\(if $p != "" then " - " + $p else "" end)\(if $phase == "Merging" then " - index Job \(.status.indexJob)" else "" end)"'
	kubectl get pods -n "$ns" -l multiarch.dev/build=hello -o jsonpath='{range .items[*]}{"    "}{.metadata.name}{" on "}{.spec.nodeName}{" ("}{.status.phase}{")\n"}{end}' 2>/dev/null
}
last="" deadline=$((SECONDS + timeout_s))
while :; do
	now=$(progress)
	if [ "$now" != "$last" ]; then
		printf '[%3ds] %s\n' $((SECONDS + timeout_s - deadline)) "$now"
		last=$now
	fi
	ready=$(kubectl get mab hello -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)
	stalled=$(kubectl get mab hello -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Stalled")].status}' 2>/dev/null)
	[ "$ready" = True ] && break
	[ "$stalled" = True ] && fail "the build: $(kubectl get mab hello -n "$ns" -o jsonpath='{.status.message}')"
	[ $SECONDS -lt $deadline ] || fail "the build did not get Ready within ${timeout_s}s"
	sleep 0.5
done

step "kubectl get mab"
kubectl get mab -n "$ns" || fail "kubectl get mab"

step "per-platform status"
kubectl get mab hello -n "$ns" -o json |
	jq -r '.status.platforms[] | "\(.platform)\t\(.phase)\t\(.digest)\tnode \(.node)\tattempts \(.attempts)"' || fail "reading the status"
image=$(kubectl get mab hello -n "$ns" -o jsonpath='{.status.image}')
echo "status.image: $image"

step "the index in the registry, read back with skopeo"
ref="docker://$REGISTRY/demo/hello:1.0"
skopeo inspect --raw --tls-verify=false "$ref" >"$work/index.json" || fail "reading the index with skopeo"
jq -r '"mediaType: \(.mediaType)", (.manifests[] | "  \(.platform.os)/\(.platform.architecture)\t\(.digest)")' "$work/index.json"
[ "sha256:$(sha256sum <"$work/index.json" | cut -d' ' -f1)" = "${image##*@}" ] || fail "the registry's index is not the one in status.image"
[ "$(jq -r '[.manifests[].platform | .os + "/" + .architecture] | sort | join(",")' "$work/index.json")" = "linux/amd64,linux/arm64" ] ||
	fail "the index does not hold exactly linux/amd64 and linux/arm64"

step "pulling each architecture's child with skopeo copy --override-arch"
for arch in arm64 amd64; do
	skopeo copy --quiet --src-tls-verify=false --override-arch "$arch" "$ref" "oci:$work/$arch:pulled" || fail "pulling the $arch child"
	got_arch=$(skopeo inspect --config "oci:$work/$arch:pulled" | jq -r .architecture)
	# the index's entry for the architecture (the copy may convert the child's media type: kaniko pushes Docker's)
	got_digest=$(jq -r --arg a "$arch" '.manifests[] | select(.platform.architecture == $a) | .digest' "$work/index.json")
	want_digest=$(kubectl get mab hello -n "$ns" -o jsonpath="{.status.platforms[?(@.platform==\"linux/$arch\")].digest}")
	echo "  --override-arch $arch: manifest $got_digest, config architecture $got_arch"
	[ "$got_arch" = "$arch" ] || fail "the $arch child's config says $got_arch"
	[ "$got_digest" = "$want_digest" ] || fail "the $arch child is $got_digest, status says $want_digest"
done

printf '\ndemo: OK: MultiArchBuild %s/hello became %s\n' "$ns" "$image"
echo "demo: the cluster, the controller and the helper keep running; 'make demo-down' stops them all"
