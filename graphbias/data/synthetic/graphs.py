r"""Seeded synthetic node-classification graphs.

Every generator returns an undirected :class:`~graphbias.data.Graph` (both
directions of each edge, edges sorted by ``(source, target)``, no self-loops, no
duplicates) with float32 features ``x``, int64 labels ``y`` and random stratified
``train_mask`` / ``val_mask`` / ``test_mask``. The same ``seed`` gives the same
graph; ``seed`` may also be a :class:`numpy.random.Generator`, which is advanced.

Random graphs are sampled exactly and without a loop over node pairs: for a set of
:math:`T` candidate pairs with edge probability :math:`p`, the number of edges is
drawn as :math:`M \sim \mathrm{Binomial}(T, p)`, then :math:`M` distinct pairs
uniformly at random (by rejection of repeats, or by drawing the :math:`T - M`
missing pairs when :math:`M > T/2`), which is the law of :math:`G(n, p)`.

Split masks follow Planetoid: ``train_per_class`` training nodes per class (at most
half of a class, at least one node), then ``num_val`` validation and ``num_test``
test nodes drawn from the rest. By default ``num_val = min(500, R // 3)`` and
``num_test = min(1000, R - num_val)`` for the ``R`` nodes left after training.

>>> g = sbm([50, 50], 0.1, 0.01, seed=0)
>>> g.num_nodes, g.is_undirected(), g.has_self_loops()
(100, True, False)
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import scipy.sparse as sp
import torch

from ..._validation import Integer, Options, Real, check_scalar
from ..graph import Graph

__all__ = ["sbm", "erdos_renyi", "barabasi_albert", "karate_club"]


# ------------------------------------------------------------ exact sampling
def _starts(sizes: np.ndarray) -> np.ndarray:
    """Where each of consecutive ranges of the given sizes starts."""
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def _both_directions(src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """``[2, 2E]`` edge_index holding ``u -> v`` and ``v -> u`` for each pair, sorted."""
    keys = np.concatenate([src * n + dst, dst * n + src])
    keys.sort()
    return np.stack([keys // n, keys % n])


def _distinct_keys(rng: np.random.Generator, sizes: np.ndarray,
                   counts: np.ndarray) -> np.ndarray:
    """Sorted global keys: ``counts[s]`` distinct keys drawn uniformly from each
    segment ``s`` of the key range (segments of ``sizes[s]`` keys, laid end to end).

    Repeats are rejected and redrawn; a segment asked for more than half its keys
    draws the keys it leaves out instead. Both give a uniform subset, because the
    procedure treats the keys of a segment symmetrically.
    """
    starts = _starts(sizes)
    dense = 2 * counts > sizes
    target = np.where(dense, sizes - counts, counts)
    segments = np.arange(sizes.size)
    keys = np.empty(0, dtype=np.int64)
    deficit = target
    while deficit.any():
        seg = np.repeat(segments, deficit)
        keys = np.concatenate([keys, starts[seg] + rng.integers(0, sizes[seg])])
        keys.sort()
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
        have = np.bincount(np.searchsorted(starts, keys, side="right") - 1,
                           minlength=sizes.size)
        deficit = target - have
    if not dense.any():
        return keys
    # complement of the sampled keys inside each dense segment
    d_sizes = sizes[dense]
    first = np.repeat(starts[dense] - _starts(d_sizes), d_sizes)
    everything = first + np.arange(d_sizes.sum(), dtype=np.int64)
    in_dense = dense[np.searchsorted(starts, keys, side="right") - 1]
    kept = everything[~np.isin(everything, keys[in_dense], assume_unique=True)]
    return np.sort(np.concatenate([keys[~in_dense], kept]))


def _block_edges(block_sizes: np.ndarray, prob: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """``[2, E]`` sorted edge_index, both directions, of a stochastic block model:
    pair ``(u, v)`` of blocks ``(a, b)`` is an edge with probability ``prob[a, b]``.
    """
    n = int(block_sizes.sum())
    offsets = _starts(block_sizes)
    a, b = np.triu_indices(block_sizes.size)          # block pairs, a <= b
    na, nb = block_sizes[a], block_sizes[b]
    sizes = np.where(a == b, na * (na - 1) // 2, na * nb).astype(np.int64)
    counts = rng.binomial(sizes, prob[a, b]).astype(np.int64)
    keys = _distinct_keys(rng, sizes, counts)
    starts = _starts(sizes)
    seg = np.searchsorted(starts, keys, side="right") - 1
    local = keys - starts[seg]
    ea, eb, width = a[seg], b[seg], nb[seg]
    # within a block: local key k <-> pair (i, j), j < i, k = i (i - 1) / 2 + j
    i = np.floor((1.0 + np.sqrt(1.0 + 8.0 * local)) / 2.0).astype(np.int64)
    i -= i * (i - 1) // 2 > local
    i += (i + 1) * i // 2 <= local
    j = local - i * (i - 1) // 2
    within = ea == eb
    src = offsets[ea] + np.where(within, i, local // width)
    dst = offsets[eb] + np.where(within, j, local % width)
    return _both_directions(src, dst, n)


# ------------------------------------------------------------- labels / masks
def _split_masks(y: np.ndarray, num_classes: int, train_per_class: int,
                 num_val: Optional[int], num_test: Optional[int],
                 rng: np.random.Generator) -> dict[str, torch.Tensor]:
    n = y.size
    perm = rng.permutation(n)
    by_class = perm[np.argsort(y[perm], kind="stable")]   # random order inside a class
    sizes = np.bincount(y, minlength=num_classes)
    rank = np.arange(n) - np.repeat(_starts(sizes), sizes)
    quota = np.minimum(train_per_class, np.maximum(1, sizes // 2))
    train = np.zeros(n, dtype=bool)
    train[by_class[rank < quota[y[by_class]]]] = True
    rest = perm[~train[perm]]
    if num_val is None:
        num_val = min(500, rest.size // 3)
    if num_test is None:
        num_test = min(1000, rest.size - num_val)
    if num_val + num_test > rest.size:
        raise ValueError(f"num_val + num_test = {num_val + num_test} exceeds the "
                         f"{rest.size} nodes left after training")
    val = np.zeros(n, dtype=bool)
    val[rest[:num_val]] = True
    test = np.zeros(n, dtype=bool)
    test[rest[num_val:num_val + num_test]] = True
    return {"train_mask": torch.from_numpy(train), "val_mask": torch.from_numpy(val),
            "test_mask": torch.from_numpy(test)}


def _check_split(train_per_class: int, num_val: Optional[int],
                 num_test: Optional[int]) -> tuple[int, Optional[int], Optional[int]]:
    return (check_scalar("train_per_class", train_per_class, Integer(1)),
            check_scalar("num_val", num_val, Integer(0), None),
            check_scalar("num_test", num_test, Integer(0), None))


def _check_labels(num_classes: int, num_features: int,
                  feature_noise: float) -> tuple[int, int, float]:
    return (check_scalar("num_classes", num_classes, Integer(1)),
            check_scalar("num_features", num_features, Integer(1)),
            check_scalar("feature_noise", feature_noise, Real(0)))


def _graph(edge_index: np.ndarray, x: np.ndarray, y: np.ndarray, num_classes: int,
           split: tuple[int, Optional[int], Optional[int]], rng: np.random.Generator,
           name: str) -> Graph:
    masks = _split_masks(y, num_classes, *split, rng)
    return Graph(torch.from_numpy(edge_index), y.size,
                 x=torch.from_numpy(x.astype(np.float32)),
                 y=torch.from_numpy(y.astype(np.int64)), name=name, **masks)


def class_features(y: np.ndarray, num_classes: int, num_features: int, signal: float,
                   rng: np.random.Generator) -> np.ndarray:
    r"""Gaussian features around a random class mean of norm ``signal``:
    :math:`x_v = s\,\mu_{y_v} + \varepsilon_v`, :math:`\varepsilon_v \sim \mathcal N(0, I)`."""
    means = rng.standard_normal((num_classes, num_features))
    means *= signal / np.linalg.norm(means, axis=1, keepdims=True)
    return means[y] + rng.standard_normal((y.size, num_features))


def class_bow_features(y: np.ndarray, num_classes: int, num_features: int, signal: float,
                       words_per_node: float, rng: np.random.Generator) -> np.ndarray:
    r"""Binary bag-of-words features, as in citation graphs: class :math:`c` has a
    topic, a sparse distribution over the ``num_features`` words drawn from
    :math:`\mathrm{Dirichlet}(0.05)`; node :math:`v` draws
    :math:`1 + \mathrm{Poisson}(\text{words\_per\_node} - 1)` words, each from its
    class topic with probability ``signal`` and uniformly otherwise, and
    :math:`x_{vw} = 1` for the words drawn."""
    topics = rng.dirichlet(np.full(num_features, 0.05), size=num_classes)
    counts = 1 + rng.poisson(max(words_per_node - 1.0, 0.0), size=y.size)
    owner = np.repeat(np.arange(y.size), counts)
    from_topic = rng.random(owner.size) < signal
    cdf = np.cumsum(topics, axis=1)
    topic_words = np.minimum((cdf[y[owner]] < rng.random((owner.size, 1))).sum(1),
                             num_features - 1)
    words = np.where(from_topic, topic_words, rng.integers(0, num_features, owner.size))
    x = np.zeros((y.size, num_features), dtype=np.float32)
    x[owner, words] = 1.0
    return x


def _featured_labels(edge_index: np.ndarray, n: int, num_classes: int,
                     num_features: int, feature_noise: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian features ``h`` and labels ``argmax((mean of h over N[v]) @ W)``."""
    h = rng.standard_normal((n, num_features))
    w = rng.standard_normal((num_features, num_classes))
    adj = sp.csr_matrix((np.ones(edge_index.shape[1]), (edge_index[1], edge_index[0])),
                        shape=(n, n))
    mean = (adj @ h + h) / (np.asarray(adj.sum(axis=1)) + 1.0)
    y = np.argmax(mean @ w, axis=1)
    x = h + feature_noise * rng.standard_normal(h.shape) if feature_noise else h
    return x, y


