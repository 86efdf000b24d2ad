#!/usr/bin/env bash
# The topology pictures (tests/diagram.rs): Graphviz from Debian's packages lays out the
# `--format dot` graph of every shipped topology. The Mermaid text is read back by the grammar
# test that plain `cargo test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== diagram: Graphviz renders --format dot"
if ! command -v dot >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "FAIL: Graphviz's dot is missing and installing it needs root (apt-get install graphviz)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
fi
dot -V
cargo test --test diagram -- --ignored graphviz_renders
