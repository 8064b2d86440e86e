"""Coverage of the Graph R-Learner's per-node intervals on a well-specified case.

One fixed design (graph, covariates, propensity, effect) with treatments and outcomes
redrawn: the effect :math:`2 + 0.5 H_{1,0} + 0.5 H_{2,0}` is linear in
:math:`[1, X, \\hat A X, \\hat A^2 X]`, which the ``"sgc"`` stage spans, and the true
propensity is logistic in :math:`[X, \\hat A X]`, which the linear nuisance spans. The
bootstrap intervals at the cross-validated penalty missed about one node in five here
(the penalty's shrinkage bias is not in them); the undersmoothed ones must cover at
the nominal rate.
"""
import warnings

import numpy as np
import pytest

from graphbias.causal import GraphRLearner
from graphbias.data.synthetic.network_causal import network_causal

N_NODES, REDRAWS = 400, 8


@pytest.fixture(scope="module")
def coverage():
    d = network_causal("ba", N_NODES, effect="linear", seed=0)
    baseline = d.H1[:, 0] + 0.5 * d.X[:, 1]
    shares, ate_covered = [], []
    for r in range(REDRAWS):
        rng = np.random.default_rng(100 + r)
        T = (rng.random(N_NODES) < d.propensity).astype(float)
        Y = baseline + rng.standard_normal(N_NODES) + T * d.tau
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            est = GraphRLearner(nuisance="linear", final="sgc", n_bootstrap=100,
                                random_state=r).fit(Y, T, X=d.X, graph=d.graph)
        lo, hi = est.effect_interval(d.X)
        shares.append(np.mean((lo <= d.tau) & (d.tau <= hi)))
        lo, hi = est.ate_interval()
        ate_covered.append(lo <= d.tau[est.kept_].mean() <= hi)
    return np.array(shares), np.array(ate_covered)


def test_per_node_intervals_cover_a_well_specified_effect(coverage):
    shares, _ = coverage
    # nodes of one fit are dependent: the tolerance is three standard errors of the
    # mean over the independent redraws (and at least 0.02)
    tolerance = max(3 * shares.std(ddof=1) / np.sqrt(REDRAWS), 0.02)
    assert abs(shares.mean() - 0.95) <= tolerance, (shares.mean(), tolerance, shares)


def test_average_effect_interval_covers(coverage):
    _, covered = coverage
    # binomial: P(at most 5 of 8 | p = 0.95) < 0.006
    assert covered.sum() >= 6, covered
