r"""A read-only, locally evaluated view of an undirected graph for diffusions.

:class:`GraphView` holds numpy views of a :class:`~graphbias.data.Graph`'s CSR
(``indptr``, ``indices``, optional edge weights) and answers the two questions a
local diffusion asks: the weighted neighbour lists of a few nodes (:meth:`rows`)
and their weighted degrees (:meth:`degree`). Edge weights may be re-weighted on
the fly, never materialised for the whole graph:

* noisy labels :math:`\tilde y \in \{0, 1\}^n` (the label-weighted graph of Back de
  Luca, Fountoulakis and Yang, 2024): an edge keeps its weight when both ends are
  labelled 1 and is scaled by ``label_eps`` :math:`= \varepsilon \in (0, 1]`
  otherwise,

  .. math:: w^{\tilde y}_{ij} = w_{ij} \cdot
      \begin{cases} 1 & \tilde y_i = \tilde y_j = 1 \\ \varepsilon & \text{otherwise,}
      \end{cases}

  so edges inside the labelled-1 region are heavier, by :math:`1/\varepsilon`, than
  every other edge;
* node features (the weighted flow diffusion of Yang and Fountoulakis, 2023): a
  further factor :math:`\exp(-\gamma \lVert x_i - x_j \rVert^2)`.

Weights of a row are computed when a diffusion first reads it; weighted degrees are
cached per node as they are computed. The degree :math:`d_v = \sum_u w_{vu}` of the
diffusions is the row sum of the weighted adjacency, where a self-loop counts once;
the :meth:`~GraphView.volume` that conductance divides by counts it twice, as
networkx's ``volume`` does. Scratch arrays for the push loops are
allocated once per view and reset, entry by entry, after each query.

>>> import torch
>>> from graphbias.data import Graph
>>> g = Graph(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3)
>>> view = GraphView.from_graph(g, labels=[1, 1, 0], label_eps=0.1)
>>> view.degree(np.array([0, 1, 2])).tolist()
[1.0, 1.1, 0.1]
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import scipy.sparse as sp
import torch

from ..data.graph import Graph, as_graph

__all__ = ["GraphView", "check_binary_labels", "check_seed_ids"]


def check_binary_labels(labels: Any, num_nodes: int) -> np.ndarray:
    """Boolean array of 0/1 (or boolean) labels, one per node; ``ValueError`` otherwise."""
    arr = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) \
        else np.asarray(labels)
    if arr.shape != (num_nodes,):
        raise ValueError(f"noisy_labels must have shape ({num_nodes},) (one per node), "
                         f"got {arr.shape}")
    if arr.dtype != bool:
        if not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"noisy_labels must be 0/1 numbers, got dtype {arr.dtype}")
        bad = ~np.isin(arr, (0, 1))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"noisy_labels must be 0 or 1, got {arr[i]!r} at node {i}")
    return arr.astype(bool)


def check_seed_ids(seeds: Any, num_nodes: int) -> np.ndarray:
    """Distinct seed ids, sorted, as int64.

    Parameters
    ----------
    seeds : int or array-like of int
        One node id or a non-empty 1-D list of ids.
    num_nodes : int
        Number of nodes of the graph.

    Returns
    -------
    ndarray of int64

    Raises
    ------
    ValueError
        For an empty or nested list, non-integer ids or ids outside
        ``0 .. num_nodes - 1``.

    Examples
    --------
    >>> check_seed_ids([3, 1, 3], 5).tolist()
    [1, 3]
    """
    arr = np.atleast_1d(np.asarray(seeds))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"seeds must be a node id or a non-empty 1-D list of ids, "
                         f"got {seeds!r}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"seed node ids must be integers, got {arr.dtype}")
    bad = (arr < 0) | (arr >= num_nodes)
    if bad.any():
        raise ValueError(f"seed node {int(arr[bad][0])} is out of range: the graph "
                         f"has nodes 0..{num_nodes - 1}")
    return np.unique(arr.astype(np.int64))


class GraphView:
    """Weighted neighbour lists of an undirected graph, computed row by row.

    Build it with :meth:`from_graph`. ``labels``, ``label_eps``, ``features`` and
    ``gamma`` define the re-weighting described in the module docstring.
    """

    def __init__(self, indptr: np.ndarray, indices: np.ndarray,
                 weight: Optional[np.ndarray], *, labels: Optional[np.ndarray] = None,
                 label_eps: float = 1.0, features: Any = None,
                 gamma: Optional[float] = None) -> None:
        self.indptr = indptr
        self.indices = indices
        self.weight = weight
        self.num_nodes = indptr.size - 1
        self.labels = labels
        self.label_eps = float(label_eps)
        self.features = features
        self.gamma = gamma
        self._sq_norms: Optional[np.ndarray] = None
        self._degree: Optional[np.ndarray] = None
        self._base_degree: Optional[np.ndarray] = None
        self._volume: Optional[float] = None
        self._base_volume: Optional[float] = None
        self._scratch: Optional[tuple[np.ndarray, ...]] = None

    @property
    def reweighted(self) -> bool:
        """True when weights are computed on the fly (labels or features)."""
        return self.labels is not None or self.gamma is not None

    # ----------------------------------------------------------------- build
    @classmethod
    def from_graph(cls, graph: Any, *, labels: Any = None, label_eps: float = 0.05,
                   features: Any = None, gamma: Optional[float] = None) -> "GraphView":
        """A view of ``graph`` (anything :func:`~graphbias.data.as_graph` reads).

        The graph must be undirected (each edge stored in both directions with the
        same weight) with nonnegative weights. ``labels`` (0/1 per node) switch on
        the label weighting with factor ``label_eps`` in ``(0, 1]``; ``gamma > 0``
        switches on feature weights from ``features`` (default: the graph's ``x``).
        """
        g = as_graph(graph)
        csr = g.csr
        indptr = csr.indptr.cpu().numpy().astype(np.int64, copy=False)
        indices = csr.indices.cpu().numpy().astype(np.int64, copy=False)
        weight = None
        if csr.values is not None:
            weight = csr.values.detach().cpu().numpy().astype(np.float64)
            if (weight < 0).any():
                k = int(np.flatnonzero(weight < 0)[0])
                raise ValueError(f"edge weights must be nonnegative; CSR entry {k} "
                                 f"(into node {int(np.searchsorted(indptr, k, 'right') - 1)})"
                                 f" has weight {weight[k]}")
        if not g.is_undirected():
            raise ValueError("local clustering needs an undirected graph: every edge "
                             "u -> v must have its reverse v -> u with the same weight "
                             "(use graphbias.data.transforms.to_undirected)")
        lab = None if labels is None else check_binary_labels(labels, g.num_nodes)
        if not (isinstance(label_eps, (int, float)) and 0.0 < label_eps <= 1.0):
            raise ValueError(f"label_eps must be in (0, 1], got {label_eps!r}")
        feats = None
        if gamma is not None:
            if not (isinstance(gamma, (int, float)) and np.isfinite(gamma) and gamma > 0):
                raise ValueError(f"gamma must be a finite number > 0, got {gamma!r}")
            feats = _feature_matrix(g.x if features is None else features, g.num_nodes)
        return cls(indptr, indices, weight, labels=lab, label_eps=label_eps,
                   features=feats, gamma=gamma)

    # ----------------------------------------------------------- neighbours
    def rows(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(owner, neighbour, weight)`` for every stored entry of the given rows;
        ``owner[k]`` is the position in ``nodes`` of the row entry ``k`` belongs to."""
        start = self.indptr[nodes]
        count = self.indptr[nodes + 1] - start
        owner = np.repeat(np.arange(nodes.size), count)
        offset = np.repeat(start - (np.cumsum(count) - count), count)
        pos = np.arange(owner.size) + offset
        nbrs = self.indices[pos]
        return owner, nbrs, self._weights(nodes[owner], nbrs, pos)

    def _weights(self, src: np.ndarray, dst: np.ndarray, pos: np.ndarray) -> np.ndarray:
        w = np.ones(pos.size) if self.weight is None else self.weight[pos]
        if self.labels is not None:
            w = w * np.where(self.labels[src] & self.labels[dst], 1.0, self.label_eps)
        if self.gamma is not None:
            w = w * np.exp(-self.gamma * self._sq_dist(src, dst))
        return w

    def _sq_dist(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        x = self.features
        if self._sq_norms is None:
            self._sq_norms = np.asarray(x.multiply(x).sum(1)).ravel() if sp.issparse(x) \
                else np.einsum("ij,ij->i", x, x)
        dot = np.asarray(x[src].multiply(x[dst]).sum(1)).ravel() if sp.issparse(x) \
            else np.einsum("ij,ij->i", x[src], x[dst])
        return np.maximum(self._sq_norms[src] + self._sq_norms[dst] - 2.0 * dot, 0.0)

    def degree(self, nodes: np.ndarray) -> np.ndarray:
        """Weighted degrees of ``nodes``, the row sums of the weighted adjacency (a
        self-loop counts once; computed on first request, then cached)."""
        if not self.reweighted:
            return self.base_degree(nodes)
        if self._degree is None:
            self._degree = np.full(self.num_nodes, np.nan)
        deg = self._degree[nodes]
        missing = np.isnan(deg)
        if missing.any():
            todo = np.unique(nodes[missing])
            owner, _, w = self.rows(todo)
            self._degree[todo] = np.bincount(owner, w, minlength=todo.size)
            deg = self._degree[nodes]
        return deg

    def clear_cache(self) -> None:
        """Forgets the cached re-weighted degrees (the next queries start cold)."""
        if self._degree is not None:
            self._degree.fill(np.nan)

    def base_degree(self, nodes: np.ndarray) -> np.ndarray:
        """Degrees in the graph before label / feature re-weighting."""
        if self.weight is None:
            return (self.indptr[nodes + 1] - self.indptr[nodes]).astype(np.float64)
        if self._base_degree is None:
            csum = np.concatenate([[0.0], np.cumsum(self.weight)])
            self._base_degree = csum[self.indptr[1:]] - csum[self.indptr[:-1]]
        return self._base_degree[nodes]

    def base_volume(self) -> float:
        """Total degree of the graph before re-weighting (cached)."""
        if self._base_volume is None:
            self._base_volume = float(self.indptr[-1]) if self.weight is None \
                else float(self.weight.sum())
        return self._base_volume

    def volume(self) -> float:
        """Volume of the whole graph as conductance counts it: the total weighted
        degree with every self-loop counted twice (networkx's ``volume``), computed
        in one pass over the rows, in chunks, then cached."""
        if self._volume is None:
            total = loops = 0.0
            chunk = 1 << 15
            for lo in range(0, self.num_nodes, chunk):
                nodes = np.arange(lo, min(lo + chunk, self.num_nodes))
                owner, nbrs, w = self.rows(nodes)
                if self.reweighted:
                    total += float(w.sum())
                loops += float(w[nbrs == nodes[owner]].sum())
            if not self.reweighted:
                total = self.base_volume()
            self._volume = total + loops
        return self._volume

    def self_loops(self, owner: np.ndarray, nbrs: np.ndarray, w: np.ndarray,
                   nodes: np.ndarray) -> np.ndarray:
        """The self-loop weight of each of ``nodes``, from their rows.

        Parameters
        ----------
        owner, nbrs, w : ndarray
            The rows of ``nodes`` as :meth:`rows` returns them.
        nodes : ndarray of int
            The nodes the rows were read for.

        Returns
        -------
        ndarray of float
            The (re-weighted) weight of each node's self-loop, 0 without one.

        Examples
        --------
        >>> view = GraphView.from_graph(Graph([[0, 0, 1], [0, 1, 0]], 2))
        >>> nodes = np.array([0, 1])
        >>> view.self_loops(*view.rows(nodes), nodes).tolist()
        [1.0, 0.0]
        """
        loop = nbrs == nodes[owner]
        return np.bincount(owner[loop], w[loop], minlength=nodes.size)

    # ------------------------------------------------------------- queries
    def check_seeds(self, seeds: Any) -> np.ndarray:
        """Distinct seed ids as int64; ``ValueError`` for bad or isolated seeds."""
        arr = check_seed_ids(seeds, self.num_nodes)
        isolated = arr[self.degree(arr) <= 0]
        if isolated.size:
            raise ValueError(f"seed node {int(isolated[0])} is isolated (weighted degree "
                             "0): a diffusion from it cannot reach any other node")
        return arr

    def scratch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Two zero float arrays, a False bool array and an int work array, each of
        length ``num_nodes``, allocated once per view.

        Callers must restore zeros / False at every entry of the first three they
        wrote before they return (so a query costs work proportional to what it
        touches); the int array may hold anything."""
        if self._scratch is None:
            n = self.num_nodes
            # np.full writes every page now: np.zeros would map them lazily, and
            # each query would pay page faults for the fresh pages it touches
            self._scratch = (np.full(n, 0.0), np.full(n, 0.0), np.full(n, False),
                             np.full(n, 0, dtype=np.int64))
        return self._scratch

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_scratch"] = None
        return state


def _feature_matrix(x: Any, num_nodes: int) -> Any:
    if x is None:
        raise ValueError("gamma is set but the graph has no node features x: pass "
                         "features or leave gamma=None")
    if isinstance(x, torch.Tensor):
        if x.layout == torch.sparse_csr:
            x = sp.csr_matrix((x.values().numpy(), x.col_indices().numpy(),
                               x.crow_indices().numpy()), shape=tuple(x.shape))
        elif x.layout != torch.strided:
            x = x.to_dense()
        else:
            x = x.detach().cpu().numpy()
    x = sp.csr_matrix(x, dtype=np.float64) if sp.issparse(x) \
        else np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != num_nodes:
        raise ValueError(f"features must have one row per node ({num_nodes}), got "
                         f"shape {x.shape}")
    values = x.data if sp.issparse(x) else x
    if not np.isfinite(values).all():
        raise ValueError("features contain NaN or infinite values")
    return x
