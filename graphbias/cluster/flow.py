r"""The :math:`\ell_2`-norm (weighted) flow diffusion of Fountoulakis, Wang and
Yang (2021) and Yang and Fountoulakis (2023), solved locally on its growing support.

Source mass :math:`\Delta` sits on the seeds, each node :math:`i` can absorb up to its
sink capacity :math:`T_i`, and the excess is routed along edges at cost
:math:`\sum_{ij} f_{ij}^2 / w_{ij}`:

.. math:: \min_f\ \tfrac12 \sum_{(i,j)} f_{ij}^2 / w_{ij} \quad \text{s.t.}\quad
    \Delta + B^\top f \le T.

Its dual, over node potentials :math:`x \ge 0`, is

.. math:: \min_{x \ge 0}\ \tfrac12 x^\top L x + x^\top (T - \Delta),

with the weighted Laplacian :math:`L = D - W`; the optimal flow is
:math:`f_{ij} = w_{ij}(x_i - x_j)` and the mass at node :math:`i` is
:math:`m_i = \Delta_i - (Lx)_i`. Optimality (KKT): :math:`x \ge 0`, :math:`m \le T`
and :math:`m_i = T_i` wherever :math:`x_i > 0`. Mass is conserved, so the support
:math:`S = \{x > 0\}` holds at most :math:`|\Delta|` of capacity (volume at most
:math:`|\Delta|` for :math:`T = d`).

**Solver.** The dual is a linear complementarity problem with an M-matrix, solved by
growing the support (Chandrasekaran's method): start from the seeds that cannot hold
their mass; on the current set :math:`S` solve the KKT equations
:math:`m_S = T_S`, i.e. :math:`L_{SS}\, x_S = \Delta_S - T_S` with :math:`x = 0` off
:math:`S`; then every node off :math:`S` whose mass exceeds its capacity joins
:math:`S`, and the system is solved again. While :math:`S` is a proper part of a
connected component, :math:`L_{SS}` is a nonsingular M-matrix, so each solve only
raises :math:`x` and :math:`S` stays inside the support of the exact solution: only
:math:`S` and its neighbours are ever touched, and only the rows of :math:`S` are read
(once each). The systems are solved by conjugate gradients preconditioned by the
diagonal, each warm-started from the last solution, until every residual
:math:`|m_i - T_i|` on :math:`S` is at most ``tol`` times :math:`T_i`; a larger mass
warm-starts from the solution of a smaller one (:class:`FlowSolver`), since the
solution grows with :math:`\Delta`. Conjugate gradients need about
:math:`\sqrt{\kappa}\log(1/\mathrm{tol})` steps where pushing every node above
threshold in rounds (Jacobi) needs :math:`\kappa \log(1/\mathrm{tol})`, and
:math:`\kappa` is large exactly when :math:`S` is a good cluster: the smallest
eigenvalue of :math:`D^{-1} L_{SS}` is of the order of its conductance, which a
label-weighted graph makes tiny.

>>> import torch
>>> from graphbias.data import Graph
>>> from graphbias.cluster.view import GraphView
>>> path = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
>>> d = flow_diffusion(GraphView.from_graph(Graph(path, 4)), 0, source_mass=4.0, tol=1e-9)
>>> d.nodes.tolist(), [round(float(v), 6) for v in d.values]
([0, 1, 2], [4.0, 1.0, 0.0])
"""
from __future__ import annotations

from typing import Any, Union

import numpy as np
import scipy.sparse as sp

from .diffusion import Diffusion
from .view import GraphView

__all__ = ["flow_diffusion", "FlowSolver", "sink_capacity", "UnabsorbedMass"]

SinkSpec = Union[str, np.ndarray]


