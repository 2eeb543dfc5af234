#!/usr/bin/env bash
# The operator: deploy/ renders and is accepted by the API server, install.yaml is in sync, RBAC is least privilege
# (a golden `kubectl auth can-i --list`), and the whole flow runs with the controller authenticated as its
# ServiceAccount under that RBAC, while /healthz, /readyz, /metrics and the status page's websocket are checked.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh
# shellcheck source=tests/env/common.sh
. tests/env/common.sh

BIN=${MAC_CONTROLLER_BIN:-bin/multiarch-controller}
SA=system:serviceaccount:multiarch-system:multiarch-controller
work=$(mktemp -d)
cleanup() {
	[ -f "$work/ctl.pid" ] && kill "$(cat "$work/ctl.pid")" 2>/dev/null
	touch "$work/kubelet.stop"
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

echo "-- manifests"
out=$(tests/env/manifests.sh --check 2>&1)
expect_eq "deploy/crd.yaml and deploy/install.yaml are in sync (make manifests)" "" "$out"
# a server-side dry run creates nothing: the namespaced objects need their namespace to exist already
kubectl create namespace multiarch-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
out=$(kubectl apply --dry-run=server -k deploy/ 2>&1)
expect_no_match "kubectl apply --dry-run=server -k deploy/ passes" "error|Error|invalid" "$out"
expect_match "kubectl apply --dry-run=server -k deploy/ creates the Deployment" "deployment.apps/multiarch-controller created" "$out"
out=$(kubectl apply --dry-run=server -f deploy/install.yaml 2>&1)
expect_no_match "kubectl apply --dry-run=server -f deploy/install.yaml passes" "error|Error|invalid" "$out"
expect_eq "two replicas" "2" "$(sed -n 's/^  replicas: //p' deploy/deployment.yaml)"
rules=$(sed -n '/^rules:/,/^---/p' deploy/rbac.yaml)
expect_no_match "RBAC: no Secrets" "secrets" "$rules"
expect_no_match "RBAC: no wildcards" "\*" "$rules"
expect_no_match "RBAC: no escalate, bind or impersonate" "escalate|bind|impersonate" "$rules"

echo "-- RBAC as installed"
kubectl apply -f deploy/namespace.yaml -f deploy/serviceaccount.yaml -f deploy/rbac.yaml -f deploy/crd.yaml >/dev/null
kubectl get namespace operator-test >/dev/null 2>&1 || kubectl create namespace operator-test >/dev/null
{
	echo "# kubectl auth can-i --list --as=$SA -n <a build namespace>"
	kubectl auth can-i --list --as="$SA" -n operator-test
	echo "# kubectl auth can-i --list --as=$SA -n multiarch-system, leases only"
	kubectl auth can-i --list --as="$SA" -n multiarch-system | grep -i lease
} >"$work/can-i.txt"
[ "${MAC_UPDATE_GOLDEN:-}" = 1 ] && cp "$work/can-i.txt" tests/fixtures/rbac/can-i.txt
expect_eq "the controller's rights are exactly tests/fixtures/rbac/can-i.txt" "" "$(diff -u tests/fixtures/rbac/can-i.txt "$work/can-i.txt")"
expect_eq "the controller cannot read Secrets" "no" "$(kubectl auth can-i get secrets --as="$SA" -n operator-test)"
expect_eq "the controller cannot update its builds' specs" "no" "$(kubectl auth can-i update multiarchbuilds.multiarch.dev --as="$SA" -n operator-test)"

echo "-- the whole flow as the ServiceAccount"
token=$(kubectl create token multiarch-controller -n multiarch-system --duration=1h)
cat >"$work/sa.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$MAC_APISERVER", certificate-authority: "$MAC_CLUSTER_CA"}}]
users: [{name: sa, user: {token: "$token"}}]
contexts: [{name: sa, context: {cluster: local, user: sa}}]
current-context: sa
EOF
out=$("$BIN" doctor --kubeconfig "$work/sa.kubeconfig" --namespace multiarch-system 2>&1)
expect_match "doctor as the ServiceAccount: all permissions granted" "all 24 needed permissions granted" "$out"
expect_no_match "doctor as the ServiceAccount: it cannot read Secrets" "can read Secrets" "$out"
expect_match "doctor as the ServiceAccount: who it is" "system:serviceaccount:multiarch-system:multiarch-controller" "$out"
metrics_port=$(free_port) health_port=$(free_port)
tests/env/fake-kubelet.py --log "$work/kubelet.log" --stop-file "$work/kubelet.stop" --max-seconds 300 >"$work/kubelet.out" 2>&1 &
"$BIN" run --kubeconfig "$work/sa.kubeconfig" --config tests/env/policy-open.yaml --insecure-registry "$REGISTRY" --leader-election-namespace multiarch-system --namespace operator-test \
	--leader-election-id operator-test --metrics-addr "127.0.0.1:$metrics_port" --health-addr "127.0.0.1:$health_port" \
	--log-format json --log-level debug >"$work/ctl.log" 2>&1 &
