r"""Network-confounded treatment-effect data: confounding and effect heterogeneity flow
through neighbours. Two settings share the effect functions.

``setting="default"`` (this library's process). With :math:`\hat A` the GCN-normalised
adjacency (self-loops added) and frozen random weights :math:`W_1, W_2`:

.. math::
    H_1 = \mathrm{std}(\hat A X W_1), \qquad H_2 = \mathrm{std}(\hat A H_1 W_2),

    \ell = X a + H_1 b, \qquad Y = H_{1,0} + 0.5 X_1 + \varepsilon + T\,\tau,

(:math:`\mathrm{std}` scales each column to mean 0, variance 1), so :math:`H_1` is
linear in :math:`\hat A X` and :math:`H_2` in :math:`\hat A^2 X`;
:math:`\varepsilon \sim \mathcal N(0, \sigma^2)` with :math:`\sigma = 1`.

``setting="paper"`` follows the data simulator of "The Final-Stage Bottleneck" (2025;
the authors' ``src/data.py``): :math:`H_1 = \mathrm{ReLU}(\mathrm{GCN}_1(X))` with
:math:`\mathrm{GCN}_1` a random two-layer GCN
:math:`\hat A\,\mathrm{ReLU}(\hat A X U_1)\,U_2` (two hops; :math:`d \times d`
weights drawn as a GCN layer initialises them, Glorot-uniform, zero biases),
:math:`H_2 = \mathrm{ReLU}(\mathrm{GCN}_2(H_1))` (four hops),
:math:`\ell = 0.5 X_0 - 0.7 H_{1,1}` with the threshold treatment
:math:`T = [\ell + 0.3\,\eta > 0]`, :math:`\eta \sim \mathcal N(0, 1)`, outcome noise
:math:`\sigma = 0.5` and block probabilities 0.1 / 0.01 for ``"sbm"``. Every other
term (covariates :math:`X \sim \mathcal N(0, I_{10})`, ER probability 0.05, BA with 4
edges per new node, the outcome and effect formulas) is shared. Random streams are
numpy's, not torch's, so the draws differ from the authors' for the same seed; and BA
graphs come from networkx's generator rather than PyTorch Geometric's.
The random GCNs' outputs are small (Glorot-uniform weights, degree-normalised
averaging), so under this setting the effects vary little: the standard deviation of
``simple_h``'s :math:`\tau` is about 0.01 to 0.15 on 1,000-node BA graphs and smaller
on the denser ER and SBM ones.

The effect :math:`\tau` is one of ``simple_h`` :math:`2 + 1.5 \sin H_{1,0}`,
``higher_order`` :math:`2 + 1.5 \sin H_{2,0}`, ``interaction``
:math:`2 + H_{1,0} X_1`, ``local_x`` :math:`2 + 1.5 \sin X_0`, ``linear``
:math:`2 + 0.5 H_{1,0} + 0.5 H_{2,0}` (linear in :math:`[\hat A X, \hat A^2 X]`
under the default setting) or ``constant`` :math:`2`.

Treatment: ``"bernoulli"`` draws :math:`T \sim \mathrm{Bernoulli}(\sigma(s\,\ell))`
(``treatment_strength`` :math:`s` sets the overlap: small values give propensities
near 1/2, large ones push them towards 0 and 1); ``"threshold"`` assigns
:math:`T = [\ell + \sigma_T \eta > 0]`, drawn as
:math:`\mathrm{Bernoulli}(\Phi(\ell / \sigma_T))`, the same law
(``treatment_noise`` :math:`\sigma_T`; 0 gives the deterministic threshold, with no
overlap at all, for testing refusals).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np
import torch
from scipy.special import ndtr

from ..._validation import Instance, Integer, Options, Real, check_scalar
from ..graph import Graph
from ..transforms import gcn_norm
from ... import ops
from .graphs import _block_edges, _both_directions

__all__ = ["CausalData", "network_causal", "cora_causal", "EFFECTS", "GRAPHS", "SETTINGS"]

EFFECTS = ("simple_h", "local_x", "higher_order", "interaction", "linear", "constant")
GRAPHS = ("ba", "er", "sbm", "geometric")
SETTINGS = ("default", "paper")

#: per setting: outcome noise, threshold noise, SBM probabilities (within, between)
_SETTING_VALUES = {"default": {"noise": 1.0, "treatment": "bernoulli",
                               "treatment_noise": 1.0, "sbm": (0.05, 0.005)},
                   "paper": {"noise": 0.5, "treatment": "threshold",
                             "treatment_noise": 0.3, "sbm": (0.1, 0.01)}}
#: Erdos-Renyi edge probability, BA edges per new node and the geometric graph's
#: expected degree when ``avg_degree`` is not given
_ER_P, _BA_M, _GEOMETRIC_DEGREE = 0.05, 4, 8.0


@dataclass
class CausalData:
    """Covariates ``X [n, d]``, binary treatment ``T``, outcome ``Y``, the true effect
    ``tau``, true propensity ``propensity``, the graph, the embeddings and the
    noise-free untreated outcome ``baseline``
    (:math:`Y = \\text{baseline} + T \\tau + \\sigma \\varepsilon`)."""

    X: np.ndarray
    T: np.ndarray
    Y: np.ndarray
    tau: np.ndarray
    propensity: np.ndarray
    graph: Graph
    H1: np.ndarray
    H2: np.ndarray
    baseline: np.ndarray

    @property
    def outcome_mean(self) -> np.ndarray:
        """The true outcome regression :math:`E[Y \\mid X, G] = \\text{baseline} +
        e(X, G)\\,\\tau`, the R-learner's nuisance :math:`m`."""
        return self.baseline + self.propensity * self.tau


