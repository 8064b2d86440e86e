import pickle

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graphbias.data import Graph, as_graph
from graphbias.data.transforms import (add_remaining_self_loops, add_self_loops,
                                       coalesce, gcn_norm, normalize_features,
                                       remove_self_loops, to_undirected)

EI = torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 1, 3]])


def edge_set(g):
    return set(map(tuple, g.edge_index.t().tolist()))


def test_csr_and_csc_are_cached_and_correct():
    g = Graph(EI, 4, edge_weight=torch.arange(1.0, 6.0))
    dense = torch.zeros(4, 4)
    dense[EI[1], EI[0]] = torch.arange(1.0, 6.0)  # row = target
    assert torch.equal(g.csr.to_dense(), dense)
    assert torch.equal(g.csc.to_dense(), dense.t())
    assert g.csr is g.csr and g.csc is g.csc
    assert g.in_degree().tolist() == [1, 2, 1, 1]
    assert g.out_degree().tolist() == [1, 2, 1, 1]


@pytest.mark.parametrize("kwargs, match", [
    (dict(edge_index=torch.tensor([[0, 5]]).t(), num_nodes=3), "node id 5"),
    (dict(edge_index=torch.tensor([[0, -1], [1, 0]]), num_nodes=3), "negative"),
    (dict(edge_index=torch.zeros(3, 2, dtype=torch.long), num_nodes=3), r"\[2, num_edges\]"),
    (dict(edge_index=torch.zeros(2, 2), num_nodes=3), "integers"),
    (dict(edge_index=torch.zeros(2, 0, dtype=torch.long)), "empty"),
    (dict(edge_index=EI, num_nodes=4, x=torch.ones(3, 2)), "x has 3 rows"),
    (dict(edge_index=EI, num_nodes=4, x=torch.tensor([[1.0], [np.nan], [0], [0]])), "NaN"),
    (dict(edge_index=EI, num_nodes=4, x=torch.ones(4)), "2-D"),
    (dict(edge_index=EI, num_nodes=4, edge_weight=torch.ones(4)), "one per edge"),
    (dict(edge_index=EI, num_nodes=4, edge_weight=torch.tensor([1, 1, np.inf, 1, 1])), "inf"),
    (dict(edge_index=EI, num_nodes=4, y=torch.ones(3)), "one entry per node"),
    (dict(edge_index=EI, num_nodes=4, train_mask=torch.ones(4)), "boolean"),
    (dict(edge_index=EI, num_nodes=4, val_mask=torch.ones(5, dtype=torch.bool)), "shape"),
])
def test_validation_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Graph(**kwargs)


def test_sparse_features_stay_sparse():
    x = sp.random(4, 10, density=0.3, format="csr", random_state=0)
    g = Graph(EI, x=x)
    assert g.x.layout == torch.sparse_csr
    assert np.allclose(g.x.to_dense().numpy(), x.toarray())
    bad = x.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Graph(EI, x=bad)


def test_networkx_round_trip():
    nxg = nx.karate_club_graph()
    g = as_graph(nxg)
    assert g.num_nodes == 34 and g.num_edges == 2 * nxg.number_of_edges()
    assert g.is_undirected()
    back = g.to_networkx()
    assert not back.is_directed()
    assert nx.is_isomorphic(back, nxg)
    assert back[0][1]["weight"] == nxg[0][1]["weight"]


def test_networkx_directed_and_attributes():
    d = nx.DiGraph()
    d.add_node("a", x=[1.0, 0.0], y=0)
    d.add_node("b", x=[0.0, 1.0], y=1)
    d.add_edge("a", "b")
    g = as_graph(d)
    assert g.edge_index.tolist() == [[0], [1]]
    assert g.x.tolist() == [[1.0, 0.0], [0.0, 1.0]] and g.y.tolist() == [0, 1]
    assert g.edge_weight is None


