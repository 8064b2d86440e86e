"""Every op, on every backend and device, equals the reference definitions:
max / min exactly, sum / mean allclose; gradients too."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from graphbias import ops
from graphbias.ops import CSR, reference

REDUCES = ["sum", "mean", "max", "min"]


def random_csr(n_rows, n_cols, nnz, weighted, seed, dtype=torch.float64, device="cpu",
               heads=0):
    gen = torch.Generator().manual_seed(seed)
    row = torch.randint(0, n_rows, (nnz,), generator=gen)
    col = torch.randint(0, n_cols, (nnz,), generator=gen)
    shape = (nnz, heads) if heads else (nnz,)
    values = torch.rand(shape, generator=gen, dtype=dtype) + 0.1 if weighted else None
    csr = CSR.from_coo(row, col, (n_rows, n_cols), values)
    if device == "cpu":
        return csr
    move = lambda t: None if t is None else t.to(device)  # noqa: E731
    return CSR(move(csr.indptr), move(csr.indices), csr.shape, move(csr.values))


def assert_match(out, ref, reduce):
    """max / min bit for bit, sum / mean allclose; NaN where the reference has NaN."""
    if reduce in ("max", "min"):
        torch.testing.assert_close(out, ref, rtol=0, atol=0, equal_nan=True)
    else:
        torch.testing.assert_close(out, ref, equal_nan=True)


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("width", [1, 7, 64, 300])
def test_spmm_forward_and_backward(backend, device, reduce, weighted, width):
    csr = random_csr(60, 40, 400, weighted, seed=width, device=device)
    x = torch.randn(40, width, dtype=torch.float64, device=device, requires_grad=True)
    out = ops.spmm(csr, x, reduce)
    ref = reference.spmm(csr, x, reduce)
    assert_match(out, ref, reduce)
    grad = torch.randn_like(out)
    (gx,) = torch.autograd.grad(out, x, grad)
    (rx,) = torch.autograd.grad(ref, x, grad)
    torch.testing.assert_close(gx, rx)


@pytest.mark.parametrize("reduce", REDUCES)
def test_spmm_value_gradient(backend, device, reduce):
    csr = random_csr(30, 20, 150, True, seed=1, device=device)
    values = csr.values.clone().requires_grad_()
    x = torch.randn(20, 9, dtype=torch.float64, device=device, requires_grad=True)
    w = csr.with_values(values)
    grad = torch.randn(30, 9, dtype=torch.float64, device=device)
    got = torch.autograd.grad(ops.spmm(w, x, reduce), (values, x), grad)
    want = torch.autograd.grad(reference.spmm(w, x, reduce), (values, x), grad)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("reduce", REDUCES)
def test_spmm_gradcheck(backend, device, reduce):
    csr = random_csr(8, 6, 24, True, seed=2, device=device)
    values = csr.values.clone().requires_grad_()
    x = torch.randn(6, 3, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda v, x: ops.spmm(csr.with_values(v), x, reduce), (values, x))


@pytest.mark.parametrize("reduce", REDUCES)
def test_multi_head_values(backend, device, reduce):
    csr = random_csr(30, 20, 150, True, seed=3, device=device, heads=3)
    values = csr.values.clone().requires_grad_()
    x = torch.randn(20, 3, 5, dtype=torch.float64, device=device, requires_grad=True)
    w = csr.with_values(values)
    out, ref = ops.spmm(w, x, reduce), reference.spmm(w, x, reduce)
    assert out.shape == (30, 3, 5)
    assert_match(out, ref, reduce)
    grad = torch.randn_like(out)
    for a, b in zip(torch.autograd.grad(out, (values, x), grad),
                    torch.autograd.grad(ref, (values, x), grad)):
        torch.testing.assert_close(a, b)


def test_empty_rows_duplicates_isolated(backend, device):
    row = torch.tensor([0, 0, 0, 3])
    col = torch.tensor([1, 1, 2, 0])
    csr = CSR.from_coo(row, col, (5, 4))
    if device.type != "cpu":
        csr = CSR(csr.indptr.to(device), csr.indices.to(device), csr.shape)
    x = torch.tensor([[1.0], [2.0], [-3.0], [9.0]], device=device)
    assert ops.spmm(csr, x).view(-1).tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]
    assert ops.spmm(csr, x, "max").view(-1).tolist() == [2.0, 0.0, 0.0, 1.0, 0.0]
    assert ops.spmm(csr, x, "min").view(-1).tolist() == [-3.0, 0.0, 0.0, 1.0, 0.0]
    empty = CSR(torch.zeros(4, dtype=torch.long, device=device),
                torch.zeros(0, dtype=torch.long, device=device), (3, 4))
    assert ops.spmm(empty, x, "max").abs().sum() == 0


def test_non_contiguous_input(backend, device):
    csr = random_csr(50, 30, 200, True, seed=4, dtype=torch.float32, device=device)
    x = torch.randn(64, 30, device=device).t()
    assert not x.is_contiguous()
    torch.testing.assert_close(ops.spmm(csr, x), reference.spmm(csr, x, "sum"))


@pytest.mark.skipif(not ops._compiled.AVAILABLE, reason="graphbias._C not built")
def test_compiled_kernels_raise_on_bad_input(device):
    """A bad argument reaching a kernel is a RuntimeError that names it, on every
    device: the check's exception must cross back into Python, not crash it."""
    indptr = torch.tensor([0, 2, 5, 5], device=device)
    with pytest.raises(RuntimeError, match="src has 2 rows, indptr 3"):
        torch.ops.graphbias._gather_csr(torch.zeros(2, 4, device=device), indptr, 5)
    with pytest.raises(RuntimeError, match="reduce must be sum, mean, max or min, got 'prod'"):
        torch.ops.graphbias._segment_csr_fw(torch.zeros(5, 4, device=device), indptr, "prod")


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("sorted_index", [True, False])
def test_scatter_and_segment(backend, device, reduce, sorted_index):
    gen = torch.Generator().manual_seed(5)
    src = torch.randn(200, 3, 4, dtype=torch.float64, generator=gen).to(device)
    src.requires_grad_()
    index = torch.randint(0, 30, (200,), generator=gen)
    if sorted_index:
        index = index.sort().values
    index = index.to(device)
    out = ops.scatter(src, index, 35, reduce)  # slots 30..34 stay empty
    ref = reference.scatter(src, index, 35, reduce)
    assert_match(out, ref, reduce)
    grad = torch.randn_like(out)
    torch.testing.assert_close(torch.autograd.grad(out, src, grad)[0],
                               torch.autograd.grad(ref, src, grad)[0])
    counts = torch.bincount(index.sort().values.cpu(), minlength=35)
    indptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]).to(device)
    seg = ops.segment_csr(src[index.argsort(stable=True)], indptr, reduce)
    assert_match(seg, ref, reduce)


