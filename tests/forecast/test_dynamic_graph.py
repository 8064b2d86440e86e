"""Forecasting on a time-varying graph: one graph per step of the series."""
import numpy as np
import pytest
import torch

from graphbias.data import Graph
from graphbias.data.temporal import SpatioTemporalData
from graphbias.forecast import DCRNN, STGNNForecaster

FIT = dict(window=4, horizon=1, hidden_channels=16, max_epochs=30, lr=0.01,
           random_state=0)


def shift(n, step):
    """A directed ring on which node ``i`` receives from node ``i - step``."""
    return Graph(torch.tensor(np.stack([(np.arange(n) - step) % n, np.arange(n)])), n)


def rotating(steps=600, n=8, block=50, seed=0):
    """Values move one node along a ring per step, clockwise in even blocks of
    ``block`` steps and counter-clockwise in odd ones; the graph of each step says
    which (noise sd 0.2, so the optimal MAE is 0.2 sqrt(2 / pi) = 0.16)."""
    rng = np.random.default_rng(seed)
    phase = (np.arange(steps) // block) % 2
    y = np.zeros((steps, n))
    y[0] = rng.standard_normal(n)
    for t in range(1, steps):
        y[t] = 0.95 * np.roll(y[t - 1], 1 - 2 * phase[t]) + 0.2 * rng.standard_normal(n)
    graphs = [shift(n, 1), shift(n, -1)]
    return y, [graphs[k] for k in phase], graphs


@pytest.fixture(scope="module")
def fitted():
    y, dynamic, _ = rotating(steps=300)
    data = SpatioTemporalData(y, dynamic)
    return STGNNForecaster("tts", **{**FIT, "max_epochs": 2}).fit(data), data


@pytest.mark.parametrize("model", ["tts", "gwnet", "agcrn"])
def test_a_rotating_graph_is_learned(model):
    y, dynamic, (clockwise, counter) = rotating()
    union = Graph(torch.cat([clockwise.edge_index, counter.edge_index], 1), 8)
    mae = {name: -STGNNForecaster(model, **FIT).fit(SpatioTemporalData(y, g)).score(
               SpatioTemporalData(y, g))
           for name, g in (("dynamic", dynamic), ("static", clockwise), ("union", union))}
    assert mae["dynamic"] < 1.15 * 0.2 * np.sqrt(2 / np.pi)
    assert mae["dynamic"] < 0.9 * min(mae["static"], mae["union"])


def test_each_window_is_forecast_on_the_graph_of_its_last_input_step(fitted):
    f, data = fitted
    assert f.dynamic_graph_ and f.graph_ is None
    starts = np.r_[30, 45:50, 95:100, 120]        # inside a block and across its end
    got = f.predict_windows(data, starts)
    for i, s in enumerate(starts):
        static = SpatioTemporalData(data.values, data.graph[s + 3])
        np.testing.assert_allclose(got[i], f.predict_windows(static, [s])[0], rtol=1e-5,
                                   atol=1e-6)
    first = SpatioTemporalData(data.values, data.graph[48])  # the other graph for 48
    assert np.abs(got[4] - f.predict_windows(first, [48])[0]).max() > 1e-3
    last = SpatioTemporalData(data.values, data.graph[-1])
    np.testing.assert_allclose(f.predict(data), f.predict(last), rtol=1e-5, atol=1e-6)


def test_one_graph_at_every_step_is_the_static_fit():
    y, _, (clockwise, _) = rotating(steps=200)
    copies = [Graph(clockwise.edge_index.clone(), 8) for _ in range(200)]
    dynamic = SpatioTemporalData(y, copies)
    assert all(g is dynamic.graph[0] for g in dynamic.graph)
    kw = {**FIT, "max_epochs": 2}
    a = STGNNForecaster("gwnet", **kw).fit(dynamic)       # one graph: one pass a batch
    b = STGNNForecaster("gwnet", **kw).fit(SpatioTemporalData(y, clockwise))
    np.testing.assert_array_equal(a.predict_windows(dynamic, [0, 50, 150]),
                                  b.predict_windows(dynamic, [0, 50, 150]))


@pytest.mark.parametrize("model", ["dcrnn", "tts", "gwnet", "agcrn"])
def test_windows_on_different_graphs_pass_as_one_block_diagonal_graph(model, monkeypatch):
    y, dynamic, _ = rotating(steps=200, block=5)
    data = SpatioTemporalData(y, dynamic)
    f = STGNNForecaster(model, **{**FIT, "max_epochs": 2}).fit(data)
    starts = np.arange(0, 190, 3)                 # many windows on both graphs
    calls = []
    forward = type(f.module_).forward
    monkeypatch.setattr(type(f.module_), "forward",
                        lambda self, x, g, u=None: calls.append(x.shape) or forward(self, x, g, u))
    together = f.predict_windows(data, starts)
    assert calls == [torch.Size([1, 4, 8 * len(starts), 2])]   # one pass, B * N nodes
    alone = np.concatenate([f.predict_windows(SpatioTemporalData(y, dynamic[s + 3]), [s])
                            for s in starts])     # each on its own static graph
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)


