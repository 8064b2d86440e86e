import numpy as np
import pytest

from graphbias.data.synthetic.multilabel import multilabel_stream
from graphbias.stream import OnlineLabelClustering


def _feed(olc, Y):
    for y in Y:
        olc.update(np.flatnonzero(y))


def _groups(assign):
    return sorted(sorted(np.flatnonzero(assign == g).tolist()) for g in np.unique(assign))


def test_recovers_planted_label_groups():
    s = multilabel_stream(4000, n_labels=12, n_groups=3, correlation=0.9, seed=1)
    olc = OnlineLabelClustering()
    olc.add_labels(12)
    _feed(olc, s.Y)
    assert olc.partition() == _groups(s.info["groups"][0])
    assert olc.mean_jaccard() > 0.4


def test_clusters_are_disjoint_and_cover_every_label():
    s = multilabel_stream(1500, n_labels=9, n_groups=3, seed=2)
    olc = OnlineLabelClustering(grace_period=50)
    olc.add_labels(9)
    _feed(olc, s.Y)
    flat = sorted(i for c in olc.partition() for i in c)
    assert flat == list(range(9))


def test_distances_match_a_brute_force_jaccard():
    rng = np.random.default_rng(0)
    Y = rng.random((300, 5)) < 0.4
    olc = OnlineLabelClustering(grace_period=10_000)
    olc.add_labels(5)
    _feed(olc, Y)
    n, D = olc._distances(olc.root)
    assert n == 300
    for i in range(5):
        for j in range(5):
            inter = (Y[:, i] & Y[:, j]).sum()
            union = (Y[:, i] | Y[:, j]).sum()
            assert D[i, j] == pytest.approx(1 - inter / union)


def test_restructure_after_drift_uses_post_drift_statistics():
    s = multilabel_stream(8000, n_labels=12, n_groups=3, correlation=0.9,
                          drift_points=[4000], seed=3)
    olc = OnlineLabelClustering()
    olc.add_labels(12)
    _feed(olc, s.Y[:4000])
    assert olc.partition() == _groups(s.info["groups"][0])
    olc.reset()   # what a global drift does
    assert len(olc.clusters()) == 1 and olc.clusters()[0][2] == 4000
    _feed(olc, s.Y[4000:])
    assert olc.partition() == _groups(s.info["groups"][1])


def test_restructure_collapses_the_parent_of_a_cluster():
    olc = OnlineLabelClustering(grace_period=50)
    olc.add_labels(4)
    rng = np.random.default_rng(0)
    for _ in range(600):
        a, b = rng.random(2) < 0.5
        olc.update([i for i, on in enumerate([a, a, b, b]) if on])
    assert olc.partition() == [[0, 1], [2, 3]]
    cid = olc.clusters()[0][0]
    assert olc.restructure(cid, since=600)
    assert olc.partition() == [[0, 1, 2, 3]] and olc.clusters()[0][2] == 600
    assert not olc.restructure(-5)


def test_new_labels_join_and_split_off_when_unrelated():
    olc = OnlineLabelClustering(grace_period=50)
    olc.add_labels(2)
    rng = np.random.default_rng(1)
    for t in range(2000):
        if t == 500:
            olc.add_labels(1)
        a = rng.random() < 0.5
        on = [0, 1] if a else []
        if t >= 500 and rng.random() < 0.5:
            on.append(2)
        olc.update(on)
    assert olc.partition() == [[0, 1], [2]]


def test_random_assignment_keeps_group_sizes():
    s = multilabel_stream(4000, n_labels=12, n_groups=3, correlation=0.9, seed=1)
    jac = OnlineLabelClustering()
    rnd = OnlineLabelClustering(assignment="random", random_state=0)
    for olc in (jac, rnd):
        olc.add_labels(12)
    for y in s.Y[:200]:   # the first split uses the same counts
        jac.update(np.flatnonzero(y))
        rnd.update(np.flatnonzero(y))
    assert sorted(map(len, jac.partition())) == sorted(map(len, rnd.partition()))
    assert jac.partition() != rnd.partition()


@pytest.mark.parametrize("kwargs", [{"grace_period": 0}, {"delta": 1.5},
                                    {"min_jaccard": 1.0}, {"assignment": "kmeans"}])
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        OnlineLabelClustering(**kwargs)
