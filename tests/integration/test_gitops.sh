#!/usr/bin/env bash
# deploy/gitops/argocd-health.lua, run by a Lua 5.4 interpreter as Argo CD runs it (obj set, hs returned), against
# MultiArchBuilds recorded from the controller: building, built, failed, not yet seen, and a spec changed since.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lib.sh
. tests/lib.sh

# health FIXTURE: "STATUS|MESSAGE" for tests/fixtures/gitops/FIXTURE.json
health() {
	local obj
	obj=$(jq -r 'def lua: if type == "object" then "{" + (to_entries | map("[\(.key | tojson)]=\(.value | lua)") | join(",")) + "}"
		elif type == "array" then "{" + (map(lua) | join(",")) + "}" elif type == "string" then tojson
		elif type == "null" then "nil" else tostring end; lua' "tests/fixtures/gitops/$1.json")
	lua5.4 -e "obj = $obj" -e 'local hs = assert(loadfile("deploy/gitops/argocd-health.lua"))(); print(hs.status .. "|" .. (hs.message or ""))'
}

expect_match "a build that is building: Progressing with its phase" "^Progressing\|Building: " "$(health progressing)"
expect_match "a build that succeeded: Healthy with the pinned image" "^Healthy\|registry.example.com/rec/done@sha256:[0-9a-f]{64}$" "$(health healthy)"
expect_match "an index without an optional platform that failed: Healthy, saying it is partial" \
	"^Healthy\|partial index: the index lacks linux/s390x: optional, failed; registry.example.com/rec/done@sha256:" "$(health partial)"
expect_match "a build that failed: Degraded with the reason" "^Degraded\|linux/arm64 failed: attempt 2 failed, no retries left" "$(health degraded)"
expect_match "a build the controller has not seen: Progressing" "^Progressing\|waiting for multiarch-controller to pick" "$(health new)"
expect_match "a status of an older generation: Progressing" "^Progressing\|waiting for multiarch-controller to build generation 2" "$(health spec-changed)"
finish gitops
