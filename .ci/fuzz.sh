#!/usr/bin/env bash
# Fuzz smoke run: every target of fuzz/ for a bounded time from its seed corpus; fails on any
# crash (a panic anywhere from reading to rendering). Long runs are done by hand (BENCHMARKS.md).
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 enables them on the stable toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${TWLINT_FUZZ_SECONDS:-30}"
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi

echo "== fuzz smoke run: 4 targets, ${seconds}s each"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== building the fuzz targets (no sanitizer: the code is safe Rust, panics are the target)"
(cd fuzz && cargo fuzz build -O -s none)
failed=0
for target in sysctl dump topology rule; do
  mkdir -p "$work/$target"
  echo "== fuzz $target for ${seconds}s"
  # The seeds are read, never written; new inputs go to a scratch corpus.
  if ! (cd fuzz && cargo fuzz run -O -s none "$target" "$work/$target" "seeds/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$work/$target-" 2>"$work/$target.log"); then
    echo "FAIL: fuzz target $target crashed; the input and the log:"
    ls "$work/$target-"* 2>/dev/null || true
    grep -a -A20 "panicked" "$work/$target.log" | head -40 || tail -40 "$work/$target.log"
    failed=$((failed + 1))
  else
    grep -a "^Done" "$work/$target.log" || tail -1 "$work/$target.log"
  fi
done
echo "fuzz: 4 targets, $failed crashed"
[ "$failed" -eq 0 ]
