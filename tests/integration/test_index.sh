#!/usr/bin/env bash
# multiarch-controller index against real registries (Debian's docker-registry): plain HTTP, TLS + basic auth,
# a fault-injecting proxy; checked with skopeo and docker manifest inspect.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

bin=bin/multiarch-controller
work=$(mktemp -d)
proxy_pid=""
stop_proxy() { [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null; proxy_pid=""; }
trap 'stop_proxy; tests/env/registry.sh stop idx-tls >/dev/null 2>&1; tests/env/registry.sh stop idx-token >/dev/null 2>&1; rm -rf "$work"' EXIT
R=$REGISTRY
fresh=never-pushed-$RANDOM

# push LAYOUT_TAG DEST: copies an image of the test OCI layout to the registry
push() { skopeo copy --quiet --dest-tls-verify=false "oci:$work/layout:$1" "docker://$2" >/dev/null; }
# index ARGS...: runs the index command; sets out, err, rc
index() { out=$("$bin" index "$@" 2>"$work/stderr"); rc=$?; err=$(cat "$work/stderr"); }
# tag_digest REF: the digest the tag names now ("" when absent)
tag_digest() { skopeo inspect --raw --tls-verify=false "docker://$1" 2>/dev/null | sha256sum | awk '{print "sha256:" $1}'; }

amd=$(tests/env/make-image.sh "$work/layout" amd64 amd64)
arm=$(tests/env/make-image.sh "$work/layout" arm64 arm64)
amd2=$(tests/env/make-image.sh "$work/layout" amd64-other amd64)
push amd64 "$R/idx/app:build-amd64"
push arm64 "$R/idx/app:build-arm64"
push amd64-other "$R/idx/app:build-amd64-other"

# --- the basic merge
index --image "$R/idx/app:1.0" --source "$R/idx/app@$amd" --source "$R/idx/app@$arm" --insecure-registry "$R" \
	--digest-file "$work/digest" --annotation org.opencontainers.image.source=https://git.example.com/app
expect_eq "index exits 0" 0 "$rc"
digest=$(printf '%s\n' "$out" | tail -n1)
expect_match "the last stdout line is the index digest" "^sha256:[0-9a-f]{64}$" "$digest"
expect_eq "--digest-file holds the same digest" "$digest" "$(cat "$work/digest")"
skopeo inspect --raw --tls-verify=false "docker://$R/idx/app:1.0" >"$work/index.json"
expect_eq "the tag names exactly the pushed index" "$digest" "sha256:$(sha256sum <"$work/index.json" | cut -d' ' -f1)"
expect_eq "it is an OCI image index" application/vnd.oci.image.index.v1+json "$(jq -r .mediaType "$work/index.json")"
expect_eq "it has exactly the two platforms, each pointing at its own child" \
	"linux/amd64=$amd linux/arm64=$arm" \
	"$(jq -r '.manifests[] | "\(.platform.os)/\(.platform.architecture)=\(.digest)"' "$work/index.json" | xargs)"
expect_eq "children keep their exact media type and size" "application/vnd.oci.image.manifest.v1+json 345" \
	"$(jq -r '.manifests[0] | "\(.mediaType) \(.size)"' "$work/index.json")"
expect_eq "the annotation is in the index" https://git.example.com/app \
	"$(jq -r '.annotations["org.opencontainers.image.source"]' "$work/index.json")"
expect_match "it reports each platform and the verification" "linux/arm64 <- .*verified" "$(tr '\n' ' ' <<<"$err")"
expect_match "it reads nothing but manifests and configs: 6 requests" "index: 6 registry requests" "$err"

# --- real clients resolve each platform to its own child
for arch in arm64 amd64; do
	skopeo copy --quiet --src-tls-verify=false --override-arch "$arch" "docker://$R/idx/app:1.0" "oci:$work/pulled-$arch:x" >/dev/null
	want=$arm
	[ "$arch" = amd64 ] && want=$amd
	expect_eq "skopeo copy --override-arch $arch pulls the $arch child" "$want" \
		"$(jq -r '.manifests[0].digest' "$work/pulled-$arch/index.json")"
done
if docker manifest inspect --help >/dev/null 2>&1; then
	out_docker=$(docker manifest inspect --insecure "$R/idx/app:1.0" 2>&1)
	expect_eq "docker manifest inspect reads both platforms" "amd64 arm64" \
		"$(jq -r '.manifests[].platform.architecture' <<<"$out_docker" 2>/dev/null | sort | xargs)"
else
	fail "docker manifest inspect reads both platforms" "the docker CLI is not installed"
fi

# --- idempotent
index --image "$R/idx/app:1.0" --source "$R/idx/app@$amd" --source "$R/idx/app@$arm" --insecure-registry "$R" \
	--annotation org.opencontainers.image.source=https://git.example.com/app
expect_eq "running it again gives the same digest" "$digest" "$(tail -n1 <<<"$out")"
expect_eq "and the tag still names it" "$digest" "$(tag_digest "$R/idx/app:1.0")"

# --- refusals: clear message, exit 1, the tag untouched
index --image "$R/idx/app:1.0" --source "$R/idx/app@$amd" --source "$R/idx/app@$amd2" --insecure-registry "$R"
expect_eq "two sources for one platform: exit 1" 1 "$rc"
expect_match "two sources for one platform: named" "two sources are linux/amd64: .*$amd.* and .*$amd2.*the tag was not changed" "$err"
index --image "$R/idx/app:1.0" --source "$R/idx/app@$amd" --platform linux/arm64 --source "$R/idx/app@$arm" --insecure-registry "$R"
expect_eq "a source that is not the platform asked: exit 1" 1 "$rc"
expect_match "a source that is not the platform asked: named" "is linux/amd64, not linux/arm64 as asked" "$err"
index --image "$R/idx/app:plain" --source "$R/idx/app@$amd" --platform linux/amd64 --source "$R/idx/app@$arm" --platform linux/arm64/v8 \
	--insecure-registry "$R"
expect_eq "arm64/v8 asked, arm64 found: the same platform" 0 "$rc"
plain_digest=$(tail -n1 <<<"$out")
missing=sha256:$(printf 'nothing' | sha256sum | cut -d' ' -f1)
index --image "$R/idx/app:1.0" --source "$R/idx/app@$amd" --source "$R/idx/app@$missing" --insecure-registry "$R"
expect_eq "a missing manifest: exit 1" 1 "$rc"
expect_match "a missing manifest: named" "has no manifest $missing" "$err"
index --image "$R/idx/app:1.0" --source "$R/idx/app@$amd" --source "$R/idx/app@$arm"
expect_eq "plain HTTP without --insecure-registry: exit 1" 1 "$rc"
expect_eq "after every refusal the tag still names the good index" "$digest" "$(tag_digest "$R/idx/app:1.0")"

# --- a source in another repository: its children are mounted into the target first
index --image "$R/idx/final:1.0" --source "$R/idx/app@$amd" --source "$R/idx/app@$arm" --insecure-registry "$R"
expect_eq "cross-repository sources: exit 0" 0 "$rc"
expect_match "cross-repository sources are copied" "copied .*idx/app@$arm into .*idx/final" "$err"
expect_match "on the same registry the blobs are mounted, not copied" "2 manifests copied .*4 blobs mounted, 0 blobs copied" "$err"
expect_eq "the arm64 child now lives in the target repository" "$arm" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$R/idx/final@$arm" | sha256sum | awk '{print "sha256:" $1}')"
expect_eq "and the same index digest as in the source repository" "$digest" \
	"$("$bin" index --image "$R/idx/final:1.0" --source "$R/idx/app@$amd" --source "$R/idx/app@$arm" --insecure-registry "$R" \
		--annotation org.opencontainers.image.source=https://git.example.com/app 2>/dev/null | tail -n1)"

# --- a BuildKit-style source: an index with an attestation manifest, kept with its annotations
# upload REPO FILE: pushes a blob (monolithic upload), prints its digest
upload() {
	local d loc
	d=sha256:$(sha256sum <"$2" | cut -d' ' -f1)
	loc=$(curl -fsS -o /dev/null -D - -X POST "http://$R/v2/$1/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	case $loc in http*) ;; *) loc="http://$R$loc" ;; esac
	curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" "$loc&digest=$d" >/dev/null
	echo "$d"
}
push amd64 "$R/idx/bk:amd64"
printf '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2"}' >"$work/statement"
printf '{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}' >"$work/att-config"
st=$(upload idx/bk "$work/statement")
cfg=$(upload idx/bk "$work/att-config")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.in-toto+json","digest":"%s","size":%d,"annotations":{"in-toto.io/predicate-type":"https://slsa.dev/provenance/v0.2"}}]}' \
	"$cfg" "$(stat -c %s "$work/att-config")" "$st" "$(stat -c %s "$work/statement")" >"$work/att-manifest"
att=sha256:$(sha256sum <"$work/att-manifest" | cut -d' ' -f1)
curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$work/att-manifest" \
	"http://$R/v2/idx/bk/manifests/$att" >/dev/null
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":345,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"annotations":{"vnd.docker.reference.digest":"%s","vnd.docker.reference.type":"attestation-manifest"},"platform":{"architecture":"unknown","os":"unknown"}}]}' \
	"$amd" "$att" "$(stat -c %s "$work/att-manifest")" "$amd" >"$work/bk-index"
bk=sha256:$(sha256sum <"$work/bk-index" | cut -d' ' -f1)
curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' --data-binary "@$work/bk-index" \
	"http://$R/v2/idx/bk/manifests/amd64-with-provenance" >/dev/null
for repo in idx/bk idx/bk-copy; do
	index --image "$R/$repo:2.0" --source "$R/idx/bk@$bk" --source "$R/idx/app@$arm" --insecure-registry "$R"
	expect_eq "an index source with an attestation ($repo): exit 0" 0 "$rc"
	skopeo inspect --raw --tls-verify=false "docker://$R/$repo:2.0" >"$work/bk-out.json"
	expect_eq "the attestation entry is kept byte for byte ($repo)" "$(jq -c '.manifests[1]' "$work/bk-index")" \
		"$(jq -c '.manifests[] | select(.annotations["vnd.docker.reference.type"] == "attestation-manifest")' "$work/bk-out.json")"
	expect_eq "platforms and attestation in order ($repo)" "linux/amd64 unknown/unknown linux/arm64" \
		"$(jq -r '.manifests[] | "\(.platform.os)/\(.platform.architecture)"' "$work/bk-out.json" | xargs)"
done
expect_eq "the attestation's in-toto blob was copied into the other repository" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -I "http://$R/v2/idx/bk-copy/blobs/$st")"

# --- TLS from a private CA and basic auth, credentials from a docker config
tls=$(tests/env/registry.sh start basic-tls idx-tls)
. "$MAC_CLUSTER_DIR/registry-idx-tls/env"
mkdir -p "$work/certs" "$work/docker"
cp "$REGISTRY_CA" "$work/certs/ca.crt"
for a in amd64 arm64; do
	skopeo copy --quiet --dest-cert-dir "$work/certs" --dest-creds "$REGISTRY_USER:$REGISTRY_PASSWORD" "oci:$work/layout:$a" \
		"docker://$tls/secure/app:build-$a" >/dev/null
done
printf '{"auths":{"%s":{"auth":"%s"}}}' "$tls" "$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASSWORD" | base64 -w0)" >"$work/docker/config.json"
index --image "$tls/secure/app:1.0" --source "$tls/secure/app@$amd" --source "$tls/secure/app@$arm" \
	--docker-config "$work/docker" --ca-file "$REGISTRY_CA"
