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
	[ -f "$work/prometheus.pid" ] && kill "$(cat "$work/prometheus.pid")" 2>/dev/null
	touch "$work/kubelet.stop" "$work/kubelet2.stop"
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

echo "-- manifests"
out=$(tests/env/manifests.sh --check 2>&1)
expect_eq "deploy/crd.yaml, the install.yaml files and deploy/monitoring/prometheusrule.yaml are in sync (make manifests)" "" "$out"
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
expect_match "doctor as the ServiceAccount: all permissions granted" "all 26 needed permissions granted" "$out"
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
expect_match "logs are one JSON object per line: a constant message, the facts as fields" \
	'^\{"time":"[^"]+","level":"info","msg":"event","namespace":"operator-test","build":"as-sa","reason":"Succeeded","note":"[^"]+"\}$' \
	"$(cat "$work/ctl.log")"
if out=$(python3 tests/env/log-check.py --format json "$work/ctl.log" --need namespace=event --need build=event --need reason=event \
	--need builds="caches synced" --need lease="became the leader"); then
	pass "every JSON log line parses, with the fields each message names"
else
	fail "every JSON log line parses, with the fields each message names" "$out"
fi
expect_match "... and the messages are constant (no build's name or number in them)" "^lines=[0-9]+ messages=([1-9]|1[0-9])$" "$(head -n1 <<<"$out")"

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
expect_match "builds finished, by result and backend" '^multiarch_builds_finished_total\{result="Succeeded",backend="buildkit"\} 1$' \
	"$(cat "$work/metrics.txt")"
out=$(promtool check metrics <"$work/metrics.txt" 2>&1)
expect_eq "promtool check metrics finds nothing to say (names, units, HELP, TYPE)" "" "$out"
expect_match "controller-runtime's reconcile total, by result" \
	'^controller_runtime_reconcile_total\{controller="multiarchbuild",result="success"\} [1-9]' "$(cat "$work/metrics.txt")"
for family in controller_runtime_reconcile_errors_total controller_runtime_reconcile_time_seconds workqueue_depth \
	workqueue_queue_duration_seconds workqueue_adds_total workqueue_retries_total workqueue_work_duration_seconds \
	rest_client_requests_total leader_election_master_status multiarch_build_info \
	process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes process_start_time_seconds \
	process_open_fds process_max_fds; do
	expect_match "/metrics has $family, as Prometheus conventions name it" "^# TYPE $family (counter|gauge|histogram)$" \
		"$(cat "$work/metrics.txt")"
done
expect_match "workqueue_adds_total counts the keys added" '^workqueue_adds_total\{name="multiarchbuild"\} [1-9]' "$(cat "$work/metrics.txt")"
expect_match "workqueue_work_duration_seconds observed every reconcile" \
	"^workqueue_work_duration_seconds_count\\{name=\"multiarchbuild\"\\} $(sed -n 's/^controller_runtime_reconcile_time_seconds_count{controller="multiarchbuild"} //p' "$work/metrics.txt")\$" \
	"$(cat "$work/metrics.txt")"
rss=$(sed -n 's/^process_resident_memory_bytes //p' "$work/metrics.txt")
proc_rss=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$(cat "$work/ctl.pid")/status")
expect_eq "process_resident_memory_bytes is the process's own (within 8 MiB of /proc's VmRSS)" 1 \
	"$(awk -v a="$rss" -v b="$proc_rss" 'BEGIN { d = a - b; if (d < 0) d = -d; print (a > 0 && d < 8388608) ? 1 : 0 }')"
expect_match "the build info names this version" "^multiarch_build_info\{version=\"$(cat VERSION)\",commit=\"[0-9a-f]+\"\} 1$" \
	"$(cat "$work/metrics.txt")"

echo "-- alerts and dashboard"
out=$(promtool check rules deploy/monitoring/alerts.rules.yaml 2>&1)
expect_match "promtool check rules: the alert rules are valid" "SUCCESS: 5 rules found" "$out"
out=$(cd tests/monitoring && promtool test rules alerts_test.yaml 2>&1)
expect_match "promtool test rules: each alert fires after its 'for' on the series that mean it, and not on healthy ones" \
	"SUCCESS" "$out"
# every series the alerts and the dashboard query is one this controller exports (a histogram by its _bucket)
queried=$( { jq -r '.panels[].targets[].expr' deploy/monitoring/dashboard.json; sed -n 's/^ *expr: //p' deploy/monitoring/alerts.rules.yaml; } |
	grep -oE '\b(multiarch|controller_runtime|workqueue|rest_client|leader_election|process)_[a-z_]+' | sed -E 's/_(bucket|sum|count)$//' | sort -u)
