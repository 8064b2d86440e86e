"""Synthetic node-classification datasets of any size, written in OGB's on-disk format.

They exercise the whole OGB path (writer, :func:`~graphbias.data.datasets.load_ogb_node`,
``ogb``'s ``Evaluator``) offline and at scale. Two structures:

- ``"sbm"``: a planted partition with ``num_classes`` equal blocks whose edges stay
  inside a block with probability ``homophily`` (an expander: a few hops reach
  almost every node), Gaussian features around a class mean;
- ``"geometric"``: points in the unit square joined to the points within a radius (a
  mesh- or road-like graph where neighbourhoods stay local), classes given by the
  cell of a grid the point falls in, the same Gaussian features.
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np

from ..._validation import Integer, Options, Real, check_scalar
from ..datasets import write_ogb_node
from ..graph import Graph
from ..transforms import to_undirected
from .graphs import class_features, sbm

__all__ = ["write_synthetic_ogb"]


def write_synthetic_ogb(root: Union[str, Path], name: str = "ogbn-synthetic", *,
                        num_nodes: int = 100_000, avg_degree: float = 10.0,
                        num_classes: int = 8, num_features: int = 32,
                        homophily: float = 0.8, feature_signal: float = 0.5,
                        structure: str = "sbm", seed: int = 0) -> Path:
    r"""Writes a seeded SBM as ``root/<name_>/`` in OGB's raw format; returns the folder.

    The expected degree is ``avg_degree`` (so about ``num_nodes * avg_degree``
    directed edges, both directions stored) and a fraction ``homophily`` of a
    node's edges stay inside its class:
    :math:`p_{in} = h d / (n/k)`, :math:`p_{out} = (1-h) d / (n - n/k)` for
    ``structure="sbm"``; ``"geometric"`` joins the points closer than
    :math:`r = \sqrt{d / (n\pi)}` (both directions; fewer at the square's border) and
    ignores ``homophily``. The split is a random 60/20/20 of the nodes. Read it back with
    ``load_ogb_node(root, name)``.

    Parameters
    ----------
    root : str or Path
        The folder to write into.
    name : str, default="ogbn-synthetic"
        Dataset name (the folder is ``root/<name with "_" for "-">``).
    num_nodes : int, default=100000
        Number of nodes (>= ``2 * num_classes``).
    avg_degree : float, default=10.0
        Expected degree, in ``(0, num_nodes / num_classes)``.
    num_classes : int, default=8
        Number of classes (>= 1).
    num_features : int, default=32
        Feature dimension (>= 1).
    homophily : float, default=0.8
        ``"sbm"``: fraction of a node's edges inside its class, in [0, 1].
    feature_signal : float, default=0.5
        Norm of the class means of the Gaussian features (>= 0).
    structure : {"sbm", "geometric"}, default="sbm"
        The graph model.
    seed : int, default=0
        Seeds the graph, the features and the split.

    Returns
    -------
    Path
        The dataset folder.

    Examples
    --------
    >>> import tempfile
    >>> from graphbias.data.datasets import load_ogb_node
    >>> with tempfile.TemporaryDirectory() as root:
    ...     _ = write_synthetic_ogb(root, num_nodes=400, avg_degree=6, seed=1)
    ...     g = load_ogb_node(root, "ogbn-synthetic")
    >>> g.num_nodes, g.num_features, int(g.train_mask.sum())
    (400, 32, 240)
    """
    num_classes = check_scalar("num_classes", num_classes, Integer(1))
    num_nodes = check_scalar("num_nodes", num_nodes, Integer(2 * num_classes))
    num_features = check_scalar("num_features", num_features, Integer(1))
    homophily = check_scalar("homophily", homophily, Real(0, 1))
    avg_degree = check_scalar("avg_degree", avg_degree,
                              Real(0, num_nodes / num_classes, closed="neither"))
    feature_signal = check_scalar("feature_signal", feature_signal, Real(0))
    structure = check_scalar("structure", structure, Options("sbm", "geometric"))
    seed = check_scalar("seed", seed, Integer(0))
    if structure == "geometric":
        graph = _geometric(num_nodes, avg_degree, num_classes, num_features,
                           feature_signal, np.random.default_rng(seed))
    else:
        block = num_nodes // num_classes
        sizes = [block + (1 if c < num_nodes % num_classes else 0)
                 for c in range(num_classes)]
        p_in = homophily * avg_degree / block
        p_out = (1.0 - homophily) * avg_degree / max(num_nodes - block, 1)
        graph = sbm(sizes, min(p_in, 1.0), min(p_out, 1.0), num_features=num_features,
                    feature_signal=feature_signal, seed=seed)
    graph = graph.replace(train_mask=None, val_mask=None, test_mask=None, name=name)
    return write_ogb_node(root, name, graph, add_inverse_edge=False, seed=seed)


def _geometric(n: int, avg_degree: float, num_classes: int, num_features: int,
               signal: float, rng: np.random.Generator) -> Graph:
    from scipy.spatial import cKDTree

    points = rng.random((n, 2))
    pairs = cKDTree(points).query_pairs(np.sqrt(avg_degree / (n * np.pi)),
                                        output_type="ndarray")
    edges = pairs.T
    side = int(np.ceil(np.sqrt(num_classes)))
    cell = np.minimum((points * side).astype(np.int64), side - 1)
    y = (cell[:, 0] * side + cell[:, 1]) % num_classes
    x = class_features(y, num_classes, num_features, signal, rng).astype(np.float32)
    return to_undirected(Graph(edges, n, x=x, y=y))
