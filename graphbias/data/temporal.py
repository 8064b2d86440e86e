r"""Spatiotemporal data: a ``T x N x F`` series on a graph, lazy windows, leak-free splits.

A :class:`SpatioTemporalData` holds ``values`` (time steps x nodes x features), a
boolean ``mask`` (``True`` = observed, ``False`` = missing), a static
:class:`~graphbias.data.Graph` or one graph per time step, and optional exogenous
covariates: time covariates computed from a timestamp index, covariates shared by
every node (``T x C``, such as weather) and covariates per node (``T x N x C``).

Windows are never materialised: a window is the integer ``start``; its inputs are
steps ``[start, start + window)`` and its targets
``[start + window + delay, start + window + delay + horizon)``. Only a batch of
windows is gathered at a time (:meth:`SpatioTemporalData.gather`).

>>> import numpy as np
>>> data = SpatioTemporalData(np.arange(20.0).reshape(10, 2))
>>> starts = data.window_starts(window=3, horizon=2)
>>> len(starts), data.gather(starts[:1], 3, 2)[1][0, :, 0, 0].tolist()
(6, [6.0, 8.0])
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch

from .._optional import require
from .graph import Graph, as_graph

__all__ = ["SpatioTemporalData", "StandardScaler", "Split", "time_covariates",
           "datetime_index", "graph_from_distances", "graph_from_adjacency"]

GraphInput = Union[Graph, Sequence[Graph], Any, None]


def datetime_index(timestamps: Any) -> Any:
    """``timestamps`` as a ``pandas.DatetimeIndex`` (pandas is the ``forecast`` extra).

    >>> datetime_index(["2024-01-01 00:05"]).minute.tolist()
    [5]
    """
    return require("pandas", "forecast", "reading timestamps").DatetimeIndex(timestamps)


def time_covariates(timestamps: Any) -> np.ndarray:
    r"""``T x 4`` covariates from a timestamp index: :math:`\sin, \cos` of the time of
    day (period one day) and of the day of week (period one week)."""
    idx = datetime_index(timestamps)
    day = (idx.hour * 3600 + idx.minute * 60 + idx.second).to_numpy() / 86400.0
    week = (idx.day_of_week.to_numpy() + day) / 7.0
    return np.stack([np.sin(2 * np.pi * day), np.cos(2 * np.pi * day),
                     np.sin(2 * np.pi * week), np.cos(2 * np.pi * week)], 1).astype(np.float32)


@dataclass(frozen=True)
class Split:
    """Window starts of a chronological split and the time steps of each part."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    train_steps: tuple[int, int]
    val_steps: tuple[int, int]
    test_steps: tuple[int, int]

    def __getitem__(self, part: str) -> np.ndarray:
        if part not in ("train", "val", "test"):
            raise ValueError(f"part must be 'train', 'val' or 'test', got {part!r}")
        return getattr(self, part)


def _same_graph(a: Graph, b: Graph) -> bool:
    """Whether ``a`` and ``b`` have the same nodes, edges and edge weights."""
    if a is b:
        return True
    if a.num_nodes != b.num_nodes or not torch.equal(a.edge_index, b.edge_index):
        return False
    if a.edge_weight is None or b.edge_weight is None:
        return a.edge_weight is None and b.edge_weight is None
    return torch.equal(a.edge_weight, b.edge_weight)


def covariate_array(name: str, covariates: Any, ndim: int) -> np.ndarray:
    """``covariates`` as float32, with a last axis of width 1 added to an array of
    ``ndim - 1`` dimensions; a NaN or infinite entry is refused (covariates are
    inputs known at every step, with no mask). Shapes are the caller's to check."""
    c = np.asarray(covariates, dtype=np.float32)
    if c.ndim == ndim - 1:
        c = c[..., None]
    bad = np.argwhere(~np.isfinite(c))
    if bad.size:
        raise ValueError(f"{name} has a NaN or infinite entry (first at index "
                         f"{tuple(int(i) for i in bad[0])}): covariates are inputs "
                         "known at every step, with no mask")
    return c


