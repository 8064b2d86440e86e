import networkx as nx
import numpy as np
import pytest
import torch

from graphbias.data.synthetic.algorithms import (FAMILIES, algorithm_graph,
                                                 algorithm_graphs, with_negative_cycle)


def _pairs(g):
    ei = g.edge_index.numpy()
    return set(zip(ei[0].tolist(), ei[1].tolist()))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("directed", [False, True])
def test_graphs_are_simple_and_seeded(family, directed):
    g = algorithm_graph(family, 40, directed=directed, weights="integer", seed=3)
    ei = g.edge_index.numpy()
    assert g.num_nodes == 40 and not g.has_self_loops()
    assert len(_pairs(g)) == g.num_edges                       # no duplicates
    assert g.is_undirected() == (not directed)
    w = g.edge_weight.numpy()
    assert w.dtype == np.float64 and np.all(w == np.round(w)) and w.min() >= 1
    again = algorithm_graph(family, 40, directed=directed, weights="integer", seed=3)
    assert np.array_equal(ei, again.edge_index.numpy())
    assert np.array_equal(w, again.edge_weight.numpy())


def test_family_structure():
    tree = algorithm_graph("tree", 50, seed=0)
    t = tree.to_networkx()
    assert nx.is_tree(t)
    grid = algorithm_graph("grid", 49, seed=0)
    degrees = np.bincount(grid.edge_index[0].numpy(), minlength=49)
    assert degrees.max() == 4 and grid.num_edges == 2 * 2 * 7 * 6
    dense = algorithm_graphs("er", 60, 5, seed=0)
    density = np.mean([g.num_edges / (60 * 59) for g in dense])
    assert abs(density - 0.5) < 0.02
    sparse = algorithm_graph("sparse_er", 5000, avg_degree=4.0, seed=0)
    assert abs(sparse.num_edges / 5000 - 4.0) < 0.2
    power = algorithm_graph("power_law", 500, seed=0)
    deg = np.bincount(power.edge_index[0].numpy())
    assert deg.max() > 8 * np.median(deg)                   # heavy tail


def test_shuffle_permutes_ids():
    a = algorithm_graph("tree", 30, shuffle=False, seed=1)
    smaller = [sum(u < v for u, w in _pairs(a) if w == v) for v in range(30)]
    assert smaller == [0] + [1] * 29                # unshuffled: parent id < child id
    b = algorithm_graph("tree", 30, seed=1)
    smaller = [sum(u < v for u, w in _pairs(b) if w == v) for v in range(30)]
    assert smaller != [0] + [1] * 29


def test_negative_weights_without_negative_cycle():
    for seed in range(20):
        g = algorithm_graph("er", 12, directed=True, weights="integer", negative=True,
                            seed=seed)
        assert g.edge_weight.min() < 0
        assert not nx.negative_edge_cycle(g.to_networkx(directed=True))


def test_with_negative_cycle_is_reachable():
    g = algorithm_graph("sparse_er", 30, directed=True, weights="integer", seed=0)
    h = with_negative_cycle(g, source=4, length=3, seed=1)
    nxg = h.to_networkx(directed=True)
    cycle = nx.find_negative_cycle(nxg, 4)
    assert len(cycle) >= 2


def test_uniform_weights_in_unit_interval():
    g = algorithm_graph("grid", 20, weights="uniform", seed=0)
    w = g.edge_weight.numpy()
    assert w.min() > 0 and w.max() <= 1 and g.is_undirected()


@pytest.mark.parametrize("kwargs, match", [
    (dict(family="ring", num_nodes=5), "family"),
    (dict(family="er", num_nodes=0), "num_nodes"),
    (dict(family="er", num_nodes=5, p=1.5), r"p must be a real number in \[0, 1\], got 1.5"),
    (dict(family="er", num_nodes=True), "num_nodes must be an integer >= 1, got True"),
    (dict(family="er", num_nodes=5, directed=1), "directed must be a bool"),
    (dict(family="er", num_nodes=5, max_weight=0, weights="integer"), "max_weight"),
    (dict(family="er", num_nodes=5, avg_degree=float("inf")), "avg_degree"),
    (dict(family="er", num_nodes=5, shuffle="yes"), "shuffle must be a bool"),
    (dict(family="er", num_nodes=5, weights="gaussian"), "weights"),
    (dict(family="er", num_nodes=5, weights="integer", negative=True), "negative"),
    (dict(family="er", num_nodes=5, avg_degree=-1.0), "avg_degree"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        algorithm_graph(**kwargs)


def test_negative_cycle_needs_reachable_nodes():
    g = algorithm_graph("er", 5, p=0.0, directed=True, weights="integer", seed=0)
    with pytest.raises(ValueError, match="reachable"):
        with_negative_cycle(g, source=0, length=3)
    with pytest.raises(ValueError, match=r"source must be an integer in \[0, 4\], got 9"):
        with_negative_cycle(g, source=9)
    with pytest.raises(ValueError, match="length must be an integer >= 1"):
        with_negative_cycle(g, length=0)


def test_numpy_integer_arguments_and_bad_count():
    a = algorithm_graphs("er", np.int64(6), np.int32(2), seed=0, max_weight=np.int64(3),
                         weights="integer")
    b = algorithm_graphs("er", 6, 2, seed=0, max_weight=3, weights="integer")
    assert all(torch.equal(x.edge_weight, y.edge_weight) for x, y in zip(a, b))
    with pytest.raises(ValueError, match="count must be an integer >= 0, got -1"):
        algorithm_graphs("er", 6, -1)
