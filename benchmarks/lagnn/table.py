"""Markdown tables of the LAGNN runs: accuracy mean +- std per method, paired t-test
of each LA-model against its backbone on the seeds both ran, run time, generator
share, and accuracy per degree bucket where recorded.

Usage: python benchmarks/lagnn/table.py benchmarks/lagnn/results/*.jsonl
"""
import json
import sys
from collections import defaultdict

import numpy as np
from scipy.stats import ttest_rel

rows = [json.loads(line) for path in sys.argv[1:] for line in open(path)]
by = defaultdict(dict)
for r in rows:
    by[(r["dataset"], r["method"])][r["seed"]] = r
for dataset in sorted({r["dataset"] for r in rows}):
    methods = [m for m in ("gcn", "la-gcn", "gat", "la-gat") if (dataset, m) in by]
    first = by[(dataset, methods[0])]
    buckets = [k for k in first[min(first)] if k.startswith("acc_deg")
               and not all(np.isnan(r[k]) for r in first.values())]   # empty buckets
    head = ["method", "seeds", "test acc. (%)", "vs backbone", "median run (s)",
            "generator share"] + [k.replace("acc_deg", "deg ") for k in buckets]
    print(f"\n**{dataset}**\n\n| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for m in methods:
        runs = by[(dataset, m)]
        acc = 100 * np.array([r["test_acc"] for r in runs.values()])
        secs = np.array([r["seconds"] for r in runs.values()])
        gen = np.array([r["generator_seconds"] for r in runs.values()])
        versus = ""
        base = by.get((dataset, m.removeprefix("la-")))
        if m.startswith("la-") and base:
            seeds = sorted(set(runs) & set(base))
            a = np.array([runs[s]["test_acc"] for s in seeds])
            b = np.array([base[s]["test_acc"] for s in seeds])
            p = ttest_rel(a, b).pvalue if len(seeds) > 1 else float("nan")
            versus = f"{100 * (a - b).mean():+.1f} (p={p:.1e}, {len(seeds)} paired)"
        cells = [m, str(len(runs)), f"{acc.mean():.1f} ± {acc.std():.1f}", versus,
                 f"{np.median(secs):.0f}",
                 f"{100 * np.median(gen / secs):.0f}%" if gen.any() else ""]
        cells += [f"{100 * np.nanmean([r[k] for r in runs.values()]):.1f}" for k in buckets]
        print("| " + " | ".join(cells) + " |")
