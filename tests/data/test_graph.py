import pickle

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graphbias.data import Graph, as_graph
from graphbias.data.transforms import (add_remaining_self_loops, add_self_loops,
                                       coalesce, gcn_norm, largest_component,
                                       normalize_features, remove_self_loops,
                                       to_undirected)

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


# ------------------------------------------------------------ node counts and features

@pytest.mark.parametrize("num_nodes", [5.7, 4.0, True, "4", torch.tensor(4.0), [4]])
def test_explicit_num_nodes_must_be_an_integer(num_nodes):
    with pytest.raises(ValueError, match="num_nodes must be an integer"):
        Graph(EI, num_nodes)


def test_integer_num_nodes_of_any_integer_type():
    for n in (4, np.int64(4), np.uint8(4), torch.tensor(4)):
        g = Graph(EI, n)
        assert g.num_nodes == 4 and type(g.num_nodes) is int
    with pytest.raises(ValueError, match="at most 2147483647 nodes"):
        Graph(EI, 2**31)
    with pytest.raises(ValueError, match="empty"):
        Graph(EI, 0)


def test_node_count_implied_by_one_stray_id_is_refused_before_allocating():
    with pytest.raises(ValueError, match=r"implies 10000000001 nodes \(largest id "
                                         r"10000000000, at edge 0\) from only 1 edge"):
        Graph([[0], [10**10]]).csr
    with pytest.raises(ValueError, match="implies 2000001 nodes"):
        Graph([[0], [2_000_000]])
    g = Graph([[0], [2_000_000]], num_nodes=2_000_001)  # explicit: the caller means it
    assert g.csr.indptr.numel() == 2_000_002
    assert Graph([[0], [1000]]).num_nodes == 1001  # small gaps need no num_nodes
    many = torch.arange(300_000).repeat(2, 1)
    assert Graph(many * 8).num_nodes == 8 * 299_999 + 1  # 8 nodes per edge is plausible
    with pytest.raises(ValueError, match="num_nodes is 10000000001; at most"):
        Graph([[0], [10**10]], num_nodes=10**10 + 1)


def test_feature_rows_that_miss_nodes_are_reported_as_such():
    with pytest.raises(ValueError, match=r"edge_index refers to node 3 \(first at edge 4\) "
                                         r"but x has 3 rows: x needs one row per node"):
        Graph(EI, x=torch.ones(3, 2))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64, np.int8,
                                   np.int16, np.int32, np.int64, np.bool_])
def test_integer_features_of_every_width_become_float(dtype):
    x = (np.arange(8).reshape(4, 2) % 2).astype(dtype)
    inputs = [x, torch.from_numpy(x), sp.csr_matrix(x)]
    if dtype not in (np.uint16, np.uint32, np.uint64):  # torch has no such sparse tensors
        inputs.append(torch.from_numpy(x).to_sparse_csr())
    for features in inputs:
        g = Graph(EI, x=features)
        assert g.x.dtype == torch.float32
        assert g.x.to_dense().tolist() == x.astype(np.float32).tolist()


def test_complex_features_and_weights_are_refused():
    with pytest.raises(ValueError, match="x must hold real numbers, got torch.complex64"):
        Graph(EI, x=torch.ones(4, 2, dtype=torch.complex64))
    with pytest.raises(ValueError, match="edge_weight must hold real numbers"):
        Graph(EI, edge_weight=torch.ones(5, dtype=torch.complex64))


# ---------------------------------------------------------------------- node labels

def test_networkx_node_order_is_kept_as_labels():
    G = nx.Graph()
    G.add_nodes_from([2, 0, 1])
    G.add_edge(2, 0)
    g = as_graph(G)
    assert g.node_labels == [2, 0, 1]
    assert g.edge_index.tolist() == [[0, 1], [1, 0]]
    assert g.index_of(2) == 0 and g.index_of([1, 2]).tolist() == [2, 0]
    assert g.label_of(0) == 2 and g.label_of(np.array([2, 0])) == [1, 2]
    with pytest.raises(ValueError, match=r"unknown node label 7"):
        g.index_of(7)
    with pytest.raises(ValueError, match=r"unknown node label\(s\) \[5, 'a'\]"):
        g.index_of([0, 5, "a"])
    with pytest.raises(ValueError, match=r"node ids must be integers in \[0, 3\)"):
        g.label_of(3)
    back = g.to_networkx()
    assert list(back.nodes) == [2, 0, 1] and set(back.edges) == {(2, 0)}


