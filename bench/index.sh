#!/usr/bin/env bash
# Index assembly, side by side: multiarch-controller index against docker manifest, buildah manifest, crane index
# append and regctl index create, each given the same already-pushed per-arch images, on a local plain-HTTP
# registry, a TLS + basic-auth one, and the plain one behind a proxy that makes it BENCH_RTT_MS away; requests
# are counted at a logging proxy. Prints a table and writes CSV for the plots.
#
# Usage: bench/index.sh            BENCH_RUNS (default 20) merges per tool, size and registry; BENCH_SIZES "2 4 8";
#                                  BENCH_RTT_MS (default 20)
# Output: build/bench/index.csv (tool,registry,platforms,run,seconds), build/bench/index-requests.csv, index.md
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-20}
SIZES=${BENCH_SIZES:-"2 4 8"}
ALL_PLATFORMS=(linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v6 linux/ppc64le linux/s390x linux/riscv64 linux/386)
out=build/bench
mkdir -p "$out"
export PATH=/usr/local/go/bin:$PATH
peers=$(bench/peers.sh)
export MAC_CLUSTER_DIR=$PWD/.local/bench
mkdir -p "$MAC_CLUSTER_DIR"
work=$(mktemp -d)
certs_d=()
cleanup() {
	tests/env/registry.sh stop bench-plain >/dev/null 2>&1 || true
	tests/env/registry.sh stop bench-tls >/dev/null 2>&1 || true
	[ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null
	[ -n "${far_pid:-}" ] && kill "$far_pid" 2>/dev/null
	[ ${#certs_d[@]} -eq 0 ] || rm -rf "${certs_d[@]}"
	rm -rf "$work"
}
trap cleanup EXIT

plain=$(tests/env/registry.sh start plain bench-plain)
tls=$(tests/env/registry.sh start basic-tls bench-tls)
# shellcheck disable=SC1091
. "$MAC_CLUSTER_DIR/registry-bench-tls/env"
# the counting proxy forwards to the plain registry, so every tool's requests are counted the same way
coproc PROXY { exec tests/env/fault-proxy.py --upstream "$plain" --log "$work/proxy.log" --lifetime 7200; }
read -r proxy_port <&"${PROXY[0]}"
counted=127.0.0.1:$proxy_port
# a registry BENCH_RTT_MS (default 20) away: every request to the plain registry waits that long first
tests/env/fault-proxy.py --upstream "$plain" --delay-ms "${BENCH_RTT_MS:-20}" --lifetime 7200 >"$work/far.port" &
far_pid=$!
until [ -s "$work/far.port" ]; do sleep 0.1; done
remote=127.0.0.1:$(head -n1 "$work/far.port")

# credentials for the TLS registry, in the form each tool reads; none for the proxy
mkdir -p "$work/docker" "$work/docker-anon"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$tls" "$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASSWORD" | base64 -w0)" >"$work/docker/config.json"
echo '{}' >"$work/docker-anon/config.json"
certs_d=(/etc/docker/certs.d/"$tls") # where the docker CLI looks for a registry's CA
for d in "${certs_d[@]}" "$work/buildah-certs"; do
	mkdir -p "$d"
	cp "$REGISTRY_CA" "$d/ca.crt"
done
export HOME=$work/home # regctl keeps its registry settings under $HOME
mkdir -p "$HOME"
"$peers/regctl" registry set "$plain" --tls disabled >/dev/null
"$peers/regctl" registry set "$counted" --tls disabled >/dev/null
"$peers/regctl" registry set "$remote" --tls disabled >/dev/null
# regctl pings the registry when set, which fails until the login below: the setting is kept all the same
"$peers/regctl" registry set "$tls" --cacert "$(cat "$REGISTRY_CA")" >/dev/null 2>&1 || true
"$peers/regctl" registry login "$tls" -u "$REGISTRY_USER" -p "$REGISTRY_PASSWORD" >/dev/null 2>&1

# the per-arch images, pushed once per registry (the proxy serves the plain registry's)
python3 bench/push-images.py "$plain" bench/app "${ALL_PLATFORMS[@]}" >"$work/digests-plain"
cp "$work/digests-plain" "$work/digests-counted"
cp "$work/digests-plain" "$work/digests-remote"
python3 bench/push-images.py "$tls" bench/app "${ALL_PLATFORMS[@]}" --tls --cafile "$REGISTRY_CA" --user "$REGISTRY_USER" \
	--password "$REGISTRY_PASSWORD" >"$work/digests-tls"

# host_of KIND: the registry a kind of run talks to
host_of() {
	case $1 in
	plain) echo "$plain" ;;
	tls) echo "$tls" ;;
	counted) echo "$counted" ;;
	remote) echo "$remote" ;;
	esac
}

