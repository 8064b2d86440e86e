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


def _grid(name: str, value: Grid, low: float, high: float) -> tuple[float, ...]:
    values = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all() \
            or (values <= low).any() or (values >= high).any():
        raise ValueError(f"{name} must be a number or a non-empty list of numbers in "
                         f"({low}, {high}), got {value!r}")
    return tuple(float(v) for v in values)


class NoisyLabelLocalClustering(BaseEstimator):
    r"""Local clustering around seed nodes, using noisy 0/1 labels when given.

    Args:
        method: ``"flow"`` (:math:`\ell_2` flow diffusion) or ``"ppr"`` (ACL push
            personalised PageRank).
        label_eps: weight factor :math:`\varepsilon \in (0, 1]` of every edge that does
            not join two nodes labelled 1 (1 leaves the graph as it is).
        gamma: when set, edges are further weighted by
            :math:`\exp(-\gamma \lVert x_i - x_j \rVert^2)` with the graph's features.
        source_mass: flow: total source mass, a number or a grid; ``None`` means the
            seeds' total sink capacity times ``4, 8, ..., 4096``, up to half the
            graph's total capacity.
        sink: flow: sink capacities, ``"degree"`` (original degree) or ``"unit"``.
        tol: flow: stop when every excess is at most ``tol`` times its capacity.
        alpha: ppr: teleport probability, a number or a grid.
        epsilon: ppr: residual tolerance per unit degree, a number or a grid.
        extract: ``"sweep"`` (least-conductance prefix of the diffusion's order) or
            ``"support"`` (every node with positive value).

    Attributes:
        view_: the :class:`~graphbias.cluster.view.GraphView` queries diffuse on.
        n_nodes_: number of nodes of the fitted graph.
        uses_labels_: whether noisy labels re-weight the graph.

    The parameters of least conductance over the grid are chosen per query. The
    input is a graph, not a feature matrix, so scikit-learn's generic estimator
    checks do not apply; ``get_params`` / ``set_params`` / ``clone`` and pickling do.

    >>> from graphbias.data.synthetic.planted import planted_cluster
    >>> pc = planted_cluster(60, 600, degree_in=10, degree_out=3, degree_rest=10,
    ...                      noise=0.1, seed=0)
    >>> labelled = NoisyLabelLocalClustering().fit(pc.graph, noisy_labels=pc.noisy_labels)
    >>> plain = NoisyLabelLocalClustering().fit(pc.graph)
    >>> round(labelled.score(0, pc.target), 2), round(plain.score(0, pc.target), 2)
    (0.91, 0.75)
    """

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
        """Reads ``graph`` (undirected; anything :func:`~graphbias.data.as_graph`
        reads) and, when given, the noisy 0/1 ``noisy_labels`` (one per node)."""
        if self.method not in ("flow", "ppr"):
            raise ValueError(f"method must be 'flow' or 'ppr', got {self.method!r}")
        if self.extract not in ("sweep", "support"):
            raise ValueError(f"extract must be 'sweep' or 'support', got {self.extract!r}")
        if self.sink not in ("degree", "unit"):
            raise ValueError(f"sink must be 'degree' or 'unit', got {self.sink!r}")
        if not (isinstance(self.tol, (int, float)) and self.tol > 0):
            raise ValueError(f"tol must be > 0, got {self.tol!r}")
        if self.method == "flow" and self.source_mass is not None:
            _grid("source_mass", self.source_mass, 0.0, np.inf)
        if self.method == "ppr":
            _grid("alpha", self.alpha, 0.0, 1.0)
            _grid("epsilon", self.epsilon, 0.0, np.inf)
        self.view_ = GraphView.from_graph(graph, labels=noisy_labels,
                                          label_eps=self.label_eps, gamma=self.gamma)
        self.view_.volume()
        self.view_.scratch()
        self.n_nodes_ = self.view_.num_nodes
        self.uses_labels_ = noisy_labels is not None
        return self

    # -------------------------------------------------------------- queries
    def _settings(self, seeds: np.ndarray) -> list[dict]:
        if self.method == "ppr":
            return [{"alpha": a, "epsilon": e}
                    for a in _grid("alpha", self.alpha, 0.0, 1.0)
                    for e in _grid("epsilon", self.epsilon, 0.0, np.inf)]
        if self.source_mass is None:
            base = float(sink_capacity(self.view_, seeds, self.sink).sum())
            limit = self.view_.base_volume() if self.sink == "degree" \
                else float(self.n_nodes_)
            # a support of more than half the volume is not a local cluster
            masses = [float(base * f) for f in MASS_FACTORS if base * f <= limit / 2] \
                or [limit / 2]
        else:
            masses = list(_grid("source_mass", self.source_mass, 0.0, np.inf))
        return [{"source_mass": m} for m in masses]

    def _diffuse(self, seeds: np.ndarray, params: dict) -> Diffusion:
        if self.method == "ppr":
            return acl_ppr(self.view_, seeds, **params)
        return flow_diffusion(self.view_, seeds, sink=self.sink, tol=self.tol, **params)

    def query(self, seeds: Any) -> LocalCluster:
        """The cluster around ``seeds`` (a node id or a list of ids, diffused from
        together), with its conductance, parameters and cost."""
        check_is_fitted(self, "view_")
        seeds = self.view_.check_seeds(seeds)
        cut = sweep_cut if self.extract == "sweep" else support_cut
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
        """One cluster (sorted node ids) per query: ``seeds`` is a node id, or a list
        whose entries are node ids or lists of ids (a seed set per query)."""
        return [self.query(s).nodes for s in self._queries(seeds)]

    def diffusion_(self, seed: Any) -> Diffusion:
        """The raw diffusion from ``seed`` at the parameters the query selects."""
        res = self.query(seed)
        if res.diffusion is None:
            raise ValueError(f"the seeds' connected component ({res.nodes.size} nodes) "
                             f"cannot absorb source_mass {res.params['source_mass']}: "
                             "there is no finite diffusion; pass a smaller source_mass")
        return res.diffusion

    def score(self, seeds: Any, target: Any) -> float:
        """Mean F1 of the clusters found from ``seeds`` against ``target`` (node ids
        or a boolean mask over the nodes)."""
        check_is_fitted(self, "view_")
        target = np.asarray(target)
        if target.dtype == bool:
            if target.shape != (self.n_nodes_,):
                raise ValueError(f"a boolean target must have shape ({self.n_nodes_},), "
                                 f"got {target.shape}")
            target = np.flatnonzero(target)
        return float(np.mean([f1_sets(c, target) for c in self.predict(seeds)]))
