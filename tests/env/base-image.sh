#!/usr/bin/env bash
# Makes the Debian bookworm base images the Dockerfile starts FROM (debian:bookworm, debian:bookworm-slim) without
# pulling anything: debootstrap from the machine's own Debian mirror, then `docker import`. Skips what exists.
set -euo pipefail
mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
if docker image inspect debian:bookworm >/dev/null 2>&1 && docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
	exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
echo "base-image: debootstrap bookworm (minbase) from $mirror" >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# apt inside the image uses the same mirror; no caches, no docs
printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
	"$mirror" >"$root/etc/apt/sources.list.d/debian.sources"
rm -f "$root/etc/apt/sources.list"
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* "$root/usr/share/doc/"* "$root/usr/share/man/"*
tar -C "$root" -c . | docker import --change 'CMD ["/bin/bash"]' - debian:bookworm >/dev/null
docker tag debian:bookworm debian:bookworm-slim
echo "base-image: imported debian:bookworm and debian:bookworm-slim" >&2
