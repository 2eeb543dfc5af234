#!/usr/bin/env bash
# Starts or stops a local registry (Debian's docker-registry) on loopback: plain HTTP, or TLS from a private CA
# with htpasswd basic auth.
#
# Usage: tests/env/registry.sh start plain|basic-tls [NAME]   prints HOST:PORT; writes $MAC_CLUSTER_DIR/registry-NAME/env
#        tests/env/registry.sh stop NAME
# NAME defaults to the mode. The env file exports REGISTRY_ADDR, and for basic-tls REGISTRY_CA, REGISTRY_USER,
# REGISTRY_PASSWORD.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/env/common.sh
. "$here/common.sh"

action=${1:-}
mode=${2:-}
name=${3:-$mode}
dir=$MAC_CLUSTER_DIR
rdir="$dir/registry-$name"

case $action in
stop)
	stop_pid "$dir" "registry-$mode"
	exit 0
	;;
start) ;;
*)
	echo "usage: $0 start plain|basic-tls [NAME] | stop NAME" >&2
	exit 2
	;;
esac
case $mode in
plain | basic-tls) ;;
*)
	echo "registry.sh: unknown mode '$mode' (plain or basic-tls)" >&2
	exit 2
	;;
esac

command -v docker-registry >/dev/null || { env_log "docker-registry is not installed (apt-get install docker-registry)"; exit 1; }
stop_pid "$dir" "registry-$name"
rm -rf "$rdir"
mkdir -p "$rdir/storage"
port=$(free_port)
addr="127.0.0.1:$port"
scheme=http
auth_block=""
tls_block=""
{
	echo "export REGISTRY_ADDR=$addr"
} >"$rdir/env"

if [ "$mode" = basic-tls ]; then
	scheme=https
	openssl ecparam -name prime256v1 -genkey -noout -out "$rdir/ca.key" 2>/dev/null
	openssl req -x509 -new -key "$rdir/ca.key" -subj "/CN=multiarch-test-registry-ca" -days 30 -out "$rdir/ca.crt" 2>/dev/null
	openssl ecparam -name prime256v1 -genkey -noout -out "$rdir/tls.key" 2>/dev/null
	openssl req -new -key "$rdir/tls.key" -subj "/CN=127.0.0.1" -out "$rdir/tls.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$rdir/tls.ext"
	openssl x509 -req -in "$rdir/tls.csr" -CA "$rdir/ca.crt" -CAkey "$rdir/ca.key" -CAcreateserial -days 30 \
		-extfile "$rdir/tls.ext" -out "$rdir/tls.crt" 2>/dev/null
	user=pusher
	password=$(openssl rand -hex 12)
	htpasswd -Bbn "$user" "$password" >"$rdir/htpasswd" 2>/dev/null
	tls_block="  tls:
    certificate: $rdir/tls.crt
    key: $rdir/tls.key"
	auth_block="auth:
  htpasswd:
    realm: multiarch-test
    path: $rdir/htpasswd"
	{
		echo "export REGISTRY_CA=$rdir/ca.crt"
		echo "export REGISTRY_USER=$user"
		echo "export REGISTRY_PASSWORD=$password"
	} >>"$rdir/env"
fi

cat >"$rdir/config.yml" <<CONFIG
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $rdir/storage
  delete:
    enabled: true
http:
  addr: $addr
  secret: $(openssl rand -hex 16)
$tls_block
$auth_block
CONFIG

start_bg "registry-$name" "$dir" docker-registry serve "$rdir/config.yml"
ping() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' ${REGISTRY_CA_ARG:-} "$scheme://$addr/v2/")
	[ "$code" = 200 ] || [ "$code" = 401 ]
}
REGISTRY_CA_ARG=""
[ "$mode" = basic-tls ] && REGISTRY_CA_ARG="--cacert $rdir/ca.crt"
wait_until 30 "registry $name (log: $dir/logs/registry-$name.log)" ping
echo "$addr"