missing=$(for m in $queried; do grep -q "^# TYPE $m " "$work/metrics.txt" || echo "$m"; done)
expect_eq "every series the dashboard and the alerts query exists in /metrics ($(echo "$queried" | wc -w) names)" "" "$missing"
expect_eq "the dashboard is valid JSON with 12 panels" "12" "$(jq '.panels | length' deploy/monitoring/dashboard.json)"

echo "-- a real Prometheus scrapes the controller"
prom_port=$(free_port)
printf 'global: {scrape_interval: 1s}\nscrape_configs: [{job_name: multiarch-controller, static_configs: [{targets: ["127.0.0.1:%s"]}]}]\n' \
	"$metrics_port" >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom-data" \
	--web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
echo $! >"$work/prometheus.pid"
prom_query() { curl -sf "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'; }
scraped() { [ "$(prom_query 'up{job="multiarch-controller"}')" = 1 ]; }
wait_for 30 scraped
expect_eq "Prometheus scrapes /metrics: up is 1" "1" "$(prom_query 'up{job="multiarch-controller"}')"
expect_match "and reads the reconciles by result" "^[1-9][0-9]*$" \
	"$(prom_query 'controller_runtime_reconcile_total{controller="multiarchbuild",result="success"}')"
expect_eq "and the leader status" "1" "$(prom_query 'leader_election_master_status{name="operator-test"}')"
kill "$(cat "$work/prometheus.pid")" 2>/dev/null
wait "$(cat "$work/prometheus.pid")" 2>/dev/null
rm -f "$work/prometheus.pid"

echo "-- the status port's bounds: 200 websocket clients that never read, beside one that does"
tests/env/ws-client.py "ws://127.0.0.1:$metrics_port/ws" --protocol multiarch-status --count 1000 --seconds 40 \
	--until '"name":"flood-5","phase":"Succeeded"' >"$work/ws-reader.out" 2>"$work/ws-reader.err" &
reader=$!
wait_for 20 test -s "$work/ws-reader.out"
tests/env/ws-flood.py "ws://127.0.0.1:$metrics_port/ws" --clients 200 --seconds 25 --ready-file "$work/flood.ready" \
	>"$work/flood.out" 2>&1 &
flood=$!
wait_for 60 test -e "$work/flood.ready"
for i in 1 2 3 4 5; do apply_mab operator-test "flood-$i"; done
sleep 8
rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$(cat "$work/ctl.pid")/status")
healthz_ms=0
for _ in 1 2 3 4 5; do
	ms=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$health_port/healthz" | awk '{ printf "%d", $1 * 1000 }')
	[ "$ms" -gt "$healthz_ms" ] && healthz_ms=$ms
done
wait "$flood"
expect_match "at most 32 websocket clients are taken (the reader and 31), the other 169 refused" "^upgraded=31 refused=169 " \
	"$(cat "$work/flood.out")"
expect_match "the 31 that never read were dropped once they were 10 s behind" " closed_by_server=31$" "$(cat "$work/flood.out")"
wait "$reader"
expect_eq "the client that reads was never dropped" "" "$(cat "$work/ws-reader.err")"
expect_match "and followed the builds to the end" '"name":"flood-5","phase":"Succeeded"' "$(tail -1 "$work/ws-reader.out")"
expect_eq "with them connected, the controller's RSS stays under 64 MiB (it was $((rss_kib / 1024)) MiB)" 1 $((rss_kib < 65536))
expect_eq "and /healthz answers within 100 ms (slowest of 5: $healthz_ms ms)" 1 $((healthz_ms < 100))
expect_match "the status page still serves once they are gone" "<title>multiarch-controller</title>" \
	"$(curl -sS "http://127.0.0.1:$metrics_port/")"

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

echo "-- the namespaced install: rights in the build namespaces only"
for ns in builds builds-second builds-outside; do
	kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
done
out=$(kubectl apply --dry-run=server -f deploy/namespaced/install.yaml 2>&1)
expect_no_match "kubectl apply --dry-run=server -f deploy/namespaced/install.yaml passes" "error|Error|invalid" "$out"
expect_match "the namespaced Deployment watches the build namespace only" "^        - --namespace=builds$" "$(cat deploy/namespaced/install.yaml)"
expect_no_match "the namespaced install grants nothing cluster-wide but nodes and the status port's reviews" "pods|jobs|multiarchbuilds|configmaps|events" \
	"$(sed -n '/^kind: ClusterRole$/,/^---/p' deploy/namespaced/install.yaml)"
# the same grant, to a ServiceAccount of this test (the installed one keeps its cluster-wide rights for other tests),
# in two build namespaces
NSA=system:serviceaccount:multiarch-system:mac-namespaced
kubectl create serviceaccount mac-namespaced -n multiarch-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl create --dry-run=client -o json -f deploy/namespaced/rbac.yaml | jq -s '{apiVersion: "v1", kind: "List", items: .}' | jq '.items[] |= (
		if .subjects then .subjects[0].name = "mac-namespaced" else . end
		| if .kind == "ClusterRole" or .kind == "ClusterRoleBinding" then .metadata.name = "mac-namespaced-nodes" else . end
		| if .roleRef.kind == "ClusterRole" then .roleRef.name = "mac-namespaced-nodes" else . end)' >"$work/ns-rbac.json"
