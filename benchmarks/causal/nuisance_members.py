"""Which nuisance pairs should the Graph R-Learner average its final stages over?
Effects of final stages fitted on the residuals of several (outcome, propensity)
pairs, averaged by several rules.

On ``network_causal(GRAPH, N, effect=EFFECT, treatment=TREATMENT)`` each nuisance kind
of ``GraphRLearner(nuisance_hops=(0, 1, 2, 3))`` is fitted alone with the suite's
settings (``max_epochs=200``): ``linear-k`` (``nuisance="linear", nuisance_hops=k``)
for k = 0 .. 3 and ``gnn``; the same ``random_state`` gives every kind the folds and
seeds it has inside the joint learner, so the residuals and out-of-fold losses are
the joint learner's. The outcome kinds and the propensity kinds are each ranked by
out-of-fold loss; a pair's effect is ``refit_final()`` (the default stage selection,
the pair's own trimming) on its residuals. Rules:

- ``default``: the pair the single-pair learner ``GraphRLearner(nuisance_hops=None,
  nuisance_members=1)`` selects (among ``linear-2`` and ``gnn``), the default when these
  rows were recorded; ``top2`` is today's default, ``GraphRLearner()``;
- ``sel``: the best outcome kind with the best propensity kind (``nuisance_hops``);
- ``topR``: the mean effect of the pairs (i-th outcome kind, i-th propensity kind),
  i < R, for R = 2, 3 and 5 (``ranked5``);
- ``cross2``: the mean over the two best outcome kinds times the two best propensity
  kinds (four pairs);
- ``lin4`` / ``kinds5``: the mean over the pairs (k, k) of every linear kind / every
  kind, whatever their losses.

One JSON line per seed: each kind's out-of-fold losses and each rule's PEHE (mean
squared error of tau).

Usage: python benchmarks/causal/nuisance_members.py GRAPH EFFECT TREATMENT N FIRST LAST
>> benchmarks/causal/results/nuisance_members.jsonl   (seeds FIRST .. LAST - 1)

``python benchmarks/causal/nuisance_members.py table ROWS.jsonl SUITE.jsonl ...`` prints
each rule's mean PEHE as a ratio to the best EconML baseline recorded in the suite
files on the same seeds, with the paired t-test p-value against ``default``.
"""
import json
import sys
import time
import warnings

import numpy as np
import torch
from scipy.stats import ttest_rel

from graphbias.causal import GraphRLearner
from graphbias.data.synthetic.network_causal import network_causal

from option_table import suite_pehe      # this directory's table script

HOPS = (0, 1, 2, 3)
RULES = ("default", "sel", "top2", "top3", "ranked5", "cross2", "lin4", "kinds5")


def fitted_kinds(d, seed: int) -> dict:
    """Every kind's learner, fitted alone on the joint learner's folds."""
    def fit(**kw):
        return GraphRLearner(max_epochs=200, random_state=seed, **kw).fit(
            d.Y, d.T, X=d.X, graph=d.graph)
    kinds = {f"linear-{k}": fit(nuisance="linear", nuisance_hops=k) for k in HOPS}
    kinds["gnn"] = fit(nuisance="gnn")
    return kinds


def dataset(row: dict) -> str:
    """The causal suite's name of a row's data."""
    name = f"{row['graph']}-{row['effect']}"
    name += "-threshold" if row["treatment"] == "threshold" else ""
    return name + ("" if row["num_nodes"] == 1000 else f"-n{row['num_nodes']}")


def table(rows_path: str, suite_paths: list[str]) -> None:
    recorded = suite_pehe(suite_paths)
    cells: dict = {}
    for line in open(rows_path):
        r = json.loads(line)
        cells.setdefault(dataset(r), []).append(r)
    print("| dataset | seeds | best EconML | " + " | ".join(RULES) + " |")
    print("|---" * (3 + len(RULES)) + "|")
    for name, rows in sorted(cells.items()):
        seeds = [r["seed"] for r in rows]
        baselines = [np.mean([got[s] for s in seeds])
                     for method, got in recorded.get(name, {}).items()
                     if method.startswith("econml-") and all(s in got for s in seeds)]
        if not baselines:
            sys.exit(f"no EconML baseline of {name} has seeds {seeds} in "
                     f"{suite_paths}: pass the suite results that record them")
        best = min(baselines)
        default = np.array([r["pehe_default"] for r in rows])
        out = []
        for rule in RULES:
            pehe = np.array([r[f"pehe_{rule}"] for r in rows])
            p = "" if rule == "default" else f", p {ttest_rel(pehe, default).pvalue:.2g}"
            out.append(f"{pehe.mean() / best:.2f}x{p}")
        print(f"| {name} | {len(rows)} | {best:.3f} | " + " | ".join(out) + " |")


def main() -> None:
    if sys.argv[1] == "table":
        table(sys.argv[2], sys.argv[3:])
        return
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    graph, effect, treatment = sys.argv[1:4]
    num_nodes, first, last = (int(a) for a in sys.argv[4:7])
    for seed in range(first, last):
        start = time.perf_counter()
        d = network_causal(graph, num_nodes, effect=effect, treatment=treatment,
                           seed=seed)
        learners = fitted_kinds(d, seed)
        loss = {key: {k: est.nuisance_scores_[key][est.nuisance_selected_[key]]
                      for k, est in learners.items()} for key in ("y", "t")}
        residuals = {k: est.residuals_ for k, est in learners.items()}
        est = learners["gnn"]
        effects: dict = {}

        def effect_of(ky: str, kt: str) -> np.ndarray:
            if (ky, kt) not in effects:
                est.residuals_ = (residuals[ky][0], residuals[kt][1])
                est._propensity_ = d.T - est.residuals_[1]
                effects[(ky, kt)] = est.refit_final().effect(d.X, graph=d.graph)
            return effects[(ky, kt)]

        ry, rt = (sorted(loss[key], key=loss[key].get) for key in ("y", "t"))
        default = [min(("linear-2", "gnn"), key=loss[key].get) for key in ("y", "t")]
        rules = {"default": [tuple(default)], "sel": [(ry[0], rt[0])],
                 "top2": list(zip(ry, rt))[:2], "top3": list(zip(ry, rt))[:3],
                 "ranked5": list(zip(ry, rt)),
                 "cross2": [(a, b) for a in ry[:2] for b in rt[:2]],
                 "lin4": [(f"linear-{k}",) * 2 for k in HOPS],
                 "kinds5": [(k, k) for k in learners]}
        row = {"graph": graph, "effect": effect, "treatment": treatment,
               "num_nodes": num_nodes, "seed": seed, "oof_y": loss["y"],
               "oof_t": loss["t"]}
        for rule, pairs in rules.items():
            tau = np.mean([effect_of(*pair) for pair in pairs], axis=0)
            row[f"pehe_{rule}"] = float(np.mean((tau - d.tau) ** 2))
        row["refits"], row["seconds"] = len(effects), time.perf_counter() - start
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