# ---------------------------------------------------------------- generators
def sbm(block_sizes: Sequence[int], p_in: float, p_out: float, *,
        num_features: int = 16, feature_signal: float = 1.0,
        features: str = "gaussian", words_per_node: float = 10.0,
        train_per_class: int = 20, num_val: Optional[int] = None,
        num_test: Optional[int] = None,
        seed: int | np.random.Generator | None = None) -> Graph:
    r"""Stochastic block model with one class per block.

    Nodes ``0 .. n-1`` are laid out block after block and ``y`` is the block. A
    pair of distinct nodes is an edge independently with probability ``p_in``
    inside a block and ``p_out`` across blocks. Features are Gaussian around a
    class mean: :math:`x_v = s\,\mu_{y_v} + \varepsilon_v`, with :math:`\mu_c` a
    random unit vector, :math:`s` = ``feature_signal`` and
    :math:`\varepsilon_v \sim \mathcal N(0, I)`. With ``features="bow"`` they are
    binary bags of words instead (:func:`class_bow_features`).

    Parameters
    ----------
    block_sizes : sequence of int
        Number of nodes in each block (all positive).
    p_in, p_out : float
        Edge probabilities within and between blocks, in [0, 1].
    num_features : int, default=16
        Feature dimension (vocabulary size for ``"bow"``).
    feature_signal : float, default=1.0
        ``"gaussian"``: norm of the class means (>= 0; 0 gives pure noise
        features); ``"bow"``: probability in [0, 1] that a word comes from the
        class topic.
    features : {"gaussian", "bow"}, default="gaussian"
        The feature model.
    words_per_node : float, default=10.0
        ``"bow"`` only: mean number of words drawn per node (>= 1).
    train_per_class : int, default=20
        Training nodes per class (see the module docstring).
    num_val, num_test : int or None, default=None
        Validation and test nodes (``None``: the module docstring's defaults).
    seed : int, numpy.random.Generator or None, default=None
        The random stream (a Generator is advanced).

    Returns
    -------
    Graph
        With ``x``, ``y`` and the three split masks.

    Examples
    --------
    >>> g = sbm([50, 50], 0.1, 0.01, seed=0)
    >>> g.num_nodes, g.y.bincount().tolist(), int(g.train_mask.sum())
    (100, [50, 50], 40)
    """
    sizes = np.asarray(block_sizes)
    if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer) \
            or (sizes <= 0).any():
        raise ValueError(f"block_sizes must be a non-empty list of positive integers, "
                         f"got {block_sizes!r}")
    sizes = sizes.astype(np.int64)
    p_in = check_scalar("p_in", p_in, Real(0, 1))
    p_out = check_scalar("p_out", p_out, Real(0, 1))
    num_features = check_scalar("num_features", num_features, Integer(1))
    features = check_scalar("features", features, Options("gaussian", "bow"))
    feature_signal = check_scalar("feature_signal", feature_signal,
                                  Real(0, 1) if features == "bow" else Real(0))
    if features == "bow":
        words_per_node = check_scalar("words_per_node", words_per_node, Real(1))
    split = _check_split(train_per_class, num_val, num_test)
    rng = np.random.default_rng(seed)
    k = sizes.size
    prob = np.full((k, k), p_out)
    np.fill_diagonal(prob, p_in)
    edge_index = _block_edges(sizes, prob, rng)
    y = np.repeat(np.arange(k), sizes)
    x = class_features(y, k, num_features, feature_signal, rng) if features == "gaussian" \
        else class_bow_features(y, k, num_features, feature_signal, words_per_node, rng)
    return _graph(edge_index, x, y, k, split, rng, "sbm")


