r"""The :math:`\ell_2`-norm (weighted) flow diffusion of Fountoulakis, Wang and
Yang (2021) and Yang and Fountoulakis (2023), solved locally by coordinate pushes.

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
and :math:`m_i = T_i` wherever :math:`x_i > 0`. A coordinate push at a node with
excess :math:`m_i > T_i` raises :math:`x_i` by :math:`(m_i - T_i) / d_i`, which sets
:math:`m_i = T_i` and hands :math:`w_{ij} (m_i - T_i) / d_i` to each neighbour. Mass
is conserved and :math:`x` only grows, so only nodes that receive mass are touched:
the solution's support has volume at most :math:`|\Delta|` (for :math:`T = d`).
Pushes run in rounds (every node with excess above ``tol`` times its capacity at
once) until no such node is left.

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

from .diffusion import Diffusion, Frontier
from .view import GraphView

__all__ = ["flow_diffusion", "sink_capacity", "UnabsorbedMass"]

SinkSpec = Union[str, np.ndarray]


class UnabsorbedMass(ValueError):
    """The source mass exceeds the sink capacity of the seeds' connected
    component: the diffusion fills it and never settles. ``component`` holds its
    nodes (found locally, by the pushes)."""

    def __init__(self, component: np.ndarray, capacity: float, mass: float) -> None:
        super().__init__(f"source_mass {mass} exceeds the total sink capacity "
                         f"{capacity} of the seeds' connected component "
                         f"({component.size} nodes): the mass can never settle")
        self.component = component


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


def _check_sink(view: GraphView, sink: Any) -> SinkSpec:
    if isinstance(sink, str):
        return sink
    arr = np.asarray(sink, dtype=np.float64)
    if arr.shape != (view.num_nodes,) or not np.isfinite(arr).all() or (arr <= 0).any():
        raise ValueError(f"sink must be 'degree', 'unit' or {view.num_nodes} finite "
                         "positive capacities, one per node")
    return arr


def flow_diffusion(view: GraphView, seeds: Any, *, source_mass: float,
                   sink: Any = "degree", tol: float = 1e-3,
                   max_rounds: int = 100_000) -> Diffusion:
    """:math:`\\ell_2` flow diffusion of ``source_mass`` (split evenly over ``seeds``).

    Stops once every node's excess is at most ``tol`` times its sink capacity.
    Returns a :class:`Diffusion` with the dual potentials ``x`` as values and scores.
    Raises ``ValueError`` when the mass cannot be absorbed: :class:`UnabsorbedMass`
    when ``source_mass`` exceeds the total sink capacity of the seeds' connected
    component.
    """
    if not (isinstance(source_mass, (int, float)) and np.isfinite(source_mass)
            and source_mass > 0):
        raise ValueError(f"source_mass must be a finite number > 0, got {source_mass!r}")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be > 0, got {tol!r}")
    sink = _check_sink(view, sink)
    capacity = view.base_volume() if isinstance(sink, str) and sink == "degree" else \
        float(view.num_nodes) if isinstance(sink, str) else float(sink.sum())
    if source_mass > capacity:
        raise ValueError(f"source_mass {source_mass} exceeds the total sink capacity "
                         f"{capacity} of the graph: the mass can never settle")
    seeds = view.check_seeds(seeds)
    x, m, seen, stamp = view.scratch()
    front = Frontier(seen, stamp, seeds)
    try:
        m[seeds] = source_mass / seeds.size
        cap = sink_capacity(view, seeds, sink)
        reached_capacity = float(cap.sum())
        active = seeds[m[seeds] > cap * (1.0 + tol)]
        rounds = pushed = 0
        while active.size:
            rounds += 1
            if rounds > max_rounds:
                raise RuntimeError(f"flow diffusion did not reach tol={tol} in "
                                   f"{max_rounds} rounds")
            cap = sink_capacity(view, active, sink)
            step = (m[active] - cap) / view.degree(active)
            pushed += int(np.count_nonzero(x[active] == 0))
            x[active] += step
            m[active] = cap
            owner, nbrs, w = view.rows(active)
            np.add.at(m, nbrs, step[owner] * w)
            cand, new = front.add(nbrs)
            reached_capacity += float(sink_capacity(view, new, sink).sum())
            if pushed == front.count and source_mass > reached_capacity:
                # every touched node has pushed, so the touched set is the seeds'
                # whole connected component, and it cannot hold the mass
                raise UnabsorbedMass(front.nodes(), reached_capacity, source_mass)
            active = cand[m[cand] > sink_capacity(view, cand, sink) * (1.0 + tol)]
        nodes = front.nodes()
        values = x[nodes].copy()
        cap = sink_capacity(view, nodes, sink)
        excess = (m[nodes] - cap) / cap
        return Diffusion(nodes, values, values, nodes.size, front.edges, rounds,
                         float(max(excess.max(), 0.0)))
    finally:
        touched = front.nodes()
        x[touched] = 0.0
        m[touched] = 0.0
        seen[touched] = False
