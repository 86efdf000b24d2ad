#!/usr/bin/env bash
# Lab step: twlint's middlebox figures against the real kernel (docs/guide/middleboxes.md).
#
# Three throwaway network namespaces (client, a NAT doing nftables masquerade, server) joined by
# two veth pairs created inside them; private addresses that exist only there; bounded loops. The
# host namespace is never changed: every sysctl and nft rule is written inside a namespace.
#
# 1. Conntrack population: the NAT's nf_conntrack_tcp_timeout_time_wait is shortened to 10 s and
#    the client opens a known rate of short connections, closing first. twlint is given the same
#    setup as a topology and predicts the conntrack entries the link keeps (its figure, not a
#    constant here); the TIME_WAIT entries counted in the NAT's namespace on the plateau must
#    match it within 10 %.
# 2. Idle pooled connection: the NAT's nf_conntrack_tcp_timeout_established is shortened to 3 s
#    (fully-random masquerade, as container networks use). A connection left idle for 6 s without
#    keepalive must fail on its next request, and twlint must call it dangerous (TW193); so must
#    one with SO_KEEPALIVE, tcp_keepalive_time 1 s and the default 75 s interval (probes come
#    every max(time, intvl)); with time and interval 1 s it must survive, and twlint must not.
#
# Needs root, iproute2 `ip`, nftables `nft` and python3. Where one is missing, or namespaces
# cannot be created, this step says so and FAILS: it never passes silently.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lab: middleboxes against the kernel ($(uname -r))"
# A fresh CI machine has no nftables: install it from Debian's packages (root only).
if ! command -v nft >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "lab-nat: installing nftables (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nftables >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nftables >/dev/null; }
fi
for tool in ip nft python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "lab-nat: FAIL: \`$tool\` is not installed (apt-get install iproute2 nftables python3)" >&2
    exit 1
  fi
done
cargo build --release --quiet
bin=./target/release/twlint
release=$(uname -r)

tag="twl$$"
C="${tag}c"; N="${tag}n"; S="${tag}s"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for ns in "$C" "$N" "$S"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

if ! ip netns add "$C" || ! ip netns add "$N" || ! ip netns add "$S"; then
  echo "lab-nat: FAIL: cannot create network namespaces (needs root and CAP_SYS_ADMIN)" >&2
  exit 1
fi
# The veth pairs are created inside the namespaces: nothing appears in the host's.
ip -n "$C" link add c0 type veth peer name n0 netns "$N"
ip -n "$S" link add s0 type veth peer name n1 netns "$N"
ip -n "$C" addr add 10.203.1.2/24 dev c0
ip -n "$N" addr add 10.203.1.1/24 dev n0
ip -n "$N" addr add 10.203.2.1/24 dev n1
ip -n "$S" addr add 10.203.2.2/24 dev s0
for ns in "$C" "$N" "$S"; do ip -n "$ns" link set lo up; done
ip -n "$C" link set c0 up; ip -n "$N" link set n0 up; ip -n "$N" link set n1 up; ip -n "$S" link set s0 up
ip -n "$C" route add default via 10.203.1.1
# The server has no route back to the client's network: only the masquerade makes replies work.
ip netns exec "$N" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
if [ "$(readlink /proc/self/ns/net)" = "$(ip netns exec "$N" readlink /proc/self/ns/net)" ]; then
  echo "lab-nat: FAIL: the NAT namespace is the host's" >&2
  exit 1
fi

nat_rules() { # $1: masquerade flags ("" or "fully-random")
  ip netns exec "$N" nft flush ruleset
  ip netns exec "$N" nft -f - <<EOF
table ip twlint_lab {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "n1" masquerade $1
  }
}
EOF
}
ct() { ip netns exec "$N" sh -c "echo $2 > /proc/sys/net/netfilter/$1"; }

# The server: echo every byte back; close when the client closes.
ip netns exec "$S" python3 -c '
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.203.2.2", 8080)); s.listen(4096)
def serve(c):
    with c:
        while True:
            b = c.recv(64)
            if not b:
                return
            c.sendall(b)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' &
pids+=($!)
sleep 1

twlint_json() { # topology file -> JSON report on stdout (exit 0 or 1 are both answers)
  set +e
  "$bin" --topology "$1" --format json --color never >"$tmp/report.json" 2>"$tmp/report.err"
  local rc=$?
  set -e
  if [ "$rc" -gt 1 ]; then
    echo "lab-nat: FAIL: twlint exited $rc on $1" >&2
    cat "$tmp/report.err" >&2
    exit 1
  fi
  cat "$tmp/report.json"
}

failed=0
rows=()

# ---- 1. conntrack population at a known rate ----
rate=50
nat_rules ""
ct nf_conntrack_tcp_timeout_time_wait 10
cat >"$tmp/pop.yaml" <<EOF
version: 1
nodes:
  - {name: client, role: app, kernel: "$release", addresses: [10.203.1.2]}
  - {name: nat, role: nat, kernel: "$release", addresses: [10.203.2.1], sysctl: {set: {net.netfilter.nf_conntrack_tcp_timeout_time_wait: 10}}}
  - {name: server, role: web, kernel: "$release", addresses: [10.203.2.2], listen: [8080]}
