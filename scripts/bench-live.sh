#!/usr/bin/env bash
# Live capture throughput (docs/DEPLOYMENT.md): how many packets per second one worker analyses,
# measured on loopback with tcpreplay as the traffic generator.
#
# The capture is first rewritten to addresses in 198.18.0.0/15 (RFC 2544's benchmarking range,
# tcprewrite --pnat), so that the kernel drops the replayed packets after the capture taps have
# seen them instead of answering them with resets. tcpreplay then sends it on `lo` LOOPS times
# (--unique-ip: every loop gets new addresses, so every connection is new) while
# `tls-analyzer log -i lo --threads N` captures it. For each N the script prints what tcpreplay
# sent and at what rate, what the kernel delivered and dropped (the analyzer's exit report), the
# ssl.log rows written, the packets each worker analysed (stats.log's pkts_proc) and the
# analyzer's CPU time (user + system, from /proc), from which
#   packets/s per worker = packets analysed / analyzer CPU seconds
# (the kernel's "received" counts each packet on `lo` twice, leaving and arriving; the analyzer
# analyses the arriving copy only).
#
# Usage: scripts/bench-live.sh CAPTURE [LOOPS] [THREADS...]
#   defaults: 5 loops, threads "1 2". RATE=PPS replays at that rate instead of --topspeed.
# Needs: root, tcpreplay and tcprewrite (apt-get install tcpreplay), a build with the feature
# `live` (libpcap-dev), python3.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAP=${1:?usage: bench-live.sh CAPTURE [LOOPS] [THREADS...]}
LOOPS=${2:-5}
shift $(( $# >= 2 ? 2 : 1 ))
THREADS=("${@:-1 2}")
[ "$(id -u)" = 0 ] || { echo "bench-live: needs root (capture on lo)" >&2; exit 1; }
for tool in tcpreplay tcprewrite python3; do
    command -v "$tool" >/dev/null || { echo "bench-live: $tool is required" >&2; exit 1; }
done

cd "$ROOT"
cargo build --release -q -p tls-analyzer --features live
BIN=$ROOT/target/release/tls-analyzer
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
tcprewrite --pnat=127.0.0.0/8:198.18.0.0/15 --infile="$CAP" --outfile="$WORK/replay.pcap"
if [ -n "${RATE:-}" ]; then SPEED=(--pps="$RATE"); else SPEED=(--topspeed); fi

# CPU seconds (user + system) of process $1 so far.
cpu_seconds() {
    python3 -c 'import os,sys
f = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
print((int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK"))' "$1"
}

for t in ${THREADS[*]}; do
    logs=$WORK/logs-$t
    mkdir -p "$logs"
    "$BIN" log -i lo -f 'net 198.18.0.0/15' --threads "$t" --logdir "$logs" --stats-interval 1 \
        2> "$WORK/analyzer-$t.err" &
    pid=$!
    for _ in $(seq 100); do
        grep -q "listening on" "$WORK/analyzer-$t.err" 2>/dev/null && break
        sleep 0.1
    done
    idle=$(cpu_seconds "$pid")
    tcpreplay -i lo "${SPEED[@]}" --loop="$LOOPS" --unique-ip "$WORK/replay.pcap" \
        > "$WORK/tcpreplay-$t.out" 2>&1
    sleep 1
    busy=$(cpu_seconds "$pid")
    kill -INT "$pid"
    wait "$pid" || true
    rows=$(grep -vc '^#' "$logs/ssl.log" || true)
    echo "== --threads $t"
    grep -E "^Actual|^Rated" "$WORK/tcpreplay-$t.out" | sed 's/^/tcpreplay: /'
    grep -E "packets received" "$WORK/analyzer-$t.err" | sed 's/^/analyzer: /'
    python3 - "$logs/stats.log" "$idle" "$busy" "$rows" "$t" <<'EOF'
import collections, sys
path, idle, busy, rows, threads = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
fields, per_worker, dropped = None, collections.Counter(), 0
for line in open(path):
    cols = line.rstrip("\n").split("\t")
    if cols[0] == "#fields":
        fields = cols[1:]
    elif not line.startswith("#"):
        row = dict(zip(fields, cols))
        per_worker[row["peer"]] += int(row["pkts_proc"])
        dropped += int(row["pkts_dropped"])
analysed = sum(per_worker.values())
cpu = busy - idle
workers = ", ".join(f"{w} {n:,}" for w, n in sorted(per_worker.items()))
print(f"ssl.log rows {rows:,}; packets analysed {analysed:,} ({workers}); dropped {dropped:,}; "
      f"analyzer CPU {cpu:.2f} s; {analysed / cpu:,.0f} packets/s per CPU second "
      f"({threads} worker(s))")
EOF
done
