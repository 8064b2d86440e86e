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


def test_edge_index_input_is_accepted():
    g = random_graph()
    conv = GCNConv(12, 4)
    assert torch.allclose(conv(g.x, g.edge_index), conv(g.x, g), atol=1e-6)


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


@pytest.mark.parametrize("conv", ["gcn", "sage", "gat"])
def test_gnn_stack_shapes(conv):
    g = random_graph()
    model = GNN(12, 8, 3, num_layers=3, conv=conv, heads=2)
    assert model(g.x, g).shape == (40, 3)
    with pytest.raises(ValueError, match="conv must be"):
        GNN(12, 8, 3, conv="gin")
