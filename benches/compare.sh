#!/usr/bin/env bash
# Prints the table of BENCHMARKS.md: twlint against awk and cat on the same generated files, in
# one run (benches/compare.rs). Run it on a machine that is otherwise idle; on a loaded one the
# figures are noisy (each is the fastest of several runs, for twlint and the reference alike).
#   benches/compare.sh                    # 7 runs per figure
#   TWLINT_BENCH_RUNS=15 benches/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
cargo bench --quiet --bench compare
