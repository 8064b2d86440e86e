"""Input checks and the prediction interface shared by every network treatment-effect
learner."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

from ..base import predict_graph, resolve_graph_input
from ..data import Graph

__all__ = ["check_effect_inputs", "check_covariates", "check_outcomes", "check_controls",
           "NetworkEffectMixin", "EffectInferenceMixin"]


def check_covariates(X: Any, n_features: Optional[int] = None) -> np.ndarray:
    """``X`` as a finite float64 ``[n, d]`` array (writable: torch shares its memory),
    with ``n_features`` columns when given."""
    X = np.require(check_array(X, dtype=np.float64, ensure_2d=True), requirements="W")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} columns, the learner was fitted on {n_features}")
    return X


def _finite(name: str, v: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        raise ValueError(f"{name} has {bad.size} NaN or infinite {what} "
                         f"(first at row {bad[0]})")


def _vector(name: str, v: Any, n: int) -> np.ndarray:
    v = np.require(np.asarray(v, dtype=np.float64).reshape(-1), requirements="W")
    if v.shape[0] != n:
        raise ValueError(f"{name} has {v.shape[0]} entries but X has {n} rows")
    return v


def check_outcomes(Y: Any, T: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``Y`` (finite) and ``T`` (binary 0/1, both values present), ``n`` entries each;
    errors say what is wrong and where."""
    Y, T = _vector("Y", Y, n), _vector("T", T, n)
    _finite("Y", Y, "outcomes")
    _finite("T", T, "treatments")
    values = np.unique(T)
    if not set(values.tolist()) <= {0.0, 1.0}:
        wrong = np.flatnonzero((T != 0) & (T != 1))
        raise ValueError(f"T must be binary 0/1 (a treatment indicator), got values "
                         f"{values[:5].tolist()} ({wrong.size} entries neither 0 nor 1, "
                         f"first at row {wrong[0]})")
    if values.size < 2:
        raise ValueError(f"T is constant ({values[0]:g} for every node): effects cannot "
                         "be estimated without treated and control nodes")
    return Y, T


def check_controls(W: Any, n: int, n_controls: Optional[int] = None
                   ) -> Optional[np.ndarray]:
    """Controls ``W`` (``None`` or a finite ``[n, k]`` array) with ``n_controls``
    columns when given (0: the learner was fitted without ``W``)."""
    if W is not None:
        W = check_array(W, dtype=np.float64, ensure_2d=True)
        if W.shape[0] != n:
            raise ValueError(f"W has {W.shape[0]} rows but X has {n}")
    width = 0 if W is None else W.shape[1]
    if n_controls is not None and width != n_controls:
        raise ValueError(f"W has {width} columns, the learner was fitted on {n_controls}"
                         + (" (pass the W of fit)" if W is None else ""))
    return W


def check_effect_inputs(Y: Any, T: Any, X: Any, graph: Any, W: Any = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray],
                                   Graph]:
    """Validated ``Y``, ``T``, ``X``, ``W`` and the graph of ``fit`` (one node per row
    of ``X``; ``None``: isolated nodes)."""
    X = check_covariates(X)
    n = X.shape[0]
    Y, T = check_outcomes(Y, T, n)
    return Y, T, X, check_controls(W, n), resolve_graph_input(X, graph, n_rows=n)


def _treatment_value(name: str, value: Any, n: int) -> np.ndarray:
    v = np.asarray(value, dtype=np.float64)
    if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != n):
        raise ValueError(f"{name} must be 0, 1 or one 0/1 value per row of X ({n}), "
                         f"got shape {v.shape}")
    if not np.all((v == 0) | (v == 1)):
        raise ValueError(f"{name} must be 0 or 1 (the treatment is binary), got "
                         f"{np.unique(v)[:5].tolist()}")
    return np.broadcast_to(v, (n,))


def _effect_rows(X: Any, learner: Any) -> Any:
    """``X``, or the covariates of ``fit`` when ``X`` is None."""
    return learner._X_fit_ if X is None else X


