#!/usr/bin/env bash
# The Helm chart (deploy/chart/) with a real helm built from its Go module: lint, renderings that equal deploy/'s
# and that the API server admits, then a namespaced install on the real nodes that builds a MultiArchBuild, an
# upgrade to changed values that rolls the Deployment, and an uninstall that leaves only what Helm's conventions
# keep (the CRD, and the build namespace that holds builds).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh
# shellcheck source=tests/env/common.sh
. tests/env/common.sh

helm=$(tests/env/build-tools.sh --print)/helm
chart=deploy/chart
release=mac
release_ns=mac-helm
build_ns="helm-builds"
work=$(mktemp -d)
export HELM_CACHE_HOME=$work/helm/cache HELM_CONFIG_HOME=$work/helm/config HELM_DATA_HOME=$work/helm/data
# cluster-scoped objects of the chart that earlier tests may have made with kubectl: set aside, put back at the end
clashing=(clusterrole/multiarch-controller-nodes clusterrolebinding/multiarch-controller-nodes
	validatingadmissionpolicy/multiarchbuilds-author-may-use-references
	validatingadmissionpolicybinding/multiarchbuilds-author-may-use-references
	validatingadmissionpolicy/multiarchbuilds-requested-at-bounded
	validatingadmissionpolicybinding/multiarchbuilds-requested-at-bounded)
restore() {
	"$helm" uninstall "$release" -n "$release_ns" --wait --timeout 60s >/dev/null 2>&1
	"$helm" uninstall "$release" -n multiarch-system --wait --timeout 60s >/dev/null 2>&1
	kubectl delete namespace "$release_ns" "$build_ns" --wait=false >/dev/null 2>&1
	[ -s "$work/set-aside.json" ] && kubectl create -f "$work/set-aside.json" >/dev/null 2>&1
	rm -rf "$work"
}
trap restore EXIT
# object_of KIND: the first object of that kind in the YAML stream on stdin, as JSON
object_of() {
	python3 -c 'import json, sys, yaml
print(json.dumps(next(d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] == sys.argv[1])))' "$1"
}
for object in "${clashing[@]}"; do
	kubectl get "$object" -o json 2>/dev/null
done | jq -s '{apiVersion: "v1", kind: "List", items: map(del(.metadata.resourceVersion, .metadata.uid,
	.metadata.creationTimestamp, .metadata.managedFields, .metadata.generation, .status))}' >"$work/set-aside.json"
kubectl delete "${clashing[@]}" --ignore-not-found >/dev/null 2>&1

# --- lint and renderings
expect_eq "Chart.yaml's version and appVersion are the VERSION file's" "$(cat VERSION) $(cat VERSION)" \
	"$(sed -n 's/^version: //p' "$chart/Chart.yaml") $(sed -n 's/^appVersion: //p' "$chart/Chart.yaml")"
expect_match "helm lint --strict passes" "1 chart\(s\) linted, 0 chart\(s\) failed" "$("$helm" lint --strict "$chart" 2>&1)"
out=$("$helm" lint --strict "$chart" --set installScope=everywhere 2>&1)
expect_match "a value outside the schema is refused, naming it" "installScope.*must be one of" "$out"
out=$("$helm" template "$release" "$chart" --set image.digest=sha256:abc 2>&1)
expect_match "a malformed image digest is refused" "image/digest" "$out"
printf 'installScope: namespaced\nbuildNamespaces: {names: []}\n' >"$work/no-namespaces.yaml"
out=$("$helm" template "$release" "$chart" -f "$work/no-namespaces.yaml" 2>&1)
expect_match "a namespaced install without a build namespace is refused" "needs 1 to 16 buildNamespaces.names" "$out"
"$helm" template "$release" "$chart" -n multiarch-system --include-crds --set buildNamespaces.create=false >"$work/cluster.yaml"
out=$(python3 tests/env/chart-compare.py "$work/cluster.yaml" deploy/install.yaml 2>&1)
expect_eq "the default rendering holds deploy/install.yaml's objects (Helm's labels and additions aside)" "" "$out"
"$helm" template "$release" "$chart" -n multiarch-system --include-crds --set installScope=namespaced >"$work/namespaced.yaml"
out=$(python3 tests/env/chart-compare.py "$work/namespaced.yaml" deploy/namespaced/install.yaml 2>&1)
expect_eq "installScope=namespaced holds deploy/namespaced/install.yaml's objects" "" "$out"
sed -i 's/--log-format=json/--log-format=text/' "$work/namespaced.yaml"
expect_match "the comparison sees a changed flag" "args\[4\]: chart '--log-format=text'" \
	"$(python3 tests/env/chart-compare.py "$work/namespaced.yaml" deploy/namespaced/install.yaml 2>&1)"
