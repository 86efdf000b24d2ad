#!/usr/bin/env bash
# Lab tests of `twlint observe` (tests/lab_observe.rs): TIME_WAIT and CLOSE_WAIT sockets made
# in throwaway network namespaces, counted by twlint and by ss. Needs root and namespaces;
# where they are impossible this step says so and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== observe: socket view against ss in network namespaces"
if [ "$(id -u)" != 0 ]; then
  echo "FAIL: the observe lab tests need root (to make network namespaces); running as uid $(id -u)" >&2
  exit 1
fi
if ! unshare -n true 2>/dev/null; then
  echo "FAIL: unshare -n cannot make a network namespace here; the observe lab tests cannot run" >&2
  exit 1
fi
for tool in ss ip sysctl; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (iproute2, procps)" >&2; exit 1; }
done
cargo test --release --test lab_observe -- --ignored --test-threads=1
