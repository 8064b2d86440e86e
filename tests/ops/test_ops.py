import os
import subprocess
import sys

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
     "x is a meta tensor"),
    (lambda: ops.scatter(torch.ones(3), torch.tensor([0, 1, 1], device="meta"), 3),
     "one device"),
    # meta tensors have no data to check
    (lambda: ops.scatter(torch.ones(3, device="meta"), torch.tensor([0, 1, 1], device="meta"),
                         3), "src is a meta tensor"),
    (lambda: ops.segment_csr(torch.ones(4, device="meta"), torch.tensor([0, 4], device="meta")),
     "src is a meta tensor"),
    (lambda: ops.spmm(CSR(torch.tensor([0, 1], device="meta"), torch.tensor([0], device="meta"),
                          (1, 1)), torch.ones(1, 2, device="meta")), "x is a meta tensor"),
    (lambda: ops.softmax_csr(torch.ones(120, device="meta"), random_csr()),
     "src is a meta tensor"),
    # 0-d inputs
    (lambda: ops.scatter(torch.tensor(1.0), torch.tensor([0]), 1), "at least one dimension"),
    (lambda: ops.segment_csr(torch.tensor(1.0), torch.tensor([0, 1])), "at least one dimension"),
    (lambda: ops.spmm(random_csr(), torch.tensor(1.0, dtype=torch.float64)),
     "at least one dimension"),
    (lambda: ops.scatter(torch.ones(3), torch.tensor(0), 3), "one-dimensional"),
    (lambda: ops.segment_csr(torch.ones(3), torch.tensor(3)), "1-D"),
    # dim out of range is an error, never wrapped
    (lambda: ops.scatter(torch.ones(2, 3), torch.tensor([0, 1, 1]), 2, dim=2),
     r"dim must be an integer in \[-2, 1\], got 2"),
    (lambda: ops.scatter(torch.ones(2, 3), torch.tensor([0, 1]), 2, dim=-3), "dim must be"),
    (lambda: ops.scatter(torch.ones(2, 3), torch.tensor([0, 1]), 2, dim=True), "dim must be"),
    (lambda: ops.scatter(torch.ones(2, 3), torch.tensor([0, 1]), 2, dim=0.0), "dim must be"),
    # dim_size
    (lambda: ops.scatter(torch.ones(0), torch.tensor([], dtype=torch.long), -1),
     "dim_size must be an integer >= 0"),
    (lambda: ops.scatter(torch.ones(0, 3), torch.tensor([], dtype=torch.long), -5, "max"),
     "dim_size must be"),
    (lambda: ops.scatter(torch.ones(2), torch.tensor([0, 1]), 2.0), "dim_size must be"),
    (lambda: ops.scatter(torch.ones(2), torch.tensor([0, 1]), True), "dim_size must be"),
    (lambda: ops.scatter(torch.ones(2), torch.tensor([0, 1]), 2, deterministic="yes"),
     "deterministic must be"),
    # where a bad entry is
    (lambda: ops.scatter(torch.ones(4), torch.tensor([0, 1, 7, 8]), 3), "at position 2"),
    (lambda: ops.scatter(torch.ones(4), torch.tensor([0, 1, 0, -2]), 3), "at position 3"),
    (lambda: ops.segment_csr(torch.ones(4), torch.tensor([0, 3, 2, 4])), "after position 1"),
    (lambda: ops.spmm(CSR(torch.tensor([0, 1, 3]), torch.tensor([0, 1, 7]), (2, 3)),
                      torch.ones(3, 2)), "first bad entry: 2"),
    # devices and dtypes
    (lambda: ops.segment_csr(torch.ones(4), torch.tensor([0, 4], device="meta")), "one device"),
    (lambda: ops.spmm(CSR(torch.tensor([0, 1]), torch.tensor([0], device="meta"), (1, 1)),
                      torch.ones(1, 2)), "one device"),
    (lambda: ops.spmm(random_csr().with_values(torch.ones(120, device="meta",
                                                          dtype=torch.float64)),
                      torch.ones(20, 2, dtype=torch.float64)), "one device"),
    (lambda: ops.spmm(random_csr().with_values(torch.ones(120, dtype=torch.long)),
                      torch.ones(20, 2)), "values are torch.int64"),
    (lambda: ops.spmm(random_csr().with_values(torch.ones(120, 2, dtype=torch.float64)),
                      torch.ones(20, 2, dtype=torch.float64)), r"need x of shape \[N, 2, C\]"),
    (lambda: ops.spmm(random_csr().with_values(torch.ones(120, 2, 2, dtype=torch.float64)),
                      torch.ones(20, 2, 2, dtype=torch.float64)), r"\[nnz\] or \[nnz, H\]"),
    (lambda: ops.spmm(CSR(torch.tensor([0, 1], dtype=torch.int32), torch.tensor([0]), (1, 1)),
                      torch.ones(1, 2)), "1-D int64"),
    (lambda: ops.softmax_csr(torch.ones(119), random_csr()), "119 entries"),
])
def test_bad_input_is_rejected(call, match, backend):
    with pytest.raises(ValueError, match=match):
        call()


