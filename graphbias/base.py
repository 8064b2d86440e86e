"""Estimator mixins and the input validation every estimator shares.

Every estimator follows scikit-learn's contract: ``__init__`` stores parameters,
``fit`` validates and returns ``self``, learned state ends in ``_``, predict-side
methods call ``check_is_fitted``. The graph is a keyword argument
(``fit(X, y, *, graph=...)``) that accepts anything :func:`graphbias.as_graph` reads.
"""
from __future__ import annotations

import contextlib
import copy
from typing import Any, Iterator, Optional

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import check_random_state

from .data.graph import Graph, as_graph

__all__ = ["torch_seed", "seed_from", "resolve_graph_input", "node_mask",
           "EarlyStopping"]


def seed_from(random_state: Any) -> int:
    """An int seed drawn from ``random_state`` (int, RandomState, Generator or None)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    return int(check_random_state(random_state).randint(2**31 - 1))


@contextlib.contextmanager
def torch_seed(seed: int) -> Iterator[None]:
    """Seeds torch inside the block and restores the global RNG state after it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def resolve_graph_input(X: Any, graph: Any, *, n_rows: int) -> Graph:
    """The graph for ``n_rows`` nodes: ``graph`` read by :func:`as_graph`, or, when
    ``graph`` is None, ``n_rows`` isolated nodes (a GNN then acts on each row alone,
    like an MLP). The node count must equal the number of rows of ``X``."""
    if graph is None:
        return Graph(torch.empty(2, 0, dtype=torch.long), n_rows)
    g = as_graph(graph)
    if g.num_nodes != n_rows:
        raise ValueError(f"X has {n_rows} rows but the graph has {g.num_nodes} nodes: "
                         "node-level estimators take one row of X per node")
    return g


def node_mask(name: str, mask: Any, num_nodes: int) -> Optional[torch.Tensor]:
    """A boolean node mask from a boolean array or an array of node ids."""
    if mask is None:
        return None
    m = torch.as_tensor(np.asarray(mask))
    if m.dtype == torch.bool:
        if m.shape != (num_nodes,):
            raise ValueError(f"{name} must have shape ({num_nodes},), got {tuple(m.shape)}")
        return m
    if m.dtype.is_floating_point or m.dim() != 1:
        raise ValueError(f"{name} must be a boolean mask or a 1-D array of node ids")
    if m.numel() and (int(m.min()) < 0 or int(m.max()) >= num_nodes):
        raise ValueError(f"{name} has node ids outside [0, {num_nodes})")
    out = torch.zeros(num_nodes, dtype=torch.bool)
    out[m.long()] = True
    return out


def to_scipy_or_array(X: Any) -> Any:
    """Torch tensors (dense or sparse) to numpy / scipy for scikit-learn's checks."""
    if isinstance(X, torch.Tensor):
        if X.layout == torch.strided:
            return X.detach().cpu().numpy()
        X = X.detach().cpu().to_sparse_coo().coalesce()
        idx = X.indices().numpy()
        return sp.csr_matrix((X.values().numpy(), (idx[0], idx[1])), shape=tuple(X.shape))
    return X


class EarlyStopping:
    """Keeps the best state seen by a validation score and says when to stop.

    ``step(score, loss, module)`` records a new epoch (higher score is better, ties
    broken by lower loss) and returns True once ``patience`` epochs have passed
    without improvement.
    """

    def __init__(self, patience: Optional[int]) -> None:
        self.patience = patience
        self.best: tuple[float, float] = (-np.inf, np.inf)
        self.best_epoch = -1
        self.best_state: Optional[dict] = None
        self.epoch = -1

    def step(self, score: float, loss: float, module: torch.nn.Module) -> bool:
        self.epoch += 1
        if score > self.best[0] or (score == self.best[0] and loss < self.best[1]):
            self.best, self.best_epoch = (score, loss), self.epoch
            self.best_state = copy.deepcopy(module.state_dict())
        return self.patience is not None and self.epoch - self.best_epoch >= self.patience

    def restore(self, module: torch.nn.Module) -> None:
        if self.best_state is not None:
            module.load_state_dict(self.best_state)
