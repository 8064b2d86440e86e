"""Pointwise coverage of ``effect_interval`` (95%) of the true tau, BA simple_h and
constant, n=1000: GNN nuisances with the SGC (``gnn``) and linear final stages, and
the defaults (nuisances and final stage chosen by cross-validated loss).

Usage: python benchmarks/causal/interval_coverage.py SEEDS [FIRST_SEED] >> benchmarks/causal/coverage.jsonl
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
#: nuisance -> the final stages refitted on its cross-fitting
CONFIGS = {"gnn": ("gnn", "linear"), "auto": ("auto",)}
first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
for seed in range(first, first + int(sys.argv[1])):
    for effect in ("simple_h", "constant"):
        d = network_causal("ba", 1000, effect=effect, seed=seed)
        for nuisance, finals in CONFIGS.items():
            est = GraphRLearner(nuisance=nuisance, final=finals[0], n_bootstrap=100,
                                random_state=seed).fit(d.Y, d.T, X=d.X, graph=d.graph)
            for final in finals:
                est.set_params(final=final).refit_final()
                lo, hi = est.effect_interval(d.X, graph=d.graph)
                lo_ate, hi_ate = est.ate_interval()
                print(json.dumps({
                    "effect": effect, "nuisance": nuisance, "final": final, "seed": seed,
                    "coverage": float(np.mean((lo <= d.tau) & (d.tau <= hi))),
                    "width": float(np.mean(hi - lo)),
                    "ate_covered": bool(lo_ate <= d.tau.mean() <= hi_ate)}), flush=True)
