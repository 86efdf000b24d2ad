#!/usr/bin/env bash
# Writes dist/symbol-order.txt: the functions the paths users run execute, those most runs share
# first, which .cargo/link-static.sh hands to the linker when it links the shipped binary
# (profile `dist`) so that those functions lie together at the start of the code.
#
# Why: the kernel maps an executable's code 64 KiB around each page a process touches
# (fault-around), and in link order the few thousand functions a run calls are spread over the
# whole 6 MB of code, so even a one-line file mapped 4.4 MiB of it. Laid out in order of use, the
# same run maps 1.7 MiB and starts faster (BENCHMARKS.md, "Code laid out in order of use").
#
# The names are written without what changes from build to build (dist/symbol-order.awk), and
# the link script maps them back onto the names of the objects it links. A name that no longer
# exists is skipped, so a list made before a change still works, only less well: run this again
# when the code has changed a lot (it takes about three minutes).
#
# Needs valgrind (callgrind lists every function a run executes) and procps's `sysctl`.
set -euo pipefail
cd "$(dirname "$0")/.."

target=target/symbol-order
CARGO_PROFILE_DIST_STRIP=false CARGO_TARGET_DIR=$target cargo build --locked --profile dist --bin twlint
bin=$PWD/$target/dist/twlint
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `sysctl -a` dumps of this host, enough for a fleet run to judge them on both cores; and a
# file over 1 MiB, which is recognised on both cores and has more findings than are drawn.
sysctl -a > "$work/dump-01.txt" 2>/dev/null || true
for i in $(seq -w 2 24); do cp "$work/dump-01.txt" "$work/dump-$i.txt"; done
for i in $(seq 1 26); do
  echo "# part $i"; cat "$work/dump-01.txt" examples/01-lint-sysctl-d/sysctl.d/*.conf
done > "$work/big.conf"

n=0
run() {
  n=$((n + 1))
  # Exit codes 1 and 2 are findings and partial runs; a crash under valgrind fails the script.
  local rc=0
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.$n" --demangle=no \
    --compress-strings=no --dump-instr=no "$bin" "$@" > /dev/null 2>> "$work/log" < /dev/null || rc=$?
  if [ "$rc" -gt 2 ]; then
    echo "symbol-order: twlint $* exited $rc" >&2
    tail -20 "$work/log" >&2
    exit 1
  fi
}

# The paths users run, most common first: a file, a topology, this host, a fleet, the catalog.
run examples/01-lint-sysctl-d/sysctl.d
run --format json examples/01-lint-sysctl-d/sysctl.d
run "$work/big.conf"
run --format json "$work/big.conf"
run --topology topologies/lb-web-db.yaml
run --format json --topology topologies/lb-web-db.yaml
run --live --node web --topology topologies/lb-web-db.yaml
run host --no-sockets
run host
run explain TW101
run rules
run "$work"/dump-*.txt
run --format json "$work"/dump-*.txt
run --format sarif examples/09-suppressions-config/sysctl.d --config examples/09-suppressions-config/twlint.yaml
run --diff examples/01-lint-sysctl-d/sysctl.d
run --topology topologies/k8s-ingress-app-db.yaml
run --topology topologies/app-pool-db.yaml --format sarif
run examples/10-kubernetes-compose/deployment.yaml examples/10-kubernetes-compose/docker-compose.yml
run examples/11-scripts-tuned-cloud-init/provision.sh examples/11-scripts-tuned-cloud-init/cloud-init.yaml
run examples/12-ansible-salt-nixos/sysctl.yml examples/12-ansible-salt-nixos/sysctl.sls \
  examples/12-ansible-salt-nixos/configuration.nix

# Every function a run executed, the functions most runs share first (so that any one run finds
# its code in as few pages as possible), then in order of first use. Callgrind marks a recursive
# call's name with `'N`, which the plain name drops; names without a symbol (callgrind's 0x
# addresses) and callgrind's own "(below main)" are left out.
for i in $(seq 1 "$n"); do
  sed -n 's/^fn=//p' "$work/cg.$i" | grep -v '^0x\|^(' |
    awk -v mode=plain -f dist/symbol-order.awk | awk '!seen[$0]++'
done |
  awk '!($0 in runs) { first[$0] = NR } { runs[$0]++ }
       END { for (f in runs) printf "%d %d %s\n", runs[f], first[f], f }' |
  sort -k1,1nr -k2,2n | cut -d' ' -f3- > dist/symbol-order.txt
echo "symbol-order: $(wc -l < dist/symbol-order.txt) functions from $n runs in dist/symbol-order.txt"