def erdos_renyi(num_nodes: int, p: float, *, num_classes: int = 3,
                num_features: int = 16, feature_noise: float = 0.0,
                train_per_class: int = 20, num_val: Optional[int] = None,
                num_test: Optional[int] = None,
                seed: int | np.random.Generator | None = None) -> Graph:
    r"""Erdős–Rényi :math:`G(n, p)` with labels that depend on the neighbourhood.

    Each pair of distinct nodes is an edge independently with probability ``p``.
    Features :math:`h_v \sim \mathcal N(0, I)`; with a random
    :math:`W \in \mathbb R^{F \times C}` the label is

    .. math:: y_v = \arg\max_c \Big(\frac{1}{|N(v)| + 1}
              \sum_{u \in N(v) \cup \{v\}} h_u\Big) W_{:, c},

    a function of the features of the closed neighbourhood, so a GNN can beat an
    MLP. ``x = h + feature_noise * noise``.

    Parameters
    ----------
    num_nodes : int
        Number of nodes (>= 1).
    p : float
        Edge probability, in [0, 1].
    num_classes : int, default=3
        Number of classes :math:`C`.
    num_features : int, default=16
        Feature dimension :math:`F`.
    feature_noise : float, default=0.0
        Standard deviation (>= 0) of Gaussian noise added to ``h``.
    train_per_class : int, default=20
        Training nodes per class (see the module docstring).
    num_val, num_test : int or None, default=None
        Validation and test nodes (``None``: the module docstring's defaults).
    seed : int, numpy.random.Generator or None, default=None
        The random stream (a Generator is advanced).

    Returns
    -------
    Graph
        With ``x``, ``y`` and the three split masks.

    Examples
    --------
    >>> g = erdos_renyi(200, 0.05, seed=0)
    >>> g.num_nodes, g.num_features, g.is_undirected()
    (200, 16, True)
    """
    n = check_scalar("num_nodes", num_nodes, Integer(1))
    p = check_scalar("p", p, Real(0, 1))
    num_classes, num_features, feature_noise = _check_labels(num_classes, num_features,
                                                             feature_noise)
    split = _check_split(train_per_class, num_val, num_test)
    rng = np.random.default_rng(seed)
    edge_index = _block_edges(np.array([n], dtype=np.int64), np.array([[p]]), rng)
    x, y = _featured_labels(edge_index, n, num_classes, num_features, feature_noise, rng)
    return _graph(edge_index, x, y, num_classes, split, rng, "erdos_renyi")


