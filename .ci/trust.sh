#!/usr/bin/env bash
# Trust checks (issue 5): twlint reads files as procps/systemd/the kernel do (differential, in
# throwaway namespaces), survives hostile input, and never writes (strace). Needs root, network
# namespaces, strace, and ../shared/corpus/real. Fails (never skips) when any of them is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== trust: tools"
if ! command -v strace >/dev/null; then
  apt-get install -y strace >/dev/null || { apt-get update >/dev/null && apt-get install -y strace >/dev/null; }
fi
for tool in strace unshare sysctl; do
  command -v "$tool" >/dev/null || { echo "trust: $tool is missing" >&2; exit 1; }
done
if [ "$(id -u)" -ne 0 ] || ! unshare -n -m true 2>/dev/null; then
  echo "trust: network and mount namespaces are not available (unshare -n -m needs root): FAIL" >&2
  exit 1
fi

echo "== trust: hostile input and containment"
cargo test --release --test hostile --test topology_containment

echo "== trust: read-only, under strace, every mode"
cargo test --release --test readonly -- --include-ignored

echo "== trust: differential against procps-ng, systemd-sysctl and the kernel"
TWLINT_CORPUS="${TWLINT_CORPUS:-../shared/corpus/real}" \
  cargo test --release --test differential -- --ignored --nocapture --test-threads=1
