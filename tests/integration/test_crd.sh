#!/usr/bin/env bash
# The MultiArchBuild API against the real API server: the CRD installs, every example is accepted, every
# invalid fixture is rejected with its expected message, defaults apply, kubectl explain teaches, and
# kubectl get shows the printer columns. Also checks the schema itself: descriptions and bounds everywhere.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

ns=crd-test-$RANDOM
work=$(mktemp -d)
trap 'kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1; rm -rf "$work"' EXIT
crd=crds/multiarch.dev_multiarchbuilds.yaml

kubectl apply -f "$crd" >/dev/null
established() { [ "$(kubectl get crd multiarchbuilds.multiarch.dev -o jsonpath='{.status.conditions[?(@.type=="Established")].status}')" = True ]; }
if wait_for 60 established; then pass "the CRD is established"; else fail "the CRD is established"; fi
expect_eq "the CRD schema is structural (no NonStructuralSchema condition)" "" \
	"$(kubectl get crd multiarchbuilds.multiarch.dev -o jsonpath='{.status.conditions[?(@.type=="NonStructuralSchema")].message}')"
kubectl create namespace "$ns" >/dev/null
wait_for 30 kubectl get mab -n "$ns" || fail "the mab short name is served"

# --- the schema: every property described, every string and list bounded
kubectl create --dry-run=client -o json -f "$crd" >"$work/crd.json"
schema='.spec.versions[0].schema.openAPIV3Schema'
undocumented=$(jq -r "$schema"' | [paths(objects) as $p | select($p[-2] == "properties") | {p: $p, v: getpath($p)}]
	| map(select((.v.description // "") == "" and .p[-1] != "metadata")) | map(.p | map(tostring) | join(".")) | .[]' "$work/crd.json")
expect_eq "every field has a description" "" "$undocumented"
# a key the API server does not know (a flow mapping's comma makes one out of a description) is dropped by it
kubectl get crd multiarchbuilds.multiarch.dev -o json >"$work/crd-served.json"
expect_eq "the API server keeps the schema as written (no key of the file unknown to it)" \
	"$(jq -S "$schema" "$work/crd.json")" "$(jq -S "$schema" "$work/crd-served.json")"
unbounded_strings=$(jq -r "$schema"' | [paths(objects) as $p | {p: $p, v: getpath($p)}]
	| map(select((.p | index("anyOf")) == null))
	| map(select(.v.type == "string" and .v.maxLength == null and .v.enum == null and .v.format != "date-time"))
	| map(.p | map(tostring) | join(".")) | .[]' "$work/crd.json" | grep -v '^properties\.\(apiVersion\|kind\)$')
expect_eq "every string has a maxLength (or an enum or a date-time format)" "" "$unbounded_strings"
unbounded_lists=$(jq -r "$schema"' | [paths(objects) as $p | {p: $p, v: getpath($p)}]
	| map(select(.v.type == "array" and .v.maxItems == null)) | map(.p | map(tostring) | join(".")) | .[]' "$work/crd.json")
expect_eq "every list has a maxItems" "" "$unbounded_lists"
unbounded_maps=$(jq -r "$schema"' | [paths(objects) as $p | {p: $p, v: getpath($p)}]
	| map(select(.v.type == "object" and .v.additionalProperties != null and .v.maxProperties == null))
	| map(.p | map(tostring) | join(".")) | .[]' "$work/crd.json")
expect_eq "every map has a maxProperties" "" "$unbounded_maps"

# --- every example is accepted by the API server
count=0
for f in examples/*.yaml; do
	count=$((count + 1))
	if out=$(kubectl apply --dry-run=server -n "$ns" -f "$f" 2>&1); then
		pass "example $f is accepted"
	else
		fail "example $f is accepted" "$out"
	fi
	expect_match "example $f opens with a comment saying what it shows" "^# [^ ]+ [^ ]+" "$(head -n1 "$f")"
done
expect_match "at least 10 examples" "^([1-9][0-9]+)$" "$count"

# --- every invalid fixture is rejected, with its expected message
count=0
for f in tests/fixtures/invalid-mab/*.yaml; do
	count=$((count + 1))
	want=$(sed -n '1s/^# expect: //p' "$f")
	if out=$(kubectl apply --dry-run=server -n "$ns" -f "$f" 2>&1); then
		fail "$f is rejected" "it was accepted"
	elif printf '%s' "$out" | grep -qF -- "$want"; then
		pass "$f is rejected: $want"
	else
		fail "$f is rejected with \"$want\"" "$out"
	fi
done
expect_match "at least 30 invalid fixtures" "^([3-9][0-9]|[1-9][0-9][0-9]+)$" "$count"

# --- defaults are applied at admission
kubectl apply -n "$ns" -f examples/two-arch.yaml >/dev/null
got=$(kubectl get mab hello -n "$ns" -o json)
expect_eq "builder.type defaults to buildkit" buildkit "$(jq -r .spec.builder.type <<<"$got")"
expect_eq "policy defaults: 2 retries, 1h timeout, wait for missing nodes" "2 1h Wait" \
	"$(jq -r '[.spec.policy.retries, .spec.policy.timeout, .spec.policy.missingNodes] | join(" ")' <<<"$got")"
expect_eq "dockerfile defaults to Dockerfile" Dockerfile "$(jq -r .spec.dockerfile <<<"$got")"
expect_eq "the cache is on by default" true "$(jq -r .spec.cache.enabled <<<"$got")"
kubectl apply -n "$ns" -f examples/configmap-context.yaml >/dev/null
expect_eq "a configMap source gets no git defaults" null "$(kubectl get mab static-files -n "$ns" -o json | jq -r .spec.source.git)"

# --- kubectl explain teaches the fields
explain() { kubectl explain "$1" 2>&1; }
wait_for 30 kubectl explain mab.spec.platforms || true
out=$(explain mab.spec.platforms)
expect_match "kubectl explain mab.spec.platforms describes the field" "own pod on a node labelled with its kubernetes.io/arch" "$(tr '\n' ' ' <<<"$out" | tr -s ' ')"
out=$(explain mab.spec.policy.missingNodes)
expect_match "kubectl explain mab.spec.policy.missingNodes names the choices" "Wait.*Fail" "$(tr '\n' ' ' <<<"$out")"
out=$(explain mab.status.conditions)
expect_match "kubectl explain mab.status.conditions names the kstatus conditions" "Ready, Reconciling and Stalled" "$(tr '\n' ' ' <<<"$out" | tr -s ' ')"

# --- printer columns, and the status subresource
header=$(kubectl get mab -n "$ns" | head -n1 | xargs)
expect_eq "kubectl get mab shows image, platforms, phase, ready, digest and age" "NAME IMAGE PLATFORMS PHASE READY DIGEST AGE" "$header"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
kubectl patch mab hello -n "$ns" --subresource=status --type=merge -p "{\"status\": {\"observedGeneration\": 1,
	\"phase\": \"Succeeded\", \"platformSummary\": \"2/2\", \"digest\": \"$digest\", \"shortDigest\": \"0123456789ab\",
	\"image\": \"registry.example.com/team/hello@$digest\",
	\"conditions\": [{\"type\": \"Ready\", \"status\": \"True\", \"reason\": \"Succeeded\", \"message\": \"index pushed\",
	\"lastTransitionTime\": \"$now\", \"observedGeneration\": 1}]}}" >/dev/null
row=$(kubectl get mab hello -n "$ns" --no-headers | awk '{print $2, $3, $4, $5, $6}')
expect_eq "the row shows the status" "registry.example.com/team/hello:1.2.0 2/2 Succeeded True 0123456789ab" "$row"
if kubectl wait --for=condition=Ready --timeout=10s mab/hello -n "$ns" >/dev/null 2>&1; then
	pass "kubectl wait --for=condition=Ready works on a MultiArchBuild"
else
	fail "kubectl wait --for=condition=Ready works on a MultiArchBuild"
fi
kubectl patch mab hello -n "$ns" --type=merge -p '{"status": {"phase": "Failed"}}' >/dev/null 2>&1
expect_eq "status is only written through the status subresource" Succeeded "$(kubectl get mab hello -n "$ns" -o jsonpath='{.status.phase}')"
out=$(kubectl patch mab hello -n "$ns" --subresource=status --type=merge -p '{"status": {"phase": "Exploded"}}' 2>&1)
expect_match "the status schema is enforced too" 'Unsupported value: "Exploded"' "$out"
gen=$(kubectl get mab hello -n "$ns" -o jsonpath='{.metadata.generation}')
kubectl patch mab hello -n "$ns" --type=merge -p '{"spec": {"rebuildRequest": "again"}}' >/dev/null
expect_eq "rebuildRequest moves the generation" "$((gen + 1))" "$(kubectl get mab hello -n "$ns" -o jsonpath='{.metadata.generation}')"

# --- the reference documents every spec and status field (those inside spec.placement.affinity are the Pod API's
# own, documented by Kubernetes; docs/api.md gives their bounds)
missing=$(jq -r "$schema"' | [paths(objects) as $p | select($p[-2] == "properties") | $p | map(select(. != "properties" and . != "items")) | map(tostring) | join(".")]
	| map(select((startswith("spec.") or startswith("status.")) and (startswith("spec.placement.affinity.") | not))) | unique | .[]' "$work/crd.json" |
	while read -r field; do grep -qF "\`$field\`" docs/api.md || echo "$field"; done)
expect_eq "docs/api.md documents every field" "" "$missing"

finish integration-crd
