import numpy as np
import pytest
import torch

from graphbias.data.synthetic.gpvar import (adjacency_shift, gcn_shift, gpvar,
                                            optimal_forecast, shift_operator,
                                            triangle_communities)
from graphbias.forecast import STGNNForecaster
from graphbias.nn.diffusion_conv import DiffusionConv, diffusion_supports


def test_default_shift_is_tsl_adjacency_with_self_loops():
    g = triangle_communities(2)
    a = adjacency_shift(g)
    dense = np.eye(12)
    src, dst = g.edge_index.numpy()
    dense[dst, src] = 1
    np.testing.assert_array_equal(a, dense)
    assert a.max() == 1 and np.array_equal(np.diag(a), np.ones(12))
    np.testing.assert_array_equal(shift_operator(g), a)
    d = a.sum(1)
    np.testing.assert_allclose(shift_operator(g, "gcn"), a / np.sqrt(np.outer(d, d)))
    np.testing.assert_array_equal(gcn_shift(g), shift_operator(g, "gcn"))
    with pytest.raises(ValueError, match="shift must be one of 'adjacency', 'gcn'"):
        shift_operator(g, "sym")
    with pytest.raises(ValueError, match="shift must be one of"):
        gpvar(10, shift="none")


@pytest.mark.parametrize("shift", ["adjacency", "gcn"])
def test_noise_free_step_follows_the_chosen_shift(shift):
    data, clean = gpvar(60, shift=shift, seed=3)
    x = data.values[:, :, 0].astype(np.float64)
    S = shift_operator(data.graph, shift)
    older, newer = x[:-2].T, x[1:-1].T  # columns are steps t-2, t-1
    z = 5 * older + 2 * newer - 4 * S @ older + 6 * S @ newer - S @ S @ older
    np.testing.assert_allclose(clean[2:, :, 0], np.tanh(z).T, atol=1e-5)
    opt = optimal_forecast(data, [10, 20], window=4, horizon=1, shift=shift, samples=5)
    np.testing.assert_allclose(opt[:, 0], clean[[14, 24]], atol=1e-6)


def test_the_two_shifts_give_different_series():
    a, ca = gpvar(50, seed=0)
    b, cb = gpvar(50, shift="gcn", seed=0)
    np.testing.assert_allclose(a.values - ca, b.values - cb, atol=1e-5)  # the same noise
    assert not np.allclose(a.values, b.values, atol=0.1)


def test_normalization_none_diffuses_along_a_plus_i():
    g = triangle_communities(1)
    (s,) = diffusion_supports(g, "none")
    np.testing.assert_array_equal(s.to_dense().numpy(), adjacency_shift(g))
    conv = DiffusionConv(3, 2, k=2, normalization="none")
    x = torch.randn(6, 3)
    S = torch.as_tensor(adjacency_shift(g), dtype=torch.float32)
    expected = conv.lin(torch.cat([x, S @ x, S @ S @ x], -1))
    torch.testing.assert_close(conv(x, g), expected)
    data, _ = gpvar(300, seed=0)
    f = STGNNForecaster("tts", 4, 1, normalization="none", hidden_channels=8, max_epochs=2,
                        random_state=0).fit(data)
    assert np.isfinite(f.score(data))
