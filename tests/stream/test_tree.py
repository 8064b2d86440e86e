import numpy as np
import pytest

from graphbias.stream.local_learners import (LeafLearners, LeafWindow, LearnerSettings,
                                             RunningScale, _label_powersets)
from graphbias.stream.tree import MultiLabelHoeffdingTree, _Histogram


def _h(p):
    p = np.clip(p, 1e-300, 1)
    q = np.clip(1 - p, 1e-300, 1)
    return np.where((p > 0) & (p < 1), -(p * np.log2(p) + q * np.log2(q)), 0.0)


def _window(X, Y, size=None):
    """A window holding the rows of dense X (zeros left out) and Y."""
    win = LeafWindow(size or len(X), Y.shape[1])
    for t, (x, y) in enumerate(zip(X, Y)):
        idx = np.flatnonzero(x)
        win.add(idx, x[idx], y, t)
    return win


def _sparse(x):
    idx = np.flatnonzero(x)
    return idx, x[idx]


def test_histogram_merit_matches_a_direct_computation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    Y = np.stack([X[:, 0] > 0.2, X[:, 0] + rng.normal(size=400) > 0, rng.random(400) < 0.3], 1)
    hist = _Histogram(3, n_bins=8, absent=False)
    win = _window(X, Y)
    hist.add(win, win.entries(), np.arange(3))
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


def test_histogram_updates_equal_a_histogram_built_from_the_rows():
    rng = np.random.default_rng(1)
    X = np.where(rng.random((300, 6)) < 0.4, rng.normal(size=(300, 6)), 0.0)
    Y = rng.random((300, 4)) < 0.3
    for absent in (False, True):
        whole, grown = (_Histogram(4, 8, absent) for _ in range(2))
        win = _window(X, Y)
        whole.add(win, win.entries(), np.arange(6))
        grown.add(_window(X[:100], Y[:100]), np.arange(100), np.arange(6))
        grown.edges = whole.edges.copy()            # same bins, then count the rest
        grown.counts[:], grown.pos[:] = 0, 0
        for x, y in zip(X, Y):
            grown.update(*_sparse(x), np.flatnonzero(y))
        np.testing.assert_array_equal(grown.counts, whole.counts)
        np.testing.assert_array_equal(grown.pos, whole.pos)
        # absent: a feature's count is the rows that carry it
        expected = (X != 0).sum(0) if absent else np.full(6, 300)
        np.testing.assert_array_equal(whole.counts.sum(1), expected)


def test_tree_splits_on_the_informative_feature_and_partitions_its_window():
    rng = np.random.default_rng(1)
    tree = MultiLabelHoeffdingTree(n_labels=2, grace_period=100, window_size=500)
    idx = np.arange(3)
    for t in range(2000):
        x = rng.normal(size=3)
        tree.learn(idx, x, np.array([x[1] > 0, x[1] > 0.5]), t)
    assert tree.root.feature == 1
    for leaf in tree.leaves():
        X, _ = leaf.window.values(np.arange(leaf.window.size), np.arange(3))
        assert leaf.window.size > 0
        side = X[:, 1] <= tree.root.threshold
        assert side.all() or not side.any()


def test_max_leaves_bounds_the_tree():
    rng = np.random.default_rng(2)
    tree = MultiLabelHoeffdingTree(n_labels=3, grace_period=50, max_leaves=3, tau=0.5)
    for t in range(5000):
        x = rng.normal(size=4)
        tree.learn(np.arange(4), x, x[:3] > 0, t)
    assert tree.n_leaves == 3 == len(tree.leaves())
    assert all(leaf.hist is None for leaf in tree.leaves())


def test_candidates_are_bounded_and_a_feature_seen_late_can_win():
    """10,000 distinct noise features, one per instance and never repeated, and an
    informative feature that only appears after 1,500 instances."""
    rng = np.random.default_rng(3)
    tree = MultiLabelHoeffdingTree(n_labels=2, grace_period=100, max_candidates=8,
                                   window_size=400)
    sizes = []
    for t in range(4000):
        noise = 10 + 3 * t + np.arange(3)
        val = list(rng.normal(size=3))
        idx = list(noise)
        if t >= 1500:
            signal = rng.normal()
            idx, val = [5] + idx, [signal] + val
            y = np.array([signal > 0, signal > 0.3])
        else:
            y = rng.random(2) < 0.5
        tree.learn(np.array(idx), np.array(val), y, t)
        sizes += [len(leaf.hist.feats) for leaf in tree.leaves() if leaf.hist is not None]
    assert max(sizes) <= 8
    assert tree.root.feature == 5 and tree.scale.n_features == 10 + 3 * 4000


def test_missing_absent_routes_by_the_more_frequent_side():
    rng = np.random.default_rng(4)
    tree = MultiLabelHoeffdingTree(n_labels=1, grace_period=100, missing="absent")
    for t in range(1500):
        x = rng.normal()
        tree.learn(np.array([0]), np.array([x]), np.array([x > 1.0]), t)
    root = tree.root
    assert root.feature == 0 and root.n_left > root.n_right
    empty = np.zeros(0, dtype=np.int64)
    assert tree.sort(empty, np.zeros(0)) is root.left
    zero = MultiLabelHoeffdingTree(n_labels=1, grace_period=100)
    zero.root = root
    go_left = 0.0 <= root.threshold
    assert zero.sort(empty, np.zeros(0)) is (root.left if go_left else root.right)


