"""Pointwise coverage of ``effect_interval`` (95%) of the true tau on one graph family,
n=1000: by default the single-pair learner ``GraphRLearner(nuisance_hops=None,
nuisance_members=1)`` (the default before the nuisance pairs were averaged; rows with
``"nuisance": "auto"``); with ``--gnn`` also GNN nuisances with the SGC (``gnn``) and
linear final stages (the rows of ``coverage.jsonl`` without ``"graph"``, all BA); with
``--members`` instead ``GraphRLearner()``, the default, whose nuisance pairs are
averaged (rows with ``"nuisance": "members"``).

Usage: python benchmarks/causal/interval_coverage.py SEEDS GRAPH EFFECT [EFFECT ...] [--gnn | --members] >> benchmarks/causal/coverage.jsonl
"""
import json
import sys
import warnings

import numpy as np
import torch

from graphbias.causal import GraphRLearner
from graphbias.data.synthetic.network_causal import network_causal

torch.set_num_threads(1)
warnings.simplefilter("ignore", UserWarning)
args = [a for a in sys.argv[1:] if not a.startswith("--")]
seeds, graph, effects = int(args[0]), args[1], args[2:]
#: name -> the learner's parameters and the final stages refitted on its cross-fitting
CONFIGS = {"auto": ({"nuisance_hops": None, "nuisance_members": 1}, ("auto",))}
if "--gnn" in sys.argv:
    CONFIGS["gnn"] = ({"nuisance": "gnn"}, ("gnn", "linear"))
if "--members" in sys.argv:
    CONFIGS = {"members": ({}, ("auto",))}
for seed in range(seeds):
    for effect in effects:
        d = network_causal(graph, 1000, effect=effect, seed=seed)
        for nuisance, (params, finals) in CONFIGS.items():
            est = GraphRLearner(**params, final=finals[0], n_bootstrap=100,
                                random_state=seed).fit(d.Y, d.T, X=d.X, graph=d.graph)
            for final in finals:
                est.set_params(final=final).refit_final()
                lo, hi = est.effect_interval(d.X, graph=d.graph)
                lo_ate, hi_ate = est.ate_interval()
                print(json.dumps({
                    "graph": graph, "effect": effect, "nuisance": nuisance,
                    "final": final, "stage": est.final_selected_, "seed": seed,
                    "coverage": float(np.mean((lo <= d.tau) & (d.tau <= hi))),
                    "width": float(np.mean(hi - lo)),
                    "ate_covered": bool(lo_ate <= d.tau.mean() <= hi_ate)}), flush=True)