class SpatioTemporalData:
    """A multivariate time series on the nodes of a graph.

    Args:
        values: ``T x N x F`` (or ``T x N``, read as ``F = 1``) real array.
        graph: a Graph (or anything :func:`~graphbias.data.as_graph` reads), or a
            sequence of ``T`` graphs for a time-varying topology (a graph equal to
            the one of the step before is kept as that object), or None.
        mask: boolean array of ``values``' shape, ``True`` where observed.
        zeros_missing: treat exact zeros as missing (traffic speed convention).
        mask_nan: treat NaN as missing; otherwise NaN in an observed entry is an error.
        timestamps: ``T`` timestamps; gives the time covariates (time of day, day
            of week), the first :attr:`num_time_covariates` columns of
            :attr:`covariates`.
        covariates: ``T x C`` (or ``T``) exogenous covariates shared by every node,
            finite; :attr:`covariates` holds them after the time covariates.
        node_covariates: ``T x N x C`` (or ``T x N``) exogenous covariates per node,
            finite; kept in :attr:`node_covariates`.

    Missing entries are stored as 0 in :attr:`values`; a node with no observed
    entry at all is an error. Covariates are known inputs, so they have no mask.

    >>> data = SpatioTemporalData(np.zeros((10, 3)), covariates=np.arange(10.0),
    ...                           node_covariates=np.ones((10, 3, 2)))
    >>> data.num_covariates, data.num_node_covariates
    (1, 2)
    >>> data.gather([0], window=4, horizon=1)[4].shape    # [B, W, N, 1 + 2]
    torch.Size([1, 4, 3, 3])
    """

    def __init__(self, values: Any, graph: GraphInput = None, *, mask: Any = None,
                 zeros_missing: bool = False, mask_nan: bool = False,
                 timestamps: Any = None, covariates: Any = None,
                 node_covariates: Any = None) -> None:
        x = np.asarray(values, dtype=np.float32)
        if x.ndim == 2:
            x = x[:, :, None]
        if x.ndim != 3 or min(x.shape) == 0:
            raise ValueError(f"values must be a non-empty T x N x F (or T x N) array, "
                             f"got shape {np.shape(values)}")
        m = np.ones(x.shape, bool) if mask is None else np.asarray(mask)
        if m.ndim == 2 and x.shape[2] == 1:
            m = m[:, :, None]
        if m.shape != x.shape or m.dtype != bool:
            raise ValueError(f"mask must be a boolean array of shape {x.shape}, got "
                             f"{m.dtype} {m.shape}")
        m = m.copy()
        nan = np.isnan(x)
        if mask_nan:
            m &= ~nan
        elif (nan & m).any():
            t, n, f = np.argwhere(nan & m)[0]
            raise ValueError(f"values contain NaN at observed entries (first at step {t}, "
                             f"node {n}, feature {f}): pass a mask marking them missing "
                             "or mask_nan=True")
        if np.isinf(x[m]).any():
            raise ValueError("values contain infinite entries")
        if zeros_missing:
            m &= x != 0
        empty = np.flatnonzero(~m.reshape(x.shape[0], x.shape[1], -1).any((0, 2)))
        if empty.size:
            raise ValueError(f"node(s) {empty[:10].tolist()} have no observed value: "
                             "drop them from the series and the graph")
        self.values = np.where(m, x, 0.0).astype(np.float32)
        self.mask = m
        self.graph = self._check_graph(graph)
        self.timestamps = timestamps
        if timestamps is not None and len(timestamps) != x.shape[0]:
            raise ValueError(f"timestamps has {len(timestamps)} entries, values has "
                             f"{x.shape[0]} time steps")
        columns = [] if timestamps is None else [time_covariates(timestamps)]
        self.num_time_covariates = sum(c.shape[1] for c in columns)
        if covariates is not None:
            columns.append(self._check_covariates("covariates", covariates, 2))
        self.covariates = np.hstack(columns) if columns else None
        self.node_covariates = (None if node_covariates is None else
                                self._check_covariates("node_covariates", node_covariates, 3))

    def _check_covariates(self, name: str, covariates: Any, ndim: int) -> np.ndarray:
        """``covariates`` as a finite float32 array with the series' steps (and
        nodes)."""
        c = covariate_array(name, covariates, ndim)
        lead = (self.num_steps, self.num_nodes)[:ndim - 1]
        shape = " x ".join(["T", "N", "C"][:ndim - 1] + ["C"])
        if c.ndim != ndim or c.shape[:ndim - 1] != lead or c.shape[-1] == 0:
            raise ValueError(f"{name} must be a {shape} array with T = {self.num_steps}"
                             + (f", N = {self.num_nodes}" if ndim == 3 else "")
                             + f" and C >= 1, got shape {np.shape(covariates)}")
        return c

    def _check_graph(self, graph: GraphInput) -> Union[None, Graph, list[Graph]]:
        if graph is None:
            return None
        if isinstance(graph, (list, tuple)):
            if len(graph) != self.num_steps:
                raise ValueError(f"a time-varying graph needs one graph per step "
                                 f"({self.num_steps}), got {len(graph)}")
            graphs: list[Graph] = []
            for t, g in enumerate(graph):
                g = as_graph(g)
                self._check_nodes(g, f"graph at step {t}")
                graphs.append(graphs[-1] if graphs and _same_graph(g, graphs[-1]) else g)
            return graphs
        g = as_graph(graph)
        self._check_nodes(g, "graph")
        return g

    def _check_nodes(self, g: Graph, name: str) -> None:
        if g.num_nodes != self.num_nodes:
            raise ValueError(f"the {name} has {g.num_nodes} nodes but the series has "
                             f"{self.num_nodes} nodes")

    @property
    def num_steps(self) -> int:
        return self.values.shape[0]

    @property
    def num_nodes(self) -> int:
        return self.values.shape[1]

    @property
    def num_features(self) -> int:
        return self.values.shape[2]

    @property
    def num_covariates(self) -> int:
        """Columns of :attr:`covariates` (time covariates included)."""
        return 0 if self.covariates is None else self.covariates.shape[1]

    @property
    def num_node_covariates(self) -> int:
        """Columns of :attr:`node_covariates`."""
        return 0 if self.node_covariates is None else self.node_covariates.shape[2]

    @property
    def is_static(self) -> bool:
        return not isinstance(self.graph, list)

    def __repr__(self) -> str:
        return (f"SpatioTemporalData(steps={self.num_steps}, nodes={self.num_nodes}, "
                f"features={self.num_features}, observed={self.mask.mean():.3f})")

    # ------------------------------------------------------------------ windows
    def window_starts(self, window: int, horizon: int, stride: int = 1,
                      delay: int = 0, steps: Optional[tuple[int, int]] = None) -> np.ndarray:
        """Starts of the windows whose targets lie inside ``steps`` (default: all)."""
        for name, v, lo in (("window", window, 1), ("horizon", horizon, 1),
                            ("stride", stride, 1), ("delay", delay, 0)):
            if int(v) != v or v < lo:
                raise ValueError(f"{name} must be an integer >= {lo}, got {v}")
        span = window + delay + horizon
        if span > self.num_steps:
            raise ValueError(f"window + delay + horizon = {span} is longer than the "
                             f"series ({self.num_steps} steps)")
        lo, hi = (0, self.num_steps) if steps is None else steps
        first = max(0, lo - window - delay)
        last = hi - span  # last start whose targets end by hi
        return np.arange(first, max(first, last + 1), stride, dtype=np.int64)

    def covariates_at(self, steps: Any) -> Optional[torch.Tensor]:
        """The covariates of the time steps ``steps`` (``[B, S]`` integers):
        ``[B, S, C]``, or ``[B, S, N, C + C']`` with node covariates (the shared ones
        repeated at every node, then the node ones), or None without covariates.

        >>> data = SpatioTemporalData(np.zeros((5, 2)), covariates=np.arange(5.0))
        >>> data.covariates_at([[3, 4]])[..., 0].tolist()
        [[3.0, 4.0]]
        """
        steps = np.asarray(steps, dtype=np.int64)
        cov = None if self.covariates is None else torch.from_numpy(self.covariates[steps])
        if self.node_covariates is not None:
            node = torch.from_numpy(self.node_covariates[steps])
            cov = node if cov is None else torch.cat(
                [cov[:, :, None, :].expand(-1, -1, self.num_nodes, -1), node], -1)
        return cov

    def gather(self, starts: Any, window: int, horizon: int, delay: int = 0
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor,
                          Optional[torch.Tensor]]:
        """Inputs ``[B, W, N, F]``, targets ``[B, H, N, F]``, their masks and the
        covariates of the input steps of the windows at ``starts``
        (:meth:`covariates_at`)."""
        s = np.asarray(starts, dtype=np.int64)[:, None]
        xi = s + np.arange(window)
        yi = s + window + delay + np.arange(horizon)
        return (torch.from_numpy(self.values[xi]), torch.from_numpy(self.values[yi]),
                torch.from_numpy(self.mask[xi]), torch.from_numpy(self.mask[yi]),
                self.covariates_at(xi))

    def split(self, window: int, horizon: int, val: float = 0.1, test: float = 0.2,
              stride: int = 1, delay: int = 0) -> Split:
        """Chronological split of the time axis into train / val / test parts.

        A window belongs to the part that holds all its targets; its inputs may reach
        back into the previous part (that is past data, so nothing leaks)."""
        if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
            raise ValueError(f"val and test fractions must be in [0, 1) with sum < 1, "
                             f"got {val}, {test}")
        T = self.num_steps
        t1 = int(round(T * (1 - val - test)))
        t2 = int(round(T * (1 - test)))
        bounds = ((0, t1), (t1, t2), (t2, T))
        starts = [self.window_starts(window, horizon, stride, delay, b) if b[1] > b[0]
                  else np.zeros(0, np.int64) for b in bounds]
        if starts[0].size == 0:
            raise ValueError(f"the training part ({t1} steps) is too short for "
                             f"window + delay + horizon = {window + delay + horizon}")
        return Split(*starts, *bounds)


