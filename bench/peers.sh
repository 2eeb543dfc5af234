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

# install NAME PACKAGE VERSION: builds PACKAGE at its module's VERSION in a throwaway module of its own (the
# proxy serves versions by name, not always the version list `go install pkg@version` asks for), linked into bin/
install() {
	local name=$1 pkg=$2 version=$3 out work
	out="$dir/$name-$version"
	if [ ! -x "$out/$name" ]; then
		echo "peers: building $pkg@$version (cached in $out)" >&2
		rm -rf "$out" && mkdir -p "$out"
		work=$(mktemp -d)
		(
			cd "$work"
			go mod init bench.local/peers >/dev/null 2>&1
			go get "$pkg@$version" >&2
			CGO_ENABLED=0 go build -trimpath -o "$out/$name" "$pkg" >&2
		)
		rm -rf "$work"
	fi
	ln -sf "$out/$name" "$bin/$name"
}
install crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION"
install regctl github.com/regclient/regclient/cmd/regctl "$REGCTL_VERSION"
install sample-controller k8s.io/sample-controller "$SAMPLE_CONTROLLER_VERSION"
echo "$bin"
