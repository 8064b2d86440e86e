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
    ``x0 .. x{d-1}`` as common causes (and effect modifiers)."""
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
    adjustment set. ``fit_params``: ``graph`` (required) and optionally ``learner``
    (an unfitted GraphRLearner; default ``GraphRLearner()``)."""

    def fit(self, data: Any, effect_modifier_names: Optional[list] = None,
            graph: Any = None, learner: Any = None, **_: Any) -> "GraphRLearnerEstimator":
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
        return ("R-loss: mean((Y - m(X, G) - (T - e(X, G)) * tau(X, G))^2), "
                f"cross-fitted m, e; adjustment set {sorted(estimand.get_adjustment_set())}")
