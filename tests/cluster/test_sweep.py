"""Conductance against networkx, sweep cuts against brute force."""
import networkx as nx
import numpy as np
import pytest
import torch

from graphbias.cluster import GraphView, acl_ppr, conductance, support_cut, sweep_cut


@pytest.mark.parametrize("weighted", [False, True])
def test_conductance_matches_networkx(karate, weighted_graph, weighted):
    graph = weighted_graph if weighted else karate
    view = GraphView.from_graph(graph)
    nxg = graph.to_networkx()
    rng = np.random.default_rng(0)
    for size in (1, 3, 10, 20):
        s = rng.choice(graph.num_nodes, size, replace=False)
        expected = nx.conductance(nxg, set(s.tolist()), weight="weight" if weighted else None)
        assert conductance(view, s) == pytest.approx(expected, rel=1e-6)


def test_label_weighted_conductance_matches_networkx_on_materialised_graph(karate):
    labels = np.zeros(34, dtype=int)
    labels[[0, 1, 2, 3, 7, 13, 17, 19, 21]] = 1
    view = GraphView.from_graph(karate, labels=labels, label_eps=0.2)
    ei = karate.edge_index.numpy()
    w = np.where(labels[ei[0]] & labels[ei[1]], 1.0, 0.2)
    nxg = karate.replace(edge_weight=w).to_networkx()
    s = {0, 1, 2, 3, 7, 11}
    assert conductance(view, list(s)) == pytest.approx(nx.conductance(nxg, s, weight="weight"))


def test_sweep_cut_is_the_best_prefix(weighted_graph):
    view = GraphView.from_graph(weighted_graph)
    d = acl_ppr(view, 5, alpha=0.1, epsilon=1e-5)
    nodes, phi = sweep_cut(view, d.nodes, d.scores)
    order = d.nodes[np.argsort(-d.scores, kind="stable")]
    order = order[np.sort(d.scores)[::-1] > 0]
    brute = [conductance(view, order[:k]) for k in range(1, order.size + 1)]
    assert phi == pytest.approx(min(brute))
    np.testing.assert_array_equal(nodes, np.sort(order[:int(np.argmin(brute)) + 1]))


def test_sweep_and_support_edge_cases(karate):
    view = GraphView.from_graph(karate)
    nodes, phi = sweep_cut(view, np.array([0, 1]), np.zeros(2))
    assert nodes.size == 0 and phi == np.inf
    nodes, phi = support_cut(view, np.array([0, 1, 2]), np.array([1.0, 0.0, 2.0]))
    assert nodes.tolist() == [0, 2] and phi == pytest.approx(conductance(view, [0, 2]))
    assert conductance(view, []) == np.inf
    assert conductance(view, np.arange(34)) == np.inf
    with pytest.raises(ValueError, match="node ids"):
        conductance(view, [0, 34])


@pytest.fixture(scope="module")
def looped_graph(weighted_graph):
    """``weighted_graph`` with self-loops of various weights on a third of its nodes."""
    ei, w = weighted_graph.edge_index, weighted_graph.edge_weight
    loops = torch.arange(0, 40, 3)
    loop_w = torch.linspace(0.5, 7.0, loops.numel())
    return weighted_graph.replace(edge_index=torch.cat([ei, loops.repeat(2, 1)], 1),
                                  edge_weight=torch.cat([w, loop_w]))


@pytest.mark.parametrize("weighted", [False, True])
def test_conductance_matches_networkx_with_self_loops(looped_graph, weighted):
    graph = looped_graph if weighted else looped_graph.replace(edge_weight=None)
    assert graph.has_self_loops()
    view = GraphView.from_graph(graph)
    nxg = graph.to_networkx()
    assert nx.number_of_selfloops(nxg) == 14
    weight = "weight" if weighted else None
    rng = np.random.default_rng(1)
    for size in (1, 2, 5, 12, 25):
        for _ in range(5):
            s = rng.choice(graph.num_nodes, size, replace=False)
            expected = nx.conductance(nxg, set(s.tolist()), weight=weight)
            assert conductance(view, s) == pytest.approx(expected, rel=1e-6)
    assert view.volume() == pytest.approx(nx.volume(nxg, nxg, weight=weight), rel=1e-6)


def test_label_weighted_conductance_with_self_loops(looped_graph):
    labels = (np.arange(40) % 2 == 0).astype(int)
    view = GraphView.from_graph(looped_graph, labels=labels, label_eps=0.1)
    ei = looped_graph.edge_index.numpy()
    w = looped_graph.edge_weight.numpy() * np.where(labels[ei[0]] & labels[ei[1]], 1.0, 0.1)
    nxg = looped_graph.replace(edge_weight=w).to_networkx()
    for s in ({0, 3, 6, 8}, {1, 3, 5}, set(range(0, 40, 2))):
        assert conductance(view, list(s)) == pytest.approx(
            nx.conductance(nxg, s, weight="weight"), rel=1e-6)


def test_sweep_cut_is_the_best_prefix_with_self_loops(looped_graph):
    view = GraphView.from_graph(looped_graph)
    d = acl_ppr(view, 3, alpha=0.1, epsilon=1e-5)
    nodes, phi = sweep_cut(view, d.nodes, d.scores)
    order = d.nodes[np.argsort(-d.scores, kind="stable")]
    order = order[np.sort(d.scores)[::-1] > 0]
    brute = [conductance(view, order[:k]) for k in range(1, order.size + 1)]
    assert phi == pytest.approx(min(brute))
    np.testing.assert_array_equal(nodes, np.sort(order[:int(np.argmin(brute)) + 1]))


def test_sweep_over_the_whole_label_weighted_graph_is_not_a_cluster(planted):
    """Rounding once gave the prefix holding every node a tiny negative cut over a
    tiny complement volume, a negative conductance that won every sweep."""
    view = GraphView.from_graph(planted.graph, labels=planted.noisy_labels, label_eps=0.05)
    d = acl_ppr(view, 3, alpha=0.15, epsilon=1e-4)
    assert d.nodes.size == view.num_nodes
    nodes, phi = sweep_cut(view, d.nodes, d.scores)
    assert 0 <= phi < 1 and nodes.size < view.num_nodes
    assert conductance(view, np.arange(view.num_nodes)) == np.inf