expect_eq "TLS + basic auth from a docker config: exit 0" 0 "$rc"
expect_eq "TLS + basic auth: the same index digest as on the plain registry" "$plain_digest" "$(tail -n1 <<<"$out")"
expect_no_match "the password never appears in the output" "$REGISTRY_PASSWORD" "$out$err"
expect_eq "skopeo reads the index with the same credentials" 2 \
	"$(skopeo inspect --raw --cert-dir "$work/certs" --creds "$REGISTRY_USER:$REGISTRY_PASSWORD" "docker://$tls/secure/app:1.0" | jq '.manifests | length')"
# sources on another registry: nothing to mount from, so every blob is downloaded, checked and uploaded
index --image "$tls/secure/copied:1.0" --source "$R/idx/app@$amd" --source "$R/idx/app@$arm" --insecure-registry "$R" \
	--docker-config "$work/docker" --ca-file "$REGISTRY_CA"
expect_eq "sources on another registry: exit 0" 0 "$rc"
expect_match "sources on another registry: blobs copied, none mounted" "2 manifests copied .*0 blobs mounted, 4 blobs copied" "$err"
expect_eq "the copied children are in the target registry, byte for byte" "$arm" \
	"$(skopeo inspect --raw --cert-dir "$work/certs" --creds "$REGISTRY_USER:$REGISTRY_PASSWORD" "docker://$tls/secure/copied@$arm" |
		sha256sum | awk '{print "sha256:" $1}')"
