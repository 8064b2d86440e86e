import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression

from graphbias.base import ISOLATED
from graphbias.causal import GraphRLearner
from graphbias.causal import _masked
from graphbias.causal._masked import isolated
from graphbias.data.synthetic.network_causal import network_causal


@pytest.fixture(scope="module")
def data():
    return network_causal("ba", 300, effect="simple_h", treatment_strength=0.5, seed=0)


def fit(d, **kw):
    kw = {"max_epochs": 40, "random_state": 0, **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return GraphRLearner(**kw).fit(d.Y, d.T, X=d.X, graph=d.graph)


@pytest.fixture(scope="module")
def fitted(data):
    return fit(data, n_bootstrap=5)


def test_linear_final_stage_matches_closed_form_on_residuals(data, fitted):
    est = pickle.loads(pickle.dumps(fitted)).set_params(final="linear").refit_final()
    assert len(est.nuisance_members_) == 2          # the default averages two pairs
    betas = []
    for (yr, tr), k in zip(est._member_residuals(), est._inside_):
        Z = tr[k, None] * np.hstack([np.ones((k.sum(), 1)), data.X[k]])
        betas.append(LinearRegression(fit_intercept=False).fit(Z, yr[k]).coef_)
    np.testing.assert_allclose(est.effect(data.X, graph=data.graph), np.mean(
        [beta[0] + data.X @ beta[1:] for beta in betas], axis=0), atol=1e-8)
    np.testing.assert_allclose(est.model_final_, betas[0], atol=1e-8)


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
    est = pickle.loads(pickle.dumps(fitted)).set_params(final=final, final_max_epochs=30)
    tau = est.refit_final().effect(data.X, graph=data.graph)
    assert np.isfinite(tau).all() and abs(tau.mean() - data.tau.mean()) < 1.5


def test_prediction_without_graph_reuses_the_fit_graph(data, fitted):
    tau = fitted.effect(data.X, graph=data.graph)
    np.testing.assert_array_equal(fitted.effect(data.X), tau)
    np.testing.assert_array_equal(fitted.effect_interval(data.X)[0],
                                  fitted.effect_interval(data.X, graph=data.graph)[0])
    assert fitted.score(data.Y, data.T, X=data.X) == \
        fitted.score(data.Y, data.T, X=data.X, graph=data.graph)
    assert np.mean((fitted.effect(data.X) - data.tau) ** 2) < 2.0
    # graph-free prediction only when asked for
    free = fitted.effect(data.X, graph=ISOLATED)
    assert not np.allclose(free, tau)
    for call in (lambda: fitted.effect(data.X[:100]),
                 lambda: fitted.effect_interval(data.X[:100]),
                 lambda: fitted.ate_interval(data.X[:100]),
                 lambda: fitted.score(data.Y[:100], data.T[:100], X=data.X[:100])):
        with pytest.raises(ValueError, match="fitted on a graph of 300 nodes.*100 rows"):
            call()
    assert fitted.effect(data.X[:100], graph=ISOLATED).shape == (100,)


def test_fit_without_graph_predicts_without_one(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est = GraphRLearner(final="linear", max_epochs=5, random_state=0).fit(
            data.Y, data.T, X=data.X)
    assert est.graph_ is None
    np.testing.assert_array_equal(est.effect(data.X[:50]),
                                  est.effect(data.X[:50], graph=ISOLATED))


def test_effect_contrasts_and_ate(data, fitted):
    cme = fitted.const_marginal_effect(data.X)
    assert cme.shape == (300, 1)                   # EconML's shape: one treatment column
    tau = cme[:, 0]
    np.testing.assert_array_equal(fitted.effect(data.X), tau)
    np.testing.assert_array_equal(fitted.marginal_effect(1, data.X), cme)
    with pytest.raises(ValueError, match="T must be 0 or 1"):
        fitted.marginal_effect(0.5, data.X)
    np.testing.assert_array_equal(fitted.effect(data.X, T0=1, T1=0), -tau)
    T1 = (np.arange(300) % 2).astype(float)
    np.testing.assert_array_equal(fitted.effect(data.X, T0=0, T1=T1), T1 * tau)
    assert fitted.ate(data.X) == pytest.approx(tau.mean())
    assert fitted.ate(data.X, T0=1, T1=1) == 0.0
    lo, hi = fitted.ate_interval(data.X)
    assert lo <= fitted.ate_ + 0.3 and hi >= fitted.ate_ - 0.3 and lo < hi
    lo_neg, hi_neg = fitted.effect_interval(data.X, T0=1, T1=0)
    lo_pos, hi_pos = fitted.effect_interval(data.X)
    np.testing.assert_allclose(lo_neg, -hi_pos)
    with pytest.raises(ValueError, match="T1 must be 0 or 1"):
        fitted.effect(data.X, T1=2)
    with pytest.raises(ValueError, match="T0 must be 0, 1 or one 0/1 value per row"):
        fitted.effect(data.X, T0=np.zeros(5))


def test_interval_contains_its_centre_and_is_deterministic(data, fitted):
    lo, hi = fitted.effect_interval(data.X, graph=data.graph)
    inference = fitted.effect_inference(data.X, graph=data.graph)
    # the point estimate is effect(); the interval is about the undersmoothed refit
    np.testing.assert_array_equal(inference.point_estimate,
                                  fitted.effect(data.X, graph=data.graph))
    centre = inference.centre
    assert not np.allclose(centre, inference.point_estimate)
    assert (lo <= hi).all() and np.mean((lo <= centre) & (centre <= hi)) > 0.8
    lo2, _ = pickle.loads(pickle.dumps(fitted)).effect_interval(data.X, graph=data.graph)
    np.testing.assert_allclose(lo, lo2)
    with pytest.raises(ValueError, match="alpha must be a real number in \\(0, 1\\)"):
        fitted.effect_interval(data.X, graph=data.graph, alpha=1.5)


def test_fitted_state_is_a_copy_of_the_inputs(data):
    """Changing the caller's X after fit changes nothing the learner returns."""
    X = data.X.copy()
    est = fit(data, final="linear", max_epochs=10, n_bootstrap=3)
    est2 = GraphRLearner(final="linear", max_epochs=10, n_bootstrap=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est2.fit(data.Y, data.T, X=X, graph=data.graph)
    X[:] = 0.0
    for a, b in zip(est.effect_interval(data.X), est2.effect_interval(data.X)):
        np.testing.assert_array_equal(a, b)


def test_fitted_state_ends_in_underscore_and_refit_keeps_nothing_stale(data):
    est = fit(data, final="linear", max_epochs=5, n_bootstrap=3)
    est.effect_interval(data.X)
    params = set(est.get_params())
    state = [k for k in vars(est) if k not in params]
    assert state and all(k.endswith("_") for k in state), state
    assert est._bootstrap_ is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est.set_params(final="gnn", max_epochs=3).fit(data.Y, data.T, X=data.X[:, :5],
                                                       graph=data.graph)
    assert est._bootstrap_ is None and est.n_features_in_ == 5
    assert est.model_final_.shape == (1 + 5 * 3,)   # [1, X, A X, A^2 X]


def test_score_is_the_negated_r_loss_and_prefers_the_truth():
    d = network_causal("ba", 300, effect="constant", treatment_strength=0.5, seed=2)
    est = fit(d, final="linear")
    truth, wrong = copy.deepcopy(est), copy.deepcopy(est)
    truth.model_final_ = np.r_[2.0, np.zeros(d.X.shape[1])]      # tau = 2, the truth
    wrong.model_final_ = np.r_[-1.0, np.zeros(d.X.shape[1])]     # tau = -1
    np.testing.assert_allclose(truth.effect(d.X), d.tau)
    s_true, s_wrong = (m.score(d.Y, d.T, X=d.X) for m in (truth, wrong))
    assert s_true < 0 and s_true > s_wrong + 0.5
    yr, tr = est.residuals_
    # on the training data the fold-averaged nuisances give a loss of the same size
    assert -s_true == pytest.approx(np.mean((yr - tr * 2.0) ** 2), rel=0.5)


def test_nuisance_variants_and_fold_isolation(data):
    a = fit(data, nuisance="mlp", final="linear", max_epochs=20)
    b = fit(data, nuisance="gnn", final="linear", max_epochs=20, fold_isolation="edges")
    c = fit(data, nuisance="sklearn", final="linear", model_y=LinearRegression(),
            model_t=LogisticRegression())
    for est in (a, b, c):
        assert np.isfinite(est.ate_)
    assert len(c.models_y) == 1 and len(c.models_y[0]) == 3
    assert isinstance(c.models_t[0][0], LogisticRegression)
    # graph-blind nuisances do not depend on the edges
    d = fit(data, nuisance="mlp", final="linear", max_epochs=20)
    np.testing.assert_allclose(a.residuals_[0], d.residuals_[0])
    assert isolated(data.graph).edge_index.shape[1] == 0


def test_gnn_fits_train_through_fit_module(data, monkeypatch):
    calls = []
    real = _masked.fit_module

    def spy(module, optimizer, step, **kw):
        calls.append(kw.get("stopping"))
        return real(module, optimizer, step, **kw)

    monkeypatch.setattr(_masked, "fit_module", spy)
    fit(data, nuisance="gnn", final="gcn", max_epochs=3, final_max_epochs=4, n_folds=2)
    assert len(calls) == 2 * 2 + 1                 # y and t per fold, then the final stage
    # nuisances early-stop on held-out training nodes with the learner's patience
    assert all((s.monitor, s.patience, s.restore_best) == ("val_loss", 20, True)
               for s in calls[:4])
    final = calls[4]
    assert (final.monitor, final.mode, final.restore_best) == ("val_loss", "min", True)
    assert final.patience is None
    calls.clear()
    fit(data, nuisance="gnn", final="sgc", max_epochs=3, n_folds=2, validation_fraction=0.0)
    assert calls == [None] * 4                     # no held-out nodes: every epoch trains


@pytest.mark.parametrize("nuisance", ["gnn", "linear"])
def test_held_out_labels_do_not_enter_nuisances(data, nuisance):
    """Changing a fold's outcomes leaves that fold's own nuisance models unchanged
    (for a fixed kind: ``"auto"`` chooses the kind by these out-of-fold losses)."""
    Y2 = data.Y.copy()
    est = fit(data, nuisance=nuisance, final="linear", max_epochs=20, n_folds=2)
    from sklearn.model_selection import KFold
    from graphbias.base import seed_from
    _, test = next(KFold(2, shuffle=True, random_state=seed_from(0) % (2**31)).split(data.X))
    Y2[test] += 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est2 = GraphRLearner(nuisance=nuisance, final="linear", max_epochs=20, n_folds=2,
                             random_state=0).fit(Y2, data.T, X=data.X, graph=data.graph)
    np.testing.assert_allclose(est.residuals_[0][test] + 100.0, est2.residuals_[0][test],
                               atol=1e-4)


def test_controls_must_match_between_fit_and_score(data):
    W = np.random.default_rng(0).standard_normal((300, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est = GraphRLearner(final="linear", max_epochs=5, random_state=0).fit(
            data.Y, data.T, X=data.X, graph=data.graph, W=W)
    assert np.isfinite(est.score(data.Y, data.T, X=data.X, W=W))
    with pytest.raises(ValueError, match="W has 0 columns, the learner was fitted on 2"):
        est.score(data.Y, data.T, X=data.X)


def test_bad_inputs(data):
    est = GraphRLearner(max_epochs=5, random_state=0)
    g, X, Y, T = data.graph, data.X, data.Y, data.T
    with pytest.raises(ValueError, match="binary"):
        est.fit(Y, T * 2 + 0.5, X=X, graph=g)
    with pytest.raises(ValueError, match="constant"):
        est.fit(Y, np.ones_like(T), X=X, graph=g)
    Yn = Y.copy()
    Yn[7] = np.nan
    with pytest.raises(ValueError, match="Y has 1 NaN.*row 7"):
        est.fit(Yn, T, X=X, graph=g)
    Tn = T.copy()
    Tn[[11, 12]] = np.nan
    with pytest.raises(ValueError, match="T has 2 NaN or infinite treatments .first at row 11"):
        est.fit(Y, Tn, X=X, graph=g)
    with pytest.raises(ValueError, match="rows|nodes"):
        est.fit(Y[:-1], T[:-1], X=X[:-1], graph=g)
    with pytest.raises(ValueError, match="model_y"):
        GraphRLearner(nuisance="sklearn").fit(Y, T, X=X, graph=g)


@pytest.mark.parametrize("params,match", [
    ({"final": "deep"}, "final must be one of"),
    ({"n_folds": 1}, "n_folds must be an integer >= 2, got 1"),
    ({"n_folds": True}, "n_folds must be an integer >= 2, got True"),
    ({"n_folds": 3.0}, "n_folds must be"),
    ({"hops": 0}, "hops must be"),
    ({"clip": 0.5}, "clip must be a real number in \\[0, 0.5\\)"),
    ({"lr": 0.0}, "lr must be"),
    ({"max_epochs": False}, "max_epochs must be"),
    ({"n_bootstrap": 1}, "n_bootstrap must be"),
    ({"overlap": "ignore"}, "overlap must be"),
    ({"fold_isolation": "nodes"}, "fold_isolation must be"),
    ({"model_y": "ridge", "nuisance": "sklearn"}, "model_y must be an estimator with fit"),
    ({"random_state": -1}, "random_state must be"),
    ({"device": "tpu"}, "device must be"),
    ({"epochs": 5, "max_epochs": 6}, "epochs is a deprecated alias of max_epochs"),
])
def test_bad_parameters(data, params, match):
    with pytest.raises(ValueError, match=match):
        GraphRLearner(**params).fit(data.Y, data.T, X=data.X, graph=data.graph)


def test_numpy_integer_parameters(data):
    a = fit(data, final="linear", max_epochs=np.int64(5), n_folds=np.int64(3),
            hops=np.int32(1), hidden_channels=np.int64(8))
    b = fit(data, final="linear", max_epochs=5, n_folds=3, hops=1, hidden_channels=8)
    np.testing.assert_array_equal(a.effect(data.X), b.effect(data.X))


def test_deprecated_names(data):
    new = fit(data, final="gcn", max_epochs=5, final_max_epochs=5, hidden_channels=8)
    with pytest.warns(FutureWarning) as record:
        old = fit(data, final="gcn", epochs=5, final_epochs=5, hidden=8, max_epochs=200)
    renamed = sorted(str(w.message).split(" was renamed")[0] for w in record)
    assert renamed == ["GraphRLearner: epochs", "GraphRLearner: final_epochs",
                       "GraphRLearner: hidden"]
    np.testing.assert_array_equal(old.effect(data.X), new.effect(data.X))
    with pytest.warns(FutureWarning, match="stage_ was renamed model_final_"):
        assert old.stage_ is old.model_final_


def test_device_cpu_and_pickling(data):
    est = fit(data, final="gcn", max_epochs=5, final_max_epochs=5, device="cpu")
    assert est.device_ == torch.device("cpu")
    assert next(est.model_final_.parameters()).device.type == "cpu"
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.effect(data.X), est.effect(data.X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
def test_cuda_equals_cpu(data):
    cpu = fit(data, final="gcn", max_epochs=20, final_max_epochs=20)
    gpu = fit(data, final="gcn", max_epochs=20, final_max_epochs=20, device="cuda")
    assert next(gpu.model_final_.parameters()).is_cuda
    np.testing.assert_allclose(gpu.effect(data.X), cpu.effect(data.X), atol=1e-3)
    back = pickle.loads(pickle.dumps(gpu))
    np.testing.assert_allclose(back.effect(data.X), gpu.effect(data.X), atol=1e-6)


def test_overlap_raise_and_trim():
    d = network_causal("ba", 200, treatment_strength=30.0, seed=0)
    refused = GraphRLearner(final="linear", max_epochs=80, overlap="raise", clip=0.05,
                            random_state=0)
    with pytest.raises(ValueError, match="overlap"):
        refused.fit(d.Y, d.T, X=d.X, graph=d.graph)
    with pytest.raises(NotFittedError):        # a failed fit leaves no usable model
        refused.effect(d.X)
    with pytest.warns(UserWarning, match="overlap fails"):
        est = GraphRLearner(final="linear", max_epochs=80, clip=0.05, random_state=0).fit(
            d.Y, d.T, X=d.X, graph=d.graph)
    assert est.overlap_["n_outside"] > 0 and not est.kept_.all()
    # the overlap region belongs to the final stage: refit_final redraws it
    untrimmed = est.set_params(clip=0.0).refit_final()
    assert untrimmed.kept_.all() and untrimmed.overlap_["clip"] == 0.0
    direct = GraphRLearner(final="linear", max_epochs=80, clip=0.0, random_state=0).fit(
        d.Y, d.T, X=d.X, graph=d.graph)
    np.testing.assert_allclose(untrimmed.effect(d.X), direct.effect(d.X), rtol=1e-6)
    with pytest.raises(ValueError, match="overlap"):
        refused.refit_final()
    with pytest.warns(UserWarning, match="overlap fails"):
        assert not refused.set_params(overlap="trim").refit_final().kept_.all()


def test_prediction_requires_fit(data):
    est = GraphRLearner()
    for call in (lambda: est.effect(data.X, graph=data.graph),
                 lambda: est.effect_interval(data.X), lambda: est.refit_final(),
                 lambda: est.score(data.Y, data.T, X=data.X), lambda: est.models_y):
        with pytest.raises(NotFittedError):
            call()
