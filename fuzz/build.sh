#!/bin/sh
# Builds the fuzz targets the way `cargo fuzz build -s none` does, for machines without
# cargo-fuzz: nightly, SanitizerCoverage instrumentation for libFuzzer, `--cfg fuzzing`, debug
# assertions and overflow checks, an explicit target so build scripts stay uninstrumented.
#
#   fuzz/build.sh [TARGET...]     # default: all; binaries in fuzz/target/x86_64-unknown-linux-gnu/release/
#
# Run one: fuzz/target/x86_64-unknown-linux-gnu/release/<target> corpus/<target> -max_total_time=60
set -eu
cd "$(dirname "$0")"
bins=""
for t in "$@"; do bins="$bins --bin $t"; done
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
    cargo +nightly build --release --target x86_64-unknown-linux-gnu $bins