class UnabsorbedMass(ValueError):
    """The source mass fills the seeds' connected component: it exceeds (up to
    ``tol``) the component's total sink capacity and can never settle in a proper
    part of it. ``component`` holds its nodes (found locally, by the solver)."""

    def __init__(self, component: np.ndarray, capacity: float, mass: float) -> None:
        super().__init__(f"source_mass {mass} exceeds the total sink capacity "
                         f"{capacity} of the seeds' connected component "
                         f"({component.size} nodes): the mass can never settle")
        self.component = component
        self.capacity = capacity


def sink_capacity(view: GraphView, nodes: np.ndarray, sink: SinkSpec) -> np.ndarray:
    """Capacities ``T`` at ``nodes``: ``"degree"`` (degree in the graph before label
    or feature re-weighting), ``"unit"`` (1 everywhere) or a per-node array."""
    if isinstance(sink, str):
        if sink == "degree":
            return view.base_degree(nodes)
        if sink == "unit":
            return np.ones(nodes.size)
        raise ValueError(f"sink must be 'degree', 'unit' or an array, got {sink!r}")
    return sink[nodes]


def total_capacity(view: GraphView, sink: SinkSpec) -> float:
    """The sink capacity of the whole graph (no larger mass can settle)."""
    if isinstance(sink, str):
        return view.base_volume() if sink == "degree" else float(view.num_nodes)
    return float(sink.sum())


def _check_sink(view: GraphView, sink: Any) -> SinkSpec:
    if isinstance(sink, str):
        sink_capacity(view, np.empty(0, dtype=np.int64), sink)
        return sink
    arr = np.asarray(sink, dtype=np.float64)
    if arr.shape != (view.num_nodes,) or not np.isfinite(arr).all() or (arr <= 0).any():
        raise ValueError(f"sink must be 'degree', 'unit' or {view.num_nodes} finite "
                         "positive capacities, one per node")
    return arr


def _check_mass(source_mass: Any, capacity: float) -> float:
    if not (isinstance(source_mass, (int, float, np.integer, np.floating))
            and not isinstance(source_mass, bool) and np.isfinite(source_mass)
            and source_mass > 0):
        raise ValueError(f"source_mass must be a finite number > 0, got {source_mass!r}")
    if source_mass > capacity:
        raise ValueError(f"source_mass {source_mass} exceeds the total sink capacity "
                         f"{capacity} of the graph: the mass can never settle")
    return float(source_mass)


