#!/usr/bin/env bash
# The real node's images, built here and never pulled: pause, rootless BuildKit, Buildah, the Kaniko executor and the
# controller itself, made with this machine's Docker engine from tests/env/images/ and the Dockerfile, kept in
# Docker's store (outside the repository) and imported into the node's containerd under local names.
#
# Usage: tests/env/node-images.sh name NAME     prints the local reference of NAME (pause|buildkit|buildah|kaniko|controller|busybox)
#        tests/env/node-images.sh build         builds the images that are missing (the controller image every time)
#        tests/env/node-images.sh load SOCKET   builds, then imports every image into the containerd at SOCKET
#        tests/env/node-images.sh load-arm64 SOCKET   the arm64 node's: pause, busybox and the Kaniko executor built for
#                                               arm64 under the same names (umoci), and the controller image
#        tests/env/node-images.sh push-base REGISTRY   copies the busybox base image (FROM of the tests' Dockerfiles)
#                                               to REGISTRY/base/busybox:1 over plain HTTP
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/env/versions.sh
. "$here/versions.sh"

names=(pause buildkit buildah kaniko controller)

ref() {
	case $1 in
	pause) echo mac.local/pause:1 ;;
	buildkit) echo "mac.local/buildkit:$BUILDKIT_VERSION-rootless" ;;
	buildah) echo mac.local/buildah:bookworm ;;
	kaniko) echo "mac.local/kaniko-executor:$KANIKO_VERSION" ;;
	controller) echo "mac.local/multiarch-controller:$(cat "$repo/VERSION")" ;;
	busybox) echo mac.local/busybox:1 ;;
	*)
		echo "node-images: unknown image $1" >&2
		return 2
		;;
	esac
}

log() { echo "node-images: $*" >&2; }

# docker_build NAME CONTEXT [DOCKER_BUILD_FLAG...]: builds CONTEXT's Dockerfile as NAME's reference; its output is
# shown only when it fails
docker_build() {
	local name=$1 context=$2 out
	shift 2
	out=$(mktemp)
	if ! docker build --network host -q "$@" -t "$(ref "$name")" "$context" >"$out" 2>&1; then
		log "building the $name image failed:"
		tail -n 20 "$out" >&2
		rm -f "$out"
		return 1
	fi
	rm -f "$out"
}

# stage NAME DIR: copies what NAME's Dockerfile needs into DIR
stage() {
	local name=$1 ctx=$2 tools gomod
	tools=$("$here/build-tools.sh" --print)
	cp "$here/images/$name/Dockerfile" "$ctx/"
	case $name in
	pause) cc -static -O2 -Wall -Wextra -Werror -I "$repo" -o "$ctx/pause" "$here/images/pause/pause.c" ;;
	busybox)
		if ldd /bin/busybox >/dev/null 2>&1; then
			log "/bin/busybox is linked dynamically; the base image needs Debian's busybox-static"
			return 1
		fi
		cp /bin/busybox "$ctx/"
		;;
	buildkit)
		gomod=$(PATH=/usr/local/go/bin:$PATH go env GOMODCACHE)
		cp -L "$tools/buildkitd" "$tools/buildctl" "$tools/rootlesskit" "$ctx/"
		install -m 0755 "$gomod/github.com/moby/buildkit@$BUILDKIT_VERSION/examples/buildctl-daemonless/buildctl-daemonless.sh" "$ctx/"
		;;
	kaniko)
		cp -L "$tools/kaniko-executor" "$ctx/executor"
		cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
		echo 'hosts: files dns' >"$ctx/nsswitch.conf"
		;;
	esac
}

build_all() {
	local name ctx
	"$here/base-image.sh"
	"$here/build-tools.sh" >/dev/null
	for name in pause buildkit buildah kaniko busybox; do
		docker image inspect "$(ref "$name")" >/dev/null 2>&1 && continue
		log "building $(ref "$name")"
		ctx=$(mktemp -d)
		stage "$name" "$ctx" || { rm -rf "$ctx"; return 1; }
		docker_build "$name" "$ctx" || { rm -rf "$ctx"; return 1; }
		rm -rf "$ctx"
	done
	# the controller image from this checkout (Docker's layer cache makes an unchanged tree quick)
	docker_build controller "$repo" --build-arg GIT_COMMIT="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
}

