"""An option of the Graph R-Learner against the ``graph-rlearner`` rows and EconML
given graph features, from recorded suite rows (``graph-rlearner`` is the default of
the run that recorded the rows: the single-pair learner in the records made before
the default averaged two nuisance pairs, where ``graph-rlearner-members`` is today's
default).

For every dataset where METHOD is recorded, over the seeds that also have
``graph-rlearner`` and every EconML baseline recorded for the dataset: the best
EconML baseline's mean PEHE (the best by mean), the default's and METHOD's mean
PEHE with their ratios to it, the paired t-test p-value of METHOD against the
default and the seeds where METHOD is better / tied (within 1e-9) / worse.
Ratios above the goal are bold: 0.8x for an effect nonlinear in the graph, 1.05x
for the linear and constant effects (which LinearDML on the propagated covariates
represents exactly).

Usage: python benchmarks/causal/option_table.py METHOD RESULTS.jsonl [RESULTS.jsonl ...]
"""
import json
import sys
from collections import defaultdict

import numpy as np
from scipy.stats import ttest_rel

DEFAULT = "graph-rlearner"
GOALS = {"linear": 1.05, "constant": 1.05}
GOAL = 0.8


def ratio(value: float, best: float, dataset: str) -> str:
    text = f"{value / best:.2f}x"
    goal = GOALS.get(dataset.split("-")[1], GOAL)
    return f"**{text}**" if value / best > goal else text


def suite_pehe(paths: list[str]) -> dict:
    """The PEHE of every suite row in ``paths``: ``{dataset: {method: {seed: pehe}}}``
    (rows of other scripts are skipped)."""
    cells: dict = defaultdict(lambda: defaultdict(dict))
    for path in paths:
        for line in open(path):
            r = json.loads(line)
            if "method" in r and "dataset" in r:
                cells[r["dataset"]][r["method"]][r["seed"]] = r["pehe"]
    return cells


def main() -> None:
    method, paths = sys.argv[1], sys.argv[2:]
    cells = suite_pehe(paths)
    print(f"| dataset | seeds | best EconML | default | {method} | p | "
          "seeds better / tied / worse |")
    print("|---" * 7 + "|")
    for dataset in sorted(d for d in cells if method in cells[d]):
        got = cells[dataset]
        baselines = [m for m in got if m.startswith("econml-")]
        seeds = sorted(s for s in got[method] if all(s in got[m] for m in
                                                     [DEFAULT] + baselines))
        if not seeds or not baselines:
            continue
        pehe = {m: np.array([got[m][s] for s in seeds]) for m in [method, DEFAULT]
                + baselines}
        best = min(pehe[m].mean() for m in baselines)
        ours, default = pehe[method], pehe[DEFAULT]
        diff = ours - default
        p = ttest_rel(ours, default).pvalue if np.any(diff) else 1.0
        counts = (diff < -1e-9).sum(), (abs(diff) <= 1e-9).sum(), (diff > 1e-9).sum()
        print(f"| {dataset} | {len(seeds)} | {best:.3f} | {default.mean():.3f} "
              f"({ratio(default.mean(), best, dataset)}) | {ours.mean():.3f} "
              f"({ratio(ours.mean(), best, dataset)}) | {p:.2g} | "
              + " / ".join(str(c) for c in counts) + " |")


if __name__ == "__main__":
    main()
