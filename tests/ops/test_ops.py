import pytest
import torch
from hypothesis import given, settings, strategies as st

from graphbias import ops
from graphbias.ops import CSR, reference

REDUCES = ["sum", "mean", "max", "min"]


def random_csr(n_rows=30, n_cols=20, nnz=120, weighted=True, seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    row = torch.randint(0, n_rows, (nnz,), generator=gen)
    col = torch.randint(0, n_cols, (nnz,), generator=gen)
    values = torch.rand(nnz, generator=gen, dtype=dtype) if weighted else None
    return CSR.from_coo(row, col, (n_rows, n_cols), values)


def naive_spmm(csr, x, reduce):
    """Row by row, in Python: the definition."""
    rows = []
    for i in range(csr.num_rows):
        lo, hi = int(csr.indptr[i]), int(csr.indptr[i + 1])
        if lo == hi:
            rows.append(torch.zeros_like(x[0]))
            continue
        msgs = x[csr.indices[lo:hi]]
        if csr.values is not None:
            msgs = msgs * csr.values[lo:hi].view(-1, *([1] * (x.dim() - 1)))
        rows.append({"sum": msgs.sum(0), "mean": msgs.mean(0),
                     "max": msgs.max(0).values, "min": msgs.min(0).values}[reduce])
    return torch.stack(rows)


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("weighted", [True, False])
def test_spmm_matches_definition(reduce, weighted):
    csr = random_csr(weighted=weighted)
    x = torch.randn(20, 5, dtype=torch.float64)
    expected = naive_spmm(csr, x, reduce)
    assert torch.allclose(ops.spmm(csr, x, reduce), expected)
    assert torch.allclose(reference.spmm(csr, x, reduce), expected)


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_spmm_backward_matches_reference(reduce):
    csr = random_csr(dtype=torch.float32)
    values = csr.values.clone().requires_grad_()
    x = torch.randn(20, 7, requires_grad=True)
    out = ops.spmm(csr.with_values(values), x, reduce)
    grad = torch.randn_like(out)
    gx, gv = torch.autograd.grad(out, (x, values), grad)
    out_ref = reference.spmm(csr.with_values(values), x, reduce)
    rx, rv = torch.autograd.grad(out_ref, (x, values), grad)
    assert torch.allclose(gx, rx, atol=1e-5)
    assert torch.allclose(gv, rv, atol=1e-5)


def test_spmm_gradcheck_float64():
    csr = random_csr(n_rows=8, n_cols=6, nnz=20)
    values = csr.values.clone().requires_grad_()
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v, x: ops.spmm(csr.with_values(v), x), (values, x))
    assert torch.autograd.gradcheck(lambda v, x: ops.spmm(csr.with_values(v), x, "mean"),
                                    (values, x))


def test_spmm_multi_head_values():
    csr = random_csr(dtype=torch.float32)
    heads = torch.rand(csr.nnz, 3, requires_grad=True)
    x = torch.randn(20, 3, 4, requires_grad=True)
    out = ops.spmm(csr.with_values(heads), x)
    ref = reference.spmm(csr.with_values(heads), x, "sum")
    assert out.shape == (30, 3, 4)
    assert torch.allclose(out, ref, atol=1e-5)
    g = torch.randn_like(out)
    for a, b in zip(torch.autograd.grad(out, (heads, x), g),
                    torch.autograd.grad(ref, (heads, x), g)):
        assert torch.allclose(a, b, atol=1e-5)


def test_spmm_empty_rows_and_duplicates():
    row = torch.tensor([0, 0, 0, 3])
    col = torch.tensor([1, 1, 2, 0])
    csr = CSR.from_coo(row, col, (5, 3))
    x = torch.tensor([[1.0], [2.0], [-3.0]])
    assert ops.spmm(csr, x).view(-1).tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]
    assert ops.spmm(csr, x, "max").view(-1).tolist() == [2.0, 0.0, 0.0, 1.0, 0.0]
    assert ops.spmm(csr, x, "mean").view(-1).tolist() == [pytest.approx(1 / 3), 0, 0, 1, 0]


def test_spmm_non_contiguous_and_wide():
    csr = random_csr(dtype=torch.float32)
    x = torch.randn(300, 20).t()  # non-contiguous [20, 300]
    assert torch.allclose(ops.spmm(csr, x), reference.spmm(csr, x, "sum"), atol=1e-4)


