import pytest
import torch

from graphbias import ops
from graphbias.data import Graph
from graphbias.nn import GATConv, GCNConv, GNN, MessagePassing, SAGEConv, as_features

pnn = pytest.importorskip("torch_geometric.nn")


def random_graph(n=40, e=200, f=12, seed=0, weighted=False):
    gen = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=gen)
    ei[:, :5] = torch.arange(5).repeat(2, 1)  # some self loops
    w = torch.rand(e, generator=gen) if weighted else None
    return Graph(ei, n, x=torch.randn(n, f, generator=gen), edge_weight=w)


CASES = [
    (lambda: GCNConv(12, 7), lambda: pnn.GCNConv(12, 7), True),
    (lambda: GCNConv(12, 7, improved=True), lambda: pnn.GCNConv(12, 7, improved=True), True),
    (lambda: GCNConv(12, 7, add_self_loops=False, normalize=False),
     lambda: pnn.GCNConv(12, 7, add_self_loops=False, normalize=False), True),
    (lambda: SAGEConv(12, 7), lambda: pnn.SAGEConv(12, 7), False),
    (lambda: SAGEConv(12, 7, aggr="max"), lambda: pnn.SAGEConv(12, 7, aggr="max"), False),
    (lambda: SAGEConv(12, 7, aggr="sum", normalize=True, root_weight=False),
     lambda: pnn.SAGEConv(12, 7, aggr="sum", normalize=True, root_weight=False), False),
    (lambda: GATConv(12, 7, heads=3), lambda: pnn.GATConv(12, 7, heads=3), False),
    (lambda: GATConv(12, 7, heads=2, concat=False),
     lambda: pnn.GATConv(12, 7, heads=2, concat=False), False),
    (lambda: GATConv(12, 7, add_self_loops=False),
     lambda: pnn.GATConv(12, 7, add_self_loops=False), False),
]


@pytest.mark.parametrize("ours, theirs, weighted", CASES)
@pytest.mark.parametrize("sparse", [False, True])
def test_matches_pyg_forward_and_backward(ours, theirs, weighted, sparse):
    g = random_graph(weighted=weighted)
    torch.manual_seed(0)
    theirs = theirs()
    ours = ours()
    ours.load_state_dict(theirs.state_dict())
    args = (g.x, g.edge_index) + ((g.edge_weight,) if weighted else ())
    expected = theirs(*args)
    x = as_features(g.x.to_sparse_csr()) if sparse else g.x
    out = ours(x, g)
    assert torch.allclose(out, expected, atol=1e-5)
    grad = torch.randn_like(out)
    expected.backward(grad)
    out.backward(grad)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-4), name


@pytest.mark.parametrize("ours, theirs, weighted", CASES)
def test_matches_pyg_with_a_raw_edge_index(ours, theirs, weighted):
    """The PyG call ``conv(x, edge_index[, edge_weight])``, twice (the second call
    reuses the cached graph), forward and backward."""
    g = random_graph(weighted=weighted, seed=1)
    torch.manual_seed(0)
    theirs = theirs()
    ours = ours()
    ours.load_state_dict(theirs.state_dict())
    args = (g.x, g.edge_index) + ((g.edge_weight,) if weighted else ())
    for _ in range(2):
        expected, out = theirs(*args), ours(*args)
        torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
        grad = torch.randn_like(out)
        expected.backward(grad)
        out.backward(grad)
        for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            torch.testing.assert_close(p.grad, q.grad, atol=1e-4, rtol=1e-4, msg=name)


def test_gcn_edge_weight_argument_equals_a_weighted_graph():
    g = random_graph(weighted=True)
    conv = GCNConv(12, 4)
    by_graph = conv(g.x, g)
    torch.testing.assert_close(conv(g.x, g.edge_index, g.edge_weight), by_graph)
    unweighted = Graph(g.edge_index, g.num_nodes)
    torch.testing.assert_close(conv(g.x, unweighted, g.edge_weight), by_graph)
    torch.testing.assert_close(conv(g.x, g.edge_index), conv(g.x, unweighted))


