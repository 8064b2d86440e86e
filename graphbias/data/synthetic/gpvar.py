r"""GP-VAR: a graph polynomial vector autoregression with a known optimal forecast.

.. math::

    x_t = \tanh\Big(\sum_{l=0}^{L}\sum_{p=1}^{P} \theta_{l,p}\, S^l x_{t-p}\Big) + \eta_t,
    \qquad \eta_t \sim \mathcal{N}(0, \sigma^2 I),

with the shift :math:`S = A + I`, the adjacency with self-loops and no
normalisation (``shift="adjacency"``, the default), or the GCN-normalised
:math:`S = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}` (``shift="gcn"``). The defaults
are the configuration of Torch Spatiotemporal's GP-VAR dataset (Zambon et al., 2022;
Cini et al., 2023; ``GPVARDatasetAZ``, whose shift has been :math:`A + I` without
normalisation since May 2023): 5 triangular communities of 6 nodes joined in a
line (30 nodes), :math:`\sigma = 0.4` and the filter ``[[5, 2], [-4, 6], [-1, 0]]``
(rows: hops :math:`l = 0, 1, 2`; columns: the two lags, **oldest first**, i.e.
:math:`\theta_{\cdot,2} = (5, -4, -1)` multiplies :math:`x_{t-2}` and
:math:`\theta_{\cdot,1} = (2, 6, 0)` multiplies :math:`x_{t-1}`).

The optimum is known exactly one step ahead: the noise-free term
:math:`\tanh(\cdot)`, stored as ``prediction``, is the conditional mean and median
of :math:`x_t` given the past, so no forecaster has a lower expected MAE, and its
error is the noise alone, :math:`\mathbb E|\eta| = \sigma\sqrt{2/\pi}` (0.3192 for
:math:`\sigma = 0.4`). Several steps ahead the predictive distribution is no longer
Gaussian and has no closed form; :func:`optimal_forecast` estimates the MAE-optimal
forecast (the conditional median) by simulating the true model from each window.

>>> data, pred = gpvar(num_steps=50, seed=0)
>>> data.values.shape, data.graph.num_nodes, round(optimal_mae(0.4), 4)
((50, 30, 1), 30, 0.3192)
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..._validation import Integer, Options, Real, check_scalar
from ..graph import Graph
from ..temporal import SpatioTemporalData

__all__ = ["gpvar", "triangle_communities", "gcn_shift", "adjacency_shift", "shift_operator",
           "optimal_mae", "optimal_forecast", "TSL_FILTER", "SHIFTS"]

TSL_FILTER = ((5.0, 2.0), (-4.0, 6.0), (-1.0, 0.0))
#: graph shifts of the filter: tsl's A + I (default) and the GCN-normalised one
SHIFTS = ("adjacency", "gcn")

# one community: a triangle of side 3 (nodes 0-5), entered at node 0, left at node 5
#         2
#        / \
#       1 - 4
#      / \ / \
#     0 - 3 - 5
_COMMUNITY = ((0, 1), (1, 2), (3, 4), (1, 3), (2, 4), (4, 5), (0, 3), (1, 4), (3, 5))


def triangle_communities(num_communities: int = 5) -> Graph:
    """Triangular communities of 6 nodes, community ``c``'s node 5 linked to community
    ``c + 1``'s node 0 (a line).

    Parameters
    ----------
    num_communities : int, default=5
        Number of communities (>= 1).

    Returns
    -------
    Graph
        Undirected, ``6 * num_communities`` nodes.

    Examples
    --------
    >>> g = triangle_communities(2)
    >>> g.num_nodes, g.num_edges // 2
    (12, 19)
    """
    num_communities = check_scalar("num_communities", num_communities, Integer(1))
    edges = []
    for c in range(num_communities):
        edges += [(6 * c + i, 6 * c + j) for i, j in _COMMUNITY]
        if c > 0:
            edges.append((6 * c - 1, 6 * c))
    e = np.array(edges, dtype=np.int64).T
    return Graph(np.concatenate([e, e[::-1]], 1), 6 * num_communities, name="triangles")


def adjacency_shift(graph: Graph) -> np.ndarray:
    r"""Dense :math:`A + I` (row = receiving node, every edge of weight 1): the shift
    of tsl's GP-VAR.

    Parameters
    ----------
    graph : Graph
        The graph (edge weights are ignored).

    Returns
    -------
    ndarray of shape (N, N)

    Examples
    --------
    >>> adjacency_shift(triangle_communities(1)).sum(1).tolist()
    [3.0, 5.0, 3.0, 5.0, 5.0, 3.0]
    """
    a = np.eye(graph.num_nodes)
    src, dst = graph.edge_index.numpy()
    a[dst, src] = 1.0
    return a


def gcn_shift(graph: Graph) -> np.ndarray:
    r"""Dense :math:`\tilde D^{-1/2}(A + I)\tilde D^{-1/2}` (row = receiving node).

    Parameters
    ----------
    graph : Graph
        The graph (edge weights are ignored).

    Returns
    -------
    ndarray of shape (N, N)

    Examples
    --------
    >>> s = gcn_shift(triangle_communities(1))
    >>> bool(np.allclose(s, s.T)), round(float(s[0, 0]), 4)
    (True, 0.3333)
    """
    a = adjacency_shift(graph)
    d = 1.0 / np.sqrt(a.sum(1))
    return d[:, None] * a * d[None, :]


def shift_operator(graph: Graph, shift: str = "adjacency") -> np.ndarray:
    """The dense shift ``S`` of the filter: :func:`adjacency_shift` (``"adjacency"``)
    or :func:`gcn_shift` (``"gcn"``).

    Parameters
    ----------
    graph : Graph
        The graph.
    shift : {"adjacency", "gcn"}, default="adjacency"
        Which shift.

    Returns
    -------
    ndarray of shape (N, N)

    Examples
    --------
    >>> g = triangle_communities(1)
    >>> bool(np.array_equal(shift_operator(g, "gcn"), gcn_shift(g)))
    True
    """
    shift = check_scalar("shift", shift, Options(*SHIFTS))
    return adjacency_shift(graph) if shift == "adjacency" else gcn_shift(graph)


def optimal_mae(sigma: float) -> float:
    r"""Expected absolute error of the optimal one-step forecast, :math:`\sigma\sqrt{2/\pi}`."""
    return float(sigma * np.sqrt(2.0 / np.pi))


def _filter(theta: Any, graph: Graph, shift: str) -> np.ndarray:
    """``[P, N, N]`` operators, lag 1 first: :math:`\\sum_l \\theta_{l,p} S^l`."""
    th = np.asarray(theta, dtype=np.float64)
    if th.ndim != 2 or 0 in th.shape:
        raise ValueError(f"theta must be a (hops + 1) x lags array, got shape {th.shape}")
    S = shift_operator(graph, shift)
    powers = [np.linalg.matrix_power(S, q) for q in range(th.shape[0])]
    ops = [sum(th[q, p] * powers[q] for q in range(th.shape[0])) for p in range(th.shape[1])]
    return np.stack(ops[::-1])  # columns run oldest lag first


def _mean(ops: np.ndarray, past: np.ndarray, push: Any = 0.0) -> np.ndarray:
    """Noise-free next value from ``past[..., p, :]`` = :math:`x_{t-1-p}` and the
    input's ``push`` inside the tanh."""
    return np.tanh(np.einsum("pnm,...pm->...n", ops, past) + push)