class NetworkEffectMixin:
    """EconML's effect interface for learners on a graph.

    A learner implements ``_const_marginal_effect(X, g)`` (validated inputs, one
    value per node), names in ``_fitted_attribute`` the attribute its ``fit`` sets
    once the model is complete, and calls :meth:`_fit_inputs` in ``fit`` (which sets
    ``n_features_in_``, ``graph_`` and keeps a copy of ``X``). Prediction without
    ``graph=`` reuses ``graph_`` when ``X`` has one row per node of it and raises
    otherwise; ``graph="isolated"`` asks for graph-free prediction explicitly.
    Shapes follow EconML's for a binary treatment and a one-dimensional outcome:
    effects ``(n_nodes,)``, (constant) marginal effects ``(n_nodes, 1)``.
    """

    _fitted_attribute: str

    def _fit_inputs(self, Y: Any, T: Any, X: Any, graph: Any, W: Any = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray],
                               Graph]:
        Y, T, X, W, g = check_effect_inputs(Y, T, X, graph, W)
        self.n_features_in_ = X.shape[1]
        self.graph_ = None if graph is None else g
        self._X_fit_ = X.copy()
        return Y, T, X, W, g

    def _predict_inputs(self, X: Any, graph: Any) -> tuple[np.ndarray, Graph]:
        check_is_fitted(self, self._fitted_attribute)
        X = check_covariates(X, self.n_features_in_)
        return X, predict_graph(self.graph_, graph, n_rows=X.shape[0])

    def _const_marginal_effect(self, X: np.ndarray, g: Graph) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - every learner implements it

    def _tau(self, X: Any, graph: Any) -> np.ndarray:
        X, g = self._predict_inputs(X, graph)
        return self._const_marginal_effect(X, g)

    def const_marginal_effect(self, X: Any, *, graph: Any = None) -> np.ndarray:
        r"""The effect :math:`\hat\tau(x_i, G)` of treating node ``i`` (``T`` from 0
        to 1), for every node.

        Parameters
        ----------
        X : array-like of shape (n_nodes, n_features)
            Covariates, one row per node of ``graph``.
        graph : graph-like or "isolated", optional
            Anything :func:`graphbias.as_graph` reads. Default: the graph of ``fit``
            (``X`` must have one row per node of it); ``"isolated"``: every row an
            isolated node.

        Returns
        -------
        ndarray of shape (n_nodes, 1)
            One column: the one non-baseline treatment value (EconML's shape).
        """
        return self._tau(X, graph)[:, None]

    def marginal_effect(self, T: Any, X: Any, *, graph: Any = None) -> np.ndarray:
        """The marginal effect at treatments ``T``: for a binary treatment the
        constant marginal effect, whatever ``T`` (as EconML).

        Parameters
        ----------
        T : {0, 1} or array-like of shape (n_nodes,)
            Treatments at which to evaluate (checked to be 0/1).
        X, graph
            As in :meth:`const_marginal_effect`.

        Returns
        -------
        ndarray of shape (n_nodes, 1)
        """
        tau = self.const_marginal_effect(X, graph=graph)
        _treatment_value("T", T, tau.shape[0])
        return tau

    def effect(self, X: Any, *, T0: Any = 0, T1: Any = 1, graph: Any = None) -> np.ndarray:
        r"""The effect of moving each node's treatment from ``T0`` to ``T1``,
        :math:`(T_1 - T_0)\,\hat\tau(x_i, G)`.

        Parameters
        ----------
        X : array-like of shape (n_nodes, n_features)
            Covariates, one row per node of ``graph``.
        T0, T1 : {0, 1} or array-like of shape (n_nodes,), default=0 and 1
            Control and treatment values.
        graph : graph-like or "isolated", optional
            As in :meth:`const_marginal_effect`.

        Returns
        -------
        ndarray of shape (n_nodes,)
        """
        tau = self._tau(X, graph)
        return _treatment_contrast(T0, T1, tau.shape[0]) * tau

    def ate(self, X: Any = None, *, T0: Any = 0, T1: Any = 1, graph: Any = None) -> float:
        """The average of :meth:`effect` over the nodes.

        Parameters
        ----------
        X : array-like of shape (n_nodes, n_features), optional
            Covariates; default: those of ``fit`` (on the graph of ``fit``).
        T0, T1, graph
            As in :meth:`effect`.

        Returns
        -------
        float
        """
        return float(np.mean(self.effect(_effect_rows(X, self), T0=T0, T1=T1,
                                          graph=graph)))


