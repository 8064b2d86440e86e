import pickle

import numpy as np
import pytest
import torch

from graphbias.base import ISOLATED
from graphbias.causal import EconMLLearner, GNNSLearner, GNNTLearner
from graphbias.causal import _masked
from graphbias.causal._features import neighbour_means
from graphbias.data.synthetic.network_causal import network_causal


@pytest.fixture(scope="module")
def data():
    return network_causal("ba", 200, effect="constant", treatment_strength=0.5, seed=4)


@pytest.mark.parametrize("cls", [GNNTLearner, GNNSLearner])
def test_gnn_meta_learners(data, cls):
    est = cls(max_epochs=60, random_state=0).fit(data.Y, data.T, X=data.X, graph=data.graph)
    tau = pickle.loads(pickle.dumps(est)).effect(data.X, graph=data.graph)
    assert tau.shape == (200,) and abs(est.ate_ - 2.0) < 1.0
    np.testing.assert_array_equal(tau, est.effect(data.X, graph=data.graph))


@pytest.mark.parametrize("kind,neighbours", [("forest", False), ("nonparam", True)])
def test_econml_learners_match_direct_econml(data, kind, neighbours):
    est = EconMLLearner(kind, neighbours, random_state=0).fit(
        data.Y, data.T, X=data.X, graph=data.graph)
    assert abs(est.ate_ - 2.0) < 1.0
    feats = est._features(data.X, data.graph)
    np.testing.assert_allclose(est.effect(data.X, graph=data.graph),
                               est.estimator_.effect(feats).reshape(-1))
    assert feats.shape[1] == (20 if neighbours else 10)


LEARNERS = [lambda: GNNTLearner(max_epochs=30, random_state=0),
            lambda: GNNSLearner(max_epochs=30, random_state=0),
            lambda: EconMLLearner("forest", neighbours=True, random_state=0)]


@pytest.mark.parametrize("make", LEARNERS, ids=["t", "s", "econml-nbr"])
def test_prediction_without_graph_reuses_the_fit_graph(data, make):
    est = make().fit(data.Y, data.T, X=data.X, graph=data.graph)
    # (EconML's forests sum their trees in parallel: equal up to rounding)
    np.testing.assert_allclose(est.effect(data.X), est.effect(data.X, graph=data.graph),
                               rtol=1e-12)
    assert not np.allclose(est.effect(data.X, graph=ISOLATED), est.effect(data.X))
    with pytest.raises(ValueError, match="fitted on a graph of 200 nodes.*50 rows"):
        est.effect(data.X[:50])
    assert est.effect(data.X[:50], graph=ISOLATED).shape == (50,)
    assert est.ate(data.X) == pytest.approx(est.ate_)
    np.testing.assert_allclose(est.effect(data.X, T0=1, T1=0), -est.effect(data.X),
                               rtol=1e-12)


@pytest.mark.parametrize("cls", [GNNTLearner, GNNSLearner])
def test_meta_learners_train_through_fit_module(data, cls, monkeypatch):
    calls = []
    real = _masked.fit_module

    def spy(module, optimizer, step, **kw):
        calls.append(kw["max_epochs"])
        return real(module, optimizer, step, **kw)

    monkeypatch.setattr(_masked, "fit_module", spy)
    est = cls(max_epochs=7, random_state=0).fit(data.Y, data.T, X=data.X, graph=data.graph)
    assert calls == ([7, 7] if cls is GNNTLearner else [7])
    if cls is GNNSLearner:
        assert len(est.history_) == est.n_epochs_ == 7 and est.best_epoch_ == 6


