#!/usr/bin/env bash
# Makes a capture of N TLS 1.2 handshakes on loopback, each with its own server certificate
# (EC P-256, 3 DNS SANs), so that x509.log's deduplication never hits: the cost of a first-seen
# certificate in `tls-analyzer log --log x509` (docs/PERFORMANCE.md §7). Not a test fixture:
# never committed. Certificates are kept in WORK (default target/bulk/distinct-certs) for reruns.
#
# Usage: scripts/make-distinct-cert-capture.sh [N] [OUT.pcap]
#   defaults: 1000 handshakes, target/bulk/distinct.pcap. PARALLEL (default 4) at a time.
# Needs: root (or CAP_NET_RAW) for tcpdump, openssl, tcpdump, timeout.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000}
OUT=${2:-$ROOT/target/bulk/distinct.pcap}
PARALLEL=${PARALLEL:-4}
# Away from make-bulk-capture.sh's (24600..) and make-captures.sh's ports.
BASE_PORT=${DISTINCT_BASE_PORT:-25600}
WORK=${WORK:-$ROOT/target/bulk/distinct-certs}

for tool in openssl tcpdump timeout; do
    command -v "$tool" >/dev/null || { echo "make-distinct-cert-capture: $tool is required" >&2; exit 1; }
done
mkdir -p "$WORK" "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
cd "$WORK"

for ((i = 0; i < N; i++)); do
    [ -f "c$i.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "c$i.key" -out "c$i.pem" -days 30 -subj "/CN=distinct-$i.test/O=Bench $i" \
        -addext "subjectAltName=DNS:distinct-$i.test,DNS:www.distinct-$i.test,DNS:api.distinct-$i.test" \
        2>/dev/null
done

tcpdump -i lo -U -s 0 -w "$OUT" \
    "tcp and host 127.0.0.1 and portrange $BASE_PORT-$((BASE_PORT + PARALLEL - 1))" 2>/dev/null &
TCPDUMP_PID=$!
trap 'kill $TCPDUMP_PID 2>/dev/null || true' EXIT
sleep 1

one() { # certificate-index port
    openssl s_server -accept "127.0.0.1:$2" -cert "c$1.pem" -key "c$1.key" -tls1_2 -WWW -quiet \
        >/dev/null 2>&1 &
    local server=$!
    # Wait until it listens (the probe is a TCP connection without data).
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && break
        sleep 0.02
    done
    printf 'GET /x HTTP/1.0\r\n\r\n' |
        timeout 5 openssl s_client -connect "127.0.0.1:$2" -tls1_2 -quiet >/dev/null 2>&1 || true
    kill "$server"
    wait "$server" 2>/dev/null || true
}

for ((i = 0; i < N; i += PARALLEL)); do
    pids=()
    for ((k = 0; k < PARALLEL && i + k < N; k++)); do
        one $((i + k)) $((BASE_PORT + k)) &
        pids+=($!)
    done
    wait "${pids[@]}"
done
sleep 1
ls -l "$OUT" >&2
