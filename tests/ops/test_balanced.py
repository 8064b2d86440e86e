"""The hub-balanced CUDA path (graphbias.ops._balanced, cuda_ext/cuda/split.cuh).

Without a GPU: the split plan's properties; the three passes of the split kernels
(rows, pieces, combine) emulated in Python with the kernels' own index arithmetic
and compared with the one-pass kernels; the dispatch and autograd around the split
kernels, run on the CPU with the emulation in place of the CUDA kernels. With a GPU
(tests named *_cuda): the kernels themselves against the one-pass kernels, the
emulation and the reference, and their determinism.
"""
from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

from graphbias import ops
from graphbias.ops import CSR, _balanced, _compiled, reference
from graphbias.ops._balanced import (SplitKernels, SplitPlan, chunk_size, piece_bounds, plan_for,
                                     plan_rows)

REDUCES = ["sum", "mean", "max", "min"]
COMPILED = pytest.mark.skipif(not _compiled.AVAILABLE, reason="graphbias._C not built")
CUDA = pytest.mark.skipif(not torch.cuda.is_available() or _balanced.KERNELS is None,
                          reason="no CUDA device or no CUDA kernels built")


def indptr_of(degrees) -> torch.Tensor:
    return torch.tensor([0, *itertools.accumulate(degrees)], dtype=torch.long)


def hub_csr(seed: int, weighted: bool = True, heads: int = 0, rows: int = 40, cols: int = 30,
            hubs=(150, 70), dtype=torch.float64, device="cpu") -> CSR:
    """Few entries per row but two long rows, and half the entries in column 0 (a long
    row of the transpose)."""
    gen = torch.Generator().manual_seed(seed)
    deg = torch.randint(0, 4, (rows,), generator=gen)
    deg[3], deg[rows - 5] = hubs
    row = torch.repeat_interleave(torch.arange(rows), deg)
    col = torch.randint(0, cols, (row.numel(),), generator=gen)
    col[torch.rand(row.numel(), generator=gen) < 0.5] = 0
    shape = (row.numel(), heads) if heads else (row.numel(),)
    values = torch.rand(shape, generator=gen, dtype=dtype) + 0.1 if weighted else None
    csr = CSR.from_coo(row, col, (rows, cols), values)
    if device == "cpu":
        return csr
    move = lambda t: None if t is None else t.to(device)  # noqa: E731
    return CSR(move(csr.indptr), move(csr.indices), csr.shape, move(csr.values))