kubectl apply -f "$work/ns-rbac.json" >/dev/null
jq '.items |= map(select(.kind == "Role" or .kind == "RoleBinding") | .metadata.namespace = "builds-second")' "$work/ns-rbac.json" |
	kubectl apply -f - >/dev/null
kubectl create rolebinding mac-namespaced-leader-election -n multiarch-system --role=multiarch-controller-leader-election \
	--serviceaccount=multiarch-system:mac-namespaced --dry-run=client -o yaml | kubectl apply -f - >/dev/null
{
	echo "# kubectl auth can-i --list --as=$NSA -n builds"
	kubectl auth can-i --list --as="$NSA" -n builds
	echo "# kubectl auth can-i --list --as=$NSA -n builds-outside (a namespace it was not given)"
	kubectl auth can-i --list --as="$NSA" -n builds-outside
} >"$work/can-i-namespaced.txt"
[ "${MAC_UPDATE_GOLDEN:-}" = 1 ] && cp "$work/can-i-namespaced.txt" tests/fixtures/rbac/can-i-namespaced.txt
expect_eq "the namespaced rights are exactly tests/fixtures/rbac/can-i-namespaced.txt" "" \
	"$(diff -u tests/fixtures/rbac/can-i-namespaced.txt "$work/can-i-namespaced.txt")"
expect_eq "it may create pods and Jobs in builds, and neither outside" "yes yes no no" \
	"$(kubectl auth can-i create pods --as="$NSA" -n builds) $(kubectl auth can-i create jobs.batch --as="$NSA" -n builds) $(kubectl auth can-i create pods --as="$NSA" -n builds-outside) $(kubectl auth can-i create jobs.batch --as="$NSA" -n builds-outside)"
# a fresh fake kubelet for this part (the first one's time bound may run out)
touch "$work/kubelet.stop"
first_kubelet_gone() { ! pgrep -f "fake-kubelet.py --log $work/kubelet.log" >/dev/null; }
wait_for 30 first_kubelet_gone
tests/env/fake-kubelet.py --log "$work/kubelet2.log" --stop-file "$work/kubelet2.stop" --max-seconds 240 >"$work/kubelet2.out" 2>&1 &
token=$(kubectl create token mac-namespaced -n multiarch-system --duration=1h)
sed "s|token: \".*\"|token: \"$token\"|" "$work/sa.kubeconfig" >"$work/ns.kubeconfig"
ns_metrics=$(free_port) ns_health=$(free_port)
"$BIN" run --kubeconfig "$work/ns.kubeconfig" --config tests/env/policy-open.yaml --insecure-registry "$REGISTRY" \
	--leader-election-namespace multiarch-system --leader-election-id namespaced-test --namespace builds,builds-second \
	--metrics-addr "127.0.0.1:$ns_metrics" --health-addr "127.0.0.1:$ns_health" --metrics-auth kubernetes \
	--log-level debug >"$work/ns-ctl.log" 2>&1 &
echo $! >"$work/ctl.pid"
apply_mab builds ns-first
apply_mab builds-second ns-second
apply_mab builds-outside ns-outside
for pair in builds/ns-first builds-second/ns-second; do
	ns=${pair%/*} b=${pair#*/}
	if kubectl wait --for=condition=Ready "mab/$b" -n "$ns" --timeout=60s >/dev/null 2>&1; then
		pass "--namespace builds,builds-second: the build in $ns reaches Ready"
	else
		fail "--namespace builds,builds-second: the build in $ns reaches Ready" "$(tail -20 "$work/ns-ctl.log")"
	fi