@pytest.mark.parametrize("reduce", REDUCES)
def test_scatter_other_dim(backend, reduce):
    src = torch.randn(4, 50, dtype=torch.float64)
    index = torch.randint(0, 7, (50,))
    assert_match(ops.scatter(src, index, 7, reduce, dim=1),
                 reference.scatter(src, index, 7, reduce, dim=1), reduce)


@pytest.mark.parametrize("reduce", REDUCES)
def test_segment_gradcheck(backend, reduce):
    src = torch.randn(12, 3, dtype=torch.float64, requires_grad=True)
    indptr = torch.tensor([0, 3, 3, 8, 12])
    assert torch.autograd.gradcheck(lambda s: ops.segment_csr(s, indptr, reduce), (src,))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_low_precision(backend, dtype):
    csr = random_csr(40, 30, 300, True, seed=6, dtype=dtype)
    x = torch.randn(30, 16).to(dtype)
    ref = reference.spmm(csr.with_values(csr.values.double()), x.double(), "sum")
    tol = 1e-5 if dtype == torch.float32 else 3e-2
    torch.testing.assert_close(ops.spmm(csr, x).double(), ref, rtol=tol, atol=tol)


def test_gnn_layers_use_the_backend(backend):
    from graphbias.data import Graph
    from graphbias.nn import GATConv, GCNConv, SAGEConv

    gen = torch.Generator().manual_seed(7)
    g = Graph(torch.randint(0, 30, (2, 150), generator=gen), 30, x=torch.randn(30, 8))
    torch.manual_seed(0)
    for conv in (GCNConv(8, 4), SAGEConv(8, 4, aggr="max"), GATConv(8, 4, heads=2)):
        out = conv(g.x, g)
        out.sum().backward()
        assert out.shape[0] == 30 and all(p.grad is not None for p in conv.parameters())


