#!/bin/sh
# Runs the fuzz targets one after another (one libFuzzer process at a time: the CI machines
# and shared workstations have few cores), each for SECONDS (default 900), and keeps each
# target's libFuzzer log under fuzz/logs/ for docs/ROBUSTNESS.md.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      # default: all targets
#
# Seeds first: python3 fuzz/seeds.py. Crashes land in fuzz/artifacts/<target>/.
# quic_datagrams reads QUIC_FUZZ_FRAMES (0-100, default 50): the share of its mutations that
# edit decrypted Initial frames and seal them again (0: raw bytes only).
#
# Without cargo-fuzz (`cargo +nightly fuzz`), the targets are built with the flags cargo-fuzz
# passes (SanitizerCoverage, `--cfg fuzzing`, debug assertions, overflow checks) and the
# libFuzzer binaries are run directly.
# Without cargo-fuzz: fuzz/build.sh TARGET builds the same binary with nightly cargo, then run
# fuzz/target/x86_64-unknown-linux-gnu/release/TARGET corpus/TARGET -max_total_time=SECONDS.
set -eu
cd "$(dirname "$0")"
secs=${1:-900}
[ $# -gt 0 ] && shift
targets=${*:-parse_units ssl_stream dtls_datagrams capture quic_packet quic_datagrams structured_flight tunnels}
mkdir -p logs
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
for t in $targets; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "== $t for ${secs}s"
    # -s none: the workspace forbids unsafe code, so AddressSanitizer would only slow us down.
    # -jobs=1 -workers=1 keeps one fuzzing process; its log is fuzz-0.log in this directory.
    flags="-jobs=1 -workers=1 -max_total_time=$secs -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1"
    if cargo +nightly fuzz --help >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        cargo +nightly fuzz run -s none "$t" "corpus/$t" -- $flags || true
    else
        RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
            cargo +nightly build --release --target "$triple" --bin "$t"
        # shellcheck disable=SC2086
        "target/$triple/release/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" $flags || true
    fi
    mv -f fuzz-0.log "logs/$t.log" 2>/dev/null || true
    grep -E "DONE|Done|stat::|ERROR|panicked|SUMMARY" "logs/$t.log" | tail -12 || true
done