def tied_x(n: int, width: int, seed: int, special: bool, dtype=torch.float64, device="cpu"):
    """Small integers (many ties across pieces), with NaN and +-inf where asked."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(-3, 4, (n, width), generator=gen).to(dtype)
    if special:
        flat = x.view(-1)
        for value in (math.nan, math.inf, -math.inf):
            flat[torch.randperm(flat.numel(), generator=gen)[:max(1, flat.numel() // 40)]] = value
    return x.to(device)


# ------------------------------------------------------------------- the plan
def pieces_by_hand(degrees, chunk):
    """The pieces of the module docstring, written out with Python integers."""
    out, lo = [], 0
    for r, d in enumerate(degrees):
        if d > chunk:
            out += [(r, lo + k * chunk, min(lo + (k + 1) * chunk, lo + d))
                    for k in range(-(-d // chunk))]
        lo += d
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=30), st.integers(1, 12))
def test_plan_covers_every_entry_exactly_once(degrees, chunk):
    indptr = indptr_of(degrees)
    plan = plan_rows(indptr, chunk)
    expected = pieces_by_hand(degrees, chunk)
    if not expected:
        assert plan is None
        return
    row, lo, hi = piece_bounds(indptr, plan)
    assert list(zip(row.tolist(), lo.tolist(), hi.tolist())) == expected
    # split rows are exactly those longer than chunk, their pieces consecutive
    assert plan.split_row.tolist() == [r for r, d in enumerate(degrees) if d > chunk]
    counts = (plan.split_ptr[1:] - plan.split_ptr[:-1]).tolist()
    assert counts == [-(-degrees[r] // chunk) for r in plan.split_row.tolist()]
    assert plan.split_ptr[0] == 0 and plan.split_ptr[-1] == plan.num_pieces
    assert bool((1 <= hi - lo).all()) and bool((hi - lo <= chunk).all())
    # whole rows and pieces together own every entry once, each by its own row
    owner = torch.full((int(indptr[-1]),), -1)
    hits = torch.zeros(int(indptr[-1]), dtype=torch.long)
    for r, d in enumerate(degrees):
        if d <= chunk:
            owner[indptr[r]:indptr[r + 1]] = r
            hits[indptr[r]:indptr[r + 1]] += 1
    for r, a, b in expected:
        owner[a:b] = r
        hits[a:b] += 1
    assert bool((hits == 1).all())
    assert owner.tolist() == torch.repeat_interleave(torch.arange(len(degrees)),
                                                     torch.tensor(degrees)).tolist()


def test_plan_is_deterministic_and_on_the_pointer_device():
    indptr = indptr_of([0, 500, 3, 0, 77, 1])
    a, b = plan_rows(indptr, 16), plan_rows(indptr.clone(), 16)
    assert a.chunk == b.chunk == 16
    for x, y in zip(a[1:], b[1:]):
        assert torch.equal(x, y) and x.dtype == torch.long and x.device == indptr.device
        assert x.is_contiguous()


def test_default_chunk_leaves_uniform_graphs_whole_and_splits_hubs():
    from graphbias.bench.ops_bench import make_graph

    uniform = make_graph("er", 10**4, 10**5)
    assert plan_rows(uniform.indptr) is None
    hubs = make_graph("powerlaw", 10**4, 10**5)
    deg = hubs.degree()
    plan = plan_rows(hubs.indptr)
    assert plan is not None
    assert plan.chunk == chunk_size(hubs.nnz, hubs.num_rows, int(deg.max()))
    # the largest hub has at most `chunk` pieces: neither pass dominates
    assert int((plan.split_ptr[1:] - plan.split_ptr[:-1]).max()) <= plan.chunk
    assert plan.split_row.tolist() == (deg > plan.chunk).nonzero().view(-1).tolist()


@pytest.mark.parametrize("nnz, rows, max_degree, chunk", [
    (0, 0, 0, 32), (10, 10, 1, 32), (10**6, 10**5, 25, 40), (10**6, 10**4, 150, 400),
    (10**6, 10**5, 10**5, 317), (2 * 10**6, 10**6, 10**6, 1000)])
def test_chunk_rule(nnz, rows, max_degree, chunk):
    assert chunk_size(nnz, rows, max_degree) == chunk
    assert chunk >= max(_balanced.MIN_CHUNK, math.sqrt(max_degree))


@pytest.mark.parametrize("chunk", [0, -3, True, 2.5, "8"])
def test_plan_rejects_a_bad_chunk(chunk):
    with pytest.raises(ValueError, match="chunk must be a positive integer"):
        plan_rows(indptr_of([5, 1]), chunk)


@pytest.mark.parametrize("indptr", [torch.tensor([0, 1.0]), torch.zeros(2, 2, dtype=torch.long),
                                    torch.zeros(0, dtype=torch.long), [0, 3]])
def test_plan_rejects_a_bad_pointer(indptr):
    with pytest.raises(ValueError, match="indptr must be a 1-D int64 tensor"):
        plan_rows(indptr, 4)


def test_plan_of_no_rows_is_none():
    assert plan_rows(torch.zeros(1, dtype=torch.long)) is None


def test_plans_are_cached_until_the_pointer_changes():
    indptr = indptr_of([300] + [2] * 50)
    plan = plan_for(indptr)
    assert plan is not None and plan_for(indptr) is plan
    indptr[1:] += 100  # in place: row 0 now has 400 entries
    replanned = plan_for(indptr)
    assert replanned is not plan
    assert int(replanned.split_ptr[-1]) == -(-400 // replanned.chunk)
    others = [indptr_of([1, 2]) for _ in range(2 * _balanced._MAX_PLANS)]
    for t in others:
        plan_for(t)
    assert len(_balanced._PLANS) == _balanced._MAX_PLANS


def test_the_cpu_never_runs_the_split_kernels():
    """The CPU kernels stay one-pass; the split kernels are CUDA-only."""
    assert "cpu" not in _balanced.DEVICE_TYPES
    assert not _balanced.enabled(torch.zeros(1))


# ------------------------------------------- the split kernels, emulated
# Each emulation follows its CUDA kernel: one work item per short row (rows longer
# than the chunk skipped), one per piece (piece_bounds: the arithmetic of piece_of)
# into a partial buffer, one per split row folding its pieces in order. Outputs
# start as NaN / -1, so an entry no work item owns shows up.
def _beats(m, acc, reduce):
    better = m > acc if reduce == "max" else m < acc
    return better | (m.isnan() & ~acc.isnan())


def _fold(terms, first, reduce):
    """fold() of utils.cuh over the rows of terms [n, K] in order; positions from first."""
    init = {"max": -math.inf, "min": math.inf}.get(reduce, 0.0)
    acc = torch.full(terms.shape[1:], init, dtype=terms.dtype)
    best = torch.full(terms.shape[1:], first, dtype=torch.long)
    for n, m in enumerate(terms):
        if reduce in ("sum", "mean"):
            acc = acc + m
        else:
            win = _beats(m, acc, reduce)
            acc, best = torch.where(win, m, acc), torch.where(win, first + n, best)
    return acc, best


def _combine(partial, partial_arg, plan, indptr, out, arg, reduce):
    for s, r in enumerate(plan.split_row.tolist()):
        first, last = int(plan.split_ptr[s]), int(plan.split_ptr[s + 1])
        init = {"max": -math.inf, "min": math.inf}.get(reduce, 0.0)
        acc = torch.full(partial.shape[1:], init, dtype=partial.dtype)
        best = partial_arg[first].clone() if reduce in ("max", "min") else None
        for p in range(first, last):
            if reduce in ("sum", "mean"):
                acc = acc + partial[p]
            else:
                win = _beats(partial[p], acc, reduce)
                acc, best = torch.where(win, partial[p], acc), torch.where(win, partial_arg[p], best)
        out[r] = acc / int(indptr[r + 1] - indptr[r]) if reduce == "mean" else acc
        if best is not None:
            arg[r] = best


def _reduction(terms_of, indptr, reduce, plan, width, dtype, empty_arg, scale_mean=False):
    """The three passes of a reduction; terms_of(lo, hi) gives the [n, K] terms. A
    whole row's mean is acc * (1 / n) with ``scale_mean`` (the spmm kernel), else
    acc / n (the segment kernel); a split row's is acc / n (combine_kernel)."""
    rows = indptr.numel() - 1
    out = torch.full((rows, width), math.nan, dtype=dtype)
    arg = torch.full((rows, width), -1, dtype=torch.long)
    for i in range(rows):
        lo, hi = int(indptr[i]), int(indptr[i + 1])
        if hi - lo > plan.chunk:
            continue
        acc, best = _fold(terms_of(lo, hi), lo, reduce)
        if hi == lo:
            acc, best = torch.zeros_like(acc), torch.full_like(best, empty_arg)
        if reduce == "mean" and hi > lo:
            acc = acc * (torch.ones((), dtype=dtype) / (hi - lo)) if scale_mean else acc / (hi - lo)
        out[i] = acc
        arg[i] = best
    partial = torch.full((plan.num_pieces, width), math.nan, dtype=dtype)
    partial_arg = torch.full((plan.num_pieces, width), -1, dtype=torch.long)
    for p, (lo, hi) in enumerate(zip(*[t.tolist() for t in piece_bounds(indptr, plan)[1:]])):
        partial[p], partial_arg[p] = _fold(terms_of(lo, hi), lo, reduce)
    _combine(partial, partial_arg, plan, indptr, out, arg, reduce)
    return out, arg if reduce in ("max", "min") else arg.new_empty(0, 0)


