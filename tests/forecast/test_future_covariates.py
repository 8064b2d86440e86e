"""Covariates of the target steps, known in advance (``future_covariates=True``)."""
import numpy as np
import pandas as pd
import pytest
import torch

from graphbias.data import Graph
from graphbias.data.temporal import SpatioTemporalData
from graphbias.forecast import DCRNN, GraphWaveNet, STGNNForecaster, TimeThenSpace

FIT = dict(window=4, horizon=2, hidden_channels=16, max_epochs=25, lr=0.01,
           random_state=0)


@pytest.fixture
def driven_data(driven, ring):
    """``driven_data(per_node, steps, graph)``: data driven by the same step's input,
    that input as its covariate (on a ring of 5 by default), ``y`` and ``u``."""
    def make(per_node: bool, steps: int = 600, graph=None):
        y, u = driven(per_node, 0, steps)
        key = "node_covariates" if per_node else "covariates"
        return (SpatioTemporalData(y, ring(5) if graph is None else graph, **{key: u}),
                y, u)
    return make


@pytest.mark.parametrize("per_node, model, kw", [
    (False, "gru", {}), (True, "tts", {}), (False, "dcrnn", {}),
    (True, "dcrnn", {"decoder": "mlp"}), (True, "gwnet", {}), (False, "agcrn", {})])
def test_known_future_inputs_are_used(per_node, model, kw, driven_data):
    data, _, _ = driven_data(per_node)
    ahead = STGNNForecaster(model, future_covariates=True, **FIT, **kw).fit(data)
    past_only = STGNNForecaster(model, **FIT, **kw).fit(data)
    assert ahead.use_future_covariates_ and not past_only.use_future_covariates_
    mae_ahead = ahead.evaluate(data)["mae"]
    mae_past = past_only.evaluate(data)["mae"]
    # without u[t] the error is about 1.5 E|u| = 1.2 at both steps; with it, near
    # the noise level at both (step 2 also needs u of step 1)
    assert (mae_ahead < 0.3 * mae_past).all(), (mae_ahead, mae_past)


def test_predict_reads_the_given_future_covariates_in_step_order(driven_data, ring):
    data, y, u = driven_data(False, steps=300)
    f = STGNNForecaster("dcrnn", future_covariates=True, **{**FIT, "max_epochs": 3}).fit(data)
    future = np.array([[1.5], [-2.0]])
    forecast = f.predict(data, covariates=future)
    longer = SpatioTemporalData(np.vstack([y, y[-2:]]), ring(5),
                                covariates=np.vstack([u, future]))
    np.testing.assert_allclose(forecast, f.predict_windows(longer, [300 - 4])[0],
                               rtol=1e-6, atol=1e-6)
    swapped = f.predict(data, covariates=future[::-1])
    assert not np.allclose(forecast, swapped, atol=1e-3)
    np.testing.assert_allclose(f.predict(data, covariates=future.ravel()), forecast)


