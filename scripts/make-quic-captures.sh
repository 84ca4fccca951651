#!/usr/bin/env bash
# Regenerates the project's own QUIC captures in tests/captures/quic/.
#
# Every capture is a real QUIC conversation between aioquic's client and server
# (scripts/quic_capture.py, both in one Python process, over real UDP sockets)
# on the loopback interface, recorded with tcpdump: one capture per scenario.
# Each scenario uses its own fixed client ports (24501-24511), and the capture
# filter names them, so a capture can only contain its own conversation.
#
# Usage: scripts/make-quic-captures.sh [OUT_DIR] [NAME...]
#   OUT_DIR defaults to tests/captures/quic; NAMEs are scenario names (v1, v2,
#   retry, split-hello, resume, 0rtt, fail, ipv6, port-4433); without NAMEs all
#   are made. Each writes OUT_DIR/quic-NAME.pcap.
# Needs: root (tcpdump, and binding UDP port 443), tcpdump, openssl, python3
# with venv, and PyPI access for aioquic (installed into a venv under /tmp,
# reused between runs; AIOQUIC_VERSION pins the version, default 1.7.2).
# With tshark installed, each capture is checked after it is made.
#
# The certificates are generated afresh on every run (P-256 CA and server
# certificate for quic.test), and every handshake has fresh randoms and keys, so
# regenerated captures differ byte for byte from the committed ones; the
# committed captures are the reference the tests use.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/tests/captures/quic}
shift || true
ONLY=("$@")
ALL=(v1 v2 retry split-hello resume 0rtt fail ipv6 port-4433)
AIOQUIC_VERSION=${AIOQUIC_VERSION:-1.7.2}
VENV=${QUIC_VENV:-/tmp/pac-aioquic-venv}

log() { echo "make-quic-captures: $*" >&2; }

for tool in openssl tcpdump python3 timeout; do
    command -v "$tool" >/dev/null || { log "$tool is required"; exit 1; }
done

if ! "$VENV/bin/python" -c "import aioquic, sys; sys.exit(aioquic.__version__ != '$AIOQUIC_VERSION')" 2>/dev/null; then
    log "installing aioquic $AIOQUIC_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "aioquic==$AIOQUIC_VERSION"
fi

WORK=$(mktemp -d /tmp/make-quic-captures.XXXXXX)
TCPDUMP_PID=
cleanup() {
    if [ -n "$TCPDUMP_PID" ]; then kill "$TCPDUMP_PID" 2>/dev/null || true; fi
    if [ -n "${KEEP_WORK:-}" ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$WORK"

# A P-256 CA and a server certificate for quic.test, signed by it.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -subj "/CN=QUIC Test Root CA" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server.key 2>/dev/null
openssl req -new -key server.key -subj "/CN=quic.test" -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:quic.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 1 -days 3650 -sha256 \
    -extfile server.ext -out server.pem 2>/dev/null

# The client ports of a scenario (quic_capture.py's PLACES; resume and 0rtt use two).
ports() {
    case "$1" in
    v1) echo "24501" ;;
    v2) echo "24502" ;;
    retry) echo "24503" ;;
    split-hello) echo "24504" ;;
    resume) echo "24505 24506" ;;
    0rtt) echo "24507 24508" ;;
    fail) echo "24509" ;;
    ipv6) echo "24510" ;;
    port-4433) echo "24511" ;;
    *) return 1 ;;
    esac
}

make_one() {
    local name=$1 file="$OUT/quic-$1.pcap" filter="" p
    for p in $(ports "$name"); do filter="$filter${filter:+ or }port $p"; done
    filter="udp and (host 127.0.0.1 or host ::1) and ($filter)"
    rm -f "$file"
    : >"$WORK/tcpdump.$name.log" # exists before the loop below reads it
    tcpdump -i lo -U --immediate-mode -Z root -s 0 -w "$file" "$filter" \
        2>"$WORK/tcpdump.$name.log" &
    TCPDUMP_PID=$!
    # tcpdump prints "listening on lo" once its filter is in place.
    for _ in $(seq 50); do
        grep -q "listening on" "$WORK/tcpdump.$name.log" && break
        sleep 0.1
    done
    grep -q "listening on" "$WORK/tcpdump.$name.log" ||
        { log "tcpdump did not start: $(cat "$WORK/tcpdump.$name.log")"; exit 1; }
    timeout 30 "$VENV/bin/python" "$ROOT/scripts/quic_capture.py" "$name" "$WORK" \
        2>"$WORK/python.$name.log" || { cat "$WORK/python.$name.log" >&2; exit 1; }
    sleep 0.5
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID" || true
    TCPDUMP_PID=
    log "$(basename "$file"): $(grep -o '[0-9]* packets captured' "$WORK/tcpdump.$name.log")"
    if command -v tshark >/dev/null; then
        tshark -n -r "$file" -Y quic -T fields -E separator=' ' \
            -e frame.number -e udp.srcport -e quic.long.packet_type -e quic.version \
            -e tls.handshake.type -e tls.handshake.extensions_server_name 2>/dev/null |
            sed 's/^/    /' >&2
    fi
}

for name in "${ONLY[@]:-${ALL[@]}}"; do
    ports "$name" >/dev/null || { log "unknown scenario $name (one of ${ALL[*]})"; exit 1; }
    make_one "$name"
done
