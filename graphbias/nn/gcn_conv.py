r"""Graph convolution of Kipf & Welling (2017)."""
from __future__ import annotations

import math
from typing import Any, Optional

import torch
from torch import Tensor

from ..data.transforms import gcn_norm
from ..ops.csr import CSR
from .functional import Features
from .linear import Linear
from .message_passing import MessagePassing, resolve_graph


class GCNConv(MessagePassing):
    r"""Graph convolution of Kipf & Welling (2017).

    .. math::
        \mathbf{X}' = \hat{\mathbf{D}}^{-1/2} \hat{\mathbf{A}} \hat{\mathbf{D}}^{-1/2}
        \mathbf{X} \mathbf{W} + \mathbf{b}, \qquad \hat{\mathbf{A}} = \mathbf{A} + \mathbf{I}

    with the same parameters (``lin.weight``, ``bias``) and the same result as
    ``torch_geometric.nn.GCNConv``. The normalised propagation matrix is built once
    per graph and cached on it; a raw ``edge_index`` tensor gets its graph cached
    too (see :func:`~graphbias.nn.message_passing.resolve_graph`). ``x`` may be
    dense or a sparse :class:`~graphbias.ops.CSR` feature matrix.

    Parameters
    ----------
    in_channels : int
        Input feature size.
    out_channels : int
        Output feature size.
    improved : bool, default=False
        Use :math:`\mathbf{A} + 2\mathbf{I}`.
    add_self_loops : bool, default=True
        Add :math:`\mathbf{I}` (to nodes without a loop).
    normalize : bool, default=True
        Apply the symmetric normalisation; with ``False`` the graph's own edge
        weights are used (a :class:`CSR` is then accepted as is).
    bias : bool, default=True
        Learn an additive bias.

    Attributes
    ----------
    lin : Linear
        :math:`\mathbf{W}` (no bias), ``[out_channels, in_channels]``.
    bias : torch.nn.Parameter or None
        :math:`\mathbf{b}`, ``[out_channels]``.

    Examples
    --------
    >>> import torch
    >>> conv = GCNConv(3, 2)
    >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> conv(torch.randn(3, 3), edge_index, torch.tensor([1., 1., .5, .5])).shape
    torch.Size([3, 2])
    """

    def __init__(self, in_channels: int, out_channels: int, improved: bool = False,
                 add_self_loops: bool = True, normalize: bool = True,
                 bias: bool = True) -> None:
        super().__init__(aggr="sum")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.improved, self.add_self_loops, self.normalize = improved, add_self_loops, normalize
        self.lin = Linear(in_channels, out_channels, bias=False)
        self.bias = torch.nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform weight, zero bias (as PyG)."""
        bound = math.sqrt(6.0 / (self.in_channels + self.out_channels))
        torch.nn.init.uniform_(self.lin.weight, -bound, bound)  # Glorot
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def propagation_matrix(self, graph: Any, num_nodes: int, dtype: torch.dtype,
                           edge_weight: Optional[Tensor] = None) -> CSR:
        """The (normalised) matrix one propagation multiplies by, rows receiving.

        Parameters
        ----------
        graph : Graph, Tensor or CSR
            See :func:`~graphbias.nn.message_passing.resolve_graph`.
        num_nodes : int
            Number of nodes (rows of ``x``).
        dtype : torch.dtype
            Dtype of the normalised weights.
        edge_weight : Tensor, optional
            ``[E]`` weights of ``graph``'s edges.

        Returns
        -------
        CSR

        Raises
        ------
        ValueError
            A bare CSR with ``normalize=True`` (the normalisation is cached on a
            graph), or any error of ``resolve_graph``.
        """
        g = resolve_graph(graph, num_nodes, edge_weight)
        if isinstance(g, CSR):
            if self.normalize:
                raise ValueError("GCNConv(normalize=True) needs a Graph or an edge_index "
                                 "(its normalisation is cached on it), not a bare CSR")
            return g
        if self.normalize:
            return gcn_norm(g, self.improved, self.add_self_loops, dtype)
        return g.csr

    def forward(self, x: Features, edge_index: Any,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        """One graph convolution.

        Parameters
        ----------
        x : Tensor or CSR
            ``[N, in_channels]`` node features, dense or sparse.
        edge_index : Tensor, Graph or CSR
            ``[2, E]`` (source, target) pairs as in PyG, a Graph, or (with
            ``normalize=False``) the propagation matrix itself.
        edge_weight : Tensor, optional
            ``[E]`` weights of the edges of ``edge_index``.

        Returns
        -------
        Tensor
            ``[N, out_channels]``.
        """
        h = self.lin(x)
        a = self.propagation_matrix(edge_index, h.size(0), h.dtype, edge_weight)
        out = self.propagate(a, h)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}"