def _head_values(value, nnz, width, dtype):
    if value is None:
        return torch.ones(nnz, width, dtype=dtype)
    v = value.view(nnz, -1)
    return v.repeat_interleave(width // v.size(1), dim=1)


def emulated_spmm_fw(indptr, indices, value, x, reduce, *plan):
    v = _head_values(value, indices.numel(), x.size(1), x.dtype)
    return _reduction(lambda lo, hi: v[lo:hi] * x[indices[lo:hi]], indptr, reduce,
                      SplitPlan(*plan), x.size(1), x.dtype, indices.numel(), scale_mean=True)


def emulated_segment_csr_fw(src, indptr, reduce, *plan):
    flat = src.reshape(src.size(0), -1)
    out, arg = _reduction(lambda lo, hi: flat[lo:hi], indptr, reduce, SplitPlan(*plan),
                          flat.size(1), src.dtype, src.size(0))
    shape = (indptr.numel() - 1,) + tuple(src.shape[1:])
    return out.view(shape), arg.view(shape) if reduce in ("max", "min") else arg.new_empty(0)


def _whole_rows_and_pieces(indptr, plan):
    """(row, lo, hi) of every work item: the short rows, then the pieces."""
    items = [(i, int(indptr[i]), int(indptr[i + 1])) for i in range(indptr.numel() - 1)
             if int(indptr[i + 1] - indptr[i]) <= plan.chunk]
    return items + list(zip(*[t.tolist() for t in piece_bounds(indptr, plan)]))


def emulated_spmm_value_bw(indptr, indices, x, grad_out, arg, reduce, heads, *plan):
    H = heads if heads > 0 else 1
    C = x.size(1) // H
    out = torch.full((indices.numel(), H), math.nan, dtype=x.dtype)
    for i, lo, hi in _whole_rows_and_pieces(indptr, SplitPlan(*plan)):
        deg = int(indptr[i + 1] - indptr[i])
        scale = 1.0 / max(deg, 1) if reduce == "mean" else 1.0
        for e in range(lo, hi):
            prod = grad_out[i] * x[indices[e]]
            if arg is not None:
                prod = torch.where(arg[i] == e, prod, torch.zeros_like(prod))
            out[e] = prod.view(H, C).sum(1) * scale
    return out if heads > 0 else out.view(-1)


def emulated_spmm_arg_bw(indptr_t, indices_t, pos_t, indices, value, arg, grad_out, *plan):
    F = grad_out.size(1)
    v = _head_values(value, indices.numel(), F, grad_out.dtype)

    def terms(lo, hi):
        e, i = pos_t[lo:hi], indices_t[lo:hi]
        won = arg[i] == e.unsqueeze(1)
        return torch.where(won, v[e] * grad_out[i], torch.zeros(1, dtype=grad_out.dtype))

    return _reduction(terms, indptr_t, "sum", SplitPlan(*plan), F, grad_out.dtype, 0)[0]


def emulated_gather_csr(src, indptr, size, *plan):
    out = torch.full((size,) + tuple(src.shape[1:]), math.nan, dtype=src.dtype)
    for i, lo, hi in _whole_rows_and_pieces(indptr, SplitPlan(*plan)):
        out[lo:hi] = src[i]
    return out


EMULATED = SplitKernels(emulated_spmm_fw, emulated_spmm_value_bw, emulated_spmm_arg_bw,
                        emulated_segment_csr_fw, emulated_gather_csr)


def assert_same(got, want, reduce):
    if reduce in ("max", "min"):
        torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)
    else:
        torch.testing.assert_close(got, want, equal_nan=True)


