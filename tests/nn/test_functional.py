import pytest
import torch
import torch.nn.functional as F

from graphbias.nn.functional import as_features, dropout
from graphbias.ops.csr import CSR


def test_dense_dropout_matches_torch_distribution():
    torch.manual_seed(0)
    x = torch.ones(400, 500)
    ours, ref = dropout(x, 0.3, True), F.dropout(x, 0.3, True)
    for out in (ours, ref):
        kept = out != 0
        assert abs(kept.float().mean().item() - 0.7) < 0.01
        assert torch.allclose(out[kept], torch.full_like(out[kept], 1 / 0.7))
    assert abs(ours.mean().item() - 1.0) < 0.01


def test_dense_dropout_gradient_is_the_mask():
    x = torch.randn(50, 40, requires_grad=True)
    out = dropout(x, 0.5, True)
    out.sum().backward()
    assert torch.equal(x.grad, (out.detach() != 0).float() * 2.0)


def test_dropout_is_seeded_by_the_global_generator():
    x = torch.ones(30, 30)
    torch.manual_seed(3)
    a = dropout(x, 0.5, True)
    torch.manual_seed(3)
    assert torch.equal(a, dropout(x, 0.5, True))
    assert not torch.equal(a, dropout(x, 0.5, True))


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout_edge_probabilities(p):
    x = torch.randn(10, 10)
    assert torch.equal(dropout(x, p, True), x * (1 - p))
    assert dropout(x, 0.5, False) is x


def test_sparse_dropout_touches_stored_entries_only():
    dense = (torch.rand(60, 80) < 0.1).float()
    x = as_features(dense.to_sparse_csr())
    assert isinstance(x, CSR)
    out = dropout(x, 0.5, True).to_dense()
    assert ((out != 0) <= (dense != 0)).all()
    assert set(out.unique().tolist()) <= {0.0, 2.0}


def test_bad_probability_is_a_clear_error():
    with pytest.raises(ValueError, match=r"dropout probability must be in \[0, 1\]"):
        dropout(torch.ones(3, 3), 1.5, True)