# arm64_image NAME OUT: an OCI archive of the arm64 variant of NAME (pause, busybox or kaniko) under NAME's reference
arm64_image() {
	local name=$1 out=$2 work tools entry
	tools=$("$here/build-tools.sh" --print)
	work=$(mktemp -d)
	mkdir -p "$work/root"
	case $name in
	pause)
		aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -Werror -I "$repo" -o "$work/root/pause" "$here/images/pause/pause.c" || return 1
		entry=/pause
		;;
	busybox)
		(cd "$work" && apt-get download busybox-static:arm64 >/dev/null 2>&1) || { log "cannot download Debian's arm64 busybox"; return 1; }
		dpkg-deb -x "$work"/busybox-static_*_arm64.deb "$work/deb" && mkdir -p "$work/root/bin" && cp "$work/deb/bin/busybox" "$work/root/bin/"
		for applet in sh echo cat date uname wc id ls; do ln -s busybox "$work/root/bin/$applet"; done
		entry=/bin/sh
		;;
	kaniko)
		mkdir -p "$work/root/kaniko/ssl/certs" "$work/root/etc/ssl/certs" "$work/root/workspace"
		cp -L "$tools/kaniko-executor-arm64" "$work/root/kaniko/executor"
		cp /etc/ssl/certs/ca-certificates.crt "$work/root/kaniko/ssl/certs/" && cp /etc/ssl/certs/ca-certificates.crt "$work/root/etc/ssl/certs/"
		echo 'hosts: files dns' >"$work/root/etc/nsswitch.conf"
		entry=/kaniko/executor
		;;
	esac
	umoci init --layout "$work/oci" && umoci new --image "$work/oci:img" && umoci insert --image "$work/oci:img" "$work/root" / >/dev/null &&
		umoci config --image "$work/oci:img" --os linux --architecture arm64 --config.entrypoint "$entry" \
			--config.env PATH=/usr/local/bin:/kaniko:/bin --config.env HOME=/root --config.env SSL_CERT_DIR=/kaniko/ssl/certs \
			--config.env DOCKER_CONFIG=/kaniko/.docker/ >/dev/null &&
		skopeo copy -q "oci:$work/oci:img" "oci-archive:$out:$(ref "$name")"
	local rc=$?
	rm -rf "$work"
	return $rc
}

load_arm64() {
	local sock=$1 dir name
	dir=$(dirname "$("$here/build-tools.sh" --print)")/arm64-images
	mkdir -p "$dir"
	for name in pause busybox kaniko; do
		[ -s "$dir/$name.tar" ] && continue
		log "building the arm64 $(ref "$name")"
		arm64_image "$name" "$dir/$name.tar.partial" && mv "$dir/$name.tar.partial" "$dir/$name.tar" || { log "the arm64 $name image failed"; return 1; }
	done
	for name in pause busybox kaniko; do
		ctr --address "$sock" -n k8s.io images import "$dir/$name.tar" >/dev/null || return 1
	done
	# the controller image (amd64: the index Job's pod may land here; it runs natively on this amd64 machine)
	docker save "$(ref controller)" | ctr --address "$sock" -n k8s.io images import --all-platforms - >/dev/null
}

# push_base REGISTRY: the busybox base as REGISTRY/base/busybox:1, an index of the amd64 image and, when the arm64
# node's images exist, the arm64 one, merged by multiarch-controller index itself
push_base() {
	local reg=$1 arm64_tar sources=() digest got
	got=$(mktemp)
	docker image inspect "$(ref busybox)" >/dev/null 2>&1 || build_all
	skopeo copy -q --dest-tls-verify=false --digestfile /dev/stdout "docker-daemon:$(ref busybox)" "docker://$reg/base/busybox:amd64" >"$got" &&
		sources+=(--source "$reg/base/busybox@$(cat "$got")" --platform linux/amd64)
	arm64_tar=$(dirname "$("$here/build-tools.sh" --print)")/arm64-images/busybox.tar
	if [ -s "$arm64_tar" ]; then
		skopeo copy -q --dest-tls-verify=false --digestfile /dev/stdout "oci-archive:$arm64_tar" "docker://$reg/base/busybox:arm64" >"$got" &&
			sources+=(--source "$reg/base/busybox@$(cat "$got")" --platform linux/arm64)
	fi
	rm -f "$got"
	digest=$("$repo/bin/multiarch-controller" index --image "$reg/base/busybox:1" "${sources[@]}" --insecure-registry "$reg" 2>/dev/null | tail -n1)
	[ -n "$digest" ] || { log "cannot push the base index to $reg"; return 1; }
}

load_all() {
	local sock=$1 refs=() name
	build_all
	for name in "${names[@]}"; do refs+=("$(ref "$name")"); done
	docker save "${refs[@]}" | ctr --address "$sock" -n k8s.io images import --all-platforms - >/dev/null
}

case ${1:-} in
name) ref "${2:?name what}" ;;
push-base) push_base "${2:?the registry}" ;;
build) build_all ;;
load) load_all "${2:?the containerd socket}" ;;
load-arm64) load_arm64 "${2:?the containerd socket}" ;;
*)
	echo "usage: $0 name NAME | build | load SOCKET" >&2
	exit 2
	;;
esac