@COMPILED
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("chunk", [1, 4, 32])
@pytest.mark.parametrize("special", [False, True])
def test_emulated_split_spmm_equals_the_one_pass_kernel(reduce, chunk, special):
    csr = hub_csr(seed=chunk)
    x = tied_x(csr.num_cols, 6, seed=chunk, special=special)
    plan = plan_rows(csr.indptr, chunk)
    got = emulated_spmm_fw(csr.indptr, csr.indices, csr.values, x, reduce, *plan)
    want = torch.ops.graphbias._spmm_fw(csr.indptr, csr.indices, csr.values, x, reduce)
    assert_same(got[0], want[0], reduce)
    assert torch.equal(got[1], want[1])  # max / min: the same winning entries
    whole = csr.degree() <= chunk  # reduced in the kernels' order: the same bits
    torch.testing.assert_close(got[0][whole], want[0][whole], rtol=0, atol=0, equal_nan=True)


@COMPILED
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("chunk", [1, 5])
def test_emulated_split_segment_equals_the_one_pass_kernel(reduce, chunk):
    indptr = indptr_of([0, 3, 40, 1, 0, 17, 2])
    src = tied_x(int(indptr[-1]), 6, seed=chunk, special=True).view(-1, 2, 3)
    plan = plan_rows(indptr, chunk)
    got = emulated_segment_csr_fw(src, indptr, reduce, *plan)
    want = torch.ops.graphbias._segment_csr_fw(src, indptr, reduce)
    assert_same(got[0], want[0], reduce)
    assert torch.equal(got[1], want[1])
    grad = torch.randn(indptr.numel() - 1, 2, 3, dtype=src.dtype)
    torch.testing.assert_close(emulated_gather_csr(grad, indptr, src.size(0), *plan),
                               torch.ops.graphbias._gather_csr(grad, indptr, src.size(0)))


