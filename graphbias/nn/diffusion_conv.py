r"""DCRNN's bidirectional diffusion convolution on :func:`graphbias.ops.spmm`.

.. math::

    X \star_{\mathcal G} \Theta = \sum_{k=0}^{K} \big(P_f^k X \Theta_{k,f} + P_b^k X \Theta_{k,b}\big),
    \quad P_f = D_O^{-1} W,\; P_b = D_I^{-1} W^\top,

with :math:`W_{ij}` the weight of edge :math:`i \to j` (the :math:`k = 0` terms
share one weight). With ``normalization="gcn"`` the two random walks are replaced by
the one symmetric operator :math:`S = \hat D^{-1/2}(A + I)\hat D^{-1/2}` of GCN, and
with ``normalization="none"`` by the adjacency with self-loops, :math:`S = A + I`,
unnormalised; the layer is then the polynomial filter
:math:`\sum_{k=0}^{K} S^k X \Theta_k` (for graphs whose dynamics are written in that
shift, as GP-VAR). Inputs may carry extra batch dimensions after the node axis.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..data.graph import Graph, as_graph
from ..data.transforms import add_remaining_self_loops, check_non_negative_weights, gcn_norm
from ..ops import CSR, spmm
from .linear import Linear

__all__ = ["DiffusionConv", "random_walk_transitions", "self_loop_adjacency",
           "diffusion_supports", "diffusion_terms", "check_normalization",
           "NORMALIZATIONS"]

NORMALIZATIONS = ("random_walk", "gcn", "none")


def check_normalization(normalization: str) -> None:
    """Raises ``ValueError`` unless ``normalization`` is one of :data:`NORMALIZATIONS`."""
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, "
                         f"got {normalization!r}")


def random_walk_transitions(graph: Any, dtype: torch.dtype = torch.float32
                            ) -> tuple[CSR, CSR]:
    """The forward :math:`D_O^{-1} W` and reverse :math:`D_I^{-1} W^\\top` transition
    matrices as CSR (cached on the graph), on the graph's device."""
    g: Graph = as_graph(graph)

    def build() -> tuple[CSR, CSR]:
        check_non_negative_weights(g, "random_walk_transitions")
        src, dst = g.edge_index
        w = (torch.ones(g.num_edges, device=src.device) if g.edge_weight is None
             else g.edge_weight).to(dtype)
        n = g.num_nodes
        out_deg = torch.zeros(n, dtype=dtype, device=src.device).index_add_(0, src, w)
        in_deg = torch.zeros(n, dtype=dtype, device=src.device).index_add_(0, dst, w)
        out_deg, in_deg = out_deg.clamp(min=1e-12), in_deg.clamp(min=1e-12)
        fwd = CSR.from_coo(src, dst, (n, n), w / out_deg[src])  # row i: out-neighbours j
        bwd = CSR.from_coo(dst, src, (n, n), w / in_deg[dst])   # row i: in-neighbours j
        return fwd, bwd

    return g.cached(("random_walk_transitions", dtype), build)


def self_loop_adjacency(graph: Any, dtype: torch.dtype = torch.float32) -> CSR:
    """:math:`A + I` as CSR (row = receiving node; edge weights kept, a loop of weight
    1 added to every node without one), unnormalised; cached on the graph.

    >>> from graphbias.data import Graph
    >>> self_loop_adjacency(Graph(torch.tensor([[0], [1]]), 2)).to_dense()
    tensor([[1., 0.],
            [1., 1.]])
    """
    g: Graph = as_graph(graph)

    def build() -> CSR:
        h = add_remaining_self_loops(g)
        src, dst = h.edge_index
        w = (torch.ones(h.num_edges, device=src.device) if h.edge_weight is None
             else h.edge_weight).to(dtype)
        return CSR.from_coo(dst, src, (g.num_nodes, g.num_nodes), w)

    return g.cached(("self_loop_adjacency", dtype), build)


def diffusion_supports(graph: Any, normalization: str = "random_walk",
                       dtype: torch.dtype = torch.float32) -> tuple[CSR, ...]:
    """The operators a :class:`DiffusionConv` diffuses along: the two random walks
    (``"random_walk"``), the GCN-normalised adjacency with self-loops (``"gcn"``) or
    the unnormalised adjacency with self-loops, :math:`A + I` (``"none"``)."""
    check_normalization(normalization)
    if normalization == "gcn":
        return (gcn_norm(as_graph(graph), dtype=dtype),)
    if normalization == "none":
        return (self_loop_adjacency(graph, dtype),)
    return random_walk_transitions(graph, dtype)


def diffusion_terms(x: Tensor, graph: Any, k: int, normalization: str = "random_walk"
                    ) -> list[Tensor]:
    """The ``k`` powers of each operator of :func:`diffusion_supports` applied to
    ``x: [N, ..., C]`` (:math:`P_f x, \\dots, P_f^k x, P_b x, \\dots, P_b^k x` for the
    random walks), each shaped like ``x``; empty for ``k = 0``."""
    terms: list[Tensor] = []
    if k:
        for p in diffusion_supports(graph, normalization, x.dtype):
            h = x
            for _ in range(k):
                h = spmm(p, h.reshape(h.size(0), -1)).view_as(x)
                terms.append(h)
    return terms


class DiffusionConv(torch.nn.Module):
    """Bidirectional ``K``-hop diffusion convolution (Li et al., DCRNN, 2018).

    ``forward(x, graph)`` takes ``x`` of shape ``[N, ..., in_channels]``.

    >>> import torch
    >>> from graphbias.data import Graph
    >>> conv = DiffusionConv(3, 4, k=2)
    >>> conv(torch.randn(5, 2, 3), Graph(torch.tensor([[0, 1, 2], [1, 2, 3]]), 5)).shape
    torch.Size([5, 2, 4])
    """

    def __init__(self, in_channels: int, out_channels: int, k: int = 2,
                 bias: bool = True, normalization: str = "random_walk") -> None:
        super().__init__()
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        check_normalization(normalization)
        self.in_channels, self.out_channels, self.k = in_channels, out_channels, k
        self.normalization = normalization
        walks = 2 if normalization == "random_walk" else 1
        self.lin = Linear((1 + walks * k) * in_channels, out_channels, bias=bias)

    def forward(self, x: Tensor, graph: Any) -> Tensor:
        return self.lin(torch.cat([x, *diffusion_terms(x, graph, self.k,
                                                        self.normalization)], -1))

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, k={self.k}, "
                f"normalization={self.normalization!r}")