class EffectInferenceMixin:
    """EconML's interval and inference methods, from a learner's
    ``_inference(X, g)`` (an :class:`~graphbias.causal._inference.EffectInference`
    of the constant marginal effect); mixed in after :class:`NetworkEffectMixin`."""

    def _effect_inference(self, X: Any, T0: Any, T1: Any, graph: Any) -> Any:
        X, g = self._predict_inputs(_effect_rows(X, self), graph)
        return self._inference(X, g).times(_treatment_contrast(T0, T1, X.shape[0]))

    def effect_inference(self, X: Any, *, T0: Any = 0, T1: Any = 1,
                         graph: Any = None) -> Any:
        """Inference on :meth:`effect`: point estimates, standard errors, p-values
        and intervals (``summary_frame()``), as EconML's ``effect_inference``.

        Parameters
        ----------
        X, T0, T1, graph
            As in :meth:`effect`.

        Returns
        -------
        EffectInference
        """
        return self._effect_inference(X, T0, T1, graph)

    def effect_interval(self, X: Any, *, T0: Any = 0, T1: Any = 1, graph: Any = None,
                        alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """The ``1 - alpha`` interval of :meth:`effect` (see :meth:`effect_inference`).

        Parameters
        ----------
        X, T0, T1, graph
            As in :meth:`effect`.
        alpha : float, default=0.05
            In (0, 1).

        Returns
        -------
        lower, upper : ndarray of shape (n_nodes,)
        """
        return self._effect_inference(X, T0, T1, graph).conf_int(alpha)

    def const_marginal_effect_inference(self, X: Any, *, graph: Any = None) -> Any:
        """Inference on :meth:`const_marginal_effect` (the effect of ``T`` from 0 to 1).

        Parameters
        ----------
        X, graph
            As in :meth:`const_marginal_effect`.

        Returns
        -------
        EffectInference
        """
        return self._effect_inference(X, 0, 1, graph)

    def const_marginal_effect_interval(self, X: Any, *, graph: Any = None,
                                       alpha: float = 0.05
                                       ) -> tuple[np.ndarray, np.ndarray]:
        """The ``1 - alpha`` interval of :meth:`const_marginal_effect`.

        Parameters
        ----------
        X, graph
            As in :meth:`const_marginal_effect`.
        alpha : float, default=0.05
            In (0, 1).

        Returns
        -------
        lower, upper : ndarray of shape (n_nodes, 1)
        """
        lower, upper = self._effect_inference(X, 0, 1, graph).conf_int(alpha)
        return lower[:, None], upper[:, None]

    def marginal_effect_inference(self, T: Any, X: Any, *, graph: Any = None) -> Any:
        """Inference on :meth:`marginal_effect` (``T`` checked to be 0/1).

        Parameters
        ----------
        T, X, graph
            As in :meth:`marginal_effect`.

        Returns
        -------
        EffectInference
        """
        inference = self._effect_inference(X, 0, 1, graph)
        _treatment_value("T", T, inference.point_estimate.shape[0])
        return inference

    def marginal_effect_interval(self, T: Any, X: Any, *, graph: Any = None,
                                 alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """The ``1 - alpha`` interval of :meth:`marginal_effect`.

        Parameters
        ----------
        T, X, graph
            As in :meth:`marginal_effect`.
        alpha : float, default=0.05
            In (0, 1).

        Returns
        -------
        lower, upper : ndarray of shape (n_nodes, 1)
        """
        lower, upper = self.marginal_effect_inference(T, X, graph=graph).conf_int(alpha)
        return lower[:, None], upper[:, None]

    def ate_inference(self, X: Any = None, *, T0: Any = 0, T1: Any = 1,
                      graph: Any = None) -> Any:
        """Inference on :meth:`ate` (``summary_frame()``, ``conf_int_mean()``,
        ``pvalue()``), as EconML's ``ate_inference``.

        Parameters
        ----------
        X, T0, T1, graph
            As in :meth:`ate`.

        Returns
        -------
        PopulationInference
        """
        return self._effect_inference(X, T0, T1, graph).population_summary()

    def ate_interval(self, X: Any = None, *, T0: Any = 0, T1: Any = 1, graph: Any = None,
                     alpha: float = 0.05) -> tuple[float, float]:
        """The ``1 - alpha`` interval of :meth:`ate`.

        Parameters
        ----------
        X, T0, T1, graph
            As in :meth:`ate`.
        alpha : float, default=0.05
            In (0, 1).

        Returns
        -------
        lower, upper : float
        """
        return self.ate_inference(X, T0=T0, T1=T1, graph=graph).conf_int_mean(alpha)


def _treatment_contrast(T0: Any, T1: Any, n: int) -> np.ndarray:
    """``T1 - T0`` per node, both checked to be 0/1 (scalars or one per node)."""
    return _treatment_value("T1", T1, n) - _treatment_value("T0", T0, n)
