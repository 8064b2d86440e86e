"""EconML's interface, the selection of nuisances and final stages, and the paper's
preset of the Graph R-Learner."""
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LassoCV, LogisticRegression

from graphbias.causal import GraphRLearner
from graphbias.causal._final import INDEX_PENALTIES, RidgeStage
from graphbias.causal.rlearner import _TOLERANCE
from graphbias.data.synthetic.network_causal import network_causal


def _fit(d, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GraphRLearner(**{"random_state": 0, **kw}).fit(d.Y, d.T, X=d.X,
                                                              graph=d.graph)


@pytest.fixture(scope="module")
def constant():
    return network_causal("ba", 300, effect="constant", treatment_strength=0.5, seed=5)


def test_econml_methods_have_linear_dml_shapes_and_semantics(constant):
    from econml.dml import LinearDML

    d = constant
    ours = _fit(d, nuisance="linear", final="linear", n_bootstrap=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = LinearDML(discrete_treatment=True, random_state=0).fit(d.Y, d.T, X=d.X)
    for est in (ours, theirs):
        tau = est.effect(d.X)
        assert tau.shape == (300,)
        np.testing.assert_allclose(est.effect(d.X, T0=1, T1=0), -tau)
        cme = est.const_marginal_effect(d.X)
        assert cme.shape == (300, 1)
        np.testing.assert_allclose(cme[:, 0], tau)
        np.testing.assert_allclose(est.marginal_effect(d.T, d.X), cme)
        assert est.ate(d.X) == pytest.approx(tau.mean())
        lo, hi = est.ate_interval(d.X)
        assert np.ndim(lo) == 0 and lo < est.ate(d.X) < hi and 1.0 < lo < 3.0
        lo, hi = est.effect_interval(d.X)
        assert lo.shape == hi.shape == (300,) and np.all(lo <= hi)
        lo, hi = est.const_marginal_effect_interval(d.X)
        assert lo.shape == (300, 1)
        lo, hi = est.marginal_effect_interval(d.T, d.X)
        assert lo.shape == (300, 1)
        inf = est.effect_inference(d.X)
        np.testing.assert_allclose(inf.point_estimate, tau)
        assert inf.stderr.shape == (300,) and inf.conf_int()[0].shape == (300,)
        frame = inf.summary_frame()
        assert list(frame.columns) == ["point_estimate", "stderr", "zstat", "pvalue",
                                       "ci_lower", "ci_upper"] and len(frame) == 300
        ate = est.ate_inference(d.X)
        assert ate.mean_point == pytest.approx(tau.mean())
        assert ate.stderr_mean > 0 and ate.pvalue() < 1e-3
        assert ate.conf_int_mean() == pytest.approx(est.ate_interval(d.X))
    # the same model class on the same data: the same effect up to the nuisances
    assert ours.ate(d.X) == pytest.approx(theirs.ate(d.X), abs=0.3)
    # ours defaults to the nodes of fit (EconML needs X)
    assert ours.ate() == pytest.approx(ours.ate(d.X))
    assert ours.ate_interval() == pytest.approx(ours.ate_interval(d.X))


def test_inference_none_and_bad_inference(constant):
    d = constant
    est = _fit(d, nuisance="linear", final="sgc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(d.Y, d.T, X=d.X, graph=d.graph, inference=None)
    assert est.inference_ is None and np.isfinite(est.ate())
    for call in (est.ate_interval, lambda: est.effect_inference(d.X),
                 lambda: est.effect_interval(d.X)):
        with pytest.raises(ValueError, match="fitted with inference=None"):
            call()
    with pytest.raises(ValueError, match="inference must be one of 'auto', 'bootstrap'"):
        est.fit(d.Y, d.T, X=d.X, graph=d.graph, inference="normal")


@pytest.mark.parametrize("params,match", [
    ({"model_y": LassoCV()}, "model_y given, but nuisance='auto' does not use them"),
    ({"model_t": LogisticRegression(), "nuisance": "gnn"},
     "model_t given, but nuisance='gnn' does not use them"),
    ({"model_y": LassoCV(), "model_t": LogisticRegression(), "nuisance": "linear"},
     "model_y and model_t given.*nuisance='sklearn'"),
    ({"nuisance_hops": 1, "nuisance": "gnn"},
     "nuisance_hops=1 given, but nuisance='gnn' fits no linear model"),
    ({"nuisance_hops": [1, -1]}, "nuisance_hops must be one of .auto. or an integer or "
                                 "a non-empty sequence of integers, each >= 0 or None"),
    ({"nuisance_hops": []}, "nuisance_hops must be"),
])
def test_nuisance_models_with_a_nuisance_that_ignores_them(constant, params, match):
    with pytest.raises(ValueError, match=match):
        GraphRLearner(**params).fit(constant.Y, constant.T, X=constant.X,
                                    graph=constant.graph)


def test_auto_nuisance_keeps_the_kind_of_least_out_of_fold_loss(constant):
    d = constant
    auto = _fit(d, final="sgc", max_epochs=30)
    scores = auto.nuisance_scores_
    assert set(scores["y"]) == set(scores["t"]) == {"linear", "gnn"}
    for key in ("y", "t"):
        assert auto.nuisance_selected_[key] == min(scores[key], key=scores[key].get)
    # the chosen models are those the kind fits alone (same folds, same seeds)
    kind_y, kind_t = auto.nuisance_selected_["y"], auto.nuisance_selected_["t"]
    alone_y = _fit(d, nuisance=kind_y, final="sgc", max_epochs=30)
    alone_t = _fit(d, nuisance=kind_t, final="sgc", max_epochs=30)
    np.testing.assert_allclose(auto.residuals_[0], alone_y.residuals_[0], atol=1e-10)
    np.testing.assert_allclose(auto.residuals_[1], alone_t.residuals_[1], atol=1e-10)
    assert alone_y.nuisance_scores_["y"][kind_y] == pytest.approx(scores["y"][kind_y])
    # the outcome here is linear in [X, A X]: the linear nuisance fits it best
    assert kind_y == "linear"


def test_nuisance_hops_are_candidates_chosen_by_out_of_fold_loss(constant):
    d = constant
    est = _fit(d, nuisance="linear", nuisance_hops=(0, 1, 3, 1), final="sgc")
    scores = est.nuisance_scores_
    assert list(scores["y"]) == list(scores["t"]) == ["linear-0", "linear-1", "linear-3"]
    for key, residual in (("y", 0), ("t", 1)):
        kind = est.nuisance_selected_[key]
        assert kind == min(scores[key], key=scores[key].get)
        # the chosen model is the one its step count fits alone, on the same folds
        alone = _fit(d, nuisance="linear", nuisance_hops=int(kind[len("linear-"):]),
                     final="sgc")
        np.testing.assert_allclose(est.residuals_[residual], alone.residuals_[residual],
                                   atol=1e-10)
    # network_causal's outcome reads a GCN embedding of the neighbours' covariates:
    # without propagation the outcome model misses it
    assert scores["y"]["linear-0"] > min(scores["y"]["linear-1"], scores["y"]["linear-3"])
    # one candidate equal to hops is the default linear nuisance
    same = _fit(d, nuisance="linear", nuisance_hops=2, final="sgc")
    default = _fit(d, nuisance="linear", final="sgc")
    np.testing.assert_allclose(same.residuals_[0], default.residuals_[0], atol=1e-12)
    np.testing.assert_allclose(same.effect(d.X), default.effect(d.X), atol=1e-10)
    # score() predicts with the chosen kinds' fold models
    assert np.isfinite(est.score(d.Y, d.T, X=d.X))
    with_gnn = _fit(d, nuisance_hops=(1, 2), final="sgc", max_epochs=20)
    assert set(with_gnn.nuisance_scores_["y"]) == {"linear-1", "linear-2", "gnn"}


def _alone_residuals(d, kind, **kw):
    """The residuals of the linear nuisance ``kind`` fitted alone (same folds)."""
    return _fit(d, nuisance="linear", nuisance_hops=int(kind[len("linear-"):]),
                **kw).residuals_


def test_nuisance_members_average_the_stages_of_the_best_pairs(constant):
    d = constant
    kw = dict(final="sgc", clip=0.3, n_bootstrap=5)
    with pytest.warns(UserWarning, match="outside \\[0.3, 0.7\\] under one of the 2 "
                      "nuisance pairs.*each pair's final stage leaves out its own"):
        est = GraphRLearner(nuisance="linear", nuisance_hops=(0, 1, 2),
                            nuisance_members=2, random_state=0, **kw).fit(
            d.Y, d.T, X=d.X, graph=d.graph)
    scores = est.nuisance_scores_
    ranked = {key: sorted(scores[key], key=scores[key].get) for key in ("y", "t")}
    pairs = [(m["y"], m["t"]) for m in est.nuisance_members_]
    assert pairs == list(zip(ranked["y"], ranked["t"]))[:2]
    assert (est.nuisance_selected_["y"], est.nuisance_selected_["t"]) == pairs[0]
    assert [m["final"] for m in est.nuisance_members_] == ["sgc", "sgc"]
    # every member's stage is the one a learner of that pair alone fits, on the
    # nodes inside the overlap region under the pair's propensities; the effect is
    # their mean
    single = _fit(d, nuisance="linear", nuisance_hops=(0, 1, 2), **kw)
    residuals = [(_alone_residuals(d, ky, **kw)[0], _alone_residuals(d, kt, **kw)[1])
                 for ky, kt in pairs]
    inside = [(d.T - rt >= 0.3) & (d.T - rt <= 0.7) for _, rt in residuals]
    assert (inside[0] != inside[1]).any()
    np.testing.assert_array_equal(est.kept_, inside[0] | inside[1])
    assert est.overlap_["n_outside"] == (~(inside[0] & inside[1])).sum()
    effects = []
    for (yr, tr), keep in zip(residuals, inside):
        single.residuals_, single._propensity_ = (yr, tr), d.T - tr
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            effects.append(single.refit_final().effect(d.X))
        np.testing.assert_array_equal(single.kept_, keep)
    np.testing.assert_allclose(est.effect(d.X), np.mean(effects, axis=0), atol=1e-10)
    np.testing.assert_allclose(est.residuals_[0], residuals[0][0], atol=1e-10)
    # the intervals refit every member on the same resamples and average
    lo, hi = est.effect_interval(d.X)
    assert lo.shape == (300,) and np.all(lo <= hi)
    assert est.ate_ == pytest.approx(est.effect(d.X)[est.kept_].mean())
    assert np.isfinite(est.score(d.Y, d.T, X=d.X))


def test_every_members_gcn_stage_moves_with_the_learner(constant):
    import pickle

    import torch

    from graphbias.base import to_device

    est = _fit(constant, nuisance="linear", nuisance_hops=(1, 2), nuisance_members=2,
               final="gcn", final_max_epochs=3, n_bootstrap=2)
    est._bootstrap_stages()
    # what pickling and loading go through, on every attribute but the graph
    moved = to_device({k: v for k, v in vars(est).items() if k != "graph_"}, "meta",
                      copy_modules=True)
    stages = [moved["model_final_"]] + moved["_member_stages_"]
    stages += [s for draw in moved["_bootstrap_"][1] for s in draw]
    assert len(stages) == 2 + 2 * 2
    assert all(next(s.parameters()).device.type == "meta" for s in stages)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.effect(constant.X), est.effect(constant.X))
    assert isinstance(again._member_stages_[0], torch.nn.Module)


def test_one_member_is_the_selected_pair_alone(constant):
    d = constant
    one = _fit(d, nuisance="linear", nuisance_hops=(1, 2), final="sgc", n_bootstrap=5)
    assert one.nuisance_members_ == [{**one.nuisance_selected_, "final": "sgc"}]
    again = _fit(d, nuisance="linear", nuisance_hops=(1, 2), final="sgc", n_bootstrap=5,
                 nuisance_members=1)
    np.testing.assert_array_equal(one.effect(d.X), again.effect(d.X))
    np.testing.assert_array_equal(one.effect_interval(d.X)[0],
                                  again.effect_interval(d.X)[0])


def test_the_automatic_learner_averages_two_pairs_of_zero_to_three_hops(constant):
    d = constant
    auto = _fit(d, max_epochs=20, n_bootstrap=2)
    assert auto.nuisance_hops == auto.nuisance_members == "auto"   # not rewritten
    assert set(auto.nuisance_scores_["y"]) == {"linear-0", "linear-1", "linear-2",
                                               "linear-3", "gnn"}
    assert len(auto.nuisance_members_) == 2
    spelled = _fit(d, max_epochs=20, n_bootstrap=2, nuisance_hops=(0, 1, 2, 3),
                   nuisance_members=2)
    np.testing.assert_array_equal(auto.effect(d.X), spelled.effect(d.X))
    # any other nuisance or final stage: the single pair, linear nuisances on hops
    for kw in ({"final": "sgc"}, {"nuisance": "linear"}, {"nuisance": "gnn"}):
        other = _fit(d, max_epochs=20, n_bootstrap=2, **kw)
        assert len(other.nuisance_members_) == 1
        assert not any(k.startswith("linear-") for k in other.nuisance_scores_["y"])
    single = _fit(d, final="sgc", n_bootstrap=2, max_epochs=20, nuisance_hops=None,
                  nuisance_members=1)
    np.testing.assert_array_equal(single.effect(d.X), _fit(
        d, final="sgc", n_bootstrap=2, max_epochs=20).effect(d.X))


@pytest.mark.parametrize("params,match", [
    ({"nuisance_members": 2, "nuisance": "linear"},
     r"nuisance_members=2 but the nuisances are chosen from 1 kind\(s\) \['linear'\]"),
    ({"nuisance_members": 3, "nuisance": "linear", "nuisance_hops": (1, 2)},
     "nuisance_members=3 but the nuisances are chosen from 2 kind"),
    ({"nuisance_members": 0}, "nuisance_members must be one of .auto. or an integer >= 1"),
])
def test_nuisance_members_beyond_the_kinds_fitted_are_refused(constant, params, match):
    with pytest.raises(ValueError, match=match):
        GraphRLearner(**params).fit(constant.Y, constant.T, X=constant.X,
                                    graph=constant.graph)


def test_auto_final_stage_chooses_by_held_out_r_loss():
    d = network_causal("ba", 600, effect="linear", treatment_strength=0.5, noise=0.5,
                       seed=1)
    est = _fit(d, nuisance="linear", n_bootstrap=5)
    scores = est.final_scores_
    assert set(scores) == {"sgc0", "sgc1", "sgc2", "single_index_1", "single_index_2",
                           "quadratic"}
    stage = est.model_final_
    assert isinstance(stage, RidgeStage) and est.final_selected_ == stage.name
    assert stage.cv_loss == pytest.approx(scores[stage.name])
    # an effect linear in [A X, A^2 X]: a graph-aware stage, far better than on X alone
    assert est.final_selected_ != "sgc0" and scores["sgc2"] < scores["sgc0"]
    assert scores[est.final_selected_] <= min(scores.values()) * 1.05
    assert np.mean((est.effect(d.X) - d.tau) ** 2) < 0.5 * np.var(d.tau)
    # refitting one stage keeps the residuals and names it
    for final in ("sgc", "single_index", "quadratic"):
        again = est.set_params(final=final).refit_final()
        assert again.final_selected_ == final and set(again.final_scores_) <= \
            set(scores) | {final}
        if final == "single_index":
            assert again.model_final_.penalty >= INDEX_PENALTIES.min()


def test_auto_final_stage_prefers_the_simplest_on_a_constant_effect(constant):
    est = _fit(constant, nuisance="linear", n_bootstrap=5)
    assert 0 < _TOLERANCE and est.final_selected_ == "sgc0"
    np.testing.assert_allclose(est.effect(constant.X), est.ate_, atol=0.3)


def test_paper_preset_fits_the_paper_setting():
    d = network_causal("sbm", 200, effect="simple_h", setting="paper", seed=0)
    preset = GraphRLearner.paper_preset(random_state=0, max_epochs=20, final_max_epochs=20,
                                        n_bootstrap=3)
    assert preset.get_params()["conv"] == "gcn" and preset.weight_decay == 0.0
    est = _fit(d, **preset.get_params())
    assert est.kept_.all() and est.overlap_["clip"] == 0.0   # no propensity trimming
    assert est.nuisance_selected_ == {"y": "gnn", "t": "gnn"}
    assert est.final_selected_ == "gcn" and np.isfinite(est.effect(d.X)).all()
    assert len(est.models_y[0]) == 2
