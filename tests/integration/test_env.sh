#!/usr/bin/env bash
# Proves the test environment is real: nodes of several architectures, the real scheduler honouring
# kubernetes.io/arch, the real Job controller creating pods, and a registry that round-trips an image.
# Needs the env file of a running local cluster sourced (tests/integration/run.sh does that).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

ns=env-test-$RANDOM
work=$(mktemp -d)
trap 'kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1; rm -rf "$work"' EXIT

# --- Ready nodes: the fake ones (kwok) the fault tests use, of architectures no real node serves, and the real ones
nodes=$(kubectl get nodes -l type=kwok -L kubernetes.io/arch --no-headers)
expect_eq "two Ready fake riscv64 nodes" 2 "$(printf '%s\n' "$nodes" | awk '$2 == "Ready" && $NF == "riscv64"' | wc -l)"
expect_eq "two Ready fake ppc64le nodes" 2 "$(printf '%s\n' "$nodes" | awk '$2 == "Ready" && $NF == "ppc64le"' | wc -l)"
expect_eq "fake nodes report their architecture in nodeInfo" "ppc64le ppc64le riscv64 riscv64" \
	"$(kubectl get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.nodeInfo.architecture}{"\n"}{end}' | sort | xargs)"
if [ "${MAC_REAL_NODE:-0}" = 1 ]; then
	expect_eq "the real node reports amd64 in nodeInfo, and is Ready" "amd64 True" \
		"$(kubectl get node "$MAC_REAL_NODE_NAME" -o jsonpath='{.status.nodeInfo.architecture} {.status.conditions[?(@.type=="Ready")].status}')"
	real_arches=$(kubectl get nodes -l multiarch.dev/node=real -o jsonpath='{range .items[*]}{.metadata.labels.kubernetes\.io/arch}{"\n"}{end}')
	fake_arches=$(kubectl get nodes -l type=kwok -o jsonpath='{range .items[*]}{.metadata.labels.kubernetes\.io/arch}{"\n"}{end}')
	expect_eq "no fake node has the architecture of a real node (amd64 and arm64 builds run for real only)" "" \
		"$(comm -12 <(sort -u <<<"$real_arches") <(sort -u <<<"$fake_arches"))"
fi

kubectl create namespace "$ns" >/dev/null
wait_for 60 kubectl get serviceaccount default -n "$ns" || fail "default service account created in $ns"

# pod NAME ARCH: a pod pinned with nodeSelector to ARCH
pod() {
	cat <<POD
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: $ns}
spec:
  nodeSelector: {kubernetes.io/os: linux, kubernetes.io/arch: $2}
  containers: [{name: main, image: registry.invalid/idle:1}]
POD
}

# --- the real scheduler binds ppc64le pods to ppc64le nodes only
for i in 1 2 3 4 5 6; do pod "ppc-$i" ppc64le; echo ---; done | kubectl apply -f - >/dev/null
pod riscv-1 riscv64 | kubectl apply -f - >/dev/null
pod s390x-1 s390x | kubectl apply -f - >/dev/null
all_bound() { [ -z "$(kubectl get pods -n "$ns" -o jsonpath='{range .items[*]}{.metadata.name}={.spec.nodeName}{"\n"}{end}' | grep -v '^s390x' | grep '=$')" ]; }
if wait_for 60 all_bound; then pass "the scheduler bound every schedulable pod"; else fail "the scheduler bound every schedulable pod"; fi
bound_arches=$(for i in 1 2 3 4 5 6; do
	node=$(kubectl get pod "ppc-$i" -n "$ns" -o jsonpath='{.spec.nodeName}')
	kubectl get node "$node" -o jsonpath='{.metadata.labels.kubernetes\.io/arch}'
	echo
done | sort | uniq -c | xargs)
expect_eq "all six ppc64le pods landed on ppc64le nodes" "6 ppc64le" "$bound_arches"
expect_match "the ppc64le pods were spread over both ppc64le nodes" "fake-ppc64le-1.*fake-ppc64le-2|fake-ppc64le-2.*fake-ppc64le-1" \
	"$(kubectl get pods -n "$ns" -o jsonpath='{range .items[*]}{.spec.nodeName}{" "}{end}' | tr ' ' '\n' | grep ppc64le | sort -u | xargs)"
