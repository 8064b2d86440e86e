"""Pointwise coverage of ``effect_interval`` (95%) of the true tau, BA simple_h, n=1000.

Usage: python benchmarks/causal/coverage.py SEEDS > benchmarks/causal/coverage.jsonl
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
for seed in range(int(sys.argv[1])):
    for effect in ("simple_h", "constant"):
        d = network_causal("ba", 1000, effect=effect, seed=seed)
        est = GraphRLearner(n_bootstrap=100, random_state=seed).fit(d.Y, d.T, X=d.X,
                                                                     graph=d.graph)
        for final in ("gnn", "linear"):
            est.set_params(final=final).refit_final()
            lo, hi = est.effect_interval(d.X, graph=d.graph)
            print(json.dumps({"effect": effect, "final": final, "seed": seed,
                              "coverage": float(np.mean((lo <= d.tau) & (d.tau <= hi))),
                              "width": float(np.mean(hi - lo))}), flush=True)