class FlowSolver:
    """Flow diffusions from one seed set at growing source masses, each warm-started
    from the previous solution (module docstring).

    Use it as a context manager: it borrows the view's scratch arrays and gives them
    back clean on exit, so one solver at a time may run on a view.

    Parameters
    ----------
    view : GraphView
        The (re-weighted) graph.
    seeds : int or array-like of int
        The seed node(s); the source mass is split evenly over them.
    sink : {"degree", "unit"} or array of shape (n_nodes,), default="degree"
        Sink capacities: the degree before re-weighting, 1, or one per node (> 0).
    tol : float, default=1e-3
        Stop when every residual on the support is at most ``tol`` (> 0) times the
        node's capacity and no other node holds more than ``1 + tol`` times it.
    max_rounds : int, default=100_000
        Most conjugate-gradient steps over all solves (``RuntimeError`` beyond).

    Examples
    --------
    >>> import torch
    >>> from graphbias.data import Graph
    >>> path = Graph(torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]), 4)
    >>> with FlowSolver(GraphView.from_graph(path), 0, tol=1e-9) as solver:
    ...     small, large = solver.solve(2.0), solver.solve(4.0)
    >>> small.support.tolist(), large.support.tolist(), large.touched
    ([0], [0, 1], 3)
    """

    def __init__(self, view: GraphView, seeds: Any, *, sink: Any = "degree",
                 tol: float = 1e-3, max_rounds: int = 100_000) -> None:
        if not (isinstance(tol, (int, float)) and not isinstance(tol, bool) and tol > 0):
            raise ValueError(f"tol must be > 0, got {tol!r}")
        self.view, self.sink, self.tol = view, _check_sink(view, sink), float(tol)
        self.max_rounds = max_rounds
        self.capacity = total_capacity(view, self.sink)
        seeds = view.check_seeds(seeds)
        _, _, self._seen, self._where = view.scratch()
        self.nodes = np.empty(0, dtype=np.int64)     # touched nodes, in local order
        self._cap = self._deg = self._x = np.empty(0)
        self._has_rows = self._in_support = np.empty(0, dtype=bool)
        self._src = self._dst = np.empty(0, dtype=np.int64)   # rows read, local ids
        self._w = np.empty(0)
        self._touch(seeds)
        self._seeds = self._where[seeds]
        self._mass = 0.0
        self.rounds = self.edges = 0

    # ------------------------------------------------------------ bookkeeping
    def __enter__(self) -> "FlowSolver":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Gives the view's scratch arrays back clean."""
        self._seen[self.nodes] = False
        self.nodes = np.empty(0, dtype=np.int64)

    def _touch(self, nodes: np.ndarray) -> None:
        """Adds the nodes not yet touched (``nodes`` may repeat)."""
        fresh = np.unique(nodes[~self._seen[nodes]])
        if not fresh.size:
            return
        self._seen[fresh] = True
        self._where[fresh] = np.arange(self.nodes.size, self.nodes.size + fresh.size)
        self.nodes = np.concatenate([self.nodes, fresh])
        grow = lambda a, v: np.concatenate([a, np.full(fresh.size, v, dtype=a.dtype)])
        self._cap = np.concatenate([self._cap, sink_capacity(self.view, fresh, self.sink)])
        self._deg, self._x = grow(self._deg, 0.0), grow(self._x, 0.0)
        self._has_rows = grow(self._has_rows, False)
        self._in_support = grow(self._in_support, False)

    def _read_rows(self, local: np.ndarray) -> None:
        """Reads the rows of the touched nodes ``local`` (local ids) from the graph."""
        owner, nbrs, w = self.view.rows(self.nodes[local])
        self.edges += nbrs.size
        self._touch(nbrs)
        self._src = np.concatenate([self._src, local[owner]])
        self._dst = np.concatenate([self._dst, self._where[nbrs]])
        self._w = np.concatenate([self._w, w])
        self._deg[local] = np.bincount(owner, w, minlength=local.size)
        self._has_rows[local] = True

    def _masses(self) -> np.ndarray:
        """:math:`m = \\Delta - Lx` at every touched node."""
        inflow = np.bincount(self._dst, self._w * self._x[self._src],
                             minlength=self.nodes.size)
        m = inflow.astype(np.float64, copy=False) - self._deg * self._x
        m[self._seeds] += self._mass / self._seeds.size
        return m

    # ----------------------------------------------------------------- solve
    def _system(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """:math:`L_{SS}` in support-local ids, and the support's local ids."""
        support = np.flatnonzero(self._in_support)
        index = np.cumsum(self._in_support) - 1
        both = self._in_support[self._src] & self._in_support[self._dst]
        k = support.size
        adj = sp.csr_matrix((self._w[both], (index[self._src[both]], index[self._dst[both]])),
                            shape=(k, k))
        return (sp.diags(self._deg[support]) - adj).tocsr(), support

    def _conjugate_gradients(self) -> None:
        """Solves :math:`L_{SS} x_S = \\Delta_S - T_S` from the current ``x``."""
        lap, support = self._system()
        x = self._x[support]
        r = (self._masses() - self._cap)[support]
        bound = self.tol * self._cap[support]
        inv_diag = 1.0 / lap.diagonal()
        z = inv_diag * r
        p, rz = z.copy(), float(r @ z)
        while (np.abs(r) > bound).any():
            self.rounds += 1
            if self.rounds > self.max_rounds:
                raise RuntimeError(f"flow diffusion did not reach tol={self.tol} in "
                                   f"{self.max_rounds} rounds")
            lp = lap @ p
            step = rz / float(p @ lp)
            x += step * p
            r -= step * lp
            z = inv_diag * r
            rz, previous = float(r @ z), rz
            p = z + (rz / previous) * p
        self._x[support] = x

    def solve(self, source_mass: float) -> Diffusion:
        """The diffusion of ``source_mass``, warm-started from the previous solve.

        Parameters
        ----------
        source_mass : float
            Total source mass (> 0, at least the previous one, at most the graph's
            total sink capacity).

        Returns
        -------
        Diffusion
            ``touched``, ``edges_scanned`` and ``rounds`` count everything the
            solver did so far (this solve and the ones it started from).

        Raises
        ------
        UnabsorbedMass
            When the mass fills the seeds' connected component.
        """
        mass = _check_mass(source_mass, self.capacity)
        if mass < self._mass:
            raise ValueError(f"source masses must not decrease: {mass} after {self._mass}")
        self._mass = mass
        while True:
            m = self._masses()
            over = (m > self._cap * (1.0 + self.tol)) & ~self._in_support
            if not over.any() and not self._unsettled(m):
                break
            new = np.flatnonzero(over & ~self._has_rows)
            if new.size:
                self._read_rows(new)
            self._in_support[np.flatnonzero(over)] = True
            if self._in_support.all():
                # no touched node lies outside S: S is the seeds' whole component
                raise UnabsorbedMass(np.sort(self.nodes), float(self._cap.sum()), mass)
            self._conjugate_gradients()
            # an inexact solve may leave a potential below 0: that node is off the
            # support (it rejoins if its mass exceeds its capacity again)
            below = self._in_support & (self._x < 0)
            self._x[below] = 0.0
            self._in_support[below] = False
        return self._diffusion(m)

    def _unsettled(self, m: np.ndarray) -> bool:
        s = self._in_support
        return bool((np.abs(m[s] - self._cap[s]) > self.tol * self._cap[s]).any())

    def _diffusion(self, m: np.ndarray) -> Diffusion:
        rel = (m - self._cap) / self._cap
        rel = np.where(self._in_support, np.abs(rel), np.maximum(rel, 0.0))
        order = np.argsort(self.nodes)
        nodes, values = self.nodes[order], self._x[order].copy()
        return Diffusion(nodes, values, values, nodes.size, self.edges, self.rounds,
                         float(rel.max(initial=0.0)))


def flow_diffusion(view: GraphView, seeds: Any, *, source_mass: float,
                   sink: Any = "degree", tol: float = 1e-3,
                   max_rounds: int = 100_000) -> Diffusion:
    """:math:`\\ell_2` flow diffusion of ``source_mass`` (split evenly over ``seeds``).

    Solved as the module docstring says, from scratch (:class:`FlowSolver` runs
    growing masses warm-started).

    Parameters
    ----------
    view : GraphView
        The (re-weighted) graph.
    seeds : int or array-like of int
        The seed node(s).
    source_mass : float
        Total source mass (> 0, at most the graph's total sink capacity).
    sink : {"degree", "unit"} or array of shape (n_nodes,), default="degree"
        Sink capacities.
    tol : float, default=1e-3
        Residual tolerance relative to each capacity (> 0).
    max_rounds : int, default=100_000
        Most conjugate-gradient steps (``RuntimeError`` beyond).

    Returns
    -------
    Diffusion
        The dual potentials ``x`` as values and scores.

    Raises
    ------
    ValueError
        For bad arguments or a mass above the graph's total capacity;
        :class:`UnabsorbedMass` when ``source_mass`` fills the seeds' connected
        component.

    Examples
    --------
    >>> import torch
    >>> from graphbias.data import Graph
    >>> star = Graph(torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]]), 4)
    >>> flow_diffusion(GraphView.from_graph(star), 0, source_mass=4.5).support.tolist()
    [0]
    """
    with FlowSolver(view, seeds, sink=sink, tol=tol, max_rounds=max_rounds) as solver:
        return solver.solve(source_mass)
