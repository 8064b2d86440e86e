"""Small full-batch GNN fits with masked losses: the building block of every learner.

A node's target enters the loss only if the node is in ``mask``; the graph (and so
the features of every node) is used for message passing unless the caller cuts it.
A graph without edges turns the GNN into an MLP over rows.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ..base import EarlyStopping, torch_seed
from ..data import Graph
from ..nn import GNN

__all__ = ["fit_gnn", "isolated", "without_edges_into", "mse_on", "bce_on"]

Loss = Callable[[Tensor, Tensor], Tensor]


def isolated(graph: Graph) -> Graph:
    """The same nodes without edges: a GNN on it is an MLP over rows."""
    return Graph(torch.empty(2, 0, dtype=torch.long), graph.num_nodes)


def without_edges_into(graph: Graph, nodes: Tensor) -> Graph:
    """``graph`` without the edges that leave or enter ``nodes`` (boolean mask)."""
    ei = graph.edge_index
    keep = ~(nodes[ei[0]] | nodes[ei[1]])
    w = None if graph.edge_weight is None else graph.edge_weight[keep]
    return Graph(ei[:, keep], graph.num_nodes, edge_weight=w)


def fit_gnn(x: Tensor, graph: Graph, loss: Loss, mask: Tensor, *, out_channels: int = 1,
            hidden: int = 32, num_layers: int = 2, epochs: int = 200, lr: float = 0.01,
            weight_decay: float = 5e-4, dropout: float = 0.0, seed: int = 0,
            val_mask: Optional[Tensor] = None,
            model: Optional[torch.nn.Module] = None) -> torch.nn.Module:
    """Trains a GCN ``x -> [N, out_channels]`` (or ``model``, called as
    ``model(x, graph)``) minimising ``loss(out, mask)``; with ``val_mask`` keeps the
    epoch of least validation loss."""
    with torch_seed(seed):
        if model is None:
            model = GNN(x.size(1), hidden, out_channels, num_layers, "gcn", dropout)
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        best = EarlyStopping(patience=None)
        for _ in range(epochs):
            model.train()
            opt.zero_grad()
            out = model(x, graph)
            loss(out, mask).backward()
            opt.step()
            if val_mask is not None:
                model.eval()
                with torch.no_grad():
                    value = float(loss(model(x, graph), val_mask))
                best.step(-value, value, model)     # higher score = lower loss
        best.restore(model)
    return model.eval()


def mse_on(target: Tensor) -> Loss:
    """Mean squared error of a one-column output on the masked nodes."""
    return lambda out, mask: F.mse_loss(out[mask, 0], target[mask])


def bce_on(target: Tensor) -> Loss:
    """Binary cross-entropy of a one-column logit on the masked nodes."""
    return lambda out, mask: F.binary_cross_entropy_with_logits(out[mask, 0], target[mask])
