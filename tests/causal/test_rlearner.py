import pickle
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from graphbias.causal import GraphRLearner
from graphbias.data.synthetic.network_causal import network_causal


@pytest.fixture(scope="module")
def data():
    return network_causal("ba", 300, effect="simple_h", treatment_strength=0.5, seed=0)


def fit(d, **kw):
    kw = {"epochs": 40, "random_state": 0, **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return GraphRLearner(**kw).fit(d.Y, d.T, X=d.X, graph=d.graph)


@pytest.fixture(scope="module")
def fitted(data):
    return fit(data, n_bootstrap=5)


def test_linear_final_stage_matches_closed_form_on_residuals(data, fitted):
    est = pickle.loads(pickle.dumps(fitted)).set_params(final="linear").refit_final()
    yr, tr = est.residuals_
    k = est.kept_
    Z = tr[k, None] * np.hstack([np.ones((k.sum(), 1)), data.X[k]])
    beta = LinearRegression(fit_intercept=False).fit(Z, yr[k]).coef_
    np.testing.assert_allclose(est.effect(data.X, graph=data.graph),
                               beta[0] + data.X @ beta[1:], atol=1e-8)


def test_free_intercept_cannot_represent_constant_effect():
    d = network_causal("ba", 300, effect="constant", treatment_strength=0.5, seed=1)
    est = fit(d, final="linear")
    good = np.mean((est.effect(d.X, graph=d.graph) - 2) ** 2)
    bad = est.set_params(final="linear_free_intercept").refit_final()
    worse = np.mean((bad.effect(d.X, graph=d.graph) - 2) ** 2)
    assert good < 0.5 and worse > 2.5


def test_gnn_final_stage_estimates_effect(data, fitted):
    tau = fitted.effect(data.X, graph=data.graph)
    assert tau.shape == (300,)
    assert np.mean((tau - data.tau) ** 2) < np.mean((data.tau - data.tau.mean()) ** 2) + 1.0
    assert abs(fitted.ate_ - data.tau.mean()) < 0.6


@pytest.mark.parametrize("final", ["gcn", "forest"])
def test_other_final_stages_run(data, fitted, final):
    est = pickle.loads(pickle.dumps(fitted)).set_params(final=final, final_epochs=30)
    tau = est.refit_final().effect(data.X, graph=data.graph)
    assert np.isfinite(tau).all() and abs(tau.mean() - data.tau.mean()) < 1.5


def test_interval_contains_estimate_and_is_deterministic(data, fitted):
    lo, hi = fitted.effect_interval(data.X, graph=data.graph)
    tau = fitted.effect(data.X, graph=data.graph)
    assert (lo <= hi).all() and np.mean((lo <= tau) & (tau <= hi)) > 0.8
    lo2, _ = pickle.loads(pickle.dumps(fitted)).effect_interval(data.X, graph=data.graph)
    np.testing.assert_allclose(lo, lo2)
    with pytest.raises(ValueError, match="alpha"):
        fitted.effect_interval(data.X, graph=data.graph, alpha=1.5)


def test_score_prefers_the_truth(data, fitted):
    s = fitted.score(data.Y, data.T, X=data.X, graph=data.graph)
    assert np.isfinite(s) and s > 0


def test_nuisance_variants_and_fold_isolation(data):
    a = fit(data, nuisance="mlp", final="linear", epochs=20)
    b = fit(data, nuisance="gnn", final="linear", epochs=20, fold_isolation="edges")
    c = fit(data, nuisance="sklearn", final="linear", model_y=LinearRegression(),
            model_t=LogisticRegression())
    for est in (a, b, c):
        assert np.isfinite(est.ate_)
    # graph-blind nuisances do not depend on the edges
    from graphbias.causal.gnn_fit import isolated
    d = fit(data, nuisance="mlp", final="linear", epochs=20)
    np.testing.assert_allclose(a.residuals_[0], d.residuals_[0])
    assert isolated(data.graph).edge_index.shape[1] == 0


def test_held_out_labels_do_not_enter_nuisances(data):
    """Changing a fold's outcomes leaves that fold's own nuisance models unchanged."""
    Y2 = data.Y.copy()
    est = fit(data, final="linear", epochs=20, n_folds=2)
    from sklearn.model_selection import KFold
    from graphbias.base import seed_from
    _, test = next(KFold(2, shuffle=True, random_state=seed_from(0) % (2**31)).split(data.X))
    Y2[test] += 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est2 = GraphRLearner(final="linear", epochs=20, n_folds=2, random_state=0).fit(
            Y2, data.T, X=data.X, graph=data.graph)
    np.testing.assert_allclose(est.residuals_[0][test] + 100.0, est2.residuals_[0][test],
                               atol=1e-4)


def test_bad_inputs(data):
    est = GraphRLearner(epochs=5, random_state=0)
    g, X, Y, T = data.graph, data.X, data.Y, data.T
    with pytest.raises(ValueError, match="binary"):
        est.fit(Y, T * 2 + 0.5, X=X, graph=g)
    with pytest.raises(ValueError, match="constant"):
        est.fit(Y, np.ones_like(T), X=X, graph=g)
    Yn = Y.copy()
    Yn[7] = np.nan
    with pytest.raises(ValueError, match="NaN.*row 7"):
        est.fit(Yn, T, X=X, graph=g)
    with pytest.raises(ValueError, match="rows|nodes"):
        est.fit(Y[:-1], T[:-1], X=X[:-1], graph=g)
    with pytest.raises(ValueError, match="final must be"):
        GraphRLearner(final="deep").fit(Y, T, X=X, graph=g)
    with pytest.raises(ValueError, match="model_y"):
        GraphRLearner(nuisance="sklearn").fit(Y, T, X=X, graph=g)


def test_overlap_raise_and_trim():
    d = network_causal("ba", 200, treatment_strength=30.0, seed=0)
    with pytest.raises(ValueError, match="overlap"):
        GraphRLearner(final="linear", epochs=80, overlap="raise", clip=0.05,
                      random_state=0).fit(d.Y, d.T, X=d.X, graph=d.graph)
    with pytest.warns(UserWarning, match="overlap fails"):
        est = GraphRLearner(final="linear", epochs=80, clip=0.05, random_state=0).fit(
            d.Y, d.T, X=d.X, graph=d.graph)
    assert est.overlap_["n_outside"] > 0 and not est.kept_.all()


def test_effect_requires_fit(data):
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        GraphRLearner().effect(data.X, graph=data.graph)
