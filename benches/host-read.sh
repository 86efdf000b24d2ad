#!/usr/bin/env bash
# Host read against `sysctl -n` of the same keys (issue 3, item 7): goal, twlint's host read
# within 1.5x of `sysctl -n`. Both are whole processes, started the same way by hyperfine
# (no shell), so process start-up counts on both sides.
#
#   benches/host-read.sh            # build the release binary, then measure
#   RUNS=500 benches/host-read.sh   # more runs on a noisy machine
#
# `twlint host` reads everything host mode reads: the 9 in-scope keys, the release, the
# hostname, the addresses (net/fib_trie, net/if_inet6), the network namespace links and the
# counters (net/netstat, net/sockstat). `sysctl -n` reads the 9 keys only. `sysctl -a` is shown
# for scale. Needs hyperfine and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is needed" >&2; exit 1; }
RUNS=${RUNS:-300}
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/twlint"
keys="net.ipv4.tcp_tw_reuse net.ipv4.tcp_tw_recycle net.ipv4.tcp_timestamps net.ipv4.ip_local_port_range net.ipv4.tcp_fin_timeout net.ipv4.tcp_max_tw_buckets net.ipv4.ip_local_reserved_ports net.ipv4.tcp_tw_reuse_delay net.ipv4.ip_unprivileged_port_start"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
hyperfine -N --warmup 30 --runs "$RUNS" --export-json "$out" \
  -n "sysctl -n (9 keys)" "sysctl -n -e $keys" \
  -n "twlint host" "$bin host" \
  -n "twlint host --format json" "$bin host --format json" \
  -n "sysctl -a" "sysctl -a" >/dev/null
echo "kernel $(uname -r), $(nproc) cores, $RUNS runs each"
jq -r '
  (.results[0].median) as $base |
  ["command", "mean ms", "median ms", "median / sysctl -n"],
  (.results[] | [.command, (.mean * 1000 * 100 | round / 100), (.median * 1000 * 100 | round / 100), (.median / $base * 100 | round / 100)])
  | @tsv' "$out" | column -t -s $'\t'