links:
  - {from: client, to: server, port: 8080, via: nat, closes_first: client, rate: $rate}
EOF
predicted=$(twlint_json "$tmp/pop.yaml" | python3 -c '
import json, sys
r = json.load(sys.stdin)
hop = [h for h in r["hops"] if h["link"] == "client->server"][0]
print(hop["conntrack"][0]["link_entries"])')
# The client: $rate connections a second for 25 s on a fixed schedule, each closed first.
ip netns exec "$C" python3 -c '
import socket, time, sys
rate, secs = int(sys.argv[1]), 25
t0 = time.monotonic()
for i in range(rate * secs):
    due = t0 + i / rate
    d = due - time.monotonic()
    if d > 0:
        time.sleep(d)
    c = socket.create_connection(("10.203.2.2", 8080), timeout=5)
    c.sendall(b"x"); c.recv(1); c.close()
' "$rate" &
client=$!
pids+=("$client")
# Sample the NAT namespace's TIME_WAIT entries on the plateau (after one timeout has passed).
sleep 14
samples=()
for _ in $(seq 1 8); do
  samples+=("$(ip netns exec "$N" grep -c TIME_WAIT /proc/net/nf_conntrack || true)")
  sleep 1
done
wait "$client"
measured=$(printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
verdict=$(python3 -c '
import sys
p, m = float(sys.argv[1]), float(sys.argv[2])
print("agree" if abs(m - p) <= 0.10 * p else "DISAGREE")' "$predicted" "$measured")
rows+=("| conntrack TIME_WAIT entries, $rate/s, timeout 10 s | $predicted | $measured (samples ${samples[*]}) | $verdict |")
[ "$verdict" = agree ] || failed=$((failed + 1))

# ---- 2. an idle pooled connection past a short established timeout ----
nat_rules "fully-random"
ct nf_conntrack_tcp_timeout_established 3
idle_case() { # $1: keepalive true|false; $2: client tcp_keepalive_time; $3: tcp_keepalive_intvl
  cat >"$tmp/idle.yaml" <<EOF
version: 1
nodes:
  - {name: client, role: app, kernel: "$release", addresses: [10.203.1.2], sysctl: {set: {net.ipv4.tcp_keepalive_time: $2, net.ipv4.tcp_keepalive_intvl: $3}}}
  - {name: nat, role: nat, kernel: "$release", addresses: [10.203.2.1], sysctl: {set: {net.netfilter.nf_conntrack_tcp_timeout_established: 3}}}
  - {name: server, role: web, kernel: "$release", addresses: [10.203.2.2], listen: [8080]}
links:
  - {from: client, to: server, port: 8080, via: nat, closes_first: client, rate: 1, open: 1, keepalive: $1}
EOF
  local v
  v=$(twlint_json "$tmp/idle.yaml" | python3 -c '
import json, sys
r = json.load(sys.stdin)
v = [v for v in r["verdicts"] if v["node"] == "nat" and v.get("side") == "via"
     and v["key"] == "net.netfilter.nf_conntrack_tcp_timeout_established"][0]
print("cut" if v["verdict"] == "dangerous" else "survives")')
  ip netns exec "$C" sh -c "echo $2 > /proc/sys/net/ipv4/tcp_keepalive_time; echo $3 > /proc/sys/net/ipv4/tcp_keepalive_intvl"
  local k
  k=$(ip netns exec "$C" python3 -c '
import socket, sys, time
c = socket.create_connection(("10.203.2.2", 8080), timeout=5)
if sys.argv[1] == "true":
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
c.sendall(b"a"); c.recv(1)
time.sleep(6)
try:
    c.settimeout(3)
    c.sendall(b"b")
    print("survives" if c.recv(1) == b"b" else "cut")
except OSError:
    print("cut")
' "$1")
  local verdict=agree
  [ "$v" = "$k" ] || verdict=DISAGREE
  rows+=("| idle 6 s past a 3 s established timeout, keepalive $1, tcp_keepalive_time $2, intvl $3 | $v | $k | $verdict |")
  [ "$verdict" = agree ] || failed=$((failed + 1))
}
idle_case false 7200 75
# After the first probe the keepalive timer is re-armed with the interval: time 1 s alone is
# not enough against a 3 s timeout, time and interval 1 s are.
idle_case true 1 75
idle_case true 1 1

echo "== lab-nat: agreement table"
echo "| scenario | twlint | kernel | |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if [ "$failed" -ne 0 ]; then
  echo "lab-nat: FAIL: $failed scenario(s) where the kernel and twlint disagree" >&2
  exit 1
fi
echo "lab-nat: ${#rows[@]} scenarios agree with the kernel"
