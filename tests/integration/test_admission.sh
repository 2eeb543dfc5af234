#!/usr/bin/env bash
# References checked against the author: deploy/admission-policy.yaml (a ValidatingAdmissionPolicy, no webhook) on
# the real API server, with a user who may only create MultiArchBuilds (and get one Secret and one ConfigMap):
# a build naming a Secret or ConfigMap the user may not get is refused, naming it; a builder image or placement
# needs the right to create pods; what the user may read is admitted; a rebuild request over 64 characters is refused. Requests go through `kubectl --as`.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh

ns=admission-test-$RANDOM
user=builder-$RANDOM
cleanup() {
	kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1
	kubectl delete -f deploy/admission-policy.yaml >/dev/null 2>&1
}
trap cleanup EXIT

kubectl apply -f crds/multiarch.dev_multiarchbuilds.yaml >/dev/null
kubectl apply -f deploy/admission-policy.yaml >/dev/null
kubectl create namespace "$ns" >/dev/null
kubectl create secret generic readable -n "$ns" --from-literal=k=v >/dev/null
kubectl create secret generic hidden -n "$ns" --from-literal=k=v >/dev/null
kubectl create configmap ca-readable -n "$ns" --from-literal=ca.crt=x >/dev/null
kubectl create configmap ca-hidden -n "$ns" --from-literal=ca.crt=x >/dev/null
kubectl create role mab-author -n "$ns" --verb=create,get,list,update,patch --resource=multiarchbuilds.multiarch.dev >/dev/null
kubectl create role read-some -n "$ns" --verb=get --resource=secrets,configmaps --resource-name=readable --resource-name=ca-readable >/dev/null
kubectl create rolebinding "$user-mab" -n "$ns" --role=mab-author --user="$user" >/dev/null
kubectl create rolebinding "$user-read" -n "$ns" --role=read-some --user="$user" >/dev/null
expect_eq "the user may create builds and may not create pods or get the hidden Secret" "yes no no" \
	"$(kubectl auth can-i create multiarchbuilds.multiarch.dev -n "$ns" --as="$user") $(kubectl auth can-i create pods -n "$ns" --as="$user") $(kubectl auth can-i get secret/hidden -n "$ns" --as="$user")"

# policy_ready: the API server has loaded the policy (it refuses a build naming a Secret nobody has)
policy_ready() { ! kubectl create --dry-run=server --as="$user" -f - >/dev/null 2>&1 <<<"$(build probe 'pushSecretRef: {name: hidden}')"; }
# build NAME EXTRA_SPEC: a build's YAML
build() {
	printf 'apiVersion: multiarch.dev/v1alpha1\nkind: MultiArchBuild\nmetadata: {name: %s, namespace: %s}\nspec:\n  image: registry.example/%s:1\n  platforms: [linux/amd64]\n  source: {git: {url: https://git.example/x.git}}\n  %s\n' \
		"$1" "$ns" "$1" "$2"
}
# as_user NAME EXTRA_SPEC: creates the build as the user (server-side dry run); prints the API server's answer
as_user() { build "$1" "$2" | kubectl create --dry-run=server --as="$user" -f - 2>&1; }
wait_for 30 policy_ready || fail "the admission policy is loaded" "$(kubectl get validatingadmissionpolicy -o yaml)"

expect_match "a Secret the author may get: admitted" "created \\(server dry run\\)" "$(as_user ok 'pushSecretRef: {name: readable}')"
expect_match "a push Secret the author may not get: refused, naming it" \
	"ValidatingAdmissionPolicy 'multiarchbuilds-author-may-use-references'.*denied request: spec.pushSecretRef names the Secret hidden, which the build's author may not get" \
	"$(as_user push 'pushSecretRef: {name: hidden}')"
expect_match "a build secret the author may not get: refused" "spec.buildSecrets names Secrets \\(hidden\\)" \
	"$(as_user bs 'buildSecrets: [{id: npmrc, secretRef: {name: hidden, key: k}}]')"
expect_match "a readable push Secret beside a hidden build secret: refused for the build secret" "spec.buildSecrets names Secrets \\(hidden\\)" \
	"$(as_user git 'pushSecretRef: {name: readable}
  buildSecrets: [{id: a, secretRef: {name: hidden, key: k}}]')"
