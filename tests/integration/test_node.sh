#!/usr/bin/env bash
# The real node: a kubelet built from k8s.io/kubernetes over containerd runs the pods; pods reach the API server
# through the kubernetes Service (kube-proxy) with the token the kubelet projects, and the registries at the node
# bridge's gateway. Every backend builds a Dockerfile with a RUN step, a build argument and (buildkit, buildah) a
# build secret from a ConfigMap source, pushed over TLS with basic auth through the private CA; the image is read
# back and what RUN wrote is checked; a second build uses the per-arch cache; the same from a git source (a tag and
# a subPath) on a local git server, and an HTTP archive (its sha256 checked by the source init container), through
# an HTTP proxy set in the builder configuration; a push to a registry known only by a hosts entry (hostAliases). The
# index Job's pod
# runs the controller image, and once more under Pod Security `restricted`. A pod whose image cannot be pulled,
# a builder container that cannot start and a pod the kubelet evicts
# ends in a clear platform status.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh
# shellcheck source=tests/env/common.sh
. tests/env/common.sh
# shellcheck source=tests/env/versions.sh
. tests/env/versions.sh

BIN=${MAC_CONTROLLER_BIN:-bin/multiarch-controller}
ns="node-builds"
work=$(mktemp -d)
cleanup() {
	[ -f "$work/ctl.pid" ] && kill "$(cat "$work/ctl.pid")" 2>/dev/null
	[ -f "$work/servers.pid" ] && xargs kill <"$work/servers.pid" 2>/dev/null
	wait 2>/dev/null
	kubectl delete namespace "$ns" node-restricted node-pods --wait=false >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

if [ "${MAC_REAL_NODE:-0}" != 1 ]; then
	fail "the test cluster has a real node" "MAC_REAL_NODE=${MAC_REAL_NODE:-unset}"
	finish node
	exit 1
fi
node=$MAC_REAL_NODE_NAME
# shellcheck disable=SC1090
. "$REGISTRY_TLS_ENV" # REGISTRY_USER, REGISTRY_PASSWORD of the TLS registry
mkdir -p "$work/certs" # skopeo's --cert-dir: the CA alone (a *.key there is taken for a client key)
cp "$MAC_CLUSTER_DIR/registry-tls/ca.crt" "$work/certs/"

echo "-- the node"
info=$(kubectl get node "$node" -o json)
expect_eq "the real node is Ready" True "$(jq -r '.status.conditions[] | select(.type == "Ready") | .status' <<<"$info")"
expect_eq "its kubelet is the pinned version" "$KUBE_VERSION" "$(jq -r .status.nodeInfo.kubeletVersion <<<"$info")"
expect_match "its runtime is the project's containerd" "^containerd://1\." "$(jq -r .status.nodeInfo.containerRuntimeVersion <<<"$info")"
expect_eq "it is amd64" amd64 "$(jq -r '.metadata.labels["kubernetes.io/arch"]' <<<"$info")"
expect_eq "it is not a kwok node" null "$(jq -r '.metadata.annotations["kwok.x-k8s.io/node"]' <<<"$info")"

# run_pod NAME IMAGE ARGS_JSON [SA]: a pod on the real amd64 node in node-pods; waits until it ends, prints its phase
run_pod() {
	kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: node-pods}
spec:
  restartPolicy: Never
  nodeSelector: {multiarch.dev/node: real, kubernetes.io/arch: amd64}
  tolerations: [{key: multiarch.dev/real-node, operator: Exists}]
  serviceAccountName: ${4:-default}
  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: main
    image: $2
    args: $3
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
EOF
	wait_for 120 pod_done "$1"
	kubectl get pod "$1" -n node-pods -o jsonpath='{.status.phase}'
}
pod_done() {
	case $(kubectl get pod "$1" -n node-pods -o jsonpath='{.status.phase}' 2>/dev/null) in Succeeded | Failed) return 0 ;; esac
	return 1
}
kubectl create namespace node-pods >/dev/null 2>&1
kubectl label namespace node-pods pod-security.kubernetes.io/enforce=restricted --overwrite >/dev/null
controller_image=$(tests/env/node-images.sh name controller)
expect_eq "a pod of the controller image runs on the real node" Succeeded \
	"$(run_pod version "$controller_image" '["version"]')"
