#!/usr/bin/env bash
# Builds a tiny single-architecture OCI image (one file layer, FROM scratch) in an OCI layout with umoci.
# Usage: tests/env/make-image.sh LAYOUT_DIR TAG ARCH   prints the manifest digest (sha256:...)
set -euo pipefail
layout=$1 tag=$2 arch=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -d "$layout" ] || umoci init --layout "$layout"
umoci new --image "$layout:$tag"
printf 'hello from linux/%s\n' "$arch" >"$work/hello.txt"
umoci insert --image "$layout:$tag" "$work/hello.txt" /hello.txt
config_args=(--image "$layout:$tag" --os linux --architecture "$arch" --config.label "org.opencontainers.image.title=hello-$arch")
umoci config "${config_args[@]}" --config.cmd /hello.txt
umoci stat --image "$layout:$tag" >/dev/null
jq -r --arg tag "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $tag) | .digest' "$layout/index.json"