def gpvar(num_steps: int = 30000, *, num_communities: int = 5, sigma: float = 0.4,
          theta: Any = TSL_FILTER, graph: Optional[Graph] = None,
          shift: str = "adjacency", period: Optional[int] = None, keep: float = 0.8,
          drive: Any = None, seed: Any = None) -> tuple[SpatioTemporalData, np.ndarray]:
    r"""Simulates GP-VAR (see the module docstring).

    As in Torch Spatiotemporal, the first ``P`` (number of lags) steps are pure noise
    and are dropped, so every returned step has a prediction from its past.

    With ``period`` the graph varies over time: every ``period`` steps a new graph
    keeps each undirected edge of ``graph`` with probability ``keep`` (the same
    object in between), and each lag spreads over the graph of its own step,

    .. math::

        x_t = \tanh\Big(\sum_{l=0}^{L}\sum_{p=1}^{P} \theta_{l,p}\, S_{t-p}^l
        x_{t-p}\Big) + \eta_t,

    so a forecaster that reads only the last step's graph applies it to older lags
    too; the noise-free ``prediction`` stays the optimum.

    With ``drive`` an input known in advance (a planned control, a published
    schedule) enters every step through a graph filter of its own,

    .. math::

        x_t = \tanh\Big(\sum_{l=0}^{L}\sum_{p=1}^{P} \theta_{l,p}\, S^l x_{t-p}
        + \sum_{l} \delta_l\, S^l u_t\Big) + \eta_t, \qquad
        u_t \sim \mathcal N(0, I),

    drawn afresh at every step (so no past value foretells it) and returned as the
    data's node covariates: the noise-free ``prediction`` is the optimum for a
    forecaster that reads :math:`u_t`, that of the target step; one that reads
    only the inputs of its input steps cannot know it.

    Parameters
    ----------
    num_steps : int, default=30000
        Steps returned (>= 1).
    num_communities : int, default=5
        Communities of the default graph (:func:`triangle_communities`).
    sigma : float, default=0.4
        Standard deviation of the noise (> 0).
    theta : array-like of shape (hops + 1, lags), default=TSL_FILTER
        The filter, columns oldest lag first.
    graph : Graph, optional
        The graph (default: ``triangle_communities(num_communities)``).
    shift : {"adjacency", "gcn"}, default="adjacency"
        The shift ``S``: tsl's :math:`A + I`, or the GCN-normalised one.
    period : int, optional
        Steps between redrawn graphs (>= 1); None: the static ``graph``.
    keep : float, default=0.8
        Probability that a redrawn graph keeps an edge, in (0, 1].
    drive : array-like of shape (hops + 1,), optional
        The filter :math:`\delta` of the input known in advance (hop 0 first); None:
        no input. With a time-varying graph, step ``t``'s input spreads over step
        ``t``'s graph.
    seed : int, numpy.random.Generator or None, default=None
        The random stream.

    Returns
    -------
    data : SpatioTemporalData
        The series ``T x N x 1``, graph attached (one per step with ``period``), and
        with ``drive`` the inputs :math:`u` as ``node_covariates`` (``T x N x 1``).
    prediction : ndarray of shape (T, N, 1)
        The noise-free one-step prediction of every step (the optimal forecast).

    Examples
    --------
    >>> data, pred = gpvar(num_steps=20, seed=0)
    >>> data.values.shape, pred.shape
    ((20, 30, 1), (20, 30, 1))
    >>> moving, _ = gpvar(num_steps=20, period=5, seed=0)
    >>> len(moving.graph), len({id(g) for g in moving.graph}) <= 5
    (20, True)
    >>> driven, _ = gpvar(num_steps=20, drive=(1.0, 0.5), seed=0)
    >>> driven.num_node_covariates
    1
    """
    num_steps = check_scalar("num_steps", num_steps, Integer(1))
    sigma = check_scalar("sigma", sigma, Real(0, None, closed="neither"))
    g = triangle_communities(num_communities) if graph is None else graph
    ops = _filter(theta, g, shift)
    P, n = ops.shape[0], g.num_nodes
    rng = np.random.default_rng(seed)
    x = np.zeros((num_steps + P, n))
    mean = np.zeros((num_steps + P, n))
    x[:P] = rng.normal(0.0, sigma, (P, n))
    if period is None:
        graphs = [g] * (num_steps + P)
    else:
        period = check_scalar("period", period, Integer(1))
        keep = check_scalar("keep", keep, Real(0, 1, closed="right"))
        graphs = _redrawn(g, num_steps + P, period, keep, rng)
    u, pushed = (None, np.zeros((num_steps + P, n))) if drive is None else \
        _driven(drive, graphs, shift, rng)
    if period is None:  # one operator stack for every step (kept apart: bit-for-bit the
        # series of the static generator before time-varying graphs)
        for t in range(P, num_steps + P):
            mean[t] = _mean(ops, x[t - P:t][::-1], pushed[t])
            x[t] = mean[t] + rng.normal(0.0, sigma, n)
    else:
        step_ops = {id(h): _filter(theta, h, shift) for h in graphs}
        for t in range(P, num_steps + P):
            mean[t] = np.tanh(sum(step_ops[id(graphs[t - 1 - p])][p] @ x[t - 1 - p]
                                  for p in range(P)) + pushed[t])
            x[t] = mean[t] + rng.normal(0.0, sigma, n)
    data = SpatioTemporalData(
        x[P:, :, None].astype(np.float32), g if period is None else graphs[P:],
        node_covariates=None if drive is None else u[P:, :, None].astype(np.float32))
    return data, mean[P:, :, None].astype(np.float32)