echo $! >"$work/ctl.pid"
wait_for 20 curl -fsS "http://127.0.0.1:$health_port/readyz"
expect_match "/readyz: caches synced, leader" "^ready: caches synced; leader" "$(curl -sS "http://127.0.0.1:$health_port/readyz")"
expect_eq "/healthz: 200" "200" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$health_port/healthz")"
expect_eq "the health port serves no metrics" "404" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$health_port/metrics")"
tests/env/ws-client.py "ws://127.0.0.1:$metrics_port/ws" --protocol multiarch-status --count 20 --seconds 60 \
	--until '"name":"as-sa","phase":"Succeeded"'  >"$work/ws.out" 2>&1 &
ws=$!
sleep 1
apply_mab operator-test as-sa
if kubectl wait --for=condition=Ready mab/as-sa -n operator-test --timeout=60s >/dev/null 2>&1; then
	pass "a build reaches Ready with the controller as its ServiceAccount under RBAC"
else
	fail "a build reaches Ready as the ServiceAccount" "$(tail -20 "$work/ctl.log")"
fi
expect_no_match "no permission was refused" '"code":"403"|403 Forbidden|forbidden' "$(cat "$work/ctl.log")"
expect_match "logs are one JSON object per line with context" '^\{"time":"[^"]+","level":"info","msg":"[^"]+","build":"operator-test/as-sa","reason":"Succeeded"\}$' \
	"$(cat "$work/ctl.log")"

echo "-- metrics"
curl -sS "http://127.0.0.1:$metrics_port/metrics" >"$work/metrics.txt"
bad=$(grep -v '^#' "$work/metrics.txt" | grep -vE '^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$')
expect_eq "every /metrics sample parses as Prometheus text" "" "$bad"
for family in multiarch_reconciles_total multiarch_reconcile_errors_total multiarch_reconcile_duration_seconds multiarch_workqueue_depth \
	multiarch_workqueue_wait_seconds multiarch_api_requests_total multiarch_builds multiarch_platform_build_duration_seconds \
	multiarch_index_duration_seconds multiarch_events_written_total multiarch_events_pending multiarch_events_dropped_total multiarch_leader; do
	expect_match "/metrics has $family with HELP and TYPE" "^# TYPE $family (counter|gauge|histogram)$" "$(cat "$work/metrics.txt")"
done
expect_match "reconciles were counted" "^multiarch_reconciles_total [1-9]" "$(cat "$work/metrics.txt")"
expect_match "API requests by method and code" '^multiarch_api_requests_total\{method="POST",code="201"\} [1-9]' "$(cat "$work/metrics.txt")"
expect_match "Events were written by the event thread" "^multiarch_events_written_total [1-9]" "$(cat "$work/metrics.txt")"
expect_match "no Event was dropped" "^multiarch_events_dropped_total 0$" "$(cat "$work/metrics.txt")"
expect_match "the build counted as Succeeded" '^multiarch_builds\{phase="Succeeded"\} 1$' "$(cat "$work/metrics.txt")"
expect_match "platform build durations per platform" '^multiarch_platform_build_duration_seconds_count\{platform="linux/ppc64le"\} 1$' "$(cat "$work/metrics.txt")"
expect_match "the index duration" '^multiarch_index_duration_seconds_count 1$' "$(cat "$work/metrics.txt")"

echo "-- the status page"
expect_match "the status page is served" "<title>multiarch-controller</title>" "$(curl -sS "http://127.0.0.1:$metrics_port/")"
wait "$ws" 2>/dev/null
expect_match "the websocket sent a snapshot on connect" '^\{"builds":\[' "$(head -1 "$work/ws.out")"
expect_match "the websocket followed the build as it happened" '"name":"as-sa","phase":"Building"' "$(cat "$work/ws.out")"
expect_eq "the websocket sends a snapshot only when it changed" "" "$(sed 's/"time":"[^"]*"//' "$work/ws.out" | uniq -d)"
expect_match "the websocket saw it succeed" '"name":"as-sa","phase":"Succeeded"' "$(cat "$work/ws.out")"

echo "-- the status page in a headless Chromium, while a build runs"
mkdir -p build/results
tests/env/cdp-watch.py "http://127.0.0.1:$metrics_port/" --until $'operator-test/live\tSucceeded' --seconds 60 \
	--screenshot build/results/status-page.png >"$work/page.out" 2>"$work/page.err" &
page=$!
wait_for 30 grep -q 'as-sa' "$work/page.out"
apply_mab operator-test live
wait "$page"
expect_match "the page showed the finished build first" 'operator-test/as-sa\\tSucceeded' "$(grep -m1 as-sa "$work/page.out")"
expect_match "the page updated, without a reload, as the new build progressed" 'operator-test/live\\t(Pending|Building|Merging)' "$(cat "$work/page.out")"
expect_match "the page showed the new build succeed" 'operator-test/live\\tSucceeded' "$(tail -1 "$work/page.out")"
if [ -s build/results/status-page.png ]; then pass "a screenshot of the page: build/results/status-page.png"; else
	fail "a screenshot of the page" "$(cat "$work/page.err")"; fi

kill "$(cat "$work/ctl.pid")" 2>/dev/null
wait "$(cat "$work/ctl.pid")" 2>/dev/null
rm -f "$work/ctl.pid"
kubectl delete namespace operator-test --wait=false >/dev/null 2>&1
finish operator
