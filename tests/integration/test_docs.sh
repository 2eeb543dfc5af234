#!/usr/bin/env bash
# The commands of the docs, run: every ```sh block of README.md, docs/ and deploy/ carries a marker on the line
# above it: `<!-- docs-test: run -->` (run here, as written, against the test cluster), `<!-- docs-test: run fresh -->`
# (the same, once no install of the controller is left: the blocks that install it), or `<!-- docs-test: skip:
# REASON -->` (checked by bash -n; the reason says why it cannot run here and which test runs its like). A block
# with no marker fails. Run blocks share one scratch folder that sees the repository's files, a kubeconfig whose
# namespace is `docs`, the build `hello` there and in `builds`, a Deployment `hello` in `docs`, the controller's
# ServiceAccount and RBAC, and the files the docs name (build.yaml, builder-config.yaml, config.json); the cluster is
# as a reader's would be: the published image name (this version's local image under it) on the real nodes, which
# take any pod, and the fake nodes cordoned. Every MultiArchBuild in a ```yaml block is admitted by a server dry run.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh

repo=$PWD
work=$(mktemp -d)
scratch=$work/scratch
version=$(cat VERSION)
published=ghcr.io/multiarch-dev/multiarch-controller:$version
sockets=("$MAC_CLUSTER_DIR"/node/*/containerd/containerd.sock)

# reset_installs: no install of the controller left (the chart's release, deploy/install.yaml's objects, the CRD,
# the build namespace), waited for, so that a block that installs starts from a cluster without one
reset_installs() {
	HOME=$work/home helm uninstall multiarch-controller -n multiarch-system --wait --timeout 120s >/dev/null 2>&1
	kubectl delete -f deploy/install.yaml --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1
	kubectl delete crd multiarchbuilds.multiarch.dev --ignore-not-found --wait=true --timeout=60s >/dev/null 2>&1
	# what a chart install left when a later block took its namespace (and with it Helm's record of the release)
	kubectl delete clusterrole,clusterrolebinding,validatingadmissionpolicy,validatingadmissionpolicybinding \
		-l app.kubernetes.io/name=multiarch-controller --ignore-not-found >/dev/null 2>&1
	# a fresh cluster has no build namespace either (the chart makes one)
	kubectl delete namespace builds --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1
	kubectl wait --for=delete namespace/multiarch-system --timeout=120s >/dev/null 2>&1
}

# fixtures: what the run blocks name, made again when a block (an uninstall) took it away
fixtures() {
	kubectl get crd multiarchbuilds.multiarch.dev >/dev/null 2>&1 || kubectl apply -f crds/ >/dev/null
	kubectl wait --for condition=established crd/multiarchbuilds.multiarch.dev --timeout=60s >/dev/null
	kubectl apply -f deploy/namespace.yaml -f deploy/serviceaccount.yaml -f deploy/rbac.yaml >/dev/null 2>&1
	kubectl get namespace builds >/dev/null 2>&1 || kubectl create namespace builds >/dev/null
	kubectl apply -n docs -f "$scratch/build.yaml" >/dev/null && kubectl apply -n builds -f "$scratch/build.yaml" >/dev/null
	# the build in builds as the controller leaves it when done: its index by digest in the status
	kubectl patch mab hello -n builds --subresource=status --type=merge -p "{\"status\": {\"image\": \"$built\"}}" >/dev/null
}

# the cluster as the docs' reader has it: the published image on the nodes (the local build of this version under
# that name), the real nodes schedulable by every pod and the fake ones not; undone by cleanup
nodes_for_readers() {
	local sock
	for sock in "${sockets[@]}"; do
		ctr --address "$sock" -n k8s.io images tag --force "$(tests/env/node-images.sh name controller)" "$published" >/dev/null || return 1
	done
	# the taint that keeps the other tests' pods off the real nodes, lifted for now when the cluster has it
	kubectl get nodes -l multiarch.dev/node=real -o jsonpath='{.items[*].spec.taints[*].key}' | grep -q multiarch.dev/real-node &&
		echo yes >"$work/real-node-taint"
	kubectl taint nodes -l multiarch.dev/node=real multiarch.dev/real-node- >/dev/null 2>&1
	kubectl cordon -l type=kwok >/dev/null
}
nodes_for_tests() {
	local sock
	kubectl uncordon -l type=kwok >/dev/null 2>&1
	[ ! -f "$work/real-node-taint" ] ||
		kubectl taint nodes -l multiarch.dev/node=real multiarch.dev/real-node=true:NoSchedule --overwrite >/dev/null 2>&1
	for sock in "${sockets[@]}"; do ctr --address "$sock" -n k8s.io images rm "$published" >/dev/null 2>&1; done
}

cleanup() {
	local named=()
	reset_installs
	nodes_for_tests
	kubectl apply -f crds/ >/dev/null 2>&1 # the later tests' CRD, as the cluster had it
	[ -f "$work/namespaces" ] && mapfile -t named <"$work/namespaces"
	kubectl delete namespace docs builds team-a team-b "${named[@]}" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1
	kubectl delete clusterrole metrics-reader --ignore-not-found >/dev/null 2>&1
	kubectl delete clusterrolebinding prometheus-metrics-reader --ignore-not-found >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
mapfile -t docs < <(git ls-files README.md 'docs/*.md' 'deploy/*.md' 'deploy/**/*.md')

echo "-- the scratch folder and the cluster objects the docs' commands name"
mkdir -p "$scratch" "$work/home"
for entry in "$repo"/*; do ln -s "$entry" "$scratch/"; done
kubectl config view --raw >"$work/kubeconfig"
KUBECONFIG=$work/kubeconfig kubectl config set-context --current --namespace=docs >/dev/null
# an earlier run's namespaces, still going (only those being deleted: a test before may have left one in use)
for named in docs builds multiarch-system; do
	[ "$(kubectl get namespace "$named" -o jsonpath='{.status.phase}' 2>/dev/null)" != Terminating ] ||
		kubectl wait --for=delete "namespace/$named" --timeout=120s >/dev/null 2>&1
done
kubectl create namespace docs >/dev/null 2>&1
sed 's/^  name: two-arch$/  name: hello/' examples/two-arch.yaml >"$scratch/build.yaml"
cp "$BUILDER_CONFIG" "$scratch/builder-config.yaml"
echo '{"credHelpers": {"123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}}' >"$scratch/config.json"
built=registry.example.com/team/hello@sha256:$(printf docs | sha256sum | cut -d' ' -f1)
fixtures
kubectl create deployment hello -n docs --image=registry.example.com/team/hello:1.0 >/dev/null
kubectl patch deployment hello -n docs --type=json -p '[{"op": "replace", "path": "/spec/template/spec/containers/0/name", "value": "app"}]' >/dev/null
nodes_for_readers || fail "the published image's name given to the local image on the real nodes"

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
	run | "run fresh")
		runs=$((runs + 1))
		if [ "$marker" = "run fresh" ]; then reset_installs; else fixtures; fi
		out=$(cd "$scratch" && HOME=$work/home KUBECONFIG=$work/kubeconfig PATH="$repo/bin:$PATH" REGISTRY_TOKEN=docs-token \
			timeout 300 bash -euo pipefail -c "$code" 2>&1)
		rc=$?
		if [ $rc = 0 ]; then pass "$where runs: $(head -n1 <<<"$code")"; else fail "$where runs: $(head -n1 <<<"$code")" "exit $rc: $out"; fi
		;;
	skip:*)
		skips=$((skips + 1))
		if bash -n <<<"$code" 2>"$work/syntax"; then pass "$where (not run here: ${marker#skip: }) is valid shell"; else
			fail "$where is valid shell" "$(cat "$work/syntax")"; fi
		;;
	*) fail "$where: the sh block has a docs-test marker (run, run fresh, or skip: REASON) on the line above it" "got: '$marker'" ;;
	esac
done < <(tests/env/doc-blocks.py "${docs[@]}")
echo "   $runs blocks run, $skips not run here (their reasons above)"

echo "-- what the run blocks did"
expect_match "the rebuild annotation was set (api.md, operations.md)" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T" \
	"$(kubectl get mab hello -n docs -o jsonpath='{.metadata.annotations.multiarch\.dev/requested-at}')"
expect_eq "the Deployment runs the build's index by digest (install.md)" "$built" \
	"$(kubectl get deployment hello -n docs -o jsonpath='{.spec.template.spec.containers[0].image}')"
expect_eq "the push Secret was made (quickstart.md)" "kubernetes.io/dockerconfigjson" \
	"$(kubectl get secret regcred -n builds -o jsonpath='{.type}' 2>&1)"
expect_eq "the metrics reader role and binding were made (install.md)" "clusterrole.rbac.authorization.k8s.io/metrics-reader" \
	"$(kubectl get clusterrole metrics-reader -o name 2>&1)"
echo "-- the cluster given back to the other tests"
reset_installs
nodes_for_tests
expect_eq "no install of the controller is left" "" \
	"$(kubectl get clusterrole,clusterrolebinding,validatingadmissionpolicy -l app.kubernetes.io/name=multiarch-controller -o name 2>&1)"
expect_eq "the fake nodes take pods again" "" "$(kubectl get nodes -l type=kwok -o jsonpath='{.items[*].spec.unschedulable}')"
if [ -f "$work/real-node-taint" ]; then
	expect_eq "the real nodes have their taint again" "multiarch.dev/real-node multiarch.dev/real-node" \
		"$(kubectl get nodes -l multiarch.dev/node=real -o jsonpath='{.items[*].spec.taints[*].key}')"
fi
finish docs
