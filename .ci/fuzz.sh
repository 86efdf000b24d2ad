#!/usr/bin/env bash
# Fuzz smoke run: every target of fuzz/ for a bounded time from its seed corpus; fails on any
# crash (a panic anywhere from reading to rendering). Long runs are done by hand (BENCHMARKS.md).
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 enables them on the stable toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(sysctl dump topology rule capture suppress)
# The step's whole budget (two minutes) is shared by the targets, so adding one does not make CI
# slower; TWLINT_FUZZ_SECONDS sets each target's time for longer runs by hand.
seconds="${TWLINT_FUZZ_SECONDS:-$((120 / ${#targets[@]}))}"
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi

echo "== fuzz smoke run: ${#targets[@]} targets, ${seconds}s each"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== building the fuzz targets (no sanitizer: the code is safe Rust, panics are the target)"
(cd fuzz && cargo fuzz build -O -s none)
failed=0
for target in "${targets[@]}"; do
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
echo "fuzz: ${#targets[@]} targets, $failed crashed"
[ "$failed" -eq 0 ]
