#!/usr/bin/env bash
# Socket-view benchmark: `twlint observe` against `ss -tan state time-wait | wc -l`, both run
# in the same throwaway network namespace holding N TIME_WAIT sockets (made by benches/twgen.rs).
#
#   sudo benches/sockets.sh                 # N = 10000 100000 300000, 7 runs each
#   RUNS=11 sudo benches/sockets.sh 100000  # other sizes or run counts
#
# Needs root (unshare -n). Never touches the host's own namespace: every sysctl is written
# inside the new one. TIME_WAIT lasts 60 s, so each size is generated, then measured at once
# (runs alternate between the two commands so both see the same population).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "benches/sockets.sh needs root to create network namespaces (unshare -n)" >&2
  exit 1
fi
target=${CARGO_TARGET_DIR:-target}
runs=${RUNS:-7}
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(10000 100000 300000)

cargo build --release --quiet
rustc -O --edition 2021 benches/twgen.rs -o "$target/release/twgen"
twlint=$(realpath "$target/release/twlint")
twgen=$(realpath "$target/release/twgen")

echo "kernel $(uname -r), $(nproc) cores, $(ss --version), twlint $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
if ! command -v perf >/dev/null; then
  echo "perf (linux-tools) is missing: it measures the CPU time columns" >&2
  exit 1
fi
echo "wall: median elapsed of $runs runs; cpu: task-clock (user + system, children included), median of $runs"
printf '%8s %8s %10s %10s %6s %10s %10s %6s %11s\n' "sockets" "seen" "observe" "ss|wc" "ratio" \
  "obs cpu" "ss cpu" "ratio" "observe RSS"
for n in "${counts[@]}"; do
  TWLINT=$twlint TWGEN=$twgen N=$n RUNS=$runs unshare -n bash -c '
    set -euo pipefail
    ip link set lo up
    sysctl -qw net.ipv4.tcp_tw_reuse=0 net.ipv4.ip_local_port_range="1024 65535" \
      net.ipv4.tcp_max_tw_buckets=1000000
    # 20 destinations (127.0.0.1-20) so no tuple needs more than its 64512 ports.
    "$TWGEN" tw "$N" 20 2>/dev/null
    now() { date +%s%N; }
    obs=(); sst=(); oc=(); sc=(); seen=0
    cpu() { perf stat -x, -e task-clock -o /tmp/twlint-bench-perf "$@" >/dev/null;
            awk -F, "/task-clock/ {print \$1}" /tmp/twlint-bench-perf; }
    for i in $(seq "$RUNS"); do
      t0=$(now); "$TWLINT" observe --format json >/dev/null; t1=$(now)
      seen=$(ss -tan state time-wait | wc -l); t2=$(now)
      obs+=($(( (t1 - t0) / 1000 ))); sst+=($(( (t2 - t1) / 1000 )))
      oc+=($(cpu "$TWLINT" observe --format json))
      sc+=($(cpu sh -c "ss -tan state time-wait | wc -l"))
    done
    rss=$( { /usr/bin/time -f "%M" "$TWLINT" observe --format json >/dev/null; } 2>&1 )
    median() { printf "%s\n" "$@" | sort -n | awk "{a[NR]=\$1} END {print a[int((NR+1)/2)]}"; }
    mo=$(median "${obs[@]}"); ms=$(median "${sst[@]}")
    co=$(median "${oc[@]}"); cs=$(median "${sc[@]}")
    awk -v n="$N" -v seen="$((seen - 1))" -v mo="$mo" -v ms="$ms" -v co="$co" -v cs="$cs" -v rss="$rss" \
      "BEGIN { printf \"%8d %8d %7.1f ms %7.1f ms %6.2f %7.1f ms %7.1f ms %6.2f %7d KiB\n\", n, seen, mo/1000, ms/1000, mo/ms, co, cs, co/cs, rss }"
    rm -f /tmp/twlint-bench-perf
  '
done