def _geometric_edges(n: int, avg_degree: float, rng: np.random.Generator) -> np.ndarray:
    """Points uniform in the unit square joined when closer than the radius that gives
    ``avg_degree`` expected neighbours away from the border."""
    from scipy.spatial import cKDTree

    points = rng.random((n, 2))
    pairs = cKDTree(points).query_pairs(np.sqrt(avg_degree / (n * np.pi)),
                                        output_type="ndarray")
    return _both_directions(pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64), n)


def _graph(kind: str, n: int, sbm_p: tuple[float, float], avg_degree: Optional[float],
           rng: np.random.Generator) -> np.ndarray:
    """Edges of a ``kind`` graph (one of :data:`GRAPHS`) on ``n`` nodes."""
    if kind == "ba":
        import networkx as nx

        m = _BA_M if avg_degree is None else max(1, round(avg_degree / 2))
        g = nx.barabasi_albert_graph(n, min(m, n - 1), seed=int(rng.integers(2**31 - 1)))
        e = np.array(g.edges(), dtype=np.int64).T
        return _both_directions(e[0], e[1], n)
    if kind == "geometric":
        return _geometric_edges(n, _GEOMETRIC_DEGREE if avg_degree is None else avg_degree,
                                rng)
    if kind == "er":
        p = _ER_P if avg_degree is None else min(avg_degree / (n - 1), 1.0)
        return _block_edges(np.array([n]), np.array([[p]]), rng)
    sizes = np.array([n // 2, n - n // 2])
    p_in, p_out = sbm_p
    if avg_degree is not None:       # keep the ratio of the two probabilities
        scale = avg_degree / (p_in * (n // 2 - 1) + p_out * (n - n // 2))
        p_in, p_out = min(p_in * scale, 1.0), min(p_out * scale, 1.0)
    return _block_edges(sizes, np.array([[p_in, p_out], [p_out, p_in]]), rng)


def _standardise(h: torch.Tensor) -> torch.Tensor:
    return (h - h.mean(0)) / h.std(0).clamp_min(1e-12)


def _random_gcn(prop: Any, h: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    r""":math:`\mathrm{ReLU}(\hat A\,\mathrm{ReLU}(\hat A h U_1) U_2)` with square
    Glorot-uniform weights (a GCN layer's initialisation; biases start at zero)."""
    d = h.shape[1]
    bound = np.sqrt(6.0 / (2 * d))
    for layer in range(2):
        u = torch.from_numpy(rng.uniform(-bound, bound, (d, d)))
        h = ops.spmm(prop, h @ u)
        h = torch.relu(h)        # between the layers, and the ReLU applied to the output
    return h


def _embeddings(prop: Any, X: np.ndarray, setting: str, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``H1``, ``H2`` and the treatment score :math:`\\ell` of a setting."""
    x = torch.from_numpy(X)
    d = X.shape[1]
    if setting == "paper":
        h1 = _random_gcn(prop, x, rng)
        h2 = _random_gcn(prop, h1, rng)
        H1, H2 = h1.numpy(), h2.numpy()
        return H1, H2, 0.5 * X[:, 0] - 0.7 * H1[:, 1]
    w1 = rng.standard_normal((d, d)) / np.sqrt(d)
    w2 = rng.standard_normal((d, d)) / np.sqrt(d)
    h1 = _standardise(ops.spmm(prop, x) @ torch.from_numpy(w1))
    h2 = _standardise(ops.spmm(prop, h1) @ torch.from_numpy(w2))
    H1, H2 = h1.numpy(), h2.numpy()
    a, b = rng.standard_normal(d) / np.sqrt(d), rng.standard_normal(d) / np.sqrt(d)
    return H1, H2, X @ a + H1 @ b


def _effect(effect: str, X: np.ndarray, H1: np.ndarray, H2: np.ndarray) -> np.ndarray:
    n = X.shape[0]
    return {"simple_h": lambda: 2 + 1.5 * np.sin(H1[:, 0]),
            "local_x": lambda: 2 + 1.5 * np.sin(X[:, 0]),
            "higher_order": lambda: 2 + 1.5 * np.sin(H2[:, 0]),
            "interaction": lambda: 2 + H1[:, 0] * X[:, 1],
            "linear": lambda: 2 + 0.5 * H1[:, 0] + 0.5 * H2[:, 0],
            "constant": lambda: np.full(n, 2.0)}[effect]()


def _simulate(graph: Graph, X: np.ndarray, process: dict[str, Any],
              rng: np.random.Generator) -> CausalData:
    prop = gcn_norm(graph, dtype=torch.float64)
    H1, H2, score = _embeddings(prop, X, process["setting"], rng)
    if process["treatment"] == "bernoulli":
        p = 1.0 / (1.0 + np.exp(-process["treatment_strength"] * score))
    elif process["treatment_noise"] > 0:
        p = ndtr(score / process["treatment_noise"])
    else:
        p = (score > 0).astype(float)
    n = X.shape[0]
    T = (rng.random(n) < p).astype(float)
    tau = _effect(process["effect"], X, H1, H2)
    baseline = H1[:, 0] + 0.5 * X[:, 1]
    Y = baseline + process["noise"] * rng.standard_normal(n) + T * tau
    return CausalData(X, T, Y, tau, p, graph, H1, H2, baseline)


#: a seed of numpy's ``default_rng``
_SEED = (Integer(0), Instance(np.random.Generator, name="a numpy Generator"), None)


def _check_process(owner: str, setting: str, effect: str, treatment: Optional[str],
                   treatment_strength: float, treatment_noise: Optional[float],
                   noise: Optional[float]) -> dict[str, Any]:
    """The arguments of the treatment and outcome process, validated, with the
    setting's values in place of ``None``."""
    setting = check_scalar("setting", setting, Options(*SETTINGS), owner=owner)
    values = _SETTING_VALUES[setting]
    return {
        "setting": setting,
        "effect": check_scalar("effect", effect, Options(*EFFECTS), owner=owner),
        "treatment": check_scalar("treatment", treatment,
                                  Options("bernoulli", "threshold"), None, owner=owner)
        or values["treatment"],
        "treatment_strength": check_scalar("treatment_strength", treatment_strength,
                                           Real(0), owner=owner),
        "treatment_noise": _or_default(check_scalar(
            "treatment_noise", treatment_noise, Real(0), None, owner=owner),
            values["treatment_noise"]),
        "noise": _or_default(check_scalar("noise", noise, Real(0), None, owner=owner),
                             values["noise"]),
    }


def _or_default(value: Optional[float], default: float) -> float:
    return default if value is None else value


def network_causal(graph: str = "ba", num_nodes: int = 1000, num_features: int = 10, *,
                   effect: str = "simple_h", setting: str = "default",
                   treatment: Optional[str] = None, treatment_strength: float = 1.0,
                   treatment_noise: Optional[float] = None, noise: Optional[float] = None,
                   avg_degree: Optional[float] = None,
                   seed: Union[int, np.random.Generator, None] = None) -> CausalData:
    r"""Draws a graph, Gaussian covariates and the treatment and outcome process of
    the module docstring.

    Parameters
    ----------
    graph : {"ba", "er", "sbm", "geometric"}, default="ba"
        Barabasi-Albert with 4 edges per new node, Erdos-Renyi with p=0.05, two equal
        blocks with probabilities 0.05 within and 0.005 between (0.1 and 0.01 under
        ``setting="paper"``), or a random geometric graph (points uniform in the unit
        square, joined within the radius that gives 8 expected neighbours away from
        the border).
    num_nodes : int, default=1000
        Number of nodes, at least 10.
    num_features : int, default=10
        Covariates per node, at least 2.
    effect : str, default="simple_h"
        The effect :math:`\tau`: ``"simple_h"``, ``"local_x"``, ``"higher_order"``,
        ``"interaction"``, ``"linear"`` or ``"constant"`` (see the module
        docstring).
    setting : {"default", "paper"}, default="default"
        The confounders, treatment score, noise and block probabilities: this
        library's process or the paper's (see the module docstring).
    treatment : {"bernoulli", "threshold"} or None, default=None
        Bernoulli draws from :math:`\sigma(s\,\ell)`, or the threshold
        :math:`[\ell + \sigma_T \eta > 0]`. ``None``: the setting's
        (``"bernoulli"``; ``"threshold"`` for the paper).
    treatment_strength : float, default=1.0
        The scale :math:`s` of the Bernoulli treatment's logit, >= 0 (0: propensity
        1/2).
    treatment_noise : float or None, default=None
        The threshold's noise :math:`\sigma_T`, >= 0 (0: deterministic, no overlap,
        the effect not identified). ``None``: the setting's (1; 0.3 for the paper).
    noise : float or None, default=None
        Standard deviation :math:`\sigma` of the outcome noise, >= 0. ``None``: the
        setting's (1; 0.5 for the paper).
    avg_degree : float or None, default=None
        The expected mean degree instead of the graph's fixed parameters: the ER
        probability, both SBM probabilities (their ratio kept) and the geometric
        radius are scaled to it, and BA adds ``round(avg_degree / 2)`` edges per new
        node. Use it to keep graphs equally sparse across sizes.
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
    >>> paper = network_causal("sbm", 200, setting="paper", seed=0)
    >>> bool((paper.H1 >= 0).all()), bool(0 < paper.propensity.min() < 0.01)
    (True, True)
    """
    owner = "network_causal"
    graph = check_scalar("graph", graph, Options(*GRAPHS), owner=owner)
    num_nodes = check_scalar("num_nodes", num_nodes, Integer(10), owner=owner)
    num_features = check_scalar("num_features", num_features, Integer(2), owner=owner)
    process = _check_process(owner, setting, effect, treatment, treatment_strength,
                             treatment_noise, noise)
    avg_degree = check_scalar("avg_degree", avg_degree, Real(0, None, closed="neither"),
                              None, owner=owner)
    rng = np.random.default_rng(check_scalar("seed", seed, *_SEED, owner=owner))
    edges = _graph(graph, num_nodes, _SETTING_VALUES[process["setting"]]["sbm"],
                   avg_degree, rng)
    X = rng.standard_normal((num_nodes, num_features))
    g = Graph(torch.from_numpy(edges), num_nodes, name=f"{graph}-{effect}")
    return _simulate(g, X, process, rng)


def cora_causal(root: Union[str, "object"], num_features: int = 10, *,
                effect: str = "simple_h", setting: str = "default",
                treatment: Optional[str] = None, treatment_strength: float = 1.0,
                treatment_noise: Optional[float] = None, noise: Optional[float] = None,
                seed: Optional[int] = None) -> CausalData:
    """The process of :func:`network_causal` on Cora's graph, with covariates a fixed
    random projection of its bag-of-words features to ``num_features`` dimensions,
    standardised (the paper's semi-synthetic Cora runs use the raw 1,433 word
    features instead).

    Parameters
    ----------
    root : str or path
        Folder of the Planetoid files (see :func:`graphbias.data.datasets.load_planetoid`).
    num_features : int, default=10
        Covariates per node, at least 2.
    effect, setting, treatment, treatment_strength, treatment_noise, noise, seed
        As in :func:`network_causal`.

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
    process = _check_process(owner, setting, effect, treatment, treatment_strength,
                             treatment_noise, noise)
    rng = np.random.default_rng(check_scalar("seed", seed, *_SEED, owner=owner))
    cora = load_planetoid(root, "cora")
    x = cora.x.to_dense().numpy() if cora.x.layout != torch.strided else cora.x.numpy()
    X = x @ rng.standard_normal((x.shape[1], num_features))
    X = (X - X.mean(0)) / X.std(0)
    g = Graph(cora.edge_index, cora.num_nodes, name=f"cora-{effect}")
    return _simulate(g, X, process, rng)
