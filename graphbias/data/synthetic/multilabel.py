"""Seeded multi-label streams with label groups that drift: dense and bag-of-words.

:func:`multilabel_stream` (dense features): labels are split into groups; each group
``g`` has a latent score ``z_g = w_g . x`` (``x ~ N(0, I_d)``). Label ``l`` of group
``g`` is on when

    sqrt(rho) * (z_g + e_g) + sqrt(1 - rho) * (u_l . x + e_l) > b_l,

with ``e_g, e_l ~ N(0, noise^2)`` and the bias ``b_l`` set for a label frequency of
``density``. ``correlation = rho`` in [0, 1] moves labels of a group from independent
(0) to identical (1). At each drift point the labels are dealt into new groups with new
weights, so both the label correlations and the concept change abruptly.

:func:`sparse_multilabel_stream` (bag-of-words): a vocabulary of ``n_features``
words, of which ``n_topics`` disjoint blocks are topic words and the rest background
words; word ``r`` of a block has weight ``1 / (r + 1)`` (Zipf). Each instance draws one
topic, or two with probability ``second_topic``, and ``1 + Poisson(words - 1)``
words, each a background word with probability ``background`` and otherwise a word
of one of its topics; ``x`` holds the word counts. Labels are dealt into ``n_topics``
co-occurrence groups, topic ``k`` owning group ``k``: each label of an instance's
topics' groups is on with probability ``label_rate`` (at least one per topic), and
any label is switched on at random with probability ``label_noise``. At each drift
point the labels are dealt into new groups, so the co-occurrence groups and what the
words say about the labels change at once.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.stats import norm

from ..._validation import Integer, Real, check_scalar
from ..multilabel import MultiLabelStream

__all__ = ["multilabel_stream", "sparse_multilabel_stream"]


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
    points = _drift_points(drift_points, n_samples)
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


def _drift_points(drift_points: Sequence[int], n_samples: int) -> list[int]:
    points = sorted(int(p) for p in drift_points)
    if any(not 0 < p < n_samples for p in points):
        raise ValueError(f"drift_points must lie in (0, {n_samples}), got {list(drift_points)}")
    return points


def _zipf_ranks(rng: np.random.Generator, sizes: np.ndarray) -> np.ndarray:
    """For each block size in ``sizes``, a rank in ``[0, size)`` drawn with weight
    ``1 / (rank + 1)``."""
    out = np.empty(len(sizes), dtype=np.int64)
    u = rng.random(len(sizes))
    for size in np.unique(sizes):
        cdf = np.cumsum(1.0 / np.arange(1, size + 1))
        mine = sizes == size
        out[mine] = np.minimum(np.searchsorted(cdf / cdf[-1], u[mine]), size - 1)
    return out


def _labels(rng: np.random.Generator, groups: np.ndarray, topics: np.ndarray,
            second: np.ndarray, label_rate: float, label_noise: float) -> np.ndarray:
    """Labels of instances with first topics ``topics`` and second topics ``second``
    (-1: none): each label of their groups on with probability ``label_rate``, one per
    topic surely, any label at random with probability ``label_noise``."""
    n, L = len(topics), len(groups)
    ours = (groups[None, :] == topics[:, None]) | (groups[None, :] == second[:, None])
    Y = ours & (rng.random((n, L)) < label_rate)
    members = [np.flatnonzero(groups == k) for k in range(groups.max() + 1)]
    size = np.array([len(m) for m in members])
    for chosen in (topics, second):
        has = chosen >= 0
        pick = (rng.random(n) * size[np.where(has, chosen, 0)]).astype(np.int64)
        rows = np.flatnonzero(has)
        Y[rows, [members[k][j] for k, j in zip(chosen[rows], pick[rows])]] = True
    return Y | (rng.random((n, L)) < label_noise)


def sparse_multilabel_stream(n_samples: int = 10_000, *, n_features: int = 2000,
                             n_labels: int = 150, n_topics: int = 30, words: float = 8.0,
                             background: float = 0.2, second_topic: float = 0.3,
                             label_rate: float = 0.6, label_noise: float = 0.002,
                             drift_points: Sequence[int] = (),
                             seed: Optional[int] = 0) -> MultiLabelStream:
    """A bag-of-words multi-label stream (see the module docstring).

    Parameters
    ----------
    n_samples : int, default=10000
        Number of instances (>= 1).
    n_features : int, default=2000
        Vocabulary size, at least ``2 * n_topics``; a fifth are background words.
    n_labels : int, default=150
        Number of labels, at least ``n_topics``.
    n_topics : int, default=30
        Topics, and label co-occurrence groups (>= 1).
    words : float, default=8.0
        Mean number of words per instance (>= 1).
    background : float, default=0.2
        Share of background words, in [0, 1).
    second_topic : float, default=0.3
        Probability that an instance has a second topic, in [0, 1].
    label_rate : float, default=0.6
        Probability of each label of an instance's topic groups, in (0, 1].
    label_noise : float, default=0.002
        Probability of any label being switched on at random, in [0, 1).
    drift_points : sequence of int, default=()
        Instance indices, in ``(0, n_samples)``, where the labels are dealt into new
        groups.
    seed : int or None, default=0
        The random stream.

    Returns
    -------
    MultiLabelStream
        ``X`` a CSR matrix of word counts (float), ``Y`` bool; features ``w0``,
        ``w1``, ..., labels ``y0``, ``y1``, ...; ``info["groups"]`` lists each
        concept's label -> group array, ``info["topics"]`` each instance's first
        topic and ``info["drift_points"]`` the drift points.

    Examples
    --------
    >>> s = sparse_multilabel_stream(500, drift_points=[250], seed=0)
    >>> s.X.shape, s.Y.shape
    ((500, 2000), (500, 150))
    >>> x, y = next(iter(s)); 1 <= len(x) <= 30, len(y)
    (True, 150)
    >>> len(s.info["groups"])
    2
    """
    n_samples = check_scalar("n_samples", n_samples, Integer(1))
    n_topics = check_scalar("n_topics", n_topics, Integer(1))
    n_features = check_scalar("n_features", n_features, Integer(2 * n_topics))
    n_labels = check_scalar("n_labels", n_labels, Integer(n_topics))
    words = check_scalar("words", words, Real(1))
    background = check_scalar("background", background, Real(0, 1, closed="left"))
    second_topic = check_scalar("second_topic", second_topic, Real(0, 1))
    label_rate = check_scalar("label_rate", label_rate, Real(0, 1, closed="right"))
    label_noise = check_scalar("label_noise", label_noise, Real(0, 1, closed="left"))
    points = _drift_points(drift_points, n_samples)
    rng = np.random.default_rng(seed)
    n_background = n_features // 5
    blocks = np.array_split(np.arange(n_background, n_features), n_topics)
    block_start = np.array([b[0] for b in blocks])
    block_size = np.array([len(b) for b in blocks])
    topics = rng.integers(n_topics, size=n_samples)
    has_second = (rng.random(n_samples) < second_topic) & (n_topics > 1)
    second = np.where(has_second, (topics + 1 + rng.integers(max(n_topics - 1, 1),
                                                             size=n_samples)) % n_topics, -1)
    n_words = 1 + rng.poisson(words - 1, size=n_samples)
    owner = np.repeat(np.arange(n_samples), n_words)
    use_second = has_second[owner] & (rng.random(len(owner)) < 0.5)
    topic = np.where(use_second, second[owner], topics[owner])
    word = block_start[topic] + _zipf_ranks(rng, block_size[topic])
    if n_background:
        common = rng.random(len(owner)) < background
        word[common] = _zipf_ranks(rng, np.full(int(common.sum()), n_background))
    X = sp.csr_array((np.ones(len(owner)), (owner, word)), shape=(n_samples, n_features))
    X.sum_duplicates()
    Y = np.zeros((n_samples, n_labels), dtype=bool)
    concepts = []
    for begin, stop in zip([0] + points, points + [n_samples]):
        groups = np.empty(n_labels, dtype=np.int64)
        for g, chunk in enumerate(np.array_split(rng.permutation(n_labels), n_topics)):
            groups[chunk] = g
        concepts.append(groups)
        Y[begin:stop] = _labels(rng, groups, topics[begin:stop], second[begin:stop],
                                label_rate, label_noise)
    return MultiLabelStream(X, Y, [f"w{j}" for j in range(n_features)],
                            [f"y{j}" for j in range(n_labels)], "synthetic-sparse",
                            info={"groups": concepts, "topics": topics,
                                  "drift_points": points})
