#!/usr/bin/env python3
"""End-to-end check of the monitoring files against what twlint really writes.

    monitoring/fleet-check.py TWLINT WORKDIR

Runs the twlint binary on the captures of tests/fixtures/host (host mode: the lb snapshot, the
web sosreport, the db /proc copy, each with the seed topology) and on topologies/loadgen.yaml,
as four hosts of a fleet would write their textfiles. Their samples become the input series of a
`promtool test rules` file (the labels a node_exporter scrape adds, counters growing, gauges
flat), beside node_exporter's own conntrack and textfile-age series. The test then checks:

  * every query of grafana-dashboard.json, recorded as a rule, returns data on that fleet (a
    panel over a metric twlint does not write, or a broken query, fails);
  * the alerts of twlint.rules.yml that these captures should raise are raised, on the hosts
    they should be raised on, and the others stay quiet.

Only the standard library: promtool reads YAML, and JSON is YAML.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

twlint, work = sys.argv[1], Path(sys.argv[2])
repo = Path(__file__).resolve().parent.parent
work.mkdir(parents=True, exist_ok=True)

TOPO = "topologies/lb-web-db.yaml"
HOSTS = {
    # instance: twlint arguments
    "lb-1:9100": ["--topology", TOPO, "--root", "tests/fixtures/host/snapshot-lb"],
    "web-2:9100": ["--topology", TOPO, "--root", "tests/fixtures/host/sosreport-web"],
    "db-1:9100": ["--topology", TOPO, "--root", "tests/fixtures/host/proc-db", "--node", "db"],
    "loadgen-1:9100": ["--topology", "topologies/loadgen.yaml", "--no-live"],
}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')

series, kinds = [], {}
for instance, args in HOSTS.items():
    out = subprocess.run([twlint, *args, "--format", "prometheus", "--fail-on", "never"],
                         cwd=repo, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"twlint {' '.join(args)} exited {out.returncode}: {out.stderr}")
    (work / f"{instance.split(':')[0]}.prom").write_text(out.stdout)
    for line in out.stdout.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            kinds[name] = kind
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            sys.exit(f"{instance}: not a sample: {line}")
        name, labels, value = m.group(1), m.group(3) or "", float(m.group(4))
        labels = (labels + "," if labels else "") + f'instance="{instance}",job="node"'
        # 30 minutes of scrapes a minute apart: a counter grows (as on a busy host), a gauge
        # stays where the capture has it.
        values = f"{value:g}+{max(value / 100, 1):g}x30" if kinds[name] == "counter" else f"{value:g}x30"
        series.append({"series": f"{name}{{{labels}}}", "values": values})
if not any(k == "counter" for k in kinds.values()):
    sys.exit("no counter family in twlint's output")
# node_exporter's own series the rules and the dashboard join with.
for instance in HOSTS:
    series.append({"series": f'node_textfile_mtime_seconds{{instance="{instance}",job="node",file="/var/lib/node_exporter/textfile_collector/twlint.prom"}}',
                   "values": "0+60x30"})
    series.append({"series": f'node_nf_conntrack_entries{{instance="{instance}",job="node"}}', "values": "240000x30"})
    series.append({"series": f'node_nf_conntrack_entries_limit{{instance="{instance}",job="node"}}', "values": "262144x30"})

# Every dashboard query as a recording rule, and an alert when it returns nothing.
dash = json.loads((repo / "monitoring/grafana-dashboard.json").read_text())
rules, names = [], []
for p in dash["panels"]:
    if p.get("datasource", {}).get("uid") != "${datasource}":
        sys.exit(f"panel {p['title']!r} does not use the dashboard's datasource variable")
    for t in p["targets"]:
        expr = t["expr"].replace("$instance", ".*").replace("$__rate_interval", "5m")
        rec = f"dashboard:panel{p['id']}_{t['refId']}"
        names.append((rec, p["title"]))
        rules.append({"record": rec, "expr": expr})
        rules.append({"alert": f"DashboardQueryEmpty_{p['id']}_{t['refId']}", "expr": f"absent({rec})"})
(work / "dashboard.rules.yml").write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}, indent=1))

# What these captures must raise: the seed topology's lb, web and db carry dangerous verdicts,
# loadgen's hop declares 18.6x its ports; lb is the only middlebox, so only it gets the
# conntrack alert although every host's table is 92% full.
dangerous = {}
for instance in HOSTS:
    text = (work / f"{instance.split(':')[0]}.prom").read_text()
    for m in re.finditer(r'^twlint_verdicts\{node="([^"]+)",verdict="dangerous"\} (\d+)$', text, re.M):
        if int(m.group(2)) > 0:
            dangerous[(instance, m.group(1))] = int(m.group(2))
expected = {
    "TwlintDangerousSetting": [{"exp_labels": {"severity": "warning", "instance": i, "node": n}}
                               for (i, n) in sorted(dangerous)],
    "TwlintConntrackNearLimit": [{"exp_labels": {"severity": "critical", "instance": "lb-1:9100", "job": "node"}}],
    "TwlintDeclaredRateExceedsPorts": [{"exp_labels": {"severity": "warning", "instance": "loadgen-1:9100", "job": "node",
                                                       "from": "loadgen", "link": "loadgen->web", "to": "web"}}],
}
if not dangerous:
    sys.exit("none of the captures has a dangerous verdict: the check would prove nothing")


overflow = sorted({re.search(r'instance="([^"]+)"', s["series"]).group(1)
                   for s in series if 'counter="TCPTimeWaitOverflow"' in s["series"]})
# The firing alerts, by name and host, compared whole through the ALERTS series (annotations
# are the unit tests' business, twlint.rules.test.yml): what fires is exactly what should.
firing = {}
for name, alerts in expected.items():
    for a in alerts:
        key = (name, a["exp_labels"]["instance"])
        firing[key] = firing.get(key, 0) + 1
# The series above grow every counter, TCPTimeWaitOverflow too, on every host that has it.
for instance in overflow:
    firing[("TwlintTimeWaitOverflow", instance)] = 1
test = {
    "rule_files": ["dashboard.rules.yml", str(repo / "monitoring/twlint.rules.yml")],
    "evaluation_interval": "1m",
    "tests": [{
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [
            {"eval_time": "25m", "alertname": r["alert"], "exp_alerts": []}
            for r in rules if "alert" in r
        ],
        "promql_expr_test": [{
            "expr": 'count by (alertname, instance) (ALERTS{alertstate="firing",alertname=~"Twlint.*"})',
            "eval_time": "31m",
            "exp_samples": [{"labels": f'{{alertname="{a}",instance="{i}"}}', "value": n}
                            for (a, i), n in sorted(firing.items())],
        }],
    }],
}
(work / "fleet.test.yml").write_text(json.dumps(test, indent=1))
print(f"fleet: {len(HOSTS)} hosts, {len(series)} series, {len(names)} dashboard queries, "
      f"{len(dangerous)} dangerous nodes, {len(overflow)} TCPTimeWaitOverflow series")
