#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the sandbox need; when not root, prints the command to run.
set -euo pipefail

# a command, or a file (glob) that proves the package is there -> Debian package
checks=(
	"cc:build-essential"
	"make:make"
	"pkg-config:pkg-config"
	"/usr/include/*/curl/curl.h:libcurl4-openssl-dev"
	"/usr/include/yaml.h:libyaml-dev"
	"/usr/include/cjson/cJSON.h:libcjson-dev"
	"/usr/include/libwebsockets.h:libwebsockets-dev"
	"/usr/include/openssl/evp.h:libssl-dev"
	"/usr/include/cmocka.h:libcmocka-dev"
	"clang:clang"
	"clang-tidy:clang-tidy"
	"cppcheck:cppcheck"
	"clang-format:clang-format"
	"shellcheck:shellcheck"
	"faketime:faketime"
	"valgrind:valgrind"
	"/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a:libclang-rt-14-dev"
	"docker-registry:docker-registry"
	"skopeo:skopeo"
	"umoci:umoci"
	"buildah:buildah"
	"htpasswd:apache2-utils"
	"openssl:openssl"
	"curl:curl"
	"jq:jq"
	"/usr/bin/python3:python3"
	"docker:docker.io"
	"git:git"
	"lua5.4:lua5.4"
	"debootstrap:debootstrap"
	"/bin/busybox:busybox-static"
	"containerd:containerd"
	"runc:runc"
	"/usr/lib/cni/bridge:containernetworking-plugins"
	"newuidmap:uidmap"
	"iptables:iptables"
	"conntrack:conntrack"
	"chromium:chromium"
	"gnuplot:gnuplot-nox"
	"promtool:prometheus"
)

# the emulated arm64 node (unless MAC_ARM64_NODE=0): qemu-user for binfmt_misc, a cross compiler for its pause image
if [ "${MAC_ARM64_NODE:-1}" = 1 ]; then
	checks+=("/usr/bin/qemu-aarch64-static:qemu-user-static" "update-binfmts:binfmt-support" "aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu"
		"/usr/aarch64-linux-gnu/lib/libc.a:libc6-dev-arm64-cross")
fi

missing=()
for c in "${checks[@]}"; do
	what=${c%%:*}
	pkg=${c#*:}
	case $what in
	/*) compgen -G "$what" >/dev/null || missing+=("$pkg") ;;
	*) command -v "$what" >/dev/null 2>&1 || missing+=("$pkg") ;;
	esac
done

if [ ${#missing[@]} -gt 0 ]; then
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages; run as root:" >&2
		echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go builds the upstream test tools; Kubernetes 1.35 needs Go 1.25 or newer.
export PATH=/usr/local/go/bin:$PATH
if ! command -v go >/dev/null 2>&1; then
	echo "install-deps: Go 1.25 or newer is needed to build the test control plane; install it in /usr/local/go" >&2
	exit 1
fi
go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ "${go_minor:-0}" -lt 25 ]; then
	echo "install-deps: $(go env GOVERSION) is too old to build Kubernetes 1.35 (needs go1.25 or newer)" >&2
	exit 1
fi
