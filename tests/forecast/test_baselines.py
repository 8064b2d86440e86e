"""LagBoost: gradient-boosted trees on lag features (model ``"gbm"``)."""
import numpy as np
import pytest
import torch

from graphbias.data import Graph
from graphbias.data.temporal import SpatioTemporalData
from graphbias.forecast import LagBoost, STGNNForecaster


def _relay(ring, steps=700, nodes=8, seed=0):
    """Node 0 draws a fresh value each step; every other node repeats the value its
    in-neighbour on the directed cycle held one step before. Only a node's
    neighbour's last input foresees it."""
    rng = np.random.default_rng(seed)
    x = np.zeros((steps, nodes))
    x[0] = rng.uniform(0, 10, nodes)
    for t in range(1, steps):
        x[t, 1:] = x[t - 1, :-1]
        x[t, 0] = rng.uniform(0, 10)
    return SpatioTemporalData(x, graph=ring(nodes))


def _reference_rows(data, starts, window, mean):
    """The rows of :meth:`LagBoost._features`, one loop per node and window."""
    graphs = data.graph if isinstance(data.graph, list) else [data.graph] * data.num_steps
    cov = data.covariates
    rows, bases = [], []
    for s in starts:
        for v in range(data.num_nodes):
            own, nb = [], []
            base = mean[v].copy()
            for t in range(s, s + window):
                for f in range(data.num_features):
                    obs = data.mask[t, v, f]
                    own.append(data.values[t, v, f] if obs else np.nan)
                    if obs:
                        base[f] = data.values[t, v, f]
            for t in range(s, s + window):
                a = graphs[t].to_scipy().toarray()
                for f in range(data.num_features):
                    w = [(a[u, v], data.values[t, u, f]) for u in range(data.num_nodes)
                         if a[u, v] != 0 and data.mask[t, u, f]]
                    total = sum(wi for wi, _ in w)
                    nb.append(sum(wi * xi for wi, xi in w) / total if w else np.nan)
            last = cov[s + window - 1] if cov is not None else []
            rows.append(np.concatenate([own, nb, mean[v], last]))
            bases.append(base)
    return np.array(rows), np.array(bases)


def test_rows_equal_a_loop_over_nodes_and_windows():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5, 2))
    mask = rng.random((40, 5, 2)) > 0.3
    mask[10:16, 2] = False  # a window that observes nothing of node 2
    g = Graph(torch.tensor([[0, 1, 3, 4, 4], [1, 2, 2, 0, 3]]), 5,
              edge_weight=torch.tensor([0.5, 2.0, 1.0, 3.0, 0.25]))
    data = SpatioTemporalData(x, mask=mask, graph=g, covariates=rng.normal(size=(40, 2)))
    starts = np.arange(0, 30, 3)
    f = LagBoost(max_iter=5).fit(data, starts, 5, 2)
    rows, base = f._features(data, [4, 10, 20], 5)
    want_rows, want_base = _reference_rows(data, [4, 10, 20], 5, f.mean_)
    np.testing.assert_allclose(rows.reshape(-1, rows.shape[-1]), want_rows, rtol=1e-5)
    np.testing.assert_allclose(base.reshape(-1, 2), want_base, rtol=1e-6)
    assert np.isnan(rows[1, 2, :10]).all()  # node 2 unobserved in the window at 10
    np.testing.assert_allclose(base[1, 2], f.mean_[2])


def test_rows_of_a_graph_per_step_read_each_step_s_graph():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 4))
    mask = rng.random((30, 4)) > 0.2
    chain = Graph(torch.tensor([[0, 1, 2], [1, 2, 3]]), 4)
    star = Graph(torch.tensor([[0, 0, 0], [1, 2, 3]]), 4, edge_weight=torch.tensor([1.0, 2, 3]))
    graphs = [chain if t % 3 else star for t in range(30)]
    data = SpatioTemporalData(x, mask=mask, graph=graphs)
    f = LagBoost(max_iter=3).fit(data, np.arange(0, 20, 2), 4, 1)
    rows, base = f._features(data, [3, 9, 20], 4)
    want_rows, want_base = _reference_rows(data, [3, 9, 20], 4, f.mean_)
    np.testing.assert_allclose(rows.reshape(-1, rows.shape[-1]), want_rows, rtol=1e-5)
    np.testing.assert_allclose(base.reshape(-1, 1), want_base, rtol=1e-6)
    f = STGNNForecaster("gbm", window=4, horizon=1, validation_fraction=0.2).fit(data)
    assert f.graph_ is None and f.predict(data).shape == (1, 4, 1)


def test_learns_what_only_the_neighbours_foresee(ring):
    data = _relay(ring)
    kw = dict(window=4, horizon=1, random_state=0)
    graph = STGNNForecaster("gbm", **kw).fit(data)
    alone = STGNNForecaster("gbm", **kw).fit(data.values)
    last = STGNNForecaster("last", **kw).fit(data)
    # nodes 1-7 follow their neighbour's last input (node 0 is noise for everyone)
    err = {name: np.abs(f.predict_windows(data, f.split_windows(data).test)[:, 0, 1:, 0] -
                         data.values[f.split_windows(data).test + 4, 1:, 0]).mean()
           for name, f in [("graph", graph), ("alone", alone), ("last", last)]}
    assert err["graph"] < 0.1 * err["last"]
    assert err["alone"] > 0.5 * err["last"]
    assert graph.baseline_.uses_graph_ and not alone.baseline_.uses_graph_