@pytest.mark.skipif(not ops._compiled.AVAILABLE, reason="graphbias._C not built")
@pytest.mark.parametrize("reduce", REDUCES)
def test_torch_compile(reduce):
    csr = random_csr(30, 20, 150, True, seed=8, dtype=torch.float32)
    x = torch.randn(20, 6, requires_grad=True)

    def f(x):
        return ops.spmm(csr, x, reduce).relu().sum()

    compiled = torch.compile(f, backend="aot_eager", fullgraph=False)
    expected, got = f(x), compiled(x)
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(torch.autograd.grad(got, x)[0],
                               torch.autograd.grad(f(x), x)[0])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 15), m=st.integers(1, 15), nnz=st.integers(0, 60),
       feat=st.integers(1, 9), reduce=st.sampled_from(REDUCES), weighted=st.booleans(),
       seed=st.integers(0, 2**16))
def test_property_compiled_equals_reference(n, m, nnz, feat, reduce, weighted, seed):
    csr = random_csr(n, m, nnz, weighted, seed)
    x = torch.randn(m, feat, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(seed), requires_grad=True)
    out = ops.spmm(csr, x, reduce)
    ref = reference.spmm(csr, x, reduce)
    assert_match(out, ref, reduce)
    g = torch.ones_like(out)
    torch.testing.assert_close(torch.autograd.grad(out, x, g)[0],
                               torch.autograd.grad(ref, x, g)[0])


@pytest.mark.parametrize("reduce", REDUCES)
def test_segment_of_empty_input(backend, reduce):
    src = torch.randn(0, 3, dtype=torch.float64)
    out = ops.segment_csr(src, torch.tensor([0, 0, 0]), reduce)
    assert out.shape == (2, 3) and out.abs().sum() == 0


# ---------------------------------------------------------------- NaN and infinities

def with_specials(t, seed, fraction=0.15):
    """``t`` with about ``fraction`` of its entries replaced by NaN, +inf or -inf."""
    gen = torch.Generator().manual_seed(seed)
    pick = torch.rand(t.shape, generator=gen) < fraction
    kind = torch.randint(0, 3, t.shape, generator=gen)
    specials = torch.tensor([float("nan"), float("inf"), -float("inf")], dtype=t.dtype)
    return torch.where(pick, specials[kind].to(t.device), t)


def first_winner(seg, reduce):
    """Index (in ``seg``, dim 0) of the entry each column's max / min comes from: the
    first NaN, else the first entry reaching the extremum."""
    nan = torch.isnan(seg)
    best = seg.amax(0) if reduce == "max" else seg.amin(0)
    hit = torch.where(nan.any(0), nan, seg == best)
    return hit.to(torch.int8).argmax(0)


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("sorted_index", [True, False])
def test_scatter_nan_and_inf_match_reference(backend, device, reduce, sorted_index):
    gen = torch.Generator().manual_seed(11)
    src = with_specials(torch.randn(120, 5, dtype=torch.float64, generator=gen), 1)
    index = torch.randint(0, 20, (120,), generator=gen)
    if sorted_index:
        index = index.sort().values
    src, index = src.to(device), index.to(device)
    out = ops.scatter(src, index, 23, reduce)
    assert torch.isnan(out).any()
    assert_match(out, reference.scatter(src, index, 23, reduce), reduce)
    assert_match(ops.scatter(src.t(), index, 23, reduce, dim=1),
                 reference.scatter(src.t(), index, 23, reduce, dim=1), reduce)


def test_scatter_nan_example_from_the_definition(backend):
    src = torch.tensor([1.0, float("nan"), 2.0, 4.0])
    out = ops.scatter(src, torch.tensor([0, 0, 2, 2]), 3, "max")
    torch.testing.assert_close(out, torch.tensor([float("nan"), 0.0, 4.0]), equal_nan=True)
    out = ops.scatter(src, torch.tensor([0, 0, 2, 2]), 3, "min")
    torch.testing.assert_close(out, torch.tensor([float("nan"), 0.0, 2.0]), equal_nan=True)