expect_eq "and a pull of the copied index works end to end" "linux/arm64" \
	"$(skopeo inspect --config --override-arch arm64 --cert-dir "$work/certs" --creds "$REGISTRY_USER:$REGISTRY_PASSWORD" \
		"docker://$tls/secure/copied:1.0" | jq -r '.os + "/" + .architecture')"
index --image "$tls/secure/app:1.0" --source "$tls/secure/app@$amd" --ca-file "$REGISTRY_CA"
expect_eq "no credentials: exit 1" 1 "$rc"
expect_match "no credentials: says a login is needed" "requires a login.*--docker-config" "$err"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$tls" "$(printf '%s:wrong-password' "$REGISTRY_USER" | base64 -w0)" >"$work/docker/config.json"
index --image "$tls/secure/app:1.0" --source "$tls/secure/app@$amd" --docker-config "$work/docker" --ca-file "$REGISTRY_CA"
expect_match "wrong password: refused" "refused the credentials" "$err"
expect_no_match "wrong password: not printed" "wrong-password" "$out$err"
index --image "$tls/secure/app:1.0" --source "$tls/secure/app@$amd"
expect_match "an unknown CA: the TLS error is named" "certificate" "$err"
# the system's CAs come from OpenSSL's hashed directory (SSL_CERT_DIR when set): a CA placed there is trusted
mkdir -p "$work/system-cas"
cp "$REGISTRY_CA" "$work/system-cas/registry-ca.pem"
openssl rehash "$work/system-cas"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$tls" "$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASSWORD" | base64 -w0)" >"$work/docker/config.json"
out=$(SSL_CERT_DIR=$work/system-cas "$bin" index --image "$tls/secure/app:sysca" --source "$tls/secure/app@$amd" \
	--docker-config "$work/docker" 2>&1)
