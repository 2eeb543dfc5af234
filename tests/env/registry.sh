#!/usr/bin/env bash
# Starts or stops a local registry (Debian's docker-registry) on loopback (or MAC_REGISTRY_HOST: the real node's
# gateway, which its pods reach too): plain HTTP; TLS from a private CA
# with htpasswd basic auth; or plain HTTP with token auth from a test token server (tests/env/token-server.py).
#
# Usage: tests/env/registry.sh start plain|basic-tls|token [NAME]   prints HOST:PORT; writes $MAC_CLUSTER_DIR/registry-NAME/env
#        tests/env/registry.sh stop NAME
# NAME defaults to the mode. The env file exports REGISTRY_ADDR; for basic-tls also REGISTRY_CA, REGISTRY_USER,
# REGISTRY_PASSWORD; for token REGISTRY_USER, REGISTRY_PASSWORD, REGISTRY_REFRESH_TOKEN and REGISTRY_TOKEN_LOG
# (one line per token request).
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
	stop_pid "$dir" "token-$mode"
	exit 0
	;;
start) ;;
*)
	echo "usage: $0 start plain|basic-tls|token [NAME] | stop NAME" >&2
	exit 2
	;;
esac
case $mode in
plain | basic-tls | token) ;;
*)
	echo "registry.sh: unknown mode '$mode' (plain, basic-tls or token)" >&2
	exit 2
	;;
esac

command -v docker-registry >/dev/null || { env_log "docker-registry is not installed (apt-get install docker-registry)"; exit 1; }
stop_pid "$dir" "registry-$name"
stop_pid "$dir" "token-$name"
rm -rf "$rdir"
mkdir -p "$rdir/storage"
port=$(free_port)
host=${MAC_REGISTRY_HOST:-127.0.0.1}
addr="$host:$port"
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
	openssl req -new -key "$rdir/tls.key" -subj "/CN=$host" -out "$rdir/tls.csr" 2>/dev/null
	printf 'subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth\n' "$host" >"$rdir/tls.ext"
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

if [ "$mode" = token ]; then
	openssl ecparam -name prime256v1 -genkey -noout -out "$rdir/token.key" 2>/dev/null
	openssl req -x509 -new -key "$rdir/token.key" -subj "/CN=multiarch-test-token-issuer" -days 30 -out "$rdir/token.crt" 2>/dev/null
	user=pusher
	password=$(openssl rand -hex 12)
	refresh=$(openssl rand -hex 16)
	: >"$rdir/token-requests.log"
	# its first line is the port it listens on: an earlier run's server wrote to the same log
	mkdir -p "$dir/logs" && : >"$dir/logs/token-$name.log"
	start_bg "token-$name" "$dir" "$here/token-server.py" --key "$rdir/token.key" --cert "$rdir/token.crt" \
		--issuer multiarch-test-issuer --service multiarch-test-registry --user "$user" --password "$password" \
		--refresh-token "$refresh" --log "$rdir/token-requests.log" --host "$host"
	wait_until 30 "token server $name (log: $dir/logs/token-$name.log)" test -s "$dir/logs/token-$name.log"
	token_port=$(head -n1 "$dir/logs/token-$name.log")
	echo "$token_port" >>"$dir/ports"
	auth_block="auth:
  token:
    realm: http://$host:$token_port/token
    service: multiarch-test-registry
    issuer: multiarch-test-issuer
    rootcertbundle: $rdir/token.crt"
	{
		echo "export REGISTRY_USER=$user"
		echo "export REGISTRY_PASSWORD=$password"
		echo "export REGISTRY_REFRESH_TOKEN=$refresh"
		echo "export REGISTRY_TOKEN_LOG=$rdir/token-requests.log"
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
