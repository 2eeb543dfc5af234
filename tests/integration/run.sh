#!/usr/bin/env bash
# Runs the integration tests (every tests/integration/test_*.sh, or those given) against a fresh local cluster of its
# own, and stops that cluster on exit or interrupt.
# Usage: tests/integration/run.sh [TEST_FILE...]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/env/common.sh
. tests/env/common.sh
export MAC_CLUSTER_DIR=$PWD/.local/test-cluster
export MAC_CLUSTER_ENV=$PWD/.local/test-cluster.env
# the real amd64 and arm64 nodes, and fake nodes of two architectures no real node serves here (riscv64, ppc64le)
# for the tests that make the fake kubelet fail or hang attempts: the fake kubelet runs no amd64 or arm64 build
export MAC_REAL_NODE=${MAC_REAL_NODE:-1} MAC_ARM64_NODE=${MAC_ARM64_NODE:-1}
export MAC_NODES_RISCV64=${MAC_NODES_RISCV64:-2} MAC_NODES_PPC64LE=${MAC_NODES_PPC64LE:-2}
trap 'tests/env/cluster-down.sh >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM

if ! tests/env/cluster-up.sh; then
	mkdir -p build/results
	echo "0 1" >build/results/integration-setup.count
	echo "integration: 0 passed, 1 failed (the test cluster did not start)"
	exit 1
fi
# shellcheck disable=SC1090
. "$MAC_CLUSTER_ENV"
failed=0
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(tests/integration/test_*.sh)
# the release test's Debian bases, when not cached yet (a cold machine: many minutes, the arm64 ones under the
# emulation the arm64 node registered): made at the lowest priority beside the tests before it, which it then waits for
bases_pid=""
if [[ " ${tests[*]} " == *test_release.sh* ]] && [ "$MAC_REAL_NODE" = 1 ] && [ "$MAC_ARM64_NODE" = 1 ]; then
	mkdir -p build/results
	nice -n 19 tests/env/release-bases.sh prepare amd64 arm64 >build/results/release-bases.log 2>&1 &
	bases_pid=$!
fi
for t in "${tests[@]}"; do
	echo "== $t"
	started=$SECONDS
	bash "$t" || failed=1
	echo "   ($t took $((SECONDS - started)) s)"
done
[ -z "$bases_pid" ] || wait "$bases_pid" || echo "   (the release bases made beside the tests failed: build/results/release-bases.log)"
# the cluster's own teardown, checked: no process, port, mount, interface, iptables rule, cgroup or sysctl change left
echo "== cluster-down"
down_log=$(tests/env/cluster-down.sh 2>&1)
down=$?
left=$(leftovers "$MAC_CLUSTER_DIR")
mkdir -p build/results
if [ $down -eq 0 ] && [ -z "$left" ]; then
	echo "ok   cluster-down of the test cluster and its real node leaves nothing behind"
	echo "1 0" >build/results/integration-cluster-down.count
	echo "cluster-down: 1 passed, 0 failed"
else
	echo "FAIL cluster-down of the test cluster and its real node leaves nothing behind"
	echo "    exit $down: $down_log; left now: $left"
	echo "0 1" >build/results/integration-cluster-down.count
	echo "cluster-down: 0 passed, 1 failed"
	failed=1
fi
exit $failed
