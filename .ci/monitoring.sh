#!/usr/bin/env bash
# Monitoring step: the alerting rules and the Grafana dashboard of monitoring/ against
# Prometheus' own checker and against what twlint really writes. Installs Debian's prometheus
# package for promtool (about 20 s). Uses the release binary .ci/run built (builds it if absent).
#   1. promtool check rules: the rules file is valid;
#   2. promtool test rules: every alert's unit tests (fires where it should, quiet beside);
#   3. monitoring/fleet-check.py: four hosts' textfiles written by twlint from the captures in
#      tests/fixtures/host and topologies/, as series; every dashboard query returns data on
#      them and exactly the expected alerts fire.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null; then
  echo "== monitoring: installing promtool (Debian's prometheus package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends prometheus >/dev/null; }
fi
promtool --version | head -1
bin=./target/release/twlint
[ -x "$bin" ] || cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== monitoring: promtool check rules"
promtool check rules monitoring/twlint.rules.yml
echo "== monitoring: promtool test rules (unit tests of every alert)"
(cd monitoring && promtool test rules twlint.rules.test.yml)
echo "== monitoring: the dashboard and the alerts on twlint's own textfiles"
python3 monitoring/fleet-check.py "$bin" "$work"
(cd "$work" && promtool test rules fleet.test.yml)
echo "monitoring: 3 passed, 0 failed"
