import pickle

import numpy as np
import pytest

from graphbias.causal import EconMLLearner, GNNSLearner, GNNTLearner
from graphbias.causal._checks import neighbour_means
from graphbias.data.synthetic.network_causal import network_causal


@pytest.fixture(scope="module")
def data():
    return network_causal("ba", 200, effect="constant", treatment_strength=0.5, seed=4)


@pytest.mark.parametrize("cls", [GNNTLearner, GNNSLearner])
def test_gnn_meta_learners(data, cls):
    est = cls(epochs=60, random_state=0).fit(data.Y, data.T, X=data.X, graph=data.graph)
    tau = pickle.loads(pickle.dumps(est)).effect(data.X, graph=data.graph)
    assert tau.shape == (200,) and abs(est.ate_ - 2.0) < 1.0


@pytest.mark.parametrize("kind,neighbours", [("forest", False), ("nonparam", True)])
def test_econml_learners_match_direct_econml(data, kind, neighbours):
    est = EconMLLearner(kind, neighbours, random_state=0).fit(
        data.Y, data.T, X=data.X, graph=data.graph)
    assert abs(est.ate_ - 2.0) < 1.0
    feats = est._features(data.X, data.graph)
    np.testing.assert_allclose(est.effect(data.X, graph=data.graph),
                               est.estimator_.effect(feats).reshape(-1))
    assert feats.shape[1] == (20 if neighbours else 10)


def test_neighbour_means_reference(data):
    ei = data.graph.edge_index.numpy()
    ref = np.zeros_like(data.X)
    for i in range(5):
        nb = ei[0][ei[1] == i]
        ref[i] = data.X[nb].mean(0)
    np.testing.assert_allclose(neighbour_means(data.X, data.graph)[:5], ref[:5], atol=1e-6)


def test_baseline_bad_input(data):
    with pytest.raises(ValueError, match="binary"):
        GNNTLearner(epochs=2).fit(data.Y, data.T + 2, X=data.X, graph=data.graph)
    with pytest.raises(ValueError, match="kind"):
        EconMLLearner("boost").fit(data.Y, data.T, X=data.X, graph=data.graph)
