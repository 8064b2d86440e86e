"""DoWhy bridge: model, identify, estimate with :class:`GraphRLearner`, refute.

DoWhy loads third-party estimators by path, so the estimation step is::

    model = causal_model(Y, T, X, graph)          # a dowhy.CausalModel, one row per node
    estimand = model.identify_effect()
    estimate = model.estimate_effect(estimand, method_name=METHOD,
                                     method_params={"fit_params": {"graph": graph}})
    estimate.get_confidence_intervals()           # the learner's own inference
    model.refute_estimate(estimand, estimate, method_name="placebo_treatment_refuter")

Rows of the data frame are the graph's nodes: its index names each row's node
(:func:`causal_model` numbers them ``0 .. n-1``). The adjustment set DoWhy identifies
(the covariates, plus any column a refuter adds, such as a random common cause)
becomes ``X``. Refuters that keep the rows (placebo treatment, random common cause)
fit on the whole graph; a refuter that keeps a subset of the rows
(``data_subset_refuter``) fits on the subgraph those nodes induce. Rows that repeat a
node (DoWhy's ``bootstrap_refuter`` and its bootstrap of estimates resample rows with
replacement) cannot be placed on the graph and are refused with a ``ValueError``;
confidence intervals, standard errors and significance come from the learner's
bootstrap over the fitted graph's nodes (also for ``method="bootstrap"``), never from
rows resampled away from their nodes.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from .._optional import require
from ..data import Graph, as_graph

__all__ = ["causal_model", "GraphRLearnerEstimator", "METHOD"]

METHOD = "backdoor.graphbias.causal.dowhy_bridge.GraphRLearnerEstimator"


def causal_model(Y: Any, T: Any, X: Any, graph: Any = None) -> Any:
    """A ``dowhy.CausalModel`` with treatment ``T``, outcome ``Y`` and covariates
    ``x0 .. x{d-1}`` as common causes (and effect modifiers), one row per node, the
    frame's index the node ids ``0 .. n-1``.

    Parameters
    ----------
    Y : array-like of shape (n_nodes,)
        Outcomes.
    T : array-like of shape (n_nodes,)
        Binary treatments.
    X : array-like of shape (n_nodes, n_features)
        Covariates.
    graph : graph-like, optional
        Not read: the graph travels to the estimator in ``method_params``
        (``{"fit_params": {"graph": graph}}``); accepted so that the four inputs of
        a network study are passed together.

    Returns
    -------
    dowhy.CausalModel

    Examples
    --------
    >>> from graphbias.data.synthetic.network_causal import network_causal
    >>> d = network_causal("ba", 100, seed=0)
    >>> model = causal_model(d.Y, d.T, d.X, d.graph)
    >>> sorted(model.identify_effect(proceed_when_unidentifiable=True)
    ...        .get_adjustment_set())[:3]
    ['x0', 'x1', 'x2']
    """
    pd = require("pandas", "causal", "causal_model")
    dowhy = require("dowhy", "causal", "causal_model")

    X = np.asarray(X, dtype=np.float64)
    names = [f"x{j}" for j in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    frame["T"] = np.asarray(T).astype(bool)
    frame["Y"] = np.asarray(Y, dtype=np.float64)
    return dowhy.CausalModel(data=frame, treatment="T", outcome="Y",
                             common_causes=names, effect_modifiers=names)


def _row_nodes(data: Any, num_nodes: int) -> np.ndarray:
    """The node of each row of ``data`` (its index), checked: integers in
    ``[0, num_nodes)``, each node once."""
    index = data.index.to_numpy()
    if not np.issubdtype(index.dtype, np.integer):
        raise ValueError(f"the data frame's index must hold the rows' node ids "
                         f"(integers), got {index.dtype} values")
    if index.size and (index.min() < 0 or index.max() >= num_nodes):
        raise ValueError(f"the data frame's index holds node ids outside "
                         f"[0, {num_nodes}), the nodes of the graph")
    unique, counts = np.unique(index, return_counts=True)
    if (counts > 1).any():
        raise ValueError(
            f"{int((counts > 1).sum())} nodes appear in more than one row (first: node "
            f"{unique[counts > 1][0]}): rows resampled with replacement, as DoWhy's "
            "bootstrap refuter and bootstrap estimates draw them, cannot be placed on "
            "the graph. Use the learner's own inference "
            "(estimate.get_confidence_intervals()), a bootstrap over the fitted "
            "graph's nodes")
    return index


def _induced(graph: Graph, nodes: np.ndarray) -> Graph:
    """The subgraph on ``nodes`` (in that order), nodes relabelled ``0 .. k-1``."""
    if nodes.size == graph.num_nodes and np.array_equal(nodes, np.arange(nodes.size)):
        return graph
    position = np.full(graph.num_nodes, -1, dtype=np.int64)
    position[nodes] = np.arange(nodes.size)
    ei = graph.edge_index.cpu().numpy()
    keep = (position[ei[0]] >= 0) & (position[ei[1]] >= 0)
    weight = None if graph.edge_weight is None else graph.edge_weight.cpu()[
        torch.from_numpy(keep)]
    return Graph(torch.from_numpy(position[ei[:, keep]]), int(nodes.size),
                 edge_weight=weight)


def _estimator_base() -> type:
    return require("dowhy.causal_estimator", "causal", "the DoWhy estimator"
                   ).CausalEstimator


class GraphRLearnerEstimator(_estimator_base()):  # type: ignore[misc]
    """A DoWhy ``CausalEstimator`` that fits a :class:`GraphRLearner` on the identified
    adjustment set (DoWhy loads it by the path :data:`METHOD`).

    ``method_params={"fit_params": {...}}`` passes ``graph`` (required: the graph of
    the nodes the data frame's index names) and optionally ``learner`` (an unfitted
    :class:`GraphRLearner`; default ``GraphRLearner()``). The estimate is the mean of
    the learner's effects over the rows; their per-node values are its
    ``cate_estimates``. Confidence intervals, standard errors and p-values
    (``estimate.get_confidence_intervals()``, ``get_standard_error()``,
    ``test_stat_significance()``) are the learner's (:meth:`GraphRLearner.ate_inference`).

    Attributes
    ----------
    learner_ : GraphRLearner
        The fitted learner.

    Examples
    --------
    >>> import logging, warnings
    >>> from graphbias.causal import GraphRLearner
    >>> from graphbias.data.synthetic.network_causal import network_causal
    >>> d = network_causal("ba", 200, effect="constant", treatment_strength=0.5, seed=0)
    >>> model = causal_model(d.Y, d.T, d.X, d.graph)
    >>> estimand = model.identify_effect(proceed_when_unidentifiable=True)
    >>> learner = GraphRLearner(nuisance="linear", random_state=0)
    >>> logging.disable(logging.WARNING)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     estimate = model.estimate_effect(
    ...         estimand, method_name=METHOD,
    ...         method_params={"fit_params": {"graph": d.graph, "learner": learner}})
    ...     lower, upper = estimate.get_confidence_intervals()
    >>> logging.disable(logging.NOTSET)
    >>> 1.0 < estimate.value < 3.0           # the true effect is 2
    True
    >>> bool(lower < estimate.value < upper)
    True
    """

    def fit(self, data: Any, effect_modifier_names: Optional[list] = None,
            graph: Any = None, learner: Any = None, **_: Any) -> "GraphRLearnerEstimator":
        """Fits the learner on the adjustment set of ``data`` (DoWhy calls it).

        Parameters
        ----------
        data : pandas.DataFrame
            One row per node of ``graph``, the index the node ids (all nodes, or a
            subset: the learner then fits on the subgraph they induce).
        effect_modifier_names : list of str, optional
            Passed on to DoWhy.
        graph : graph-like
            The graph of the nodes (required).
        learner : GraphRLearner, optional
            The learner to fit (default ``GraphRLearner()``).

        Returns
        -------
        self
        """
        from sklearn.base import clone

        from .rlearner import GraphRLearner

        if graph is None:
            raise ValueError("GraphRLearnerEstimator needs fit_params={'graph': ...}")
        self._fit_params = {"graph": graph, "learner": learner}
        self._set_effect_modifiers(data, effect_modifier_names)
        columns = sorted(self._target_estimand.get_adjustment_set())
        self._columns = columns
        treatment = self._target_estimand.treatment_variable[0]
        outcome = self._target_estimand.outcome_variable[0]
        rows_graph = self._rows_graph(data)
        learner = GraphRLearner() if learner is None else clone(learner)
        self.learner_ = learner.fit(
            data[outcome].to_numpy(float), data[treatment].to_numpy(float),
            X=data[columns].to_numpy(float), graph=rows_graph)
        self.symbolic_estimator = self.construct_symbolic_estimator(self._target_estimand)
        return self

    def _rows_graph(self, data: Any) -> Graph:
        """The graph of the nodes the rows of ``data`` name."""
        graph = as_graph(self._fit_params["graph"])
        return _induced(graph, _row_nodes(data, graph.num_nodes))

    def estimate_effect(self, data: Any, treatment_value: Any = 1, control_value: Any = 0,
                        target_units: Any = None, **_: Any) -> Any:
        """The mean effect over the rows of ``data`` (DoWhy calls it).

        Parameters
        ----------
        data : pandas.DataFrame
            Rows naming nodes of the graph by the index, as in :meth:`fit`.
        treatment_value, control_value : int, default=1 and 0
            Recorded on the estimate (the treatment is binary).
        target_units : optional
            Recorded on the estimate.

        Returns
        -------
        dowhy.causal_estimator.CausalEstimate
            ``value`` the average effect, ``cate_estimates`` the per-node effects.
        """
        CausalEstimate = require("dowhy.causal_estimator", "causal",
                                 "the DoWhy estimator").CausalEstimate

        self._target_units = target_units
        self._treatment_value, self._control_value = treatment_value, control_value
        tau = self.learner_.effect(data[self._columns].to_numpy(float),
                                   graph=self._rows_graph(data))
        estimate = CausalEstimate(
            data=data, treatment_name=self._target_estimand.treatment_variable,
            outcome_name=self._target_estimand.outcome_variable,
            estimate=float(np.mean(tau)), control_value=control_value,
            treatment_value=treatment_value, target_estimand=self._target_estimand,
            realized_estimand_expr=self.symbolic_estimator, cate_estimates=tau)
        estimate.add_estimator(self)
        return estimate

    # -------------------------------------------- inference: the learner's own
    def _estimate_confidence_intervals(self, confidence_level: Optional[float] = None,
                                       method: Any = None, **_: Any) -> tuple[float, float]:
        """The learner's ``confidence_level`` interval of the average effect over the
        nodes of fit (DoWhy calls it)."""
        level = self.confidence_level if confidence_level is None else confidence_level
        return self.learner_.ate_interval(alpha=1 - level)

    def _estimate_confidence_intervals_with_bootstrap(
            self, data: Any, estimate_value: Any, confidence_level: Optional[float] = None,
            **_: Any) -> tuple[float, float]:
        """``method="bootstrap"``: the learner's bootstrap over the fitted graph's
        nodes, not DoWhy's resampling of rows."""
        return self._estimate_confidence_intervals(confidence_level)

    def _estimate_std_error(self, method: Any = None, **_: Any) -> float:
        """The learner's standard error of the average effect (DoWhy calls it)."""
        return self.learner_.ate_inference().stderr_mean

    def _estimate_std_error_with_bootstrap(self, data: Any, **_: Any) -> float:
        return self._estimate_std_error()

    def _test_significance(self, estimate_value: Any, method: Any = None,
                           **_: Any) -> dict[str, float]:
        """The learner's two-sided p-value of a zero average effect."""
        return {"p_value": self.learner_.ate_inference().pvalue()}

    def _test_significance_with_bootstrap(self, data: Any, estimate_value: Any,
                                          **_: Any) -> dict[str, float]:
        return self._test_significance(estimate_value)

    def construct_symbolic_estimator(self, estimand: Any) -> str:
        """The estimator's formula as DoWhy prints it.

        Parameters
        ----------
        estimand : dowhy.causal_identifier.IdentifiedEstimand

        Returns
        -------
        str
        """
        return ("R-loss: mean((Y - m(X, G) - (T - e(X, G)) * tau(X, G))^2), "
                f"cross-fitted m, e; adjustment set {sorted(estimand.get_adjustment_set())}")
