#!/usr/bin/env bash
# The build pods of every backend: golden pod specs (tests/fixtures/builders/*.json, from `multiarch-controller render`),
# each accepted by the real API server with --dry-run=server; and a build run by the controller with a push secret,
# a Git secret and a build secret whose values must never appear in a pod's arguments or environment, nor in logs.
# MAC_UPDATE_GOLDEN=1 rewrites the golden files.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh

BIN=${MAC_CONTROLLER_BIN:-bin/multiarch-controller}
work=$(mktemp -d)
suffix=$RANDOM
cleanup() {
	[ -f "$work/ctl.pid" ] && kill "$(cat "$work/ctl.pid")" 2>/dev/null
	touch "$work/kubelet.stop"
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
kubectl apply -f crds/multiarch.dev_multiarchbuilds.yaml >/dev/null
kubectl get namespace builds >/dev/null 2>&1 || kubectl create namespace builds >/dev/null

for input in tests/fixtures/builders/*.yaml; do
	name=$(basename "$input" .yaml)
	[ "$name" = builder-config ] && continue
	# shellcheck disable=SC2046 # the header's flags are words
	flags=$(sed -n 's/^# render: --/--/p' "$input")
	# shellcheck disable=SC2086
	"$BIN" render -f "$input" $flags >"$work/$name.json" 2>"$work/$name.err"
	expect_eq "$name: render exits 0" "" "$(cat "$work/$name.err")"
	golden=tests/fixtures/builders/$name.json
	[ "${MAC_UPDATE_GOLDEN:-}" = 1 ] && cp "$work/$name.json" "$golden"
	expect_eq "$name: the golden pod specs" "" "$(diff -u "$golden" "$work/$name.json" | head -40)"
	expect_eq "$name: no object has a key twice (golden and rendered)" "" \
		"$(python3 tests/env/json-dup-keys.py "$golden" "$work/$name.json" 2>&1)"
	out=$(kubectl apply --dry-run=server -f "$work/$name.json" 2>&1)
	expect_no_match "$name: accepted by the API server (--dry-run=server)" "error|invalid|Invalid" "$out"
	expect_eq "$name: no service-account token in any pod" "" \
		"$(jq -r '.items[] | select(.kind == "Pod") | select(.spec.automountServiceAccountToken != false) | .metadata.name' "$work/$name.json")"
done
backends=$(jq -r '.items[] | select(.kind == "Pod") | .spec.containers[0].image' "$work"/*.json | grep -oE 'buildkit|buildah|kaniko' | sort -u | tr '\n' ' ')
expect_eq "every backend has golden pods" "buildah buildkit kaniko " "$backends"
pods=$(jq -c '.items[] | select(.kind == "Pod" and .metadata.labels["multiarch.dev/platform"] == "linux-arm64")' "$work/buildkit-config.json")
expect_match "config: the proxy reaches the builder" '"name":"HTTPS_PROXY","value":"http://proxy.corp.example:3128"' "$pods"
expect_match "config: NO_PROXY joins the cluster's and the build's" '"NO_PROXY","value":".corp.example,10.0.0.0/8,localhost,artifacts.corp.example"' "$pods"
expect_match "config: the cluster and build CAs are trusted" '"SSL_CERT_DIR","value":"/etc/ssl/certs:/etc/multiarch/certs"' "$pods"
expect_match "config: user namespaces" '"hostUsers":false' "$pods"
expect_match "config: the cluster's toleration and default resources" '"dedicated".*"memory":"2Gi"' "$pods"
toml=$(jq -r '.items[] | select(.kind == "ConfigMap") | .data["buildkitd.toml"]' "$work/buildkit-config.json")
expect_match "config: buildkitd.toml mirrors Docker Hub" 'mirrors = \["mirror.corp.example"\]' "$toml"
expect_match "config: buildkitd.toml speaks plain HTTP to the insecure registry" '\[registry."registry.build.internal:5000"\]' "$toml"
expect_match "config: the index Job trusts both CAs" '--ca-file=/etc/multiarch/certs/cluster-ca.crt.*--ca-file=/etc/multiarch/certs/build-ca.crt' \
	"$(jq -c '.items[] | select(.kind == "Job") | .spec.template.spec.containers[0].args' "$work/buildkit-config.json")"
expect_eq "the index Job: a memory limit, and /tmp (where copied blobs are staged) on a bounded emptyDir" '"256Mi" "/tmp" "8Gi"' \
	"$(jq -r '.items[] | select(.kind == "Job") | .spec.template.spec | [.containers[0].resources.limits.memory, (.containers[0].volumeMounts[] | select(.name == "scratch") | .mountPath), (.volumes[] | select(.name == "scratch") | .emptyDir.sizeLimit)] | map(@json) | join(" ")' "$work/buildkit-config.json")"
expect_match "buildkit: an entitlement is asked for by buildctl and granted by the daemon" \
	'"--allow=network.host".*"BUILDKITD_FLAGS","value":"--oci-worker-no-process-sandbox --allow-insecure-entitlement=network.host"' \
	"$(jq -c '.items[] | select(.kind == "Pod")' "$work/buildkit-git.json" | head -1)"
expect_match "buildkit: per-arch registry cache" 'buildcache-linux-arm64,mode=max' "$(cat "$work/buildkit-git.json")"
expect_match "buildah: the cache repository it was given" 'cache-to=registry.example.com/cache/tool"' "$(cat "$work/buildah-config.json")"
expect_match "buildah: pushes to the staging repository, never a tag of the application's" \
	'"value":[[:space:]]*"registry.example.com/team/tool-staging:linux-s390x-g1"' "$(cat "$work/buildah-config.json")"
expect_match "kaniko: a branch by name and the sub-path" '"--context=git://git.example.com/team/legacy.git", "--git=branch=main", "--context-sub-path=app"' \
	"$(cat "$work/kaniko-git.json")"
http_pod=$(jq -c '[.items[] | select(.kind == "Pod")][0].spec' "$work/buildkit-http.json")
expect_match "http: the archive is fetched and its sha256 checked before the build" \
	'"initContainers":\[\{"name":"source".*"--sha256=6f1ed002ab5595859014ebf0951522d9a3f2f3b0e0d2a0c5e4b1d3c2a1f0e9d8"' "$http_pod"
expect_match "http: the builder builds the subPath of the unpacked archive" '"--local=context=/workspace/web"' "$http_pod"
expect_no_match "http: the fetcher gets no secret" '"name":"source"[^]]*"(docker-config|build-secrets|git-auth)"' \
	"$(jq -c '.initContainers' <<<"$http_pod")"
expect_match "git behind a private CA: git is given one bundle file holding the CAs" 'export GIT_SSL_CAINFO=/tmp/ca-bundle.crt' \
	"$(cat "$work/buildkit-config.json" "$work/buildah-config.json")"
out=$("$BIN" render -f tests/fixtures/builders/buildah-config.yaml --config /nonexistent.yaml 2>&1)
expect_match "a missing configuration file is one clear line" "^multiarch-controller render: --config /nonexistent.yaml: cannot read" "$out"
printf 'proxy: {httpProxy: "http://user:pw@proxy:3128"}\n' >"$work/bad-config.yaml"
out=$("$BIN" render -f tests/fixtures/builders/buildah-config.yaml --config "$work/bad-config.yaml" 2>&1)
expect_match "proxy credentials in the configuration are refused" "proxy.httpProxy carries credentials" "$out"

echo "-- Pod Security levels, as docs/builders.md states them"
expect_match "deploy/build-namespace.yaml is accepted" "created|configured" \
	"$(kubectl apply --dry-run=server -f deploy/build-namespace.yaml 2>&1)"
# level NS ENFORCE: a namespace enforcing a Pod Security level
level() {
	kubectl get namespace "$1" >/dev/null 2>&1 || kubectl create namespace "$1" >/dev/null
	kubectl label namespace "$1" --overwrite pod-security.kubernetes.io/enforce="$2" >/dev/null
}
# admitted CASE KIND NS: whether the first object of KIND in CASE's rendering is admitted in NS
admitted() {
	jq --arg k "$2" '[.items[] | select(.kind == $k)][0] | .metadata.namespace = "'"$3"'"' "$work/$1.json" >"$work/one.json"
	if kubectl apply --dry-run=server -f "$work/one.json" >/dev/null 2>&1; then echo yes; else echo no; fi
}
level psa-baseline-$suffix baseline
level psa-restricted-$suffix restricted
level psa-privileged-$suffix privileged
expect_eq "buildkit pods need privileged: refused under baseline" "no" "$(admitted buildkit-git Pod psa-baseline-$suffix)"
expect_eq "buildkit pods are admitted under privileged" "yes" "$(admitted buildkit-git Pod psa-privileged-$suffix)"
expect_eq "buildah pods need privileged: refused under baseline" "no" "$(admitted buildah-config Pod psa-baseline-$suffix)"
expect_eq "kaniko pods are admitted under baseline" "yes" "$(admitted kaniko-git Pod psa-baseline-$suffix)"
expect_eq "kaniko pods are refused under restricted" "no" "$(admitted kaniko-git Pod psa-restricted-$suffix)"
jq --arg ns "psa-restricted-$suffix" '[.items[] | select(.kind == "Job")][0].spec.template | {apiVersion: "v1", kind: "Pod", metadata: {name: "index-check", namespace: $ns}, spec: .spec}' \
	"$work/buildkit-git.json" >"$work/index-pod.json"
expect_match "the index Job's pod is admitted under restricted" "created" "$(kubectl apply --dry-run=server -f "$work/index-pod.json" 2>&1)"
kubectl delete namespace psa-baseline-$suffix psa-restricted-$suffix psa-privileged-$suffix --wait=false >/dev/null 2>&1

echo "-- secrets never in arguments, environment or logs"
push_secret=push-$RANDOM$RANDOM$RANDOM git_secret=git-$RANDOM$RANDOM$RANDOM build_secret=build-$RANDOM$RANDOM$RANDOM
kubectl get namespace secrets-$suffix >/dev/null 2>&1 || kubectl create namespace secrets-$suffix >/dev/null
auth=$(printf 'pusher:%s' "$push_secret" | base64 -w0)
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REGISTRY" "$auth" >"$work/config.json"
kubectl create secret generic regcred -n secrets-$suffix --type=kubernetes.io/dockerconfigjson --from-file=.dockerconfigjson="$work/config.json" >/dev/null
kubectl create secret generic git-token -n secrets-$suffix --type=kubernetes.io/basic-auth --from-literal=username=bot --from-literal=password="$git_secret" >/dev/null
kubectl create secret generic npm-token -n secrets-$suffix --from-literal=.npmrc="$build_secret" >/dev/null
kubectl apply -f - >/dev/null <<EOF
apiVersion: multiarch.dev/v1alpha1
kind: MultiArchBuild
metadata: {name: private, namespace: secrets-$suffix}
spec:
  image: $REGISTRY/secrets-$suffix/private:1
  platforms: [linux/riscv64, linux/ppc64le]
  source: {git: {url: https://git.example.com/team/private.git, secretRef: {name: git-token}}}
  pushSecretRef: {name: regcred}
  buildSecrets: [{id: npmrc, secretRef: {name: npm-token, key: .npmrc}}]
EOF
# a ConfigMap that someone else created under the name the next build's builder ConfigMap will have
kubectl create configmap squatted-g1-builder -n secrets-$suffix --from-literal=registries.conf='[[registry]] location = "evil.example"' \
	>/dev/null
kubectl apply -f - >/dev/null <<EOF
apiVersion: multiarch.dev/v1alpha1
kind: MultiArchBuild
metadata: {name: squatted, namespace: secrets-$suffix}
spec:
  image: $REGISTRY/secrets-$suffix/squatted:1
  platforms: [linux/riscv64]
  source: {git: {url: https://git.example.com/team/squatted.git}}
EOF
tests/env/fake-kubelet.py --log "$work/kubelet.log" --stop-file "$work/kubelet.stop" --max-seconds 300 >"$work/kubelet.out" 2>&1 &
# the cluster-wide configuration travels too: proxy, a CA bundle, a mirror, a plain-HTTP registry
cat >"$work/config.yaml" <<EOF
proxy: {httpsProxy: "http://proxy.corp.example:3128", noProxy: "127.0.0.1,localhost"}
caBundleFile: $PWD/tests/fixtures/builders/test-ca.crt
registries: {mirrors: {docker.io: [mirror.corp.example]}, insecure: ["$REGISTRY"]}
policy: {privilegedNamespaces: [secrets-$suffix]}
EOF
"$BIN" run --config "$work/config.yaml" --identity builders --namespace secrets-$suffix --leader-election-id builders-test \
	--log-level debug >"$work/ctl.log" 2>&1 &
echo $! >"$work/ctl.pid"
if kubectl wait --for=condition=Ready mab/private -n secrets-$suffix --timeout=60s >/dev/null 2>&1; then pass "the build with three secrets is Ready"; else
	fail "the build with three secrets is Ready" "$(kubectl get mab private -n secrets-$suffix -o yaml | tail -30; tail "$work/ctl.log")"; fi
stalled_squatted() { [ "$(kubectl get mab squatted -n secrets-$suffix -o jsonpath='{.status.conditions[?(@.type=="Stalled")].status}')" = True ]; }
wait_for 60 stalled_squatted
expect_eq "a builder ConfigMap of the build's name that another created first: Stalled, ChildNotOwned" "True/ChildNotOwned" \
	"$(kubectl get mab squatted -n secrets-$suffix -o jsonpath='{.status.conditions[?(@.type=="Stalled")].status}/{.status.conditions[?(@.type=="Stalled")].reason}')"
expect_match "its message names the ConfigMap" "ConfigMap squatted-g1-builder already exists and this build does not control it" \
	"$(kubectl get mab squatted -n secrets-$suffix -o jsonpath='{.status.platforms[0].message}')"
expect_eq "no pod mounts it" "" "$(kubectl get pods -n secrets-$suffix -l multiarch.dev/build=squatted -o name)"
specs=$(kubectl get pods,jobs -n secrets-$suffix -o json)
cm=$(kubectl get configmap private-g1-builder -n secrets-$suffix -o json 2>/dev/null)
expect_eq "the generated builder ConfigMap is owned by the build" "MultiArchBuild/private" \
	"$(printf '%s' "$cm" | jq -r '.metadata.ownerReferences[0] | .kind + "/" + .name')"
expect_match "the generated ConfigMap holds the cluster's CA" "BEGIN CERTIFICATE" "$(printf '%s' "$cm" | jq -r '.data["ca.crt"]')"
expect_match "the index Job ran with the cluster's CA and plain-HTTP registry" "--insecure-registry=[0-9.:]+\",\"--ca-file=/etc/multiarch/certs/cluster-ca.crt" \
	"$(kubectl get job private-g1-index -n secrets-$suffix -o jsonpath='{.spec.template.spec.containers[0].args}')"
expect_match "the push secret is mounted" '"secretName": "regcred"' "$specs"
expect_match "the Git secret is mounted" '"secretName": "git-token"' "$specs"
expect_match "the build secret is mounted" '"name": "npm-token"' "$specs"
expect_match "the build secret is passed by file" "--secret=id=npmrc,src=/var/run/multiarch/build-secrets/npmrc" "$specs"
for s in "$push_secret" "$auth" "$git_secret" "$build_secret"; do
	found=$(printf '%s\n%s\n%s\n%s\n' "$specs" "$(cat "$work/ctl.log")" "$(kubectl get events -n secrets-$suffix -o json)" \
		"$(kubectl get mab private -n secrets-$suffix -o json)" | grep -c -- "$s")
	expect_eq "secret value ${s:0:5}… appears in no pod, Job, build status, event or controller log" "0" "$found"
done
kill "$(cat "$work/ctl.pid")" 2>/dev/null
wait "$(cat "$work/ctl.pid")" 2>/dev/null
rm -f "$work/ctl.pid"
kubectl delete namespace secrets-$suffix --wait=false >/dev/null 2>&1
finish builders