def test_time_covariates_of_the_target_steps_follow_from_the_timestamps(driven, ring):
    y, _ = driven(True, 0, steps=300)
    stamps = pd.date_range("2024-01-01", periods=300, freq="5min")
    data = SpatioTemporalData(y, ring(5), timestamps=stamps)
    f = STGNNForecaster("tts", future_covariates=True, **{**FIT, "max_epochs": 2}).fit(data)
    assert f.module_.future_readout is not None
    longer = SpatioTemporalData(np.vstack([y, y[-2:]]), ring(5),
                                timestamps=pd.date_range("2024-01-01", periods=302,
                                                         freq="5min"))
    np.testing.assert_allclose(f.predict(data), f.predict_windows(longer, [300 - 4])[0],
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("model", ["dcrnn", "tts", "gwnet"])
def test_future_covariates_on_a_time_varying_graph(model, driven_data):
    edges = [np.stack([np.arange(5), (np.arange(5) + s) % 5]) for s in (1, 2)]
    graphs = [Graph(torch.tensor(edges[(t // 7) % 2]), 5) for t in range(200)]
    data, _, _ = driven_data(True, steps=200, graph=graphs)
    f = STGNNForecaster(model, future_covariates=True, **{**FIT, "max_epochs": 2}).fit(data)
    starts = np.arange(0, 190, 3)
    together = f.predict_windows(data, starts)       # one block-diagonal pass, or groups
    alone = np.concatenate([f.predict_windows(data, [s]) for s in starts])
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)
    assert f.predict(data, node_covariates=np.zeros((2, 5))).shape == (2, 5, 1)


def test_bad_future_covariates_are_clear_errors(driven):
    y, u = driven(False, 0, steps=200)
    with pytest.raises(ValueError, match="future_covariates=True needs covariates"):
        STGNNForecaster("gru", future_covariates=True, **FIT).fit(y)
    data = SpatioTemporalData(y, covariates=u)
    f = STGNNForecaster("gru", future_covariates=True, **{**FIT, "max_epochs": 1}).fit(data)
    with pytest.raises(ValueError, match=r"give predict covariates= .* shape \(2, 1\)"):
        f.predict(data)
    with pytest.raises(ValueError, match=r"must have shape \(2, 1\) .* got \(3, 1\)"):
        f.predict(data, covariates=np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"covariates after the end of the data has a NaN or "
                                         r"infinite entry \(first at index \(1, 0\)\)"):
        f.predict(data, covariates=np.array([[0.0], [np.nan]]))
    with pytest.raises(ValueError, match="the data has no given node_covariates"):
        f.predict(data, covariates=np.zeros((2, 1)), node_covariates=np.zeros((2, 5)))
    past_only = STGNNForecaster("gru", **{**FIT, "max_epochs": 1}).fit(data)
    with pytest.raises(ValueError, match="read only by a network fit with "
                                         "future_covariates=True"):
        past_only.predict(data, covariates=np.zeros((2, 1)))
    # the baselines read no covariates, of the past or of the future
    assert not STGNNForecaster("last", future_covariates=True, **FIT).fit(
        data).use_future_covariates_


@pytest.mark.parametrize("make", [
    lambda c: TimeThenSpace(2, 1, horizon=3, hidden_channels=8, future_channels=c),
    lambda c: DCRNN(2, 1, horizon=3, hidden_channels=8, future_channels=c),
    lambda c: GraphWaveNet(2, 1, horizon=3, num_nodes=6, window=5, hidden_channels=8,
                           future_channels=c)])
def test_networks_check_their_future_input(make, ring):
    x, g = torch.randn(4, 5, 6, 2), ring(6)
    assert make(2)(x, g, torch.randn(4, 3, 6, 2)).shape == (4, 3, 6, 1)
    with pytest.raises(ValueError, match="built with future_channels=2"):
        make(2)(x, g)
    with pytest.raises(ValueError, match=r"shape \[B, H, N, C\] = \[4, 3, 6, 2\]"):
        make(2)(x, g, torch.randn(4, 2, 6, 2))
    with pytest.raises(ValueError, match="reads no future covariates"):
        make(0)(x, g, torch.randn(4, 3, 6, 2))


@pytest.mark.parametrize("make, reach", [
    (lambda: TimeThenSpace(2, 1, horizon=3, hidden_channels=8, future_channels=1), 2),
    (lambda: TimeThenSpace(2, 1, horizon=3, hidden_channels=8, future_channels=1,
                           graph_free=True), 0),
    (lambda: GraphWaveNet(2, 1, horizon=3, num_nodes=8, window=5, hidden_channels=8,
                          future_channels=1), 2),
    (lambda: DCRNN(2, 1, horizon=3, hidden_channels=8, future_channels=1), 2 * 3)])
def test_a_future_input_moves_the_forecasts_within_its_reach(make, reach, ring):
    # a known input at node 0 of the target steps moves the forecasts of the nodes
    # within `reach` hops of node 0 on a ring of 8 (k = 2 hops a convolution; DCRNN's
    # decoder convolves once per target step), and of no other node
    torch.manual_seed(0)
    model, x, g = make(), torch.randn(2, 5, 8, 2), ring(8)
    future = torch.randn(2, 3, 8, 1)
    moved = future.clone()
    moved[:, :, 0] += 1.0
    with torch.no_grad():
        change = (model(x, g, moved) - model(x, g, future)).abs().amax((0, 1, 3))
    hops = np.minimum(np.arange(8), 8 - np.arange(8))
    assert (change[torch.as_tensor(hops <= reach)] > 1e-6).all()
    assert (change[torch.as_tensor(hops > reach)] == 0).all()