expect_match "a CA in the hashed system directory is trusted without --ca-file" "read back and verified" "$out"
# a credential helper of the test's own holds the credentials (credHelpers), as docker-credential-ecr-login would
mkdir -p "$work/helpers"
cat >"$work/helpers/docker-credential-idx" <<HELPER
#!/bin/sh
[ "\$1" = get ] || exit 3
read -r host
[ "\$host" = "$tls" ] || { echo "credentials not found in native keychain"; exit 1; }
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\\n' "\$host" "$REGISTRY_USER" "$REGISTRY_PASSWORD"
HELPER
printf '#!/bin/sh\necho "token service unreachable" >&2\nexit 4\n' >"$work/helpers/docker-credential-down"
chmod +x "$work/helpers/"*
printf '{"credHelpers":{"%s":"idx"},"auths":{"%s":{"auth":"%s"}}}' "$tls" "$tls" "$(printf '%s:wrong-password' "$REGISTRY_USER" | base64 -w0)" \
	>"$work/docker/config.json"
out=$(PATH=$work/helpers:$PATH "$bin" index --image "$tls/secure/app:helper" --source "$tls/secure/app@$amd" \
	--docker-config "$work/docker" --ca-file "$REGISTRY_CA" 2>&1)
expect_match "credentials from a credential helper (credHelpers, before auths)" "read back and verified" "$out"
expect_no_match "the helper's secret is never printed" "$REGISTRY_PASSWORD" "$out"
printf '{"credsStore":"down"}' >"$work/docker/config.json"
out=$(PATH=$work/helpers:$PATH "$bin" index --image "$tls/secure/app:helper" --source "$tls/secure/app@$amd" \
	--docker-config "$work/docker" --ca-file "$REGISTRY_CA" 2>&1)
