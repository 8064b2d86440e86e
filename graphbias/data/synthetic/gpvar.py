r"""GP-VAR: a graph polynomial vector autoregression with a known optimal forecast.

.. math::

    x_t = \tanh\Big(\sum_{l=0}^{L}\sum_{p=1}^{P} \theta_{l,p}\, S^l x_{t-p}\Big) + \eta_t,
    \qquad \eta_t \sim \mathcal{N}(0, \sigma^2 I),

with :math:`S` the symmetrically normalised adjacency with self-loops. The default is
the configuration of Torch Spatiotemporal's GP-VAR benchmark: 5 communities of two
triangles (30 nodes), :math:`\theta = [[5, 2], [-4, 6], [-1, 0]]` (rows: hops
:math:`l = 0, 1, 2`; columns: lags :math:`p = 1, 2`), :math:`\sigma = 0.4`.

The noise-free term :math:`\tanh(\cdot)` is stored as ``prediction``: it is the
conditional mean of :math:`x_t` given the past, so it is the optimal **one-step**
forecast, and its error is the noise alone: its expected MAE is
:math:`\sigma\sqrt{2/\pi}` (0.319 for :math:`\sigma = 0.4`). Multi-step optima are
not available in closed form.

>>> data, pred = gpvar(num_steps=50, seed=0)
>>> data.values.shape, round(optimal_mae(0.4), 4)
((50, 30, 1), 0.3192)
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..graph import Graph
from ..temporal import SpatioTemporalData

__all__ = ["gpvar", "triangle_communities", "optimal_mae", "TSL_FILTER"]

TSL_FILTER = ((5.0, 2.0), (-4.0, 6.0), (-1.0, 0.0))


def triangle_communities(num_communities: int = 5) -> Graph:
    """Communities of two triangles joined by an edge; community ``c`` is linked to
    ``c + 1`` (a ring). Undirected, ``6 * num_communities`` nodes."""
    edges = []
    for c in range(num_communities):
        o = 6 * c
        edges += [(o, o + 1), (o + 1, o + 2), (o, o + 2), (o + 3, o + 4), (o + 4, o + 5),
                  (o + 3, o + 5), (o + 2, o + 3)]
        if num_communities > 1:
            edges.append((o + 5, (o + 6) % (6 * num_communities)))
    e = np.array(sorted(set(edges)), dtype=np.int64).T
    return Graph(np.concatenate([e, e[::-1]], 1), 6 * num_communities, name="triangles")


def _propagation(graph: Graph) -> np.ndarray:
    n = graph.num_nodes
    a = np.eye(n)
    src, dst = graph.edge_index.numpy()
    a[dst, src] = 1.0
    d = 1.0 / np.sqrt(a.sum(1))
    return d[:, None] * a * d[None, :]


def optimal_mae(sigma: float) -> float:
    r"""Expected absolute error of the optimal one-step forecast, :math:`\sigma\sqrt{2/\pi}`."""
    return float(sigma * np.sqrt(2.0 / np.pi))


def gpvar(num_steps: int = 30000, *, num_communities: int = 5, sigma: float = 0.4,
          theta: Any = TSL_FILTER, graph: Optional[Graph] = None,
          seed: Any = None) -> tuple[SpatioTemporalData, np.ndarray]:
    """Simulates GP-VAR; returns the data (``T x N x 1``) and the noise-free one-step
    prediction ``T x N x 1`` (zeros for the first ``P`` steps, which have no past)."""
    th = np.asarray(theta, dtype=np.float64)
    if th.ndim != 2:
        raise ValueError(f"theta must be (hops + 1) x lags, got shape {th.shape}")
    g = triangle_communities(num_communities) if graph is None else graph
    S = _propagation(g)
    Q, P = th.shape
    rng = np.random.default_rng(seed)
    n = g.num_nodes
    x = np.zeros((num_steps, n))
    mean = np.zeros((num_steps, n))
    x[:P] = rng.normal(0.0, sigma, (P, n))
    powers = [np.linalg.matrix_power(S, q) for q in range(Q)]
    for t in range(P, num_steps):
        z = sum(th[q, p] * powers[q] @ x[t - 1 - p] for p in range(P) for q in range(Q))
        mean[t] = np.tanh(z)
        x[t] = mean[t] + rng.normal(0.0, sigma, n)
    data = SpatioTemporalData(x[:, :, None].astype(np.float32), g)
    return data, mean[:, :, None].astype(np.float32)
