"""Several augmented passes in one: the batched paths give what separate passes give."""
import math

import pytest
import torch

from graphbias.augment.augmenter import LocalAugmenter
from graphbias.augment.generator import ConditionalVAE
from graphbias.augment.models import (LAGNN, Workspace, _keep_mask, consistency_loss,
                                      input_dropout, sample_union, stack_rows)
from graphbias.data.graph import Graph
from graphbias.data.synthetic.graphs import sbm
from graphbias.data.transforms import gcn_norm, gcn_norm_key
from graphbias.ops.csr import CSR


@pytest.fixture(scope="module")
def graph():
    return sbm([30, 30], 0.15, 0.03, num_features=6, seed=2)


def _csr(dense):
    return CSR.from_torch(dense.to_sparse_csr())


# --------------------------------------------------------------------- masks
@pytest.mark.parametrize("p", [0.5, 0.6, 0.25, 0.9])
def test_keep_mask_is_unbiased_dropout(p):
    torch.manual_seed(0)
    n = 400_000
    mask = _keep_mask((n,), p)
    kept = mask > 0
    q = 1 - math.ceil(p * 2 ** 16) / 2 ** 16
    assert abs(q - (1 - p)) <= 2 ** -16
    rate = float(kept.float().mean())
    assert abs(rate - q) < 5 * math.sqrt(q * (1 - q) / n)
    torch.testing.assert_close(mask[kept], torch.full((int(kept.sum()),), 1 / q))
    # neighbouring entries (bits of one word, halves of one draw) are independent
    pairs = kept.view(-1, 2).float()
    assert abs(float((pairs[:, 0] * pairs[:, 1]).mean()) - q * q) < 0.01


def test_half_mask_uses_every_bit_position():
    torch.manual_seed(1)
    mask = _keep_mask((31 * 4000,), 0.5).view(-1, 31)
    rates = (mask > 0).float().mean(0)
    assert rates.min() > 0.45 and rates.max() < 0.55


def test_input_dropout_paths():
    torch.manual_seed(0)
    x = torch.rand(50, 20) + 0.1
    assert input_dropout(x, 0.5, False) is x and input_dropout(x, 0.0, True) is x
    out = input_dropout(x, 0.5, True)
    assert out is not x and set(torch.unique(out / x).tolist()) == {0.0, 2.0}
    owned = x.clone()
    ws = Workspace()
    assert input_dropout(owned, 0.5, True, ws) is owned     # overwritten in place
    sparse = _csr(torch.eye(20))
    dropped = input_dropout(sparse, 0.5, True)
    assert dropped.nnz == 20 and set(dropped.values.tolist()) <= {0.0, 2.0}
    with pytest.raises(ValueError, match="dropout probability"):
        input_dropout(x, 1.0, True)


def test_workspace_reuses_memory_and_grows():
    ws = Workspace()
    a = ws.buffer("a", 10, torch.float32, torch.device("cpu"))
    assert ws.buffer("a", 8, torch.float32, torch.device("cpu")).data_ptr() == a.data_ptr()
    assert ws.buffer("a", 20, torch.float32, torch.device("cpu")).numel() == 20
    assert ws.buffer("a", 20, torch.int32, torch.device("cpu")).dtype == torch.int32