node=$(kubectl get pod riscv-1 -n "$ns" -o jsonpath='{.spec.nodeName}')
expect_match "the riscv64 pod landed on a riscv64 node" "^fake-riscv64-" "$node"
unschedulable() { kubectl get pod s390x-1 -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}' | grep -q Unschedulable; }
if wait_for 30 unschedulable; then pass "a pod for an architecture with no node is reported Unschedulable"; else fail "a pod for an architecture with no node is reported Unschedulable"; fi
expect_eq "the s390x pod has no node" "" "$(kubectl get pod s390x-1 -n "$ns" -o jsonpath='{.spec.nodeName}')"
expect_match "the scheduler says why" "didn't match Pod's node affinity/selector" \
	"$(kubectl get pod s390x-1 -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].message}')"

# --- the real Job controller creates the Job's pod
kubectl create job env-job -n "$ns" --image=registry.invalid/idle:1 -- /bin/true >/dev/null
job_pod() { [ -n "$(kubectl get pods -n "$ns" -l job-name=env-job -o name)" ]; }
if wait_for 60 job_pod; then pass "the Job controller created the Job's pod"; else fail "the Job controller created the Job's pod"; fi
expect_eq "the Job's pod is owned by the Job" "Job/env-job" \
	"$(kubectl get pods -n "$ns" -l job-name=env-job -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}')"

# --- the registry round-trips an image pushed with skopeo
digest=$(tests/env/make-image.sh "$work/layout" arm64 arm64)
skopeo copy --quiet --dest-tls-verify=false "oci:$work/layout:arm64" "docker://$REGISTRY/env-test/hello:arm64" 2>"$work/err"
expect_eq "skopeo pushed the image" "" "$(cat "$work/err")"
skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/env-test/hello:arm64" >"$work/manifest.json"
expect_eq "the manifest read back byte for byte has the pushed digest" "$digest" "sha256:$(sha256sum <"$work/manifest.json" | cut -d' ' -f1)"
expect_eq "the image read back is arm64" "linux/arm64" \
	"$(skopeo inspect --config --tls-verify=false "docker://$REGISTRY/env-test/hello@$digest" | jq -r '.os + "/" + .architecture')"

# --- the basic-auth + TLS registry variant
tls_addr=$(tests/env/registry.sh start basic-tls env-tls)
. "$MAC_CLUSTER_DIR/registry-env-tls/env"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REGISTRY_CA" "https://$tls_addr/v2/")
expect_eq "the TLS registry asks for credentials" 401 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REGISTRY_CA" -u "$REGISTRY_USER:$REGISTRY_PASSWORD" "https://$tls_addr/v2/")
expect_eq "the TLS registry accepts its user over its private CA" 200 "$code"
mkdir -p "$work/certs"
cp "$REGISTRY_CA" "$work/certs/ca.crt"
skopeo copy --quiet --dest-cert-dir "$work/certs" --dest-creds "$REGISTRY_USER:$REGISTRY_PASSWORD" \
	"oci:$work/layout:arm64" "docker://$tls_addr/env-test/hello:arm64" 2>"$work/err"
expect_eq "skopeo pushed through basic auth and TLS" "" "$(cat "$work/err")"
expect_eq "the TLS registry returns the same digest" "$digest" \
	"$(skopeo inspect --cert-dir "$work/certs" --creds "$REGISTRY_USER:$REGISTRY_PASSWORD" "docker://$tls_addr/env-test/hello:arm64" | jq -r .Digest)"
tests/env/registry.sh stop env-tls

finish integration-env
