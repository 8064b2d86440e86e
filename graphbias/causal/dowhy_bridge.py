"""DoWhy bridge: model, identify, estimate with :class:`GraphRLearner`, refute.

DoWhy loads third-party estimators by path, so the estimation step is::

    model = causal_model(Y, T, X, graph)          # a dowhy.CausalModel, one row per node
    estimand = model.identify_effect()
    estimate = model.estimate_effect(estimand, method_name=METHOD,
                                     method_params={"fit_params": {"graph": graph}})
    model.refute_estimate(estimand, estimate, method_name="placebo_treatment_refuter")

Rows of the data frame are the graph's nodes, in order. The adjustment set DoWhy
identifies (the covariates, plus any column a refuter adds, such as a random common
cause) becomes ``X``; refuters that permute the treatment keep rows aligned with nodes.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

__all__ = ["causal_model", "GraphRLearnerEstimator", "METHOD"]

METHOD = "backdoor.graphbias.causal.dowhy_bridge.GraphRLearnerEstimator"


def causal_model(Y: Any, T: Any, X: Any, graph: Any = None) -> Any:
    """A ``dowhy.CausalModel`` with treatment ``T``, outcome ``Y`` and covariates
    ``x0 .. x{d-1}`` as common causes (and effect modifiers), one row per node.

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
    import pandas as pd
    from dowhy import CausalModel

    X = np.asarray(X, dtype=np.float64)
    names = [f"x{j}" for j in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    frame["T"] = np.asarray(T).astype(bool)
    frame["Y"] = np.asarray(Y, dtype=np.float64)
    return CausalModel(data=frame, treatment="T", outcome="Y", common_causes=names,
                       effect_modifiers=names)


def _estimator_base() -> type:
    from dowhy.causal_estimator import CausalEstimator

    return CausalEstimator


class GraphRLearnerEstimator(_estimator_base()):  # type: ignore[misc]
    """A DoWhy ``CausalEstimator`` that fits a :class:`GraphRLearner` on the identified
    adjustment set (DoWhy loads it by the path :data:`METHOD`).

    ``method_params={"fit_params": {...}}`` passes ``graph`` (required: the graph of
    the data frame's rows) and optionally ``learner`` (an unfitted
    :class:`GraphRLearner`; default ``GraphRLearner()``). The estimate is the mean of
    the learner's effects over the rows; their per-node values are its
    ``cate_estimates``.

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
    >>> learner = GraphRLearner(final="linear", max_epochs=40, random_state=0)
    >>> logging.disable(logging.WARNING)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     estimate = model.estimate_effect(
    ...         estimand, method_name=METHOD,
    ...         method_params={"fit_params": {"graph": d.graph, "learner": learner}})
    >>> logging.disable(logging.NOTSET)
    >>> 1.0 < estimate.value < 3.0           # the true effect is 2
    True
    """

    def fit(self, data: Any, effect_modifier_names: Optional[list] = None,
            graph: Any = None, learner: Any = None, **_: Any) -> "GraphRLearnerEstimator":
        """Fits the learner on the adjustment set of ``data`` (DoWhy calls it).

        Parameters
        ----------
        data : pandas.DataFrame
            One row per node of ``graph``, in order.
        effect_modifier_names : list of str, optional
            Passed on to DoWhy.
        graph : graph-like
            The graph of the rows (required).
        learner : GraphRLearner, optional
            The learner to fit (default ``GraphRLearner()``).

        Returns
        -------
        self
        """
        from .rlearner import GraphRLearner

        if graph is None:
            raise ValueError("GraphRLearnerEstimator needs fit_params={'graph': ...}")
        self._fit_params = {"graph": graph, "learner": learner}
        self._set_effect_modifiers(data, effect_modifier_names)
        columns = sorted(self._target_estimand.get_adjustment_set())
        self._columns = columns
        treatment = self._target_estimand.treatment_variable[0]
        outcome = self._target_estimand.outcome_variable[0]
        self.learner_ = (learner if learner is not None else GraphRLearner()).fit(
            data[outcome].to_numpy(float), data[treatment].to_numpy(float),
            X=data[columns].to_numpy(float), graph=graph)
        self.symbolic_estimator = self.construct_symbolic_estimator(self._target_estimand)
        return self

    def estimate_effect(self, data: Any, treatment_value: Any = 1, control_value: Any = 0,
                        target_units: Any = None, **_: Any) -> Any:
        """The mean effect over the rows of ``data`` (DoWhy calls it).

        Parameters
        ----------
        data : pandas.DataFrame
            One row per node of the fit graph.
        treatment_value, control_value : int, default=1 and 0
            Recorded on the estimate (the treatment is binary).
        target_units : optional
            Recorded on the estimate.

        Returns
        -------
        dowhy.causal_estimator.CausalEstimate
            ``value`` the average effect, ``cate_estimates`` the per-node effects.
        """
        from dowhy.causal_estimator import CausalEstimate

        self._target_units = target_units
        self._treatment_value, self._control_value = treatment_value, control_value
        tau = self.learner_.effect(data[self._columns].to_numpy(float),
                                   graph=self._fit_params["graph"])
        estimate = CausalEstimate(
            data=data, treatment_name=self._target_estimand.treatment_variable,
            outcome_name=self._target_estimand.outcome_variable,
            estimate=float(np.mean(tau)), control_value=control_value,
            treatment_value=treatment_value, target_estimand=self._target_estimand,
            realized_estimand_expr=self.symbolic_estimator, cate_estimates=tau)
        estimate.add_estimator(self)
        return estimate

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
