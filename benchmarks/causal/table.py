"""Markdown table of mean PEHE per method, paired t-test p-values against gnn-gnn.

Usage: python benchmarks/causal/table.py benchmarks/causal/results.jsonl
       python benchmarks/causal/table.py benchmarks/causal/full    (a bench --out folder)
"""
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import ttest_rel

source = Path(sys.argv[1])
if source.is_dir():
    rows = [json.loads(p.read_text()) for p in sorted(source.glob("cells/causal/*.json"))]
else:
    rows = [json.loads(line) for line in source.open()]
pehe = defaultdict(dict)
for r in rows:
    pehe[(r["dataset"], r["method"])][r["seed"]] = r["pehe"]
for dataset in sorted({r["dataset"] for r in rows}):
    ref = pehe[(dataset, "gnn-gnn")]
    print(f"\n**{dataset}** ({len(ref)} seeds; p: paired t-test against gnn-gnn)\n")
    print("| method | PEHE mean ± sd | p |\n|---|---|---|")
    methods = sorted({m for d, m in pehe if d == dataset},
                     key=lambda m: np.mean(list(pehe[(dataset, m)].values())))
    for m in methods:
        v = pehe[(dataset, m)]
        seeds = sorted(set(v) & set(ref))
        a, b = np.array([v[s] for s in seeds]), np.array([ref[s] for s in seeds])
        p = "—" if m == "gnn-gnn" else f"{ttest_rel(a, b).pvalue:.1e}"
        print(f"| {m} | {a.mean():.3f} ± {a.std(ddof=1):.3f} | {p} |")
