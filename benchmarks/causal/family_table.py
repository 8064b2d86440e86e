"""The table of the defaults against EconML given graph features from recorded cells.

For every dataset, over the seeds where ``graph-rlearner`` and both LinearDML
baselines are recorded: their mean PEHE; the ratio of ``graph-rlearner``'s PEHE to the
better LinearDML's (by mean), from the means and from the medians; the paired t-test
p-value against it; the seeds where ``graph-rlearner`` has the lower PEHE; the mean
ATE errors. The CausalForestDML baselines are given as mean PEHE over the seeds they
have (their count in brackets), with the ratio against the best of all baselines on
the seeds every method has.

``--ours METHOD`` puts another method in the place of ``graph-rlearner``: records made
before the default averaged two nuisance pairs name today's default
``graph-rlearner-members`` (and the single-pair learner ``graph-rlearner``).

Usage: python benchmarks/causal/family_table.py [--ours METHOD] RESULTS.jsonl [...]
"""
import json
import sys
from collections import defaultdict

import numpy as np
from scipy.stats import ttest_rel

args = sys.argv[1:]
OURS = "graph-rlearner"
if args[:1] == ["--ours"]:
    OURS, args = args[1], args[2:]
LINEAR = ("econml-linear-h1", "econml-linear-h2")
FORESTS = ("econml-forest-h1", "econml-forest-h2")


def pehe(got: dict, method: str, seeds: list) -> np.ndarray:
    return np.array([got[(method, s)]["pehe"] for s in seeds])


def common_seeds(got: dict, methods: tuple) -> list:
    return sorted(s for s in {s for _, s in got}
                  if all((m, s) in got for m in methods))


cells = defaultdict(dict)
for path in args:
    for line in open(path):
        r = json.loads(line) if line.strip() else {}
        if "method" in r and "dataset" in r:
            cells[r["dataset"]][(r["method"], r["seed"])] = r
print("| dataset | seeds | " + " | ".join((OURS,) + LINEAR)
      + " | ratio (means) | ratio (medians) | paired p | wins | ATE error ours / LinearDML "
      "| " + " | ".join(FORESTS) + " | ratio to the best of all (seeds) |")
print("|---" * 13 + "|")
for dataset in sorted(cells):
    got = cells[dataset]
    seeds = common_seeds(got, (OURS,) + LINEAR)
    if not seeds:
        continue
    ours = pehe(got, OURS, seeds)
    best = min(LINEAR, key=lambda m: pehe(got, m, seeds).mean())
    theirs = pehe(got, best, seeds)
    ate = [np.mean([got[(m, s)]["ate_error"] for s in seeds]) for m in (OURS, best)]
    forests = []
    for m in FORESTS:
        have = [s for s in seeds if (m, s) in got]
        forests.append(f"{pehe(got, m, have).mean():.3f} ({len(have)})" if have else "-")
    every = common_seeds(got, (OURS,) + LINEAR + FORESTS)
    overall = "-"
    if every:
        top = min(LINEAR + FORESTS, key=lambda m: pehe(got, m, every).mean())
        overall = (f"{pehe(got, OURS, every).mean() / pehe(got, top, every).mean():.2f} "
                   f"({len(every)})")
    print(f"| {dataset} | {len(seeds)} | {ours.mean():.3f} | "
          + " | ".join(f"{pehe(got, m, seeds).mean():.3f}" for m in LINEAR)
          + f" | {ours.mean() / theirs.mean():.2f} | "
          f"{np.median(ours) / np.median(theirs):.2f} | "
          f"{ttest_rel(ours, theirs).pvalue:.2g} | {int((ours < theirs).sum())}/{len(seeds)} "
          f"| {ate[0]:.3f} / {ate[1]:.3f} | " + " | ".join(forests) + f" | {overall} |")
