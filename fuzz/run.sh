#!/bin/sh
# Runs the fuzz targets one after another (one libFuzzer process at a time: the CI machines
# and shared workstations have few cores), each for SECONDS (default 900), and keeps each
# target's libFuzzer log under fuzz/logs/ for docs/ROBUSTNESS.md.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      # default: all targets
#
# Seeds first: python3 fuzz/seeds.py. Crashes land in fuzz/artifacts/<target>/.
set -eu
cd "$(dirname "$0")"
secs=${1:-900}
[ $# -gt 0 ] && shift
targets=${*:-parse_units ssl_stream dtls_datagrams capture quic_packet tunnels}
mkdir -p logs
for t in $targets; do
    mkdir -p "corpus/$t"
    echo "== $t for ${secs}s"
    # -s none: the workspace forbids unsafe code, so AddressSanitizer would only slow us down.
    # -jobs=1 -workers=1 keeps one fuzzing process; its log is fuzz-0.log in this directory.
    cargo +nightly fuzz run -s none "$t" "corpus/$t" -- \
        -jobs=1 -workers=1 -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 || true
    mv -f fuzz-0.log "logs/$t.log" 2>/dev/null || true
    grep -E "DONE|Done|stat::|ERROR|panicked|SUMMARY" "logs/$t.log" | tail -12 || true
done
