"""The frontier bookkeeping ops: the compiled kernels equal the pure-torch path and
the definitions, and bad input gets a clear error on both."""
import pytest
import torch

from graphbias import ops
from graphbias.ops import CSR


def _csr(seed=0, n=40, nnz=150):
    gen = torch.Generator().manual_seed(seed)
    row = torch.randint(0, n, (nnz,), generator=gen)
    col = torch.randint(0, n, (nnz,), generator=gen)
    return CSR.from_coo(row, col, (n, n))


@pytest.mark.parametrize("seed", range(4))
def test_csr_rows_is_the_rows_entries_in_order(backend, seed):
    csr = _csr(seed)
    gen = torch.Generator().manual_seed(seed + 10)
    rows = torch.randint(0, csr.num_rows, (25,), generator=gen)      # with repeats
    sub, positions = ops.csr_rows(csr.indptr, rows)
    expected = [torch.arange(int(csr.indptr[r]), int(csr.indptr[r + 1])) for r in rows]
    assert sub.tolist() == [0] + torch.tensor([len(e) for e in expected]).cumsum(0).tolist()
    assert torch.equal(positions, torch.cat(expected))


def test_csr_rows_of_no_rows(backend):
    sub, positions = ops.csr_rows(_csr().indptr, torch.zeros(0, dtype=torch.long))
    assert sub.tolist() == [0] and positions.numel() == 0


@pytest.mark.parametrize("with_rows", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_reached_is_the_distinct_columns(backend, seed, with_rows):
    csr = _csr(seed)
    gen = torch.Generator().manual_seed(seed + 20)
    rows = torch.randint(0, csr.num_rows, (12,), generator=gen)
    mark = torch.zeros(csr.num_cols, dtype=torch.bool)
    out = ops.reached(csr.indptr, csr.indices, rows, with_rows=with_rows, mark=mark)
    expected = {int(c) for r in rows
                for c in csr.indices[int(csr.indptr[r]):int(csr.indptr[r + 1])]}
    if with_rows:
        expected |= set(rows.tolist())
    assert sorted(out.tolist()) == sorted(expected)          # each id once
    assert not mark.any()                                    # scratch left clean


@pytest.mark.parametrize("call, match", [
    (lambda ip, ix, m: ops.csr_rows(ip, torch.tensor([0, 40])), "40"),
    (lambda ip, ix, m: ops.csr_rows(ip, torch.tensor([-1])), "-1"),
    (lambda ip, ix, m: ops.csr_rows(ip, torch.tensor([0.0])), "int64"),
    (lambda ip, ix, m: ops.reached(ip, ix, torch.tensor([41]), with_rows=False, mark=m),
     "41"),
    (lambda ip, ix, m: ops.reached(ip, ix, torch.tensor([3]), with_rows=True,
                                   mark=m[:2]), "mark"),
    (lambda ip, ix, m: ops.reached(ip, ix, torch.tensor([3]), with_rows=False,
                                   mark=m.long()), "bool"),
])
def test_bad_input_is_a_clear_error(backend, call, match):
    csr = _csr()
    mark = torch.zeros(csr.num_cols, dtype=torch.bool)
    with pytest.raises(ValueError, match=match):
        call(csr.indptr, csr.indices, mark)
    assert not mark.any()                                    # scratch left clean


def test_reached_leaves_the_scratch_clean_after_an_id_outside_it(backend):
    indptr, indices = torch.tensor([0, 2, 4]), torch.tensor([0, 1, 1, 5])
    mark = torch.zeros(3, dtype=torch.bool)
    with pytest.raises(ValueError, match="5"):
        ops.reached(indptr, indices, torch.tensor([0, 1]), with_rows=False, mark=mark)
    assert not mark.any()
    assert ops.reached(indptr, indices, torch.tensor([0]), with_rows=False,
                       mark=mark).tolist() == [0, 1]
