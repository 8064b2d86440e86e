import numpy as np
import pytest
import torch

from graphbias.data import Graph
from graphbias.data.datasets import load_los_loop
from graphbias.data.synthetic.gpvar import gpvar, optimal_mae, triangle_communities
from graphbias.data.temporal import (SpatioTemporalData, StandardScaler, graph_from_adjacency,
                                     graph_from_distances, time_covariates)

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def traffic_root():
    if not (SHARED_DATA / "traffic" / "los_speed.csv").exists():
        pytest.skip(f"Los-loop files not found under {SHARED_DATA / 'traffic'}")
    return SHARED_DATA


def path_graph(n):
    return Graph(torch.tensor([list(range(n - 1)), list(range(1, n))]), n)


def test_windows_are_lazy_and_exact():
    T, N = 50, 3
    data = SpatioTemporalData(np.arange(T * N, dtype=float).reshape(T, N), path_graph(N))
    starts = data.window_starts(window=4, horizon=3, stride=2, delay=1)
    assert isinstance(starts, np.ndarray) and starts.dtype == np.int64
    assert starts[-1] + 4 + 1 + 3 <= T and starts[1] - starts[0] == 2
    x, y, mx, my, cov = data.gather(starts[[0, 5]], 4, 3, delay=1)
    assert x.shape == (2, 4, N, 1) and y.shape == (2, 3, N, 1) and cov is None
    s = starts[5]
    assert torch.equal(x[1, :, :, 0], torch.from_numpy(data.values[s:s + 4, :, 0]))
    assert torch.equal(y[1, :, :, 0], torch.from_numpy(data.values[s + 5:s + 8, :, 0]))


def test_chronological_split_has_no_target_leak():
    data = SpatioTemporalData(np.random.default_rng(0).normal(size=(100, 2)))
    split = data.split(window=5, horizon=3, val=0.1, test=0.2)
    assert split.train_steps == (0, 70) and split.val_steps == (70, 80)
    assert split.train.max() + 5 + 3 <= 70          # train targets stay in train
    assert split.val.min() + 5 >= 70 and split.val.max() + 8 <= 80
    assert split.test.min() + 5 >= 80 and split.test.max() + 8 == 100


def test_scaler_fits_on_training_part_only():
    values = np.concatenate([np.zeros((70, 2)), np.full((30, 2), 100.0)])
    values[:70] += np.random.default_rng(0).normal(size=(70, 2))
    data = SpatioTemporalData(values)
    split = data.split(4, 2, 0.1, 0.2)
    scaler = StandardScaler().fit(data, split.train_steps)
    assert np.abs(scaler.mean_).max() < 0.5 and scaler.std_.max() < 2.0
    whole = StandardScaler().fit(data)
    assert whole.mean_.min() > 20  # the whole series would leak the test level
    x = torch.from_numpy(data.values)
    assert torch.allclose(scaler.inverse_transform(scaler.transform(x)), x, atol=1e-4)


def test_mask_zeros_missing_and_scaler_ignores_missing():
    v = np.ones((10, 2)); v[::2, 0] = 0.0; v[1::2, 0] = 5.0
    data = SpatioTemporalData(v, zeros_missing=True)
    assert data.mask[:, 0, 0].sum() == 5
    assert StandardScaler().fit(data).mean_[0, 0] == pytest.approx(5.0)


def test_bad_inputs():
    v = np.random.default_rng(0).normal(size=(20, 4))
    with pytest.raises(ValueError, match="longer than the series"):
        SpatioTemporalData(v).window_starts(15, 10)
    with pytest.raises(ValueError, match="graph has 3 nodes but the series has 4"):
        SpatioTemporalData(v, path_graph(3))
    bad = v.copy(); bad[:, 2] = 0.0
    with pytest.raises(ValueError, match=r"node\(s\) \[2\] have no observed value"):
        SpatioTemporalData(bad, zeros_missing=True)
    nan = v.copy(); nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN at observed entries .*step 3, node 1"):
        SpatioTemporalData(nan)
    masked = SpatioTemporalData(nan, mask_nan=True)
    assert not masked.mask[3, 1, 0] and masked.values[3, 1, 0] == 0
    m = np.ones(v.shape, bool); m[3, 1] = False
    assert not SpatioTemporalData(nan, mask=m).mask[3, 1, 0]
    with pytest.raises(ValueError, match="one graph per step"):
        SpatioTemporalData(v, [path_graph(4)] * 3)


def test_time_varying_graph_and_covariates():
    import pandas as pd
    stamps = pd.date_range("2024-01-01", periods=6, freq="6h")
    data = SpatioTemporalData(np.ones((6, 4)), [path_graph(4)] * 6, timestamps=stamps)
    assert not data.is_static and data.covariates.shape == (6, 4)
    cov = time_covariates(stamps)
    assert cov[1, 0] == pytest.approx(1.0)  # 06:00 is a quarter day: sin = 1
    assert data.gather([0], 2, 1)[4].shape == (1, 2, 4)


