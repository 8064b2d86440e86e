"""Estimator mixins and the input validation every estimator shares.

Every estimator follows scikit-learn's contract: ``__init__`` stores parameters,
``fit`` validates and returns ``self``, learned state ends in ``_``, predict-side
methods call ``check_is_fitted``. The graph is a keyword argument
(``fit(X, y, *, graph=...)``) that accepts anything :func:`graphbias.as_graph` reads.
"""
from __future__ import annotations

import contextlib
import copy
import inspect
import warnings
from types import SimpleNamespace
from typing import Any, Iterator, Optional

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import check_random_state

from ._validation import resolve_device, validate_params
from .data.graph import Graph, as_graph

__all__ = ["torch_seed", "seed_from", "resolve_graph_input", "predict_graph", "node_mask",
           "ISOLATED", "EstimatorMixin", "to_device", "to_scipy_or_array"]


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


#: ``graph=ISOLATED`` asks a node-level estimator for graph-free prediction:
#: every row an isolated node, explicitly.
ISOLATED = "isolated"


def resolve_graph_input(X: Any, graph: Any, *, n_rows: int) -> Graph:
    """The graph for ``n_rows`` nodes read by :func:`as_graph`; ``None`` or
    :data:`ISOLATED` give ``n_rows`` isolated nodes (a GNN then acts on each row
    alone, like an MLP). The node count must equal the number of rows of ``X``."""
    if graph is None or (isinstance(graph, str) and graph == ISOLATED):
        return Graph(torch.empty(2, 0, dtype=torch.long), n_rows)
    g = as_graph(graph)
    if g.num_nodes != n_rows:
        raise ValueError(f"X has {n_rows} rows but the graph has {g.num_nodes} nodes: "
                         "node-level estimators take one row of X per node")
    return g


def predict_graph(fit_graph: Optional[Graph], graph: Any, *, n_rows: int) -> Graph:
    """The graph a fitted node-level estimator predicts on.

    ``graph`` when given. Without one, the graph of ``fit`` (``fit_graph``) when it
    has ``n_rows`` nodes, and a ``ValueError`` when it has not: a graph is never
    silently replaced by isolated nodes. ``graph=ISOLATED`` (``"isolated"``) asks
    for graph-free prediction explicitly; a model fitted without a graph predicts
    without one.
    """
    if graph is not None:
        return resolve_graph_input(None, graph, n_rows=n_rows)
    if fit_graph is None:
        return resolve_graph_input(None, None, n_rows=n_rows)
    if fit_graph.num_nodes != n_rows:
        raise ValueError(
            f"the model was fitted on a graph of {fit_graph.num_nodes} nodes but X has "
            f"{n_rows} rows and no graph was given: pass graph=... (one node per row), "
            f"or graph={ISOLATED!r} to predict every row as an isolated node")
    return fit_graph


def node_mask(name: str, mask: Any, num_nodes: int) -> Optional[torch.Tensor]:
    """A boolean node mask from a boolean array or an array of node ids.

    An integer array of length ``num_nodes`` holding only 0 and 1 is read as a
    mask (as ids it would repeat nodes); where that is ambiguous (two nodes or
    fewer) it is refused. Ids must be distinct and in range.
    """
    if mask is None:
        return None
    m = torch.as_tensor(np.asarray(mask))
    if m.dtype == torch.bool:
        if m.shape != (num_nodes,):
            raise ValueError(f"{name} must have shape ({num_nodes},), got {tuple(m.shape)}")
        return m
    if m.dtype.is_floating_point or m.is_complex() or m.dim() != 1:
        raise ValueError(f"{name} must be a boolean mask or a 1-D array of node ids, "
                         f"got {m.dtype} of shape {tuple(m.shape)}")
    if m.numel() == num_nodes and m.numel() and bool(((m == 0) | (m == 1)).all()):
        if num_nodes <= 2:
            raise ValueError(f"{name} holds only 0 and 1 for a graph of {num_nodes} "
                             "nodes: pass a boolean mask or node ids, the two read alike")
        return m.bool()
    if m.numel() and (int(m.min()) < 0 or int(m.max()) >= num_nodes):
        raise ValueError(f"{name} has node ids outside [0, {num_nodes})")
    if m.unique().numel() != m.numel():
        raise ValueError(f"{name} lists a node id more than once")
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


def to_device(obj: Any, device: Any, *, copy_modules: bool = False) -> Any:
    """``obj`` with every torch module, tensor and :class:`Graph` in it (through
    lists, tuples and dicts) on ``device``; with ``copy_modules`` a module on
    another device is copied rather than moved, so the original is untouched."""
    if isinstance(obj, torch.nn.Module):
        tensors = list(obj.parameters()) + list(obj.buffers())
        if all(t.device == torch.device(device) for t in tensors):
            return obj
        return (copy.deepcopy(obj) if copy_modules else obj).to(device)
    if isinstance(obj, (torch.Tensor, Graph)):
        return obj.to(device)
    if isinstance(obj, list):
        return [to_device(v, device, copy_modules=copy_modules) for v in obj]
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(to_device(v, device, copy_modules=copy_modules) for v in obj)
    if isinstance(obj, dict):
        return {k: to_device(v, device, copy_modules=copy_modules) for k, v in obj.items()}
    return obj


class EstimatorMixin:
    """What every graphbias estimator shares beyond ``BaseEstimator``.

    - :meth:`_begin_fit`: drops all fitted state, i.e. every attribute ending in
      ``_`` (a refit after ``set_params`` keeps nothing stale), validates every parameter through
      :func:`graphbias._validation.validate_params` and, for estimators with a
      ``device`` parameter, sets ``device_``.
    - Pickling: torch state is stored on the CPU, so a model fitted on a GPU loads
      on a CPU-only machine; on loading it returns to ``device_`` when that device
      exists, else stays on the CPU (with a warning) and ``device_`` says so. A
      parameter added to the estimator after it was pickled takes its default.
    """

    #: deprecated constructor names -> their new names (see ``validate_params``)
    _aliases: dict[str, str] = {}

    def _reset(self) -> None:
        """Deletes the fitted state: every attribute whose name ends in ``_``
        (public ``coef_`` and private ``_cache_`` alike) that is not a parameter.
        Other attributes (scikit-learn's request and callback configuration) stay."""
        params = set(self.get_params(deep=False))
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("__") and name not in params:
                delattr(self, name)

    def _begin_fit(self) -> SimpleNamespace:
        self._reset()
        params = validate_params(self, self._aliases)
        if hasattr(params, "device"):
            self.device_ = resolve_device(params.device)
        return params

    def __getstate__(self) -> dict:
        state = super().__getstate__()  # type: ignore[misc]
        return {k: to_device(v, "cpu", copy_modules=True) for k, v in state.items()}

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)  # type: ignore[misc]
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if name not in vars(self) and param.default is not inspect.Parameter.empty:
                setattr(self, name, param.default)  # added after this was pickled
        device = getattr(self, "device_", None)
        if device is None or device.type == "cpu":
            return
        if device.type == "cuda" and torch.cuda.is_available():
            for k, v in list(vars(self).items()):
                setattr(self, k, to_device(v, device))
        else:
            warnings.warn(f"{type(self).__name__} was fitted on {device}, which this "
                          "machine lacks: it was loaded on the CPU", UserWarning)
            self.device_ = torch.device("cpu")