def test_running_scale_counts_missing_features_as_zero():
    rng = np.random.default_rng(5)
    X = np.where(rng.random((200, 5)) < 0.3, rng.normal(3, 2, size=(200, 5)), 0.0)
    scale = RunningScale()
    for x in X:
        scale.update(*_sparse(x))
    np.testing.assert_allclose(scale.vector(), X.std(0, ddof=1))
    assert scale.vector(8)[5:].tolist() == [1.0, 1.0, 1.0]     # unseen features


def _reference_knn(X, Y, x, scale, k, metric="euclidean"):
    if metric == "cosine":
        A, b = X / scale, x / scale
        d = 1 - A @ b / (np.linalg.norm(A, axis=1) * np.linalg.norm(b))
    else:
        d = np.sqrt((((X - x) / scale) ** 2).sum(1))
    idx = np.argsort(d, kind="stable")[:k]
    w = 1 / (d[idx] + 1e-6)
    return (w / w.sum()) @ Y[idx]


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_sparse_neighbour_votes_match_a_dense_brute_force_knn(metric):
    rng = np.random.default_rng(3)
    X = np.where(rng.random((80, 12)) < 0.35, rng.random((80, 12)) + 0.1, 0.0)
    X[:, 0] = 1.0          # every row non-empty for the cosine
    Y = rng.random((80, 5)) < 0.4
    scale = RunningScale()
    for x in X:
        scale.update(*_sparse(x))
    learners = LeafLearners(_window(X, Y, size=50), None)   # keeps the last 50
    x = np.where(rng.random(12) < 0.35, rng.random(12), 0.0)
    x[0] = 1.0
    clusters = [(0, np.array([0, 3]), 0), (1, np.array([1, 2, 4]), 0)]
    settings = LearnerSettings(n_neighbors=7, lp_max_labels=0, metric=metric)
    on, proba = learners.predict(*_sparse(x), scale, clusters, settings)
    ref = _reference_knn(X[30:], Y[30:], x, scale.vector(), 7, metric)
    np.testing.assert_allclose(proba, ref)
    np.testing.assert_array_equal(on, ref >= 0.5)


def test_label_powerset_predicts_the_heaviest_label_combination():
    learners = LeafLearners(LeafWindow(10, 3), None)
    # nearest two agree on (1,1,0); the third, farther, is (0,0,1)
    for t, (x, y) in enumerate([(0.0, [1, 1, 0]), (0.1, [1, 1, 0]), (0.5, [0, 0, 1]),
                                (0.6, [0, 1, 1])]):
        learners.window.add(np.array([0]), np.array([x]), np.array(y, bool), t)
    scale = RunningScale()
    on, _ = learners.predict(np.array([0]), np.array([0.05]), scale,
                             [(0, np.arange(3), 0)],
                             LearnerSettings(n_neighbors=3, lp_max_labels=3,
                                             lp_objective="subset"))
    assert on.tolist() == [True, True, False]


def test_batched_label_powersets_equal_one_cluster_at_a_time():
    rng = np.random.default_rng(6)
    sub = rng.random((9, 11)) < 0.4
    w = rng.random(9)
    w /= w.sum()
    br = (w @ sub) >= 0.5
    seg = np.repeat([0, 1, 2], [4, 2, 5])
    for objective in ("subset", "f1"):
        together = _label_powersets(sub, w, br, seg, objective)
        for c in range(3):
            cols = seg == c
            alone = _label_powersets(sub[:, cols], w, br[cols], np.zeros(cols.sum(), int),
                                     objective)
            np.testing.assert_array_equal(together[cols], alone)
    # subset: the heaviest combination over 70 labels (beyond 64-bit codes)
    big = np.tile(sub[:3], (1, 7))[:, :70]
    best = _label_powersets(np.vstack([big, big[1]]), np.array([0.2, 0.3, 0.1, 0.4]),
                            big[0], np.zeros(70, int), "subset")
    np.testing.assert_array_equal(best, big[1])


def test_cluster_restarted_after_drift_reads_only_fresh_entries():
    learners = LeafLearners(LeafWindow(20, 1), None)
    for t in range(10):
        learners.window.add(np.array([0]), np.array([0.0]), np.array([t >= 6]), t)
    fresh = [(0, np.array([0]), 6)]
    settings = LearnerSettings(n_neighbors=3, lp_max_labels=1)
    scale = RunningScale()
    assert learners.predict(np.array([0]), np.array([0.0]), scale, fresh, settings)[0][0]
    # too few fresh entries: falls back to the whole window
    settings = LearnerSettings(n_neighbors=8, lp_max_labels=1)
    assert not learners.predict(np.array([0]), np.array([0.0]), scale, fresh, settings)[0][0]


def test_bagged_logistic_learns_a_linear_label():
    rng = np.random.default_rng(7)
    settings = LearnerSettings(lp_max_labels=0, br_learner="bagged-logistic", n_models=5)
    learners = LeafLearners.new(100, 2, settings, np.random.default_rng(0))
    scale = RunningScale()
    for t in range(1500):
        x = rng.normal(size=3)
        scale.update(np.arange(3), x)
        learners.add(np.arange(3), x, np.array([x[0] + x[2] > 0, x[1] > 0]), t)
    X = rng.normal(size=(200, 3))
    got = np.array([learners.predict(np.arange(3), x, scale, [(0, np.arange(2), 0)],
                                     settings)[0] for x in X])
    truth = np.stack([X[:, 0] + X[:, 2] > 0, X[:, 1] > 0], 1)
    assert (got == truth).mean() > 0.9
    assert learners.logistic.W.shape == (3, 5, 2)