# the release namespace, as --create-namespace makes it; the build namespace's Role goes there for the dry runs
kubectl create namespace "$release_ns" >/dev/null
for scope in cluster namespaced; do
	out=$("$helm" template "$release" "$chart" -n "$release_ns" --set installScope=$scope --set podAntiAffinity=hard \
		--set buildNamespaces.create=false --set "buildNamespaces.names={$release_ns}" |
		kubectl apply --dry-run=server -f - 2>&1)
	expect_match "the API server admits the $scope rendering (server dry run)" "deployment.apps/multiarch-controller created \(server dry run\)" "$out"
	expect_no_match "  without an error or a warning" "^(Error|Warning)" "$out"
done
"$helm" template "$release" "$chart" -n multiarch-system --set serviceMonitor.enabled=true --set prometheusRule.enabled=true \
	--set-string serviceMonitor.labels.release=prometheus >"$work/monitoring.yaml"
expect_eq "serviceMonitor.enabled renders a ServiceMonitor of the metrics port, with the pod's token" \
	"metrics /metrics /var/run/secrets/kubernetes.io/serviceaccount/token prometheus" \
	"$(object_of ServiceMonitor <"$work/monitoring.yaml" | jq -r '.spec.endpoints[0] as $e | "\($e.port) \($e.path) \($e.bearerTokenFile) \(.metadata.labels.release)"')"
object_of PrometheusRule <"$work/monitoring.yaml" | jq .spec >"$work/rules.yaml"
expect_match "prometheusRule.enabled renders the alert rules, which promtool accepts" "SUCCESS: [1-9][0-9]* rules found" \
	"$(promtool check rules "$work/rules.yaml" 2>&1)"