# ------------------------------------------------------------ graph and rows
def test_stack_rows_dense_and_sparse():
    x = torch.tensor([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    assert torch.equal(stack_rows(x, 3), torch.cat([x, x, x]))
    assert stack_rows(x, 1) is x
    stacked = stack_rows(_csr(x), 3)
    assert stacked.shape == (6, 3) and torch.equal(stacked.to_dense(), torch.cat([x, x, x]))


def test_sample_union_is_disjoint_and_cached(graph):
    union = sample_union(graph, 3)
    n, e = graph.num_nodes, graph.num_edges
    assert union.num_nodes == 3 * n and union.num_edges == 3 * e
    assert sample_union(graph, 3) is union and sample_union(graph, 1) is graph
    src, dst = union.edge_index
    assert torch.equal(src // n, dst // n)          # no edge between copies
    assert torch.equal(union.edge_index[:, e:2 * e] - n, graph.edge_index)


def test_sample_union_keeps_a_seeded_normalisation():
    """A part of a larger graph carries the larger graph's GCN normalisation (as in
    data-parallel training): the union must propagate with it, not recompute it."""
    part = Graph(torch.tensor([[0, 1], [1, 0]]), 2)
    seeded = CSR.from_coo(torch.tensor([0, 1]), torch.tensor([1, 0]), (2, 2),
                          torch.tensor([0.25, 0.75]))
    part.cached(gcn_norm_key(), lambda: seeded)
    union = sample_union(part, 2)
    dense = gcn_norm(union).to_dense()
    block = seeded.to_dense()
    torch.testing.assert_close(dense, torch.block_diag(block, block))


# ------------------------------------------------------------------ forward
def _separate_and_batched(model, x, graph, passes, generated):
    batched = model(x, [torch.cat(g) for g in generated], graph, n_samples=passes)
    separate = torch.stack([model(x, [g[s] for g in generated], graph)
                            for s in range(passes)])
    return batched, separate


@pytest.mark.parametrize("conv", ["gcn", "sage", "gat"])
@pytest.mark.parametrize("sparse", [False, True])
def test_batched_passes_equal_separate_passes(graph, conv, sparse):
    torch.manual_seed(0)
    x = torch.as_tensor(graph.x).float()
    features = _csr(x) if sparse else x
    generated = [[torch.rand_like(x) for _ in range(3)] for _ in range(2)]
    model = LAGNN(conv, 6, 4, 3, n_generated=2, heads=2, dropout=0.0)
    for training in (False, True):     # dropout 0: training differs by nothing random
        model.train(training)
        batched, separate = _separate_and_batched(model, features, graph, 3, generated)
        assert batched.shape == (3, 60, 3)
        torch.testing.assert_close(batched, separate, rtol=1e-5, atol=1e-6)


def test_batched_passes_with_a_pyg_conv(graph):
    pyg = pytest.importorskip("torch_geometric.nn")
    torch.manual_seed(0)
    x = torch.as_tensor(graph.x).float()
    generated = [[torch.rand_like(x) for _ in range(4)]]
    model = LAGNN(pyg.GCNConv, 6, 4, 3, dropout=0.0).eval()
    batched, separate = _separate_and_batched(model, x, graph, 4, generated)
    torch.testing.assert_close(batched, separate, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
def test_features_stacked_once_give_what_stacking_every_pass_gives(graph, sparse):
    x = torch.as_tensor(graph.x).float()
    features = _csr(x) if sparse else x
    generated = [torch.rand(3 * 60, 6)]
    model = LAGNN("gcn", 6, 4, 3)
    for training in (True, False):     # training: same dropout draws either way
        model.train(training)
        torch.manual_seed(1)
        plain = model(features, [generated[0].clone()], graph, n_samples=3)
        torch.manual_seed(1)
        stacked = model(stack_rows(features, 3), [generated[0].clone()], graph,
                        n_samples=3)
        assert torch.equal(plain, stacked)
    with pytest.raises(ValueError, match=r"x needs 60 rows .* or 3 x 60"):
        model(torch.cat([x, x]), generated, graph, n_samples=3)


def test_batched_training_pass_backpropagates_through_a_workspace(graph):
    torch.manual_seed(0)
    x = torch.as_tensor(graph.x).float()
    model = LAGNN("gcn", 6, 4, 3, n_generated=2).train()
    ws = Workspace()
    for _ in range(2):       # the second step reuses the first step's memory
        block = torch.rand(2 * 3 * 60, 6)
        out = model(x, list(block.chunk(2)), graph, n_samples=3, workspace=ws)
        out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    with pytest.raises(ValueError, match="3 x 60 rows"):
        model(x, [x, x], graph, n_samples=3)


def test_consistency_loss_of_a_stacked_tensor_equals_the_list():
    torch.manual_seed(0)
    probs = torch.softmax(torch.randn(4, 10, 3), dim=2)
    torch.testing.assert_close(consistency_loss(probs, 0.5),
                               consistency_loss(list(probs), 0.5))
    torch.testing.assert_close(consistency_loss(probs, 0.5, "none"),
                               consistency_loss(list(probs), 0.5, "none"))


# -------------------------------------------------------------------- draws
def test_draw_stacked_decodes_the_codes_of_separate_draws(graph):
    aug = LocalAugmenter(max_epochs=1, hidden_channels=8, random_state=0).fit(graph)
    sampler = aug.conditioned(graph.x)
    stacked = sampler.draw_stacked(3, torch.Generator().manual_seed(5))
    separate = sampler.draw(3, torch.Generator().manual_seed(5))
    torch.testing.assert_close(stacked, torch.cat(separate), rtol=1e-6, atol=1e-7)
    # the codes of a matrix do not depend on how many are drawn with it
    one = sampler.codes(1, torch.Generator().manual_seed(5))
    assert torch.equal(sampler.codes(3, torch.Generator().manual_seed(5))[:60], one)
    rows = torch.tensor([4, 17, 33])
    part = sampler.draw_stacked(3, torch.Generator().manual_seed(5), rows)
    torch.testing.assert_close(part.view(3, 3, -1), stacked.view(3, 60, -1)[:, rows],
                               rtol=1e-6, atol=1e-7)
    out = torch.empty(3 * 60 * 6)
    written = sampler.decode(sampler.codes(3, torch.Generator().manual_seed(5)), out=out)
    assert written.data_ptr() == out.data_ptr()
    torch.testing.assert_close(written, stacked)


def test_decode_shares_one_block_of_conditions_across_blocks_of_codes():
    torch.manual_seed(0)
    vae = ConditionalVAE(6, latent_size=3, hidden_channels=8)
    z, c = torch.randn(12, 3), torch.rand(4, 6)
    condition = vae.condition(c)
    # three blocks of four codes get the same four conditions, as a repeated copy
    assert torch.equal(vae.decode(z, condition), vae.decode(z, condition.repeat(3, 1)))
    with pytest.raises(ValueError, match="not a multiple of the 5 rows"):
        vae.decode(z, vae.condition(torch.rand(5, 6)))


def test_half_mask_is_the_bits_of_the_drawn_words():
    torch.manual_seed(3)
    mask = input_dropout(torch.ones(4, 31), 0.5, True, Workspace())
    torch.manual_seed(3)
    words = torch.randint(-2 ** 63, 2 ** 63 - 1, (2,)).view(torch.int32)[:4]
    # entry j of row w is 2.0 exactly when bit j of word w is set
    bits = (words.unsqueeze(1) >> torch.arange(31, dtype=torch.int32)) & 1
    assert torch.equal(mask, 2.0 * bits.float())
