#!/usr/bin/env bash
# Builds the pinned upstream test tools (etcd, Kubernetes control plane, kubectl, the real node's kubelet and kube-proxy,
# kwok, helm) from their Go modules and caches them.
#
# Usage: tests/env/build-tools.sh            build what is missing, print the bin dir
#        tests/env/build-tools.sh --print    print the bin dir only
#
# Every tool is built through the Go module proxy into
# ${MAC_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-controller/tools}/<name>-<version>/
# and stamped with its version; a tool whose binary exists is not rebuilt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/env/versions.sh
. "$here/versions.sh"

tools_dir=${MAC_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-controller/tools}
bin_dir="$tools_dir/bin"

if [ "${1:-}" = "--print" ]; then
	echo "$bin_dir"
	exit 0
fi

command -v go >/dev/null || { echo "build-tools: go is not installed (needed to build the test control plane)" >&2; exit 1; }
mkdir -p "$bin_dir"

log() { echo "build-tools: $*" >&2; }

# wrapper_module DIR MODULE VERSION LOCAL_REPLACE_VERSION
# Writes DIR/go.mod requiring MODULE@VERSION, and turns every replace of the
# upstream go.mod that points at a local folder (./staging/..., ../api) into a
# replace by the published module at LOCAL_REPLACE_VERSION. The list comes from
# the tag's own go.mod, never typed by hand.
wrapper_module() {
	local dir=$1 module=$2 version=$3 local_version=$4 upstream_mod go_line
	upstream_mod=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
	[ -f "$upstream_mod" ] || { log "cannot download the go.mod of $module@$version"; return 1; }
	go_line=$(grep -m1 '^go ' "$upstream_mod" || echo "go 1.24")
	mkdir -p "$dir"
	{
		echo "module mac.local/tools"
		echo
		echo "$go_line"
		echo
		echo "require $module $version"
		echo
		echo "replace ("
		awk -v v="$local_version" '
			/^replace[ \t]*\(/ { inblock = 1; next }
			inblock && /^\)/ { inblock = 0; next }
			{
				line = $0
				if (!inblock) {
					if (line !~ /^replace[ \t]/) next
					sub(/^replace[ \t]+/, "", line)
				}
				sub(/^[ \t]+/, "", line)
				n = split(line, f, /[ \t]+/)
				for (i = 2; i < n; i++) {
					if (f[i] == "=>" && f[i + 1] ~ /^\.\.?\// && f[i + 1] !~ /FORBIDDEN/) printf "\t%s => %s %s\n", f[1], f[1], v
				}
			}' "$upstream_mod"
		echo ")"
	} > "$dir/go.mod"
}

# build_tool NAME VERSION MODULE LOCAL_VERSION LDFLAGS BINARY=PACKAGE...   (TOOL_GOARCH: another architecture)
# Builds every PACKAGE (a main package of MODULE) as BINARY in the tool's own
# folder, then links the binaries into bin/. Skips the build when the folder
# is complete (a failed build leaves only a .partial folder behind).
build_tool() {
	local name=$1 version=$2 module=$3 local_version=$4 ldflags=$5
	shift 5
	local out="$tools_dir/$name-$version" pair work pkgs=()
	for pair in "$@"; do pkgs+=("${pair#*=}"); done
	if [ ! -f "$out/VERSION" ]; then
		log "building $name $version from $module (cached in $out)"
		work=$(mktemp -d)
		wrapper_module "$work" "$module" "$version" "$local_version"
		rm -rf "$out.partial"
		mkdir -p "$out.partial"
		if ! (
			cd "$work"
			go get "${pkgs[@]/%/@$version}"
			for pair in "$@"; do
				GOARCH=${TOOL_GOARCH:-$(go env GOARCH)} CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out.partial/${pair%%=*}" "${pair#*=}"
			done
		) >"$out.partial/build.log" 2>&1; then
			log "building $name failed; the last lines of $out.partial/build.log:"
			tail -n 20 "$out.partial/build.log" >&2
			return 1
		fi
		rm -rf "$work" "$out"
		rm -f "$out.partial/build.log"
		echo "$module $version" >"$out.partial/VERSION"
		mv "$out.partial" "$out"
	fi
	for pair in "$@"; do
		ln -sfn "$out/${pair%%=*}" "$bin_dir/${pair%%=*}"
	done
}

k8s_minor=${KUBE_VERSION#v1.}; k8s_minor=${k8s_minor%%.*}
k8s_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$k8s_minor -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"

build_tool etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" \
	"-s -w" etcd=go.etcd.io/etcd/server/v3

build_tool kubernetes "$KUBE_VERSION" k8s.io/kubernetes "v0.${KUBE_VERSION#v1.}" "$k8s_ldflags" \
	kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
	kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
	kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler \
	kubectl=k8s.io/kubernetes/cmd/kubectl

# the real node's agents, in a folder of their own so that a cache made before them is completed, not rebuilt
build_tool kubelet "$KUBE_VERSION" k8s.io/kubernetes "v0.${KUBE_VERSION#v1.}" "$k8s_ldflags" \
	kubelet=k8s.io/kubernetes/cmd/kubelet \
	kube-proxy=k8s.io/kubernetes/cmd/kube-proxy

build_tool kwok "$KWOK_VERSION" sigs.k8s.io/kwok "$KWOK_VERSION" \
	"-s -w" kwok=sigs.k8s.io/kwok/cmd/kwok

build_tool helm "$HELM_VERSION" helm.sh/helm/v4 "$HELM_VERSION" \
	"-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" helm=helm.sh/helm/v4/cmd/helm

# the arm64 node's kubelet and Kaniko executor (the kubelet runs under qemu-user; tests/env/real-node.sh), unless
# the arm64 node is turned off (MAC_ARM64_NODE=0)
if [ "${MAC_ARM64_NODE:-1}" = 1 ]; then
	TOOL_GOARCH=arm64 build_tool kubelet-arm64 "$KUBE_VERSION" k8s.io/kubernetes "v0.${KUBE_VERSION#v1.}" "$k8s_ldflags" \
		kubelet-arm64=k8s.io/kubernetes/cmd/kubelet
	TOOL_GOARCH=arm64 build_tool kaniko-arm64 "$KANIKO_VERSION" github.com/GoogleContainerTools/kaniko "$KANIKO_VERSION" \
		"-s -w -X github.com/GoogleContainerTools/kaniko/pkg/version.version=$KANIKO_VERSION" \
		kaniko-executor-arm64=github.com/GoogleContainerTools/kaniko/cmd/executor
fi

# what the real node's builder images hold (tests/env/node-images.sh)
build_tool buildkit "$BUILDKIT_VERSION" github.com/moby/buildkit "$BUILDKIT_VERSION" \
	"-s -w -X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION" \
	buildkitd=github.com/moby/buildkit/cmd/buildkitd buildctl=github.com/moby/buildkit/cmd/buildctl
build_tool rootlesskit "$ROOTLESSKIT_VERSION" github.com/rootless-containers/rootlesskit/v2 "$ROOTLESSKIT_VERSION" \
	"-s -w" rootlesskit=github.com/rootless-containers/rootlesskit/v2/cmd/rootlesskit
build_tool kaniko "$KANIKO_VERSION" github.com/GoogleContainerTools/kaniko "$KANIKO_VERSION" \
	"-s -w -X github.com/GoogleContainerTools/kaniko/pkg/version.version=$KANIKO_VERSION" \
	kaniko-executor=github.com/GoogleContainerTools/kaniko/cmd/executor

echo "$bin_dir"
