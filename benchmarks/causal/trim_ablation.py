"""Propensity trimming of the final stage, on and off, on the same cross-fitting.

The single-pair ``GraphRLearner(nuisance_hops=None, nuisance_members=1)`` (the
default before the nuisance pairs were averaged) as the causal suite fits it
(``max_epochs=200``, its other defaults: ``clip=0.01``) on ``network_causal(GRAPH,
1000, effect=EFFECT, treatment=TREATMENT)``, then ``set_params(clip=0).refit_final()``:
the same cross-fitted residuals, the final stage refitted on every node. One JSON line per
seed: PEHE and ATE error of both, the nodes trimmed, the stages chosen.

Usage: python benchmarks/causal/trim_ablation.py GRAPH EFFECT TREATMENT SEEDS
>> benchmarks/causal/results/trim_ablation.jsonl
"""
import json
import sys
import warnings

import numpy as np
import torch

from graphbias.causal import GraphRLearner
from graphbias.data.synthetic.network_causal import network_causal

torch.set_num_threads(1)
warnings.simplefilter("ignore")
graph, effect, treatment, seeds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def errors(est: GraphRLearner, data: object) -> tuple[float, float]:
    tau = est.effect(data.X, graph=data.graph)
    return float(np.mean((tau - data.tau) ** 2)), float(abs(tau.mean() - data.tau.mean()))


for seed in range(seeds):
    d = network_causal(graph, 1000, effect=effect, treatment=treatment, seed=seed)
    est = GraphRLearner(max_epochs=200, nuisance_hops=None, nuisance_members=1,
                        random_state=seed).fit(d.Y, d.T, X=d.X, graph=d.graph)
    trimmed, stage = errors(est, d), est.final_selected_
    n_trimmed = int((~est.kept_).sum())
    est.set_params(clip=0.0).refit_final()
    kept_all = errors(est, d)
    print(json.dumps({"graph": graph, "effect": effect, "treatment": treatment,
                      "seed": seed, "n_trimmed": n_trimmed,
                      "pehe_trimmed": trimmed[0], "pehe_all": kept_all[0],
                      "ate_error_trimmed": trimmed[1], "ate_error_all": kept_all[1],
                      "stage_trimmed": stage, "stage_all": est.final_selected_}),
          flush=True)
