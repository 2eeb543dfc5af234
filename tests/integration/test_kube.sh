#!/usr/bin/env bash
# kube/ against the real API server: CRUD, 1,200 objects in pages of 500, typed errors, server-side apply,
# the status subresource, a reflector that survives a forced 410 and an apiserver restart without losing an event,
# leases, events, and doctor with token, client-certificate and exec-plugin kubeconfigs.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

probe=build/asan/tests/integration/kube-probe
bin=bin/multiarch-controller
ns=kube-test-$RANDOM
work=$(mktemp -d)
bg=""
trap '[ -z "$bg" ] || kill $bg 2>/dev/null; kubectl delete namespace "$ns" "$ns-watch" --wait=false >/dev/null 2>&1; rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

kubectl create namespace "$ns" >/dev/null
fact() { sed -n "s/^$1=//p" "$2" | tail -n1; }

# --- CRUD, pagination and typed errors
$probe configmaps "$ns" 1200 >"$work/crud" 2>"$work/crud.err"
expect_eq "the probe ran clean under the sanitizers" "0 " "$? $(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$work/crud.err" | head -n1)"
expect_eq "1,200 ConfigMaps created" 1200 "$(fact created "$work/crud")"
expect_eq "LIST in pages of 500: 3 pages, 1,200 items, a resourceVersion" "OK items=1200 pages=3 rv_set=yes" "$(fact list "$work/crud")"
expect_eq "creating an existing object: CONFLICT AlreadyExists" "CONFLICT code=409 reason=AlreadyExists" "$(fact create_existing "$work/crud")"
expect_eq "an invalid object: UNPROCESSABLE Invalid" "UNPROCESSABLE code=422 reason=Invalid" "$(fact create_invalid "$work/crud")"
expect_eq "merge patch" "OK v=patched" "$(fact merge_patch "$work/crud")"
expect_eq "server-side apply, and applying it again changes nothing" "OK OK unchanged_rv=yes" "$(fact apply "$work/crud")"
expect_eq "delete with a wrong uid precondition: CONFLICT" "CONFLICT code=409" "$(fact delete_wrong_uid "$work/crud")"
expect_eq "delete with the right uid" OK "$(fact delete_right_uid "$work/crud")"
expect_eq "a deleted object: NOT_FOUND" "NOT_FOUND code=404 reason=NotFound" "$(fact get_deleted "$work/crud")"
expect_match "path segments are escaped" "NOT_FOUND path=/api/v1/namespaces/$ns/configmaps/..%2F..%2Fsecrets%2Fx" "$(fact escaped_name "$work/crud")"
expect_eq "kubectl sees the patched value" patched "$(kubectl get configmap cm-0001 -n "$ns" -o jsonpath='{.data.v}')"
expect_eq "kubectl sees the apply's field manager" kube-probe \
	"$(kubectl get configmap applied -n "$ns" -o json --show-managed-fields | jq -r '.metadata.managedFields[0].manager')"

# --- one transfer loop: 32 threads writing at once share a connection (HTTP/2 streams), many requests in flight
$probe parallel "$ns" 32 10 >"$work/parallel" 2>"$work/parallel.err"
expect_eq "320 ConfigMaps created by 32 threads at once, under the sanitizers" "0 320" \
	"$? $(fact parallel "$work/parallel" | sed -n 's/^created=\([0-9]*\) .*/\1/p')"
expect_match "the 320 requests went over at most 2 connections to the API server" " connections=[12] " "$(fact parallel "$work/parallel")"
expect_match "with at least 8 of them in flight together on it (peak in flight)" " peak=([89]|[1-9][0-9]+)$" \
	"$(fact parallel "$work/parallel")"

# --- bounded lists: a page over the body cap is asked for again with fewer items; a list that never ends is stopped
KUBE_PROBE_BODY_MAX=65536 $probe list "/api/v1/namespaces/$ns/configmaps?labelSelector=probe%3Dyes" >"$work/small-pages" 2>&1
expect_match "pages over a 64 KiB cap are asked for again with fewer items: every item, more pages" \
	"^OK items=$(kubectl get configmaps -n "$ns" -l probe=yes -o name | wc -l) pages=([4-9]|[1-9][0-9])$" "$(fact list "$work/small-pages")"
