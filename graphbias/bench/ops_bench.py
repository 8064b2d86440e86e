"""Message-passing kernels beside their peers, timed in one process.

Each case is ``out[i] = reduce_{j in N(i)} x_j`` on one graph and feature width,
forward alone and forward + backward, timed as the median of ``repeats`` runs
after ``warmup`` runs. Effective bandwidth counts the bytes the operation must
move: the CSR (indices, pointers), one gathered row of ``x`` per edge, the output
(and for max / min the arg-max index and, backward, the transpose structure).
"""
from __future__ import annotations

import importlib.util
import os
import statistics
import time
from typing import Any, Callable

import numpy as np
import torch

from .. import ops
from ..ops import CSR, _balanced

__all__ = ["GRAPH_KINDS", "copy_bandwidth", "make_graph", "power_law_ids", "prepare_graph",
           "on_device", "measure", "time_case", "ops_suite", "median_seconds"]


def median_seconds(fn: Callable[[], Any], warmup: int, repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls of ``fn`` after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def copy_bandwidth(megabytes: int = 256, repeats: int = 7, device: str = "cpu") -> float:
    """The copy bandwidth of ``device``'s memory in GB/s (bytes read + written by
    one ``copy_`` of ``megabytes``; pick several times the caches)."""
    src = torch.ones(megabytes * 2**20 // 4, device=device)
    dst = torch.empty_like(src)
    sync = torch.cuda.synchronize if src.is_cuda else (lambda: None)

    def copy() -> None:
        dst.copy_(src)
        sync()

    seconds = median_seconds(copy, 2, repeats)
    return 2 * src.numel() * 4 / seconds / 1e9


#: synthetic graph families of :func:`make_graph`
GRAPH_KINDS = ("er", "powerlaw", "ba", "zipf")


def make_graph(kind: str, num_nodes: int, num_edges: int, seed: int = 0) -> CSR:
    """A synthetic graph as the CSR of its receivers (row ``i`` lists the senders of
    the edges into ``i``).

    Parameters
    ----------
    kind : {"er", "powerlaw", "ba", "zipf"}
        ``er``: uniform random endpoints. ``powerlaw``: Chung-Lu endpoints with
        weights ``(i+1)^-1/2`` (degree exponent 3, as in Barabási-Albert). ``ba``:
        Barabási-Albert preferential attachment, ``m = num_edges // (2 num_nodes)``
        links per new node, both directions stored (about ``num_edges`` entries).
        ``zipf``: receivers drawn with probability proportional to ``1 / rank``
        (Zipf, exponent 1: the top row alone holds about ``num_edges / ln(n)``
        entries, the hubs a one-group-per-row kernel serialises), senders uniform.
        Node ids are shuffled, so hubs lie anywhere in the id range.
    num_nodes : int
        Nodes (rows and columns).
    num_edges : int
        Stored entries (for ``ba`` approximately).
    seed : int, default=0
        Seed of the draw.

    Returns
    -------
    CSR

    Raises
    ------
    ValueError
        For an unknown ``kind``.

    Examples
    --------
    >>> csr = make_graph("zipf", 1000, 10000)
    >>> csr.shape, csr.nnz, int(csr.degree().max()) > 1000
    ((1000, 1000), 10000, True)
    """
    rng = np.random.default_rng(seed)
    if kind == "er":
        src, dst = rng.integers(0, num_nodes, (2, num_edges))
    elif kind in ("powerlaw", "zipf"):
        if kind == "powerlaw":
            src = power_law_ids(rng, num_nodes, num_edges, 0.5)
            dst = power_law_ids(rng, num_nodes, num_edges, 0.5)
        else:
            src = rng.integers(0, num_nodes, num_edges)
            dst = power_law_ids(rng, num_nodes, num_edges, 1.0)
        perm = rng.permutation(num_nodes)  # hubs spread over the id range
        src, dst = perm[src], perm[dst]
    elif kind == "ba":
        from ..data.synthetic import barabasi_albert

        m = max(1, min(num_edges // (2 * num_nodes), num_nodes - 1))
        edge_index = barabasi_albert(num_nodes, m, num_features=1, seed=seed).edge_index
        src, dst = edge_index.numpy()
    else:
        raise ValueError(f"graph kind must be one of {GRAPH_KINDS}, got {kind!r}")
    return CSR.from_coo(torch.from_numpy(dst), torch.from_numpy(src),
                        (num_nodes, num_nodes))


def power_law_ids(rng: np.random.Generator, n: int, size: int, exponent: float) -> np.ndarray:
    """``size`` ids in ``[0, n)`` drawn with probability proportional to
    ``(i+1)^-exponent``.

    As the endpoints of Chung-Lu edges, exponent :math:`a` gives a degree
    distribution with tail :math:`P(k) \\propto k^{-(1 + 1/a)}`: 0.5 gives
    Barabási-Albert's 3, 0.9 about the 2.1 of web and co-purchase graphs.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random stream (advanced by ``size`` draws).
    n : int
        Number of ids.
    size : int
        Number of draws.
    exponent : float
        Weight exponent :math:`a \\ge 0`.

    Returns
    -------
    numpy.ndarray
        ``int64 [size]``.

    Examples
    --------
    >>> ids = power_law_ids(np.random.default_rng(0), 100, 10000, 1.0)
    >>> bool((ids == 0).sum() > (ids == 99).sum() * 20)
    True
    """
    w = (np.arange(n) + 1.0) ** -exponent
    cdf = np.cumsum(w / w.sum())
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), n - 1)


def _bytes(csr: CSR, width: int, reduce: str, backward: bool, elem: int = 4) -> float:
    nnz, n = csr.nnz, csr.num_rows
    fwd = nnz * 8 + (n + 1) * 8 + nnz * width * elem + n * width * elem
    if reduce in ("max", "min"):
        fwd += n * width * 8
    if not backward:
        return fwd
    if reduce in ("max", "min"):
        bwd = 2 * nnz * 8 + (n + 1) * 8 + nnz * width * (8 + elem) + n * width * elem
    else:
        bwd = nnz * 16 + (n + 1) * 8 + nnz * width * elem + n * width * elem
    return fwd + bwd


def _with_backend(name: str, fn: Callable[[torch.Tensor], torch.Tensor]
                  ) -> Callable[[torch.Tensor], torch.Tensor]:
    def run(x: torch.Tensor) -> torch.Tensor:
        old = os.environ.get("GRAPHBIAS_BACKEND")
        os.environ["GRAPHBIAS_BACKEND"] = name
        try:
            return fn(x)
        finally:
            if old is None:
                del os.environ["GRAPHBIAS_BACKEND"]
            else:
                os.environ["GRAPHBIAS_BACKEND"] = old
    return run


def _peers(csr: CSR, reduce: str) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    row, col, n = csr.row(), csr.indices, csr.num_rows
    amax = {"max": "amax", "min": "amin", "sum": "sum", "mean": "mean"}[reduce]
    peers: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "graphbias-torch": _with_backend("torch", lambda x: ops.spmm(csr, x, reduce)),
    }
    if ops._compiled.AVAILABLE:
        peers["graphbias-compiled"] = _with_backend(
            "compiled", lambda x: ops.spmm(csr, x, reduce))
    if csr.device.type in _balanced.DEVICE_TYPES:
        peers["graphbias-onepass"] = lambda x: _one_pass(csr, x, reduce)
    if reduce == "sum":
        a = csr.to_torch()
        peers["torch.sparse.mm"] = lambda x: torch.sparse.mm(a, x)
        peers["index_add_"] = lambda x: x.new_zeros(n, x.size(1)).index_add_(
            0, row, x.index_select(0, col))
    else:
        peers["scatter_reduce"] = lambda x: x.new_zeros(n, x.size(1)).scatter_reduce(
            0, row.view(-1, 1).expand(-1, x.size(1)), x.index_select(0, col), amax,
            include_self=False)
    if importlib.util.find_spec("torch_geometric") is not None:
        from torch_geometric.utils import scatter as pyg_scatter

        peers["pyg.utils.scatter"] = lambda x: pyg_scatter(
            x.index_select(0, col), row, 0, n, reduce)
    if importlib.util.find_spec("torch_scatter") is not None:
        import torch_scatter

        peers["torch_scatter.segment_csr"] = lambda x: torch_scatter.segment_csr(
            x.index_select(0, col), csr.indptr, reduce=reduce)
    return peers


def _one_pass(csr: CSR, x: torch.Tensor, reduce: str) -> torch.Tensor:
    """The compiled product with one group of lanes per row, long rows not split
    (what ``graphbias-compiled`` ran before hub balancing)."""
    transpose = csr.transpose_structure() if x.requires_grad else (None, None, None)
    return torch.ops.graphbias.spmm(csr.indptr, csr.indices, csr.values, x, reduce, *transpose)


def time_case(csr: CSR, width: int, reduce: str, backward: bool, fn: Callable,
              warmup: int = 2, repeats: int = 7, device: str = "cpu") -> float:
    """Median seconds of one forward (and backward, when asked) of ``fn(x)``."""
    x = torch.randn(csr.num_cols, width, device=device, requires_grad=backward)
    grad = torch.randn(csr.num_rows, width, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def step() -> None:
        out = fn(x)
        if backward:
            x.grad = None
            out.backward(grad)
        sync()

    with torch.set_grad_enabled(backward):
        return median_seconds(step, warmup, repeats)


def _short(n: int) -> str:
    return f"{n // 10**6}M" if n >= 10**6 else f"{n // 1000}k"


FULL_GRAPHS = [("er", 10**4, 10**5), ("powerlaw", 10**4, 10**5), ("er", 10**5, 10**6),
               ("powerlaw", 10**5, 10**6), ("er", 10**6, 10**7), ("powerlaw", 10**6, 10**7)]


REDUCES = ("sum", "mean", "max", "min")


def widths_for(num_edges: int) -> list[int]:
    """Feature widths timed on a graph: 16 / 64 / 256, only 16 on 10^7 edges (memory)."""
    return [16] if num_edges >= 10**7 else [16, 64, 256]


def prepare_graph(kind: str, num_nodes: int, num_edges: int, device: str = "cpu",
                  seed: int = 0) -> CSR:
    """:func:`make_graph` on ``device`` with its transpose built once and cached, as a
    Graph caches it for every layer."""
    return on_device(make_graph(kind, num_nodes, num_edges, seed), device)


def on_device(csr: CSR, device: str = "cpu") -> CSR:
    """The structure of ``csr`` (unweighted) on ``device``, its transpose built and
    cached, as a Graph caches it for every layer."""
    if torch.device(device) != csr.device:
        csr = CSR(csr.indptr.to(device), csr.indices.to(device), csr.shape)
    csr.transpose_structure()
    return csr


def measure(csr: CSR, width: int, reduce: str, backward: bool, method: str,
            repeats: int = 7, device: str = "cpu") -> dict[str, float]:
    """Median milliseconds of one peer and its effective GB/s."""
    sec = time_case(csr, width, reduce, backward, _peers(csr, reduce)[method], 2, repeats,
                    device)
    return {"ms": 1000 * sec, "gbps": _bytes(csr, width, reduce, backward) / sec / 1e9}


def ops_suite(root: Any, seeds: int, quick: bool, device: str = "cpu") -> list[Any]:
    """Cells ``(graph, width, reduce, pass) x method`` over :data:`FULL_GRAPHS` and
    :func:`widths_for`; ``quick``: one small graph at width 16."""
    from .suites import Cell

    graphs = [("er", 10**4, 10**5)] if quick else FULL_GRAPHS
    repeats = 3 if quick else 7
    cache: dict[tuple, CSR] = {}

    def graph(spec: tuple, seed: int) -> CSR:
        if (spec, seed) not in cache:
            cache.clear()  # one graph in memory at a time
            cache[(spec, seed)] = prepare_graph(*spec, device=device, seed=seed)
        return cache[(spec, seed)]

    probe = make_graph("er", 10, 10)
    cells = []
    for spec in graphs:
        widths = [16] if quick else widths_for(spec[2])
        for seed in range(seeds):
            for width in widths:
                name = f"{spec[0]}-{_short(spec[1])}-{_short(spec[2])}-F{width}"
                for reduce in REDUCES:
                    for backward in (False, True):
                        for method in _peers(probe, reduce):
                            cells.append(Cell(
                                "ops", name, f"{method}:{reduce}:{'fwd+bwd' if backward else 'fwd'}",
                                seed, lambda a=(spec, seed, width, reduce, backward, method):
                                measure(graph(*a[:2]), *a[2:], repeats, device)))
    return cells
