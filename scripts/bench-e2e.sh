#!/usr/bin/env bash
# End-to-end benchmark (docs/PERFORMANCE.md): capture -> ssl.log with tls-analyzer, against
# tshark extracting the handshake types and server names of the same capture, and against the
# bare read loop (pcap records only, the physical ceiling). Timed with hyperfine.
#
# Usage: scripts/bench-e2e.sh [CAPTURE...]
#   default: target/bulk/bulk.pcap (made by scripts/make-bulk-capture.sh when missing).
#   RUNS (default 10) runs per command; TSHARK_RUNS (default 3) for tshark, which is slow.
#   THREADS (default "2") extra --threads values to time.
# Needs: cargo, hyperfine (apt-get install hyperfine), tshark, python3.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-10}
TSHARK_RUNS=${TSHARK_RUNS:-3}
THREADS=${THREADS:-2}
CAPTURES=("$@")
if [ ${#CAPTURES[@]} -eq 0 ]; then
    CAPTURES=(target/bulk/bulk.pcap)
    [ -f target/bulk/bulk.pcap ] || scripts/make-bulk-capture.sh target/bulk/bulk.pcap
fi
for tool in hyperfine tshark python3; do
    command -v "$tool" >/dev/null || { echo "bench-e2e: $tool is required" >&2; exit 1; }
done

cargo build --release -q -p tls-analyzer
READ_LOOP=$(cargo bench -q -p pac-tests --bench read_loop --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "read_loop" and m.get("executable"):
        print(m["executable"])')
ANALYZER=$ROOT/target/release/tls-analyzer
OUT=$ROOT/target/bulk
mkdir -p "$OUT"

for cap in "${CAPTURES[@]}"; do
    name=$(basename "$cap" .pcap)
    # Facts about the capture: bytes and packets (read loop), TCP connections and SSL
    # connections (ssl.log rows).
    read -r packets _ bytes _ < <("$READ_LOOP" "$cap")
    rows=$("$ANALYZER" log --format json "$cap" | wc -l)
    conns=$(tshark -r "$cap" -q -z conv,tcp 2>/dev/null | grep -c '<->' || true)
    echo "capture $cap: $bytes bytes, $packets packets, $conns TCP connections, $rows ssl.log rows"

    cmds=(-n read-loop "$READ_LOOP $cap"
        -n tls-analyzer "$ANALYZER log $cap")
    for t in $THREADS; do
        cmds+=(-n "tls-analyzer-threads-$t" "$ANALYZER log --threads $t $cap")
    done
    hyperfine -N --warmup 1 --runs "$RUNS" --output=null --export-json "$OUT/e2e-$name.json" \
        "${cmds[@]}"
    hyperfine -N --warmup 0 --runs "$TSHARK_RUNS" --output=null \
        --export-json "$OUT/e2e-$name-tshark.json" \
        -n tshark "tshark -r $cap -T fields -e tls.handshake.type -e tls.handshake.extensions_server_name"

    python3 - "$OUT/e2e-$name.json" "$OUT/e2e-$name-tshark.json" "$bytes" "$packets" "$conns" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"] + json.load(open(sys.argv[2]))["results"]
nbytes, packets, conns = (float(x) for x in sys.argv[3:6])
t = {r["command"]: r["median"] for r in results}
print(f"{'command':<26}{'median s':>10}{'MB/s':>10}{'packets/s':>12}{'conns/s':>10}"
      f"{'x tshark':>10}{'% of read loop':>16}")
for name, s in t.items():
    print(f"{name:<26}{s:>10.3f}{nbytes / s / 1e6:>10.0f}{packets / s:>12.0f}{conns / s:>10.0f}"
          f"{t['tshark'] / s:>10.1f}{100 * t['read-loop'] / s:>15.0f}%")
EOF
done