def test_given_covariates_follow_the_time_covariates_in_every_window():
    import pandas as pd
    stamps = pd.date_range("2024-01-01", periods=8, freq="6h")
    shared = np.arange(16.0).reshape(8, 2)
    node = np.arange(8 * 3.0).reshape(8, 3) * 10           # one column per node
    data = SpatioTemporalData(np.ones((8, 3)), path_graph(3), timestamps=stamps,
                              covariates=shared, node_covariates=node)
    assert (data.num_time_covariates, data.num_covariates, data.num_node_covariates) == \
        (4, 6, 1)
    np.testing.assert_array_equal(data.covariates[:, 4:], shared)
    np.testing.assert_array_equal(data.covariates[:, :4], time_covariates(stamps))
    cov = data.gather([1, 3], 2, 1)[4]
    assert cov.shape == (2, 2, 3, 7)                       # [B, W, N, 4 + 2 + 1]
    for b, s in enumerate((1, 3)):
        for n in range(3):
            np.testing.assert_array_equal(cov[b, :, n, :6], data.covariates[s:s + 2])
            np.testing.assert_array_equal(cov[b, :, n, 6], node[s:s + 2, n])
    only = SpatioTemporalData(np.ones((8, 3)), covariates=np.arange(8.0))
    assert only.num_time_covariates == 0 and only.gather([0], 3, 1)[4].shape == (1, 3, 1)
    assert SpatioTemporalData(np.ones((8, 3))).num_covariates == 0


@pytest.mark.parametrize("kwargs, match", [
    ({"covariates": np.ones((7, 2))}, r"covariates must be a T x C array with T = 8"),
    ({"covariates": np.ones((8, 0))}, r"C >= 1"),
    ({"covariates": np.ones((8, 3, 2))}, r"T x C array"),
    ({"node_covariates": np.ones((8, 2, 1))}, r"node_covariates must be a T x N x C array "
                                               r"with T = 8, N = 3"),
    ({"node_covariates": np.ones(8)}, r"T x N x C"),
    ({"covariates": np.r_[np.ones(5), np.nan, 1, 1]}, r"covariates has a NaN or infinite "
                                                      r"entry \(first at index \(5, 0\)\)"),
    ({"node_covariates": np.full((8, 3), np.inf)}, r"node_covariates has a NaN"),
])
def test_bad_covariates_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SpatioTemporalData(np.ones((8, 3)), **kwargs)


def test_connectivity_from_distances_and_adjacency():
    pts = np.array([0.0, 1.0, 2.0, 10.0])
    d = np.abs(pts[:, None] - pts[None])
    g = graph_from_distances(d, sigma=1.0, threshold=0.1)
    edges = set(map(tuple, g.edge_index.T.tolist()))
    assert edges == {(0, 1), (1, 0), (1, 2), (2, 1)}
    assert g.edge_weight[0].item() == pytest.approx(np.exp(-1.0))
    knn = graph_from_distances(d, sigma=100.0, threshold=0.0, k=1)
    receivers = knn.edge_index[1].tolist()
    assert sorted(receivers) == [0, 1, 2, 3]   # each node receives from its nearest
    assert (2, 3) in set(map(tuple, knn.edge_index.T.tolist()))
    a = np.array([[1.0, 0.5], [0.0, 1.0]])
    ga = graph_from_adjacency(a)
    assert ga.edge_index.tolist() == [[0], [1]] and ga.edge_weight.tolist() == [0.5]


def test_gpvar_noise_free_prediction_gives_optimal_mae():
    assert triangle_communities(5).num_nodes == 30 and triangle_communities(5).is_undirected()
    data, clean = gpvar(4000, seed=1)
    err = np.abs(data.values[3:] - clean[3:]).mean()
    assert err == pytest.approx(optimal_mae(0.4), rel=0.02)
    assert np.abs(clean).max() <= 1.0 and data.values.std() > 0.4