@pytest.mark.parametrize("reduce", REDUCES)
def test_segment_csr_nan_and_inf_match_reference(backend, device, reduce):
    gen = torch.Generator().manual_seed(12)
    src = with_specials(torch.randn(90, 3, 2, dtype=torch.float32, generator=gen), 2)
    counts = torch.randint(0, 7, (20,), generator=gen)
    counts[-1] += 90 - counts.sum()
    indptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    src, indptr = src.to(device), indptr.to(device)
    assert_match(ops.segment_csr(src, indptr, reduce),
                 reference.segment_csr(src, indptr, reduce), reduce)


@pytest.mark.parametrize("reduce, dtype", [
    (reduce, dtype) for reduce in REDUCES for dtype in (torch.float64, torch.float32)
] + [("max", torch.bfloat16), ("min", torch.bfloat16)])
@pytest.mark.parametrize("weighted", [False, True])
def test_spmm_nan_and_inf_match_reference(backend, device, reduce, weighted, dtype):
    csr = random_csr(50, 30, 300, weighted, seed=13, dtype=dtype, device=device)
    x = with_specials(torch.randn(30, 9, dtype=dtype), 3).to(device)
    out = ops.spmm(csr, x, reduce)
    assert torch.isnan(out).any()
    assert_match(out, reference.spmm(csr, x, reduce), reduce)


@pytest.mark.parametrize("reduce", REDUCES)
def test_spmm_multi_head_nan_matches_reference(backend, device, reduce):
    csr = random_csr(30, 20, 150, True, seed=14, device=device, heads=3)
    x = with_specials(torch.randn(20, 3, 4, dtype=torch.float64), 4).to(device)
    assert_match(ops.spmm(csr, x, reduce), reference.spmm(csr, x, reduce), reduce)


@pytest.mark.skipif(not ops._compiled.AVAILABLE, reason="graphbias._C not built")
@pytest.mark.parametrize("reduce", ["max", "min"])
def test_compiled_max_min_gradient_goes_to_the_winner(device, reduce):
    """The gradient of each output goes to the entry that produced it: the first NaN
    of the row, else the first entry reaching the extremum (ties included)."""
    gen = torch.Generator().manual_seed(15)
    base = torch.randint(-2, 3, (40, 4), generator=gen).double()  # many ties
    src = with_specials(base, 5, fraction=0.1).to(device).requires_grad_()
    indptr = torch.tensor([0, 0, 5, 9, 9, 20, 31, 40], device=device)
    out = ops.segment_csr(src, indptr, reduce)
    grad_out = torch.arange(1.0, out.numel() + 1, dtype=torch.float64,
                            device=device).view_as(out)
    (grad,) = torch.autograd.grad(out, src, grad_out)
    expected = torch.zeros_like(src)
    for i in range(indptr.numel() - 1):
        lo, hi = int(indptr[i]), int(indptr[i + 1])
        if lo < hi:
            win = first_winner(src.detach()[lo:hi], reduce)
            expected[lo + win, torch.arange(4, device=device)] = grad_out[i]
    assert torch.equal(grad, expected)
    # spmm over the same segments (x gathered through an identity structure)
    csr = CSR(indptr, torch.arange(40, device=device), (7, 40))
    (grad_x,) = torch.autograd.grad(ops.spmm(csr, src, reduce), src, grad_out)
    assert torch.equal(grad_x, expected)
    # scatter of the segments' rows, shuffled
    perm = torch.randperm(40, generator=gen).to(device)
    index = torch.repeat_interleave(torch.arange(7, device=device), indptr.diff())
    (grad_s,) = torch.autograd.grad(
        ops.scatter(src[perm], index[perm], 7, reduce), src, grad_out)
    win_first = torch.zeros_like(src)  # after shuffling, the first winner is by position
    for i in range(7):
        rows = perm[index[perm] == i]
        if rows.numel():
            win = first_winner(src.detach()[rows], reduce)
            win_first[rows[win], torch.arange(4, device=device)] = grad_out[i]
    assert torch.equal(grad_s, win_first)


