#!/usr/bin/env bash
# The Debian bookworm bases a release build of the controller image starts FROM, for each architecture asked:
# "build" (minbase with the Dockerfile's BUILD_PACKAGES) and "runtime" (minbase with its RUNTIME_PACKAGES), made by
# debootstrap from the machine's own Debian mirror (a foreign architecture's package scripts run under qemu-user),
# cached as OCI archives beside the Go tools, and pushed to a registry as one image index each. With the packages
# already in them, the Dockerfile skips apt, so the build pods need no route to a Debian mirror.
#
# Usage: tests/env/release-bases.sh prepare ARCH...        makes the cached bases that are missing
#        tests/env/release-bases.sh push REGISTRY ARCH...   prints the two references pushed (build, then runtime):
#                                                           REGISTRY/base/bookworm-build:1, REGISTRY/base/bookworm-runtime:1
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/env/common.sh
. "$here/common.sh"

mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
cache=$(dirname "$("$here/build-tools.sh" --print)")/release-bases

# packages KIND: the Dockerfile's package list of KIND (build or runtime), comma-separated for debootstrap
packages() {
	local arg
	arg=$(echo "$1" | tr '[:lower:]' '[:upper:]')_PACKAGES
	sed -n "s/^ARG $arg=\"\\(.*\\)\"\$/\\1/p" "$repo/Dockerfile" | tr ' ' ','
}

# make_base KIND ARCH OUT: debootstraps the KIND base for ARCH and writes it to the OCI archive OUT
make_base() {
	local kind=$1 arch=$2 out=$3 root list work rc
	list=$(packages "$kind")
	[ -n "$list" ] || { env_log "the Dockerfile names no ${kind} packages"; return 1; }
	if [ "$arch" != amd64 ] && [ "$(head -n1 "/proc/sys/fs/binfmt_misc/qemu-${arch/arm64/aarch64}" 2>/dev/null)" != enabled ]; then
		env_log "$arch binaries cannot run here (qemu-user is not registered in binfmt_misc; start the cluster first)"
		return 1
	fi
	work=$(mktemp -d)
	root=$work/root
	env_log "debootstrap bookworm for $arch with the $kind packages (from $mirror; minutes, more under emulation)"
	if ! debootstrap --arch="$arch" --variant=minbase --include="$list" bookworm "$root" "$mirror" >"$work/log" 2>&1; then
		tail -n 20 "$work/log" >&2
		rm -rf "$work"
		return 1
	fi
	printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$mirror" >"$root/etc/apt/sources.list.d/debian.sources"
	rm -rf "$root/etc/apt/sources.list" "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* \
		"$root/usr/share/doc/"* "$root/usr/share/man/"* "${root:?}/dev/"*
	umoci init --layout "$work/oci" && umoci new --image "$work/oci:img" &&
		umoci insert --image "$work/oci:img" "$root" / >/dev/null &&
		umoci config --image "$work/oci:img" --os linux --architecture "$arch" --config.cmd /bin/bash \
			--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin >/dev/null &&
		skopeo copy -q "oci:$work/oci:img" "oci-archive:$out:bookworm-$kind-$arch"
	rc=$?
	rm -rf "$work"
	return $rc
}

# prepare ARCH...: makes the cached archives of both bases for every ARCH that are missing; one prepare at a time
# (a second waits for the first, then finds what it made)
prepare() {
	local kind arch archive
	mkdir -p "$cache"
	exec 9>"$cache/prepare.lock"
	flock 9
	for kind in build runtime; do
		for arch in "$@"; do
			archive=$cache/$kind-$arch.tar
			[ -s "$archive" ] && continue
			make_base "$kind" "$arch" "$archive.partial" && mv "$archive.partial" "$archive" ||
				{ rm -f "$archive.partial"; env_log "the $arch $kind base failed"; return 1; }
		done
	done
}

# push REGISTRY ARCH...: both bases for every ARCH (made once, then cached), pushed as one index each
push() {
	local reg=$1 kind arch archive digest sources ref
	shift
	prepare "$@" || return 1
	for kind in build runtime; do
		sources=()
		for arch in "$@"; do
			archive=$cache/$kind-$arch.tar
			digest=$(skopeo copy -q --dest-tls-verify=false --digestfile /dev/stdout "oci-archive:$archive" \
				"docker://$reg/base/bookworm-$kind:$arch") || return 1
			sources+=(--source "$reg/base/bookworm-$kind@$digest" --platform "linux/$arch")
		done
		ref=$reg/base/bookworm-$kind:1
		"$repo/bin/multiarch-controller" index --image "$ref" "${sources[@]}" --insecure-registry "$reg" >/dev/null ||
			{ env_log "cannot push the $kind base index to $reg"; return 1; }
		echo "$ref"
	done
}

case ${1:-} in
prepare) prepare "${@:2}" ;;
push) push "${2:?the registry}" "${@:3}" ;;
*)
	echo "usage: $0 prepare ARCH... | push REGISTRY ARCH..." >&2
	exit 2
	;;
esac
