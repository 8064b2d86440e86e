"""Coverage of per-node bootstrap intervals of the chosen closed-form final stage when
its refits (and the interval's centre) use the cross-validated penalty times 1, 0.1,
0.01 and 0: the scan behind the undersmoothing of ``GraphRLearner``'s inference, on the
single-pair learner (``nuisance_hops=None, nuisance_members=1``, the default then). One
fixed design of ``network_causal(GRAPH, N, effect=EFFECT, seed=0)`` with treatments and
outcomes redrawn REDRAWS times; per scale: mean coverage and width of the 95% basic
bootstrap intervals, RMSE, rms bias, rms sd of the estimates over the redraws and rms
bootstrap SE.

Usage: python benchmarks/causal/undersmoothing_scan.py GRAPH N REDRAWS EFFECT
"""
import json
import sys
import warnings

import numpy as np
import torch

from graphbias.causal import GraphRLearner
from graphbias.causal._final import Candidate, fit_ridge_stage
from graphbias.causal._features import propagated
from graphbias.causal._inference import pivot_interval
from graphbias.data.synthetic.network_causal import network_causal

torch.set_num_threads(1)
warnings.simplefilter("ignore")
SCALES = (1.0, 0.1, 0.01, 0.0)


def interval(stage, F, y_res, t_res, kept, penalty, seed):
    """Point estimate and 95% basic bootstrap interval of ``stage``'s basis refitted
    at ``penalty`` (100 resamples of the kept nodes), and the draws' SE."""
    cand = Candidate(stage.name, stage.basis)
    n = F.shape[0]
    point = fit_ridge_stage(cand, F, y_res, t_res, kept.astype(float), penalty,
                            stage.ratio).predict(F)
    rng = np.random.default_rng(seed)
    nodes = np.flatnonzero(kept)
    draws = np.array([fit_ridge_stage(
        cand, F, y_res, t_res,
        np.bincount(rng.choice(nodes, nodes.size), minlength=n).astype(float),
        penalty, stage.ratio).predict(F) for _ in range(100)])
    lo, hi = pivot_interval(point, draws, 0.05)
    return point, lo, hi, draws.std(0, ddof=1)


graph, n, redraws, effect = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
d = network_causal(graph, n, effect=effect, seed=0)
baseline = d.H1[:, 0] + 0.5 * d.X[:, 1]
res = {s: {"est": [], "cov": [], "w": [], "se": []} for s in SCALES}
for r in range(redraws):
    rng = np.random.default_rng(1000 + r)
    T = (rng.random(n) < d.propensity).astype(float)
    Y = baseline + rng.standard_normal(n) + T * d.tau
    est = GraphRLearner(nuisance_hops=None, nuisance_members=1,
                        random_state=r).fit(Y, T, X=d.X, graph=d.graph)
    stage = est.model_final_
    F = propagated(d.X, d.graph, 2)
    for s in SCALES:
        point, lo, hi, se = interval(stage, F, *est.residuals_, est.kept_,
                                     stage.penalty * s, r + 7)
        res[s]["est"].append(point)
        res[s]["cov"].append(np.mean((lo <= d.tau) & (d.tau <= hi)))
        res[s]["w"].append(np.mean(hi - lo))
        res[s]["se"].append(se)
    print(json.dumps({"effect": effect, "redraw": r, "stage": stage.name,
                      "penalty": stage.penalty, "ratio": stage.ratio,
                      "coverage": [float(res[s]["cov"][-1]) for s in SCALES]}), flush=True)
for s in SCALES:
    E = np.array(res[s]["est"])
    bias, sd = E.mean(0) - d.tau, E.std(0, ddof=1)
    print(json.dumps({
        "effect": effect, "penalty_scale": s, "coverage": float(np.mean(res[s]["cov"])),
        "width": float(np.mean(res[s]["w"])),
        "rmse": float(np.sqrt(np.mean((E - d.tau) ** 2))),
        "rms_bias": float(np.sqrt(np.mean(bias ** 2))),
        "rms_sd": float(np.sqrt(np.mean(sd ** 2))),
        "rms_se": float(np.sqrt(np.mean(np.array(res[s]["se"]) ** 2)))}), flush=True)
