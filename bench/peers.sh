#!/usr/bin/env bash
# Builds the benchmark peers from their Go modules into a cache outside the repository, once per version.
# Usage: bench/peers.sh   prints the bin dir holding crane, regctl, sample-controller and its CRD
set -euo pipefail
CRANE_VERSION=v0.22.1             # github.com/google/go-containerregistry
REGCTL_VERSION=v0.11.7            # github.com/regclient/regclient
SAMPLE_CONTROLLER_VERSION=v0.35.4 # k8s.io/sample-controller, the client-go release of the test cluster
dir=${MAC_BENCH_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-controller/bench}
bin="$dir/bin"
mkdir -p "$bin"
export PATH=/usr/local/go/bin:$PATH

# install NAME PACKAGE VERSION [EDIT]: builds PACKAGE at its module's VERSION in a throwaway module of its own (the
# proxy serves versions by name, not always the version list `go install pkg@version` asks for), linked into bin/.
# With EDIT (a function), the package's own Go files are copied into the throwaway module and EDIT runs there first.
install() {
	local name=$1 pkg=$2 version=$3 edit=${4:-} out work
	out="$dir/$name-$version${edit:+-$edit}"
	if [ ! -x "$out/$name" ]; then
		echo "peers: building $pkg@$version${edit:+ with $edit} (cached in $out)" >&2
		rm -rf "$out" && mkdir -p "$out"
		work=$(mktemp -d)
		(
			cd "$work"
			go mod init bench.local/peers >/dev/null 2>&1
			go get "$pkg@$version" >&2
			target=$pkg
			if [ -n "$edit" ]; then
				src=$(go list -f '{{.Dir}}' "$pkg")
				cp "$src"/*.go . && rm -f ./*_test.go && chmod u+w ./*.go
				"$edit" "$src" "$out"
				go mod tidy >&2
				target=.
			fi
			CGO_ENABLED=0 go build -trimpath -o "$out/$name" "$target" >&2
		)
		rm -rf "$work"
	fi
	ln -sf "$out/$name" "$bin/$name"
}

# noqps_workers SRC OUT: lifts client-go's client-side limit (5 QPS, burst 10) in sample-controller's main.go, as
# multiarch-controller has none, so both meet only the API server's flow control (shipped as is, it could not keep up
# with its own 30 s resync of 1,000 Foos, each of which writes every Foo's status); its two workers (fixed in main.go)
# become $SAMPLE_CONTROLLER_WORKERS when set, so the benchmark can sweep them as it sweeps ours; keeps its CRD beside
# the binary
noqps_workers() {
	grep -q '^	kubeClient, err := kubernetes.NewForConfig(cfg)$' main.go
	sed -i 's/^	kubeClient, err := kubernetes.NewForConfig(cfg)$/	cfg.QPS = -1\n&/' main.go
	grep -q 'controller.Run(ctx, 2)' main.go
	sed -i 's/controller.Run(ctx, 2)/controller.Run(ctx, benchWorkers())/' main.go
	cat >>main.go <<'GO'

// benchWorkers is the benchmark's worker count: $SAMPLE_CONTROLLER_WORKERS, else the sample's own 2.
func benchWorkers() int {
	if n, err := strconv.Atoi(os.Getenv("SAMPLE_CONTROLLER_WORKERS")); err == nil && n > 0 {
		return n
	}
	return 2
}
GO
	for pkg in os strconv; do
		grep -q "^	\"$pkg\"$" main.go || sed -i "s/^import (/import (\n\t\"$pkg\"/" main.go
	done
	cp "$1/artifacts/examples/crd-status-subresource.yaml" "$2/crd.yaml"
}

install crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION"
install regctl github.com/regclient/regclient/cmd/regctl "$REGCTL_VERSION"
install sample-controller k8s.io/sample-controller "$SAMPLE_CONTROLLER_VERSION" noqps_workers
ln -sf "$dir/sample-controller-$SAMPLE_CONTROLLER_VERSION-noqps_workers/crd.yaml" "$bin/sample-controller-crd.yaml"
echo "$bin"
