#!/usr/bin/env bash
# make release VERSION=x.y.z on the test cluster: the controller image is built by a MultiArchBuild of this repository,
# natively on the real amd64 node and the (emulated) real arm64 node, from Debian bases that hold the build packages;
# the index has both platforms and no other, each image's binary is of its architecture and runs there, reporting the
# release's version; the OCI archive, both install manifests and the packaged chart pin the index's digest and
# differ from deploy/ in nothing else; the notes name the architectures only simulated here; bad versions, a bad
# repository and a dirty tree are refused before anything starts.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh
# shellcheck source=tests/env/common.sh
. tests/env/common.sh

version=9.8.7-rc.1
work=$(mktemp -d)
dist=$work/dist
cleanup() {
	kubectl delete namespace release-pods mac-release --wait=false >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

echo "-- refused before anything starts"
out=$(deploy/release.sh 2>&1)
expect_match "no version: refused, saying how to give one" "no version: run make release VERSION=x.y.z" "$out"
out=$(make --no-print-directory release VERSION=1.2 2>&1)
expect_match "make release VERSION=1.2: not x.y.z" "version '1.2' is not x.y.z" "$out"
out=$(MAC_RELEASE_REPOSITORY='Registry/With Space' deploy/release.sh 1.2.3 2>&1)
expect_match "a repository that is no repository name is refused" "MAC_RELEASE_REPOSITORY 'Registry/With Space' is not a repository name" "$out"
git clone -q . "$work/clone" && echo changed >>"$work/clone/README.md"
out=$(cd "$work/clone" && deploy/release.sh 1.2.3 2>&1)
expect_match "a work tree with uncommitted changes is refused" "uncommitted changes" "$out"

if [ "${MAC_REAL_NODE:-0}" != 1 ] || [ "${MAC_ARM64_NODE:-0}" != 1 ]; then
	fail "the test cluster has the real amd64 and arm64 nodes" "MAC_REAL_NODE=${MAC_REAL_NODE:-unset} MAC_ARM64_NODE=${MAC_ARM64_NODE:-unset}"
	finish release
	exit 1
fi

echo "-- make release VERSION=$version (the arm64 half compiles under emulation: minutes)"
started=$SECONDS
MAC_RELEASE_OUT=$dist MAC_RELEASE_ALLOW_DIRTY=1 make --no-print-directory release VERSION=$version >"$work/release.log" 2>&1
rc=$?
expect_eq "make release succeeds" 0 "$rc"
[ $rc = 0 ] || tail -n 30 "$work/release.log"
echo "   release built in $((SECONDS - started)) s"
ref=$(grep -o "ghcr.io/multiarch-dev/multiarch-controller:$version@sha256:[0-9a-f]*" "$dist/RELEASE.md" 2>/dev/null | head -n1)
digest=${ref##*@}
expect_match "the notes name the image by its digest" "^sha256:[0-9a-f]{64}$" "$digest"
files="multiarch-controller-$version.install.yaml multiarch-controller-$version.namespaced.install.yaml multiarch-controller-$version.tgz"
files="$files multiarch-controller-$version.oci.tar multiarch-controller-$version.source.tar.gz RELEASE.md"
expect_eq "SHA256SUMS covers every artifact and each matches" "$(tr ' ' '\n' <<<"$files" | sort | sed 's/$/: OK/')" \
	"$(cd "$dist" && sha256sum -c SHA256SUMS 2>&1 | sort)"

echo "-- the image index"
raw=$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/release/multiarch-controller:$version" 2>&1)
expect_eq "the registry's index is the one the release pins" "$digest" "sha256:$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)"
expect_eq "it has linux/amd64 and linux/arm64, nothing else" "linux/amd64 linux/arm64" \
	"$(jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | sort | join(" ")' <<<"$raw")"
archive_raw=$(skopeo inspect --raw "oci-archive:$dist/multiarch-controller-$version.oci.tar:$version" 2>&1)
expect_eq "the OCI archive holds the same index, byte for byte" "$raw" "$archive_raw"
# machine ARCH: the ELF machine (e_machine) of the controller binary in ARCH's image, as hex
machine() {
	local dir=$work/img-$1
	skopeo copy -q --override-arch "$1" "oci-archive:$dist/multiarch-controller-$version.oci.tar:$version" "oci:$dir:x" >/dev/null 2>&1 &&
		umoci raw unpack --rootless --image "$dir:x" "$dir/root" >/dev/null 2>&1 &&
		od -An -tx2 -j18 -N2 "$dir/root/usr/local/bin/multiarch-controller" | tr -d ' '
}
expect_eq "the amd64 image's binary is x86-64 code" 003e "$(machine amd64)"
expect_eq "the arm64 image's binary is AArch64 code" 00b7 "$(machine arm64)"
expect_eq "the arm64 image's config says arm64" arm64 \
	"$(skopeo inspect --override-arch arm64 --config "oci-archive:$dist/multiarch-controller-$version.oci.tar:$version" 2>/dev/null | jq -r .architecture)"

echo "-- the released image runs on both real nodes"
kubectl create namespace release-pods >/dev/null 2>&1
for arch in amd64 arm64; do
	ctr --address "$MAC_CLUSTER_DIR/node/$arch/containerd/containerd.sock" -n k8s.io images import --all-platforms \
		--base-name mac.local/release/multiarch-controller "$dist/multiarch-controller-$version.oci.tar" >/dev/null 2>&1
	kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: version-$arch, namespace: release-pods}
spec:
  restartPolicy: Never
  nodeSelector: {multiarch.dev/node: real, kubernetes.io/arch: $arch}
  tolerations: [{key: multiarch.dev/real-node, operator: Exists}]
  containers:
  - {name: main, image: "mac.local/release/multiarch-controller:$version", imagePullPolicy: Never, args: [version]}
EOF
done
done_pod() { case $(kubectl get pod "$1" -n release-pods -o jsonpath='{.status.phase}') in Succeeded | Failed) return 0 ;; esac; return 1; }
for arch in amd64 arm64; do
	wait_for 180 done_pod "version-$arch"
	expect_match "on the $arch node it reports the release's version" "^multiarch-controller $version " \
		"$(kubectl logs -n release-pods "version-$arch" 2>&1)"
