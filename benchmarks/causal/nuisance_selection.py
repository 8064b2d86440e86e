"""Would a wider nuisance candidate set, chosen by out-of-fold loss, lower the
Graph R-Learner's PEHE? The single-pair learner's cross-fitted nuisances against
alternatives on the same folds, each followed by the default final-stage selection.

The single-pair ``GraphRLearner(nuisance_hops=None, nuisance_members=1)`` (the
default before the nuisance pairs were averaged) as the causal suite fits it
(``max_epochs=200``) on ``network_causal(GRAPH, N, effect=EFFECT,
treatment=TREATMENT)``. On the learner's own folds (same split, same training nodes)
the script then fits

- ``linear-K``: ridge / logistic regression (the ``"linear"`` nuisance kind) on the
  propagated covariates :math:`[X, \\hat A X, \\dots, \\hat A^K X]`, K = 0 .. 3;
- ``interacted-K``: a ridge outcome model on :math:`[F, T, T F]` with :math:`F` the
  K-hop covariates, read as :math:`\\hat m = \\hat m_0 + \\hat e\\,(\\hat m_1 -
  \\hat m_0)` with the fold's logistic :math:`\\hat e` on :math:`F`;

and reruns ``refit_final()`` (same trimming rule, same stage candidates) on the
residuals of four rules:

- ``default``: the learner's own choice (``linear`` at its ``hops`` or ``gnn``);
- ``interacted``: ``interacted-K`` at the learner's ``hops``, the default propensity;
- ``hops``: the ``linear-K`` outcome and propensity of least out-of-fold loss;
- ``all``: the outcome of least out-of-fold squared error among the default's, every
  ``linear-K`` and every ``interacted-K``; the propensity of least out-of-fold
  log-loss among the default's and every ``linear-K``;

and ``mean``, the average of the four rules' effects (a bagged estimate).

One JSON line per seed: each rule's PEHE (mean squared error of tau), its choice, and
each candidate's out-of-fold loss and error against the true :math:`E[Y \\mid X, G]`.

Usage: python benchmarks/causal/nuisance_selection.py GRAPH EFFECT TREATMENT N SEEDS
>> benchmarks/causal/results/nuisance_selection.jsonl
"""
import json
import sys
import warnings

import numpy as np
import torch
from sklearn.model_selection import KFold

from graphbias.causal import GraphRLearner
from graphbias.causal._nuisance import NuisanceData, _linear_models, outcome_loss, \
    propensity_loss
from graphbias.data.synthetic.network_causal import network_causal

HOPS = (0, 1, 2, 3)


def candidates(est: GraphRLearner, d, hops: int) -> tuple[dict, dict]:
    """Out-of-fold outcome and propensity predictions of every candidate, on the
    learner's folds."""
    n = d.Y.shape[0]
    m_default, t_default = d.Y - est.residuals_[0], d.T - est.residuals_[1]
    outcome, propensity = {"default": m_default}, {"default": t_default}
    folds = KFold(est._fit_params_.n_folds, shuffle=True,
                  random_state=est._seed_ % (2**31))
    for k in HOPS:
        F = NuisanceData(np.asarray(d.X, dtype=float), None, d.graph).propagated_rows(k)
        lin, inter, e_k = np.empty(n), np.empty(n), np.empty(n)
        for train, test in folds.split(d.Y):
            my, mt = _linear_models()
            mi, _ = _linear_models()
            my.fit(F[train], d.Y[train])
            mt.fit(F[train], d.T[train])

            def with_t(t: np.ndarray) -> np.ndarray:
                return np.hstack([F, t[:, None], t[:, None] * F])

            mi.fit(with_t(d.T)[train], d.Y[train])
            e = mt.predict_proba(F[test])[:, 1]
            m0 = mi.predict(with_t(np.zeros(n))[test])
            m1 = mi.predict(with_t(np.ones(n))[test])
            lin[test], e_k[test], inter[test] = my.predict(F[test]), e, m0 + e * (m1 - m0)
        outcome[f"linear-{k}"], outcome[f"interacted-{k}"] = lin, inter
        propensity[f"linear-{k}"] = e_k
    if est.nuisance_selected_["y"] == "linear":     # the folds are the learner's
        assert np.allclose(outcome[f"linear-{hops}"], m_default)
    return outcome, propensity


def main() -> None:
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    graph, effect, treatment = sys.argv[1:4]
    num_nodes, seeds = int(sys.argv[4]), int(sys.argv[5])
    for seed in range(seeds):
        d = network_causal(graph, num_nodes, effect=effect, treatment=treatment,
                           seed=seed)
        est = GraphRLearner(max_epochs=200, nuisance_hops=None, nuisance_members=1,
                            random_state=seed).fit(d.Y, d.T, X=d.X, graph=d.graph)
        hops = est._fit_params_.hops
        outcome, propensity = candidates(est, d, hops)
        y_loss = {k: outcome_loss(d.Y, m) for k, m in outcome.items()}
        t_loss = {k: propensity_loss(d.T, e) for k, e in propensity.items()}
        linear = [f"linear-{k}" for k in HOPS]
        rules = {
            "default": ("default", "default"),
            "interacted": (f"interacted-{hops}", "default"),
            "hops": (min(linear, key=y_loss.get), min(linear, key=t_loss.get)),
            "all": (min(y_loss, key=y_loss.get), min(t_loss, key=t_loss.get)),
        }
        row = {"graph": graph, "effect": effect, "treatment": treatment,
               "num_nodes": num_nodes, "seed": seed, "nuisances": est.nuisance_selected_,
               "oof_y": y_loss, "oof_t": t_loss,
               "mse_m": {k: float(np.mean((m - d.outcome_mean) ** 2))
                         for k, m in outcome.items()}}
        effects = {}
        for rule, (ky, kt) in rules.items():
            est.residuals_ = (d.Y - outcome[ky], d.T - propensity[kt])
            est._propensity_ = propensity[kt]
            est.refit_final()
            effects[rule] = est.effect(d.X, graph=d.graph)
            row[f"choice_{rule}"] = [ky, kt]
        effects["mean"] = np.mean([effects[r] for r in rules], axis=0)
        for rule, tau in effects.items():
            row[f"pehe_{rule}"] = float(np.mean((tau - d.tau) ** 2))
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
