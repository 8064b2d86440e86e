"""Why the per-node intervals of the single-pair Graph R-Learner
(``GraphRLearner(nuisance_hops=None, nuisance_members=1)``, the default before the
nuisance pairs were averaged) miss: a Monte Carlo over treatment and outcome redraws
on one fixed design (graph, covariates, propensity and effect of
``network_causal(graph, n, effect=..., seed=0)``), so that the sampling bias and
standard deviation of every node's estimate are measured, not assumed.

Per node: ``bias`` (mean estimate minus tau over the redraws), ``sd`` (their standard
deviation), ``se`` (mean bootstrap standard error of ``effect_inference``) and the
coverage of the 95% ``effect_interval``; bias and sd of the point estimate (``effect``)
and of the centre of the intervals (``effect_inference(X).centre``). One JSON line per
(effect, redraw) with the chosen stage, and a summary line per effect.

Usage: python benchmarks/causal/coverage_diagnosis.py GRAPH N REDRAWS EFFECT [EFFECT ...]
"""
import json
import sys
import time
import warnings

import numpy as np
import torch

from graphbias.causal import GraphRLearner
from graphbias.data.synthetic.network_causal import network_causal

torch.set_num_threads(1)
warnings.simplefilter("ignore", UserWarning)
graph, n, redraws = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for effect in sys.argv[4:]:
    d = network_causal(graph, n, effect=effect, seed=0)
    base = d.H1[:, 0] + 0.5 * d.X[:, 1]
    est_all, centre_all, se_all, cover_all = [], [], [], []
    for r in range(redraws):
        rng = np.random.default_rng(1000 + r)
        T = (rng.random(n) < d.propensity).astype(float)
        Y = base + rng.standard_normal(n) + T * d.tau
        start = time.process_time()
        est = GraphRLearner(nuisance_hops=None, nuisance_members=1,
                            random_state=r).fit(Y, T, X=d.X, graph=d.graph)
        inf = est.effect_inference(d.X)
        lo, hi = inf.conf_int(0.05)
        seconds = time.process_time() - start
        est_all.append(inf.point_estimate)
        centre_all.append(inf.centre)
        se_all.append(inf.stderr)
        cover_all.append((lo <= d.tau) & (d.tau <= hi))
        print(json.dumps({"graph": graph, "n": n, "effect": effect, "redraw": r,
                          "stage": est.final_selected_,
                          "nuisance": est.nuisance_selected_,
                          "coverage": float(cover_all[-1].mean()),
                          "width": float(np.mean(hi - lo)), "cpu_s": seconds}),
              flush=True)
    est_all, se_all = np.array(est_all), np.array(se_all)
    centre_all = np.array(centre_all)
    centre_bias = centre_all.mean(0) - d.tau
    bias = est_all.mean(0) - d.tau
    sd = est_all.std(0, ddof=1)
    print(json.dumps({
        "graph": graph, "n": n, "effect": effect, "redraws": redraws, "summary": True,
        "coverage": float(np.mean(cover_all)),
        "rmse": float(np.sqrt(np.mean((est_all - d.tau) ** 2))),
        "rms_bias": float(np.sqrt(np.mean(bias ** 2))),
        "rms_sd": float(np.sqrt(np.mean(sd ** 2))),
        "rms_se": float(np.sqrt(np.mean(se_all ** 2))),
        "rms_bias_centre": float(np.sqrt(np.mean(centre_bias ** 2))),
        "rms_sd_centre": float(np.sqrt(np.mean(centre_all.std(0, ddof=1) ** 2))),
        "share_abs_bias_over_sd_gt_1": float(np.mean(np.abs(bias) > sd)),
        "oracle_coverage": float(np.mean(np.abs(est_all - d.tau) <= 1.96 * sd)),
        "oracle_unbiased_coverage": float(np.mean(np.abs(est_all - est_all.mean(0))
                                                  <= 1.96 * se_all))}), flush=True)