def barabasi_albert(num_nodes: int, m: int, *, num_classes: int = 3,
                    num_features: int = 16, feature_noise: float = 0.0,
                    train_per_class: int = 20, num_val: Optional[int] = None,
                    num_test: Optional[int] = None,
                    seed: int | np.random.Generator | None = None) -> Graph:
    r"""Barabási–Albert preferential attachment with neighbourhood labels.

    Grown by :func:`networkx.barabasi_albert_graph`: a star on ``m + 1`` nodes,
    then each new node links to ``m`` distinct existing nodes chosen with
    probability proportional to their degree, giving :math:`m (n - m)` edges.
    Features and labels are drawn as in :func:`erdos_renyi`:
    :math:`y_v = \arg\max_c (\text{mean of } h \text{ over } N(v) \cup \{v\})\, W_{:, c}`.

    Parameters
    ----------
    num_nodes : int
        Number of nodes :math:`n` (>= 2).
    m : int
        Edges attached from each new node, ``1 <= m < num_nodes``.
    num_classes : int, default=3
        Number of classes.
    num_features : int, default=16
        Feature dimension.
    feature_noise : float, default=0.0
        Standard deviation (>= 0) of Gaussian noise added to the features.
    train_per_class : int, default=20
        Training nodes per class (see the module docstring).
    num_val, num_test : int or None, default=None
        Validation and test nodes (``None``: the module docstring's defaults).
    seed : int, numpy.random.Generator or None, default=None
        The random stream (a Generator is advanced).

    Returns
    -------
    Graph
        With ``x``, ``y`` and the three split masks.

    Examples
    --------
    >>> g = barabasi_albert(100, 2, seed=0)
    >>> g.num_nodes, g.num_edges // 2
    (100, 196)
    """
    import networkx as nx

    n = check_scalar("num_nodes", num_nodes, Integer(2))
    m = check_scalar("m", m, Integer(1, n - 1))
    num_classes, num_features, feature_noise = _check_labels(num_classes, num_features,
                                                             feature_noise)
    split = _check_split(train_per_class, num_val, num_test)
    rng = np.random.default_rng(seed)
    nx_graph = nx.barabasi_albert_graph(n, m, seed=int(rng.integers(2**32)))
    pairs = np.array(nx_graph.edges(), dtype=np.int64).reshape(-1, 2)
    edge_index = _both_directions(pairs[:, 0], pairs[:, 1], n)
    x, y = _featured_labels(edge_index, n, num_classes, num_features, feature_noise, rng)
    return _graph(edge_index, x, y, num_classes, split, rng, "barabasi_albert")


