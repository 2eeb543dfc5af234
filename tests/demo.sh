#!/usr/bin/env bash
# make demo: the local end-to-end sandbox. Starts the local cluster and registry, runs the parts of the flow this
# version has (two per-arch images merged into a verified index, read back with skopeo), and says plainly that the
# controller-driven MultiArchBuild flow is not in this version yet.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\ndemo: %s\n' "$*"; }
fail() { echo "demo: FAILED at: $*; logs are in .local/cluster/logs/" >&2; exit 1; }

step "starting the local cluster (real etcd, kube-apiserver, scheduler, controller-manager; kwok fake nodes) and registry"
tests/env/cluster-up.sh || fail "starting the cluster"
# shellcheck disable=SC1091
. .local/cluster.env
step "nodes by architecture"
kubectl get nodes -L kubernetes.io/arch || fail "listing nodes"

step "installing the MultiArchBuild CRD and checking the cluster with 'multiarch-controller doctor'"
kubectl apply -f crds/ >/dev/null || fail "installing the CRD"
kubectl wait --for=condition=Established crd/multiarchbuilds.multiarch.dev --timeout=60s >/dev/null || fail "the CRD"
bin/multiarch-controller doctor || fail "doctor"

step "building two per-arch images (FROM scratch, one file) and pushing them by digest to $REGISTRY"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
amd=$(tests/env/make-image.sh "$work/layout" amd64 amd64)
arm=$(tests/env/make-image.sh "$work/layout" arm64 arm64)
for a in amd64 arm64; do
	skopeo copy --quiet --dest-tls-verify=false "oci:$work/layout:$a" "docker://$REGISTRY/demo/hello:build-$a" || fail "pushing $a"
done
echo "linux/amd64 $amd"
echo "linux/arm64 $arm"

step "merging them into one OCI index with 'multiarch-controller index'"
digest=$(bin/multiarch-controller index --image "$REGISTRY/demo/hello:1.0" --insecure-registry "$REGISTRY" \
	--source "$REGISTRY/demo/hello@$amd" --platform linux/amd64 \
	--source "$REGISTRY/demo/hello@$arm" --platform linux/arm64 | tail -n1) || fail "the index command"
echo "index: $REGISTRY/demo/hello@$digest"

step "the index read back with skopeo"
skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/demo/hello:1.0" | jq . || fail "reading the index"
for a in arm64 amd64; do
	skopeo copy --quiet --src-tls-verify=false --override-arch "$a" "docker://$REGISTRY/demo/hello:1.0" "oci:$work/pulled-$a:x" ||
		fail "pulling $a"
	echo "skopeo copy --override-arch $a -> $(jq -r '.manifests[0].digest' "$work/pulled-$a/index.json")"
done

echo
echo "demo: not in this version yet: the controller ('multiarch-controller run') that turns a MultiArchBuild into" >&2
echo "      build pods and an index Job. Everything above is real; the cluster stays up for exploring" >&2
echo "      ('. .local/cluster.env', then kubectl); 'make demo-down' stops everything." >&2
exit 1
