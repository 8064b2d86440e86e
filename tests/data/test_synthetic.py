"""Tests for graphbias.data.synthetic: seeded generators of node-classification graphs."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from graphbias.data import Graph
from graphbias.data.synthetic import (gpvar, multilabel_stream, triangle_communities,
                                      write_synthetic_ogb)
from graphbias.data.synthetic.graphs import (_distinct_keys, barabasi_albert, erdos_renyi,
                                             karate_club, sbm)

GENERATORS = {
    "sbm": lambda seed: sbm([60, 40, 50], 0.1, 0.02, seed=seed),
    "erdos_renyi": lambda seed: erdos_renyi(150, 0.05, seed=seed),
    "barabasi_albert": lambda seed: barabasi_albert(150, 3, seed=seed),
}


def _same(a: Graph, b: Graph) -> bool:
    fields = ("edge_index", "x", "y", "train_mask", "val_mask", "test_mask")
    return all(torch.equal(getattr(a, f), getattr(b, f)) for f in fields)


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_same_graph_other_seed_other_graph(name):
    make = GENERATORS[name]
    assert _same(make(0), make(0))
    assert _same(make(np.random.default_rng(7)), make(np.random.default_rng(7)))
    other = make(1)
    assert not torch.equal(make(0).edge_index, other.edge_index)
    assert not torch.equal(make(0).x, other.x)


@pytest.mark.parametrize("name", GENERATORS)
def test_simple_undirected_graph_with_typed_fields(name):
    g = GENERATORS[name](3)
    ei = g.edge_index
    assert g.is_undirected() and not g.has_self_loops()
    keys = ei[0] * g.num_nodes + ei[1]
    assert keys.unique().numel() == g.num_edges                  # no duplicates
    assert torch.equal(keys, keys.sort().values)                 # sorted by (src, dst)
    assert g.x.dtype == torch.float32 and g.x.shape == (g.num_nodes, 16)
    assert g.y.dtype == torch.int64 and g.y.shape == (g.num_nodes,)


@pytest.mark.parametrize("name", GENERATORS)
def test_masks_disjoint_and_stratified(name):
    g = GENERATORS[name](5)
    masks = torch.stack([g.train_mask, g.val_mask, g.test_mask]).int()
    assert int(masks.sum(0).max()) == 1                          # disjoint
    sizes = g.y.bincount()
    train = g.y[g.train_mask].bincount(minlength=sizes.numel())
    expected = torch.where(sizes > 0, torch.clamp(sizes // 2, min=1).clamp(max=20), 0)
    assert torch.equal(train, expected)
    rest = g.num_nodes - int(g.train_mask.sum())
    assert int(g.val_mask.sum()) == min(500, rest // 3)
    assert int(g.test_mask.sum()) == min(1000, rest - rest // 3)


def test_explicit_split_sizes():
    g = sbm([300, 300], 0.02, 0.01, train_per_class=5, num_val=50, num_test=100, seed=0)
    assert g.y[g.train_mask].bincount().tolist() == [5, 5]
    assert int(g.val_mask.sum()) == 50 and int(g.test_mask.sum()) == 100
    with pytest.raises(ValueError, match="num_val"):
        sbm([30, 30], 0.1, 0.01, num_val=40, num_test=40, seed=0)


def test_sbm_labels_are_blocks_and_features_carry_the_class():
    g = sbm([200, 300, 100], 0.05, 0.01, feature_signal=3.0, seed=0)
    assert torch.equal(g.y, torch.repeat_interleave(torch.arange(3),
                                                    torch.tensor([200, 300, 100])))
    means = torch.stack([g.x[g.y == c].mean(0) for c in range(3)])
    assert torch.allclose(means.norm(dim=1), torch.full((3,), 3.0), atol=0.5)


def test_sbm_edge_density_matches_p_in_and_p_out():
    n, p_in, p_out = 500, 0.05, 0.01
    g = sbm([n, n], p_in, p_out, seed=0)
    src, dst = g.edge_index
    upper = src < dst
    same = (g.y[src] == g.y[dst])[upper]
    for observed, pairs, p in [(int(same.sum()), n * (n - 1), p_in),
                               (int((~same).sum()), n * n, p_out)]:
        sd = np.sqrt(pairs * p * (1 - p))
        assert abs(observed - pairs * p) < 5 * sd


def test_erdos_renyi_degree_and_dense_and_extreme_p():
    n, p = 2000, 0.01
    g = erdos_renyi(n, p, seed=0)
    pairs = n * (n - 1) / 2
    sd_mean_degree = 2 * np.sqrt(pairs * p * (1 - p)) / n
    assert abs(g.num_edges / n - p * (n - 1)) < 5 * sd_mean_degree
    dense = erdos_renyi(80, 0.8, seed=0)                         # complement sampling
    pairs = 80 * 79 / 2
    assert abs(dense.num_edges / 2 - 0.8 * pairs) < 5 * np.sqrt(pairs * 0.8 * 0.2)
    assert erdos_renyi(40, 0.0, seed=0).num_edges == 0
    assert erdos_renyi(40, 1.0, seed=0).num_edges == 40 * 39


def test_distinct_keys_is_uniform_and_exact():
    rng = np.random.default_rng(0)
    sizes, counts = np.array([4, 6, 0, 5]), np.array([1, 4, 0, 5])   # sparse, dense, empty
    hits = np.zeros(sizes.sum())
    reps = 2000
    for _ in range(reps):
        keys = _distinct_keys(rng, sizes, counts)
        assert np.array_equal(keys, np.unique(keys))
        assert np.bincount(np.searchsorted([0, 4, 10, 10], keys, side="right") - 1,
                           minlength=4).tolist() == counts.tolist()
        hits[keys] += 1
    expected = np.repeat(counts / np.maximum(sizes, 1), sizes)
    assert np.allclose(hits / reps, expected, atol=0.04)


def test_barabasi_albert_size():
    n, m = 300, 4
    g = barabasi_albert(n, m, seed=0)
    assert g.num_nodes == n and g.num_edges == 2 * m * (n - m)
    assert int(g.in_degree().min()) >= 1


@pytest.mark.parametrize("make", [lambda: erdos_renyi(2000, 0.005, seed=0),
                                  lambda: barabasi_albert(2000, 5, seed=0)],
                         ids=["erdos_renyi", "barabasi_albert"])
def test_labels_depend_on_the_neighbourhood(make):
    g = make()
    assert g.y.unique().numel() == 3                             # not constant
    x = g.x.double().numpy()
    adj = g.to_scipy()
    mean = (adj @ x + x) / (np.asarray(adj.sum(1)) + 1)
    onehot = np.eye(3)[g.y.numpy()]

    def linear_fit_accuracy(features):
        design = np.hstack([features, np.ones((len(features), 1))])
        coef = np.linalg.lstsq(design, onehot, rcond=None)[0]
        return float(np.mean(np.argmax(design @ coef, 1) == g.y.numpy()))

    assert linear_fit_accuracy(mean) > linear_fit_accuracy(x) + 0.15


def test_karate_club():
    g = karate_club()
    ref = nx.karate_club_graph()
    assert g.num_nodes == 34 and g.num_edges == 2 * ref.number_of_edges()
    assert g.y.tolist() == [int(ref.nodes[v]["club"] == "Officer") for v in range(34)]
    assert torch.equal(g.x, torch.eye(34))
    assert g.train_mask.nonzero().flatten().tolist() == [0, 33]
    assert g.y[[0, 33]].tolist() == [0, 1]
    masks = torch.stack([g.train_mask, g.val_mask, g.test_mask]).int()
    assert masks.sum(0).tolist() == [1] * 34                     # a partition
    assert g.is_undirected() and not g.has_self_loops()


@pytest.mark.parametrize("call, name", [
    (lambda: sbm([10, 10], 1.5, 0.1), "p_in"),
    (lambda: sbm([10, 10], 0.5, -0.1), "p_out"),
    (lambda: sbm([10, 0], 0.5, 0.1), "block_sizes"),
    (lambda: sbm([], 0.5, 0.1), "block_sizes"),
    (lambda: sbm([10.5, 3], 0.5, 0.1), "block_sizes"),
    (lambda: sbm([10, 10], 0.5, 0.1, num_features=0), "num_features"),
    (lambda: sbm([10, 10], 0.5, 0.1, feature_signal=float("nan")), "feature_signal"),
    (lambda: sbm([10, 10], 0.5, 0.1, train_per_class=0), "train_per_class"),
    (lambda: erdos_renyi(0, 0.1), "num_nodes"),
    (lambda: erdos_renyi(10, float("nan")), "p"),
    (lambda: erdos_renyi(10, 0.1, num_classes=0), "num_classes"),
    (lambda: erdos_renyi(10, 0.1, feature_noise=-1.0), "feature_noise"),
    (lambda: erdos_renyi(10, 0.1, num_test=-1), "num_test"),
    (lambda: barabasi_albert(10, 10), "m"),
    (lambda: barabasi_albert(10, 0), "m"),
    (lambda: barabasi_albert(10.0, 2), "num_nodes"),
])
def test_bad_parameters_raise(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()


def test_sbm_bag_of_words_features():
    g = sbm([200] * 3, 0.02, 0.002, num_features=300, feature_signal=0.5, features="bow",
            words_per_node=8, seed=0)
    x, y = g.x.numpy(), g.y.numpy()
    assert set(np.unique(x)) == {0.0, 1.0}
    assert 5 < x.sum(1).mean() <= 8 and x.sum(1).min() >= 1
    # each class's most frequent word is far more frequent there than elsewhere
    for c in range(3):
        w = x[y == c].mean(0).argmax()
        assert x[y == c, w].mean() > 3 * x[y != c, w].mean()
    noise = sbm([200] * 3, 0.02, 0.002, num_features=300, feature_signal=0.0,
                features="bow", seed=0).x.numpy()
    assert noise.mean(0).max() < 0.15   # no topic: words spread uniformly
    with pytest.raises(ValueError, match="features must be"):
        sbm([10, 10], 0.1, 0.1, features="tfidf")
    with pytest.raises(ValueError, match="feature_signal"):
        sbm([10, 10], 0.1, 0.1, features="bow", feature_signal=2.0)


@pytest.mark.parametrize("make, match", [
    (lambda: sbm([10, 10], 1.5, 0.1), r"p_in must be a real number in \[0, 1\], got 1.5"),
    (lambda: sbm([10, 10], 0.1, True), "p_out must be a real number"),
    (lambda: sbm([10, 10], 0.1, 0.1, num_features=0), "num_features must be an integer >= 1"),
    (lambda: sbm([10, 10], 0.1, 0.1, feature_signal=-1.0), "feature_signal"),
    (lambda: sbm([10, 10], 0.1, 0.1, features="bow", words_per_node=0.5),
     "words_per_node must be a real number in"),
    (lambda: sbm([10, 10], 0.1, 0.1, train_per_class=0), "train_per_class"),
    (lambda: sbm([10, 10], 0.1, 0.1, num_val=-1), "num_val must be an integer >= 0 or None"),
    (lambda: sbm([10, 0], 0.1, 0.1), "block_sizes"),
    (lambda: erdos_renyi(0, 0.1), "num_nodes must be an integer >= 1, got 0"),
    (lambda: erdos_renyi(10, float("nan")), "p must be a real number"),
    (lambda: erdos_renyi(10, 0.1, num_classes=2.0), "num_classes must be an integer"),
    (lambda: erdos_renyi(10, 0.1, feature_noise=-0.5), "feature_noise"),
    (lambda: barabasi_albert(10, 10), r"m must be an integer in \[1, 9\], got 10"),
    (lambda: barabasi_albert(1, 1), "num_nodes must be an integer >= 2"),
    (lambda: multilabel_stream(0), "n_samples must be an integer >= 1, got 0"),
    (lambda: multilabel_stream(10, n_labels=4, n_groups=5), r"n_groups must be .*\[1, 4\]"),
    (lambda: multilabel_stream(10, density=0.0), r"density must be a real number in \(0, 1\)"),
    (lambda: multilabel_stream(10, noise=-1.0), "noise"),
    (lambda: triangle_communities(0), "num_communities must be an integer >= 1"),
    (lambda: gpvar(10, sigma=0.0), r"sigma must be a real number in \(0, inf\)"),
    (lambda: gpvar(10.5), "num_steps must be an integer"),
    (lambda: gpvar(10, period=0), "period must be an integer >= 1"),
    (lambda: gpvar(10, period=2, keep=0.0), r"keep must be a real number in \(0, 1\]"),
    (lambda: write_synthetic_ogb("unused", num_nodes=10, num_classes=8),
     "num_nodes must be an integer >= 16"),
    (lambda: write_synthetic_ogb("unused", num_nodes=100, num_classes=4, avg_degree=30.0),
     r"avg_degree must be a real number in \(0, 25\)"),
    (lambda: write_synthetic_ogb("unused", structure="grid"), "structure must be one of"),
])
def test_bad_arguments_are_clear_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_numpy_integer_arguments_give_the_same_graph():
    a = erdos_renyi(np.int64(50), 0.1, num_classes=np.int32(2), train_per_class=np.int64(3),
                    seed=0)
    assert _same(a, erdos_renyi(50, 0.1, num_classes=2, train_per_class=3, seed=0))
