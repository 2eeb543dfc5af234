#!/usr/bin/env bash
# The operator for real: `kubectl apply -k` of deploy/ (with the controller image built here and a builder
# configuration for this cluster, as a user's overlay would give them) runs two replicas on the real node, with
# in-cluster configuration from the token the kubelet projects; the probes answer, one replica leads, and a build
# applied with kubectl goes end to end.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh
# shellcheck source=tests/env/common.sh
. tests/env/common.sh

ns=operator-builds
overlay=build/operator-overlay
cleanup() {
	kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1
	kubectl delete deployment multiarch-controller -n multiarch-system --wait=true --timeout=60s >/dev/null 2>&1
	rm -rf "$overlay"
}
trap cleanup EXIT

if [ "${MAC_REAL_NODE:-0}" != 1 ]; then
	fail "the test cluster has a real node" "MAC_REAL_NODE=${MAC_REAL_NODE:-unset}"
	finish operator-node
	exit 1
fi
# the controller's namespace as an earlier test's uninstall may still be deleting it
[ "$(kubectl get namespace multiarch-system -o jsonpath='{.status.phase}' 2>/dev/null)" != Terminating ] ||
	kubectl wait --for=delete namespace/multiarch-system --timeout=180s >/dev/null
image=$(tests/env/node-images.sh name controller)
rm -rf "$overlay"
mkdir -p "$overlay"
# the builder configuration the pods read: BUILDER_CONFIG's images and registries, its CA inline (the file is the host's)
inline_builder_config >"$overlay/config.yaml"
cat >"$overlay/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../deploy
images:
- {name: ghcr.io/multiarch-dev/multiarch-controller, newName: ${image%:*}, newTag: ${image##*:}}
configMapGenerator:
- name: multiarch-controller-config
  namespace: multiarch-system
  behavior: replace
  files: [config.yaml]
  options: {disableNameSuffixHash: true}
patches:
- target: {kind: Deployment, name: multiarch-controller}
  patch: |
    - {op: add, path: /spec/template/spec/nodeSelector, value: {multiarch.dev/node: real}}
    - {op: add, path: /spec/template/spec/tolerations, value: [{key: multiarch.dev/real-node, operator: Exists}]}
EOF
out=$(kubectl apply -k "$overlay" 2>&1)
expect_match "kubectl apply -k of deploy/ (an overlay naming the local image)" "deployment.apps/multiarch-controller (created|configured)" "$out"
available() { [ "$(kubectl get deployment multiarch-controller -n multiarch-system -o jsonpath='{.status.availableReplicas}')" = 2 ]; }
wait_for 180 available
expect_eq "two replicas are available (their readiness probes answer)" 2 \
	"$(kubectl get deployment multiarch-controller -n multiarch-system -o jsonpath='{.status.availableReplicas}')"
pods=$(kubectl get pods -n multiarch-system -l app.kubernetes.io/name=multiarch-controller --field-selector=status.phase=Running -o json)
expect_match "both run on the real nodes" "^real-(amd64|arm64)-1 real-(amd64|arm64)-1$" \
	"$(jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | .spec.nodeName] | join(" ")' <<<"$pods")"
expect_eq "with no restart (the liveness probe answers)" 0 "$(jq '[.items[].status.containerStatuses[0].restartCount] | add' <<<"$pods")"
# the lease (deploy/'s default name) holder's identity is its host name (the pod's name) and a random suffix
holder_pod() {
	local holder
	holder=$(kubectl get lease multiarch-controller -n multiarch-system -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)
	[ -n "$holder" ] && kubectl get pod "${holder%_*}" -n multiarch-system >/dev/null 2>&1 && echo "${holder%_*}"
}
wait_for 60 holder_pod
leader=$(holder_pod)
expect_match "one replica holds the lease" "^($(jq -r '[.items[].metadata.name] | join("|")' <<<"$pods"))\$" "$leader"

kubectl create namespace "$ns" >/dev/null 2>&1
built=$(build_hello "$ns" 300)
expect_eq "the operator built a MultiArchBuild end to end" True \
	"$(kubectl get mab hello -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')"
expect_match "the index is in the status" "/$ns/hello@sha256:[0-9a-f]{64}$" "$built"
# read again for a while: once, through the emulated arm64 node's kubelet, the log came back as its last line only
leader_log_says() { kubectl logs -n multiarch-system "$leader" 2>/dev/null | grep -q '"msg":.*became the leader'; }
wait_for 30 leader_log_says
expect_match "the leader's log (JSON) says it leads" '"msg":.*became the leader' "$(kubectl logs -n multiarch-system "$leader" 2>/dev/null)"
finish operator-node
