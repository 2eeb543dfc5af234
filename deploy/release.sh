#!/usr/bin/env bash
# make release VERSION=x.y.z: the controller image built by multiarch-controller itself, a MultiArchBuild of this
# repository on the local cluster, natively on each architecture it has real nodes for, and the release artifacts
# pinned to the image index's digest, in build/dist/VERSION/ (docs/release.md lists them).
#
# Environment: MAC_RELEASE_REPOSITORY (where the image is published, default ghcr.io/multiarch-dev/multiarch-controller;
# the manifests name it), MAC_RELEASE_OUT (default build/dist/VERSION), MAC_RELEASE_NAMESPACE (the build's, default
# mac-release), MAC_RELEASE_TIMEOUT (seconds the build may take, default 3600), MAC_RELEASE_ALLOW_DIRTY=1 (build a
# work tree with uncommitted changes; the commit is then marked -dirty). The cluster is MAC_CLUSTER_ENV's when it is
# up, else `make cluster-up`'s, started here with its real nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tests/env/common.sh
. tests/env/common.sh

version=${1:-}
repository=${MAC_RELEASE_REPOSITORY:-ghcr.io/multiarch-dev/multiarch-controller}
ns=${MAC_RELEASE_NAMESPACE:-mac-release}
limit=${MAC_RELEASE_TIMEOUT:-3600}
die() {
	echo "release: $*" >&2
	exit 1
}
say() { echo "release: $*" >&2; }

[ -n "$version" ] || die "no version: run make release VERSION=x.y.z"
[[ $version =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$ ]] ||
	die "version '$version' is not x.y.z (semantic versioning, optionally -prerelease)"
[[ $repository =~ ^[a-z0-9.:-]+(/[a-z0-9._-]+)+$ ]] || die "MAC_RELEASE_REPOSITORY '$repository' is not a repository name"
[[ $limit =~ ^[1-9][0-9]*$ ]] || die "MAC_RELEASE_TIMEOUT '$limit' is not a number of seconds"
out=${MAC_RELEASE_OUT:-build/dist/$version}
commit=$(git rev-parse HEAD 2>/dev/null) || die "not a git checkout: a release names its commit"
short_commit=$(git rev-parse --short=12 HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
	[ "${MAC_RELEASE_ALLOW_DIRTY:-0}" = 1 ] || die "the work tree has uncommitted changes (commit them, or MAC_RELEASE_ALLOW_DIRTY=1)"
	commit=$commit-dirty short_commit=$short_commit-dirty
fi
build_name=multiarch-controller-${version//[.+]/-}
build_name=$(echo "$build_name" | tr '[:upper:]' '[:lower:]')

# wait_build NS NAME SECONDS: waits until the build is Ready, printing each platform's phase as it changes; on
# Stalled or at the limit, saves the build pods' logs and fails with the status
wait_build() {
	local ns=$1 name=$2 limit=$3 deadline seen="" now mab
	deadline=$((SECONDS + limit))
	while [ $SECONDS -lt $deadline ]; do
		mab=$(kubectl get mab "$name" -n "$ns" -o json 2>/dev/null) || mab='{}'
		now=$(jq -r '[.status.platforms[]? | "\(.platform) \(.phase)\(if .node then " on " + .node else "" end)"] | join(", ")' <<<"$mab")
		[ "$now" = "$seen" ] || { say "  $((limit - deadline + SECONDS)) s: ${now:-waiting}"; seen=$now; }
		case $(jq -r '[.status.conditions[]? | select(.status == "True") | .type] | join(" ")' <<<"$mab") in
		*Ready*) return 0 ;;
		*Stalled*) break ;;
		esac
		sleep 10
	done
	save_build_logs "$ns" "$name"
	die "the build did not become Ready: $(jq -c '[.status.conditions[]?, .status.platforms[]?]' <<<"$mab" | head -c 2000)
release: its logs are in $out/logs; the namespace $ns is kept"
}

# save_build_logs NS NAME: every build pod's log, one file per platform, into $out/logs
save_build_logs() {
	local platform pod
	while read -r platform pod; do
		[ -n "$pod" ] || continue
		kubectl logs -n "$1" "$pod" --all-containers >"$out/logs/build-${platform//\//-}.log" 2>&1 || true
	done < <(kubectl get mab "$2" -n "$1" -o json | jq -r '.status.platforms[]? | "\(.platform) \(.pod // "")"')
}

# pin_manifest SRC DST REF: SRC with the controller image and the index Job's image (--index-image) pinned to REF;
# fails unless both took
pin_manifest() {
	local src=$1 dst=$2 ref=$3 dev
	dev="image: ghcr.io/multiarch-dev/multiarch-controller:$(cat VERSION)"
	{
		echo "# multiarch-controller $version ($commit); the image is pinned by its index digest."
		awk -v dev="$dev" -v ref="$ref" '
			$1 == "image:" && index($0, dev) { sub(dev, "image: " ref); print; next }
			$0 == "        - run" { print; print "        - --index-image=" ref; next }
			{ print }' "$src"
	} >"$dst"
	[ "$(grep -cF -- "$ref" "$dst")" = 2 ] && ! grep -qF -- "$dev" "$dst" ||
		die "$src: the image line or the run arguments of the Deployment are not where the release expects them"
}

