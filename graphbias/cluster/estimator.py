r"""Local graph clustering with noisy labels (Back de Luca, Fountoulakis and Yang,
ICLR 2024): a local diffusion on the label-weighted graph, cut by conductance.

``fit`` builds a :class:`~graphbias.cluster.view.GraphView` of the graph (the CSR is
read once; with noisy labels, edges not joining two nodes labelled 1 are scaled by
``label_eps`` as rows are read). Each query diffuses from its seeds at a sequence of
parameters, extracts a cluster from each diffusion (sweep cut or support) and keeps
the one of least conductance in the weighted graph. By default the flow diffusion's
source mass grows geometrically from the seeds' capacity, warm-started from one mass
to the next, and the search stops when the conductance stops improving, so what a
query reads depends on the cluster around its seeds, not on the size of the graph.
Without labels it is plain flow diffusion or PageRank on the original graph.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._validation import Integer, Options, Real, ValueGrid, check_scalar
from ..base import EstimatorMixin
from ..data.graph import Graph, as_graph
from .diffusion import Diffusion
from .flow import FlowSolver, UnabsorbedMass, sink_capacity
from .labels import f1_sets
from .ppr import acl_ppr
from .sweep import conductance, support_cut, sweep_cut, volume
from .view import GraphView

__all__ = ["NoisyLabelLocalClustering", "LocalCluster"]

Grid = Union[float, Sequence[float], None]
#: factor between consecutive source masses of the default search
MASS_GROWTH = 2.0
#: relative drop of the best conductance that counts as progress for a different cluster
MIN_GAIN = 0.01
#: relative drop that counts as progress for a refinement of the best cluster (a
#: cluster whose volume is within a factor SAME_VOLUME of the best's)
REFINE_GAIN = 0.04
#: volume ratio below which two clusters count as the same cluster, refined
SAME_VOLUME = 1.2
#: the search stops once the support's volume reaches SPREAD_BASE ** patience times
#: the best cluster's volume
SPREAD_BASE = 4.0
#: source masses of the paper's protocol, as multiples of the target's volume
PAPER_ALPHAS = (1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0)


@dataclass
class LocalCluster:
    """One query's answer.

    Attributes
    ----------
    nodes : ndarray of int
        The cluster (node ids, sorted).
    conductance : float
        Its conductance in the (label-weighted) graph.
    params : dict
        The parameters whose diffusion gave it.
    diffusion : Diffusion or None
        That diffusion (``None`` when the cluster is the seeds' whole connected
        component, which the chosen mass filled).
    touched : int
        Nodes the query touched. The flow masses of a query run in one
        warm-started solver, so this counts distinct nodes; PageRank diffusions
        start afresh and their counts add up.
    edges_scanned : int
        Stored graph entries the query read, counted the same way.
    diffusions : int
        Diffusions run.
    labels : list or None
        The cluster's nodes by the graph's node labels (``None`` for a graph
        without them).
    skipped : list of (dict, str)
        The settings not run, each with the reason (a source mass the graph or the
        seeds' component cannot hold).
    """

    nodes: np.ndarray
    conductance: float
    params: dict
    diffusion: Optional[Diffusion]
    touched: int
    edges_scanned: int
    diffusions: int = 0
    labels: Optional[list] = None
    skipped: list = field(default_factory=list)


def _number_grid(low: float, high: Optional[float] = None) -> ValueGrid:
    """A number or a non-empty sequence of numbers in ``(low, high)``, as floats."""
    return ValueGrid(Real(low, high, closed="neither"))


class NoisyLabelLocalClustering(EstimatorMixin, BaseEstimator):
    r"""Local clustering around seed nodes, using noisy 0/1 labels when given.

    With noisy labels :math:`\tilde y`, every edge that does not join two nodes
    labelled 1 is scaled by :math:`\varepsilon` (``label_eps``), and optionally by
    :math:`\exp(-\gamma \lVert x_i - x_j \rVert^2)` (``gamma``); a query diffuses
    from its seeds on that graph at a sequence of parameters, extracts a cluster
    from each diffusion (sweep cut or support) and keeps the one of least
    conductance

    .. math:: \phi(S) = \frac{w(S, \bar S)}{\min(\mathrm{vol}(S), \mathrm{vol}(\bar S))}

    in the weighted graph (:mod:`graphbias.cluster.sweep`). Without labels it is
    plain flow diffusion or PageRank on the original graph.

    **Default search** (``method="flow"``, ``source_mass=None``). The source mass
    starts at twice the seeds' total sink capacity :math:`T(s)` and doubles,
    :math:`\Delta_k = 2^{k+1} T(s)`. A doubling makes *progress* when its cluster
    :math:`C` beats the best cluster :math:`B` so far: :math:`\phi(C) < 0.99\,
    \phi(B)` for a different cluster, and :math:`\phi(C) < 0.96\,\phi(B)` when
    :math:`C` is :math:`B` refined, its volume within a factor 1.2 of
    :math:`\mathrm{vol}(B)` (volumes by degree before re-weighting). So once the
    sweep-cut optimum is stable, slow refinements of the same cluster (a
    conductance falling by a few percent per doubling while the support spreads
    far beyond it, as around a cluster with many boundary edges in a sparse
    expander) do not keep the search going. The search stops after the diffusion
    that

    * ends ``patience`` doublings whose support spread further without progress,
    * or has a support of volume at least :math:`4^{\mathrm{patience}}
      \mathrm{vol}(B)`,
    * or has a support of volume at least ``max_volume``,
    * or whose mass fills the seeds' connected component.

    A filled component is a candidate cluster (conductance 0) when it is the smaller
    side of the graph (a seed in a small component returns it), not when it holds
    more than half the graph's volume. Nothing in the rule depends on the size of
    the graph; the one graph-wide quantity is physical: a mass above the graph's
    total sink capacity cannot settle, so none is tried.

    *Work per query.* The masses of a query run in one
    :class:`~graphbias.cluster.flow.FlowSolver`, each warm-started from the
    solution of the last, so a query reads the row of each node of its last
    support :math:`S` once and touches only :math:`S` and its neighbours; each
    solve runs conjugate-gradient passes over :math:`S`, about
    :math:`\sqrt{\kappa}\log(1/\mathrm{tol})` of them (:mod:`~graphbias.cluster.flow`),
    so the work is :math:`O(\mathrm{vol}(S) \sqrt{\kappa} \log(1/\mathrm{tol}))`
    per mass. The bound on :math:`S` holds by construction, whatever the
    conductances do: every diffusion but the last has a support of volume below
    :math:`4^{\mathrm{patience}} \mathrm{vol}(B)`, :math:`B` the best cluster at
    that point, and the last has twice the mass of the one before; with
    ``sink="degree"`` the support of mass :math:`\Delta` has volume at most
    :math:`\Delta`. When every doubling spreads, the search also ends within
    ``patience`` doublings of the last progress, at a support volume at most
    :math:`2^{\mathrm{patience}} \Delta^*`, :math:`\Delta^*` the mass of that
    progress; ``max_volume`` bounds it by the user's volume. ``touched`` and
    ``edges_scanned`` of :meth:`query` count it exactly. An explicit
    ``source_mass`` runs every mass it lists (ascending, in one solver; masses the
    graph or the seeds' component cannot hold are skipped and listed in
    ``LocalCluster.skipped``); :meth:`paper_protocol` gives the grid of the paper.

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
        Flow: total source mass (> 0), a number or a grid run in full; ``None``
        runs the default search above.
    sink : {"degree", "unit"}, default="degree"
        Flow: sink capacities, the degree in the graph before label or feature
        re-weighting, or 1.
    tol : float, default=1e-3
        Flow: stop when every excess is at most ``tol`` (> 0) times its capacity.
    alpha : float or sequence of float, default=(0.01, 0.05, 0.15)
        PageRank: teleport probability in (0, 1), a number or a grid.
    epsilon : float or sequence of float, default=1e-4
        PageRank: residual tolerance per unit degree (> 0), a number or a grid.
    extract : {"sweep", "support"}, default="sweep"
        The least-conductance prefix of the diffusion's order, or every node with a
        positive value.
    patience : int, default=4
        Default search: doublings of the source mass that spread the diffusion
        without progress (above), before it stops (>= 1); the search also stops once
        the support's volume reaches ``4 ** patience`` times the best cluster's.
    max_volume : float or None, default=None
        Default search: stop once a diffusion's support has at least this volume
        (degree before re-weighting, > 0); ``None``: no bound.

    Attributes
    ----------
    view_ : GraphView
        The (label-weighted) graph queries diffuse on.
    graph_ : Graph
        The fitted graph; its ``node_labels`` name seeds and clusters.
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
    (0.93, 0.9)

    A graph from networkx is queried and answered in its own node names:

    >>> import networkx as nx
    >>> G = nx.relabel_nodes(nx.barbell_graph(5, 0), lambda v: f"v{v}")
    >>> NoisyLabelLocalClustering().fit(G).predict("v0")
    [['v0', 'v1', 'v2', 'v3', 'v4']]
    """

    _parameter_constraints = {
        "method": [Options("flow", "ppr")],
        "label_eps": [Real(0, 1, closed="right")],
        "gamma": [Real(0, None, closed="neither"), None],
        "source_mass": [_number_grid(0), None],
        "sink": [Options("degree", "unit")],
        "tol": [Real(0, None, closed="neither")],
        "alpha": [_number_grid(0, 1)],
        "epsilon": [_number_grid(0)],
        "extract": [Options("sweep", "support")],
        "patience": [Integer(1)],
        "max_volume": [Real(0, None, closed="neither"), None],
    }

    def __init__(self, method: str = "flow", *, label_eps: float = 0.05,
                 gamma: Optional[float] = None, source_mass: Grid = None,
                 sink: str = "degree", tol: float = 1e-3,
                 alpha: Grid = (0.01, 0.05, 0.15), epsilon: Grid = 1e-4,
                 extract: str = "sweep", patience: int = 4,
                 max_volume: Optional[float] = None) -> None:
        self.method = method
        self.label_eps = label_eps
        self.gamma = gamma
        self.source_mass = source_mass
        self.sink = sink
        self.tol = tol
        self.alpha = alpha
        self.epsilon = epsilon
        self.extract = extract
        self.patience = patience
        self.max_volume = max_volume

    @classmethod
    def paper_protocol(cls, target_volume: float, *,
                       alphas: Sequence[float] = PAPER_ALPHAS,
                       **params: Any) -> "NoisyLabelLocalClustering":
        r"""The protocol of Back de Luca, Fountoulakis and Yang (2024), after the
        weighted flow diffusion of Yang and Fountoulakis (2023).

        Flow diffusion with source masses :math:`\alpha \cdot \mathrm{vol}(K)` for
        :math:`\alpha` in ``alphas`` around the target cluster's volume, sink
        capacities the degrees of the graph before label re-weighting, and the
        cluster read off the support of the solution; of the grid, the cluster of
        least conductance is kept. It needs an estimate of the target's volume,
        which the default search does not.

        Parameters
        ----------
        target_volume : float
            The (estimated) volume :math:`\mathrm{vol}(K)` of the target (> 0).
        alphas : sequence of float, default=(1.5, 2.0, ..., 5.0)
            The multiples of ``target_volume`` tried (each > 0).
        **params
            Any other constructor parameter (``label_eps``, ``gamma``, ``tol``).

        Returns
        -------
        NoisyLabelLocalClustering
            Unfitted, with ``method="flow"``, ``source_mass`` the grid,
            ``sink="degree"`` and ``extract="support"``.

        Examples
        --------
        >>> model = NoisyLabelLocalClustering.paper_protocol(100.0, alphas=[1.5, 3])
        >>> model.source_mass, model.extract
        ([150.0, 300.0], 'support')
        """
        volume = check_scalar("target_volume", target_volume,
                              Real(0, None, closed="neither"))
        fixed = {"method", "source_mass", "sink", "extract"} & set(params)
        if fixed:
            raise ValueError(f"paper_protocol sets {sorted(fixed)} itself; pass the "
                             "other parameters only")
        alphas = check_scalar("alphas", alphas, _number_grid(0))
        return cls("flow", source_mass=[a * volume for a in alphas], sink="degree",
                   extract="support", **params)

    # ------------------------------------------------------------------ fit
    def fit(self, graph: Any, noisy_labels: Any = None, *,
            weight: Optional[str] = "weight") -> "NoisyLabelLocalClustering":
        """Reads the graph (and the noisy labels) that queries diffuse on.

        Parameters
        ----------
        graph : graph-like
            An undirected graph with nonnegative weights: anything
            :func:`graphbias.as_graph` reads. A networkx graph keeps its node names
            (``graph_.node_labels``): seeds, targets and clusters are then named by
            them.
        noisy_labels : array-like of shape (n_nodes,) or dict, optional
            0/1 (or boolean) labels, one per node in node order, or a dict mapping
            every node (its label for a networkx graph, else its id) to 0/1.
        weight : str or None, default="weight"
            The networkx edge attribute read as the edge weight (1 where an edge
            lacks it); None ignores weights. Other graph types carry their weights.

        Returns
        -------
        self
        """
        p = self._begin_fit()
        if weight is not None and not isinstance(weight, str):
            raise ValueError(f"weight must be an edge attribute name (str) or None, "
                             f"got {weight!r}")
        g = as_graph(graph, weight=weight)
        self._params_ = p
        self.view_ = GraphView.from_graph(g, labels=_label_array(g, noisy_labels),
                                          label_eps=p.label_eps, gamma=p.gamma)
        self.view_.volume()
        self.view_.scratch()
        self.graph_ = g
        self.n_nodes_ = self.view_.num_nodes
        self.uses_labels_ = noisy_labels is not None
        return self

    # -------------------------------------------------------------- queries
    def _settings(self, seeds: np.ndarray) -> Iterable[dict]:
        """The parameters a query tries, in order (flow masses ascending)."""
        p = self._params_
        if p.method == "ppr":
            return [{"alpha": a, "epsilon": e} for a in p.alpha for e in p.epsilon]
        if p.source_mass is not None:
            return [{"source_mass": m} for m in sorted(p.source_mass)]
        return ({"source_mass": m} for m in self._growing_masses(seeds))

    def _growing_masses(self, seeds: np.ndarray) -> Iterator[float]:
        p = self._params_
        mass = 2.0 * float(sink_capacity(self.view_, seeds, p.sink).sum())
        while True:
            yield mass
            mass *= MASS_GROWTH

    def _extract(self, diff: Diffusion) -> tuple[np.ndarray, float]:
        if self._params_.extract == "sweep":
            return sweep_cut(self.view_, diff.nodes, diff.scores)
        return support_cut(self.view_, diff.nodes, diff.values)

    def _search_done(self, search: "_Search") -> bool:
        """Whether the default search stops after the diffusion ``search`` last
        scored (explicit grids run in full)."""
        p = self._params_
        if p.method != "flow" or p.source_mass is not None:
            return False
        return (search.stale >= p.patience
                or search.spread >= SPREAD_BASE ** p.patience * search.best_volume
                or (p.max_volume is not None and search.spread >= p.max_volume))

    def _seed_ids(self, seeds: Any) -> np.ndarray:
        if self.graph_.node_labels is not None:
            seeds = self.graph_.index_of(seeds)
        return self.view_.check_seeds(seeds)

    def query(self, seeds: Any) -> LocalCluster:
        """The cluster around ``seeds``, diffused from together.

        Parameters
        ----------
        seeds : node or array-like of nodes
            A node or a list of nodes: ids, or node labels when the graph has them.

        Returns
        -------
        LocalCluster
            The cluster, its conductance, the chosen parameters, the cost and the
            settings that were not run (with the reason).
        """
        check_is_fitted(self, "view_")
        seeds = self._seed_ids(seeds)
        search = _Search(self, seeds)
        if self._params_.method == "ppr":
            for params in self._settings(seeds):
                diff = acl_ppr(self.view_, seeds, **params)
                search.add(params, diff)
                search.touched += diff.touched          # each diffusion starts afresh
                search.edges += diff.edges_scanned
        else:
            self._flow_query(seeds, search)
        return search.result()

    def _flow_query(self, seeds: np.ndarray, search: "_Search") -> None:
        """Runs the flow masses through one warm-started solver (masses ascending)."""
        p = self._params_
        with FlowSolver(self.view_, seeds, sink=p.sink, tol=p.tol) as solver:
            filled: Optional[str] = None
            for params in self._settings(seeds):
                mass = params["source_mass"]
                if mass > solver.capacity:
                    if p.source_mass is None:
                        break             # no larger mass can settle: the search ends
                    search.skip(params, f"exceeds the graph's total sink capacity "
                                        f"{solver.capacity:g}")
                    continue
                if filled is not None:
                    search.skip(params, filled)
                    continue
                try:
                    diff = solver.solve(mass)
                except UnabsorbedMass as full:
                    filled = search.fill(params, full)
                    if p.source_mass is None:
                        break
                    continue
                finally:
                    search.touched, search.edges = solver.nodes.size, solver.edges
                search.add(params, diff)
                if self._search_done(search):
                    break

    def _queries(self, seeds: Any) -> list[Any]:
        if self.graph_.node_labels is not None:
            try:
                if isinstance(self.graph_.index_of(seeds), int):
                    return [seeds]
            except ValueError:
                pass                      # not one label: a list of queries?
        if isinstance(seeds, (list, tuple)) or (isinstance(seeds, np.ndarray)
                                                 and seeds.ndim > 0):
            return list(seeds)
        return [seeds]

    def predict(self, seeds: Any) -> list[Any]:
        """One cluster per query.

        Parameters
        ----------
        seeds : node or list
            A node, or a list whose entries are nodes or lists of nodes (a seed set
            per query). Nodes are ids, or node labels when the graph has them
            (a networkx graph's nodes).

        Returns
        -------
        list
            Each query's cluster: a sorted ndarray of node ids, or for a graph with
            node labels the list of their labels (in node order).
        """
        check_is_fitted(self, "view_")
        out = []
        for s in self._queries(seeds):
            res = self.query(s)
            out.append(res.nodes if res.labels is None else res.labels)
        return out

    def diffusion_(self, seed: Any) -> Diffusion:
        """The raw diffusion from ``seed`` at the parameters the query selects.

        Parameters
        ----------
        seed : node or array-like of nodes
            A node or a seed set (ids, or node labels when the graph has them).

        Returns
        -------
        Diffusion
            Indexed by node ids.

        Raises
        ------
        ValueError
            When the seeds' component cannot absorb the chosen mass (no finite
            diffusion).
        """
        res = self.query(seed)
        if res.diffusion is None:
            raise ValueError(f"the seeds' connected component ({res.nodes.size} nodes) "
                             f"cannot absorb source_mass {res.params.get('source_mass')}: "
                             "there is no finite diffusion; pass a smaller source_mass")
        return res.diffusion

    def _target_ids(self, target: Any) -> np.ndarray:
        arr = target if isinstance(target, np.ndarray) else None
        if arr is None and self.graph_.node_labels is None:
            arr = np.asarray(target)
        if arr is not None and arr.dtype == bool:
            if arr.shape != (self.n_nodes_,):
                raise ValueError(f"a boolean target must have shape ({self.n_nodes_},), "
                                 f"got {arr.shape}")
            return np.flatnonzero(arr)
        if self.graph_.node_labels is not None:
            return np.atleast_1d(self.graph_.index_of(list(target)))
        return np.asarray(target)

    def score(self, seeds: Any, target: Any) -> float:
        """Mean F1 of the clusters found from ``seeds`` against ``target`` (greater
        is better).

        Parameters
        ----------
        seeds : node or list
            The queries, as in :meth:`predict`.
        target : array-like
            The target cluster: nodes (ids, or node labels when the graph has
            them) or a boolean mask over the nodes.

        Returns
        -------
        float
            In ``[0, 1]``.
        """
        check_is_fitted(self, "view_")
        target = self._target_ids(target)
        return float(np.mean([f1_sets(self.query(s).nodes, target)
                              for s in self._queries(seeds)]))


class _Search:
    """The candidates of one query: the least-conductance cluster so far, the
    default search's patience count, the cost and the settings left out."""

    def __init__(self, model: NoisyLabelLocalClustering, seeds: np.ndarray) -> None:
        self.model, self.view, self.seeds = model, model.view_, seeds
        self.best: Optional[LocalCluster] = None
        self.best_volume = 0.0            # of the best cluster, degree before re-weighting
        self.stale = self.runs = self.touched = self.edges = 0
        self.spread = 0.0                 # the largest support volume so far
        self.skipped: list[tuple[dict, str]] = []

    def _volume(self, nodes: np.ndarray) -> float:
        return float(self.view.base_degree(nodes).sum())

    def _offer(self, nodes: np.ndarray, phi: float, params: dict,
               diff: Optional[Diffusion], vol: float) -> None:
        """Keeps the cluster ``nodes`` (volume ``vol``) if it is the best so far."""
        if self.best is None or phi < self.best.conductance:
            self.best = LocalCluster(nodes, phi, params, diff, 0, 0)
            self.best_volume = vol

    def _progress(self, vol: float, phi: float) -> bool:
        """Whether a cluster of volume ``vol`` beats the best one by enough to reset
        the patience count: by ``MIN_GAIN`` when it is a different cluster, by
        ``REFINE_GAIN`` when it is the best one refined (volume within a factor
        ``SAME_VOLUME``)."""
        if self.best is None:
            return True
        ratio = vol / self.best_volume
        same = 1.0 / SAME_VOLUME < ratio < SAME_VOLUME
        return phi < (1.0 - (REFINE_GAIN if same else MIN_GAIN)) * self.best.conductance

    def add(self, params: dict, diff: Diffusion) -> None:
        """Scores one diffusion's cluster and updates the patience count."""
        self.runs += 1
        nodes, phi = self.model._extract(diff)
        if nodes.size == 0:               # the seeds absorbed all the mass
            nodes, phi = self.seeds, conductance(self.view, self.seeds)
        spread, vol = self._volume(diff.support), self._volume(nodes)
        if self._progress(vol, phi):
            self.stale = 0
        elif spread > self.spread:
            self.stale += 1               # spread further, no progress
        self.spread = max(self.spread, spread)
        self._offer(nodes, phi, params, diff, vol)

    def fill(self, params: dict, full: UnabsorbedMass) -> str:
        """The mass filled the seeds' connected component: the component is a
        candidate when it is the smaller side of the graph (conductance 0); returns
        why larger masses are left out."""
        self.runs += 1
        component = full.component
        if volume(self.view, component) <= 0.5 * self.view.volume():
            self._offer(component, conductance(self.view, component), params, None,
                        self._volume(component))
        else:
            self.skip(params, f"fills the seeds' connected component ({component.size} "
                              "nodes), which holds more than half the graph's volume: "
                              "not a cluster")
        return (f"the seeds' connected component ({component.size} nodes, sink "
                f"capacity {full.capacity:g}) cannot hold it")

    def skip(self, params: dict, reason: str) -> None:
        self.skipped.append((params, reason))

    def result(self) -> LocalCluster:
        best = self.best or LocalCluster(self.seeds, conductance(self.view, self.seeds),
                                         {}, None, 0, 0)
        best.touched, best.edges_scanned, best.diffusions = \
            self.touched, self.edges, self.runs
        best.skipped = self.skipped
        graph = self.model.graph_
        if graph.node_labels is not None:
            best.labels = graph.label_of(best.nodes)
        return best


def _label_array(graph: Graph, noisy_labels: Any) -> Any:
    """Noisy labels in node order: an array as given, a dict keyed by node turned
    into one (every node must have a label)."""
    if not isinstance(noisy_labels, Mapping):
        return noisy_labels
    try:
        ids = np.atleast_1d(graph.index_of(list(noisy_labels)))
    except ValueError as err:
        raise ValueError(f"noisy_labels: {err}") from None
    if len(noisy_labels) < graph.num_nodes:
        missing = np.setdiff1d(np.arange(graph.num_nodes), ids)[:5]
        raise ValueError(f"noisy_labels has no label for node(s) "
                         f"{graph.label_of(missing)!r:.200}: give every node 0 or 1")
    values = np.asarray(list(noisy_labels.values()))
    out = np.empty(graph.num_nodes, dtype=values.dtype)
    out[ids] = values
    return out