def test_scipy_and_edge_index_inputs():
    a = sp.random(6, 6, density=0.4, format="csr", random_state=1)
    g = as_graph(a)
    assert np.allclose(g.to_scipy().toarray(), a.toarray())
    g2 = as_graph(np.array([[0, 1], [1, 2]]), num_nodes=4)
    assert g2.num_nodes == 4
    with pytest.raises(ValueError, match="square"):
        as_graph(sp.random(3, 4, density=0.5))
    with pytest.raises(ValueError, match="cannot read"):
        as_graph({"edges": 1})
    with pytest.raises(ValueError, match="None"):
        as_graph(None)


def test_pyg_round_trip():
    pytest.importorskip("torch_geometric")
    g = Graph(EI, 4, x=torch.randn(4, 3), y=torch.tensor([0, 1, 0, 1]),
              edge_weight=torch.rand(5), train_mask=torch.tensor([1, 0, 0, 1]).bool())
    data = g.to_pyg()
    back = as_graph(data)
    assert torch.equal(back.edge_index, g.edge_index)
    assert torch.equal(back.x, g.x) and torch.equal(back.y, g.y)
    assert torch.equal(back.edge_weight, g.edge_weight)
    assert torch.equal(back.train_mask, g.train_mask)


def test_pickle_drops_caches_and_keeps_data():
    g = Graph(EI, 4, x=torch.randn(4, 2))
    _ = g.csr
    h = pickle.loads(pickle.dumps(g))
    assert h._cache == {} and torch.equal(h.x, g.x)
    assert torch.equal(h.csr.indices, g.csr.indices)


def test_transforms_match_pyg():
    utils = pytest.importorskip("torch_geometric.utils")
    from torch_geometric.nn.conv.gcn_conv import gcn_norm as pyg_gcn_norm

    gen = torch.Generator().manual_seed(0)
    ei = torch.randint(0, 15, (2, 60), generator=gen)
    w = torch.rand(60, generator=gen)
    g = Graph(ei, 15, edge_weight=w)
    ours = to_undirected(g, reduce="sum")
    theirs_ei, theirs_w = utils.to_undirected(ei, w, 15, reduce="sum")
    assert torch.equal(ours.edge_index, theirs_ei)
    assert torch.allclose(ours.edge_weight, theirs_w)
    loops = add_remaining_self_loops(g, 2.0)
    tl_ei, tl_w = utils.add_remaining_self_loops(ei, w, 2.0, 15)
    assert torch.equal(loops.edge_index, tl_ei) and torch.allclose(loops.edge_weight, tl_w)
    for improved in (False, True):
        ne, nw = pyg_gcn_norm(ei, w, 15, improved, True)
        dense = torch.zeros(15, 15).index_put_((ne[1], ne[0]), nw, accumulate=True)
        assert torch.allclose(gcn_norm(g, improved).to_dense(), dense, atol=1e-6)
    assert gcn_norm(g) is gcn_norm(g)


def test_self_loop_helpers_and_coalesce():
    g = Graph(torch.tensor([[0, 0, 1, 1], [1, 1, 1, 0]]), 2, edge_weight=torch.ones(4))
    assert not remove_self_loops(g).has_self_loops()
    assert add_self_loops(g).num_edges == 6
    c = coalesce(g)
    assert c.edge_index.tolist() == [[0, 1, 1], [1, 0, 1]] and c.edge_weight.tolist() == [2, 1, 1]
    sym = to_undirected(Graph(torch.tensor([[0], [1]]), 2, edge_weight=torch.tensor([3.0])))
    assert sym.edge_weight.tolist() == [3.0, 3.0] and sym.is_undirected()


def test_normalize_features_dense_and_sparse():
    x = torch.tensor([[1.0, 3.0], [0.0, 0.0]])
    assert normalize_features(x).tolist() == [[0.25, 0.75], [0.0, 0.0]]
    s = normalize_features(x.to_sparse_csr())
    assert s.to_dense().tolist() == [[0.25, 0.75], [0.0, 0.0]]


def test_replace_and_repr():
    g = Graph(EI, 4, edge_weight=torch.rand(5), name="toy")
    h = g.replace(edge_index=EI[:, :2])
    assert h.num_edges == 2 and h.edge_weight is None
    assert "toy" in repr(g) and "weighted" in repr(g)
