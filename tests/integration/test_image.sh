#!/usr/bin/env bash
# The container image: built from the Dockerfile with this machine's Docker engine (no image can be pulled here, so
# the Debian base images are made with debootstrap + docker import first), run for `version`, and run as the
# controller against the local cluster, authenticated as its ServiceAccount, through a full build.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh
# shellcheck source=tests/env/common.sh
. tests/env/common.sh

image=multiarch-controller:test
name=mac-image-test-$$
work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
	docker rm -f "$name" >/dev/null 2>&1
	touch "$work/kubelet.stop"
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

if ! tests/env/base-image.sh; then
	fail "the Debian base images (debootstrap + docker import)"
	finish image
	exit 1
fi
pass "the Debian base images, made locally"
if docker build --network host -q --build-arg GIT_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" -t "$image" . \
	>"$work/build.log" 2>&1; then pass "docker build of the Dockerfile"; else fail "docker build" "$(tail -20 "$work/build.log")"; fi
out=$(docker run --rm --read-only "$image" version 2>&1)
expect_match "the image runs version (read-only root)" "^multiarch-controller $(cat VERSION) \(commit [0-9a-f]+\)" "$out"
expect_eq "it runs as a non-root user" "65532:65532" "$(docker image inspect "$image" --format '{{.Config.User}}')"
expect_eq "its entry point is the controller" "[multiarch-controller]" "$(docker image inspect "$image" --format '{{.Config.Entrypoint}}')"
expect_eq "every shared library it needs is in the image" "" \
	"$(docker run --rm --entrypoint ldd "$image" /usr/local/bin/multiarch-controller | grep 'not found')"
expect_match "CA certificates are in the image" "ca-certificates.crt" "$(docker run --rm --entrypoint ls "$image" /etc/ssl/certs/)"
expect_eq "no compiler in the runtime image" "" "$(docker run --rm --entrypoint sh "$image" -c 'command -v cc gcc make' 2>/dev/null)"

echo "-- the containerised controller, as its ServiceAccount, through a full build"
kubectl apply -f deploy/namespace.yaml -f deploy/serviceaccount.yaml -f deploy/rbac.yaml -f deploy/crd.yaml >/dev/null
kubectl get namespace image-test >/dev/null 2>&1 || kubectl create namespace image-test >/dev/null
cp "$MAC_CLUSTER_CA" "$work/ca.crt"
cat >"$work/sa.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$MAC_APISERVER", certificate-authority: /config/ca.crt}}]
users: [{name: sa, user: {token: "$(kubectl create token multiarch-controller -n multiarch-system --duration=1h)"}}]
contexts: [{name: sa, context: {cluster: local, user: sa}}]
current-context: sa
EOF
cp tests/env/policy-open.yaml "$work/config.yaml"
chmod 644 "$work"/*
health_port=$(free_port)
docker run -d --name "$name" --network host --read-only --cap-drop ALL --security-opt no-new-privileges -v "$work:/config:ro" "$image" \
	run --kubeconfig /config/sa.kubeconfig --config /config/config.yaml --namespace image-test --leader-election-namespace multiarch-system \
	--leader-election-id image-test --insecure-registry "$REGISTRY" --health-addr "127.0.0.1:$health_port" >/dev/null
if wait_for 30 curl -fsS "http://127.0.0.1:$health_port/readyz"; then pass "the container is ready"; else
	fail "the container is ready" "$(docker logs "$name" 2>&1 | tail -20)"; fi
tests/env/fake-kubelet.py --log "$work/kubelet.log" --stop-file "$work/kubelet.stop" --max-seconds 300 >/dev/null 2>&1 &
apply_mab image-test from-image
if kubectl wait --for=condition=Ready mab/from-image -n image-test --timeout=60s >/dev/null 2>&1; then
	pass "the containerised controller drove a build to Ready"
else
	fail "the containerised controller drove a build to Ready" "$(docker logs "$name" 2>&1 | tail -20)"
fi
expect_eq "the index holds both platforms" "linux/ppc64le,linux/riscv64" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/image-test/from-image:1.0" | jq -r '[.manifests[].platform | .os + "/" + .architecture] | sort | join(",")')"
docker stop -t 20 "$name" >/dev/null
expect_eq "docker stop (SIGTERM): a graceful exit 0" "0" "$(docker inspect "$name" --format '{{.State.ExitCode}}')"
expect_match "it gave its lease up on the way out" "stopped" "$(docker logs "$name" 2>&1 | tail -3)"
kubectl delete namespace image-test --wait=false >/dev/null 2>&1
finish image