# --- install: namespaced to the build namespace, on the real nodes, with this cluster's builder configuration; into
# a cluster without the CRD (earlier tests applied it with kubectl, whose fields Helm's server-side apply would not
# take over: docs/install.md says how to move an install.yaml install to the chart)
kubectl delete crd multiarchbuilds.multiarch.dev --wait=true --timeout=60s >/dev/null 2>&1
image=$(tests/env/node-images.sh name controller)
{
	cat <<EOF
image: {repository: ${image%:*}, tag: ${image##*:}}
installScope: namespaced
buildNamespaces: {names: [$build_ns]}
podAntiAffinity: hard
nodeSelector: {multiarch.dev/node: real}
tolerations: [{key: multiarch.dev/real-node, operator: Exists}]
config:
EOF
	{
		inline_builder_config
		echo "policy: {privilegedNamespaces: [$build_ns]}"
	} | sed 's/^/  /'
} >"$work/values.yaml"
out=$("$helm" install "$release" "$chart" -n "$release_ns" --create-namespace -f "$work/values.yaml" --wait --timeout 180s 2>&1)
expect_match "helm install (namespaced, two replicas on the real nodes) is deployed" "STATUS: deployed" "$out"
deployment() { kubectl get deployment multiarch-controller -n "$release_ns" -o json; }
expect_eq "both replicas are available, on two nodes (hard anti-affinity)" "2 2" \
	"$(deployment | jq -r .status.availableReplicas) $(kubectl get pods -n "$release_ns" -l app.kubernetes.io/instance=$release \
		--field-selector=status.phase=Running -o json | jq '[.items[].spec.nodeName] | unique | length')"
expect_eq "a PodDisruptionBudget keeps one of them" 1 \
	"$(kubectl get pdb multiarch-controller -n "$release_ns" -o jsonpath='{.spec.minAvailable}')"
expect_eq "the build namespace has the Pod Security level of its backends" privileged \
	"$(kubectl get namespace "$build_ns" -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/enforce}')"
holder() { kubectl get lease multiarch-controller -n "$release_ns" -o jsonpath='{.spec.holderIdentity}' | grep -q .; }
wait_for 60 holder
expect_match "one replica holds the lease in the release namespace" "^multiarch-controller-" \
	"$(kubectl get lease multiarch-controller -n "$release_ns" -o jsonpath='{.spec.holderIdentity}')"
expect_match "the chart's controller builds a MultiArchBuild to Ready, with the index digest" "/$build_ns/hello@sha256:[0-9a-f]{64}$" \
	"$(build_hello "$build_ns" 300)"

# --- upgrade to changed values: one replica, text logs, a changed builder configuration
checksum() { deployment | jq -r '.spec.template.metadata.annotations["multiarch.dev/config-checksum"]'; }
before=$(checksum)
out=$("$helm" upgrade "$release" "$chart" -n "$release_ns" -f "$work/values.yaml" --set replicaCount=1 --set logFormat=text \
	--set "config.policy.privilegedNamespaces={$build_ns,other}" --wait --timeout 180s 2>&1)
expect_match "helm upgrade to changed values is deployed as revision 2" "REVISION: 2" "$out"
rolled() { [ "$(deployment | jq -r '"\(.status.replicas) \(.status.updatedReplicas) \(.status.availableReplicas)"')" = "1 1 1" ]; }
wait_for 120 rolled
expect_eq "the Deployment rolled to one up-to-date, available replica" "1 1 1" \
	"$(deployment | jq -r '"\(.status.replicas) \(.status.updatedReplicas) \(.status.availableReplicas)"')"
expect_eq "the ConfigMap holds the changed configuration" "$build_ns other" \
	"$(kubectl get configmap multiarch-controller-config -n "$release_ns" -o jsonpath='{.data.config\.yaml}' |
		python3 -c 'import sys, yaml; print(" ".join(yaml.safe_load(sys.stdin)["policy"]["privilegedNamespaces"]))')"
expect_no_match "the pod template's configuration checksum changed (the pods restart on a new configuration)" "^$before\$" "$(checksum)"
expect_eq "the PodDisruptionBudget is gone with the second replica" "" \
	"$(kubectl get pdb -n "$release_ns" -o name 2>/dev/null)"
pod=$(kubectl get pods -n "$release_ns" -l app.kubernetes.io/instance=$release -o json |
	jq -r '[.items[] | select(.metadata.deletionTimestamp == null)][0].metadata.name')
text_log() { kubectl logs -n "$release_ns" "$pod" 2>/dev/null | grep -qE '^[0-9T:.-]+Z info +starting '; }
wait_for 30 text_log
expect_match "its log is text now" "^[0-9T:.-]+Z info +starting " "$(kubectl logs -n "$release_ns" "$pod" 2>/dev/null | head -3)"

# --- uninstall: everything of the release goes but the CRD (Helm never deletes crds/) and the kept build namespace
"$helm" get manifest "$release" -n "$release_ns" | python3 -c 'import sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if d: print(d["kind"], d["metadata"].get("namespace", "-"), d["metadata"]["name"])' >"$work/objects.txt"
out=$("$helm" uninstall "$release" -n "$release_ns" --wait --timeout 120s 2>&1)
expect_match "helm uninstall" "release \"$release\" uninstalled" "$out"
left=""
while read -r kind namespace name; do
	[ "$kind" = Namespace ] && [ "$name" = "$build_ns" ] && continue
	if [ "$namespace" = - ]; then args=("$kind" "$name"); else args=("$kind" "$name" -n "$namespace"); fi
	kubectl get "${args[@]}" >/dev/null 2>&1 && left+="$kind/$namespace/$name "
done <"$work/objects.txt"
expect_eq "no object of the release is left ($(wc -l <"$work/objects.txt") checked)" "" "$left"
gone() { [ -z "$(kubectl get pods -n "$release_ns" -o name 2>/dev/null)" ]; }
wait_for 60 gone
expect_eq "no controller pod is left" "" "$(kubectl get pods -n "$release_ns" -o name 2>/dev/null)"
expect_eq "the build namespace is kept (helm.sh/resource-policy: keep), with its build" hello \
	"$(kubectl get mab -n "$build_ns" -o jsonpath='{.items[*].metadata.name}')"
expect_eq "the CRD is kept, as Helm does with crds/" multiarchbuilds.multiarch.dev \
	"$(kubectl get crd multiarchbuilds.multiarch.dev -o jsonpath='{.metadata.name}')"
expect_eq "helm lists no release" "" "$("$helm" list -n "$release_ns" -q)"

# --- a cluster installed from deploy/install.yaml moves to the chart (docs/install.md)
kubectl apply -f deploy/install.yaml >/dev/null 2>&1
out=$("$helm" install "$release" "$chart" -n multiarch-system --set buildNamespaces.create=false --take-ownership \
	--force-conflicts 2>&1)
expect_match "helm install --take-ownership --force-conflicts adopts an install.yaml install" "STATUS: deployed" "$out"
expect_eq "  its Deployment is the release's now" "$release" \
	"$(kubectl get deployment multiarch-controller -n multiarch-system -o jsonpath='{.metadata.annotations.meta\.helm\.sh/release-name}')"
"$helm" uninstall "$release" -n multiarch-system --wait --timeout 120s >/dev/null 2>&1
kubectl delete namespace multiarch-system --wait=false >/dev/null 2>&1
finish helm