@pytest.mark.skipif(not ops._compiled.AVAILABLE, reason="graphbias._C not built")
@pytest.mark.parametrize("reduce", ["max", "min"])
def test_compiled_value_gradient_goes_to_the_winning_entry(device, reduce):
    csr = random_csr(20, 15, 90, True, seed=16, device=device)
    x = with_specials(torch.randn(15, 3, dtype=torch.float64), 6).to(device)
    values = csr.values.clone().requires_grad_()
    out = ops.spmm(csr.with_values(values), x, reduce)
    (grad_v,) = torch.autograd.grad(out, values, torch.ones_like(out))
    msgs = x.index_select(0, csr.indices) * csr.values.view(-1, 1)
    expected = torch.zeros_like(values)
    for i in range(csr.num_rows):
        lo, hi = int(csr.indptr[i]), int(csr.indptr[i + 1])
        if lo < hi:
            win = first_winner(msgs[lo:hi], reduce)
            for c in range(3):
                expected[lo + win[c]] += x[csr.indices[lo + win[c]], c]
    torch.testing.assert_close(grad_v, expected, equal_nan=True)


@pytest.mark.parametrize("reduce", REDUCES)
def test_scatter_non_deterministic_path_matches_reference(backend, device, reduce):
    """``deterministic=False`` (the atomic COO kernel on CUDA) against the reference,
    NaN and infinities included."""
    gen = torch.Generator().manual_seed(17)
    src = with_specials(torch.randn(300, 6, dtype=torch.float64, generator=gen), 7,
                        fraction=0.02).to(device)
    index = torch.randint(0, 40, (300,), generator=gen).to(device)
    out = ops.scatter(src, index, 45, reduce, deterministic=False)
    assert_match(out, reference.scatter(src, index, 45, reduce), reduce)


def test_softmax_csr_matches_the_definition(backend):
    csr = random_csr(25, 18, 140, False, seed=18)
    score = torch.randn(csr.nnz, 3, dtype=torch.float64, requires_grad=True)
    got = ops.softmax_csr(score, csr)
    row = csr.row()
    peak = reference.scatter(score.detach(), row, csr.num_rows, "max")
    e = (score - peak[row]).exp()
    expected = e / reference.scatter(e, row, csr.num_rows, "sum")[row]
    torch.testing.assert_close(got, expected)
    grad = torch.randn_like(got)
    torch.testing.assert_close(torch.autograd.grad(got, score, grad)[0],
                               torch.autograd.grad(expected, score, grad)[0])


def _in_csr_order(csr: CSR, x: torch.Tensor, mean: bool) -> torch.Tensor:
    """Sum (or mean) of each row's ``value * x``, added entry by entry in CSR order in
    x's dtype: the order the CPU kernel promises. ``x`` is [N, C] or [N, H, C] with
    values [nnz, H]."""
    deg = csr.degree()
    out = torch.zeros((csr.num_rows,) + x.shape[1:], dtype=x.dtype)
    for k in range(int(deg.max())):
        rows = (deg > k).nonzero().flatten()
        e = csr.indptr[rows] + k
        v = csr.values[e].unsqueeze(-1)  # [rows, 1] or [rows, H, 1]
        out[rows] = out[rows] + v * x[csr.indices[e]]
    if mean:
        out = out * (1 / deg.clamp(min=1).to(x.dtype)).view((-1,) + (1,) * (x.dim() - 1))
    return out


@pytest.mark.skipif(not ops._compiled.AVAILABLE, reason="graphbias._C not built")
@pytest.mark.parametrize("reduce", ["sum", "mean"])
@pytest.mark.parametrize("heads", [0, 3])
@pytest.mark.parametrize("width", [1, 2, 5, 8, 31, 32, 33, 64, 97])
def test_compiled_cpu_sum_adds_in_csr_order_bit_for_bit(monkeypatch, reduce, heads, width):
    # the register-blocked kernel must give exactly the bits of an entry-by-entry loop
    monkeypatch.setenv("GRAPHBIAS_BACKEND", "compiled")
    g = torch.Generator().manual_seed(width)
    n, nnz = 60, 500
    row, col = torch.randint(0, n, (2, nnz), generator=g)
    values = torch.randn((nnz, heads) if heads else (nnz,), generator=g)
    csr = CSR.from_coo(row, col, (n, n), values)
    x = torch.randn((n, heads, width) if heads else (n, width), generator=g)
    assert torch.equal(ops.spmm(csr, x, reduce), _in_csr_order(csr, x, reduce == "mean"))