KUBE_PROBE_BODY_MAX=200 $probe list "/api/v1/namespaces/$ns/configmaps?labelSelector=probe%3Dyes" >"$work/tiny-pages" 2>&1
expect_match "one object over the cap: a clear error, no loop" "the answer is larger than 200 bytes" "$(fact list_error "$work/tiny-pages")"
coproc ENDLESS { exec tests/env/endless-list.py --lifetime 120; }
read -r endless_port <&"${ENDLESS[0]}"
cat >"$work/endless.kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: e
clusters: [{name: e, cluster: {server: "http://127.0.0.1:$endless_port"}}]
contexts: [{name: e, context: {cluster: e, user: u}}]
users: [{name: u, user: {token: t}}]
EOF
KUBECONFIG=$work/endless.kubeconfig timeout 60 $probe list /api/v1/namespaces/x/configmaps/same >"$work/same" 2>&1
expect_match "a continue token that repeats: stopped at once" "^TOO_LONG items=2 pages=2$" "$(fact list "$work/same")"
expect_match "... and says why" "the list would never end" "$(fact list_error "$work/same")"
KUBECONFIG=$work/endless.kubeconfig KUBE_PROBE_LIST_PAGES_MAX=300 timeout 60 $probe list /api/v1/namespaces/x/configmaps/growing \
	>"$work/growing" 2>&1
expect_match "a list whose continue never ends: stopped at the page cap (300 here, 20,000 by default)" \
	"^TOO_LONG items=300 pages=300$" "$(fact list "$work/growing")"
kill "$ENDLESS_PID" 2>/dev/null

# --- the status subresource
kubectl apply -f crds/ >/dev/null
sed "s/name: hello/name: probe-build/" examples/two-arch.yaml | kubectl apply -n "$ns" -f - >/dev/null
$probe status "$ns" probe-build >"$work/status" 2>&1
expect_eq "a status written through the status subresource" OK "$(fact status_patch "$work/status")"
expect_eq "kubectl reads it back" Building "$(kubectl get mab probe-build -n "$ns" -o jsonpath='{.status.phase}')"

# --- a reflector: forced 410 (a resourceVersion far too old), then an apiserver restart mid-stream; it runs 60 s,
# which the restart, 60 creates, a patch and a delete must fit in on a loaded machine (30 s did not, once)
# (a namespace of its own: deleting the 1,200 ConfigMaps above one by one would take minutes)
rns=$ns-watch
kubectl create namespace "$rns" >/dev/null
$probe reflect "$rns" 60 1 >"$work/reflect" 2>"$work/reflect.err" &
bg=$!
sleep 3
for i in $(seq 1 30); do kubectl create configmap "before-$i" -n "$rns" --from-literal=v="$i" >/dev/null; done
tests/env/cluster-ctl.sh restart kube-apiserver >/dev/null 2>&1
for i in $(seq 1 30); do kubectl create configmap "after-$i" -n "$rns" --from-literal=v="$i" >/dev/null; done
kubectl patch configmap before-1 -n "$rns" --type=merge -p '{"data":{"v":"changed"}}' >/dev/null
kubectl delete configmap before-2 -n "$rns" >/dev/null
wait $bg
bg=""
expect_match "the stale resourceVersion got 410 and a relist" "gone=[1-9]" "$(fact reflector "$work/reflect")"
expect_match "the reflector watched again after the restart" "watches=([2-9]|[1-9][0-9])" "$(fact reflector "$work/reflect")"
missing=""
for i in $(seq 1 30); do
	grep -q "^event=ADDED before-$i$" "$work/reflect" || missing="$missing before-$i"
	grep -q "^event=ADDED after-$i$" "$work/reflect" || missing="$missing after-$i"
done
expect_eq "no ADDED event lost across the restart (60 objects)" "" "$missing"
expect_match "the MODIFIED event after the restart arrived" "^event=MODIFIED before-1$" "$(cat "$work/reflect")"
expect_match "the DELETED event after the restart arrived" "^event=DELETED before-2$" "$(cat "$work/reflect")"
expect_eq "the reflector ran clean under the sanitizers" "" "$(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$work/reflect.err")"

