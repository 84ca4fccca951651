#!/usr/bin/env bash
# Makes a large capture of real loopback TLS traffic for the end-to-end benchmark
# (docs/PERFORMANCE.md). Not a test fixture: the output is big and is never committed.
#
# Several openssl s_server instances (TLS 1.3 and 1.2, ECDHE/RSA/DHE key exchange, RSA and
# ECDSA certificates, ALPN, session tickets) serve files with -WWW on 127.0.0.1; many
# openssl s_client processes fetch a small file (a handshake plus a little data) and a few
# fetch a large one (bulk application data). tcpdump records the loopback interface, filtered
# to the servers' ports.
#
# Usage: scripts/make-bulk-capture.sh [OUT.pcap] [SMALL_CONNECTIONS] [BULK_CONNECTIONS]
#   defaults: target/bulk/bulk.pcap, 4000 small connections, 100 bulk connections of 1 MiB
#   (about 110 MB of capture). PARALLEL (default 4) clients run at once.
# Needs: root (or CAP_NET_RAW) for tcpdump, openssl, tcpdump, xargs, timeout.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/target/bulk/bulk.pcap}
SMALL=${2:-4000}
BULK=${3:-100}
PARALLEL=${PARALLEL:-4}
# Below the Linux ephemeral range and away from scripts/make-captures.sh's ports.
BASE_PORT=${BULK_BASE_PORT:-24600}

for tool in openssl tcpdump xargs timeout; do
    command -v "$tool" >/dev/null || { echo "make-bulk-capture: $tool is required" >&2; exit 1; }
done

log() { echo "make-bulk-capture: $*" >&2; }

WORK=$(mktemp -d /tmp/make-bulk-capture.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]:-}"; do
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    done
    if [ -n "${KEEP_WORK:-}" ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
cd "$WORK"

# Certificates: an RSA-2048 and a P-256 self-signed server certificate.
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.pem -days 30 \
    -subj "/CN=bulk-rsa.test" -addext "subjectAltName=DNS:bulk-rsa.test" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key \
    -out ec.pem -days 30 -subj "/CN=bulk-ec.test" -addext "subjectAltName=DNS:bulk-ec.test" \
    2>/dev/null

# Files served by -WWW (paths are relative to the server's working directory).
mkdir www
head -c 2048 /dev/urandom >www/small.bin
head -c $((1024 * 1024)) /dev/urandom >www/bulk.bin

# name port server-options...; the client side of each is in CLIENT_OPTS below.
SERVERS=(
    "tls13-ecdsa 0 -cert $WORK/ec.pem -key $WORK/ec.key -tls1_3"
    "tls13-rsa 1 -cert $WORK/rsa.pem -key $WORK/rsa.key -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    "tls12-ecdhe 2 -cert $WORK/rsa.pem -key $WORK/rsa.key -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256"
    "tls12-ecdsa 3 -cert $WORK/ec.pem -key $WORK/ec.key -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305"
    "tls12-rsa 4 -cert $WORK/rsa.pem -key $WORK/rsa.key -tls1_2 -cipher AES256-SHA256"
    "tls12-dhe 5 -cert $WORK/rsa.pem -key $WORK/rsa.key -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256"
    "tls10 6 -cert $WORK/rsa.pem -key $WORK/rsa.key -tls1 -cipher ECDHE-RSA-AES128-SHA:@SECLEVEL=0"
)
declare -A CLIENT_OPTS=(
    [tls13-ecdsa]="-tls1_3 -alpn h2,http/1.1"
    [tls13-rsa]="-tls1_3 -groups X25519:P-256"
    [tls12-ecdhe]="-tls1_2 -alpn http/1.1"
    [tls12-ecdsa]="-tls1_2"
    [tls12-rsa]="-tls1_2 -cipher AES256-SHA256"
    [tls12-dhe]="-tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256"
    [tls10]="-tls1 -cipher ECDHE-RSA-AES128-SHA:@SECLEVEL=0"
)

FILTER="tcp and host 127.0.0.1 and portrange $BASE_PORT-$((BASE_PORT + ${#SERVERS[@]} - 1))"
tcpdump -i lo -U --immediate-mode -B 262144 -s 0 -w "$OUT" "$FILTER" 2>tcpdump.err &
PIDS+=($!)
TCPDUMP_PID=$!
sleep 1

names=()
for s in "${SERVERS[@]}"; do
    read -r name idx opts <<<"$s"
    port=$((BASE_PORT + idx))
    # shellcheck disable=SC2086 # the options are words on purpose
    (cd www && exec openssl s_server -accept "127.0.0.1:$port" -WWW -quiet $opts \
        >"../server-$name.log" 2>&1) &
    PIDS+=($!)
    names+=("$name:$port")
done
sleep 1

# One job line per connection: "name port file". Bulk fetches are spread over the servers.
jobs=$WORK/jobs
: >"$jobs"
n=${#names[@]}
for ((i = 0; i < SMALL; i++)); do
    entry=${names[$((i % n))]}
    echo "${entry%%:*} ${entry##*:} small.bin" >>"$jobs"
done
for ((i = 0; i < BULK; i++)); do
    entry=${names[$((i % n))]}
    echo "${entry%%:*} ${entry##*:} bulk.bin" >>"$jobs"
done
shuf -o "$jobs" --random-source=<(yes) "$jobs"

client() { # name port file
    local opts=${CLIENT_OPTS[$1]}
    # shellcheck disable=SC2086
    printf 'GET /%s HTTP/1.0\r\n\r\n' "$3" |
        timeout 30 openssl s_client -connect "127.0.0.1:$2" -servername "$1.bulk.test" \
            -quiet $opts >/dev/null 2>&1 || echo "failed: $*" >&2
}
export -f client
export CLIENT_OPTS_SERIALIZED
CLIENT_OPTS_SERIALIZED=$(declare -p CLIENT_OPTS)

log "running $SMALL small and $BULK bulk connections, $PARALLEL at a time"
start=$(date +%s)
# shellcheck disable=SC2016 # expanded by the inner shell
xargs -P "$PARALLEL" -L 1 bash -c 'eval "$CLIENT_OPTS_SERIALIZED"; client "$@"' _ \
    <"$jobs" 2>"$WORK/clients.err" || true
log "clients done in $(($(date +%s) - start)) s, $(grep -c failed "$WORK/clients.err" || true) failed"

sleep 1
kill "$TCPDUMP_PID"
wait "$TCPDUMP_PID" 2>/dev/null || true
cat tcpdump.err >&2
ls -l "$OUT" >&2