def test_time_varying_graph_errors(fitted):
    f, data = fitted
    with pytest.raises(ValueError, match="fit on one graph per step: give the data's"):
        f.predict(data.values)
    with pytest.raises(ValueError, match="compile=True needs a static graph"):
        STGNNForecaster("tts", compile=True, **FIT).fit(data)


def switching(steps=800, n=8, seed=0):
    """``y[t] = 0.2 A_{t-1} y[t-1] + 0.75 A_{t-3} y[t-3] + 0.2 noise`` with ``A_t`` a
    shift along the ring, clockwise or not at random, given as the graph of step
    ``t``: the older step's graph matters most, and only ``graph_steps="each"``
    reads it (optimal MAE 0.2 sqrt(2 / pi) = 0.16)."""
    rng = np.random.default_rng(seed)
    direction = rng.integers(0, 2, steps)
    y = np.zeros((steps, n))
    y[:3] = rng.standard_normal((3, n))
    for t in range(3, steps):
        y[t] = (0.2 * np.roll(y[t - 1], 1 - 2 * direction[t - 1])
                + 0.75 * np.roll(y[t - 3], 1 - 2 * direction[t - 3])
                + 0.2 * rng.standard_normal(n))
    graphs = [shift(n, 1), shift(n, -1)]
    return y, [graphs[k] for k in direction]


@pytest.mark.parametrize("model", ["dcrnn", "gwnet", "agcrn"])
def test_each_input_step_on_its_own_graph_is_learned(model):
    data = SpatioTemporalData(*switching())
    kw = dict(window=4, horizon=1, hidden_channels=16, max_epochs=30, lr=0.01, random_state=0)
    each = STGNNForecaster(model, graph_steps="each", **kw).fit(data)
    last = STGNNForecaster(model, **kw).fit(data)
    assert -each.score(data) < 0.19                  # near the optimum, 0.16
    assert -each.score(data) < 0.85 * -last.score(data)


def test_each_step_graph_equals_a_step_by_step_reference():
    y, graphs = switching(steps=120)
    data = SpatioTemporalData(y, graphs)
    f = STGNNForecaster("dcrnn", graph_steps="each", **{**FIT, "max_epochs": 2}).fit(data)
    starts = np.array([0, 7, 30, 31, 90])
    got = f.predict_windows(data, starts)             # per-step block-diagonal unions
    m = f.module_
    inputs = f._inputs(data, starts)[0]
    with torch.no_grad():
        for b, s in enumerate(starts):
            h = None
            for t in range(4):                        # node-major [N, 1, C] steps
                h = m.encoder[0](inputs[b, t][:, None], h, graphs[s + t])
            out = m.readout(m.decoder[0](inputs.new_zeros(8, 1, 1), h, graphs[s + 3]))
            want = f.scaler_.inverse_transform(out.permute(1, 0, 2)[:, None])  # [1, 1, N, F]
            np.testing.assert_allclose(got[b], want[0].numpy(), rtol=1e-5, atol=1e-6)
    static = SpatioTemporalData(y, graphs[0])         # one graph: the same as "last"
    a, b = (STGNNForecaster("dcrnn", graph_steps=g, **{**FIT, "max_epochs": 2}).fit(static)
            for g in ("each", "last"))
    np.testing.assert_array_equal(a.predict_windows(static, starts),
                                  b.predict_windows(static, starts))


def test_each_step_graph_errors():
    with pytest.raises(ValueError, match="graph_steps='each' needs model='dcrnn', "
                                         "'gwnet' or 'agcrn'"):
        STGNNForecaster("tts", graph_steps="each").fit(*rotating(steps=100)[:2])
    with pytest.raises(ValueError, match="model='agcrn' needs k >= 1"):
        STGNNForecaster("agcrn", graph_steps="each", k=0).fit(*rotating(steps=100)[:2])
    m = DCRNN(2, 1, horizon=1, hidden_channels=4)
    with pytest.raises(ValueError, match="one graph per input step needs 5 graphs, got 2"):
        m(torch.randn(1, 5, 8, 2), [shift(8, 1)] * 2)
