#!/usr/bin/env bash
# Memory per idle connection (docs/PERFORMANCE.md): tls-analyzer's peak RSS on a synthetic
# capture of N concurrent TLS connections that each sent a ClientHello and never closed,
# against the same for a small baseline capture; prints the struct sizes that explain it.
#
# Usage: scripts/bench-memory.sh [N]   (default 100000; the baseline has 1000)
# Needs: cargo, GNU time (/usr/bin/time).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${1:-100000}
BASE=1000
OUT=$ROOT/target/bulk
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { echo "bench-memory: /usr/bin/time (GNU time) is required" >&2; exit 1; }

cargo build --release -q -p tls-analyzer
# Prints the per-connection struct sizes and writes the captures.
cargo bench -q -p pac-tests --bench conn_memory -- --write "$OUT/idle-$BASE.pcap" --connections "$BASE"
cargo bench -q -p pac-tests --bench conn_memory -- --write "$OUT/idle-$N.pcap" --connections "$N" |
    tail -n 1

peak_kb() { # capture
    /usr/bin/time -f "%M" "$ROOT/target/release/tls-analyzer" log "$1" 2>&1 >/dev/null | tail -n 1
}
base_kb=$(peak_kb "$OUT/idle-$BASE.pcap")
many_kb=$(peak_kb "$OUT/idle-$N.pcap")
echo "peak RSS: $base_kb KiB with $BASE connections, $many_kb KiB with $N connections"
echo "per connection: $((many_kb * 1024 / N)) B (peak / N), $(((many_kb - base_kb) * 1024 / (N - BASE))) B (marginal)"