@COMPILED
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("heads", [0, 3])
def test_emulated_split_backward_pieces_equal_the_one_pass_kernels(reduce, heads):
    csr = hub_csr(seed=heads, heads=heads)
    t_indptr, t_indices, pos = csr.transpose_structure()
    x = tied_x(csr.num_cols, 6, seed=heads, special=False)
    _, arg = torch.ops.graphbias._spmm_fw(csr.indptr, csr.indices, csr.values, x, reduce)
    grad = torch.randn(csr.num_rows, 6, dtype=x.dtype)
    extreme = reduce in ("max", "min")
    args = (csr.indptr, csr.indices, x, grad, arg if extreme else None, reduce, heads)
    torch.testing.assert_close(emulated_spmm_value_bw(*args, *plan_rows(csr.indptr, 7)),
                               torch.ops.graphbias._spmm_value_bw(*args))
    if extreme:
        args = (t_indptr, t_indices, pos, csr.indices, csr.values, arg, grad)
        t_plan = plan_rows(t_indptr, 9)
        assert t_plan is not None  # column 0 holds half the entries
        torch.testing.assert_close(emulated_spmm_arg_bw(*args, *t_plan),
                                   torch.ops.graphbias._spmm_arg_bw(*args))


# --------------------------------------- dispatch and autograd, on the CPU
class Recorder:
    """EMULATED, counting the calls of each kernel."""

    def __init__(self):
        self.calls: dict[str, int] = {}

    def kernels(self) -> SplitKernels:
        def counted(name, fn):
            def run(*args):
                self.calls[name] = self.calls.get(name, 0) + 1
                return fn(*args)
            return run
        return SplitKernels(*(counted(n, f) for n, f in zip(SplitKernels._fields, EMULATED)))


@pytest.fixture
def emulated(monkeypatch):
    """The CPU takes the hub-balanced path, on the emulated kernels."""
    recorder = Recorder()
    monkeypatch.setenv("GRAPHBIAS_BACKEND", "compiled")
    monkeypatch.setattr(_balanced, "KERNELS", recorder.kernels())
    monkeypatch.setattr(_balanced, "DEVICE_TYPES", frozenset({"cpu"}))
    monkeypatch.setattr(_balanced, "MIN_CHUNK", 8)
    monkeypatch.setattr(_balanced, "_PLANS", type(_balanced._PLANS)(_balanced._MAX_PLANS))
    return recorder


