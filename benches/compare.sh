#!/usr/bin/env bash
# Prints the table of BENCHMARKS.md: twlint against awk and cat on the same generated files, in
# one run (benches/compare.rs). Run it on a machine that is otherwise idle; on a loaded one the
# figures are noisy (each is the median of several runs, the two commands of a row in turn).
#   benches/compare.sh                    # 7 runs per figure
#   TWLINT_BENCH_RUNS=15 benches/compare.sh
#   TWLINT_BIN=target/release/twlint benches/compare.sh   # another build, measured the same way
# The binary measured is the one the README's first command builds and the packages ship
# (`--profile dist`), unless TWLINT_BIN names another.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TWLINT_BIN:-}" ]; then
  cargo build --profile dist --quiet
  export TWLINT_BIN=$PWD/target/dist/twlint
fi
cargo bench --quiet --bench compare