expect_match "its log is read through the kubelet" "^multiarch-controller $(cat VERSION) " "$(kubectl logs -n node-pods version 2>&1)"
expect_eq "it ran on the real node" "$node" "$(kubectl get pod version -n node-pods -o jsonpath='{.spec.nodeName}')"

# in-cluster configuration: the token the kubelet projects, the kubernetes Service that kube-proxy routes
kubectl create serviceaccount doctor -n node-pods >/dev/null 2>&1
kubectl create clusterrolebinding node-test-doctor --clusterrole=view --serviceaccount=node-pods:doctor >/dev/null 2>&1
run_pod doctor "$controller_image" '["doctor"]' doctor >/dev/null
doctor=$(kubectl logs -n node-pods doctor 2>&1)
expect_match "in a pod, doctor reaches the API server through the kubernetes Service" "$KUBE_VERSION" "$doctor"
expect_match "in a pod, doctor is the ServiceAccount of its projected token" "system:serviceaccount:node-pods:doctor" "$doctor"
kubectl delete clusterrolebinding node-test-doctor >/dev/null 2>&1

echo "-- builds on the real node"
kubectl apply -f crds/multiarch.dev_multiarchbuilds.yaml >/dev/null
kubectl wait --for condition=established crd/multiarchbuilds.multiarch.dev --timeout=60s >/dev/null
tests/env/node-images.sh push-base "$REGISTRY" || fail "the busybox base image pushed to $REGISTRY"
kubectl create namespace "$ns" >/dev/null 2>&1
kubectl create secret docker-registry regcred -n "$ns" --docker-server="$REGISTRY_TLS" --docker-username="$REGISTRY_USER" \
	--docker-password="$REGISTRY_PASSWORD" >/dev/null
kubectl create secret generic build-token -n "$ns" --from-literal=token=s3cret-build-token >/dev/null
mkdir -p "$work/src"
cat >"$work/src/Dockerfile" <<EOF
FROM $REGISTRY/base/busybox:1
ARG GREETING=unset
RUN echo "\$GREETING from \$(uname -m)" >/built.txt && date +%s%N >/built-at
EOF
# the eviction variant: past a 16 MiB ephemeral-storage limit, and long enough for the kubelet to see it
printf 'FROM %s/base/busybox:1\nRUN dd if=/dev/zero of=/filler bs=1M count=64 && sleep 180\n' "$REGISTRY" >"$work/src/Dockerfile.big"
# the secret-reading variant (buildkit and buildah mount build secrets; kaniko has none)
sed 's|^RUN echo|RUN --mount=type=secret,id=token wc -c </run/secrets/token >/secret-size \&\& echo|' "$work/src/Dockerfile" >"$work/src/Dockerfile.secret"
# a step that needs the network.host entitlement, which no build here asks for
printf 'FROM %s/base/busybox:1\nRUN --network=host true\n' "$REGISTRY" >"$work/src/Dockerfile.hostnet"
kubectl create configmap node-src -n "$ns" --from-file="$work/src" >/dev/null
"$BIN" run --kubeconfig "$KUBECONFIG" --config "$BUILDER_CONFIG" --leader-election-id node-test --retry-backoff 2s \
	>"$work/ctl.log" 2>&1 &
echo $! >"$work/ctl.pid"