@COMPILED
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("heads", [0, 2])
def test_split_spmm_forward_and_backward_through_the_front_end(emulated, reduce, heads):
    csr = hub_csr(seed=11, heads=heads)
    values = csr.values.clone().requires_grad_()
    w = csr.with_values(values)
    shape = (csr.num_cols, heads, 3) if heads else (csr.num_cols, 5)
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    out = ops.spmm(w, x, reduce)
    ref = reference.spmm(w, x, reduce)
    assert_same(out, ref, reduce)
    grad = torch.randn_like(out)
    got = torch.autograd.grad(out, (values, x), grad)
    want = torch.autograd.grad(ref, (values, x), grad)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)
    expected = {"spmm_fw", "spmm_value_bw", "spmm_arg_bw" if reduce in ("max", "min") else None}
    assert set(emulated.calls) == expected - {None}


@COMPILED
@pytest.mark.parametrize("reduce", REDUCES)
def test_split_spmm_gradcheck(emulated, reduce):
    csr = hub_csr(seed=5, rows=12, cols=6, hubs=(30, 19))
    values = csr.values.clone().requires_grad_()
    x = torch.randn(6, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v, x: ops.spmm(csr.with_values(v), x, reduce),
                                    (values, x))
    assert emulated.calls["spmm_fw"] > 0


@COMPILED
@pytest.mark.parametrize("reduce", REDUCES)
def test_split_segment_and_scatter_through_the_front_end(emulated, reduce):
    indptr = indptr_of([0, 3, 60, 1, 0, 25, 2])
    src = torch.randn(int(indptr[-1]), 4, dtype=torch.float64, requires_grad=True)
    out = ops.segment_csr(src, indptr, reduce)
    ref = reference.segment_csr(src, indptr, reduce)
    assert_same(out, ref, reduce)
    grad = torch.randn_like(out)
    torch.testing.assert_close(torch.autograd.grad(out, src, grad)[0],
                               torch.autograd.grad(ref, src, grad)[0])
    assert emulated.calls["segment_csr_fw"] == 1
    assert emulated.calls.get("gather_csr", 0) == (reduce in ("sum", "mean"))
    index = torch.repeat_interleave(torch.arange(7), indptr[1:] - indptr[:-1])
    perm = torch.randperm(index.numel(), generator=torch.Generator().manual_seed(0))
    assert_same(ops.scatter(src[perm], index[perm], 7, reduce),
                reference.scatter(src[perm], index[perm], 7, reduce), reduce)
    assert emulated.calls["segment_csr_fw"] == 2


@COMPILED
def test_graphs_without_long_rows_keep_the_one_pass_kernels(emulated):
    csr = hub_csr(seed=1, hubs=(3, 2))  # short rows; column 0 holds half the entries
    ops.spmm(csr, torch.randn(csr.num_cols, 4, dtype=torch.float64), "max")
    ops.segment_csr(torch.randn(6, 4), indptr_of([2, 2, 2]), "sum")
    assert emulated.calls == {}
    # the transpose's long row takes the split path for the backward alone
    x = torch.randn(csr.num_cols, 4, dtype=torch.float64, requires_grad=True)
    ops.spmm(csr, x, "sum").sum().backward()
    assert emulated.calls == {"spmm_fw": 1}


