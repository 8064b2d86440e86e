import numpy as np
import pytest
import torch

from graphbias.data import Graph
from graphbias.data.synthetic.gpvar import gpvar
from graphbias.forecast import GraphWaveNet, STGNNForecaster


def full_forward(m: GraphWaveNet, x, graph):
    """Graph WaveNet over every time step of every layer (the textbook layout): the
    reference the pruned forward must equal. ``graph`` may be a list of one graph per
    input step: each output step is then convolved alone on its step's graph."""
    B, W, N, _ = x.shape
    steps = graph if isinstance(graph, list) else [graph] * W
    h = m.start(x)
    if m.input_conv is not None:                       # each input step on its graph
        xs = x.permute(2, 0, 1, 3)
        h = h + torch.cat([m.input_conv(xs[:, :, t:t + 1], steps[t]) for t in range(W)],
                          2).permute(1, 2, 0, 3)
    h = torch.nn.functional.pad(h, (0, 0, 0, 0, m.receptive_field - W, 0))
    h = h.permute(0, 3, 2, 1)  # [B, C, N, T]
    adj = torch.softmax(torch.relu(m.source @ m.target.T), dim=1)
    skip = 0.0
    for conv, sk, gconv, adp in zip(m.filters, m.skips, m.graph_convs, m.adaptive):
        f, g = conv(h).chunk(2, 1)
        z = (torch.tanh(f) * torch.sigmoid(g)).permute(2, 0, 3, 1)  # [N, B, T', C]
        skip = skip + sk(z[:, :, -1])
        hops, a = [], z
        for _ in range(m.k):
            a = torch.einsum("nm,m...->n...", adj, a)
            hops.append(a)
        T = z.size(2)                                  # output t is input step W - T + t
        out = torch.cat([gconv(z[:, :, t:t + 1], steps[max(W - T + t, 0)]) for t in range(T)],
                        2) + adp(torch.cat(hops, -1))
        h = out.permute(1, 3, 0, 2) + h[..., -z.size(2):]
    y = m.end(skip)
    return y.view(N, B, m.horizon, m.out_channels).permute(1, 2, 0, 3)


@pytest.mark.parametrize("window", [2, 3, 5, 8, 12])
def test_pruned_forward_equals_every_step_computed(window):
    torch.manual_seed(0)
    g = Graph(torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]]), 6)
    m = GraphWaveNet(3, 2, horizon=4, num_nodes=6, window=window, hidden_channels=8)
    x = torch.randn(5, window, 6, 3, requires_grad=True)
    out = m(x, g)
    ref = full_forward(m, x, g)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    (gx,) = torch.autograd.grad(out.square().sum(), x)
    (rx,) = torch.autograd.grad(ref.square().sum(), x)
    torch.testing.assert_close(gx, rx, rtol=1e-4, atol=1e-6)


def rings():
    return [Graph(torch.tensor([[0, 1, 2, 3, 4, 5], [(i + s) % 6 for i in range(6)]]), 6)
            for s in (1, 2, 5)]


@pytest.mark.parametrize("window", [3, 5, 12])
@pytest.mark.parametrize("input_hops", [0, 2])
def test_one_graph_per_input_step_equals_every_step_computed(window, input_hops):
    torch.manual_seed(0)
    rings_ = rings()
    steps = [rings_[t % 3] for t in range(window)]
    m = GraphWaveNet(3, 2, horizon=4, num_nodes=6, window=window, hidden_channels=8,
                     input_hops=input_hops)
    x = torch.randn(5, window, 6, 3)
    out = m(x, steps)
    torch.testing.assert_close(out, full_forward(m, x, steps), rtol=1e-5, atol=1e-6)
    assert (out - m(x, rings_[(window - 1) % 3])).abs().max() > 1e-3   # not the last graph


def test_the_input_convolution_reaches_the_steps_the_dilations_skip():
    # window 6, dilations 1, 2, 4: the layers convolve offsets 0, 2, 4 (and the
    # padding) back from the last step; the graph at offset 1 enters only through
    # the input convolution
    torch.manual_seed(0)
    a, b, _ = rings()
    x = torch.randn(2, 6, 6, 3)
    steps, skipped = [a] * 6, [a] * 4 + [b, a]
    for hops, moves in ((0, False), (1, True)):
        m = GraphWaveNet(3, 1, horizon=1, num_nodes=6, window=6, hidden_channels=8,
                         input_hops=hops)
        assert ((m(x, steps) - m(x, skipped)).abs().max() > 1e-4) == moves
    assert GraphWaveNet(3, 1, 1, num_nodes=6, window=6).input_conv is None
    with pytest.raises(ValueError, match="input_hops >= 0, got -1"):
        GraphWaveNet(3, 1, 1, num_nodes=6, window=6, input_hops=-1)
    with pytest.raises(ValueError, match="input_hops=2 needs model='gwnet'"):
        STGNNForecaster("dcrnn", 4, 1, input_hops=2).fit(gpvar(100, seed=0)[0])


def test_graph_wavenet_needs_two_steps():
    with pytest.raises(ValueError, match="window >= 2"):
        GraphWaveNet(2, 1, 3, num_nodes=6, window=1)
    data, _ = gpvar(100, seed=0)
    with pytest.raises(ValueError, match="model='gwnet' needs window >= 2"):
        STGNNForecaster("gwnet", 1, 1, max_epochs=1).fit(data)


def test_adaptive_adjacency_is_the_softmax_of_the_embeddings():
    data, _ = gpvar(300, seed=0)
    f = STGNNForecaster("gwnet", 4, 1, hidden_channels=8, max_epochs=2, random_state=0).fit(data)
    a = f.adaptive_adjacency()
    e1, e2 = (t.detach().numpy() for t in (f.module_.source, f.module_.target))
    logits = np.maximum(e1 @ e2.T, 0)
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(a, expected, rtol=1e-5)
    assert a.shape == (30, 30) and isinstance(a, np.ndarray)
    with pytest.raises(ValueError, match="only 'gwnet' and 'agcrn' have an adaptive adjacency"):
        STGNNForecaster("tts", 4, 1, hidden_channels=8, max_epochs=1).fit(data) \
            .adaptive_adjacency()
    with pytest.raises(ValueError, match="not fitted"):
        STGNNForecaster("gwnet").adaptive_adjacency()


def test_blocks_of_nodes_are_windows_side_by_side(check_blocks):
    torch.manual_seed(0)
    check_blocks(GraphWaveNet(2, 1, horizon=2, num_nodes=5, window=4, hidden_channels=8))