# build NAME BACKEND DOCKERFILE EXTRA [PLATFORM]: applies a one-platform build (linux/amd64 by default) pinned to the
# real nodes; with builder_image set, that builder image
build() {
	kubectl apply -f - >/dev/null <<EOF
apiVersion: multiarch.dev/v1alpha1
kind: MultiArchBuild
metadata: {name: $1, namespace: $ns}
spec:
  image: $REGISTRY_TLS/node/$1:1.0
  platforms: [${5:-linux/amd64}]
  source: {configMap: {name: node-src}}
  dockerfile: $3
  builder: {type: $2${builder_image:+, image: "$builder_image"}}
  buildArgs: [{name: GREETING, value: hello-$1}]
  pushSecretRef: {name: regcred}
  placement: {nodeSelector: {multiarch.dev/node: real}}
  policy: {retries: 0, timeout: 10m}
$4
EOF
}
ready() { [ "$(kubectl get mab "$1" -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
stalled() { [ "$(kubectl get mab "$1" -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Stalled")].status}')" = True ]; }
ended() { ready "$1" || stalled "$1"; }
# read_file NAME FILE: FILE of the amd64 image the index of build NAME points at
read_file() {
	local oci=$work/oci-$1
	rm -rf "$oci" "$work/bundle-$1"
	skopeo copy -q --override-arch amd64 --src-creds "$REGISTRY_USER:$REGISTRY_PASSWORD" --src-cert-dir "$work/certs" \
		"docker://$REGISTRY_TLS/node/$1:1.0" "oci:$oci:x" >/dev/null 2>&1 &&
		umoci raw unpack --rootless --image "$oci:x" "$work/bundle-$1" >/dev/null 2>&1 && cat "$work/bundle-$1/$2"
}
for backend in buildah buildkit kaniko; do
	dockerfile=Dockerfile.secret
	secrets="  buildSecrets: [{id: token, secretRef: {name: build-token, key: token}}]"
	[ $backend = kaniko ] && dockerfile=Dockerfile secrets=""
	started=$SECONDS
	build $backend $backend $dockerfile "$secrets"
	wait_for 600 ended $backend
	first=$((SECONDS - started))
	if ! expect_eq "$backend: the build is Ready" True "$(kubectl get mab $backend -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')"; then
		kubectl get mab $backend -n "$ns" -o jsonpath='{.status.platforms}' | head -c 1500
		echo
	fi
	pod=$(kubectl get mab $backend -n "$ns" -o jsonpath='{.status.platforms[0].pod}')
	expect_eq "$backend: its build pod ran on the real node" "$node" "$(kubectl get pod "$pod" -n "$ns" -o jsonpath='{.spec.nodeName}' 2>/dev/null)"
	job_pod=$(kubectl get pods -n "$ns" -l "multiarch.dev/build=$backend,multiarch.dev/role=index" -o jsonpath='{.items[0].spec.nodeName}')
	expect_match "$backend: the index Job's pod ran on a real node (any architecture)" "^real-(amd64|arm64)-1$" "$job_pod"
	expect_match "$backend: the index digest is in the status" "/node/$backend@sha256:[0-9a-f]{64}$" \
		"$(kubectl get mab $backend -n "$ns" -o jsonpath='{.status.image}')"
	expect_eq "$backend: what the RUN step wrote, with the build argument, on the node's architecture" "hello-$backend from x86_64" \
		"$(read_file $backend built.txt)"
	expect_eq "$backend: the application's repository holds only the tag asked for (no per-arch or cache tag)" '["1.0"]' \
		"$(skopeo list-tags --creds "$REGISTRY_USER:$REGISTRY_PASSWORD" --cert-dir "$work/certs" "docker://$REGISTRY_TLS/node/$backend" | jq -c '.Tags')"
	expect_match "$backend: the cache is in a repository of its own" '"Tags": \[' \
		"$(skopeo list-tags --creds "$REGISTRY_USER:$REGISTRY_PASSWORD" --cert-dir "$work/certs" "docker://$REGISTRY_TLS/node/$backend-cache" 2>&1)"
	[ $backend != kaniko ] && expect_eq "$backend: the build secret was mounted for RUN" 18 "$(read_file $backend secret-size | tr -d ' ')"
	# the second build of the same source: the per-arch cache answers the RUN step
	before=$(read_file $backend built-at)
	[ -n "$before" ] || before="(the first image could not be read)"
	kubectl patch mab $backend -n "$ns" --type merge -p '{"spec":{"rebuildRequest":"again"}}' >/dev/null
	started=$SECONDS
	wait_for 60 sh -c "[ \"\$(kubectl get mab $backend -n $ns -o jsonpath='{.status.observedGeneration}')\" = 2 ]"
	wait_for 600 ended $backend
	second=$((SECONDS - started))
	expect_eq "$backend: the second build is Ready" True "$(kubectl get mab $backend -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')"
	if [ $backend = buildah ]; then
		# Debian's buildah 1.28 pushes its layer cache (--cache-to) but misses it on the next build (docs/testing.md)
		echo "   buildah: the registry cache is pushed but not reused by this buildah version (RUN ran again)"
	else
		expect_eq "$backend: the second build took the RUN step from the cache" "$before" "$(read_file $backend built-at)"
	fi
	echo "   $backend: first build ${first}s, cached rebuild ${second}s" | tee -a "$work/times"
done

echo "-- a git source from a local git server (a tag and a subPath), through the builder configuration's HTTP proxy"
gw=$MAC_REGISTRY_HOST
git_port=$(free_port)
proxy_port=$(free_port)
git init -q --bare "$work/git/app.git"
git clone -q "$work/git/app.git" "$work/clone" 2>/dev/null
mkdir -p "$work/clone/app"
cp "$work/src/Dockerfile" "$work/clone/app/Dockerfile"
(cd "$work/clone" && git add . && git -c user.name=test -c user.email=test@example.com commit -qm v1 && git tag v1.0.0 &&
	git push -q origin HEAD:refs/heads/main v1.0.0) || fail "the test repository pushed to the local git server's folder"
git -C "$work/git/app.git" symbolic-ref HEAD refs/heads/main
tests/env/git-server.py --listen "$gw:$git_port" --root "$work/git" --log "$work/git.log" --max-seconds 900 &
echo $! >>"$work/servers.pid"
tests/env/forward-proxy.py --listen "$gw:$proxy_port" --allow "$gw" --log "$work/proxy.log" --max-seconds 900 &
echo $! >>"$work/servers.pid"
wait_for 20 curl -fsS -o /dev/null "http://$gw:$git_port/app.git/info/refs?service=git-upload-pack"
# the builder configuration with a proxy: the plain registry (the base image) is reached directly, the TLS registry
# and the git server through the proxy
{
	cat "$BUILDER_CONFIG"
	printf 'proxy:\n  httpProxy: http://%s:%s\n  httpsProxy: http://%s:%s\n  noProxy: %s\n' "$gw" "$proxy_port" "$gw" "$proxy_port" "$REGISTRY"
} >"$work/proxy-config.yaml"
kill "$(cat "$work/ctl.pid")" 2>/dev/null
wait "$(cat "$work/ctl.pid")" 2>/dev/null
"$BIN" run --kubeconfig "$KUBECONFIG" --config "$work/proxy-config.yaml" --leader-election-id node-test --retry-backoff 2s \
	>>"$work/ctl.log" 2>&1 &
echo $! >"$work/ctl.pid"
for backend in buildah buildkit kaniko; do
	kubectl apply -f - >/dev/null <<EOF
apiVersion: multiarch.dev/v1alpha1
kind: MultiArchBuild
metadata: {name: git-$backend, namespace: $ns}
spec:
  image: $REGISTRY_TLS/node/git-$backend:1.0
  platforms: [linux/amd64]
  source: {git: {url: "http://$gw:$git_port/app.git", revision: v1.0.0, subPath: app}}
  builder: {type: $backend}
  buildArgs: [{name: GREETING, value: from-git}]
  pushSecretRef: {name: regcred}
  placement: {nodeSelector: {multiarch.dev/node: real}}
  policy: {retries: 0, timeout: 10m}
EOF
done
for backend in buildah buildkit kaniko; do
	wait_for 600 ended git-$backend
	if ! expect_eq "git, $backend: the build of tag v1.0.0, subPath app, is Ready" True \
		"$(kubectl get mab git-$backend -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')"; then
		kubectl get mab git-$backend -n "$ns" -o jsonpath='{.status.platforms[0].message}' | head -c 1500
		echo
	fi
	expect_eq "git, $backend: what the RUN step wrote" "from-git from x86_64" "$(read_file git-$backend built.txt)"
done
expect_match "the git server served the repository" "POST /app.git/git-upload-pack 200" "$(cat "$work/git.log" 2>/dev/null)"
expect_match "the builders reached the git server through the proxy" "$gw:$git_port" "$(cat "$work/proxy.log" 2>/dev/null)"
expect_match "the pushes went through the proxy (CONNECT to the TLS registry)" "^CONNECT $REGISTRY_TLS" "$(cat "$work/proxy.log" 2>/dev/null)"
expect_no_match "NO_PROXY kept the plain registry direct" " $REGISTRY\$" "$(cat "$work/proxy.log" 2>/dev/null)"

echo "-- an HTTP archive source (checked against its sha256) fetched by the source init container, through the proxy"
http_port=$(free_port)
mkdir -p "$work/www"
tar -czf "$work/www/app.tar.gz" -C "$work/clone" app
archive_sha=$(sha256sum "$work/www/app.tar.gz" | cut -d' ' -f1)
timeout 900 python3 -m http.server --bind "$gw" --directory "$work/www" "$http_port" >"$work/http.log" 2>&1 &
echo $! >>"$work/servers.pid"
wait_for 20 curl -fsS -o /dev/null "http://$gw:$http_port/app.tar.gz"
# http_build NAME SHA256: a BuildKit build of the archive's app folder
http_build() {
	kubectl apply -f - >/dev/null <<EOF
apiVersion: multiarch.dev/v1alpha1
kind: MultiArchBuild
metadata: {name: $1, namespace: $ns}
spec:
  image: $REGISTRY_TLS/node/$1:1.0
  platforms: [linux/amd64]
  source: {http: {url: "http://$gw:$http_port/app.tar.gz", sha256: "$2", subPath: app}}
  buildArgs: [{name: GREETING, value: from-http}]
  pushSecretRef: {name: regcred}
  placement: {nodeSelector: {multiarch.dev/node: real}}
  policy: {retries: 0, timeout: 10m}
EOF
}
http_build http-ok "$archive_sha"
http_build http-bad "$(printf '0%.0s' $(seq 64))"
wait_for 600 ended http-ok
expect_eq "http: the build of the verified archive is Ready" True \
	"$(kubectl get mab http-ok -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')"
expect_eq "http: what the RUN step wrote" "from-http from x86_64" "$(read_file http-ok built.txt)"
wait_for 300 ended http-bad
expect_match "http: an archive that is not the one named fails in its source container, saying so" "source: .*sha256" \
	"$(kubectl get mab http-bad -n "$ns" -o jsonpath='{.status.platforms[0].message}')"
expect_match "the source container fetched the archive through the proxy" "^GET $gw:$http_port\$" "$(cat "$work/proxy.log" 2>/dev/null)"

echo "-- private names: a registry known only by a hosts entry of the builder configuration (hostAliases)"
alias_registry=registry.corp.test:${REGISTRY##*:}
expect_eq "the name does not resolve on this machine" "" "$(getent hosts registry.corp.test)"
sed -e "s|^  insecure: \[\(.*\)\]\$|  insecure: [\1, $alias_registry]|" \
	-e "s|^defaults:\$|defaults:\n  hostAliases: [{ip: \"$gw\", hostnames: [registry.corp.test]}]\n  dnsConfig: {options: [{name: ndots, value: \"1\"}]}|" \
	"$BUILDER_CONFIG" >"$work/alias-config.yaml"
kill "$(cat "$work/ctl.pid")" 2>/dev/null
wait "$(cat "$work/ctl.pid")" 2>/dev/null
"$BIN" run --kubeconfig "$KUBECONFIG" --config "$work/alias-config.yaml" --leader-election-id node-test --retry-backoff 2s \
	>>"$work/ctl.log" 2>&1 &
echo $! >"$work/ctl.pid"
kubectl apply -f - >/dev/null <<EOF
apiVersion: multiarch.dev/v1alpha1
kind: MultiArchBuild
metadata: {name: aliased, namespace: $ns}
spec:
  image: $alias_registry/node/aliased:1.0
  platforms: [linux/amd64]
  source: {configMap: {name: node-src}}
  builder: {type: kaniko}
  buildArgs: [{name: GREETING, value: hello-aliased}]
  placement: {nodeSelector: {multiarch.dev/node: real}}
  policy: {retries: 0, timeout: 10m}
EOF
# kubectl mab (bin/kubectl-mab, found by kubectl in PATH) follows the build while it runs, then waits for it
mab() { PATH=$PWD/bin:$PATH kubectl mab -n "$ns" "$@"; }
mab logs aliased -f >"$work/mab-follow.log" 2>&1 &
follow_pid=$!
mab wait aliased --timeout=1s >/dev/null 2>&1
expect_eq "kubectl mab wait: exit 124 when the timeout passes first" 124 "$?"
waited=$(mab wait aliased --timeout=10m)
expect_eq "kubectl mab wait: exit 0 once Ready" 0 "$?"
if ! expect_eq "hostAliases: the build pushed to the aliased name is Ready" True \
	"$(kubectl get mab aliased -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')"; then
	kubectl get mab aliased -n "$ns" -o jsonpath='{.status.message} {.status.platforms[0].message}' | head -c 1500
	echo
fi
expect_eq "kubectl mab wait: prints the image by digest" "$(kubectl get mab aliased -n "$ns" -o jsonpath='{.status.image}')" "$waited"
wait_for 30 sh -c "! kill -0 $follow_pid 2>/dev/null"
expect_eq "kubectl mab logs -f: ends by itself when the build has ended" "" "$(kill -0 "$follow_pid" 2>/dev/null && echo running)"
expect_match "kubectl mab logs -f: kaniko's lines, prefixed with the platform" "^\[linux/amd64\] .*(Pushing|Pushed|pushed)" "$(cat "$work/mab-follow.log")"
expect_eq "kubectl mab logs -f: every line prefixed" "" "$(grep -v '^\[linux/amd64\] ' "$work/mab-follow.log" | head -n 3)"
expect_match "kubectl mab logs (not followed) prints the same" "^\[linux/amd64\] " "$(mab logs aliased --platform linux/amd64 | head -n 1)"
expect_match "kubectl mab status: the phase and a platform table" "Phase: +Succeeded \(1/1 platforms\).*linux/amd64 +Succeeded +1 +real-amd64-1" \
	"$(mab status aliased | tr '\n' ' ')"
expect_match "kubectl mab rebuild sets multiarch.dev/requested-at" "aliased rebuild requested \(multiarch.dev/requested-at=" "$(mab rebuild aliased)"
asked=$(kubectl get mab aliased -n "$ns" -o jsonpath='{.metadata.annotations.multiarch\.dev/requested-at}')
mab wait aliased --timeout=10m >/dev/null
expect_eq "kubectl mab wait waits for the requested round, which the controller handled" "0 $asked" \
	"$? $(kubectl get mab aliased -n "$ns" -o jsonpath='{.status.lastHandledRequestedAt}')"
mab wait http-bad --timeout=1m 2>"$work/mab-failed.err"
expect_eq "kubectl mab wait: exit 1 for a failed build" 1 "$?"
expect_match "... saying why" "multiarchbuild http-bad failed: " "$(cat "$work/mab-failed.err")"
expect_eq "kubectl completes the plugin's words (kubectl_complete-mab)" "status" \
	"$(PATH=$PWD/bin:$PATH kubectl __complete mab st 2>/dev/null | grep -v '^:' | head -n 1)"
expect_match "... and the build names" "(^| )aliased( |$)" \
	"$(PATH=$PWD/bin:$PATH kubectl __complete mab -n "$ns" wait ali 2>/dev/null | grep -v '^:' | tr '\n' ' ')"
expect_match "hostAliases: the status names the aliased registry" "^$alias_registry/node/aliased@sha256:" \
	"$(kubectl get mab aliased -n "$ns" -o jsonpath='{.status.image}')"
pod=$(kubectl get mab aliased -n "$ns" -o jsonpath='{.status.platforms[0].pod}')
index_pod=$(kubectl get pods -n "$ns" -l multiarch.dev/build=aliased,multiarch.dev/role=index -o name | head -n1)
for p in "pod/$pod" "$index_pod"; do
	expect_eq "hostAliases and dnsConfig in $p" "$gw registry.corp.test ndots" \
		"$(kubectl get "$p" -n "$ns" -o jsonpath='{.spec.hostAliases[0].ip} {.spec.hostAliases[0].hostnames[0]} {.spec.dnsConfig.options[0].name}' 2>/dev/null)"
done
expect_eq "the index, read at the registry's address, holds linux/amd64" "linux/amd64" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/node/aliased:1.0" | jq -r '[.manifests[].platform | .os + "/" + .architecture] | join(",")')"

if [ "${MAC_ARM64_NODE:-0}" = 1 ]; then
	echo "-- the real arm64 node (arm64 kubelet and containerd under qemu-user; its pods' arm64 code is emulated)"
	arm_info=$(kubectl get node real-arm64-1 -o json)
	expect_eq "the arm64 node is Ready" True "$(jq -r '.status.conditions[] | select(.type == "Ready") | .status' <<<"$arm_info")"
	expect_eq "its kubelet reports arm64" "arm64 $KUBE_VERSION" "$(jq -r '"\(.status.nodeInfo.architecture) \(.status.nodeInfo.kubeletVersion)"' <<<"$arm_info")"
	build kaniko-arm64 kaniko Dockerfile "" linux/arm64
	started=$SECONDS
	wait_for 900 ended kaniko-arm64
	expect_eq "kaniko builds linux/arm64 on the real arm64 node" True \
		"$(kubectl get mab kaniko-arm64 -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')"
	expect_eq "its build pod ran on real-arm64-1" real-arm64-1 \
		"$(kubectl get mab kaniko-arm64 -n "$ns" -o jsonpath='{.status.platforms[0].node}')"
	arm_oci=$work/oci-arm64
	skopeo copy -q --override-arch arm64 --src-creds "$REGISTRY_USER:$REGISTRY_PASSWORD" --src-cert-dir "$work/certs" \
		"docker://$REGISTRY_TLS/node/kaniko-arm64:1.0" "oci:$arm_oci:x" >/dev/null 2>&1 &&
		umoci raw unpack --rootless --image "$arm_oci:x" "$work/bundle-arm64" >/dev/null 2>&1
	expect_eq "what its RUN step wrote: arm64 code ran" "hello-kaniko-arm64 from aarch64" "$(cat "$work/bundle-arm64/built.txt" 2>/dev/null)"
	echo "   arm64 build on the emulated node: $((SECONDS - started))s"
fi

echo "-- the index Job under Pod Security restricted"
kubectl create namespace node-restricted >/dev/null 2>&1
kubectl label namespace node-restricted pod-security.kubernetes.io/enforce=restricted --overwrite >/dev/null
kubectl get secret regcred -n "$ns" -o json | jq '.metadata = {name: "regcred", namespace: "node-restricted"}' | kubectl apply -f - >/dev/null
job=$(kubectl get jobs -n "$ns" -l multiarch.dev/build=kaniko -o json | jq -c '.items[-1]')
cm=$(jq -r '.spec.template.spec.volumes[]? | select(.name == "trust") | .projected.sources[0].configMap.name' <<<"$job")
kubectl get configmap "$cm" -n "$ns" -o json | jq '.metadata = {name: .metadata.name, namespace: "node-restricted"}' | kubectl apply -f - >/dev/null
jq '{apiVersion, kind, metadata: {name: "index-restricted", namespace: "node-restricted"},
	spec: (.spec | del(.selector) | .template.metadata.labels = {app: "index-restricted"} | .template.spec.tolerations = [{key: "multiarch.dev/real-node", operator: "Exists"}] | .template.spec.nodeSelector["multiarch.dev/node"] = "real")}' \
	<<<"$job" | kubectl apply -f - >"$work/restricted.out" 2>&1
expect_match "the index Job is admitted under restricted" "created" "$(cat "$work/restricted.out")"
complete() { [ "$(kubectl get job index-restricted -n node-restricted -o jsonpath='{.status.succeeded}')" = 1 ]; }
wait_for 180 complete
expect_eq "the index Job's pod completes under restricted" 1 "$(kubectl get job index-restricted -n node-restricted -o jsonpath='{.status.succeeded}')"
expect_match "its termination message is the index digest" '^sha256:[0-9a-f]{64}' \
	"$(kubectl get pods -n node-restricted -l app=index-restricted -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.message}')"

echo "-- what a real runtime brings"
kubectl apply -f - >/dev/null <<EOF
apiVersion: multiarch.dev/v1alpha1
kind: MultiArchBuild
metadata: {name: no-image, namespace: $ns}
spec:
  image: $REGISTRY_TLS/node/no-image:1.0
  platforms: [linux/amd64]
  source: {configMap: {name: node-src}}
  builder: {type: buildah, image: "$REGISTRY/missing/builder:1"}
  placement: {nodeSelector: {multiarch.dev/node: real}}
  policy: {retries: 0, timeout: 10m}
EOF
started=$SECONDS
wait_for 120 stalled no-image
expect_eq "an image that cannot be pulled stalls the build" True "$(kubectl get mab no-image -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Stalled")].status}')"
expect_match "the platform says the kubelet's reason" "(ErrImagePull|ImagePullBackOff) \\(container builder\\)" \
	"$(kubectl get mab no-image -n "$ns" -o jsonpath='{.status.platforms[0].message}')"