def test_time_varying_gpvar_spreads_each_lag_on_its_own_step_graph():
    from graphbias.data.synthetic.gpvar import TSL_FILTER, optimal_forecast, shift_operator

    data, clean = gpvar(3000, period=3, keep=0.7, seed=0)
    base = {tuple(e) for e in triangle_communities(5).edge_index.T.tolist()}
    graphs = data.graph
    # the 2 burn-in steps are dropped: step i was simulated at i + 2, and a new graph
    # starts at every simulated step divisible by 3
    assert all(graphs[i] is graphs[i - 1] for i in range(1, 3000) if (i + 2) % 3)
    assert len({id(g) for g in graphs}) == 1001
    edges = [{tuple(e) for e in g.edge_index.T.tolist()} for g in graphs[1::3]]
    assert all(e <= base for e in edges)           # subgraphs of the static graph
    assert 0.6 < np.mean([len(e) for e in edges]) / len(base) < 0.8
    x = data.values[:, :, 0].astype(np.float64)
    theta = np.asarray(TSL_FILTER)                 # columns oldest lag first
    for t in (5, 100, 2999):
        lags = [sum(theta[q, 1 - p] * np.linalg.matrix_power(shift_operator(graphs[t - 1 - p]), q)
                    for q in range(3)) @ x[t - 1 - p] for p in range(2)]
        np.testing.assert_allclose(clean[t, :, 0], np.tanh(sum(lags)), rtol=1e-4, atol=1e-5)
    err = np.abs(data.values[2:] - clean[2:]).mean()
    assert err == pytest.approx(optimal_mae(0.4), rel=0.03)
    with pytest.raises(ValueError, match="optimal_forecast needs a static graph"):
        optimal_forecast(data, [0], window=6, horizon=2)


@pytest.mark.parametrize("period", [None, 4])
def test_driven_gpvar_pushes_each_step_input_through_its_filter(period):
    from graphbias.data.synthetic.gpvar import TSL_FILTER, optimal_forecast, shift_operator

    data, clean = gpvar(2000, drive=(1.0, -0.5), period=period, seed=0)
    plain, _ = gpvar(2000, period=period, seed=0)
    u = data.node_covariates[:, :, 0].astype(np.float64)
    assert data.node_covariates.shape == (2000, 30, 1) and abs(u.std() - 1) < 0.02
    x = data.values[:, :, 0].astype(np.float64)
    graphs = data.graph if period else [data.graph] * 2000
    theta = np.asarray(TSL_FILTER)
    for t in (5, 1234, 1999):
        lags = [sum(theta[q, 1 - p] * np.linalg.matrix_power(shift_operator(graphs[t - 1 - p]), q)
                    for q in range(3)) @ x[t - 1 - p] for p in range(2)]
        pushed = u[t] - 0.5 * shift_operator(graphs[t]) @ u[t]
        np.testing.assert_allclose(clean[t, :, 0], np.tanh(sum(lags) + pushed),
                                   rtol=1e-4, atol=1e-5)
    assert np.abs(data.values[2:] - clean[2:]).mean() == pytest.approx(optimal_mae(0.4), rel=0.03)
    assert not np.allclose(data.values, plain.values)
    if period:
        return
    starts = np.arange(0, 1900, 50)
    opt = optimal_forecast(data, starts, window=6, horizon=3, drive=(1.0, -0.5), samples=50)
    np.testing.assert_allclose(opt[:, 0], clean[starts + 6], atol=1e-5)
    # the known inputs of the later target steps enter too: the median moves with them
    moved = data.node_covariates.copy()
    moved[starts + 8] += 1.0
    other = optimal_forecast(SpatioTemporalData(data.values, data.graph, node_covariates=moved),
                             starts, window=6, horizon=3, drive=(1.0, -0.5), samples=50)
    np.testing.assert_array_equal(other[:, :2], opt[:, :2])
    assert np.abs(other[:, 2] - opt[:, 2]).mean() > 0.01
    with pytest.raises(ValueError, match="give the true model's input filter as drive="):
        optimal_forecast(data, starts, window=6, horizon=3)
    with pytest.raises(ValueError, match=r"window starts must lie in \[0, 1991\]"):
        optimal_forecast(data, [1992], window=6, horizon=3, drive=(1.0, -0.5))
    with pytest.raises(ValueError, match="needs the inputs as the data's one node covariate"):
        optimal_forecast(plain, starts, window=6, horizon=3, drive=(1.0,))
    with pytest.raises(ValueError, match="drive must be a non-empty 1-D array"):
        gpvar(10, drive=[[1.0]])
    with pytest.raises(ValueError, match="drive must be a non-empty 1-D array"):
        gpvar(10, drive=(np.nan,))


def test_gpvar_graph_is_tsl_triangle_line():
    g = triangle_communities(2)
    assert g.num_nodes == 12 and g.num_edges == 2 * (2 * 9 + 1)
    degree = np.bincount(g.edge_index[1].numpy(), minlength=12)
    assert degree.tolist() == [2, 4, 2, 4, 4, 3, 3, 4, 2, 4, 4, 2]


def test_gpvar_filter_lag_order():
    # theta = [[0, 1]] : x_t = tanh(x_{t-1}) + noise (column 2 is the newest lag)
    data, clean = gpvar(200, theta=[[0.0, 1.0]], sigma=0.1, seed=0)
    x = data.values[:, :, 0]
    np.testing.assert_allclose(clean[1:, :, 0], np.tanh(x[:-1]), atol=1e-5)