def test_labels_of_any_hashable_kind_and_ids_without_labels():
    grid = as_graph(nx.grid_2d_graph(2, 3))
    assert grid.index_of((1, 2)) == 5
    assert grid.index_of([(0, 1), (1, 0)]).tolist() == [1, 3]
    assert grid.label_of([5, 0]) == [(1, 2), (0, 0)]
    plain = as_graph(nx.path_graph(4))
    assert plain.node_labels is None  # 0 .. n-1 in order: ids are the labels
    assert plain.index_of(3) == 3 and plain.index_of([1, 2]).tolist() == [1, 2]
    assert plain.label_of([2, 0]) == [2, 0]
    assert plain.index_of([]).tolist() == [] == grid.index_of([]).tolist()
    assert plain.label_of([]) == [] == grid.label_of(np.zeros(0, np.int64))
    with pytest.raises(ValueError, match=r"node ids must be integers in \[0, 4\)"):
        plain.index_of("a")
    with pytest.raises(ValueError, match=r"node ids must be integers in \[0, 4\)"):
        plain.index_of(4)


@pytest.mark.parametrize("labels, match", [
    (["a", "b", "a", "c"], "distinct; 'a' appears twice"),
    (["a", "b"], "node_labels has 2 entries but the graph has 4 nodes"),
    ([["a"], ["b"], ["c"], ["d"]], "hashable"),
    ("abcd", "sequence of 4 labels"),
])
def test_bad_node_labels(labels, match):
    with pytest.raises(ValueError, match=match):
        Graph(EI, node_labels=labels)


def test_node_labels_survive_replace_pickle_and_old_pickles():
    g = Graph(EI, node_labels=list("abcd"))
    assert g.replace(edge_index=EI[:, :2]).node_labels == list("abcd")
    h = pickle.loads(pickle.dumps(g))
    assert h.node_labels == list("abcd") and h.index_of("c") == 2
    state = g.__getstate__()
    del state["node_labels"]  # a graph pickled before graphs had node labels
    old = Graph.__new__(Graph)
    old.__setstate__(state)
    assert old.node_labels is None and old.index_of(2) == 2


# ------------------------------------------------------------------ as_graph inputs

def test_networkx_weights_missing_on_some_edges_default_to_one():
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=2.5, cost=7)
    G.add_edge("b", "c")
    assert as_graph(G).edge_weight.tolist() == [2.5, 1.0]
    assert as_graph(G, weight="cost").edge_weight.tolist() == [7.0, 1.0]
    assert as_graph(G, weight=None).edge_weight is None
    assert as_graph(G, weight="length").edge_weight is None  # no edge has it
    G.add_edge("c", "a", weight="heavy")
    with pytest.raises(ValueError, match=r"edge \('c', 'a'\) has weight='heavy'"):
        as_graph(G)


def test_multigraph_weights_follow_each_parallel_edge():
    G = nx.MultiGraph()
    G.add_edge(0, 1, weight=3.0)
    G.add_edge(0, 1)
    G.add_edge(1, 1, weight=5.0)
    g = as_graph(G)
    assert g.edge_index.tolist() == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    assert g.edge_weight.tolist() == [3.0, 3.0, 1.0, 1.0, 5.0]


@pytest.mark.parametrize("layout", ["coo", "csr", "csc"])
def test_torch_sparse_adjacency_reads_like_scipy(layout):
    a = sp.random(6, 6, density=0.4, format="csr", random_state=3, dtype=np.float32)
    dense = torch.from_numpy(a.toarray())
    t = {"coo": dense.to_sparse_coo, "csr": dense.to_sparse_csr,
         "csc": dense.to_sparse_csc}[layout]()
    g, ref = as_graph(t), as_graph(a)
    assert torch.equal(torch.from_numpy(g.to_scipy().toarray()), dense)
    assert edge_set(g) == edge_set(ref) and g.num_nodes == 6
    ones = as_graph((dense != 0).float().to_sparse_coo())
    assert ones.edge_weight is None and edge_set(ones) == edge_set(ref)
    with pytest.raises(ValueError, match="square"):
        as_graph(torch.ones(2, 3).to_sparse_coo())


def test_torch_sparse_package_sparse_tensor():
    torch_sparse = pytest.importorskip("torch_sparse")
    a = sp.random(5, 5, density=0.5, format="coo", random_state=0, dtype=np.float32)
    st = torch_sparse.SparseTensor(row=torch.from_numpy(a.row).long(),
                                   col=torch.from_numpy(a.col).long(),
                                   value=torch.from_numpy(a.data), sparse_sizes=(5, 5))
    assert np.allclose(as_graph(st).to_scipy().toarray(), a.toarray())


