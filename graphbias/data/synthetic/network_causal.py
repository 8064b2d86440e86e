r"""Network-confounded treatment-effect data (the settings of "The Final-Stage
Bottleneck", 2025): confounding and effect heterogeneity flow through neighbours.

With :math:`\hat A` the GCN-normalised adjacency (self-loops added) and frozen random
weights :math:`W_1, W_2`:

.. math::
    H_1 = \mathrm{std}(\hat A X W_1), \qquad H_2 = \mathrm{std}(\hat A H_1 W_2),

    T \sim \mathrm{Bernoulli}\big(\sigma(s\,(X a + H_1 b))\big), \qquad
    Y = H_{1,0} + 0.5 X_1 + \varepsilon + T\,\tau,

(:math:`\mathrm{std}` scales each column to mean 0, variance 1) with :math:`\varepsilon \sim \mathcal N(0, \sigma^2)` and the effect :math:`\tau`
one of ``simple_h`` :math:`2 + 1.5 \sin H_{1,0}`, ``local_x`` :math:`2 + 1.5 \sin X_0`,
``higher_order`` :math:`2 + 1.5 \sin H_{2,0}`, ``interaction`` :math:`2 + H_{1,0} X_1`
or ``constant`` :math:`2`. ``treatment_strength`` :math:`s` sets the overlap: small
values give propensities near 1/2, large ones push them towards 0 and 1;
``treatment="threshold"`` assigns :math:`T = [X a + H_1 b > 0]` (no overlap at all,
for testing refusals).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import numpy as np
import torch

from ..._validation import Instance, Integer, Options, Real, check_scalar
from ..graph import Graph
from ..transforms import gcn_norm
from ... import ops
from .graphs import _block_edges, _both_directions

__all__ = ["CausalData", "network_causal", "cora_causal", "EFFECTS", "GRAPHS"]

EFFECTS = ("simple_h", "local_x", "higher_order", "interaction", "constant")
GRAPHS = ("ba", "er", "sbm")


@dataclass
class CausalData:
    """Covariates ``X [n, d]``, binary treatment ``T``, outcome ``Y``, the true effect
    ``tau``, true propensity ``propensity``, the graph and the embeddings."""

    X: np.ndarray
    T: np.ndarray
    Y: np.ndarray
    tau: np.ndarray
    propensity: np.ndarray
    graph: Graph
    H1: np.ndarray
    H2: np.ndarray


def _graph(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Edges of a ``kind`` graph (one of :data:`GRAPHS`) on ``n`` nodes."""
    if kind == "ba":
        import networkx as nx

        g = nx.barabasi_albert_graph(n, 4, seed=int(rng.integers(2**31 - 1)))
        e = np.array(g.edges(), dtype=np.int64).T
        return _both_directions(e[0], e[1], n)
    if kind == "er":
        return _block_edges(np.array([n]), np.array([[0.05]]), rng)
    sizes = np.array([n // 2, n - n // 2])
    return _block_edges(sizes, np.array([[0.05, 0.005], [0.005, 0.05]]), rng)


def _standardise(h: torch.Tensor) -> torch.Tensor:
    return (h - h.mean(0)) / h.std(0).clamp_min(1e-12)


def _simulate(graph: Graph, X: np.ndarray, effect: str, treatment: str,
              treatment_strength: float, noise: float,
              rng: np.random.Generator) -> CausalData:
    n, d = X.shape
    prop = gcn_norm(graph, dtype=torch.float64)
    w1 = rng.standard_normal((d, d)) / np.sqrt(d)
    w2 = rng.standard_normal((d, d)) / np.sqrt(d)
    x = torch.from_numpy(X)
    h1 = _standardise(ops.spmm(prop, x) @ torch.from_numpy(w1))
    h2 = _standardise(ops.spmm(prop, h1) @ torch.from_numpy(w2))
    H1, H2 = h1.numpy(), h2.numpy()
    a, b = rng.standard_normal(d) / np.sqrt(d), rng.standard_normal(d) / np.sqrt(d)
    logit = X @ a + H1 @ b
    if treatment == "threshold":
        p = (logit > 0).astype(float)
    else:
        p = 1.0 / (1.0 + np.exp(-treatment_strength * logit))
    T = (rng.random(n) < p).astype(float)
    tau = {"simple_h": 2 + 1.5 * np.sin(H1[:, 0]), "local_x": 2 + 1.5 * np.sin(X[:, 0]),
           "higher_order": 2 + 1.5 * np.sin(H2[:, 0]), "interaction": 2 + H1[:, 0] * X[:, 1],
           "constant": np.full(n, 2.0)}[effect]
    Y = H1[:, 0] + 0.5 * X[:, 1] + noise * rng.standard_normal(n) + T * tau
    return CausalData(X, T, Y, tau, p, graph, H1, H2)


#: a seed of numpy's ``default_rng``
_SEED = (Integer(0), Instance(np.random.Generator, name="a numpy Generator"), None)


def _check_process(owner: str, effect: str, treatment: str, treatment_strength: float,
                   noise: float) -> tuple[str, str, float, float]:
    """The arguments of the treatment and outcome process, validated."""
    return (check_scalar("effect", effect, Options(*EFFECTS), owner=owner),
            check_scalar("treatment", treatment, Options("bernoulli", "threshold"),
                         owner=owner),
            check_scalar("treatment_strength", treatment_strength, Real(0), owner=owner),
            check_scalar("noise", noise, Real(0), owner=owner))


def network_causal(graph: str = "ba", num_nodes: int = 1000, num_features: int = 10, *,
                   effect: str = "simple_h", treatment: str = "bernoulli",
                   treatment_strength: float = 1.0, noise: float = 1.0,
                   seed: Union[int, np.random.Generator, None] = None) -> CausalData:
    r"""Draws a graph, Gaussian covariates and the treatment and outcome process of
    the module docstring.

    Parameters
    ----------
    graph : {"ba", "er", "sbm"}, default="ba"
        Barabasi-Albert with m=4, Erdos-Renyi with p=0.05, or two blocks with
        probabilities 0.05 within and 0.005 between.
    num_nodes : int, default=1000
        Number of nodes, at least 10.
    num_features : int, default=10
        Covariates per node, at least 2.
    effect : str, default="simple_h"
        The effect :math:`\tau`: ``"simple_h"``, ``"local_x"``, ``"higher_order"``,
        ``"interaction"`` or ``"constant"`` (see the module docstring).
    treatment : {"bernoulli", "threshold"}, default="bernoulli"
        Bernoulli draws from the propensity, or the deterministic threshold.
    treatment_strength : float, default=1.0
        The scale :math:`s` of the treatment logit, >= 0 (0: propensity 1/2).
    noise : float, default=1.0
        Standard deviation :math:`\sigma` of the outcome noise, >= 0.
    seed : int, numpy Generator or None, default=None
        Seeds everything.

    Returns
    -------
    CausalData

    Examples
    --------
    >>> data = network_causal("ba", 200, effect="simple_h", seed=0)
    >>> data.X.shape, sorted(set(data.T.tolist())), round(float(data.tau.mean()), 1) > 1
    ((200, 10), [0.0, 1.0], True)
    """
    owner = "network_causal"
    graph = check_scalar("graph", graph, Options(*GRAPHS), owner=owner)
    num_nodes = check_scalar("num_nodes", num_nodes, Integer(10), owner=owner)
    num_features = check_scalar("num_features", num_features, Integer(2), owner=owner)
    process = _check_process(owner, effect, treatment, treatment_strength, noise)
    rng = np.random.default_rng(check_scalar("seed", seed, *_SEED, owner=owner))
    edges = _graph(graph, num_nodes, rng)
    X = rng.standard_normal((num_nodes, num_features))
    g = Graph(torch.from_numpy(edges), num_nodes, name=f"{graph}-{effect}")
    return _simulate(g, X, *process, rng)


def cora_causal(root: Union[str, "object"], num_features: int = 10, *,
                effect: str = "simple_h", treatment_strength: float = 1.0,
                noise: float = 1.0, seed: Optional[int] = None) -> CausalData:
    """The process of :func:`network_causal` on Cora's graph, with covariates a fixed
    random projection of its bag-of-words features to ``num_features`` dimensions,
    standardised.

    Parameters
    ----------
    root : str or path
        Folder of the Planetoid files (see :func:`graphbias.data.datasets.load_planetoid`).
    num_features : int, default=10
        Covariates per node, at least 2.
    effect, treatment_strength, noise, seed
        As in :func:`network_causal` (Bernoulli treatment).

    Returns
    -------
    CausalData

    Examples
    --------
    >>> data = cora_causal("data/planetoid", seed=0)      # doctest: +SKIP
    >>> data.X.shape                                      # doctest: +SKIP
    (2708, 10)
    """
    from ..datasets import load_planetoid

    owner = "cora_causal"
    num_features = check_scalar("num_features", num_features, Integer(2), owner=owner)
    process = _check_process(owner, effect, "bernoulli", treatment_strength, noise)
    rng = np.random.default_rng(check_scalar("seed", seed, *_SEED, owner=owner))
    cora = load_planetoid(root, "cora")
    x = cora.x.to_dense().numpy() if cora.x.layout != torch.strided else cora.x.numpy()
    X = x @ rng.standard_normal((x.shape[1], num_features))
    X = (X - X.mean(0)) / X.std(0)
    g = Graph(cora.edge_index, cora.num_nodes, name=f"cora-{effect}")
    return _simulate(g, X, *process, rng)
