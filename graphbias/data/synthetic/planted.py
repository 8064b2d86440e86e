r"""A planted target cluster in a sparse random graph, with noisy binary labels.

The setting of Back de Luca, Fountoulakis and Yang (2024): nodes
``0 .. cluster_size - 1`` form the target cluster :math:`K`, the other nodes the rest
:math:`R`. A pair inside :math:`K` is an edge with probability
:math:`p = d_{in} / (|K| - 1)`, a pair of :math:`K \times R` with probability
:math:`q = d_{out} / |R|`, a pair inside :math:`R` with probability
:math:`d_{rest} / (|R| - 1)`; so a target node has on average :math:`d_{in}` neighbours
inside and :math:`d_{out}` outside. Labels start as :math:`1[i \in K]` and each is
flipped independently with probability ``noise`` (``(noise_in, noise_out)`` gives the
rates inside and outside the target).

Every part is drawn from its own random stream, so with a fixed ``seed`` the target
cluster's internal edges and its labels are the same for every ``num_nodes``: growing
the rest of the graph leaves the target fixed (its boundary edges keep their expected
number, with endpoints spread over the larger rest). Sampling is exact and
vectorised (no loop over node pairs): a million nodes take a few seconds.

>>> pc = planted_cluster(50, 500, degree_in=8, degree_out=2, degree_rest=6, noise=0.1,
...                      seed=0)
>>> pc.graph.num_nodes, pc.target.size, pc.graph.is_undirected()
(500, 50, True)
>>> bool((pc.graph.y[:50] == 1).all()), pc.noisy_labels.dtype
(True, dtype('int64'))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import numpy as np
import torch

from ..._validation import Integer, Real, check_scalar
from ..graph import Graph
from .graphs import _block_edges, _distinct_keys

__all__ = ["PlantedCluster", "planted_cluster", "flip_labels"]


@dataclass
class PlantedCluster:
    """A generated graph (``y`` = 1 on the target), the target's node ids and the
    noisy labels."""

    graph: Graph
    target: np.ndarray
    noisy_labels: np.ndarray


def flip_labels(labels: np.ndarray, noise: Union[float, tuple[float, float]],
                rng: np.random.Generator) -> np.ndarray:
    """0/1 ``labels`` with each entry flipped independently.

    Parameters
    ----------
    labels : array-like of 0/1
        The clean labels.
    noise : float or tuple of (float, float)
        Flip probability of every label, or ``(noise_in, noise_out)``: of the ones
        and of the zeros; each in [0, 1].
    rng : numpy.random.Generator
        The random stream (advanced).

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> flip_labels(np.array([1, 1, 0, 0]), (1.0, 0.0), np.random.default_rng(0)).tolist()
    [0, 0, 0, 0]
    """
    if isinstance(noise, tuple) and len(noise) != 2:
        raise ValueError(f"noise must be a rate or a pair (noise_in, noise_out), got {noise!r}")
    n_in, n_out = noise if isinstance(noise, tuple) else (noise, noise)
    n_in = check_scalar("noise_in", n_in, Real(0, 1))
    n_out = check_scalar("noise_out", n_out, Real(0, 1))
    labels = np.asarray(labels).astype(np.int64)
    rate = np.where(labels == 1, n_in, n_out)
    return np.where(rng.random(labels.size) < rate, 1 - labels, labels)


def _edges_in_block(size: int, degree: float, rng: np.random.Generator) -> np.ndarray:
    prob = min(degree / max(size - 1, 1), 1.0)
    return _block_edges(np.array([size], dtype=np.int64), np.array([[prob]]), rng)


def planted_cluster(cluster_size: int = 500, num_nodes: int = 5000, *,
                    degree_in: float = 10.0, degree_out: float = 5.0,
                    degree_rest: float = 10.0,
                    noise: Union[float, tuple[float, float]] = 0.1,
                    seed: Optional[Union[int, np.random.Generator]] = None) -> PlantedCluster:
    """Generates the planted-cluster graph described in the module docstring.

    Parameters
    ----------
    cluster_size : int, default=500
        Size :math:`|K|` of the target cluster (>= 2).
    num_nodes : int, default=5000
        Number of nodes (>= ``cluster_size + 2``).
    degree_in : float, default=10.0
        Expected neighbours of a target node inside the target, in
        ``[0, cluster_size - 1]``.
    degree_out : float, default=5.0
        Expected neighbours of a target node outside it, in ``[0, |R|]``.
    degree_rest : float, default=10.0
        Expected degree inside the rest, in ``[0, |R| - 1]``.
    noise : float or tuple of (float, float), default=0.1
        Label flip rate, or ``(noise_in, noise_out)`` inside and outside the target.
    seed : int, numpy.random.Generator or None, default=None
        The random streams (a Generator is advanced once).

    Returns
    -------
    PlantedCluster
        An undirected :class:`Graph` (both directions, no self-loops or duplicates)
        with ``y`` = 1 on nodes ``0 .. cluster_size - 1``, ``target`` = those ids
        and ``noisy_labels`` (int64 0/1, one per node).

    Examples
    --------
    >>> pc = planted_cluster(20, 100, degree_in=4, degree_out=1, degree_rest=4, seed=0)
    >>> pc.graph.num_nodes, pc.target.tolist()[-1]
    (100, 19)
    """
    k = check_scalar("cluster_size", cluster_size, Integer(2))
    n = check_scalar("num_nodes", num_nodes, Integer(k + 2))
    rest = n - k
    d_in = check_scalar("degree_in", degree_in, Real(0, k - 1))
    d_out = check_scalar("degree_out", degree_out, Real(0, rest))
    d_rest = check_scalar("degree_rest", degree_rest, Real(0, rest - 1))
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**63 - 1))
    inside, boundary, outside, noise_k, noise_r = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5))

    ek = _edges_in_block(k, d_in, inside)
    er = _edges_in_block(rest, d_rest, outside) + k
    counts = boundary.binomial(rest, d_out / rest, size=k).astype(np.int64)
    keys = _distinct_keys(boundary, np.full(k, rest, dtype=np.int64), counts)
    src, dst = keys // rest, k + keys % rest
    # target rows first (few keys, sorted here), then the rest's sorted rows with the
    # reversed boundary edges inserted in place: no sort of the whole edge list
    head = np.sort(np.concatenate([ek[0] * n + ek[1], src * n + dst]))
    rest_keys = er[0] * n + er[1]
    back = np.sort(dst * n + src)
    keys = np.concatenate([head, np.insert(rest_keys, np.searchsorted(rest_keys, back),
                                           back)])
    edge_index = np.stack([keys // n, keys % n])

    y = np.zeros(n, dtype=np.int64)
    y[:k] = 1
    noisy = np.concatenate([flip_labels(y[:k], noise, noise_k),
                            flip_labels(y[k:], noise, noise_r)])
    graph = Graph(torch.from_numpy(edge_index), n, y=torch.from_numpy(y),
                  name=f"planted-{k}-in-{n}")
    return PlantedCluster(graph, np.arange(k, dtype=np.int64), noisy)
