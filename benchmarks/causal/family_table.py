"""The table of the defaults against EconML given graph features from recorded cells.

For every dataset: mean PEHE of every method over the seeds all its methods share;
the ratio of ``graph-rlearner``'s PEHE to the best EconML baseline's (the baseline of
least mean PEHE), from the means and from the medians; the paired t-test p-value
against it; the seeds where ``graph-rlearner`` has the lower PEHE; the mean ATE errors.

Usage: python benchmarks/causal/family_table.py RESULTS.jsonl
"""
import json
import sys
from collections import defaultdict

import numpy as np
from scipy.stats import ttest_rel

OURS = "graph-rlearner"
BASELINES = ("econml-linear-h1", "econml-linear-h2", "econml-forest-h1", "econml-forest-h2")

records = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
cells = defaultdict(dict)
for r in records:
    cells[r["dataset"]][(r["method"], r["seed"])] = r
print("| dataset | seeds | " + " | ".join((OURS,) + BASELINES)
      + " | best baseline | ratio (means) | ratio (medians) | paired p | wins "
      "| ATE error ours / best |")
print("|---" * (len(BASELINES) + 9) + "|")
for dataset in sorted(cells):
    got = cells[dataset]
    seeds = sorted(s for s in {s for _, s in got}
                   if all((m, s) in got for m in (OURS,) + BASELINES))
    if not seeds:
        continue
    pehe = {m: np.array([got[(m, s)]["pehe"] for s in seeds]) for m in (OURS,) + BASELINES}
    ate = {m: np.array([got[(m, s)]["ate_error"] for s in seeds]) for m in pehe}
    best = min(BASELINES, key=lambda m: pehe[m].mean())
    p = ttest_rel(pehe[OURS], pehe[best]).pvalue
    print(f"| {dataset} | {len(seeds)} | "
          + " | ".join(f"{pehe[m].mean():.3f}" for m in (OURS,) + BASELINES)
          + f" | {best} | {pehe[OURS].mean() / pehe[best].mean():.2f} | "
          f"{np.median(pehe[OURS]) / np.median(pehe[best]):.2f} | {p:.2g} | "
          f"{int((pehe[OURS] < pehe[best]).sum())}/{len(seeds)} | "
          f"{ate[OURS].mean():.3f} / {ate[best].mean():.3f} |")