echo "   image pull failure reported in $((SECONDS - started))s"
# the pause image as the BuildKit builder: the node has it, but it holds no /bin/sh to run
builder_image=$(tests/env/node-images.sh name pause) build no-start buildkit Dockerfile ""
started=$SECONDS
wait_for 120 stalled no-start
expect_eq "a builder container that cannot start stalls the build" True "$(kubectl get mab no-start -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Stalled")].status}')"
expect_match "the platform says the kubelet's reason and the runtime's error" "(StartError|ContainerCannotRun|RunContainerError).*(no such file|not found)" \
	"$(kubectl get mab no-start -n "$ns" -o jsonpath='{.status.platforms[0].message}')"
echo "   container start failure reported in $((SECONDS - started))s"
# RUN --network=host in a build that asked for no entitlement (the operator's policy allows none by default)
build hostnet buildkit Dockerfile.hostnet ""
wait_for 180 stalled hostnet
expect_match "a Dockerfile step that needs an entitlement the build has not got fails, in BuildKit's words" \
	"network.host is not allowed" "$(kubectl get mab hostnet -n "$ns" -o jsonpath='{.status.platforms[0].message}')"
# the kubelet's eviction manager evicts a pod that writes past its ephemeral-storage limit
build evicted kaniko Dockerfile.big "  resources: {limits: {ephemeral-storage: 16Mi}}"
started=$SECONDS
wait_for 240 stalled evicted
expect_eq "a build pod the kubelet evicts stalls the build" True "$(kubectl get mab evicted -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Stalled")].status}')"
expect_eq "the pod was evicted by the real kubelet" "Failed Evicted" \
	"$(kubectl get pods -n "$ns" -l multiarch.dev/build=evicted -o jsonpath='{.items[0].status.phase} {.items[0].status.reason}')"
expect_match "the platform says it was evicted, and why" "the pod failed: Evicted: .*ephemeral" \
	"$(kubectl get mab evicted -n "$ns" -o jsonpath='{.status.platforms[0].message}')"
echo "   eviction reported in $((SECONDS - started))s"
expect_eq "the controller never crashed" "" "$(grep -E 'AddressSanitizer|runtime error' "$work/ctl.log")"
cat "$work/times" >>"${MAC_NODE_TIMES:-/dev/null}" 2>/dev/null
finish node