# ------------------------------------------------------------ on a GPU
@CUDA
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("width", [1, 6, 64, 300])
def test_split_kernels_equal_one_pass_and_emulation_cuda(reduce, dtype, width):
    csr = hub_csr(seed=width, dtype=dtype, device="cuda")
    x = tied_x(csr.num_cols, width, seed=width, special=True, dtype=dtype, device="cuda")
    plan = plan_rows(csr.indptr, 7)
    got = torch.ops.graphbias._spmm_fw_split(csr.indptr, csr.indices, csr.values, x, reduce,
                                             *plan)
    one = torch.ops.graphbias._spmm_fw(csr.indptr, csr.indices, csr.values, x, reduce)
    assert torch.equal(got[1], one[1])  # max / min: the same winning entries
    if reduce in ("max", "min"):
        torch.testing.assert_close(got[0], one[0], rtol=0, atol=0, equal_nan=True)
    else:
        tol = {"rtol": 1e-2, "atol": 1e-2} if dtype == torch.float16 else {}
        torch.testing.assert_close(got[0], one[0], equal_nan=True, **tol)
    # the emulation, in the kernels' accumulation type, adds in the kernels' order:
    # the same bits for every reduce
    acc = torch.float32 if dtype == torch.float16 else dtype
    emulated = emulated_spmm_fw(csr.indptr.cpu(), csr.indices.cpu(), csr.values.cpu().to(acc),
                                x.cpu().to(acc), reduce, plan.chunk, *(t.cpu() for t in plan[1:]))
    torch.testing.assert_close(got[0].cpu(), emulated[0].to(dtype), rtol=0, atol=0,
                               equal_nan=True)
    assert torch.equal(got[1].cpu(), emulated[1])


@CUDA
@pytest.mark.parametrize("reduce", REDUCES)
def test_split_segment_kernels_equal_one_pass_cuda(reduce):
    indptr = indptr_of([0, 3, 400, 1, 0, 170, 2]).cuda()
    src = tied_x(int(indptr[-1]), 12, seed=3, special=True, device="cuda").view(-1, 3, 4)
    plan = plan_rows(indptr, 16)
    got = torch.ops.graphbias._segment_csr_fw_split(src, indptr, reduce, *plan)
    one = torch.ops.graphbias._segment_csr_fw(src, indptr, reduce)
    assert_same(got[0], one[0], reduce)
    assert torch.equal(got[1], one[1])
    grad = torch.randn(indptr.numel() - 1, 3, 4, dtype=src.dtype, device="cuda")
    assert torch.equal(torch.ops.graphbias._gather_csr_split(grad, indptr, src.size(0), *plan),
                       torch.ops.graphbias._gather_csr(grad, indptr, src.size(0)))


@CUDA
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("heads", [0, 2])
def test_split_path_matches_the_reference_cuda(reduce, heads):
    csr = hub_csr(seed=4, heads=heads, rows=300, cols=200, hubs=(5000, 900), device="cuda")
    assert plan_for(csr.indptr) is not None
    values = csr.values.clone().requires_grad_()
    w = csr.with_values(values)
    shape = (csr.num_cols, heads, 8) if heads else (csr.num_cols, 16)
    x = torch.randn(shape, dtype=torch.float64, device="cuda", requires_grad=True)
    out, ref = ops.spmm(w, x, reduce), reference.spmm(w, x, reduce)
    assert_same(out, ref, reduce)
    grad = torch.randn_like(out)
    for a, b in zip(torch.autograd.grad(out, (values, x), grad),
                    torch.autograd.grad(ref, (values, x), grad)):
        torch.testing.assert_close(a, b)


@CUDA
@pytest.mark.parametrize("reduce", REDUCES)
def test_split_path_is_deterministic_cuda(reduce):
    csr = hub_csr(seed=8, rows=300, cols=200, hubs=(20000, 3000), dtype=torch.float32,
                  device="cuda")
    x = torch.randn(csr.num_cols, 64, device="cuda", requires_grad=True)
    runs = []
    for _ in range(3):
        out = ops.spmm(csr, x, reduce)
        (gx,) = torch.autograd.grad(out, x, torch.ones_like(out))
        runs.append((out, gx))
    for out, gx in runs[1:]:
        assert torch.equal(out, runs[0][0]) and torch.equal(gx, runs[0][1])


@CUDA
@pytest.mark.parametrize("reduce", REDUCES)
def test_split_path_under_torch_compile_cuda(reduce):
    csr = hub_csr(seed=2, rows=200, cols=100, hubs=(3000, 500), dtype=torch.float32,
                  device="cuda")
    x = torch.randn(csr.num_cols, 32, device="cuda")
    compiled = torch.compile(lambda x: ops.spmm(csr, x, reduce))
    assert_same(compiled(x), ops.spmm(csr, x, reduce), reduce)
