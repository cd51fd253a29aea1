#!/usr/bin/env python3
"""Markdown table of a run-matrix.sh results.jsonl: the median of the repetitions of each
(database, simulator, mode, concurrency), throughput spread in brackets.

    python3 crates/loadgen/summarize.py /tmp/orkestra-bench/results.jsonl"""
import collections
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
groups = collections.defaultdict(list)
for row in rows:
    db, sim, mode, c, _rep, _idle = row["label"].split("/")
    groups[(db, sim, int(c[1:]), mode)].append(row)
print("| database | simulator | concurrency | mode | req/s median (min–max) | p50 ms | p90 ms | p99 ms | max ms | errors | runs |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for key in sorted(groups):
    runs = groups[key]
    rps = [r["throughput_rps"] for r in runs]
    median = lambda name: statistics.median(r["latency"][name] for r in runs)
    errors = sum(r["requests"] - r["ok"] for r in runs)
    db, sim, c, mode = key
    print(
        f"| {db} | {sim} | {c} | {mode} | {statistics.median(rps):.0f} ({min(rps):.0f}–{max(rps):.0f}) "
        f"| {median('p50_ms'):.2f} | {median('p90_ms'):.2f} | {median('p99_ms'):.2f} | {median('max_ms'):.2f} "
        f"| {errors} | {len(runs)} |"
    )