def test_early_stopping_on_the_validation_windows_and_reproducible(ring):
    data = _relay(ring, steps=400)
    split = data.split(4, 2)
    a = LagBoost(max_iter=300, random_state=0).fit(data, split.train, 4, 2,
                                                    val_starts=split.val)
    b = LagBoost(max_iter=300, random_state=0).fit(data, split.train, 4, 2,
                                                    val_starts=split.val)
    assert all(m.n_iter_ < 300 for ms in a.models_ for m in ms)
    assert all(m.n_iter_ == 300 for m in
               LagBoost(max_iter=300).fit(data, split.train, 4, 1).models_[0])
    np.testing.assert_array_equal(a.forecast(data, split.test, 4, 2),
                                  b.forecast(data, split.test, 4, 2))


def test_max_rows_subsamples_the_training_windows(ring, monkeypatch):
    data = _relay(ring, steps=200)
    starts = data.window_starts(4, 1)
    seen = []
    rows = LagBoost._rows
    monkeypatch.setattr(LagBoost, "_rows", lambda self, d, s, *a: seen.append(len(s)) or
                        rows(self, d, s, *a))
    f = LagBoost(max_iter=3, max_rows=50, random_state=0).fit(data, starts, 4, 1)
    assert seen == [50 // 8]  # windows of 8 nodes each
    assert f.models_[0][0].n_features_in_ == 4 + 4 + 1  # own, neighbours', mean
    LagBoost(max_iter=3, random_state=0).fit(data, starts, 4, 1)
    assert seen[-1] == len(starts)


def test_a_graph_without_edges_leaves_only_the_own_features(ring):
    data = _relay(ring, steps=200)
    empty = SpatioTemporalData(data.values, graph=Graph(torch.zeros(2, 0, dtype=torch.long), 8))
    starts = data.window_starts(4, 1)
    f = LagBoost(max_iter=3).fit(empty, starts, 4, 1)
    np.testing.assert_array_equal(f.columns_, [0, 1, 2, 3, 8])  # no neighbour ever seen
    assert f.forecast(empty, starts[:3], 4, 1).shape == (3, 1, 8, 1)


def test_covariates_of_the_last_input_step_are_read():
    c = np.random.default_rng(0).uniform(size=600)
    x = np.concatenate([[0.0], 5 * c[:-1]])[:, None] * np.ones((1, 3))  # x[t + 1] = 5 c[t]
    with_cov = SpatioTemporalData(x, covariates=c)
    f = STGNNForecaster("gbm", window=2, horizon=1).fit(with_cov)
    blind = STGNNForecaster("gbm", window=2, horizon=1).fit(x)
    assert -f.score(with_cov) < 0.1 * -blind.score(x)
    with pytest.raises(ValueError, match="0 shared and 0 node covariates; the model was fit on 0, 1"):
        f.predict(x)
    with pytest.raises(ValueError, match="'gbm' reads the covariates of the last input step"):
        STGNNForecaster("gbm", window=2, horizon=1, future_covariates=True).fit(with_cov)


def test_bad_input(ring):
    data = _relay(ring, steps=100)
    starts = data.window_starts(4, 1, steps=(0, 70))
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        LagBoost(max_iter=0).fit(data, starts, 4, 1)
    with pytest.raises(ValueError, match=r"learning_rate must be a real number in \(0"):
        LagBoost(learning_rate=0.0).fit(data, starts, 4, 1)
    with pytest.raises(ValueError, match="at least one training window"):
        LagBoost().fit(data, [], 4, 1)
    f = LagBoost(max_iter=3).fit(data, starts, 4, 1)
    with pytest.raises(ValueError, match="fitted with window=4, delay=0 and 1 steps"):
        f.forecast(data, [80], 5, 1)
    with pytest.raises(ValueError, match="fitted on a graph: give the data one"):
        f.forecast(SpatioTemporalData(data.values), [80], 4, 1)
    two = np.repeat(data.values, 2, -1)  # [T, N, 1] -> [T, N, 2]
    late = np.ones_like(two, dtype=bool)
    late[:80, :, 1] = False  # feature 1 observed only after the training windows
    unobserved = SpatioTemporalData(two, mask=late, graph=data.graph)
    with pytest.raises(ValueError, match="no observed training target 1 step.* feature 1"):
        LagBoost().fit(unobserved, starts, 4, 1)


def test_gbm_forecaster_pickles_and_refits_alike(ring):
    import pickle

    from sklearn.base import clone

    data = _relay(ring, steps=300)
    f = STGNNForecaster("gbm", window=4, horizon=2, random_state=0).fit(data)
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g.predict(data), f.predict(data))
    np.testing.assert_array_equal(clone(f).fit(data).predict(data), f.predict(data))
    assert f.history_ == [] and f.n_epochs_ == 0
