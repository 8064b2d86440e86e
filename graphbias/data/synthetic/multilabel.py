"""A seeded multi-label stream with label groups, tunable correlation and drift.

Labels are split into groups; each group ``g`` has a latent score
``z_g = w_g . x`` (``x ~ N(0, I_d)``). Label ``l`` of group ``g`` is on when

    sqrt(rho) * (z_g + e_g) + sqrt(1 - rho) * (u_l . x + e_l) > b_l,

with ``e_g, e_l ~ N(0, noise^2)`` and the bias ``b_l`` set for a label frequency of
``density``. ``correlation = rho`` in [0, 1] moves labels of a group from independent
(0) to identical (1). At each drift point the labels are dealt into new groups with new
weights, so both the label correlations and the concept change abruptly.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from scipy.stats import norm

from ..._validation import Integer, Real, check_scalar
from ..multilabel import MultiLabelStream

__all__ = ["multilabel_stream"]


def _concept(rng: np.random.Generator, n_labels: int, n_features: int, n_groups: int):
    perm = rng.permutation(n_labels)
    groups = np.empty(n_labels, dtype=np.int64)
    for g, chunk in enumerate(np.array_split(perm, n_groups)):
        groups[chunk] = g
    w = rng.normal(size=(n_groups, n_features)) / np.sqrt(n_features)
    u = rng.normal(size=(n_labels, n_features)) / np.sqrt(n_features)
    return groups, w, u


def multilabel_stream(n_samples: int = 10_000, *, n_features: int = 10, n_labels: int = 12,
                      n_groups: int = 3, correlation: float = 0.8, density: float = 0.25,
                      noise: float = 0.3, drift_points: Sequence[int] = (),
                      seed: Optional[int] = 0) -> MultiLabelStream:
    """A multi-label stream of ``n_samples`` instances (see the module docstring).

    Parameters
    ----------
    n_samples : int, default=10000
        Number of instances (>= 1).
    n_features : int, default=10
        Number of features (>= 1).
    n_labels : int, default=12
        Number of labels (>= 1).
    n_groups : int, default=3
        Label groups, in ``[1, n_labels]``.
    correlation : float, default=0.8
        :math:`\rho` in [0, 1]: from independent (0) to identical (1) labels
        within a group.
    density : float, default=0.25
        Frequency of every label, in (0, 1).
    noise : float, default=0.3
        Standard deviation of the noise terms (>= 0).
    drift_points : sequence of int, default=()
        Instance indices, in ``(0, n_samples)``, where a new concept starts.
    seed : int or None, default=0
        The random stream.

    Returns
    -------
    MultiLabelStream
        ``X`` (float), ``Y`` (bool); ``info["groups"]`` lists each concept's label
        groups (one int array per concept) and ``info["drift_points"]`` the drift
        points.

    Examples
    --------
    >>> s = multilabel_stream(500, n_labels=6, n_groups=2, drift_points=[250], seed=0)
    >>> s.X.shape, s.Y.shape
    ((500, 10), (500, 6))
    >>> x, y = next(iter(s)); sorted(y)[:2]
    ['y0', 'y1']
    >>> len(s.info["groups"])
    2
    """
    n_samples = check_scalar("n_samples", n_samples, Integer(1))
    n_features = check_scalar("n_features", n_features, Integer(1))
    n_labels = check_scalar("n_labels", n_labels, Integer(1))
    n_groups = check_scalar("n_groups", n_groups, Integer(1, n_labels))
    correlation = check_scalar("correlation", correlation, Real(0, 1))
    density = check_scalar("density", density, Real(0, 1, closed="neither"))
    noise = check_scalar("noise", noise, Real(0))
    points = sorted(int(p) for p in drift_points)
    if any(not 0 < p < n_samples for p in points):
        raise ValueError(f"drift_points must lie in (0, {n_samples}), got {list(drift_points)}")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    Y = np.empty((n_samples, n_labels), dtype=bool)
    rho = correlation
    concepts = []
    # the score below has variance ~ rho*(|w|^2+s^2) + (1-rho)*(|u|^2+s^2) ~ 1 + s^2
    bias = norm.ppf(1.0 - density) * np.sqrt(1.0 + noise ** 2)
    for start, stop in zip([0] + points, points + [n_samples]):
        groups, w, u = _concept(rng, n_labels, n_features, n_groups)
        concepts.append(groups)
        x = X[start:stop]
        m = stop - start
        shared = x @ w.T + noise * rng.normal(size=(m, n_groups))
        own = x @ u.T + noise * rng.normal(size=(m, n_labels))
        score = np.sqrt(rho) * shared[:, groups] + np.sqrt(1.0 - rho) * own
        Y[start:stop] = score > bias
    return MultiLabelStream(X, Y, [f"x{j}" for j in range(n_features)],
                            [f"y{j}" for j in range(n_labels)], "synthetic",
                            info={"groups": concepts, "drift_points": points})