# --- an informer: synced from a list, then kept current by the watch, reporting each change
ins="probe-informer"
kubectl create namespace "$ins" >/dev/null
for i in 1 2 3; do kubectl create configmap "pre-$i" -n "$ins" --from-literal=v="$i" >/dev/null; done
kubectl create configmap changed -n "$ins" --from-literal=v=old >/dev/null
$probe informer "$ins" 12 >"$work/informer" 2>"$work/informer.err" &
bg=$!
sleep 3
kubectl patch configmap changed -n "$ins" --type=merge -p '{"data":{"v":"new"}}' >/dev/null
kubectl delete configmap pre-1 -n "$ins" >/dev/null
kubectl create configmap later -n "$ins" --from-literal=v=x >/dev/null
wait $bg
bg=""
expect_match "the informer synced with everything listed" "^yes store=(5|4)$" "$(fact synced "$work/informer")"
expect_eq "the store follows the watch: one deleted, one added, one changed" "len=5 changed_v=new" "$(fact store "$work/informer")"
expect_eq "cached objects carry no managedFields" yes "$(fact managed_fields_trimmed "$work/informer")"
expect_match "every change reached the handler" "changes=([7-9]|[1-9][0-9]) deletions=1" "$(fact informer "$work/informer")"
expect_match "the deletion was reported by key" "^change=deleted $ins/pre-1$" "$(cat "$work/informer")"
expect_eq "the informer ran clean under the sanitizers" "" "$(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$work/informer.err")"
kubectl delete namespace "$ins" --wait=false >/dev/null

# --- leases: one holder at a time, released for a fast takeover
lease() { $probe lease "$ns" probe-lease "$1" "$2" 2>&1 | sed -n 's/^\(lease\|release\)=//p'; }
expect_match "the first candidate acquires the lease" "^OK held=yes holder=replica-a" "$(lease replica-a try)"
expect_match "the second waits while it is valid" "^OK held=no holder=replica-a" "$(lease replica-b try)"
expect_match "the holder renews it" "^OK held=yes holder=replica-a" "$(lease replica-a try)"
expect_eq "the holder releases it" OK "$(lease replica-a release)"
expect_match "the second takes it over at once, counting a transition" "^OK held=yes holder=replica-b transitions=1" "$(lease replica-b try)"

# --- events
$probe event "$ns" cm-0000 >"$work/event" 2>&1
expect_eq "an event is recorded" OK "$(fact event "$work/event")"
expect_match "kubectl shows the event" "ProbeTested.*the kube client recorded this event" \
	"$(kubectl get events.events.k8s.io -n "$ns" -o jsonpath='{range .items[*]}{.reason} {.note}{"\n"}{end}')"

# --- doctor with three kinds of credentials
out=$($bin doctor 2>&1)
expect_eq "doctor with the admin client certificate: exit 0" 0 "$?"
expect_match "doctor reports the server version" "server: .*Kubernetes v1\\.35" "$out"
expect_match "doctor reports who we are" "identity: +mac-admin \\(groups: system:masters" "$out"
expect_match "doctor reports the CRD" "crd: +multiarchbuilds.multiarch.dev/v1alpha1 is served" "$out"
count() { kubectl get nodes -l "kubernetes.io/arch=$1" --no-headers | wc -l; }
expect_match "doctor reports nodes per architecture" "amd64: $(count amd64) ready of $(count amd64), arm64: $(count arm64) ready of $(count arm64)" "$out"

kubectl create serviceaccount doctor -n "$ns" >/dev/null
kubectl create clusterrole "mac-doctor-$ns" --verb=get,list,watch,patch --resource=multiarchbuilds.multiarch.dev \
	>/dev/null
kubectl create clusterrolebinding "mac-doctor-$ns" --clusterrole="mac-doctor-$ns" --serviceaccount="$ns:doctor" >/dev/null
token=$(kubectl create token doctor -n "$ns" --duration=10m)
server=$MAC_APISERVER
# kubeconfig FILE USER_YAML: a kubeconfig for the test cluster whose one user is USER_YAML (indented under "user:")
kubeconfig() {
	cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "$server", certificate-authority: "$MAC_CLUSTER_CA"}
users:
- name: u
  user:
$2
contexts:
- name: x
  context: {cluster: c, user: u, namespace: $ns}