done
expect_eq "the build in a namespace it was not given is left alone (no status, no pod)" "" \
	"$(kubectl get mab ns-outside -n builds-outside -o jsonpath='{.status.phase}')$(kubectl get pods -n builds-outside -o name)"
expect_no_match "no permission was refused to the namespaced controller" '"code":"403"|403 Forbidden|forbidden' "$(cat "$work/ns-ctl.log")"
expect_match "its caches hold the two namespaces' builds" "caches synced builds=[0-9]+" "$(cat "$work/ns-ctl.log")"
expect_match "a bad --namespace is refused" "--namespace Bad_NS: a namespace name is a DNS label" \
	"$("$BIN" run --kubeconfig "$work/ns.kubeconfig" --namespace builds,Bad_NS 2>&1)"

echo "-- the status port asks every caller for a token (--metrics-auth kubernetes)"
for sa in mac-nobody mac-scraper mac-reader; do
	kubectl create serviceaccount "$sa" -n multiarch-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
done
kubectl create clusterrole mac-metrics-reader --verb=get --non-resource-url=/metrics --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl create clusterrolebinding mac-scraper --clusterrole=mac-metrics-reader --serviceaccount=multiarch-system:mac-scraper \
	--dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl create clusterrole mac-build-lister --verb=list --resource=multiarchbuilds.multiarch.dev --dry-run=client -o yaml |
	kubectl apply -f - >/dev/null
kubectl create clusterrolebinding mac-reader --clusterrole=mac-build-lister --serviceaccount=multiarch-system:mac-reader \
	--dry-run=client -o yaml | kubectl apply -f - >/dev/null
scraper_may() { [ "$(kubectl auth can-i get /metrics --as=system:serviceaccount:multiarch-system:mac-scraper)" = yes ]; }
wait_for 30 scraper_may
# status_code PATH [TOKEN]: the HTTP status of GET PATH on the namespaced controller's metrics address
status_code() {
	local auth=()
	[ -n "${2:-}" ] && auth=(-H "Authorization: Bearer $2")
	curl -s -o /dev/null -w '%{http_code}' --max-time 40 "${auth[@]}" "http://127.0.0.1:$ns_metrics$1"
}
nobody=$(kubectl create token mac-nobody -n multiarch-system --duration=10m)
scraper=$(kubectl create token mac-scraper -n multiarch-system --duration=10m)
reader=$(kubectl create token mac-reader -n multiarch-system --duration=10m)
expect_eq "/healthz needs no token" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ns_health/healthz")"
expect_eq "/metrics without a token: 401" 401 "$(status_code /metrics)"
expect_eq "/metrics with a token the API server does not know: 401" 401 "$(status_code /metrics not-a-token)"
expect_eq "/metrics with the token of an account without rights: 403" 403 "$(status_code /metrics "$nobody")"
expect_eq "/metrics for an account that may get /metrics: 200" 200 "$(status_code /metrics "$scraper")"
expect_eq "... which may not read the builds: /status.json 403" 403 "$(status_code /status.json "$scraper")"
expect_eq "the builds for an account that may list them: 200" 200 "$(status_code /status.json "$reader")"
expect_match "its status holds the watched builds" '"name":"ns-first"' \
	"$(curl -s -H "Authorization: Bearer $reader" "http://127.0.0.1:$ns_metrics/status.json")"
expect_match "the websocket without a token is refused" "no upgrade|closed|refused|reset" \
	"$(tests/env/ws-client.py "ws://127.0.0.1:$ns_metrics/ws" --protocol multiarch-status --seconds 3 2>&1)"
expect_no_match "no token reached the controller's log" "$scraper|$reader|$nobody" "$(cat "$work/ns-ctl.log")"
kubectl delete clusterrolebinding mac-scraper mac-reader --wait=false >/dev/null 2>&1
kubectl delete clusterrole mac-metrics-reader mac-build-lister --wait=false >/dev/null 2>&1

kill "$(cat "$work/ctl.pid")" 2>/dev/null
wait "$(cat "$work/ctl.pid")" 2>/dev/null
rm -f "$work/ctl.pid"
kubectl delete -f "$work/ns-rbac.json" --wait=false >/dev/null 2>&1
kubectl delete namespace operator-test builds-second builds-outside --wait=false >/dev/null 2>&1
kubectl delete mab --all -n builds --wait=false >/dev/null 2>&1
finish operator
