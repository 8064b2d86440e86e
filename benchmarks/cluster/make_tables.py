"""Markdown tables of the cluster benchmark from ``results.jsonl``.

    python benchmarks/cluster/make_tables.py benchmarks/cluster/results.jsonl
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict

import numpy as np


def main(path: str) -> None:
    records = [json.loads(line) for line in open(path)]
    by = defaultdict(list)
    for r in records:
        by[(r["dataset"], r["method"])].append(r)

    def mean(ds: str, m: str, key: str) -> str:
        vals = [r[key] for r in by[(ds, m)] if key in r]
        if not vals:
            return ""
        return f"{np.mean(vals):.3f}" + (f" ± {np.std(vals):.3f}" if len(vals) > 1 else "")

    methods = ["lfd", "flow", "labels", "lppr", "ppr"]
    noise = sorted(float(d.split("-p")[1]) for d, m in by if d.startswith("planted") and m == "lfd")
    rule = "|" + "---|" * (len(methods) + 1)
    print("| noise | " + " | ".join(methods) + " |\n" + rule)
    for p in noise:
        print(f"| {p:g} | " + " | ".join(mean(f"planted-p{p}", m, "f1") for m in methods) + " |")
    print()
    print("| graph | " + " | ".join(methods) + " |\n" + rule)
    for ds in ("cora-lcc", "cora"):
        print(f"| {ds} | " + " | ".join(mean(ds, m, "f1") for m in methods) + " |")
    print()
    sizes = sorted(int(d.split("-")[1]) for d, m in by if d.startswith("locality") and m == "lfd")
    print("| nodes | method | ms / query | x smallest | nodes touched | F1 |\n"
          "|---|---|---|---|---|---|")
    for n in sizes:
        for m in ("lfd", "lppr"):
            r = by[(f"locality-{n}", m)][0]
            print(f"| {n:,} | {m} | {r['ms_per_query']:.1f} | {r['time_vs_smallest']:.2f} | "
                  f"{r['touched']:.0f} | {r['f1']:.3f} |")
    g = by[(f"locality-{sizes[-1]}", "global-ppr")][0]
    print(f"\nglobal PageRank on {sizes[-1]:,} nodes: {g['ms_per_query']:.0f} ms, "
          f"{g['global_over_lfd']:.0f}x one lfd query, {g['global_over_lppr']:.0f}x one lppr query")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/cluster/results.jsonl")
