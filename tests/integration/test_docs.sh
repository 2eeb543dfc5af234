#!/usr/bin/env bash
# The commands of the docs, run: every ```sh block of README.md, docs/ and deploy/ carries a marker on the line
# above it, `<!-- docs-test: run -->` (run here, as written, against the test cluster) or
# `<!-- docs-test: skip: REASON -->` (checked by bash -n; the reason says why it cannot run here and which test
# runs its like). A block with no marker fails. Run blocks share one scratch folder that sees the repository's
# files, a kubeconfig whose namespace is `docs`, the build `hello` there and in `builds`, a Deployment `hello` in
# `docs`, the controller's ServiceAccount and RBAC, and the files the docs name (build.yaml, builder-config.yaml,
# config.json). Every MultiArchBuild in a ```yaml block is admitted by a server dry run.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh

repo=$PWD
work=$(mktemp -d)
scratch=$work/scratch
cleanup() {
	[ -z "$made_system" ] || kubectl delete -f deploy/rbac.yaml -f deploy/serviceaccount.yaml -f deploy/namespace.yaml --wait=false >/dev/null 2>&1
	local named=()
	[ -f "$work/namespaces" ] && mapfile -t named <"$work/namespaces"
	kubectl delete namespace docs builds "${named[@]}" --wait=false >/dev/null 2>&1
	kubectl delete clusterrole metrics-reader >/dev/null 2>&1
	kubectl delete clusterrolebinding prometheus-metrics-reader >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
made_system=""
mapfile -t docs < <(git ls-files README.md 'docs/*.md' 'deploy/*.md' 'deploy/**/*.md')

echo "-- the scratch folder and the cluster objects the docs' commands name"
mkdir -p "$scratch" "$work/home"
for entry in "$repo"/*; do ln -s "$entry" "$scratch/"; done
kubectl config view --raw >"$work/kubeconfig"
KUBECONFIG=$work/kubeconfig kubectl config set-context --current --namespace=docs >/dev/null
kubectl apply -f crds/ >/dev/null && kubectl wait --for condition=established crd/multiarchbuilds.multiarch.dev --timeout=60s >/dev/null
for ns in docs builds; do kubectl create namespace "$ns" >/dev/null 2>&1; done
# the controller's namespace, ServiceAccount and RBAC as deploy/ makes them (install.md runs doctor as that account)
kubectl get namespace multiarch-system >/dev/null 2>&1 || made_system=1
kubectl apply -f deploy/namespace.yaml -f deploy/serviceaccount.yaml -f deploy/rbac.yaml >/dev/null
sed 's/^  name: two-arch$/  name: hello/' examples/two-arch.yaml >"$scratch/build.yaml"
cp "$BUILDER_CONFIG" "$scratch/builder-config.yaml"
echo '{"credHelpers": {"123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}}' >"$scratch/config.json"
kubectl apply -n docs -f "$scratch/build.yaml" >/dev/null && kubectl apply -n builds -f "$scratch/build.yaml" >/dev/null
# the build in builds as the controller leaves it when done: its index by digest in the status
built=registry.example.com/team/hello@sha256:$(printf docs | sha256sum | cut -d' ' -f1)
kubectl patch mab hello -n builds --subresource=status --type=merge -p "{\"status\": {\"image\": \"$built\"}}" >/dev/null
kubectl create deployment hello -n docs --image=registry.example.com/team/hello:1.0 >/dev/null
kubectl patch deployment hello -n docs --type=json -p '[{"op": "replace", "path": "/spec/template/spec/containers/0/name", "value": "app"}]' >/dev/null

runs=0 skips=0
while IFS= read -r block; do
	where=$(jq -r '"\(.file):\(.line)"' <<<"$block")
	lang=$(jq -r .lang <<<"$block")
	marker=$(jq -r .marker <<<"$block")
	code=$(jq -r .code <<<"$block")
	case $lang in
	yaml)
		grep -q '^kind: MultiArchBuild$' <<<"$code" || continue
		# the namespaces it names, as a reader would have them
		for named in $(grep -oE '(^|[{ ])namespace: [a-z0-9-]+' <<<"$code" | awk '{print $NF}' | sort -u); do
			kubectl create namespace "$named" >/dev/null 2>&1 && echo "$named" >>"$work/namespaces"
		done
		out=$(KUBECONFIG=$work/kubeconfig kubectl apply --dry-run=server -f - <<<"$code" 2>&1)
		expect_match "$where: the MultiArchBuild is admitted" "multiarchbuild.multiarch.dev/[a-z0-9-]+ (created|configured|unchanged) \(server dry run\)" "$out"
		continue
		;;
	sh) ;;
	*) continue ;;
	esac
	case $marker in
	run)
		runs=$((runs + 1))
		out=$(cd "$scratch" && HOME=$work/home KUBECONFIG=$work/kubeconfig PATH="$repo/bin:$PATH" REGISTRY_TOKEN=docs-token \
			timeout 120 bash -euo pipefail -c "$code" 2>&1)
		rc=$?
		if [ $rc = 0 ]; then pass "$where runs: $(head -n1 <<<"$code")"; else fail "$where runs: $(head -n1 <<<"$code")" "exit $rc: $out"; fi
		;;
	skip:*)
		skips=$((skips + 1))
		if bash -n <<<"$code" 2>"$work/syntax"; then pass "$where (not run here: ${marker#skip: }) is valid shell"; else
			fail "$where is valid shell" "$(cat "$work/syntax")"; fi
		;;
	*) fail "$where: the sh block has a docs-test marker (run, or skip: REASON) on the line above it" "got: '$marker'" ;;
	esac
done < <(tests/env/doc-blocks.py "${docs[@]}")
echo "   $runs blocks run, $skips not run here (their reasons above)"

echo "-- what the run blocks did"
expect_match "the rebuild annotation was set (api.md, operations.md)" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T" \
	"$(kubectl get mab hello -n docs -o jsonpath='{.metadata.annotations.multiarch\.dev/requested-at}')"
expect_eq "the Deployment runs the build's index by digest (install.md)" "$built" \
	"$(kubectl get deployment hello -n docs -o jsonpath='{.spec.template.spec.containers[0].image}')"
expect_eq "the push Secrets were made (cloud-registries.md, quickstart.md)" "kubernetes.io/dockerconfigjson kubernetes.io/dockerconfigjson" \
	"$(kubectl get secret registry-helper regcred -n builds -o jsonpath='{.items[*].type}' 2>&1)"
expect_eq "the metrics reader role and binding were made (install.md)" "clusterrole.rbac.authorization.k8s.io/metrics-reader" \
	"$(kubectl get clusterrole metrics-reader -o name 2>&1)"
finish docs