done

echo "-- the manifests and the chart"
for variant in install namespaced/install; do
	released=$dist/multiarch-controller-$version.${variant//\//.}.yaml
	expect_eq "$variant.yaml: the image and the index Job's image pinned" 2 "$(grep -cF "$ref" "$released")"
	expect_eq "$variant.yaml: nothing else differs from deploy/" "" \
		"$(grep -v -e '^#' -e "--index-image=$ref" "$released" | sed "s|$ref|ghcr.io/multiarch-dev/multiarch-controller:$(cat VERSION)|" |
			diff - <(grep -v '^#' "deploy/$variant.yaml"))"
done
chart=$dist/multiarch-controller-$version.tgz
expect_eq "the chart's version and appVersion are the release's" "$version $version" \
	"$(helm show chart "$chart" 2>&1 | awk '$1 == "version:" { v = $2 } $1 == "appVersion:" { a = $2 } END { print v, a }')"
rendered=$(helm template mac "$chart" -n multiarch-system 2>&1)
chart_ref=ghcr.io/multiarch-dev/multiarch-controller@$digest # the chart names a digest without the tag
expect_eq "the chart renders the pinned image and index image" "--index-image=$chart_ref|image: $chart_ref" \
	"$(grep -oE "(image: |--index-image=)ghcr.io/[^\" ]+" <<<"$rendered" | sort -u | paste -sd'|')"
notes=$(cat "$dist/RELEASE.md" 2>/dev/null)
expect_match "the notes say where linux/amd64 was built" "linux/amd64: node \`real-amd64-1\`" "$notes"
expect_match "the notes say linux/arm64 was built on the emulated arm64 node" "linux/arm64: node \`real-arm64-1\`.*qemu-user" "$notes"
expect_match "the notes name the architectures only simulated here" "Not built: ppc64le riscv64\." "$notes"
gone() { ! kubectl get namespace mac-release >/dev/null 2>&1; }
wait_for 60 gone
expect_eq "the release's build namespace is removed" "" "$(kubectl get namespace mac-release -o name 2>/dev/null)"
finish release
