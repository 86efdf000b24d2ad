#!/usr/bin/env bash
# Host mode against the real kernel: tests/host_netns.rs sets values, makes loopback traffic and
# takes snapshots inside throwaway network namespaces (`unshare -n`). Needs root; fails (never
# skips) when namespaces cannot be made.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! unshare -n true 2>/dev/null; then
  echo "host: cannot create a network namespace (unshare -n failed): this step needs root and namespaces" >&2
  exit 1
fi
command -v python3 >/dev/null || { echo "host: python3 is needed for the loopback traffic" >&2; exit 1; }
cargo test --release --test host_netns -- --ignored --test-threads=1
