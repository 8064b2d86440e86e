import numpy as np
import pytest
import torch

from graphbias import ops
from graphbias.data.synthetic.network_causal import EFFECTS, cora_causal, network_causal
from graphbias.data.transforms import gcn_norm


@pytest.mark.parametrize("graph", ["ba", "er", "sbm", "geometric"])
def test_shapes_and_outcome_model(graph):
    d = network_causal(graph, 200, effect="simple_h", noise=0.0, seed=1)
    assert d.X.shape == (200, 10) and d.graph.num_nodes == 200
    assert set(np.unique(d.T)) == {0.0, 1.0}
    np.testing.assert_allclose(d.Y, d.H1[:, 0] + 0.5 * d.X[:, 1] + d.T * d.tau)
    np.testing.assert_allclose(d.tau, 2 + 1.5 * np.sin(d.H1[:, 0]))
    np.testing.assert_allclose(d.baseline, d.H1[:, 0] + 0.5 * d.X[:, 1])


@pytest.mark.parametrize("setting, noise", [("default", 1.0), ("paper", 0.5)])
def test_outcome_mean_is_the_regression_of_y(setting, noise):
    d = network_causal("ba", 20000, setting=setting, seed=3)
    np.testing.assert_allclose(d.outcome_mean, d.baseline + d.propensity * d.tau)
    # Y - E[Y | X, G] = (T - e) tau + noise: mean 0, variance E[e (1 - e) tau^2] + noise^2
    resid = d.Y - d.outcome_mean
    expected = np.mean(d.propensity * (1 - d.propensity) * d.tau ** 2) + noise ** 2
    assert abs(resid.mean()) < 4 * np.sqrt(expected / resid.size)
    assert abs(resid.var() / expected - 1) < 0.05


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
    thr = network_causal("ba", 300, treatment="threshold", treatment_noise=0.0, seed=0)
    assert set(np.unique(thr.propensity)) <= {0.0, 1.0}
    # by default the threshold is noisy: the effect is identified
    default = network_causal("ba", 300, treatment="threshold", seed=0).propensity
    assert np.mean((default > 0.01) & (default < 0.99)) > 0.5


@pytest.mark.parametrize("kwargs,match", [
    ({"graph": "grid"}, "network_causal: graph must be one of 'ba', 'er', 'sbm', 'geometric', got 'grid'"),
    ({"effect": "nope"}, "effect must be one of 'simple_h'"),
    ({"treatment": "coin"}, "treatment must be one of 'bernoulli', 'threshold'"),
    ({"setting": "authors"}, "setting must be one of 'default', 'paper'"),
    ({"treatment_noise": -0.1}, "treatment_noise must be a real number in \\[0, inf\\)"),
    ({"avg_degree": 0.0}, "avg_degree must be a real number in \\(0, inf\\)"),
    ({"num_nodes": 5}, "num_nodes must be an integer >= 10, got 5"),
    ({"num_nodes": 100.0}, "num_nodes must be an integer"),
    ({"num_features": 1}, "num_features must be an integer >= 2"),
    ({"num_features": True}, "num_features must be an integer >= 2, got True"),
    ({"treatment_strength": -1.0}, "treatment_strength must be a real number in \\[0, inf\\)"),
    ({"noise": float("nan")}, "noise must be a real number"),
    ({"noise": "1"}, "noise must be a real number"),
    ({"seed": -3}, "seed must be an integer >= 0 or a numpy Generator or None, got -3"),
    ({"seed": 1.5}, "seed must be"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        network_causal(**{"graph": "ba", "num_nodes": 100, **kwargs})


def test_numpy_arguments_and_generator_seeds():
    a = network_causal("er", np.int64(100), np.int32(4), noise=np.float32(0.5), seed=3)
    b = network_causal("er", 100, 4, noise=0.5, seed=np.random.default_rng(3))
    assert a.X.shape == (100, 4)
    np.testing.assert_array_equal(a.Y, b.Y)


def test_cora_variant_checks_its_arguments_before_reading(tmp_path):
    with pytest.raises(ValueError, match="cora_causal: effect must be one of"):
        cora_causal(tmp_path, effect="nope")
    with pytest.raises(ValueError, match="cora_causal: num_features must be"):
        cora_causal(tmp_path, 1)


def test_cora_variant(planetoid_root):
    d = cora_causal(planetoid_root, 10, seed=0)
    assert d.X.shape == (2708, 10) and d.graph.num_nodes == 2708
    assert np.isfinite(d.Y).all()


def _random_gcn_reference(a, h, rng):
    """ReLU(A ReLU(A h U1) U2) with Glorot-uniform square weights, drawn in order."""
    d = h.shape[1]
    bound = np.sqrt(6.0 / (2 * d))
    for _ in range(2):
        h = np.maximum(a @ (h @ rng.uniform(-bound, bound, (d, d))), 0.0)
    return h


def test_paper_setting_follows_the_authors_simulator():
    d = network_causal("sbm", 200, effect="higher_order", setting="paper", seed=4)
    # replay the draws: graph, X, the two random GCNs, then T and the noise
    rng = np.random.default_rng(4)
    from graphbias.data.synthetic.network_causal import _SETTING_VALUES, _graph
    edges = _graph("sbm", 200, _SETTING_VALUES["paper"]["sbm"], None, rng)
    np.testing.assert_array_equal(edges, d.graph.edge_index.numpy())
    X = rng.standard_normal((200, 10))
    np.testing.assert_array_equal(X, d.X)
    a = gcn_norm(d.graph, dtype=torch.float64).to_dense().numpy()
    H1 = _random_gcn_reference(a, X, rng)
    H2 = _random_gcn_reference(a, H1, rng)
    np.testing.assert_allclose(d.H1, H1, atol=1e-10)
    np.testing.assert_allclose(d.H2, H2, atol=1e-10)
    from scipy.stats import norm
    np.testing.assert_allclose(d.propensity, norm.cdf((0.5 * X[:, 0] - 0.7 * H1[:, 1]) / 0.3))
    T = (rng.random(200) < d.propensity).astype(float)
    np.testing.assert_array_equal(T, d.T)
    eps = rng.standard_normal(200)
    np.testing.assert_allclose(d.Y, H1[:, 0] + 0.5 * X[:, 1] + 0.5 * eps + T * d.tau)
    np.testing.assert_allclose(d.tau, 2 + 1.5 * np.sin(H2[:, 0]))
    # the paper's SBM is denser: 0.1 / 0.01 against 0.05 / 0.005
    ours = network_causal("sbm", 200, seed=4)
    assert d.graph.edge_index.shape[1] > 1.5 * ours.graph.edge_index.shape[1]


def test_linear_effect_threshold_noise_and_average_degree():
    d = network_causal("er", 300, effect="linear", seed=0)
    np.testing.assert_allclose(d.tau, 2 + 0.5 * d.H1[:, 0] + 0.5 * d.H2[:, 0])
    def inside(noise):
        p = network_causal("ba", 300, treatment="threshold", treatment_noise=noise,
                           seed=0).propensity
        return np.mean((p > 0.01) & (p < 0.99))

    assert inside(0.5) > inside(0.05) > inside(0.0) == 0.0   # noise widens the overlap
    for graph in ("er", "sbm", "geometric", "ba"):
        for n in (400, 1600):
            g = network_causal(graph, n, avg_degree=6.0, seed=1).graph
            assert abs(g.edge_index.shape[1] / n - 6.0) < 1.5, (graph, n)
