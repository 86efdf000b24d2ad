#!/usr/bin/env python3
"""Alternating fleet runs of several twlint binaries (BENCHMARKS.md, "Release profile and
static binary"): each round runs every binary once on the same dumps, so load from other work
falls on all of them alike; wall and CPU time per run, minimum and median, every exit 0.

    benches/fleet-compare.py ROUNDS DUMP_DIR NAME=BINARY...

The dumps: 1,500 files of benches/gen's `dump(i, 1300)`, e.g. written by a three-line program
that includes benches/gen/mod.rs with #[path] and is built with `rustc -O`.
"""
import glob
import resource
import statistics
import subprocess
import sys
import time

rounds, dump_dir = int(sys.argv[1]), sys.argv[2]
bins = dict(a.split("=", 1) for a in sys.argv[3:])
dumps = sorted(glob.glob(f"{dump_dir}/*.txt"))
res = {k: ([], []) for k in bins}
for _ in range(rounds):
    for k, b in bins.items():
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run([b, *dumps, "--fail-on", "never", "--color", "never"], stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0:
            sys.exit(f"{k}: exit {p.returncode}")
        res[k][0].append(wall * 1000)
        res[k][1].append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
for k, (w, c) in res.items():
    print(f"{k:16} wall min {min(w):6.1f} median {statistics.median(w):6.1f} ms | "
          f"cpu min {min(c):6.1f} median {statistics.median(c):6.1f} ms  ({rounds} runs, exit 0 each)")
