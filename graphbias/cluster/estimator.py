r"""Local graph clustering with noisy labels (Back de Luca, Fountoulakis and Yang,
ICLR 2024): a local diffusion on the label-weighted graph, cut by conductance.

``fit`` builds a :class:`~graphbias.cluster.view.GraphView` of the graph (the CSR is
read once; with noisy labels, edges not joining two nodes labelled 1 are scaled by
``label_eps`` as rows are read). Each query runs the diffusion from its seeds for
every parameter of the grid, extracts a cluster (sweep cut or support) and keeps the
one of least conductance in the weighted graph. Without labels it is plain flow
diffusion or PageRank on the original graph.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._validation import Constraint, Options, Real
from ..base import EstimatorMixin
from .diffusion import Diffusion
from .flow import UnabsorbedMass, flow_diffusion, sink_capacity
from .labels import f1_sets
from .ppr import acl_ppr
from .sweep import conductance, support_cut, sweep_cut
from .view import GraphView

__all__ = ["NoisyLabelLocalClustering", "LocalCluster"]

Grid = Union[float, Sequence[float], None]
#: default source masses, as multiples of the seeds' total sink capacity
MASS_FACTORS = tuple(2.0 ** np.arange(2, 13))


@dataclass
class LocalCluster:
    """One query's answer: the cluster, its conductance, the chosen parameters and
    the diffusion they gave (``None`` when the cluster is the seeds' whole connected
    component, too small to absorb the chosen mass); ``touched`` / ``edges_scanned``
    sum over the grid."""

    nodes: np.ndarray
    conductance: float
    params: dict
    diffusion: Optional[Diffusion]
    touched: int
    edges_scanned: int


class NumberGrid(Constraint):
    """A number, or a non-empty sequence of numbers, each in the open interval
    ``(low, high)`` (``high=None``: unbounded); converted to a tuple of floats."""

    def __init__(self, low: float, high: Optional[float] = None) -> None:
        self.number = Real(low, high, closed="neither")

    def _values(self, value: Any) -> Optional[list]:
        if isinstance(value, (str, bytes)):
            return None
        if isinstance(value, np.ndarray):
            return [value.item()] if value.ndim == 0 else \
                value.tolist() if value.ndim == 1 else None
        if isinstance(value, Sequence):
            return list(value)
        return [value]

    def accepts(self, value: Any) -> bool:
        values = self._values(value)
        return bool(values) and all(self.number.accepts(v) for v in values)

    def convert(self, value: Any) -> tuple[float, ...]:
        return tuple(float(v) for v in self._values(value))

    def describe(self) -> str:
        return "a number or a non-empty sequence of numbers, each " + \
            self.number.describe().replace("a real number ", "")


class NoisyLabelLocalClustering(EstimatorMixin, BaseEstimator):
    r"""Local clustering around seed nodes, using noisy 0/1 labels when given.

    With noisy labels :math:`\tilde y`, every edge that does not join two nodes
    labelled 1 is scaled by :math:`\varepsilon` (``label_eps``), and optionally by
    :math:`\exp(-\gamma \lVert x_i - x_j \rVert^2)` (``gamma``); a query diffuses
    from its seeds on that graph for every parameter of the grid, extracts a
    cluster (sweep cut or support) and keeps the one of least conductance

    .. math:: \phi(S) = \frac{w(S, \bar S)}{\min(\mathrm{vol}(S), \mathrm{vol}(\bar S))}

    in the weighted graph (:mod:`graphbias.cluster.sweep`). Without labels it is
    plain flow diffusion or PageRank on the original graph.

    The input is a graph, not a feature matrix, so scikit-learn's generic
    estimator checks do not apply; ``get_params`` / ``set_params`` / ``clone`` and
    pickling do.

    Parameters
    ----------
    method : {"flow", "ppr"}, default="flow"
        :math:`\ell_2` flow diffusion (:func:`~graphbias.cluster.flow_diffusion`) or
        ACL push personalised PageRank (:func:`~graphbias.cluster.acl_ppr`).
    label_eps : float, default=0.05
        Weight factor :math:`\varepsilon \in (0, 1]` of every edge that does not
        join two nodes labelled 1 (1 leaves the graph as it is).
    gamma : float or None, default=None
        When set (> 0), edges are further weighted by
        :math:`\exp(-\gamma \lVert x_i - x_j \rVert^2)` with the graph's features.
    source_mass : float, sequence of float or None, default=None
        Flow: total source mass (> 0), a number or a grid; ``None`` means the
        seeds' total sink capacity times ``4, 8, ..., 4096``, up to half the
        graph's total capacity.
    sink : {"degree", "unit"}, default="degree"
        Flow: sink capacities, the original degree or 1.
    tol : float, default=1e-3
        Flow: stop when every excess is at most ``tol`` (> 0) times its capacity.
    alpha : float or sequence of float, default=(0.01, 0.05, 0.15)
        PageRank: teleport probability in (0, 1), a number or a grid.
    epsilon : float or sequence of float, default=1e-4
        PageRank: residual tolerance per unit degree (> 0), a number or a grid.
    extract : {"sweep", "support"}, default="sweep"
        The least-conductance prefix of the diffusion's order, or every node with a
        positive value.

    Attributes
    ----------
    view_ : GraphView
        The (label-weighted) graph queries diffuse on.
    n_nodes_ : int
        Number of nodes of the fitted graph.
    uses_labels_ : bool
        Whether noisy labels re-weight the graph.

    Examples
    --------
    >>> from graphbias.data.synthetic.planted import planted_cluster
    >>> pc = planted_cluster(60, 600, degree_in=10, degree_out=3, degree_rest=10,
    ...                      noise=0.1, seed=0)
    >>> labelled = NoisyLabelLocalClustering().fit(pc.graph, noisy_labels=pc.noisy_labels)
    >>> plain = NoisyLabelLocalClustering().fit(pc.graph)
    >>> round(labelled.score(0, pc.target), 2), round(plain.score(0, pc.target), 2)
    (0.91, 0.75)
    """

    _parameter_constraints = {
        "method": [Options("flow", "ppr")],
        "label_eps": [Real(0, 1, closed="right")],
        "gamma": [Real(0, None, closed="neither"), None],
        "source_mass": [NumberGrid(0), None],
        "sink": [Options("degree", "unit")],
        "tol": [Real(0, None, closed="neither")],
        "alpha": [NumberGrid(0, 1)],
        "epsilon": [NumberGrid(0)],
        "extract": [Options("sweep", "support")],
    }

    def __init__(self, method: str = "flow", *, label_eps: float = 0.05,
                 gamma: Optional[float] = None, source_mass: Grid = None,
                 sink: str = "degree", tol: float = 1e-3,
                 alpha: Grid = (0.01, 0.05, 0.15), epsilon: Grid = 1e-4,
                 extract: str = "sweep") -> None:
        self.method = method
        self.label_eps = label_eps
        self.gamma = gamma
        self.source_mass = source_mass
        self.sink = sink
        self.tol = tol
        self.alpha = alpha
        self.epsilon = epsilon
        self.extract = extract

    # ------------------------------------------------------------------ fit
    def fit(self, graph: Any, noisy_labels: Any = None) -> "NoisyLabelLocalClustering":
        """Reads the graph (and the noisy labels) that queries diffuse on.

        Parameters
        ----------
        graph : graph-like
            An undirected graph with nonnegative weights: anything
            :func:`graphbias.as_graph` reads.
        noisy_labels : array-like of shape (n_nodes,), optional
            0/1 (or boolean) labels, one per node.

        Returns
        -------
        self
        """
        p = self._begin_fit()
        self._params_ = p
        self.view_ = GraphView.from_graph(graph, labels=noisy_labels,
                                          label_eps=p.label_eps, gamma=p.gamma)
        self.view_.volume()
        self.view_.scratch()
        self.n_nodes_ = self.view_.num_nodes
        self.uses_labels_ = noisy_labels is not None
        return self

    # -------------------------------------------------------------- queries
    def _settings(self, seeds: np.ndarray) -> list[dict]:
        p = self._params_
        if p.method == "ppr":
            return [{"alpha": a, "epsilon": e} for a in p.alpha for e in p.epsilon]
        if p.source_mass is not None:
            return [{"source_mass": m} for m in p.source_mass]
        base = float(sink_capacity(self.view_, seeds, p.sink).sum())
        limit = self.view_.base_volume() if p.sink == "degree" else float(self.n_nodes_)
        # a support of more than half the volume is not a local cluster
        masses = [float(base * f) for f in MASS_FACTORS if base * f <= limit / 2] \
            or [limit / 2]
        return [{"source_mass": m} for m in masses]

    def _diffuse(self, seeds: np.ndarray, params: dict) -> Diffusion:
        p = self._params_
        if p.method == "ppr":
            return acl_ppr(self.view_, seeds, **params)
        return flow_diffusion(self.view_, seeds, sink=p.sink, tol=p.tol, **params)

    def query(self, seeds: Any) -> LocalCluster:
        """The cluster around ``seeds``, diffused from together.

        Parameters
        ----------
        seeds : int or array-like of int
            A node id or a list of ids.

        Returns
        -------
        LocalCluster
            The cluster, its conductance, the chosen parameters and the cost.
        """
        check_is_fitted(self, "view_")
        seeds = self.view_.check_seeds(seeds)
        cut = sweep_cut if self._params_.extract == "sweep" else support_cut
        best: Optional[LocalCluster] = None
        touched = edges = 0
        for params in self._settings(seeds):
            try:
                diff = self._diffuse(seeds, params)
            except UnabsorbedMass as full:
                # the seeds' component is too small for this mass: it is the
                # cluster (conductance 0); larger masses would fill it too
                touched += full.component.size
                phi = conductance(self.view_, full.component)
                if best is None or phi < best.conductance:
                    best = LocalCluster(full.component, phi, params, None, 0, 0)
                break
            touched, edges = touched + diff.touched, edges + diff.edges_scanned
            nodes, phi = cut(self.view_, diff.nodes, diff.scores)
            if nodes.size == 0:           # the seeds absorbed all the mass
                nodes, phi = seeds, conductance(self.view_, seeds)
            if best is None or phi < best.conductance:
                best = LocalCluster(nodes, phi, params, diff, 0, 0)
        assert best is not None
        best.touched, best.edges_scanned = touched, edges
        return best

    @staticmethod
    def _queries(seeds: Any) -> list[Any]:
        if isinstance(seeds, (list, tuple)) or (isinstance(seeds, np.ndarray)
                                                 and seeds.ndim > 0):
            return list(seeds)
        return [seeds]

    def predict(self, seeds: Any) -> list[np.ndarray]:
        """One cluster per query.

        Parameters
        ----------
        seeds : int or list
            A node id, or a list whose entries are node ids or lists of ids (a seed
            set per query).

        Returns
        -------
        list of ndarray
            The sorted node ids of each query's cluster.
        """
        return [self.query(s).nodes for s in self._queries(seeds)]

    def diffusion_(self, seed: Any) -> Diffusion:
        """The raw diffusion from ``seed`` at the parameters the query selects.

        Parameters
        ----------
        seed : int or array-like of int
            A node id or a seed set.

        Returns
        -------
        Diffusion

        Raises
        ------
        ValueError
            When the seeds' component cannot absorb the chosen mass (no finite
            diffusion).
        """
        res = self.query(seed)
        if res.diffusion is None:
            raise ValueError(f"the seeds' connected component ({res.nodes.size} nodes) "
                             f"cannot absorb source_mass {res.params['source_mass']}: "
                             "there is no finite diffusion; pass a smaller source_mass")
        return res.diffusion

    def score(self, seeds: Any, target: Any) -> float:
        """Mean F1 of the clusters found from ``seeds`` against ``target`` (greater
        is better).

        Parameters
        ----------
        seeds : int or list
            The queries, as in :meth:`predict`.
        target : array-like
            The target cluster: node ids or a boolean mask over the nodes.

        Returns
        -------
        float
            In ``[0, 1]``.
        """
        check_is_fitted(self, "view_")
        target = np.asarray(target)
        if target.dtype == bool:
            if target.shape != (self.n_nodes_,):
                raise ValueError(f"a boolean target must have shape ({self.n_nodes_},), "
                                 f"got {target.shape}")
            target = np.flatnonzero(target)
        return float(np.mean([f1_sets(c, target) for c in self.predict(seeds)]))
