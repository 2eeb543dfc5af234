#!/usr/bin/env bash
# Proves the environment cleans up after itself: a cluster interrupted while starting, and one started
# and stopped, leave no process and no listening port behind.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/env/common.sh

export MAC_CLUSTER_DIR=$PWD/.local/teardown-cluster
export MAC_CLUSTER_ENV=$PWD/.local/teardown-cluster.env
# the test cluster holds the machine's one real node; the real node's own teardown is checked by run.sh at the end
export MAC_REAL_NODE=0 MAC_REGISTRY_HOST=127.0.0.1
trap 'tests/env/cluster-down.sh >/dev/null 2>&1' EXIT

# interrupted while starting: SIGTERM (as a CI time-out sends; a background job ignores SIGINT) once the
# apiserver process exists
tests/env/cluster-up.sh >/dev/null 2>&1 &
up=$!
wait_for 60 test -s "$MAC_CLUSTER_DIR/pids/kube-apiserver.pid"
kill -TERM "$up"
wait "$up"
expect_eq "an interrupted cluster-up exits 143" 143 "$?"
expect_eq "an interrupted cluster-up leaves nothing running" "" "$(leftovers "$MAC_CLUSTER_DIR")"
expect_eq "an interrupted cluster-up leaves no env file" no "$([ -e "$MAC_CLUSTER_ENV" ] && echo yes || echo no)"

# a full start and stop
if tests/env/cluster-up.sh >/dev/null 2>&1; then pass "cluster-up starts a second, independent cluster"; else fail "cluster-up starts a second, independent cluster"; fi
expect_eq "the second cluster has its own env file" yes "$([ -e "$MAC_CLUSTER_ENV" ] && echo yes || echo no)"
expect_match "it recorded its processes" "[0-9]" "$(cat "$MAC_CLUSTER_DIR/all-pids" 2>/dev/null)"
tests/env/cluster-down.sh >/dev/null 2>&1
expect_eq "cluster-down exits 0" 0 "$?"
expect_eq "cluster-down leaves no process and no port behind" "" "$(leftovers "$MAC_CLUSTER_DIR")"

finish integration-teardown
