"""The label- and feature-weighted graph as a view over the CSR."""
import pickle

import numpy as np
import pytest
import torch

from graphbias.cluster import GraphView, acl_ppr
from graphbias.data import Graph


def _materialised(graph, labels, eps, gamma=None):
    """The label-weighted graph built explicitly (the reference)."""
    ei = graph.edge_index.numpy()
    w = np.where(labels[ei[0]].astype(bool) & labels[ei[1]].astype(bool), 1.0, eps)
    if graph.edge_weight is not None:
        w = w * graph.edge_weight.numpy()
    if gamma is not None:
        x = graph.x.numpy().astype(np.float64)
        w = w * np.exp(-gamma * ((x[ei[0]] - x[ei[1]]) ** 2).sum(1))
    return graph.replace(edge_weight=w)


@pytest.mark.parametrize("gamma", [None, 0.5])
def test_view_weights_equal_the_materialised_label_weighted_graph(weighted_graph, gamma):
    labels = (np.arange(40) % 3 == 0).astype(int)
    view = GraphView.from_graph(weighted_graph, labels=labels, label_eps=0.05, gamma=gamma)
    ref = GraphView.from_graph(_materialised(weighted_graph, labels, 0.05, gamma))
    nodes = np.arange(40)
    np.testing.assert_allclose(view.degree(nodes), ref.degree(nodes), rtol=1e-5)
    assert view.volume() == pytest.approx(ref.volume(), rel=1e-5)
    np.testing.assert_allclose(view.rows(nodes)[2], ref.rows(nodes)[2], rtol=1e-5)
    a = acl_ppr(view, 0, alpha=0.1, epsilon=1e-6)
    b = acl_ppr(ref, 0, alpha=0.1, epsilon=1e-6)
    np.testing.assert_allclose(a.to_dense(40), b.to_dense(40), atol=1e-6)
    np.testing.assert_allclose(view.base_degree(nodes),
                               GraphView.from_graph(weighted_graph).degree(nodes))


def test_sparse_features_give_the_same_weights_as_dense(weighted_graph):
    import scipy.sparse as sp

    labels = np.ones(40, dtype=int)
    x = weighted_graph.x.numpy()
    dense = GraphView.from_graph(weighted_graph, labels=labels, gamma=0.3, features=x)
    sparse = GraphView.from_graph(weighted_graph, labels=labels, gamma=0.3,
                                  features=sp.csr_matrix(x))
    nodes = np.arange(40)
    np.testing.assert_allclose(dense.degree(nodes), sparse.degree(nodes), rtol=1e-6)


def test_label_weighting_reads_only_requested_rows(karate):
    view = GraphView.from_graph(karate, labels=np.ones(34, dtype=int), label_eps=0.5)
    view.degree(np.array([0, 5]))
    assert np.flatnonzero(~np.isnan(view._degree)).tolist() == [0, 5]


def test_view_pickles_without_scratch(karate):
    view = GraphView.from_graph(karate, labels=np.ones(34, dtype=int))
    view.scratch()
    clone = pickle.loads(pickle.dumps(view))
    assert clone._scratch is None
    np.testing.assert_array_equal(clone.degree(np.arange(34)), view.degree(np.arange(34)))


@pytest.mark.parametrize("kwargs,match", [
    ({"labels": np.ones(3)}, "shape"),
    ({"labels": np.full(34, 2)}, "0 or 1"),
    ({"labels": np.array(["a"] * 34)}, "0/1"),
    ({"labels": np.ones(34), "label_eps": 0.0}, "label_eps"),
    ({"labels": np.ones(34), "label_eps": 1.5}, "label_eps"),
    ({"gamma": -1.0}, "gamma"),
    ({"gamma": 1.0, "features": np.ones((3, 2))}, "one row per node"),
    ({"gamma": 1.0, "features": np.full((34, 2), np.nan)}, "NaN")])
def test_view_rejects_bad_input(karate, kwargs, match):
    with pytest.raises(ValueError, match=match):
        GraphView.from_graph(karate, **kwargs)


def test_view_rejects_directed_and_negative_graphs():
    directed = Graph(torch.tensor([[0, 1], [1, 2]]), 3)
    with pytest.raises(ValueError, match="undirected"):
        GraphView.from_graph(directed)
    negative = Graph(torch.tensor([[0, 1], [1, 0]]), 2, edge_weight=[-1.0, -1.0])
    with pytest.raises(ValueError, match="nonnegative"):
        GraphView.from_graph(negative)
    with pytest.raises(ValueError, match="no node features"):
        GraphView.from_graph(Graph(torch.tensor([[0, 1], [1, 0]]), 2), gamma=1.0)


@pytest.mark.parametrize("seeds,match", [
    (34, "out of range"), (-1, "out of range"), ([], "non-empty"), (1.5, "integers"),
    ([[0, 1]], "1-D")])
def test_bad_seeds(karate, seeds, match):
    with pytest.raises(ValueError, match=match):
        GraphView.from_graph(karate).check_seeds(seeds)


def test_isolated_seed():
    g = Graph(torch.tensor([[0, 1], [1, 0]]), 3)
    with pytest.raises(ValueError, match="seed node 2 is isolated"):
        GraphView.from_graph(g).check_seeds([0, 2])
