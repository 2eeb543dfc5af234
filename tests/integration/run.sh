#!/usr/bin/env bash
# Runs the integration tests (every tests/integration/test_*.sh, or those given) against a fresh local cluster of its
# own, and stops that cluster on exit or interrupt.
# Usage: tests/integration/run.sh [TEST_FILE...]
set -uo pipefail
cd "$(dirname "$0")/../.."
export MAC_CLUSTER_DIR=$PWD/.local/test-cluster
export MAC_CLUSTER_ENV=$PWD/.local/test-cluster.env
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
for t in "${tests[@]}"; do
	echo "== $t"
	bash "$t" || failed=1
done
exit $failed
