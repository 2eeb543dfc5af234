#!/usr/bin/env bash
# Runs `make demo`'s flow (tests/demo.sh) twice on the test cluster: each run must end in a verified two-arch
# index, amd64 built on the real node; then stops the demo's controller and helper so later tests start clean.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh
# shellcheck source=tests/env/common.sh
. tests/env/common.sh

for run in 1 2; do
	out=$(MAC_DEMO_NAMESPACE=demo-test tests/demo.sh 2>&1)
	rc=$?
	expect_eq "demo run $run: exit 0" "0" "$rc"
	[ "$rc" -eq 0 ] || printf '%s\n' "$out" | tail -n 30
	arm64_node="fake-arm64-[0-9]+"
	[ "${MAC_ARM64_NODE:-0}" = 1 ] && arm64_node=real-arm64-1
	expect_match "demo run $run: shows the platforms building and where" "hello-g1-linux-arm64-a1 on $arm64_node" "$out"
	expect_match "demo run $run: amd64 builds on the real node" "hello-g1-linux-amd64-a1 on $MAC_REAL_NODE_NAME" "$out"
	expect_match "demo run $run: says which nodes are real" "^real nodes \\(a real kubelet and containerd run their pods\\): $MAC_REAL_NODE_NAME \\(amd64, kubelet v1" "$out"
	expect_no_match "demo run $run: no stray errors" "jq: error|^error:|Error from server" "$out"
	expect_match "demo run $run: kubectl get mab shows it Ready" "hello +[0-9.:]+/demo/hello:1.0 +2/2 +Succeeded +True" "$out"
	expect_match "demo run $run: the index read back holds both platforms" "linux/amd64	sha256:[0-9a-f]{64}" "$out"
	expect_match "demo run $run: the arm64 child pulled by --override-arch" "override-arch arm64: manifest sha256:[0-9a-f]{64}, config architecture arm64" "$out"
	expect_match "demo run $run: the amd64 child pulled by --override-arch" "override-arch amd64: manifest sha256:[0-9a-f]{64}, config architecture amd64" "$out"
	expect_match "demo run $run: ends OK" "^demo: OK: MultiArchBuild demo-test/hello became " "$out"
done
helper_arm64=1
[ "${MAC_ARM64_NODE:-0}" = 1 ] && helper_arm64=0
expect_eq "the helper ran buildah on the host for a simulated arm64 node only" "$helper_arm64 0" \
	"$(grep -c 'succeeded demo-test/hello-g1-linux-arm64' "$MAC_CLUSTER_DIR/logs/node-helper.log") $(grep -c 'demo-test/hello-g1-linux-amd64' "$MAC_CLUSTER_DIR/logs/node-helper.log")"
out=$(MAC_DEMO_NAMESPACE=demo-test MAC_DEMO_TIMEOUT=0 tests/demo.sh 2>&1)
expect_eq "a demo that cannot finish exits 1" "1" "$?"
expect_match "it names the step that failed" "^demo: FAILED at: the build did not get Ready within 0s" "$out"
expect_match "it says where the logs are" "^demo: logs: .*/controller.log \\(the controller\\)" "$out"
for name in controller node-helper; do
	# cluster-down (make demo-down) stops everything listed in all-pids and fails if anything is left (test_teardown)
	pid=$(cat "$MAC_CLUSTER_DIR/pids/$name.pid" 2>/dev/null)
	expect_match "make demo-down would stop the demo's $name" "^${pid:-none} [0-9]+\$" "$(cat "$MAC_CLUSTER_DIR/all-pids")"
	stop_pid "$MAC_CLUSTER_DIR" "$name"
done
kubectl delete namespace demo-test --wait=false >/dev/null 2>&1
finish demo