@pytest.mark.parametrize("cls", [GNNTLearner, GNNSLearner])
def test_meta_learner_parameters(data, cls):
    a = cls(max_epochs=np.int64(5), hidden_channels=np.int64(8), random_state=0).fit(
        data.Y, data.T, X=data.X, graph=data.graph)
    with pytest.warns(FutureWarning, match="epochs was renamed max_epochs"):
        b = cls(epochs=5, hidden_channels=8, random_state=0).fit(
            data.Y, data.T, X=data.X, graph=data.graph)
    np.testing.assert_array_equal(a.effect(data.X), b.effect(data.X))
    assert a.device_ == torch.device("cpu")
    for params, match in [({"max_epochs": True}, "max_epochs must be an integer"),
                          ({"hidden_channels": 0}, "hidden_channels must be"),
                          ({"lr": -1.0}, "lr must be"), ({"device": "gpu"}, "device must be")]:
        with pytest.raises(ValueError, match=match):
            cls(**params).fit(data.Y, data.T, X=data.X, graph=data.graph)


def test_s_learner_module_and_deprecated_model(data):
    est = GNNSLearner(max_epochs=5, random_state=0).fit(data.Y, data.T, X=data.X,
                                                        graph=data.graph)
    with pytest.warns(FutureWarning, match="model_ was renamed module_"):
        assert est.model_ is est.module_


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
@pytest.mark.parametrize("cls", [GNNTLearner, GNNSLearner])
def test_meta_learners_on_cuda_equal_cpu(data, cls):
    cpu = cls(max_epochs=20, random_state=0).fit(data.Y, data.T, X=data.X, graph=data.graph)
    gpu = cls(max_epochs=20, random_state=0, device="cuda").fit(
        data.Y, data.T, X=data.X, graph=data.graph)
    np.testing.assert_allclose(gpu.effect(data.X), cpu.effect(data.X), atol=1e-3)


def test_neighbour_means_reference(data):
    ei = data.graph.edge_index.numpy()
    ref = np.zeros_like(data.X)
    for i in range(5):
        nb = ei[0][ei[1] == i]
        ref[i] = data.X[nb].mean(0)
    np.testing.assert_allclose(neighbour_means(data.X, data.graph)[:5], ref[:5], atol=1e-6)


def test_baseline_bad_input(data):
    with pytest.raises(ValueError, match="binary"):
        GNNTLearner(max_epochs=2).fit(data.Y, data.T + 2, X=data.X, graph=data.graph)
    with pytest.raises(ValueError, match="kind must be one of 'forest', 'nonparam'"):
        EconMLLearner("boost").fit(data.Y, data.T, X=data.X, graph=data.graph)
    with pytest.raises(ValueError, match="neighbours must be a bool"):
        EconMLLearner(neighbours=1).fit(data.Y, data.T, X=data.X, graph=data.graph)
    est = GNNTLearner(max_epochs=2).fit(data.Y, data.T, X=data.X, graph=data.graph)
    with pytest.raises(ValueError, match="X has 3 columns, the learner was fitted on 10"):
        est.effect(data.X[:, :3])


def test_econml_linear_dml_on_propagated_covariates(data):
    from graphbias.causal._features import propagated

    est = EconMLLearner("linear", hops=2, random_state=0).fit(
        data.Y, data.T, X=data.X, graph=data.graph)
    feats = est._features(data.X, data.graph)
    np.testing.assert_allclose(feats, propagated(data.X, data.graph, 2))
    assert feats.shape[1] == 30 and est.estimator_.coef_.shape == (30,)
    assert abs(est.ate_ - 2.0) < 0.5
    lo, hi = est.effect_interval(data.X)
    ref = est.estimator_.effect_interval(feats)
    np.testing.assert_allclose(lo, ref[0].reshape(-1))
    neg_lo, neg_hi = est.effect_interval(data.X, T0=1, T1=0)
    np.testing.assert_allclose(neg_lo, -hi) and np.testing.assert_allclose(neg_hi, -lo)
    with pytest.raises(ValueError, match="neighbours=True or hops > 0, not both"):
        EconMLLearner("linear", neighbours=True, hops=1).fit(data.Y, data.T, X=data.X,
                                                             graph=data.graph)
    with pytest.raises(ValueError, match="hops must be an integer >= 0"):
        EconMLLearner("linear", hops=-1).fit(data.Y, data.T, X=data.X, graph=data.graph)