def test_gpvar_optimal_forecast_beats_noise_free_iteration():
    from graphbias.data.synthetic.gpvar import optimal_forecast

    data, clean = gpvar(1500, seed=2)
    starts = np.arange(0, 1400, 7)
    opt = optimal_forecast(data, starts, window=6, horizon=3, samples=400, seed=0)
    truth = np.stack([data.values[starts + 6 + h] for h in range(3)], 1)
    mae = np.abs(opt - truth).mean(axis=(0, 2, 3))
    assert mae[0] == pytest.approx(np.abs(clean[starts + 6] - truth[:, 0]).mean(), rel=1e-5)
    assert mae[0] < mae[1] < mae[2]
    # iterate the noise-free map (a plug-in forecast): no better than the median
    ops_x = data.values[..., 0].astype(np.float64)
    plug = []
    for s in starts:
        hist = [ops_x[s + 4], ops_x[s + 5]]
        for _ in range(3):
            nxt = gpvar_step(hist, data.graph)
            plug.append(nxt)
            hist = [hist[1], nxt]
    plug = np.array(plug).reshape(len(starts), 3, -1)
    plug_mae = np.abs(plug - truth[..., 0]).mean(axis=(0, 2))
    assert mae[1] <= plug_mae[1] + 1e-3 and mae[2] <= plug_mae[2] + 1e-3


def gpvar_step(hist, graph):
    """One noise-free step of the default filter from ``[x_{t-2}, x_{t-1}]``."""
    from graphbias.data.synthetic.gpvar import gcn_shift

    S = gcn_shift(graph)
    older, newer = hist
    z = 5 * older + 2 * newer - 4 * S @ older + 6 * S @ newer - S @ S @ older
    return np.tanh(z)


def test_los_loop_loader(traffic_root, tmp_path):
    data = load_los_loop(traffic_root)
    assert data.values.shape == (2016, 207, 1) and data.graph.num_nodes == 207
    assert data.covariates.shape == (2016, 4) and not data.graph.has_self_loops()
    assert data.graph.node_labels[:2] == [773869, 767541]
    assert data.graph.index_of(773869) == 0
    (tmp_path / "traffic").mkdir()
    with pytest.raises(FileNotFoundError, match="los_speed.csv"):
        load_los_loop(tmp_path)


def write_los_loop(root, speeds, adj, header="11,22,33"):
    folder = root / "traffic"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [",".join(map(str, r)) for r in speeds]
    (folder / "los_speed.csv").write_text("\n".join(([header] if header else []) + rows)
                                          + "\n")
    (folder / "los_adj.csv").write_text("\n".join(",".join(map(str, r)) for r in adj) + "\n")


SPEEDS = [[64.5, 0, 70.25], [63.0, 61.5, 0], [62.0, 60.0, 68.0]]
ADJ = [[1, 0.5, 0], [0.5, 1, 0.25], [0, 0.25, 1]]


def test_los_loop_small_file_and_sensor_labels(tmp_path):
    write_los_loop(tmp_path, SPEEDS, ADJ)
    data = load_los_loop(tmp_path)
    assert data.values[:, :, 0].tolist() == [[64.5, 0, 70.25], [63, 61.5, 0], [62, 60, 68]]
    assert data.mask[:, :, 0].tolist() == [[True, False, True], [True, True, False],
                                           [True, True, True]]
    g = data.graph
    assert g.node_labels == [11, 22, 33] and g.index_of(33) == 2 and g.name == "los-loop"
    assert g.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert g.edge_weight.tolist() == [0.5, 0.5, 0.25, 0.25]


@pytest.mark.parametrize("header", [None, "11,22,11", "64.5,0,70.25"])
def test_los_loop_without_its_header_is_refused(tmp_path, header):
    write_los_loop(tmp_path, SPEEDS, ADJ, header=header)
    with pytest.raises(ValueError, match=r"los_speed.csv: the first line must be the "
                                         r"header of sensor ids"):
        load_los_loop(tmp_path)


def test_los_loop_bad_cells_and_shapes_name_the_file(tmp_path):
    write_los_loop(tmp_path, [[64.5, "fast", 70.0]], ADJ)
    with pytest.raises(ValueError, match=r"los_speed.csv: expected a table of numbers"):
        load_los_loop(tmp_path)
    write_los_loop(tmp_path, SPEEDS, [r[:2] for r in ADJ])
    with pytest.raises(ValueError, match=r"los_adj.csv has shape \(3, 2\), expected "
                                         r"\(3, 3\) for the 3 sensors"):
        load_los_loop(tmp_path)
    write_los_loop(tmp_path, SPEEDS, [[1, "nan", 0], [0.5, 1, 0.25], [0, 0.25, 1]])
    with pytest.raises(ValueError, match=r"los_adj.csv: adjacency contains NaN"):
        load_los_loop(tmp_path)