current-context: x
KC
}
kubeconfig "$work/token.kubeconfig" "    token: \"$token\""
out=$($bin doctor --kubeconfig "$work/token.kubeconfig" 2>&1)
expect_eq "doctor with a limited token: exit 1" 1 "$?"
expect_match "doctor with a token knows the service account" "identity: +system:serviceaccount:$ns:doctor" "$out"
expect_match "doctor lists what is missing" "missing: +create pods in all namespaces" "$out"
expect_no_match "doctor does not list what is granted" "missing: +get multiarchbuilds" "$out"
expect_no_match "the token is never printed" "$token" "$out"

kubectl create clusterrole "mac-doctor-full-$ns" --verb='*' --resource=multiarchbuilds.multiarch.dev,multiarchbuilds.multiarch.dev/status,multiarchbuilds.multiarch.dev/finalizers,pods,jobs.batch,configmaps,nodes,events.events.k8s.io,leases.coordination.k8s.io,tokenreviews.authentication.k8s.io,subjectaccessreviews.authorization.k8s.io >/dev/null
kubectl create clusterrolebinding "mac-doctor-full-$ns" --clusterrole="mac-doctor-full-$ns" --serviceaccount="$ns:doctor" >/dev/null
cat >"$work/plugin.sh" <<PLUGIN
#!/bin/sh
# an exec credential plugin: prints the service account token as an ExecCredential
echo "called" >>"$work/plugin-calls"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}' "$token"
PLUGIN
chmod +x "$work/plugin.sh"
kubeconfig "$work/exec.kubeconfig" "    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./plugin.sh
      interactiveMode: Never"
out=$($bin doctor --kubeconfig "$work/exec.kubeconfig" 2>&1)
expect_eq "doctor through an exec plugin (relative command) with full rights: exit 0" 0 "$?"
expect_match "doctor through an exec plugin: all permissions granted" "all 26 needed permissions granted" "$out"
expect_eq "the plugin ran once, its credential cached until it expires" 1 "$(wc -l <"$work/plugin-calls")"
sed -i 's/command: .\/plugin.sh/command: .\/no-such-plugin\n      installHint: install the plugin from the team wiki/' "$work/exec.kubeconfig"
out=$($bin doctor --kubeconfig "$work/exec.kubeconfig" 2>&1)
expect_match "a missing plugin: its install hint is shown" "cannot run the credential plugin .*no-such-plugin.*install the plugin from the team wiki" "$out"
out=$($bin doctor --kubeconfig "$work/nothing.kubeconfig" 2>&1)
expect_eq "a missing kubeconfig: exit 1" 1 "$?"
expect_match "a missing kubeconfig: named" "cannot read kubeconfig $work/nothing.kubeconfig" "$out"
# --- tls-server-name: the name verified is the configured one, not the address connected to
for name in kubernetes.default.svc wrong.example.com; do
	sed "s|certificate-authority: \"$MAC_CLUSTER_CA\"}|certificate-authority: \"$MAC_CLUSTER_CA\", tls-server-name: $name}|" \
		"$work/token.kubeconfig" >"$work/tls-$name.kubeconfig"
done
out=$($bin doctor --kubeconfig "$work/tls-kubernetes.default.svc.kubeconfig" 2>&1)
expect_match "tls-server-name in the certificate: connects" "server: .*Kubernetes v1\\.35" "$out"
out=$($bin doctor --kubeconfig "$work/tls-wrong.example.com.kubeconfig" 2>&1)
expect_match "tls-server-name not in the certificate: refused" "not reachable: .*(certificate|SSL)" "$out"

# --- a tokenFile is read again when it changes (a rotated projected token)
printf '%s\n' "$token" >"$work/token-file"
kubeconfig "$work/tokenfile.kubeconfig" "    tokenFile: token-file"
KUBECONFIG="$work/tokenfile.kubeconfig" $probe get-every "/apis/multiarch.dev/v1alpha1/multiarchbuilds" 3 2 >"$work/rotate" 2>&1 &
rot=$!
sleep 1
printf 'revoked-token\n' >"$work/token-file"
sleep 2
printf '%s\n' "$token" >"$work/token-file"
wait $rot
expect_eq "a rotated token file is picked up on the next request" "OK UNAUTHORIZED OK" \
	"$(fact get1 "$work/rotate") $(fact get2 "$work/rotate") $(fact get3 "$work/rotate")"

kubectl delete clusterrolebinding "mac-doctor-$ns" "mac-doctor-full-$ns" >/dev/null
kubectl delete clusterrole "mac-doctor-$ns" "mac-doctor-full-$ns" >/dev/null

finish integration-kube