def karate_club() -> Graph:
    r"""Zachary's karate club (34 members, 78 friendships), unweighted.

    ``y`` is the club each member joined after the split (networkx's ``club``
    attribute: 0 for ``"Mr. Hi"``, 1 for ``"Officer"``); ``x`` is the 34 x 34
    identity. The classic semi-supervised split trains on one node per class, the
    two leaders 0 and 33; of the others, odd ids validate and even ids test.

    >>> g = karate_club()
    >>> g.num_nodes, g.num_edges, g.train_mask.nonzero().flatten().tolist()
    (34, 156, [0, 33])
    """
    import networkx as nx

    nx_graph = nx.karate_club_graph()
    n = nx_graph.number_of_nodes()
    pairs = np.array(nx_graph.edges(), dtype=np.int64)
    y = np.array([nx_graph.nodes[v]["club"] != "Mr. Hi" for v in range(n)],
                 dtype=np.int64)
    ids = np.arange(n)
    train = np.isin(ids, [0, n - 1])
    return Graph(torch.from_numpy(_both_directions(pairs[:, 0], pairs[:, 1], n)), n,
                 x=torch.eye(n), y=torch.from_numpy(y),
                 train_mask=torch.from_numpy(train),
                 val_mask=torch.from_numpy(~train & (ids % 2 == 1)),
                 test_mask=torch.from_numpy(~train & (ids % 2 == 0)), name="karate_club")
