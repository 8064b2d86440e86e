import pytest
import torch

from graphbias.data import Graph
from graphbias.nn import DiffusionConv, GraphGRUCell, random_walk_transitions


def weighted_graph():
    g = torch.Generator().manual_seed(0)
    ei = torch.tensor([[0, 0, 1, 2, 3, 4, 4], [1, 2, 2, 3, 0, 0, 3]])
    return Graph(ei, 5, edge_weight=torch.rand(7, generator=g) + 0.1)


def dense_reference(conv, x, graph):
    n = graph.num_nodes
    W = torch.zeros(n, n)
    W[graph.edge_index[0], graph.edge_index[1]] = graph.edge_weight
    pf = W / W.sum(1, keepdim=True).clamp(min=1e-12)          # D_O^-1 W
    pb = W.T / W.T.sum(1, keepdim=True).clamp(min=1e-12)      # D_I^-1 W^T
    terms = [x]
    for p in (pf, pb):
        h = x
        for _ in range(conv.k):
            h = torch.einsum("ij,j...->i...", p, h)
            terms.append(h)
    return conv.lin(torch.cat(terms, -1))


def test_transitions_are_row_stochastic_where_nodes_have_edges():
    graph = weighted_graph()
    fwd, bwd = random_walk_transitions(graph)
    assert torch.allclose(fwd.to_dense().sum(1), (graph.out_degree() > 0).float())
    assert torch.allclose(bwd.to_dense().sum(1), (graph.in_degree() > 0).float())
    assert bwd.to_dense()[4].sum() == 0  # node 4 has no in-edges


def test_diffusion_conv_matches_dense_reference_and_gradients():
    graph = weighted_graph()
    torch.manual_seed(0)
    conv = DiffusionConv(3, 4, k=3)
    x = torch.randn(5, 2, 3, requires_grad=True)
    out = conv(x, graph)
    ref = dense_reference(conv, x, graph)
    assert torch.allclose(out, ref, atol=1e-5)
    g1, = torch.autograd.grad(out.square().sum(), x)
    g2, = torch.autograd.grad(ref.square().sum(), x)
    assert torch.allclose(g1, g2, atol=1e-4)


def test_gcn_normalization_is_a_polynomial_of_the_gcn_shift():
    from graphbias.data.synthetic.gpvar import gcn_shift, triangle_communities

    graph = triangle_communities(2)
    torch.manual_seed(0)
    conv = DiffusionConv(3, 4, k=2, normalization="gcn")
    x = torch.randn(graph.num_nodes, 2, 3)
    s = torch.as_tensor(gcn_shift(graph), dtype=torch.float32)
    sx = torch.einsum("ij,j...->i...", s, x)
    ref = conv.lin(torch.cat([x, sx, torch.einsum("ij,j...->i...", s, sx)], -1))
    assert torch.allclose(conv(x, graph), ref, atol=1e-5)
    assert "normalization='gcn'" in repr(conv)


def test_unknown_normalization_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="normalization must be one of"):
        DiffusionConv(3, 4, normalization="sym")


def test_graph_gru_cell_matches_manual_gru_equations():
    graph = weighted_graph()
    torch.manual_seed(0)
    cell = GraphGRUCell(2, 3, k=1)
    x, h = torch.randn(5, 2), torch.randn(5, 3)
    r, u = torch.sigmoid(dense_reference(cell.gates, torch.cat([x, h], -1), graph)).chunk(2, -1)
    c = torch.tanh(dense_reference(cell.candidate, torch.cat([x, r * h], -1), graph))
    assert torch.allclose(cell(x, h, graph), u * h + (1 - u) * c, atol=1e-5)


def test_random_walk_refuses_negative_weights():
    """A negative weight would make a degree (and so every transition of its row)
    wrong without an error; the walk names the edge instead."""
    g = Graph(torch.tensor([[0, 1, 1], [1, 0, 2]]), 3,
              edge_weight=torch.tensor([1.0, 2.0, -0.5]))
    with pytest.raises(ValueError, match=r"random_walk_transitions needs non-negative "
                                         r"edge weights.*edge 2 \(1 -> 2\)"):
        random_walk_transitions(g)
    conv = DiffusionConv(2, 3, normalization="random_walk")
    with pytest.raises(ValueError, match="non-negative"):
        conv(torch.ones(3, 2), g)
