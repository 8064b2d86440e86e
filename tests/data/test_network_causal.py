import numpy as np
import pytest
import torch

from graphbias import ops
from graphbias.data.synthetic.network_causal import EFFECTS, cora_causal, network_causal
from graphbias.data.transforms import gcn_norm


@pytest.mark.parametrize("graph", ["ba", "er", "sbm"])
def test_shapes_and_outcome_model(graph):
    d = network_causal(graph, 200, effect="simple_h", noise=0.0, seed=1)
    assert d.X.shape == (200, 10) and d.graph.num_nodes == 200
    assert set(np.unique(d.T)) == {0.0, 1.0}
    np.testing.assert_allclose(d.Y, d.H1[:, 0] + 0.5 * d.X[:, 1] + d.T * d.tau)
    np.testing.assert_allclose(d.tau, 2 + 1.5 * np.sin(d.H1[:, 0]))


def test_embeddings_are_graph_convolutions():
    d = network_causal("ba", 150, effect="higher_order", seed=2)
    a = gcn_norm(d.graph, dtype=torch.float64)
    h1 = ops.spmm(a, torch.from_numpy(d.X)).numpy()
    # H1 is an affine image of A X (standardised columns): least squares leaves no residual
    design = np.hstack([np.ones((150, 1)), h1])
    coef = np.linalg.lstsq(design, d.H1, rcond=None)[0]
    assert np.abs(d.H1 - design @ coef).max() < 1e-8
    assert np.abs(d.H1 - d.X @ np.linalg.lstsq(d.X, d.H1, rcond=None)[0]).max() > 0.1
    np.testing.assert_allclose(d.tau, 2 + 1.5 * np.sin(d.H2[:, 0]))


def test_effects_and_determinism():
    for effect in EFFECTS:
        a = network_causal("er", 100, effect=effect, seed=3)
        b = network_causal("er", 100, effect=effect, seed=3)
        np.testing.assert_array_equal(a.Y, b.Y)
    d = network_causal("er", 100, effect="interaction", seed=3)
    np.testing.assert_allclose(d.tau, 2 + d.H1[:, 0] * d.X[:, 1])


def test_treatment_strength_controls_overlap():
    soft = network_causal("ba", 300, treatment_strength=0.2, seed=0)
    hard = network_causal("ba", 300, treatment_strength=5.0, seed=0)
    assert np.abs(soft.propensity - 0.5).max() < np.abs(hard.propensity - 0.5).max()
    thr = network_causal("ba", 300, treatment="threshold", seed=0)
    assert set(np.unique(thr.propensity)) <= {0.0, 1.0}


def test_bad_arguments():
    with pytest.raises(ValueError, match="graph must be"):
        network_causal("grid", 100)
    with pytest.raises(ValueError, match="effect must be"):
        network_causal("ba", 100, effect="nope")
    with pytest.raises(ValueError, match="num_nodes"):
        network_causal("ba", 5)


def test_cora_variant(planetoid_root):
    d = cora_causal(planetoid_root, 10, seed=0)
    assert d.X.shape == (2708, 10) and d.graph.num_nodes == 2708
    assert np.isfinite(d.Y).all()