# package_chart REF_DIGEST: deploy/chart with its version, appVersion, repository and digest set, packaged into $out
package_chart() {
	local chart=$work/chart
	cp -r deploy/chart "$chart"
	sed -i "s/^version: .*/version: $version/; s/^appVersion: .*/appVersion: $version/" "$chart/Chart.yaml"
	sed -i "0,/^  repository: .*/s||  repository: $repository|; s/^  tag: \"\"/  tag: \"$version\"/; s/^  digest: \"\"/  digest: \"$1\"/" \
		"$chart/values.yaml"
	grep -qF "digest: \"$1\"" "$chart/values.yaml" || die "deploy/chart/values.yaml has no empty image.digest to set"
	helm lint --strict "$chart" >"$work/lint.log" 2>&1 || { cat "$work/lint.log" >&2; die "helm lint of the release chart failed"; }
	helm package "$chart" --destination "$out" >/dev/null || die "helm package failed"
}

# release_notes REF: RELEASE.md, what was built where and how to install and publish it
release_notes() {
	local ref=$1 host_arch
	host_arch=$(dpkg --print-architecture)
	{
		echo "# multiarch-controller $version"
		echo
		echo "- Commit: \`$commit\`"
		echo "- Image: \`$ref\`"
		echo "- Built by the MultiArchBuild \`$ns/$build_name\` on the local cluster, each platform natively on a real node:"
		kubectl get mab "$build_name" -n "$ns" -o json | jq -r --arg host "$host_arch" --argjson nodes "$nodes" '
			.status.platforms[] | .node as $n | ($nodes.items[] | select(.metadata.name == $n)) as $node
			| "  - \(.platform): node `\($n)`, kubelet \($node.status.nodeInfo.kubeletVersion), \($node.status.nodeInfo.containerRuntimeVersion)"
			  + (if $node.status.nodeInfo.architecture != $host then
			     " (this \($host) machine runs that node and its pods under qemu-user: native to the node, emulated here)" else "" end)'
		if [ -n "$skipped" ]; then
			echo "- Not built: $skipped. The cluster has only simulated (kwok) nodes of these architectures, which run no pod."
		fi
		echo
		echo "## Files"
		echo
		echo "- \`multiarch-controller-$version.install.yaml\`: \`kubectl apply --server-side -f\` it (cluster-wide install)"
		echo "- \`multiarch-controller-$version.namespaced.install.yaml\`: the install with the controller's rights in its build namespace only"
		echo "- \`multiarch-controller-$version.tgz\`: the Helm chart, \`helm install multiarch-controller multiarch-controller-$version.tgz -n multiarch-system --create-namespace\`"
		echo "- \`multiarch-controller-$version.oci.tar\`: the image index and its images; publish it unchanged (same digest) with"
		echo "  \`skopeo copy --all oci-archive:multiarch-controller-$version.oci.tar:$version docker://$repository:$version\`"
		echo "- \`$source_archive\`: the source that was built; \`logs/\`: the build pods' and the controller's logs"
		echo "- \`SHA256SUMS\`: \`sha256sum -c SHA256SUMS\`"
	} >"$out/RELEASE.md"
}