# supported TOOL KIND: whether the tool can talk to that kind of registry at all
supported() {
	# docker manifest push speaks plain HTTP to any registry on a loopback address (docker/cli#1951), so a TLS one
	# on loopback resets the connection
	! [ "$1" = docker ] || [ "$2" != tls ]
}

# merge TOOL KIND N TAG: one index of the first N platforms, pushed to HOST/bench/app:TAG
merge() {
	local tool=$1 kind=$2 n=$3 tag=$4 refs=() d host
	host=$(host_of "$kind")
	while read -r _ d; do refs+=("$host/bench/app@$d"); done < <(head -n "$n" "$work/digests-$kind")
	local target=$host/bench/app:$tag
	case $tool in
	multiarch-controller)
		local args=()
		for d in "${refs[@]}"; do args+=(--source "$d"); done
		if [ "$kind" = tls ]; then args+=(--ca-file "$REGISTRY_CA" --docker-config "$work/docker"); else args+=(--insecure-registry "$host"); fi
		bin/multiarch-controller index --image "$target" "${args[@]}" >/dev/null 2>&1
		;;
	docker)
		DOCKER_CONFIG=$work/docker-anon docker manifest create --insecure "$target" "${refs[@]}" >/dev/null
		DOCKER_CONFIG=$work/docker-anon docker manifest push --insecure --purge "$target" >/dev/null
		;;
	buildah)
		local tls_flags=(--tls-verify=false)
		[ "$kind" = tls ] && tls_flags=(--cert-dir "$work/buildah-certs" --creds "$REGISTRY_USER:$REGISTRY_PASSWORD")
		buildah manifest create "bench-$tag" >/dev/null
		for d in "${refs[@]}"; do buildah manifest add "${tls_flags[@]}" "bench-$tag" "docker://$d" >/dev/null; done
		buildah manifest push "${tls_flags[@]}" --all=false "bench-$tag" "docker://$target" >/dev/null 2>&1
		buildah manifest rm "bench-$tag" >/dev/null
		;;
	crane)
		local args=()
		for d in "${refs[@]}"; do args+=(-m "$d"); done
		if [ "$kind" = tls ]; then
			SSL_CERT_FILE=$REGISTRY_CA DOCKER_CONFIG=$work/docker "$peers/crane" index append -t "$target" "${args[@]}" >/dev/null 2>&1
		else
			DOCKER_CONFIG=$work/docker-anon "$peers/crane" index append --insecure -t "$target" "${args[@]}" >/dev/null 2>&1
		fi
		;;
	regctl)
		local args=()
		for d in "${refs[@]}"; do args+=(--ref "$d"); done
		"$peers/regctl" index create "$target" "${args[@]}" >/dev/null 2>&1
		;;
	esac
}

# platforms_at KIND TAG: how many platforms the index at the tag holds (read with skopeo)
platforms_at() {
	local flags=(--tls-verify=false) host
	host=$(host_of "$1")
	[ "$1" = tls ] && flags=(--cert-dir "$work/buildah-certs" --creds "$REGISTRY_USER:$REGISTRY_PASSWORD")
	skopeo inspect --raw "${flags[@]}" "docker://$host/bench/app:$2" | jq '[.manifests[] | select(.platform.os != "unknown")] | length'
}

tools=(multiarch-controller docker buildah crane regctl)
echo "tool,registry,platforms,run,seconds" >"$out/index.csv"
echo "tool,platforms,requests,get,head,put,post,patch" >"$out/index-requests.csv"
for n in $SIZES; do
	for tool in "${tools[@]}"; do
		# one counted merge through the proxy, checked for the right platforms
		: >"$work/proxy.log"
		merge "$tool" counted "$n" "count-$tool-$n"
		cp "$work/proxy.log" "$out/requests-$tool-$n.log" # before the check below adds its own requests
		got=$(platforms_at counted "count-$tool-$n")
		[ "$got" = "$n" ] || { echo "bench: $tool made an index of $got platforms, not $n" >&2; exit 1; }
		log=$out/requests-$tool-$n.log
		echo "$tool,$n,$(wc -l <"$log"),$(for m in GET HEAD PUT POST PATCH; do grep -c "^$m " "$log"; done | paste -sd,)" >>"$out/index-requests.csv"
		for kind in plain tls remote; do
			supported "$tool" "$kind" || continue
			for run in $(seq 1 "$RUNS"); do
				start=$(date +%s%N)
				merge "$tool" "$kind" "$n" "r-$tool-$n-$run"
				end=$(date +%s%N)
				echo "$tool,$kind,$n,$run,$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')" >>"$out/index.csv"
			done
			[ "$(platforms_at "$kind" "r-$tool-$n-$RUNS")" = "$n" ] || { echo "bench: $tool on $kind: wrong index" >&2; exit 1; }
		done
		echo "bench: $tool, $n platforms done" >&2
	done
done
python3 bench/summarize.py index "$out/index.csv" "$out/index-requests.csv" >"$out/index.md"
cat "$out/index.md"
