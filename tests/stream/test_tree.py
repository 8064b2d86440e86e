import numpy as np
import pytest

from graphbias.stream.local_learners import LeafWindow
from graphbias.stream.tree import MultiLabelHoeffdingTree, _Histogram


def _h(p):
    p = np.clip(p, 1e-300, 1)
    q = np.clip(1 - p, 1e-300, 1)
    return np.where((p > 0) & (p < 1), -(p * np.log2(p) + q * np.log2(q)), 0.0)


def test_histogram_merit_matches_a_direct_computation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    Y = np.stack([X[:, 0] > 0.2, X[:, 0] + rng.normal(size=400) > 0, rng.random(400) < 0.3], 1)
    hist = _Histogram(X, Y, n_bins=8)
    merits, thresholds = hist.best_per_feature(min_fraction=0.0)
    for f in range(3):
        best = -np.inf
        for v in hist.edges[f]:
            left = X[:, f] <= v
            if left.all() or not left.any():
                continue
            gain = _h(Y.mean(0)).sum() - sum(
                m.mean() * _h(Y[m].mean(0)).sum() for m in (left, ~left))
            best = max(best, gain / Y.shape[1])
        assert merits[f] == pytest.approx(best)
    assert int(np.argmax(merits)) == 0 and thresholds[0] == pytest.approx(0.2, abs=0.2)


def test_tree_splits_on_the_informative_feature_and_partitions_its_window():
    rng = np.random.default_rng(1)
    tree = MultiLabelHoeffdingTree(n_features=3, n_labels=2, grace_period=100,
                                   window_size=500)
    for t in range(2000):
        x = rng.normal(size=3)
        tree.learn(x, np.array([x[1] > 0, x[1] > 0.5]), t)
    assert tree.root.feature == 1
    for leaf in tree.leaves():
        X = leaf.window.X[:leaf.window.size]
        assert leaf.window.size > 0
        side = X[:, 1] <= tree.root.threshold
        assert side.all() or not side.any()


def test_max_leaves_bounds_the_tree():
    rng = np.random.default_rng(2)
    tree = MultiLabelHoeffdingTree(n_features=4, n_labels=3, grace_period=50, max_leaves=3,
                                   tau=0.5)
    for t in range(5000):
        x = rng.normal(size=4)
        tree.learn(x, x[:3] > 0, t)
    assert tree.n_leaves == 3 == len(tree.leaves())
    assert all(leaf.hist is None for leaf in tree.leaves())


def _reference_knn(X, Y, x, scale, k):
    d = np.sqrt((((X - x) / scale) ** 2).sum(1))
    idx = np.argsort(d, kind="stable")[:k]
    w = 1 / (d[idx] + 1e-6)
    return (w / w.sum()) @ Y[idx]


def test_leaf_window_votes_match_a_brute_force_knn():
    rng = np.random.default_rng(3)
    win = LeafWindow(50, 4, 5)
    X = rng.normal(size=(80, 4))
    Y = rng.random((80, 5)) < 0.4
    for t, (x, y) in enumerate(zip(X, Y)):
        win.add(x, y, t)
    x, scale = rng.normal(size=4), np.array([1.0, 2.0, 0.5, 1.0])
    clusters = [(0, np.array([0, 3]), 0), (1, np.array([1, 2, 4]), 0)]
    on, proba = win.predict(x, scale, clusters, n_neighbors=7, lp_max_labels=0)
    ref = _reference_knn(X[30:], Y[30:], x, scale, 7)     # the window keeps the last 50
    np.testing.assert_allclose(proba, ref)
    np.testing.assert_array_equal(on, ref >= 0.5)


def test_label_powerset_predicts_the_heaviest_label_combination():
    win = LeafWindow(10, 1, 3)
    # nearest two agree on (1,1,0); the third, farther, is (0,0,1)
    for t, (x, y) in enumerate([(0.0, [1, 1, 0]), (0.1, [1, 1, 0]), (0.5, [0, 0, 1]),
                                (0.6, [0, 1, 1])]):
        win.add(np.array([x]), np.array(y, bool), t)
    on, _ = win.predict(np.array([0.05]), np.ones(1), [(0, np.arange(3), 0)],
                        n_neighbors=3, lp_max_labels=3, lp_objective="subset")
    assert on.tolist() == [True, True, False]


def test_cluster_restarted_after_drift_reads_only_fresh_entries():
    win = LeafWindow(20, 1, 1)
    for t in range(10):
        win.add(np.array([0.0]), np.array([t >= 6]), t)
    fresh = [(0, np.array([0]), 6)]
    assert win.predict(np.array([0.0]), np.ones(1), fresh, 3, 1)[0][0]
    # too few fresh entries: falls back to the whole window
    assert not win.predict(np.array([0.0]), np.ones(1), fresh, 8, 1)[0][0]
