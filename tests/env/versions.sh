# shellcheck shell=bash disable=SC2034 # read by the scripts that source this file
# Pinned versions of the upstream test tools, built from their Go modules by build-tools.sh.
KUBE_VERSION=v1.35.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
# the Helm client the chart's tests install with (deploy/chart/)
HELM_VERSION=v4.3.2
# the real node's builder images: BuildKit (rootless, with rootlesskit) and the Kaniko executor, from their modules
BUILDKIT_VERSION=v0.34.2
ROOTLESSKIT_VERSION=v2.3.6
KANIKO_VERSION=v1.23.2