expect_match "a failing credential store is named with its words" \
	"credential helper docker-credential-down failed for $tls \\(exit status 4\\): token service unreachable" "$out"

# --- token auth: bearer tokens from the registry's token server, per scope, cached, and from an identity token
tok=$(tests/env/registry.sh start token idx-token)
. "$MAC_CLUSTER_DIR/registry-idx-token/env"
for a in amd64 arm64; do
	skopeo copy --quiet --dest-tls-verify=false --dest-creds "$REGISTRY_USER:$REGISTRY_PASSWORD" "oci:$work/layout:$a" \
		"docker://$tok/tok/app:build-$a" >/dev/null
done
printf '{"auths":{"%s":{"auth":"%s"}}}' "$tok" "$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASSWORD" | base64 -w0)" >"$work/docker/config.json"
: >"$REGISTRY_TOKEN_LOG"
index --image "$tok/tok/app:1.0" --source "$tok/tok/app@$amd" --source "$tok/tok/app@$arm" --insecure-registry "$tok" \
	--docker-config "$work/docker"
expect_eq "token auth with a password: exit 0" 0 "$rc"
expect_eq "token auth: the same index as on the plain registry" "$plain_digest" "$(tail -n1 <<<"$out")"
expect_eq "token auth: one token per scope, each reused (pull for sources, pull,push for the tag)" \
	"GET repository:tok/app:pull 200|GET repository:tok/app:pull,push 200" "$(paste -sd'|' "$REGISTRY_TOKEN_LOG")"
printf '{"auths":{"%s":{"identitytoken":"%s"}}}' "$tok" "$REGISTRY_REFRESH_TOKEN" >"$work/docker/config.json"
: >"$REGISTRY_TOKEN_LOG"
index --image "$tok/tok/app:1.0" --source "$tok/tok/app@$amd" --source "$tok/tok/app@$arm" --insecure-registry "$tok" \
	--docker-config "$work/docker"
expect_eq "token auth with an identity token (refresh grant): exit 0" 0 "$rc"
expect_match "the identity token is used in a POST refresh grant" "^POST repository:tok/app:pull 200" "$(cat "$REGISTRY_TOKEN_LOG")"
expect_no_match "the identity token is never printed" "$REGISTRY_REFRESH_TOKEN" "$out$err"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$tok" "$(printf '%s:nope' "$REGISTRY_USER" | base64 -w0)" >"$work/docker/config.json"
index --image "$tok/tok/app:1.0" --source "$tok/tok/app@$amd" --insecure-registry "$tok" --docker-config "$work/docker"
expect_match "token auth with a wrong password: the token server's refusal is named" "token server of .* refused our credentials" "$err"
tests/env/registry.sh stop idx-token

