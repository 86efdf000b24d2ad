#!/usr/bin/env bash
# Lab step: twlint's capacity predictions (tests/lab_capacity.rs) and its topology model
# (tests/lab_model.rs: server-side TIME_WAIT, source addresses, fresh namespaces, open
# connections) against the real kernel.
# Every scenario runs in a fresh network namespace (unshare -n), loopback only, bounded loops;
# the host namespace's sysctls are never written. Needs root, util-linux `unshare` and iproute2
# `ip`. Where a namespace cannot be created this step says so and FAILS: it never passes silently.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lab: capacity model against the kernel ($(uname -r))"
for tool in unshare ip; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "lab: FAIL: \`$tool\` is not installed; the lab tests need util-linux and iproute2" >&2
    exit 1
  fi
done
if ! probe=$(unshare -n -- sh -c 'ip link set lo up && readlink /proc/self/ns/net' 2>&1); then
  echo "lab: FAIL: cannot create a network namespace (unshare -n: ${probe:-no output})." >&2
  echo "lab: these tests need root (CAP_SYS_ADMIN) and network namespaces; run .ci/run as root" >&2
  echo "lab: on a machine or container that allows unshare(CLONE_NEWNET)." >&2
  exit 1
fi
if [ "$probe" = "$(readlink /proc/self/ns/net)" ]; then
  echo "lab: FAIL: unshare -n did not give a new network namespace ($probe)" >&2
  exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0
for t in lab_capacity lab_model; do
  cargo test --release --test "$t" -- --ignored --test-threads=1 --nocapture 2>&1 | tee -a "$out"
  # Guard against a run that passes because nothing ran (a renamed file, a filter).
  n=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$out" | tail -1)
  if [ -z "$n" ] || [ "$n" -eq 0 ]; then
    echo "lab: FAIL: no test of $t ran" >&2
    exit 1
  fi
  passed=$((passed + n))
done
echo "== lab: agreement table (every scenario above, once more)"
grep -m1 '^| scenario' "$out"
grep -m1 '^|---' "$out"
grep '^| ' "$out" | grep -v '^| scenario' || true
echo "lab: $passed scenarios agree with the kernel"

echo "== lab: procps and systemd-sysctl end states against twlint's (tests/lab_appliers.rs)"
for tool in sysctl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "lab: FAIL: \`$tool\` (procps) is not installed" >&2
    exit 1
  fi
done
if [ ! -x /lib/systemd/systemd-sysctl ] && [ ! -x /usr/lib/systemd/systemd-sysctl ]; then
  echo "lab: FAIL: systemd-sysctl is not installed; the appliers lab needs it" >&2
  exit 1
fi
cargo test --release --test lab_appliers -- --ignored --test-threads=1 --nocapture 2>&1 | tee "$out"
passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$out" | tail -1)
if [ -z "$passed" ] || [ "$passed" -eq 0 ]; then
  echo "lab: FAIL: no appliers lab test ran" >&2
  exit 1
fi
echo "lab: $passed appliers scenarios agree with procps and systemd-sysctl"
