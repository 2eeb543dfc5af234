# Pinned versions of the upstream test tools, built from their Go modules by build-tools.sh.
KUBE_VERSION=v1.35.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