@pytest.mark.skipif(not ops._compiled.AVAILABLE, reason="graphbias._C not built")
@pytest.mark.parametrize("width", [1, 31, 32, 33, 64, 100, 1433])
def test_compiled_masked_spmm_adds_in_csr_order_bit_for_bit(monkeypatch, width):
    # every x86 clone of the kernel (AVX-512, AVX2, plain) must give the bits of an
    # entry-by-entry loop: no fused multiply-adds, CSR order
    monkeypatch.setenv("GRAPHBIAS_BACKEND", "compiled")
    g = torch.Generator().manual_seed(width)
    n, nnz = 40, 300
    row, col = torch.randint(0, n, (2, nnz), generator=g)
    csr = CSR.from_coo(row, col, (n, n), torch.rand(nnz, generator=g))
    x = torch.randn(n, width, generator=g)
    words = torch.randint(-2 ** 63, 2 ** 63 - 1, (2, n, -(-width // 64)), generator=g)
    masks = reference.unpack_bits(words, width).float()
    deg = csr.degree()
    ref = torch.zeros(2, n, width)
    for k in range(int(deg.max())):
        rows = (deg > k).nonzero().flatten()
        e = csr.indptr[rows] + k
        j = csr.indices[e]
        ref[:, rows] = ref[:, rows] + (csr.values[e].unsqueeze(-1) * x[j]) * masks[:, j]
    assert torch.equal(ops.masked_spmm(csr, x, words, 2.0), ref * 2.0)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("width", [1, 31, 32, 64, 100, 300])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_masked_spmm_equals_reference(backend, weighted, width, dtype):
    """Every sample's product equals the product with the unpacked mask, at widths
    inside one half word, across words and with a ragged last word."""
    csr = random_csr(50, 40, 300, weighted, seed=width, dtype=dtype)
    gen = torch.Generator().manual_seed(width)
    x = torch.randn(40, width, dtype=dtype, generator=gen)
    words = torch.randint(-2 ** 63, 2 ** 63 - 1, (3, 40, -(-width // 64)), generator=gen)
    out = ops.masked_spmm(csr, x, words, 2.0)
    ref = reference.masked_spmm(csr, x, words, 2.0)
    assert out.shape == (3, 50, width)
    torch.testing.assert_close(out, ref)
    # the unpacked mask is the one documented: bit f % 64 of word f // 64
    masks = reference.unpack_bits(words, width)
    j, f = 7, width - 1
    assert int(masks[1, j, f]) == (int(words[1, j, f // 64]) >> (f % 64)) & 1
    assert 0.4 < float(masks.double().mean()) < 0.6 or width == 1


def test_masked_spmm_gradient_and_errors():
    """With a gradient through x the unpacked path runs (and differentiates); bad
    words are refused before any kernel."""
    csr = random_csr(20, 15, 60, True, seed=3)
    x = torch.randn(15, 70, dtype=torch.float64, requires_grad=True)
    words = torch.randint(-2 ** 63, 2 ** 63 - 1, (2, 15, 2))
    out = ops.masked_spmm(csr, x, words)
    grad = torch.randn_like(out)
    (gx,) = torch.autograd.grad(out, x, grad)
    (rx,) = torch.autograd.grad(reference.masked_spmm(csr, x, words), x, grad)
    torch.testing.assert_close(gx, rx)
    with pytest.raises(ValueError, match=r"words must be int64 of shape \[S, 15, 2\]"):
        ops.masked_spmm(csr, x, words[:, :, :1])
    with pytest.raises(ValueError, match="words must be int64"):
        ops.masked_spmm(csr, x, words.int())
    with pytest.raises(ValueError, match="2-D x"):
        ops.masked_spmm(csr, x.detach().view(15, 7, 10), words)
    with pytest.raises(ValueError, match="x has 14 rows"):
        ops.masked_spmm(csr, x.detach()[:14], words[:, :14])