# write_artifacts: everything of the release into $out, pinned to $digest
write_artifacts() {
	local ref=$repository:$version@$digest oci=$out/multiarch-controller-$version.oci.tar got
	save_build_logs "$ns" "$build_name"
	rm -f "$oci"
	skopeo copy -q --all --src-tls-verify=false "docker://$REGISTRY/release/multiarch-controller@$digest" \
		"oci-archive:$oci:$version" || die "cannot copy the image index into $oci"
	got=sha256:$(skopeo inspect --raw "oci-archive:$oci:$version" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$digest" ] || die "the OCI archive holds index $got, not $digest"
	pin_manifest deploy/install.yaml "$out/multiarch-controller-$version.install.yaml" "$ref"
	pin_manifest deploy/namespaced/install.yaml "$out/multiarch-controller-$version.namespaced.install.yaml" "$ref"
	package_chart "$digest"
	cp "$work/www/$source_archive" "$out/"
	release_notes "$ref"
	(cd "$out" && sha256sum -- *.yaml *.tgz *.tar *.tar.gz RELEASE.md >SHA256SUMS)
}

work=$(mktemp -d)
cleanup() {
	[ -f "$work/pids" ] && xargs kill <"$work/pids" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "the local cluster (started when it is not up, with its real nodes)"
tests/env/cluster-up.sh >&2 || die "the local cluster did not start"
# shellcheck disable=SC1090
. "$MAC_CLUSTER_ENV"
[ "${MAC_REAL_NODE:-0}" = 1 ] || die "the local cluster has no real node (MAC_REAL_NODE=0): a release is built on real nodes"

# the platforms: every architecture a Ready real node serves; the others are only simulated here, and said so
nodes=$(kubectl get nodes -o json)
mapfile -t arches < <(jq -r '.items[] | select(.metadata.labels["multiarch.dev/node"] == "real")
	| select(any(.status.conditions[]; .type == "Ready" and .status == "True"))
	| .metadata.labels["kubernetes.io/arch"]' <<<"$nodes" | sort -u)
[ ${#arches[@]} -gt 0 ] || die "no real node is Ready"
skipped=$(jq -r --arg built " ${arches[*]} " '[.items[] | .metadata.labels["kubernetes.io/arch"]
	| . as $arch | select($built | contains(" " + $arch + " ") | not)] | unique | join(" ")' <<<"$nodes")
platforms=$(printf 'linux/%s, ' "${arches[@]}")
platforms=${platforms%, }
say "building for ${platforms} on real nodes${skipped:+; not for $skipped (simulated nodes only here)}"

say "the Debian bases with the build and runtime packages, in $REGISTRY"
mapfile -t bases < <(tests/env/release-bases.sh push "$REGISTRY" "${arches[@]}")
[ ${#bases[@]} = 2 ] || die "the Debian bases were not pushed"

# the source: the checkout's tracked and new files, VERSION set to the release's, as one reproducible archive
mkdir -p "$work/src" "$work/www" "$out/logs"
git ls-files -z --cached --others --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null |
	tar -C "$work/src" -xf - || die "cannot copy the source"
echo "$version" >"$work/src/VERSION"
source_archive=multiarch-controller-$version.source.tar.gz
tar -C "$work/src" --sort=name --mtime=@"$(git log -1 --format=%ct)" --owner=0 --group=0 --numeric-owner -cf - . |
	gzip -n >"$work/www/$source_archive"
source_sha=$(sha256sum "$work/www/$source_archive" | cut -d' ' -f1)
port=$(free_port)
timeout "$((limit + 120))" python3 -m http.server --bind "$MAC_REGISTRY_HOST" --directory "$work/www" "$port" \
	>"$work/http.log" 2>&1 &
echo $! >>"$work/pids"

say "the controller of this checkout, for namespace $ns (log: $out/logs/controller.log)"
kubectl apply -f crds/ >/dev/null && kubectl wait --for condition=established crd/multiarchbuilds.multiarch.dev --timeout=60s >/dev/null ||
	die "the CRD is not installed"
# a namespace an earlier release is still deleting: wait for it to go
[ "$(kubectl get namespace "$ns" -o jsonpath='{.status.phase}' 2>/dev/null)" != Terminating ] ||
	kubectl wait --for=delete "namespace/$ns" --timeout=300s >/dev/null || die "namespace $ns is still being deleted"
kubectl create namespace "$ns" >/dev/null 2>&1 || true
kubectl delete multiarchbuild "$build_name" -n "$ns" --ignore-not-found --timeout=120s >/dev/null ||
	die "the build $ns/$build_name of an earlier release does not go away"
bin/multiarch-controller run --kubeconfig "$KUBECONFIG" --config "$BUILDER_CONFIG" --namespace "$ns" \
	--leader-election-id "mac-release" >"$out/logs/controller.log" 2>&1 &
echo $! >>"$work/pids"

kubectl apply -f - >/dev/null <<EOF || die "the MultiArchBuild was refused"
apiVersion: multiarch.dev/v1alpha1
kind: MultiArchBuild
metadata:
  name: $build_name
  namespace: $ns
  labels: {app.kubernetes.io/name: multiarch-controller, app.kubernetes.io/version: "$version"}
spec:
  image: $REGISTRY/release/multiarch-controller:$version
  platforms: [$platforms]
  source: {http: {url: "http://$MAC_REGISTRY_HOST:$port/$source_archive", sha256: "$source_sha"}}
  builder: {type: kaniko}
  buildArgs:
  - {name: BUILD_IMAGE, value: "${bases[0]}"}
  - {name: RUNTIME_IMAGE, value: "${bases[1]}"}
  - {name: GIT_COMMIT, value: "$short_commit"}
  placement: {nodeSelector: {multiarch.dev/node: real}}
  policy: {retries: 0, timeout: ${limit}s}
EOF
wait_build "$ns" "$build_name" "$limit"
digest=$(kubectl get mab "$build_name" -n "$ns" -o jsonpath='{.status.image}')
digest=${digest##*@}
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || die "the build reports no index digest"
say "built $REGISTRY/release/multiarch-controller@$digest"

write_artifacts
kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1
say "done: $out (image $repository:$version@$digest)"