@pytest.mark.parametrize("reduce", REDUCES)
def test_scatter_and_segment_agree(reduce):
    src = torch.randn(50, 4, dtype=torch.float64)
    index = torch.sort(torch.randint(0, 10, (50,))).values
    indptr = torch.zeros(11, dtype=torch.long)
    indptr[1:] = torch.cumsum(torch.bincount(index, minlength=10), 0)
    a = ops.scatter(src, index, 10, reduce)
    b = ops.segment_csr(src, indptr, reduce)
    assert torch.equal(a, b) if reduce in ("max", "min") else torch.allclose(a, b)


def test_scatter_other_dim_and_unsorted():
    src = torch.tensor([[1.0, 5.0, 2.0]])
    out = ops.scatter(src, torch.tensor([1, 0, 1]), 2, "max", dim=1)
    assert out.tolist() == [[5.0, 2.0]]


def test_transpose_is_cached_and_correct():
    csr = random_csr()
    t = csr.t()
    assert torch.equal(t.to_dense(), csr.to_dense().t())
    assert torch.equal(t.t().to_dense(), csr.to_dense())
    assert csr.transpose_structure() is csr.transpose_structure()
    assert csr.with_values(None).transpose_structure() is csr.transpose_structure()


@pytest.mark.parametrize("call, match", [
    (lambda: ops.scatter(torch.ones(3), torch.tensor([0, 1, 5]), 3), "out of range"),
    (lambda: ops.scatter(torch.ones(3), torch.tensor([0, -1, 1]), 3), "negative"),
    (lambda: ops.scatter(torch.ones(3), torch.tensor([0, 1]), 3), "entries"),
    (lambda: ops.scatter(torch.ones(3), torch.tensor([0.0, 1, 1]), 3), "int64"),
    (lambda: ops.scatter(torch.ones(3, dtype=torch.long), torch.tensor([0, 1, 1]), 3),
     "floating"),
    (lambda: ops.scatter(torch.ones(3), torch.tensor([0, 1, 1]), 3, "prod"), "reduce"),
    (lambda: ops.segment_csr(torch.ones(4), torch.tensor([0, 3, 2, 4])), "non-decreasing"),
    (lambda: ops.segment_csr(torch.ones(4), torch.tensor([0, 2, 5])), "ends at"),
    (lambda: ops.segment_csr(torch.ones(4), torch.tensor([1, 2, 4])), "start at 0"),
    (lambda: ops.spmm(random_csr(), torch.ones(7, 2, dtype=torch.float64)), "rows"),
    (lambda: ops.spmm(random_csr(), torch.ones(20, 2)), "float64"),
    (lambda: ops.spmm("nope", torch.ones(20, 2)), "CSR"),
    (lambda: ops.spmm(CSR(torch.tensor([0, 2, 1, 3]), torch.tensor([0, 1, 2]), (3, 3)),
                      torch.ones(3, 2)), "non-decreasing"),
    (lambda: ops.spmm(CSR(torch.tensor([0, 1, 3]), torch.tensor([0, 1, 7]), (2, 3)),
                      torch.ones(3, 2)), "column ids"),
    (lambda: ops.spmm(CSR(torch.tensor([0, 1, 4]), torch.tensor([0, 1, 2]), (2, 3)),
                      torch.ones(3, 2)), "from 0 to nnz"),
    (lambda: ops.spmm(CSR(torch.tensor([0, 1]), torch.tensor([0]), (3, 3)),
                      torch.ones(3, 2)), "expected 4"),
    (lambda: ops.spmm(random_csr(), torch.ones(20, 2, dtype=torch.float64, device="meta")),
     "one device"),
    (lambda: ops.scatter(torch.ones(3), torch.tensor([0, 1, 1], device="meta"), 3),
     "one device"),
])
def test_bad_input_is_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_backend_env(monkeypatch):
    from graphbias.ops import _compiled

    assert ops.backend() == ("compiled" if _compiled.AVAILABLE else "torch")
    monkeypatch.setenv("GRAPHBIAS_BACKEND", "torch")
    assert ops.backend() == "torch"
    monkeypatch.setenv("GRAPHBIAS_BACKEND", "bogus")
    with pytest.raises(ValueError, match="GRAPHBIAS_BACKEND"):
        ops.backend()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), m=st.integers(1, 12), nnz=st.integers(0, 40),
       feat=st.integers(1, 5), reduce=st.sampled_from(REDUCES),
       weighted=st.booleans(), seed=st.integers(0, 2**16))
def test_spmm_property(n, m, nnz, feat, reduce, weighted, seed):
    csr = random_csr(n, m, nnz, weighted, seed)
    x = torch.randn(m, feat, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    out = ops.spmm(csr, x, reduce)
    expected = naive_spmm(csr, x, reduce)
    if reduce in ("max", "min"):
        assert torch.equal(out, expected)
    else:
        assert torch.allclose(out, expected)
