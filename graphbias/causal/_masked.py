"""Masked full-batch node models: the building block of every learner in this package.

A node's target enters a loss only if the node is in the loss's mask; the graph (and
so the features of every node) is used for message passing unless the caller cuts it
(:func:`without_edges_into`). A graph without edges (:func:`isolated`) turns the GNN
into an MLP over rows. Training runs through :func:`graphbias.nn.training.fit_module`.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..base import torch_seed
from ..data import Graph
from ..nn import GNN
from ..nn.training import EarlyStopping, TrainingResult, fit_module

__all__ = ["isolated", "without_edges_into", "mse_on", "bce_on", "rloss_on", "node_gnn",
           "fit_masked", "float_tensor"]

#: a loss of the model output ``[n, 1]``
Loss = Callable[[Tensor], Tensor]

#: Adam's L2 penalty of every GNN here
WEIGHT_DECAY = 5e-4


def float_tensor(a: np.ndarray, device: Any = "cpu") -> Tensor:
    """``a`` as a float32 tensor on ``device`` (the dtype of every GNN here).

    Examples
    --------
    >>> float_tensor(np.array([1.5, 2.0])).dtype
    torch.float32
    """
    return torch.from_numpy(a).float().to(device)


def isolated(graph: Graph) -> Graph:
    """The same nodes without edges (on the graph's device): a GNN on it is an MLP
    over rows.

    Examples
    --------
    >>> import torch
    >>> g = Graph(torch.tensor([[0, 1], [1, 0]]), 3)
    >>> isolated(g).num_nodes, isolated(g).num_edges
    (3, 0)
    """
    empty = torch.empty(2, 0, dtype=torch.long, device=graph.edge_index.device)
    return Graph(empty, graph.num_nodes)


def without_edges_into(graph: Graph, nodes: Tensor) -> Graph:
    """``graph`` without the edges that leave or enter ``nodes`` (a boolean mask).

    Examples
    --------
    >>> import torch
    >>> g = Graph(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), 3)
    >>> without_edges_into(g, torch.tensor([True, False, False])).edge_index.tolist()
    [[1, 2], [2, 1]]
    """
    ei = graph.edge_index
    keep = ~(nodes[ei[0]] | nodes[ei[1]])
    w = None if graph.edge_weight is None else graph.edge_weight[keep]
    return Graph(ei[:, keep], graph.num_nodes, edge_weight=w)


def mse_on(target: Tensor, mask: Tensor) -> Loss:
    """Mean squared error of a one-column output on the nodes of ``mask``.

    Examples
    --------
    >>> import torch
    >>> loss = mse_on(torch.tensor([1.0, 5.0]), torch.tensor([True, False]))
    >>> float(loss(torch.tensor([[3.0], [0.0]])))
    4.0
    """
    return lambda out: F.mse_loss(out[mask, 0], target[mask])


def bce_on(target: Tensor, mask: Tensor) -> Loss:
    """Binary cross-entropy of a one-column logit on the nodes of ``mask``.

    Examples
    --------
    >>> import torch
    >>> loss = bce_on(torch.tensor([1.0, 0.0]), torch.tensor([True, True]))
    >>> round(float(loss(torch.zeros(2, 1))), 4)          # log 2
    0.6931
    """
    return lambda out: F.binary_cross_entropy_with_logits(out[mask, 0], target[mask])


def rloss_on(y_res: Tensor, t_res: Tensor, weight: Tensor) -> Loss:
    r"""The weighted R-loss of an effect output :math:`\tau`,
    :math:`\sum_i w_i (\tilde Y_i - \tilde T_i \tau_i)^2 / \sum_i w_i`.

    Examples
    --------
    >>> import torch
    >>> loss = rloss_on(torch.tensor([2.0, 1.0]), torch.tensor([1.0, 0.5]),
    ...                 torch.tensor([1.0, 0.0]))
    >>> float(loss(torch.tensor([[2.0], [9.0]])))        # node 1 has weight 0
    0.0
    """
    def loss(out: Tensor) -> Tensor:
        return (weight * (y_res - t_res * out[:, 0]) ** 2).sum() / \
            weight.sum().clamp_min(1e-12)

    return loss


def node_gnn(in_channels: int, hidden_channels: int, *, seed: int, device: Any = "cpu",
             conv: str = "gcn", out_channels: int = 1) -> GNN:
    """A two-layer GNN (``conv`` layers) without dropout, initialised under ``seed``
    (on the CPU, so every device starts from the same weights) and moved to
    ``device``.

    Examples
    --------
    >>> net = node_gnn(4, 8, seed=0)
    >>> torch.equal(net.layers[0].lin.weight, node_gnn(4, 8, seed=0).layers[0].lin.weight)
    True
    """
    with torch_seed(seed):
        module = GNN(in_channels, hidden_channels, out_channels, 2, conv, 0.0)
    return module.to(device)


def fit_masked(module: torch.nn.Module, inputs: tuple, loss: Loss, *, max_epochs: int,
               lr: float, val_loss: Optional[Loss] = None,
               weight_decay: float = WEIGHT_DECAY,
               patience: Optional[int] = None) -> TrainingResult:
    """Trains ``module`` full-batch with Adam on ``loss(module(*inputs))`` through
    :func:`~graphbias.nn.training.fit_module`.

    Parameters
    ----------
    module : torch.nn.Module
        The model, called as ``module(*inputs)``.
    inputs : tuple
        Its inputs (features, graph, ...), on the module's device.
    loss : callable
        Training loss of the output (see :func:`mse_on`, :func:`bce_on`,
        :func:`rloss_on`).
    max_epochs : int
        Epochs (one full-batch step each).
    lr : float
        Adam's learning rate.
    val_loss : callable, optional
        Validation loss of the output: early stopping monitors it as ``"val_loss"``
        (mode ``"min"``) and the weights of its least epoch are restored.
    weight_decay : float, default=5e-4
        Adam's L2 penalty.
    patience : int, optional
        With ``val_loss``: stop after that many epochs without a better one
        (default: run every epoch).

    Returns
    -------
    TrainingResult
        The history of the epochs; ``module`` holds the trained (or best) weights,
        in eval mode.

    Examples
    --------
    >>> import torch
    >>> g = Graph(torch.tensor([[0, 1], [1, 0]]), 2)
    >>> x, y = torch.eye(2), torch.tensor([1.0, -1.0])
    >>> net = node_gnn(2, 8, seed=0)
    >>> mask = torch.tensor([True, True])
    >>> result = fit_masked(net, (x, g), mse_on(y, mask), max_epochs=5, lr=0.01,
    ...                     val_loss=mse_on(y, mask))
    >>> result.n_epochs, sorted(result.history[0])
    (5, ['epoch', 'lr', 'seconds', 'train_loss', 'val_loss'])
    """
    opt = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    validate = stopping = None
    if val_loss is not None:
        def validate() -> dict[str, float]:
            return {"val_loss": float(val_loss(module(*inputs)))}

        stopping = EarlyStopping("val_loss", "min", patience=patience)
    return fit_module(module, opt, lambda _: loss(module(*inputs)), max_epochs=max_epochs,
                      validate=validate, stopping=stopping, desc=type(module).__name__)
