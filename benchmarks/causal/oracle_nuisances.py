"""How much of the Graph R-Learner's error is the nuisances'? The same final-stage
selection on the cross-fitted residuals and on the residuals of the true nuisances.

The single-pair ``GraphRLearner(nuisance_hops=None, nuisance_members=1)`` (the
default before the nuisance pairs were averaged) as the causal suite fits it
(``max_epochs=200``, its other defaults) on ``network_causal(GRAPH, N, effect=EFFECT,
treatment=TREATMENT)``; then the stored residuals are replaced and ``refit_final()``
reruns the default selection (same folds, same trimming) on

- ``oracle``: :math:`Y - m`, :math:`T - e` with the true :math:`m = E[Y \\mid X, G]`
  (``CausalData.outcome_mean``) and propensity :math:`e`;
- ``oracle_e`` / ``oracle_m``: only the propensity / only the outcome model true;

and, on the oracle residuals, each closed-form stage alone (``final="sgc"``,
``"single_index"``, ``"quadratic"``): the best of them is a selection that knew tau.
One JSON line per seed with every PEHE (mean squared error of tau) and stage.

Usage: python benchmarks/causal/oracle_nuisances.py GRAPH EFFECT TREATMENT N SEEDS
>> benchmarks/causal/results/oracle_nuisances.jsonl
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
graph, effect, treatment = sys.argv[1:4]
num_nodes, seeds = int(sys.argv[4]), int(sys.argv[5])
STAGES = ("sgc", "single_index", "quadratic")

for seed in range(seeds):
    d = network_causal(graph, num_nodes, effect=effect, treatment=treatment, seed=seed)
    est = GraphRLearner(max_epochs=200, nuisance_hops=None, nuisance_members=1,
                        random_state=seed).fit(d.Y, d.T, X=d.X, graph=d.graph)

    def pehe() -> float:
        return float(np.mean((est.effect(d.X, graph=d.graph) - d.tau) ** 2))

    row = {"graph": graph, "effect": effect, "treatment": treatment,
           "num_nodes": num_nodes, "seed": seed, "nuisances": est.nuisance_selected_,
           "pehe_learned": pehe(), "stage_learned": est.final_selected_}
    learned = est.residuals_
    y_true, t_true = d.Y - d.outcome_mean, d.T - d.propensity
    row["mse_m"] = float(np.mean((learned[0] - y_true) ** 2))
    row["mse_e"] = float(np.mean((learned[1] - t_true) ** 2))
    for name, residuals in (("oracle", (y_true, t_true)), ("oracle_e", (learned[0], t_true)),
                            ("oracle_m", (y_true, learned[1]))):
        est.residuals_ = residuals
        est.refit_final()
        row[f"pehe_{name}"], row[f"stage_{name}"] = pehe(), est.final_selected_
    est.residuals_ = (y_true, t_true)
    for stage in STAGES:
        est.set_params(final=stage).refit_final()
        row[f"pehe_oracle_{stage}"] = pehe()
    est.set_params(final="auto")
    print(json.dumps(row), flush=True)