def test_learnable_edge_weights_get_gradients_every_call():
    g = random_graph()
    weight = torch.rand(g.num_edges, requires_grad=True)
    conv = GCNConv(12, 4)
    for _ in range(2):
        (grad,) = torch.autograd.grad(conv(g.x, g.edge_index, weight).sum(), weight)
        assert grad.abs().sum() > 0
    dense = torch.zeros(g.num_nodes, g.num_nodes).index_put(
        (g.edge_index[1], g.edge_index[0]), weight, accumulate=True)
    loops = torch.diag(dense).clone()
    dense = dense - torch.diag(loops) + torch.diag(torch.where(loops > 0, loops, 1.0))
    d = dense.sum(1).pow(-0.5)
    expected = (d.view(-1, 1) * dense * d.view(1, -1)) @ conv.lin(g.x) + conv.bias
    torch.testing.assert_close(conv(g.x, g.edge_index, weight), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("conv", [SAGEConv(12, 4), GATConv(12, 4)])
def test_layers_without_edge_weights_refuse_them(conv):
    g = random_graph()
    with pytest.raises(ValueError, match="does not use edge weights"):
        conv(g.x, g.edge_index, torch.ones(g.num_edges))


def test_graph_of_an_edge_index_is_cached_by_identity_and_version():
    from graphbias.nn import message_passing as mp

    ei = torch.randint(0, 10, (2, 30), generator=torch.Generator().manual_seed(0))
    first = mp.resolve_graph(ei, 10)
    assert mp.resolve_graph(ei, 10) is first
    assert mp.resolve_graph(ei.clone(), 10) is not first  # another tensor
    assert mp.resolve_graph(ei, 11) is not first  # another node count
    w = torch.rand(30)
    weighted = mp.resolve_graph(ei, 10, w)
    assert weighted is not first and mp.resolve_graph(ei, 10, w) is weighted
    w[0] = 5.0  # in place: a new graph with the new weight
    assert float(mp.resolve_graph(ei, 10, w).edge_weight[0]) == 5.0
    ei[0, 0] = (ei[0, 0] + 1) % 10  # in place: a new graph, new normalisation
    again = mp.resolve_graph(ei, 10)
    assert again is not first and torch.equal(again.edge_index, ei)
    with pytest.raises(ValueError, match="num_nodes is 3"):
        mp.resolve_graph(ei, 3)


def test_graph_cache_is_bounded():
    from graphbias.nn import message_passing as mp

    kept = [torch.randint(0, 5, (2, 8)) for _ in range(3 * mp.GRAPH_CACHE_SIZE)]
    for ei in kept:
        mp.resolve_graph(ei, 5)
    assert len(mp._graphs) <= mp.GRAPH_CACHE_SIZE
    assert mp.resolve_graph(kept[-1], 5) is mp.resolve_graph(kept[-1], 5)


def test_inference_mode_edge_index_is_not_cached_but_works():
    from graphbias.nn import message_passing as mp

    g = random_graph()
    conv = GCNConv(12, 4)
    with torch.inference_mode():
        ei = g.edge_index.clone()
        assert mp.resolve_graph(ei, g.num_nodes) is not mp.resolve_graph(ei, g.num_nodes)
        torch.testing.assert_close(conv(g.x, ei), conv(g.x, g))


def test_graph_size_mismatch_is_rejected():
    g = random_graph()
    with pytest.raises(ValueError, match="rows but the graph has"):
        GCNConv(12, 4)(g.x[:10], g)


class WeightedMessage(MessagePassing):
    """Overrides message: the generic gather / segment path."""

    def message(self, x_j, edge_weight=None, **kwargs):
        return 2.0 * x_j * edge_weight.view(-1, 1)


@pytest.mark.parametrize("aggr", ["sum", "mean", "max", "min"])
def test_generic_message_path_matches_fused(aggr):
    g = random_graph(weighted=True)
    fused = MessagePassing(aggr).propagate(g.csr, g.x)
    generic = WeightedMessage(aggr).propagate(g.csr, g.x, unused=None)
    expected = ops.spmm(g.csr.with_values(2.0 * g.csr.values), g.x, aggr)
    assert torch.allclose(generic, expected, atol=1e-6)
    assert torch.allclose(fused, ops.spmm(g.csr, g.x, aggr), atol=1e-6)
    for graph in (g, g.edge_index):  # edges in edge_index order, weights too
        torch.testing.assert_close(
            WeightedMessage(aggr).propagate(graph, x=g.x, edge_weight=g.edge_weight), expected)
        torch.testing.assert_close(
            MessagePassing(aggr).propagate(graph, x=g.x, edge_weight=g.edge_weight), fused)


def _pyg_style_layers(base):
    """The same layers written once against a MessagePassing base: graphbias's or
    torch_geometric's. None of them takes **kwargs in message."""

    class Plain(base):
        def forward(self, x, edge_index):
            return self.propagate(edge_index, x=x)

        def message(self, x_j):
            return x_j

    class Weighted(base):
        def forward(self, x, edge_index, edge_weight):
            return self.propagate(edge_index, x=x, edge_weight=edge_weight)

        def message(self, x_j, edge_weight):
            return edge_weight.view(-1, 1) * x_j

    class Pairwise(base):
        def forward(self, x, edge_index, h):
            return self.propagate(edge_index, x=x, h=h)

        def message(self, x_i, x_j, h_j, index):
            return torch.tanh(x_i - x_j) * h_j + index.view(-1, 1).to(x_i.dtype)

    return Plain, Weighted, Pairwise


@pytest.mark.parametrize("aggr", ["sum", "mean", "max", "min"])
def test_pyg_style_propagate_matches_torch_geometric(aggr):
    g = random_graph(weighted=True, seed=3)
    x = g.x.clone().requires_grad_()
    h = torch.randn(g.num_nodes, 12)
    ours, theirs = _pyg_style_layers(MessagePassing), _pyg_style_layers(pnn.MessagePassing)
    for (a, b), args in zip(zip(ours, theirs), [(x, g.edge_index),
                                                 (x, g.edge_index, g.edge_weight),
                                                 (x, g.edge_index, h)]):
        out, expected = a(aggr=aggr)(*args), b(aggr=aggr)(*args)
        torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
        grad = torch.randn_like(out)
        torch.testing.assert_close(torch.autograd.grad(out, x, grad)[0],
                                   torch.autograd.grad(expected, x, grad)[0],
                                   atol=1e-5, rtol=1e-5)
        # a Graph and the CSR (per-edge tensors then in CSR order) give the same
        graph_args = (args[0], g) + args[2:]
        torch.testing.assert_close(a(aggr=aggr)(*graph_args), expected, atol=1e-5, rtol=1e-5)


def test_propagate_errors_name_the_input():
    g = random_graph()
    Plain, Weighted, Pairwise = _pyg_style_layers(MessagePassing)
    with pytest.raises(ValueError, match="message needs 'edge_weight'"):
        Weighted().propagate(g.edge_index, x=g.x)
    with pytest.raises(ValueError, match="message needs 'h_j': pass h="):
        Pairwise().propagate(g.edge_index, x=g.x)
    with pytest.raises(ValueError, match=r"h must have one row per sending node \(40\)"):
        Pairwise()(g.x, g.edge_index, torch.ones(7, 12))
    with pytest.raises(ValueError, match=r"edge_weight must be a tensor with one entry per "
                                         r"edge \(200\)"):
        Weighted()(g.x, g.edge_index, torch.ones(3))
    with pytest.raises(ValueError, match="needs node features"):
        Plain().propagate(g.edge_index)


@pytest.mark.parametrize("conv", ["gcn", "sage", "gat"])
def test_gnn_stack_shapes(conv):
    g = random_graph()
    model = GNN(12, 8, 3, num_layers=3, conv=conv, heads=2)
    assert model(g.x, g).shape == (40, 3)
    model.eval()
    torch.testing.assert_close(model(g.x, g.edge_index), model(g.x, g))


def test_gnn_passes_edge_weights_to_its_layers():
    g = random_graph(weighted=True)
    model = GNN(12, 8, 3, conv="gcn").eval()
    torch.testing.assert_close(model(g.x, g.edge_index, g.edge_weight), model(g.x, g))
    with pytest.raises(ValueError, match="conv must be"):
        GNN(12, 8, 3, conv="gin")