def _drive_filter(drive: Any) -> np.ndarray:
    """``drive`` as a ``(hops + 1) x 1`` filter (one lag), checked."""
    delta = np.asarray(drive, dtype=np.float64)
    if delta.ndim != 1 or delta.size == 0 or not np.isfinite(delta).all():
        raise ValueError("drive must be a non-empty 1-D array of finite hop coefficients, "
                         f"got {np.asarray(drive).tolist()!r}")
    return delta[:, None]


def _driven(drive: Any, graphs: list[Graph], shift: str,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    r"""The inputs :math:`u_t \sim \mathcal N(0, I)` of every step and their filtered
    push :math:`\sum_l \delta_l S_t^l u_t` (step ``t`` on ``graphs[t]``)."""
    delta = _drive_filter(drive)
    u = rng.normal(0.0, 1.0, (len(graphs), graphs[0].num_nodes))
    ops = {id(h): _filter(delta, h, shift)[0] for h in graphs}
    return u, np.stack([ops[id(h)] @ u[t] for t, h in enumerate(graphs)])


def _redrawn(graph: Graph, steps: int, period: int, keep: float,
             rng: np.random.Generator) -> list[Graph]:
    """One graph per step: every ``period`` steps each undirected edge of ``graph`` is
    kept with probability ``keep`` (one object per period)."""
    src, dst = graph.edge_index.numpy()
    pairs = np.unique(np.sort(np.stack([src, dst], 1), 1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]].T
    out: list[Graph] = []
    for t in range(steps):
        if t % period == 0:
            e = pairs[:, rng.random(pairs.shape[1]) < keep]
            current = Graph(np.concatenate([e, e[::-1]], 1), graph.num_nodes,
                            name=f"{graph.name or 'graph'}@{t}")
        out.append(current)
    return out


def optimal_forecast(data: SpatioTemporalData, starts: Any, window: int, horizon: int, *,
                     sigma: float = 0.4, theta: Any = TSL_FILTER, shift: str = "adjacency",
                     drive: Any = None, samples: int = 500, seed: Any = 0) -> np.ndarray:
    r"""The MAE-optimal forecasts ``[S, H, N, 1]`` of the true GP-VAR for the windows at
    ``starts`` (inputs ``[start, start + window)``, targets the next ``horizon`` steps).

    Step 1 is exact (the noise-free prediction). For step :math:`h > 1` it is the
    per-entry median of ``samples`` simulated continuations of the true model: a
    Monte Carlo estimate of the conditional median, whose excess MAE over the exact
    optimum shrinks as :math:`O(1/\text{samples})`.

    Parameters
    ----------
    data : SpatioTemporalData
        A GP-VAR series (its graph is the model's).
    starts : array-like of int
        Window starts, in ``[0, num_steps - window]``.
    window : int
        Input length (>= the number of lags).
    horizon : int
        Steps forecast (>= 1).
    sigma : float, default=0.4
        Noise standard deviation of the true model (> 0).
    theta : array-like, default=TSL_FILTER
        The true model's filter.
    shift : {"adjacency", "gcn"}, default="adjacency"
        The true model's shift (that of :func:`gpvar`).
    drive : array-like, optional
        The true model's input filter (that of :func:`gpvar`), for a driven series:
        its inputs of the target steps are read from the data's node covariates, as
        known in advance (every target step must lie within the data).
    samples : int, default=500
        Simulated continuations per window (>= 1).
    seed : int, numpy.random.Generator or None, default=0
        The random stream of the simulations.

    Returns
    -------
    ndarray of shape (S, H, N, 1)
        The forecasts, float32.

    Examples
    --------
    >>> data, pred = gpvar(40, seed=0)
    >>> f = optimal_forecast(data, [10], window=6, horizon=3, samples=50)
    >>> f.shape, bool(np.allclose(f[0, 0], pred[16], atol=1e-6))
    ((1, 3, 30, 1), True)
    """
    window = check_scalar("window", window, Integer(1))
    horizon = check_scalar("horizon", horizon, Integer(1))
    sigma = check_scalar("sigma", sigma, Real(0, None, closed="neither"))
    samples = check_scalar("samples", samples, Integer(1))
    if not data.is_static:
        raise ValueError("optimal_forecast needs a static graph; with one graph per "
                         "step only the one-step optimum (gpvar's prediction) is known")
    ops = _filter(theta, data.graph, shift)
    P = ops.shape[0]
    if window < P:
        raise ValueError(f"the optimal forecast needs window >= {P} (the lags), got {window}")
    s = np.asarray(starts, dtype=np.int64).reshape(-1)
    if s.size and (s.min() < 0 or s.max() + window > data.num_steps):
        raise ValueError(f"window starts must lie in [0, {data.num_steps - window}]")
    push = np.zeros((horizon, s.size, data.num_nodes))
    if drive is None and data.num_node_covariates:
        raise ValueError("the data carries node covariates (the inputs of a driven GP-VAR?): "
                         "give the true model's input filter as drive=")
    if drive is not None:
        if data.num_node_covariates != 1:
            raise ValueError("drive= needs the inputs as the data's one node covariate, "
                             f"got {data.num_node_covariates} node covariates")
        if s.size and s.max() + window + horizon > data.num_steps:
            raise ValueError("with drive= every target step's input must be known: window "
                             f"starts must lie in [0, {data.num_steps - window - horizon}]")
        op = _filter(_drive_filter(drive), data.graph, shift)[0]
        u = data.node_covariates[..., 0].astype(np.float64)
        push = np.stack([u[s + window + h] @ op.T for h in range(horizon)])
    rng = np.random.default_rng(seed)
    x = data.values[..., 0].astype(np.float64)
    past = np.stack([x[s + window - 1 - p] for p in range(P)], 1)  # [S, P, N], newest first
    paths = np.repeat(past[:, None], samples, 1)  # [S, samples, P, N]
    out = []
    for h in range(horizon):
        mean = _mean(ops, paths, push[h][:, None])
        step = mean + rng.normal(0.0, sigma, mean.shape)
        out.append(mean[:, 0] if h == 0 else np.median(step, 1))  # step 1: exact
        paths = np.concatenate([step[:, :, None], paths[:, :, :-1]], 2)
    return np.stack(out, 1)[..., None].astype(np.float32)
