#!/usr/bin/env bash
# Prints the table of BENCHMARKS.md: twlint against awk and cat on the same generated files, in
# one run (benches/compare.rs). Run it on a machine that is otherwise idle; on a loaded one the
# figures are noisy (each is the median of several runs, the two commands of a row in turn).
#   benches/compare.sh                    # 7 runs per figure
#   TWLINT_BENCH_RUNS=15 benches/compare.sh
#   TWLINT_BIN=target/release/twlint benches/compare.sh   # another build, measured the same way
# The binary measured is the one the README's first command builds and the packages ship
# (`--profile dist`), unless TWLINT_BIN names another, installed into a temporary folder as
# every way of installing twlint does (the tarball, the .deb, the wheel, `cargo install`). A
# file the linker has just written lies in the page cache in small pages, and a process that
# runs it faults in its code 64 KiB at a time; copied, the same bytes lie in large folios and
# fault less (`twlint explain TW101`: 0.89 ms run from target/dist, 0.65 ms copied, on the
# development VM). That is a state of the file, not of the program, so it is left out.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TWLINT_BIN:-}" ]; then
  cargo build --profile dist --quiet
  installed=$(mktemp -d)
  trap 'rm -rf "$installed"' EXIT
  install -m 0755 target/dist/twlint "$installed/twlint"
  export TWLINT_BIN=$installed/twlint
fi
cargo bench --quiet --bench compare
