#!/usr/bin/env bash
# Host read against `sysctl -n` of the same keys (issue 3, item 7): goal, twlint's host read
# within 1.5x of `sysctl -n`. Both are whole processes, started the same way (no shell), so
# process start-up counts on both sides.
#
#   benches/host-read.sh            # build the release binary, then measure
#   RUNS=500 benches/host-read.sh   # more runs on a noisy machine
#   TWLINT_BIN=path/to/twlint benches/host-read.sh   # measure another build (see BENCHMARKS.md)
#
# `twlint host` reads everything host mode reads: the 9 in-scope keys, the release, the
# hostname, the addresses (net/fib_trie, net/if_inet6), the network namespace links and the
# counters (net/netstat, net/sockstat). `sysctl -n` reads the 9 keys only. `sysctl -a` is shown
# for scale. Wall times come from hyperfine (medians: a shared machine has outliers); CPU time
# and page faults from `perf stat` when perf is installed (steadier under load). Needs
# hyperfine and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is needed" >&2; exit 1; }
RUNS=${RUNS:-300}
if [ -n "${TWLINT_BIN:-}" ]; then
  bin=$TWLINT_BIN
else
  cargo build --release --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/twlint"
fi
keys="net.ipv4.tcp_tw_reuse net.ipv4.tcp_tw_recycle net.ipv4.tcp_timestamps net.ipv4.ip_local_port_range net.ipv4.tcp_fin_timeout net.ipv4.tcp_max_tw_buckets net.ipv4.ip_local_reserved_ports net.ipv4.tcp_tw_reuse_delay net.ipv4.ip_unprivileged_port_start"
# The value read is `twlint host --no-sockets`; the socket view (netlink sock_diag) is measured
# apart by benches/sockets.sh, and shown here with it for scale.
names=("sysctl -n (9 keys)" "twlint host --no-sockets" "twlint host --no-sockets --format json" "twlint host (with sockets)" "sysctl -a")
cmds=("sysctl -n -e $keys" "$bin host --no-sockets" "$bin host --no-sockets --format json" "$bin host" "sysctl -a")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
args=()
for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
hyperfine -N --warmup 30 --runs "$RUNS" --export-json "$out" "${args[@]}" >/dev/null 2>&1
echo "kernel $(uname -r), $(nproc) cores, $RUNS runs each"
echo
echo "wall time (hyperfine)"
jq -r '
  (.results[0].median) as $base |
  ["command", "mean ms", "median ms", "median / sysctl -n"],
  (.results[] | [.command, (.mean * 1000 * 100 | round / 100), (.median * 1000 * 100 | round / 100), (.median / $base * 100 | round / 100)])
  | @tsv' "$out" | column -t -s $'\t'
if command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1; then
  echo
  echo "CPU time and page faults (perf stat, $RUNS runs)"
  base=""
  printf '%-28s %10s %12s %20s\n' command "task ms" "page faults" "task / sysctl -n"
  for i in "${!cmds[@]}"; do
    # shellcheck disable=SC2086
    stats=$(perf stat -x, -r "$RUNS" -e task-clock,page-faults ${cmds[$i]} 2>&1 >/dev/null)
    ms=$(echo "$stats" | awk -F, '/task-clock/ {printf "%.2f", $1}')
    pf=$(echo "$stats" | awk -F, '/page-faults/ {print $1}')
    [ -z "$base" ] && base=$ms
    printf '%-28s %10s %12s %20s\n' "${names[$i]}" "$ms" "$pf" "$(awk -v a="$ms" -v b="$base" 'BEGIN {printf "%.2f", a / b}')"
  done
fi
