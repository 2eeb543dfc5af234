#!/usr/bin/env bash
# Bad input, end to end: a registry that answers in broken ways (tests/env/hostile-registry.py) against the index
# command, broken kubeconfigs against doctor, and resources the schema lets through against the running controller.
# Every case must end in a clear error (exit 1, a named cause) or a status the user can act on, within a time
# bound, with no sanitizer report: the binaries are the AddressSanitizer + UBSan build.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh

BIN=${MAC_CONTROLLER_BIN:-build/asan/bin/multiarch-controller}
export ASAN_OPTIONS="halt_on_error=1 exitcode=66"
work=$(mktemp -d)
plan=$work/plan.json
echo '{}' >"$plan"

cleanup() {
	for f in "$work"/*.pid; do
		[ -e "$f" ] || continue
		kill -KILL "$(cat "$f")" 2>/dev/null
	done
	touch "$work/kubelet.stop"
	[ -n "${HOSTILE_PID:-}" ] && kill "$HOSTILE_PID" 2>/dev/null
	wait 2>/dev/null
	kubectl delete namespace hostile hostile-gone --wait=false >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

# refused NAME SECONDS PATTERN CMD...: CMD exits 1 within SECONDS with a message matching PATTERN, and no sanitizer report
refused() {
	local name=$1 limit=$2 pattern=$3 out rc
	shift 3
	out=$(timeout "$limit" "$@" 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && grep -Eq -- "$pattern" <<<"$out" && ! grep -Eq "Sanitizer|runtime error" <<<"$out"; then
		pass "$name: $(grep -E -m1 -- "$pattern" <<<"$out" | cut -c1-160)"
	else
		fail "$name" "exit $rc (want 1 within ${limit}s), output:"$'\n'"$out"
	fi
}

echo "-- a registry that answers in broken ways: multiarch-controller index"
mkdir -p "$work/hostile-auth"
# a certificate for the hostile registry's TLS side (the target of location-downgrade)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$work/hostile.key" -out "$work/hostile.crt" >/dev/null 2>&1
coproc HOSTILE { exec tests/env/hostile-registry.py --lifetime 600 --tls-cert "$work/hostile.crt" --tls-key "$work/hostile.key"; }
read -r hostile_port hostile_tls_port <&"${HOSTILE[0]}"
H=127.0.0.1:$hostile_port
curl -fsS "http://$H/scenarios" | jq -r 'to_entries[] | .key + " " + .value' >"$work/scenarios"
# hostile_index SCENARIO PATTERN: the index command against that scenario's repository is refused with PATTERN
hostile_index() {
	local digest
	digest=$(awk -v s="$1" '$1 == s { print $2 }' "$work/scenarios")
	refused "registry $1" 60 "$2" "$BIN" index --image "$H/$1/app:idx" --source "$H/$1/app@$digest" --insecure-registry "$H" --retries 1
}
hostile_index oversized "larger than 4194304 bytes; the tag was not changed"
hostile_index truncated "manifest is not a JSON object"
hostile_index html "manifest is not a JSON object"
hostile_index empty "manifest is not a JSON object"
hostile_index config-not-json "image config is not a JSON object"
hostile_index config-huge "config blob is larger than 8388608 bytes"
hostile_index config-missing "config blob: the registry has no blob sha256:"
hostile_index index-too-many "index has 300 entries, more than 256"
hostile_index nested-index "is itself an index; nested indexes are not supported"
hostile_index negotiate "offers neither Basic nor Bearer"
hostile_index no-realm "Bearer challenge has no realm"
hostile_index token-html "token server of .* sent no usable token"
hostile_index token-empty "token server of .* sent no usable token"
hostile_index token-crlf "token server of .* sent a token with characters outside the token grammar"
# with credentials for the registry, a token realm on another host over plain HTTP gets nothing
printf '{"auths":{"%s":{"auth":"%s"}}}' "$H" "$(printf 'pusher:s3cret' | base64 -w0)" >"$work/hostile-auth/config.json"
digest=$(awk '$1 == "realm-elsewhere" { print $2 }' "$work/scenarios")
refused "registry realm-elsewhere" 60 "token realm is another host, 127.0.0.2:$hostile_port, over plain HTTP: credentials go to another host only over TLS; nothing was sent" \
	"$BIN" index --image "$H/realm-elsewhere/app:idx" --source "$H/realm-elsewhere/app@$digest" --insecure-registry "$H" --retries 1 \
	--docker-config "$work/hostile-auth"
hostile_index put-400 "HTTP 400 .*MANIFEST_INVALID.*the tag was not changed"
hostile_index redirect-loop "redirects followed"
hostile_index short-body "transfer closed with [0-9]+ bytes remaining"
hostile_index 500-html "answered 500 after 1 retries"
hostile_index push-silent "reading the index back .*HTTP 404; the index was pushed but could not be verified"
# the copy scenarios: the source on 127.0.0.2, another host, so its blobs are downloaded and uploaded to $H
O=127.0.0.2:$hostile_port
# copy_args SCENARIO: the index command's flags for that scenario, in the array copy
copy_args() {
	local digest
	digest=$(awk -v s="$1" '$1 == s { print $2 }' "$work/scenarios")
	copy=(index --image "$H/$1/app:idx" --source "$O/$1/app@$digest" --insecure-registry "$H" --insecure-registry "$O" --retries 0)
}
copy_args blob-oversized
refused "registry blob-oversized: a layer declared as 32 bytes sends 8 MiB" 30 \
	"blobs/sha256:[0-9a-f]+: the registry sent more than the 32 bytes the manifest declares; the transfer was stopped" \
	"$BIN" "${copy[@]}"
copy_args blob-drip
started=$(date +%s)
refused "registry blob-drip: a layer dripped at 2 KiB/s meets the total time bound" 20 \
	"blobs/sha256:[0-9a-f]+ failed after 0 retries: Operation timed out after 3[0-9]{3} milliseconds" \
	"$BIN" "${copy[@]}" --transfer-timeout 3s
expect_eq "blob-drip: stopped within 8 s of its start" 1 $(($(date +%s) - started <= 8))
expect_match "--transfer-timeout refuses NaN" "--transfer-timeout nan: want a duration" "$("$BIN" "${copy[@]}" --transfer-timeout nan 2>&1)"
digest=$(awk '$1 == "location-downgrade" { print $2 }' "$work/scenarios")
refused "registry location-downgrade: a TLS registry's plain-HTTP upload Location gets nothing" 30 \
	"registry 127.0.0.1:$hostile_tls_port is spoken to over TLS and sent a plain-HTTP Location; nothing was sent there" \
	"$BIN" index --image "127.0.0.1:$hostile_tls_port/location-downgrade/app:idx" --source "$O/location-downgrade/app@$digest" \
	--insecure-registry "$O" --ca-file "$work/hostile.crt" --retries 0
expect_eq "location-downgrade: nothing reached the plain-HTTP Location" 0 \
	"$(curl -fsS "http://$H/seen" | jq '[.[] | select(.[1] == "PUT" and (.[2] | contains("location-downgrade")))] | length')"
copy_args location-elsewhere
out=$("$BIN" "${copy[@]}" --docker-config "$work/hostile-auth" 2>&1)
expect_match "registry location-elsewhere: the copy through an upload Location on another host succeeds" "^sha256:[0-9a-f]{64}$" \
	"$(tail -1 <<<"$out")"
seen=$(curl -fsS "http://$H/seen")
expect_eq "location-elsewhere: the PUTs to the Location on 127.0.0.2 carried no Authorization" "2 0" \
	"$(jq -r '[.[] | select(.[0] == "127.0.0.2" and .[1] == "PUT" and (.[2] | contains("location-elsewhere")))] | "\(length) \([.[] | select(.[3])] | length)"' <<<"$seen")"
expect_eq "location-elsewhere: the registry's own host got the credentials" "true" \
	"$(jq -r '[.[] | select(.[0] == "127.0.0.1" and (.[2] | contains("location-elsewhere/app/manifests/idx")))] | all(.[3])' <<<"$seen")"
expect_eq "no broken registry got an index tag accepted but the one that lost it and the good copy" \
	'["push-silent:idx","location-elsewhere:sha256:'"$(awk '$1 == "location-elsewhere" { print $2 }' "$work/scenarios" | cut -d: -f2)"'","location-elsewhere:idx"]' \
	"$(curl -fsS "http://$H/accepted" | jq -c .)"

echo "-- broken kubeconfigs: multiarch-controller doctor"
printf '\x00\x01\x02binary garbage\xff' >"$work/garbage.yaml"
mkdir -p "$work/a-directory"
cat >"$work/exec-garbage.yaml" <<EOF
apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: "$MAC_APISERVER", certificate-authority: "$MAC_CLUSTER_DIR/pki/ca.crt"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/echo, args: ["{not json"]}}}]
EOF
sed 's|command: /bin/echo, args: \["{not json"\]|command: /nonexistent/credential-helper|' "$work/exec-garbage.yaml" >"$work/exec-missing.yaml"
sed 's|{exec: .*}}]|{tokenFile: /nonexistent/token}}]|' "$work/exec-garbage.yaml" >"$work/token-missing.yaml"
sed 's|{exec: .*}}]|{client-certificate: /nonexistent/c.crt, client-key: /nonexistent/c.key}}]|' "$work/exec-garbage.yaml" >"$work/cert-missing.yaml"
sed "s|server: \"$MAC_APISERVER\"|server: \"ht!tp://[::\"|" "$work/token-missing.yaml" >"$work/bad-url.yaml"
refused "kubeconfig: a file that does not exist" 10 "cannot read kubeconfig|nothing-here" "$BIN" doctor --kubeconfig "$work/nothing-here.yaml"
refused "kubeconfig: a directory" 10 "a-directory: Is a directory" "$BIN" doctor --kubeconfig "$work/a-directory"
refused "kubeconfig: binary garbage" 10 "garbage.yaml" "$BIN" doctor --kubeconfig "$work/garbage.yaml"
refused "kubeconfig: an exec plugin that prints garbage" 30 "credential plugin did not print an ExecCredential JSON object" "$BIN" doctor --kubeconfig "$work/exec-garbage.yaml"
refused "kubeconfig: an exec plugin that is not installed" 30 "cannot run the credential plugin /nonexistent/credential-helper" "$BIN" doctor --kubeconfig "$work/exec-missing.yaml"
refused "kubeconfig: a token file that does not exist" 30 "cannot read the token file /nonexistent/token" "$BIN" doctor --kubeconfig "$work/token-missing.yaml"
refused "kubeconfig: client certificate files that do not exist" 30 "/nonexistent/c\.(crt|key)" "$BIN" doctor --kubeconfig "$work/cert-missing.yaml"
refused "kubeconfig: a server URL that is not one" 30 "server|URL|url" "$BIN" doctor --kubeconfig "$work/bad-url.yaml"

echo "-- resources the schema lets through: the running controller"
kubectl apply -f crds/multiarch.dev_multiarchbuilds.yaml >/dev/null
kubectl wait --for condition=established crd/multiarchbuilds.multiarch.dev --timeout=30s >/dev/null
tests/env/fake-kubelet.py --binary "$BIN" --plan "$plan" --log "$work/kubelet.log" --stop-file "$work/kubelet.stop" --max-seconds 600 \
	>"$work/kubelet.out" 2>&1 &
echo $! >"$work/kubelet.pid"
"$BIN" run --config tests/env/policy-open.yaml --insecure-registry "$REGISTRY" --retry-backoff 1s --identity hostile --leader-election-id hostile --log-level debug \
	>"$work/ctl.log" 2>&1 &
echo $! >"$work/ctl.pid"
ready() { kubectl wait --for=condition=Ready "mab/$2" -n "$1" --timeout="${3:-60}s" >/dev/null 2>&1; }
field() { kubectl get mab "$2" -n "$1" -o jsonpath="$3" 2>/dev/null; }
# field_is NS NAME JSONPATH WANT: for wait_for, which runs its command again each time
field_is() { [ "$(field "$1" "$2" "$3")" = "$4" ]; }
# bound NS POD: the pod exists and the scheduler bound it
bound() { [ -n "$(kubectl get pod -n "$1" "$2" -o jsonpath='{.spec.nodeName}' 2>/dev/null)" ]; }
has_pods() { [ -n "$(kubectl get pods -n "$1" -o name 2>/dev/null)" ]; }

apply_mab hostile no-386 '"linux/riscv64", "linux/386"' '  policy: {missingNodes: Fail}'
wait_for 30 field_is hostile no-386 '{.status.phase}' Failed
expect_eq "a platform no node can build, policy Fail: Failed, Stalled/NoMatchingNodes" "Failed True/NoMatchingNodes" \
	"$(field hostile no-386 '{.status.phase} {.status.conditions[?(@.type=="Stalled")].status}/{.status.conditions[?(@.type=="Stalled")].reason}')"
expect_match "a platform no node can build: the message names it" "linux/386" "$(field hostile no-386 '{.status.message}')"
expect_eq "a platform no node can build: no 386 pod created" "" "$(kubectl get pods -n hostile -l multiarch.dev/build=no-386,multiarch.dev/platform=linux-386 -o name)"

printf '{"hostile/bad-digest/linux-ppc64le/1": "bad-digest"}\n' >"$plan"
apply_mab hostile bad-digest
if ready hostile bad-digest; then pass "a termination message that is not a digest: retried, then Ready"; else
	fail "a termination message that is not a digest: Ready" "$(kubectl get mab bad-digest -n hostile -o yaml | tail -30)"; fi
expect_eq "a termination message that is not a digest: 2 attempts" "2" "$(field hostile bad-digest '{.status.platforms[?(@.platform=="linux/ppc64le")].attempts}')"
expect_match "a termination message that is not a digest: the event says why" "not a digest|no digest|digest" \
	"$(kubectl get events -n hostile --field-selector involvedObject.name=bad-digest -o jsonpath='{range .items[*]}{.message}{"\n"}{end}')"

printf '{"hostile/pod-deleted/linux-ppc64le/1": "hang"}\n' >"$plan"
apply_mab hostile pod-deleted
wait_for 30 bound hostile pod-deleted-g1-linux-ppc64le-a1
kubectl delete pod -n hostile pod-deleted-g1-linux-ppc64le-a1 --wait=false >/dev/null
if ready hostile pod-deleted; then pass "a build pod deleted by a user mid-build: a new attempt, then Ready"; else
	fail "a build pod deleted mid-build: Ready" "$(kubectl get mab,pods -n hostile)"; fi

kubectl run foreign -n hostile --image=example.invalid/foreign:1 --labels=multiarch.dev/build=foreign,multiarch.dev/role=build,multiarch.dev/generation=1,multiarch.dev/platform=linux-riscv64,multiarch.dev/attempt=1 \
	--overrides='{"spec":{"nodeSelector":{"kubernetes.io/arch":"s390x"}}}' >/dev/null 2>&1
apply_mab hostile foreign
if ready hostile foreign; then pass "a pod that carries the controller's labels but no owner: ignored, the build is Ready"; else
	fail "a foreign pod with our labels: the build is Ready" "$(kubectl get mab,pods -n hostile)"; fi
expect_eq "the foreign pod is left alone" "foreign" "$(kubectl get pod foreign -n hostile -o jsonpath='{.metadata.name}' 2>/dev/null)"

printf '{"hostile/recreated/linux-ppc64le/1": "hang"}\n' >"$plan"
apply_mab hostile recreated
wait_for 30 bound hostile recreated-g1-linux-ppc64le-a1
old_uid=$(kubectl get mab recreated -n hostile -o jsonpath='{.metadata.uid}')
kubectl delete mab recreated -n hostile --wait=false >/dev/null
printf '{}\n' >"$plan"
apply_mab hostile recreated
if ready hostile recreated 90; then pass "a build deleted and created again under the same name mid-build: the new one is Ready"; else
	fail "deleted and recreated: Ready" "$(kubectl get mab,pods -n hostile -o wide; tail -5 "$work/ctl.log")"; fi
new_uid=$(kubectl get mab recreated -n hostile -o jsonpath='{.metadata.uid}')
# old_children NEW_UID: build pods and Jobs of the name owned by another uid (index pods belong to their Jobs)
old_children() {
	{ kubectl get jobs -n hostile -l multiarch.dev/build=recreated -o json; kubectl get pods -n hostile -l multiarch.dev/build=recreated,multiarch.dev/role=build -o json; } |
		jq -r --arg u "$1" '.items[] | select(.metadata.ownerReferences[0].uid != $u) | .metadata.name'
}
no_old_children() { [ -z "$(old_children "$1")" ]; }
expect_match "deleted and recreated: the new build's status names only its own pods" "^recreated-g1-linux-(riscv64|ppc64le)-a[0-9]+( recreated-g1-linux-(riscv64|ppc64le)-a[0-9]+)*$" \
	"$(kubectl get pods -n hostile -l multiarch.dev/build=recreated,multiarch.dev/role=build -o json | jq -r --arg u "$new_uid" '[.items[] | select(.metadata.ownerReferences[0].uid == $u) | .metadata.name] | join(" ")')"
# the garbage collector removes the old build's children; none was adopted by the new one meanwhile
wait_for 60 no_old_children "$new_uid"
expect_eq "deleted and recreated: the old build's ($old_uid) children were collected, none adopted" "" "$(old_children "$new_uid")"

# created, not applied: kubectl apply's last-applied annotation would exceed the 256 KiB annotation limit
{
	printf 'apiVersion: multiarch.dev/v1alpha1\nkind: MultiArchBuild\nmetadata: {name: largest, namespace: hostile}\nspec:\n'
	printf '  image: %s/hostile/largest:1.0\n  platforms: [linux/riscv64, linux/ppc64le]\n' "$REGISTRY"
	printf '  source: {git: {url: https://git.example.com/team/largest.git}}\n  buildArgs:\n'
	for i in $(seq 1 64); do printf '    - {name: ARG_%d, value: "%s"}\n' "$i" "$(head -c 4096 /dev/zero | tr '\0' 'x')"; done
} >"$work/largest.yaml"
kubectl create -f "$work/largest.yaml" >/dev/null
if ready hostile largest; then pass "the largest spec the schema allows (64 build args of 4,096 bytes): Ready"; else
	fail "the largest spec: Ready" "$(kubectl get mab largest -n hostile -o yaml | tail -20; tail -5 "$work/ctl.log")"; fi

kubectl apply -f - >/dev/null <<EOF
apiVersion: multiarch.dev/v1alpha1
kind: MultiArchBuild
metadata: {name: nowhere, namespace: hostile}
spec:
  image: registry.invalid/team/nowhere:1
  platforms: [linux/riscv64]
  source: {git: {url: https://git.example.com/team/nowhere.git}}
  policy: {retries: 0}
EOF
if kubectl wait --for=condition=Stalled mab/nowhere -n hostile --timeout=60s >/dev/null 2>&1; then
	pass "an image on a registry that does not resolve: Stalled"; else fail "a registry that does not resolve: Stalled" "$(kubectl get mab nowhere -n hostile -o yaml | tail -20)"; fi
expect_match "a registry that does not resolve: the platform's message carries the push error" "registry.invalid|lookup|resolve|no such host" \
	"$(field hostile nowhere '{.status.platforms[0].message}')"

apply_mab hostile churn
for i in 1 2 3 4 5; do
	kubectl patch mab churn -n hostile --type=merge -p "{\"spec\":{\"rebuildRequest\":\"r$i\"}}" >/dev/null
done
generation=$(kubectl get mab churn -n hostile -o jsonpath='{.metadata.generation}')
if wait_for 60 field_is hostile churn '{.status.observedGeneration}/{.status.phase}' "$generation/Succeeded"; then
	pass "five spec changes in a row: the last generation ($generation) is built"; else
	fail "five spec changes in a row: the last generation built" "$(field hostile churn '{.status.observedGeneration}/{.status.phase}') want $generation"; fi

printf '{"hostile-gone/doomed/linux-ppc64le/*": "hang"}\n' >"$plan"
apply_mab hostile-gone doomed
wait_for 30 has_pods hostile-gone
kubectl delete namespace hostile-gone --wait=false >/dev/null
apply_mab hostile after-namespace
if ready hostile after-namespace; then pass "a namespace deleted mid-build: the controller goes on with other builds"; else
	fail "a namespace deleted mid-build: other builds go on" "$(tail -10 "$work/ctl.log")"; fi

kubectl delete jobs,pods -n hostile -l multiarch.dev/build=bad-digest --wait=true >/dev/null 2>&1
sleep 3
expect_eq "children of a finished build deleted by a user: nothing recreated, still Ready" "/True" \
	"$(kubectl get pods,jobs -n hostile -l multiarch.dev/build=bad-digest -o name | tr -d '\n')/$(field hostile bad-digest '{.status.conditions[?(@.type=="Ready")].status}')"

pid=$(cat "$work/ctl.pid")
kill -TERM "$pid"
wait "$pid"
expect_eq "the controller stops cleanly afterwards (exit 0: no leak, no sanitizer report)" "0" "$?"
rm -f "$work/ctl.pid"
expect_no_match "no sanitizer report in the controller's or the index runs' logs" "Sanitizer|runtime error" "$(cat "$work/ctl.log" "$work/kubelet.log")"
finish hostile