expect_match "a CA ConfigMap the author may not get: refused" "spec.caBundleRef names the ConfigMap ca-hidden, which the build's author may not get" \
	"$(as_user ca 'caBundleRef: {name: ca-hidden}')"
expect_match "a Git secret the author may not get: refused, naming it" "spec.source.git.secretRef names the Secret hidden" \
	"$(build gitsec '' | sed 's|source: {git: {url: https://git.example/x.git}}|source: {git: {url: https://git.example/x.git, secretRef: {name: hidden}}}|' |
		kubectl create --dry-run=server --as="$user" -f - 2>&1)"
expect_match "a CA ConfigMap the author may get: admitted" "created \\(server dry run\\)" "$(as_user ca2 'caBundleRef: {name: ca-readable}')"
expect_match "a builder image, by an author who may not create pods: refused" "only an author who may create pods in this namespace" \
	"$(as_user img 'builder: {type: buildkit, image: registry.example/tools/buildkit:1}')"
expect_match "placement by such an author: refused" "only an author who may create pods" \
	"$(as_user place 'placement: {tolerations: [{operator: Exists}]}')"
expect_match "per-platform placement by such an author: refused" "only an author who may create pods" \
	"$(as_user pp 'perPlatform: [{platform: linux/amd64, nodeSelector: {pool: x}}]')"
kubectl create role pod-maker -n "$ns" --verb=create --resource=pods >/dev/null
kubectl create rolebinding "$user-pods" -n "$ns" --role=pod-maker --user="$user" >/dev/null
may_create_pods() { [ "$(kubectl auth can-i create pods -n "$ns" --as="$user")" = yes ]; }
wait_for 30 may_create_pods
expect_match "the same builder image once the author may create pods: admitted" "created \\(server dry run\\)" \
	"$(as_user img 'builder: {type: buildkit, image: registry.example/tools/buildkit:1}')"
expect_match "a cluster admin (who may get every Secret) is not held back" "created \\(server dry run\\)" \
	"$(build admin 'pushSecretRef: {name: hidden}' | kubectl create --dry-run=server -f - 2>&1)"
# an update is checked too: the user's own build, changed to name the hidden Secret
build mine 'pushSecretRef: {name: readable}' | kubectl create --as="$user" -f - >/dev/null 2>&1
expect_match "an update that names a hidden Secret: refused" "spec.pushSecretRef names the Secret hidden" \
	"$(kubectl patch mab mine -n "$ns" --as="$user" --type=merge -p '{"spec":{"pushSecretRef":{"name":"hidden"}}}' 2>&1)"
expect_match "a ServiceAccount the author may not create tokens for: refused, naming it" \
	"spec.serviceAccountName names the ServiceAccount pusher, for which the build's author may not create tokens" \
	"$(as_user sa 'serviceAccountName: pusher')"
kubectl create role pusher-token -n "$ns" --verb=create --resource=serviceaccounts/token --resource-name=pusher >/dev/null
kubectl create rolebinding "$user-pusher" -n "$ns" --role=pusher-token --user="$user" >/dev/null
may_token() { [ "$(kubectl auth can-i create serviceaccounts/pusher --subresource=token -n "$ns" --as="$user")" = yes ]; }
wait_for 30 may_token
expect_match "the same ServiceAccount once the author may create its tokens: admitted" "created \\(server dry run\\)" \
	"$(as_user sa 'serviceAccountName: pusher')"
long_request=$(printf 'r%.0s' $(seq 1 65))
expect_match "a rebuild request over 64 characters: refused" \
	"multiarchbuilds-requested-at-bounded.*multiarch.dev/requested-at holds at most 64 characters" \
	"$(kubectl annotate mab mine -n "$ns" --as="$user" "multiarch.dev/requested-at=$long_request" 2>&1)"
expect_match "a rebuild request of 64: admitted" "annotated" \
	"$(kubectl annotate mab mine -n "$ns" --as="$user" "multiarch.dev/requested-at=${long_request:1}" 2>&1)"

finish integration-admission