def test_negative_dim_counts_from_the_end():
    src = torch.randn(3, 5, dtype=torch.float64)
    index = torch.tensor([0, 2, 2, 1, 0])
    for reduce in REDUCES:
        assert torch.equal(ops.scatter(src, index, 3, reduce, dim=-1),
                           ops.scatter(src, index, 3, reduce, dim=1))


def test_empty_input_with_dim_size(backend):
    out = ops.scatter(torch.ones(0, 2), torch.tensor([], dtype=torch.long), 3, "max")
    assert out.shape == (3, 2) and out.abs().sum() == 0
    assert ops.scatter(torch.ones(0), torch.tensor([], dtype=torch.long)).shape == (0,)


# ------------------------------------------------------- a CSR changed after its check

def test_validation_is_cached_until_the_structure_changes(monkeypatch):
    csr = random_csr()
    x = torch.randn(20, 3, dtype=torch.float64)
    calls = []
    check = CSR._check_structure
    monkeypatch.setattr(CSR, "_check_structure", lambda self: calls.append(1) or check(self))
    ops.spmm(csr, x)
    ops.spmm(csr.with_values(csr.values * 2), x)
    assert len(calls) == 1
    csr.indices[0] = (csr.indices[0] + 1) % 20  # in place, still in range
    out = ops.spmm(csr, x, "max")
    assert len(calls) == 2
    assert torch.equal(out, naive_spmm(csr, x, "max"))
    csr.indptr = csr.indptr.clone()  # replaced
    ops.spmm(csr, x)
    assert len(calls) == 3


def test_checked_csr_compiles_without_graph_breaks():
    """Traced code cannot compare storage addresses: a CSR checked eagerly is
    trusted while ``torch.compile`` traces, and the compiled product is exact."""
    csr = random_csr(dtype=torch.float32)
    x = torch.randn(20, 3, requires_grad=True)
    ops.spmm(csr, x).sum().backward()  # eager: checks and builds the transpose
    fn = lambda x: ops.spmm(csr, x, "sum")  # noqa: E731
    assert torch._dynamo.explain(fn)(x).graph_break_count == 0
    out = torch.compile(fn, backend="eager")(x)
    ref = reference.spmm(csr, x, "sum")
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(torch.autograd.grad(out.sum(), x)[0],
                               torch.autograd.grad(ref.sum(), x)[0])


def test_in_place_change_drops_the_derived_structures():
    csr = random_csr()
    x = torch.randn(20, 4, dtype=torch.float64, requires_grad=True)
    ops.spmm(csr, x).sum().backward()  # builds and caches the transpose
    before = csr.transpose_structure()
    csr.indices.copy_(torch.randint(0, 20, (csr.nnz,), generator=torch.Generator().manual_seed(9)))
    out = ops.spmm(csr, x)
    assert csr.transpose_structure() is not before
    grad = torch.randn_like(out)
    ref = reference.spmm(csr, x, "sum")
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(torch.autograd.grad(out, x, grad)[0],
                               torch.autograd.grad(ref, x, grad)[0])


CORRUPTIONS = {
    "indices": "csr.indices[3] = 10 ** 9",
    "negative": "csr.indices[0] = -(10 ** 9)",
    "indptr": "csr.indptr[5] = 10 ** 9",
    "replaced": "csr.indices = torch.full_like(csr.indices, 10 ** 9)",
    "transpose_parent": "t = csr.t(); ops.spmm(t, y).sum().backward(); "
                        "csr.indices.fill_(10 ** 9); ops.spmm(t, y).sum().backward(); "
                        "print('transpose rebuilt')",
}

CHILD = """
import sys
import torch
from graphbias import ops
from graphbias.ops import CSR

for case, corrupt in CASES.items():
    g = torch.Generator().manual_seed(0)
    csr = CSR.from_coo(torch.randint(0, 30, (200,), generator=g),
                       torch.randint(0, 20, (200,), generator=g), (30, 20))
    x = torch.randn(20, 8, requires_grad=True)
    y = torch.randn(30, 8, requires_grad=True)
    ops.spmm(csr, x, "max").sum().backward()  # validated, transpose cached
    exec(corrupt)
    try:
        ops.spmm(csr, x, "max").sum().backward()
        print(case, "no error")
    except ValueError as err:
        print(case, "ValueError:", err)
    sys.stdout.flush()
"""


@pytest.mark.parametrize("backend_name", ["compiled", "torch"])
def test_corrupted_csr_raises_instead_of_crashing(backend_name):
    """A CSR whose structure is corrupted in place after a first (validated) product
    is checked again before the next one, so no kernel reads out of bounds. Run in
    a child process, so that a regression (a crash) fails this test instead of
    killing the test session."""
    if backend_name == "compiled" and not ops._compiled.AVAILABLE:
        pytest.skip("graphbias._C not built")
    script = f"CASES = {CORRUPTIONS!r}\n" + CHILD
    env = {**os.environ, "GRAPHBIAS_BACKEND": backend_name, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=600)
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr[-2000:])
    lines = result.stdout.splitlines()
    assert "transpose rebuilt" in lines
    outcomes = dict(line.split(" ", 1) for line in lines if line != "transpose rebuilt")
    assert set(outcomes) == set(CORRUPTIONS)
    for case, outcome in outcomes.items():
        assert outcome.startswith("ValueError: CSR "), (case, outcome)