def test_pyg_batch_subclass_edge_attr_and_hetero():
    pyg_data = pytest.importorskip("torch_geometric.data")
    d1 = pyg_data.Data(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]),
                       edge_attr=torch.tensor([[0.5], [2.0]]))
    d2 = pyg_data.Data(x=torch.randn(2, 2), edge_index=torch.tensor([[0], [1]]),
                       edge_attr=torch.tensor([[3.0]]))
    batch = pyg_data.Batch.from_data_list([d1, d2])
    g = as_graph(batch)
    assert g.num_nodes == 5 and g.edge_index.tolist() == [[0, 1, 3], [1, 2, 4]]
    assert g.edge_weight.tolist() == [0.5, 2.0, 3.0]
    assert torch.equal(g.x, batch.x)

    class MyData(pyg_data.Data):  # a subclass defined outside torch_geometric
        pass

    mine = as_graph(MyData(edge_index=torch.tensor([[0], [1]]), num_nodes=2))
    assert mine.num_nodes == 2 and mine.edge_weight is None
    wide = pyg_data.Data(edge_index=torch.tensor([[0], [1]]), edge_attr=torch.ones(1, 4),
                         num_nodes=2)
    assert as_graph(wide).edge_weight is None  # wider edge features are not weights
    hetero = pyg_data.HeteroData()
    hetero["paper"].x = torch.randn(2, 3)
    hetero["paper", "cites", "paper"].edge_index = torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match="HeteroData.*to_homogeneous"):
        as_graph(hetero)


# ------------------------------------------------------------------------ transforms

def test_gcn_norm_refuses_negative_weights():
    g = Graph(torch.tensor([[0], [1]]), 2, edge_weight=torch.tensor([-2.0]))
    with pytest.raises(ValueError, match=r"gcn_norm needs non-negative edge weights.*"
                                         r"edge 0 \(0 -> 1\) has weight -2.0"):
        gcn_norm(g)
    zero = Graph(torch.tensor([[0], [1]]), 2, edge_weight=torch.tensor([0.0]))
    assert torch.isfinite(gcn_norm(zero, add_self_loops=False).values).all()


def random_components(seed, directed):
    """A graph of several components of distinct sizes plus isolated nodes, with
    shuffled node ids, features, labels, masks and weights."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph() if directed else nx.Graph()
    start = 0
    for size in rng.permutation([2, 5, 9, 14, 3]):
        part = nx.gnp_random_graph(int(size), 0.3, seed=int(rng.integers(1e6)),
                                   directed=directed)
        if not directed:
            part.add_edges_from(nx.path_graph(int(size)).edges)  # connected
        else:
            part.add_edges_from(nx.path_graph(int(size), nx.DiGraph).edges)
        G.update(nx.relabel_nodes(part, {v: v + start for v in part}))
        start += int(size)
    G.add_nodes_from(range(start, start + 4))
    order = rng.permutation(G.number_of_nodes())
    G = nx.relabel_nodes(G, dict(enumerate(order.tolist())))
    g = Graph(torch.tensor(list(G.edges)).t(), G.number_of_nodes(),
              x=sp.random(G.number_of_nodes(), 5, density=0.5, format="csr",
                          random_state=seed),
              edge_weight=torch.rand(G.number_of_edges()),
              y=torch.arange(G.number_of_nodes()),
              train_mask=torch.rand(G.number_of_nodes()) < 0.5, name="parts")
    return G, g


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_largest_component_matches_networkx(seed, directed):
    G, g = random_components(seed, directed)
    components = nx.weakly_connected_components(G) if directed else \
        nx.connected_components(G)
    nodes = sorted(max(components, key=len))
    lcc = largest_component(g)
    assert lcc.name == "parts-lcc" and lcc.num_nodes == len(nodes) == 14
    assert lcc.y.tolist() == nodes  # y holds the old ids: kept in order
    assert torch.equal(lcc.x.to_dense(), g.x.to_dense()[nodes])
    assert torch.equal(lcc.train_mask, g.train_mask[nodes])
    sub = G.subgraph(nodes)
    kind = tuple if directed else frozenset
    relabelled = {kind((nodes[u], nodes[v])) for u, v in lcc.edge_index.t().tolist()}
    assert relabelled == set(map(kind, sub.edges))
    assert lcc.num_edges == sub.number_of_edges()
    weight = {tuple(e): w for e, w in zip(g.edge_index.t().tolist(), g.edge_weight.tolist())}
    assert lcc.edge_weight.tolist() == [weight[(nodes[u], nodes[v])]
                                        for u, v in lcc.edge_index.t().tolist()]


def test_largest_component_ties_labels_and_dense_features():
    g = Graph(torch.tensor([[3, 0], [4, 1]]), 5, x=torch.arange(10.0).reshape(5, 2),
              node_labels=list("abcde"))
    lcc = largest_component(g)  # two components of 2: the one with node 0 wins
    assert lcc.node_labels == ["a", "b"] and lcc.x.tolist() == [[0, 1], [2, 3]]
    assert lcc.name == ""
    whole = largest_component(Graph(EI, 4))
    assert whole.num_nodes == 3 and whole.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