class StandardScaler:
    r"""Per node and feature z-scoring, :math:`(x - \mu) / \sigma`, over observed entries.

    Fit it on the **training part only** (``steps``), so no statistic of validation
    or test data leaks into the model inputs.
    """

    def fit(self, data: SpatioTemporalData, steps: Optional[tuple[int, int]] = None
            ) -> "StandardScaler":
        lo, hi = (0, data.num_steps) if steps is None else steps
        x, m = data.values[lo:hi], data.mask[lo:hi]
        count = np.maximum(m.sum(0), 1)
        mean = (x * m).sum(0) / count
        var = (((x - mean) ** 2) * m).sum(0) / count
        self.mean_ = mean.astype(np.float32)
        self.std_ = np.where(var > 1e-12, np.sqrt(var), 1.0).astype(np.float32)
        return self

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        return (x - torch.from_numpy(self.mean_).to(x)) / torch.from_numpy(self.std_).to(x)

    def inverse_transform(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.from_numpy(self.std_).to(x) + torch.from_numpy(self.mean_).to(x)


def graph_from_adjacency(adj: Any, *, threshold: float = 0.0,
                         self_loops: bool = False) -> Graph:
    """A weighted graph from a dense ``N x N`` adjacency: edge ``i -> j`` of weight
    ``adj[i, j]`` wherever ``adj[i, j] > threshold``."""
    a = np.asarray(adj, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency must be square, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("adjacency contains NaN or infinite entries")
    keep = a > threshold
    if not self_loops:
        np.fill_diagonal(keep, False)
    src, dst = np.nonzero(keep)
    return Graph(np.stack([src, dst]), a.shape[0], edge_weight=a[src, dst].astype(np.float32))


def graph_from_distances(dist: Any, *, sigma: Optional[float] = None,
                         threshold: float = 0.1, k: Optional[int] = None) -> Graph:
    r"""Gaussian-kernel graph from an ``N x N`` distance matrix (``inf`` = unreachable).

    :math:`w_{ij} = \exp(-d_{ij}^2 / \sigma^2)` (``sigma`` defaults to the standard
    deviation of the finite off-diagonal distances); weights below ``threshold`` are
    dropped, and with ``k`` each node receives edges from its ``k`` nearest nodes only.
    """
    d = np.asarray(dist, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"distances must be square, got shape {d.shape}")
    if np.isnan(d).any() or (d < 0).any():
        raise ValueError("distances must be non-negative (inf for unreachable), no NaN")
    off = ~np.eye(len(d), dtype=bool)
    finite = d[off & np.isfinite(d)]
    if sigma is None:
        sigma = float(finite.std()) if finite.size > 1 and finite.std() > 0 else 1.0
    w = np.exp(-np.square(d / sigma))
    w[~off] = 0.0
    if k is not None:
        if not 1 <= k < len(d):
            raise ValueError(f"k must be in [1, {len(d) - 1}], got {k}")
        order = np.argsort(np.where(off, d, np.inf), axis=1)[:, :k]
        knn = np.zeros_like(off)
        np.put_along_axis(knn, order, True, axis=1)
        w = np.where(knn.T, w, 0.0)  # edge j -> i for each of i's k nearest j
    return graph_from_adjacency(np.where(w >= threshold, w, 0.0))
