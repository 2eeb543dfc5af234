#!/usr/bin/env bash
# Builds the benchmark peers from their Go modules into a cache outside the repository, once per version.
# Usage: bench/peers.sh   prints the bin dir holding crane, regctl and sample-controller
set -euo pipefail
CRANE_VERSION=v0.22.1             # github.com/google/go-containerregistry
REGCTL_VERSION=v0.11.7            # github.com/regclient/regclient
SAMPLE_CONTROLLER_VERSION=v0.35.4 # k8s.io/sample-controller, the client-go release of the test cluster
dir=${MAC_BENCH_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-controller/bench}
bin="$dir/bin"
mkdir -p "$bin"
export PATH=/usr/local/go/bin:$PATH

# install NAME PACKAGE@VERSION: go install into a folder of its own, linked into bin/
install() {
	local name=$1 pkg=$2 version=${2##*@} out
	out="$dir/$name-$version"
	if [ ! -x "$out/$name" ]; then
		echo "peers: building $pkg (cached in $out)" >&2
		rm -rf "$out" && mkdir -p "$out"
		GOBIN="$out" CGO_ENABLED=0 go install -trimpath "$pkg" >&2
		[ -x "$out/$name" ] || mv "$out/$(basename "${pkg%@*}")" "$out/$name"
	fi
	ln -sf "$out/$name" "$bin/$name"
}
install crane "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION"
install regctl "github.com/regclient/regclient/cmd/regctl@$REGCTL_VERSION"
install sample-controller "k8s.io/sample-controller@$SAMPLE_CONTROLLER_VERSION"
echo "$bin"