# --- faults between us and the registry: retried within budget, or a clean failure with nothing pushed
# start_proxy FAULTS: a fault proxy in front of the plain registry; sets P (its address)
start_proxy() {
	stop_proxy
	: >"$work/proxy.log"
	coproc PROXY { exec tests/env/fault-proxy.py --upstream "$R" --faults "$1" --log "$work/proxy.log" --lifetime 120; }
	proxy_pid=$PROXY_PID
	read -r port <&"${PROXY[0]}"
	P=127.0.0.1:$port
}
start_proxy "503x2@/manifests/,429x2@/blobs/,resetx2@/manifests/,slowx1"
index --image "$P/idx/app:1.0" --source "$P/idx/app@$amd" --source "$P/idx/app@$arm" --insecure-registry "$P" \
	--annotation org.opencontainers.image.source=https://git.example.com/app
expect_eq "503s, 429s with Retry-After and resets are retried: exit 0" 0 "$rc"
expect_eq "and give the same index" "$digest" "$(tail -n1 <<<"$out")"
expect_eq "every injected fault was met" "2 2 2" \
	"$(grep -c ' 503$' "$work/proxy.log") $(grep -c ' 429$' "$work/proxy.log") $(grep -c ' reset$' "$work/proxy.log")"
start_proxy "503x100@/manifests/"
index --image "$P/idx/app:$fresh" --source "$P/idx/app@$amd" --insecure-registry "$P" --retries 2
expect_eq "a registry that keeps failing: exit 1" 1 "$rc"
expect_match "a registry that keeps failing: says so" "answered 503 after 2 retries" "$err"
expect_eq "a registry that keeps failing: 3 tries, no more" 3 "$(grep -c ' 503$' "$work/proxy.log")"
expect_eq "a registry that keeps failing: nothing pushed" "" "$(skopeo inspect --raw --tls-verify=false "docker://$R/idx/app:$fresh" 2>/dev/null)"
start_proxy "corruptx1@/manifests/sha256"
index --image "$P/idx/app:$fresh" --source "$P/idx/app@$amd" --insecure-registry "$P"
expect_eq "a manifest that does not match its digest: exit 1" 1 "$rc"
expect_match "a manifest that does not match its digest: named" "sent content whose digest is sha256:[0-9a-f]+, not $amd" "$err"
expect_eq "a corrupted source: nothing pushed" "" "$(skopeo inspect --raw --tls-verify=false "docker://$R/idx/app:$fresh" 2>/dev/null)"
# the sources' manifests, then their configs, are each read at once: four configs held 2 s each by the proxy take
# about 2 s together, not 8 (the margin is wide so a busy machine does not decide it)
ppc=$(tests/env/make-image.sh "$work/layout" ppc64le ppc64le)
s390=$(tests/env/make-image.sh "$work/layout" s390x s390x)
push ppc64le "$R/idx/app:build-ppc64le"
push s390x "$R/idx/app:build-s390x"
start_proxy "slowx4@/blobs/"
started=$SECONDS
index --image "$P/idx/app:four" --source "$P/idx/app@$amd" --source "$P/idx/app@$arm" --source "$P/idx/app@$ppc" \
	--source "$P/idx/app@$s390" --insecure-registry "$P"
took=$((SECONDS - started))
expect_eq "four sources behind a slow registry: exit 0" 0 "$rc"
expect_eq "four sources: every config was held back" 4 "$(grep -c ' slow:200$' "$work/proxy.log")"
if [ "$took" -lt 6 ]; then pass "four slow configs were read at once (${took}s, one by one would be 8s)"; else
	fail "four slow configs were read at once" "took ${took}s"; fi
expect_match "four sources: still two requests a source, one PUT and one read-back" "index: 10 registry requests" "$err"
expect_eq "four sources: the index lists them in the order given" "amd64 arm64 ppc64le s390x" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$R/idx/app:four" | jq -r '[.manifests[].platform.architecture] | join(" ")')"
start_proxy "corruptx1@/manifests/$fresh"
index --image "$P/idx/app:$fresh" --source "$P/idx/app@$amd" --insecure-registry "$P"
expect_eq "a read-back that differs from what was pushed: exit 1" 1 "$rc"
expect_match "a read-back that differs: named" "read back .* differs from the one pushed.*pushed but could not be verified" "$err"
stop_proxy

finish integration-index
