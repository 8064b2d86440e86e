r"""The Graph R-Learner: cross-fitted graph nuisances, then a final stage on the R-loss.

With cross-fitted :math:`\hat m(x, G) \approx E[Y \mid X, G]` and
:math:`\hat e(x, G) \approx P(T = 1 \mid X, G)`, residuals
:math:`\tilde Y = Y - \hat m`, :math:`\tilde T = T - \hat e`, the effect is

.. math:: \hat\tau = \arg\min_\tau \frac1n \sum_i \big(\tilde Y_i - \tilde T_i\,\tau(x_i, G)\big)^2 .

Final stages: ``"gnn"`` (the Graph R-Learner: a simplified graph convolution,
:math:`\tau(x, G) = [1, X, \hat A X, \dots, \hat A^K X]_i\,\beta` with :math:`\hat A`
the GCN-normalised adjacency, fitted in closed form on the R-loss, as SGC of Wu et al.
2019), ``"gcn"`` (a nonlinear 2-layer GCN trained on the R-loss by gradient, the epoch
of least R-loss on 10% held-out nodes kept), ``"linear"`` (:math:`\tau = [1, x]\beta`,
the intercept multiplied by :math:`\tilde T`, as EconML's DML), ``"forest"`` (a random
forest on the pseudo-outcome :math:`\tilde Y / \tilde T` weighted by :math:`\tilde T^2`,
as EconML's NonParamDML) and ``"linear_free_intercept"``, an ablation only: it
regresses :math:`\tilde Y` on :math:`[1, \tilde T x]` with a free intercept, so
:math:`\tau = x\beta` has no constant term and cannot represent a constant effect.

Folds are graph-aware: a fold's nodes never enter its nuisance losses. Message
passing still reads their *features* (``fold_isolation="loss"``, the default);
``fold_isolation="edges"`` also removes every edge touching the held-out nodes while
the fold's nuisances train, so nothing of them enters.
"""
from __future__ import annotations

import warnings
from types import SimpleNamespace
from typing import Any, Optional

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold
from sklearn.utils.validation import check_is_fitted

from .._validation import (DEPRECATED, Constraint, Device, Integer, Options, RandomState,
                           Real, check_scalar, deprecated_attribute, validate_params)
from ..base import EstimatorMixin, predict_graph, seed_from
from ..data import Graph
from ._checks import NetworkEffectMixin, check_controls, check_outcomes, \
    _treatment_contrast
from ._masked import bce_on, fit_masked, float_tensor, gcn, isolated, mse_on, rloss_on, \
    without_edges_into

__all__ = ["GraphRLearner", "FINAL_STAGES", "NUISANCES", "propagated"]

FINAL_STAGES = ("gnn", "gcn", "linear", "forest", "linear_free_intercept")
NUISANCES = ("gnn", "mlp", "sklearn")


class _HasMethods(Constraint):
    """An object with the methods ``names`` (a scikit-learn model)."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def accepts(self, value: Any) -> bool:
        return all(callable(getattr(value, n, None)) for n in self.names)

    def describe(self) -> str:
        return "an estimator with " + " and ".join(f"{n}()" for n in self.names)


def _ones(X: np.ndarray) -> np.ndarray:
    return np.hstack([np.ones((X.shape[0], 1)), X])


def propagated(X: np.ndarray, graph: Graph, hops: int) -> np.ndarray:
    r"""The features of the SGC final stage, :math:`[X, \hat A X, \dots,
    \hat A^{K} X]` with :math:`\hat A` the GCN-normalised adjacency (self-loops
    added) and :math:`K` = ``hops``.

    Parameters
    ----------
    X : ndarray of shape (n_nodes, n_features)
        Node features (float64).
    graph : Graph
        The graph, one node per row of ``X``.
    hops : int
        Propagation steps :math:`K`.

    Returns
    -------
    ndarray of shape (n_nodes, (hops + 1) * n_features)

    Examples
    --------
    >>> g = Graph(torch.tensor([[0, 1], [1, 0]]), 2)
    >>> propagated(np.array([[1.0], [3.0]]), g, 1).round(6).tolist()
    [[1.0, 2.0], [3.0, 2.0]]
    """
    from .. import ops
    from ..data.transforms import gcn_norm

    a = gcn_norm(graph.to("cpu"), dtype=torch.float64)
    parts = [torch.from_numpy(X)]
    for _ in range(hops):
        parts.append(ops.spmm(a, parts[-1]))
    return torch.cat(parts, 1).numpy()


class GraphRLearner(EstimatorMixin, NetworkEffectMixin, BaseEstimator):
    r"""Heterogeneous treatment effects on a network: EconML's R-learner with graph
    nuisances and a graph final stage.

    ``fit(Y, T, *, X, graph, W=None)`` cross-fits the nuisances
    :math:`\hat m(x, G) \approx E[Y \mid X, G]` and
    :math:`\hat e(x, G) \approx P(T = 1 \mid X, G)` over ``n_folds`` folds of nodes
    (a fold's nodes never enter its own nuisance losses), then fits the final stage
    on the R-loss

    .. math:: \hat\tau = \arg\min_\tau \frac1n \sum_i \big(Y_i - \hat m_i -
              (T_i - \hat e_i)\,\tau(x_i, G)\big)^2 .

    See the module docstring for the final stages. Prediction without ``graph=``
    reuses the graph of ``fit`` when ``X`` has one row per node of it and raises
    otherwise; ``graph="isolated"`` treats every row as an isolated node on purpose.

    Parameters
    ----------
    nuisance : {"gnn", "mlp", "sklearn"}, default="gnn"
        ``"gnn"``: GCN nuisances on the graph; ``"mlp"``: the same network on a graph
        without edges (graph-blind); ``"sklearn"``: ``model_y`` and ``model_t`` on
        ``[X, W]``.
    final : {"gnn", "gcn", "linear", "forest", "linear_free_intercept"}, default="gnn"
        The final stage (see the module docstring).
    model_y : regressor or None, default=None
        Outcome model for ``nuisance="sklearn"`` (cloned per fold).
    model_t : classifier or None, default=None
        Propensity model with ``predict_proba`` for ``nuisance="sklearn"``.
    n_folds : int, default=3
        Cross-fitting folds, at least 2.
    fold_isolation : {"loss", "edges"}, default="loss"
        ``"edges"`` also removes the held-out nodes' edges while a fold's nuisances
        train.
    hidden_channels : int, default=32
        Hidden width of every GCN (nuisances and the ``"gcn"`` final stage).
    max_epochs : int, default=200
        Full-batch Adam epochs of each nuisance GCN.
    final_max_epochs : int, default=300
        Epochs of the ``"gcn"`` final stage; the epoch of least R-loss on 10%
        held-out nodes is kept.
    lr : float, default=0.01
        Adam's learning rate.
    overlap : {"trim", "raise"}, default="trim"
        Nodes with propensities outside ``[clip, 1 - clip]``: ``"trim"`` leaves them
        out of the final stage with a warning, ``"raise"`` refuses the data.
    clip : float, default=0.01
        The overlap bound, in ``[0, 0.5)``.
    n_bootstrap : int, default=20
        Final-stage refits on resampled nodes for :meth:`effect_interval`, at least 2.
    hops : int, default=2
        Propagation steps :math:`K` of the ``"gnn"`` final stage.
    random_state : int, RandomState, Generator or None, default=None
        Seeds folds, networks and the bootstrap.
    device : str or torch.device, default="cpu"
        Where the GCNs train and predict (``"cpu"``, ``"cuda"``, ``"cuda:1"`` or
        ``"auto"``); the closed-form and forest stages run on the CPU.
    hidden, epochs, final_epochs : deprecated
        Old names of ``hidden_channels``, ``max_epochs`` and ``final_max_epochs``.

    Attributes
    ----------
    model_final_ : ndarray, RandomForestRegressor or GNN
        The fitted final stage (EconML's name): the coefficients :math:`\beta` for
        ``"gnn"``, ``"linear"`` and ``"linear_free_intercept"``, the forest for
        ``"forest"``, the GCN for ``"gcn"``. ``stage_`` is its deprecated alias.
    nuisance_models_ : list of tuple
        ``(model_y, model_t)`` of each fold (GCNs outputting the outcome and the
        propensity logit, or the fitted scikit-learn models).
    models_y, models_t : list of list
        The same models as EconML lists them: ``[[model of fold 0, ...]]``.
    residuals_ : tuple of ndarray
        The cross-fitted residuals :math:`(\tilde Y, \tilde T)`.
    kept_ : ndarray of bool
        Nodes inside the overlap region (those the final stage is fitted on).
    overlap_ : dict
        ``min`` and ``max`` of the estimated propensities, ``n_outside``, ``clip``.
    ate_ : float
        The average effect over the kept nodes of the training data.
    graph_ : Graph or None
        The graph of ``fit`` (reused by prediction without ``graph=``).
    n_features_in_ : int
        Number of covariates (columns of ``X``).
    device_ : torch.device
        Where the GCNs live.

    Examples
    --------
    >>> from graphbias.data.synthetic.network_causal import network_causal
    >>> d = network_causal("ba", 300, effect="constant", treatment_strength=0.5, seed=0)
    >>> est = GraphRLearner(final="linear", max_epochs=60, random_state=0)
    >>> est = est.fit(d.Y, d.T, X=d.X, graph=d.graph)
    >>> 1.0 < est.ate_ < 3.0                   # the true effect is 2
    True
    >>> est.effect(d.X).shape                  # the graph of fit is reused
    (300,)
    >>> lower, upper = est.ate_interval(d.X)
    >>> bool(lower <= est.ate(d.X) <= upper)
    True
    """

    _parameter_constraints = {
        "nuisance": [Options(*NUISANCES)],
        "final": [Options(*FINAL_STAGES)],
        "model_y": [_HasMethods("fit", "predict"), None],
        "model_t": [_HasMethods("fit", "predict_proba"), None],
        "n_folds": [Integer(2)],
        "fold_isolation": [Options("loss", "edges")],
        "hidden_channels": [Integer(1)],
        "max_epochs": [Integer(1)],
        "final_max_epochs": [Integer(1)],
        "lr": [Real(0, None, closed="neither")],
        "overlap": [Options("trim", "raise")],
        "clip": [Real(0, 0.5, closed="left")],
        "n_bootstrap": [Integer(2)],
        "hops": [Integer(1)],
        "random_state": [RandomState()],
        "device": [Device()],
    }
    _aliases = {"hidden": "hidden_channels", "epochs": "max_epochs",
                "final_epochs": "final_max_epochs"}

    _fitted_attribute = "model_final_"
    stage_ = deprecated_attribute("stage_", "model_final_")

    def __init__(self, nuisance: str = "gnn", final: str = "gnn", model_y: Any = None,
                 model_t: Any = None, n_folds: int = 3, fold_isolation: str = "loss",
                 hidden_channels: int = 32, max_epochs: int = 200,
                 final_max_epochs: int = 300, lr: float = 0.01, overlap: str = "trim",
                 clip: float = 0.01, n_bootstrap: int = 20, hops: int = 2,
                 random_state: Any = None, device: Any = "cpu", hidden: Any = DEPRECATED,
                 epochs: Any = DEPRECATED, final_epochs: Any = DEPRECATED) -> None:
        self.nuisance = nuisance
        self.final = final
        self.model_y = model_y
        self.model_t = model_t
        self.n_folds = n_folds
        self.fold_isolation = fold_isolation
        self.hidden_channels = hidden_channels
        self.max_epochs = max_epochs
        self.final_max_epochs = final_max_epochs
        self.lr = lr
        self.overlap = overlap
        self.clip = clip
        self.n_bootstrap = n_bootstrap
        self.hops = hops
        self.random_state = random_state
        self.device = device
        self.hidden = hidden
        self.epochs = epochs
        self.final_epochs = final_epochs

    @property
    def models_y(self) -> list[list[Any]]:
        """The outcome model of every fold, nested as EconML's (one list per
        cross-fitting repetition: here one)."""
        check_is_fitted(self, "model_final_")
        return [[my for my, _ in self.nuisance_models_]]

    @property
    def models_t(self) -> list[list[Any]]:
        """The propensity model of every fold, nested as EconML's."""
        check_is_fitted(self, "model_final_")
        return [[mt for _, mt in self.nuisance_models_]]

    # ------------------------------------------------------------ nuisances
    def _nuisance_graph(self, g: Graph) -> Graph:
        return isolated(g) if self._fit_params_.nuisance == "mlp" else g

    def _fit_fold(self, xn: np.ndarray, Y: np.ndarray, T: np.ndarray, g: Graph,
                  train: np.ndarray, seed: int) -> tuple[Any, Any]:
        p = self._fit_params_
        if p.nuisance == "sklearn":
            my = clone(p.model_y).fit(xn[train], Y[train])
            mt = clone(p.model_t).fit(xn[train], T[train])
            return my, mt
        dev = self.device_
        x, mask = float_tensor(xn, dev), torch.from_numpy(train).to(dev)
        graph = self._nuisance_graph(g.to(dev))
        if p.fold_isolation == "edges":
            graph = without_edges_into(graph, ~mask)
        models = []
        for k, loss in enumerate((mse_on(float_tensor(Y, dev), mask),
                                  bce_on(float_tensor(T, dev), mask))):
            module = gcn(xn.shape[1], p.hidden_channels, seed=seed + k, device=dev)
            fit_masked(module, (x, graph), loss, max_epochs=p.max_epochs, lr=p.lr)
            models.append(module)
        return models[0], models[1]

    def _predict_nuisance(self, models: tuple[Any, Any], xn: np.ndarray,
                          g: Graph) -> tuple[np.ndarray, np.ndarray]:
        my, mt = models
        if self._fit_params_.nuisance == "sklearn":
            return my.predict(xn), mt.predict_proba(xn)[:, 1]
        x = float_tensor(xn, self.device_)
        graph = self._nuisance_graph(g.to(self.device_))
        with torch.no_grad():
            return (my(x, graph)[:, 0].cpu().double().numpy(),
                    torch.sigmoid(mt(x, graph)[:, 0]).cpu().double().numpy())

    # ------------------------------------------------------------ final stage
    def _fit_stage(self, X: np.ndarray, g: Graph, y_res: np.ndarray, t_res: np.ndarray,
                   weight: np.ndarray, seed: int, validate: bool) -> Any:
        """One final stage fitted with node weights ``weight`` (0 = left out)."""
        p = self._final_params_
        if p.final in ("gnn", "linear", "linear_free_intercept"):
            if p.final == "gnn":
                Z = t_res[:, None] * _ones(propagated(X, g, p.hops))
            elif p.final == "linear":
                Z = t_res[:, None] * _ones(X)
            else:
                Z = np.hstack([np.ones((X.shape[0], 1)), t_res[:, None] * X])
            sw = np.sqrt(weight)
            return np.linalg.lstsq(Z * sw[:, None], y_res * sw, rcond=None)[0]
        if p.final == "forest":
            keep = weight > 0
            forest = RandomForestRegressor(n_estimators=100, min_samples_leaf=5,
                                           random_state=seed)
            return forest.fit(X[keep], y_res[keep] / t_res[keep],
                              sample_weight=(weight * t_res ** 2)[keep])
        return self._fit_gcn_stage(X, g, y_res, t_res, weight, seed, validate)

    def _fit_gcn_stage(self, X: np.ndarray, g: Graph, y_res: np.ndarray,
                       t_res: np.ndarray, weight: np.ndarray, seed: int,
                       validate: bool) -> torch.nn.Module:
        """The ``"gcn"`` final stage: a GCN trained on the weighted R-loss; with
        ``validate`` 10% of the nodes are held out and the epoch of least R-loss on
        them is kept."""
        p, dev = self._final_params_, self.device_
        yr, tr = float_tensor(y_res, dev), float_tensor(t_res, dev)
        w = torch.from_numpy(weight).float()
        val_loss = None
        if validate:
            held = np.random.default_rng(seed).random(X.shape[0]) < 0.1
            val = torch.from_numpy(held & (weight > 0)).float()
            w = w * torch.from_numpy(~held).float()
            val_loss = rloss_on(yr, tr, val.to(dev))
        module = gcn(X.shape[1], p.hidden_channels, seed=seed, device=dev)
        fit_masked(module, (float_tensor(X, dev), g.to(dev)), rloss_on(yr, tr, w.to(dev)),
                   max_epochs=p.final_max_epochs, lr=p.lr, val_loss=val_loss)
        return module

    def _stage_effect(self, stage: Any, X: np.ndarray, g: Graph) -> np.ndarray:
        final = self._final_params_.final
        if final == "gnn":
            return _ones(propagated(X, g, self._final_params_.hops)) @ stage
        if final == "linear":
            return _ones(X) @ stage
        if final == "linear_free_intercept":
            return X @ stage[1:]
        if final == "forest":
            return stage.predict(X)
        with torch.no_grad():
            out = stage(float_tensor(X, self.device_), g.to(self.device_))
        return out[:, 0].cpu().double().numpy()

    def _const_marginal_effect(self, X: np.ndarray, g: Graph) -> np.ndarray:
        return self._stage_effect(self.model_final_, X, g)

    def _fit_graph(self) -> Graph:
        """The graph the final stage was fitted on (isolated nodes without one)."""
        return predict_graph(self.graph_, None, n_rows=self._X_fit_.shape[0])

    # ------------------------------------------------------------ API
    def fit(self, Y: Any, T: Any, *, X: Any, graph: Any = None,
            W: Any = None) -> "GraphRLearner":
        """Cross-fits the nuisances, then fits the final stage on the R-loss.

        Parameters
        ----------
        Y : array-like of shape (n_nodes,)
            Outcomes (finite).
        T : array-like of shape (n_nodes,)
            Binary treatments (0/1, both present).
        X : array-like of shape (n_nodes, n_features)
            Covariates, one row per node: the effect modifiers, also read by the
            nuisances.
        graph : graph-like, optional
            Anything :func:`graphbias.as_graph` reads (``None``: isolated nodes).
        W : array-like of shape (n_nodes, n_controls), optional
            Controls read by the nuisances only.

        Returns
        -------
        self
        """
        p = self._begin_fit()
        if p.nuisance == "sklearn" and (p.model_y is None or p.model_t is None):
            raise ValueError("nuisance='sklearn' needs model_y (regressor) and "
                             "model_t (classifier with predict_proba)")
        Y, T, X, W, g = self._fit_inputs(Y, T, X, graph, W)
        self._fit_params_ = p
        seed = seed_from(p.random_state)
        xn = X if W is None else np.hstack([X, W])
        n = X.shape[0]
        m_hat, e_hat = np.empty(n), np.empty(n)
        self.nuisance_models_: list[tuple[Any, Any]] = []
        folds = KFold(p.n_folds, shuffle=True, random_state=seed % (2**31))
        for k, (train_idx, test_idx) in enumerate(folds.split(X)):
            train = np.zeros(n, dtype=bool)
            train[train_idx] = True
            models = self._fit_fold(xn, Y, T, g, train, seed + 2 * k)
            m, e = self._predict_nuisance(models, xn, g)
            m_hat[test_idx], e_hat[test_idx] = m[test_idx], e[test_idx]
            self.nuisance_models_.append(models)
        self._check_overlap(e_hat, p)
        self.residuals_ = (Y - m_hat, T - e_hat)
        self._n_controls_ = 0 if W is None else W.shape[1]
        self._X_fit_, self._seed_ = X.copy(), seed
        return self._refit_final(p)

    def _check_overlap(self, e_hat: np.ndarray, p: SimpleNamespace) -> None:
        """Sets ``overlap_`` and ``kept_``; warns or raises for nodes outside
        ``[clip, 1 - clip]``."""
        n = e_hat.shape[0]
        outside = (e_hat < p.clip) | (e_hat > 1 - p.clip)
        self.overlap_ = {"min": float(e_hat.min()), "max": float(e_hat.max()),
                         "n_outside": int(outside.sum()), "clip": p.clip}
        if outside.any():
            msg = (f"{outside.sum()} of {n} nodes have estimated propensities outside "
                   f"[{p.clip}, {1 - p.clip}] (range {e_hat.min():.3g} to "
                   f"{e_hat.max():.3g}): overlap fails there")
            if p.overlap == "raise":
                raise ValueError(msg + "; use overlap='trim' to drop them")
            warnings.warn(msg + "; they are left out of the final stage", UserWarning)
        self.kept_ = ~outside
        if not self.kept_.any():
            raise ValueError("no node has a propensity inside the overlap region")

    def refit_final(self) -> "GraphRLearner":
        """Refits only the final stage (with the current ``final``, ``hops``,
        ``final_max_epochs``, ...) on the stored cross-fitted residuals, as EconML's
        ``refit_final``.

        Returns
        -------
        self
        """
        check_is_fitted(self, "residuals_")
        return self._refit_final(validate_params(self, self._aliases))

    def _refit_final(self, p: SimpleNamespace) -> "GraphRLearner":
        self._final_params_ = p
        self.model_final_ = self._fit_stage(self._X_fit_, self._fit_graph(),
                                            *self.residuals_, self.kept_.astype(float),
                                            self._seed_ + 97, validate=True)
        self._bootstrap_: Optional[list[Any]] = None
        self.ate_ = float(self.effect(self._X_fit_, graph=self._fit_graph())[
            self.kept_].mean())
        return self

    def _bootstrap_stages(self) -> list[Any]:
        """The final stage refitted ``n_bootstrap`` times on nodes resampled with
        replacement (fitted once, on first use)."""
        if self._bootstrap_ is None:
            rng = np.random.default_rng(self._seed_ + 7)
            kept = np.flatnonzero(self.kept_)
            stages = []
            for b in range(self._final_params_.n_bootstrap):
                weight = np.bincount(rng.choice(kept, kept.size),
                                     minlength=self.kept_.size).astype(float)
                stages.append(self._fit_stage(self._X_fit_, self._fit_graph(),
                                              *self.residuals_, weight,
                                              self._seed_ + 1000 + b, validate=False))
            self._bootstrap_ = stages
        return self._bootstrap_

    def _effect_draws(self, X: Any, T0: Any, T1: Any, graph: Any) -> np.ndarray:
        """Bootstrap draws ``[n_bootstrap, n_nodes]`` of :meth:`effect`."""
        X, g = self._predict_inputs(X, graph)
        contrast = _treatment_contrast(T0, T1, X.shape[0])
        return np.stack([contrast * self._stage_effect(s, X, g)
                         for s in self._bootstrap_stages()])

    def effect_interval(self, X: Any, *, T0: Any = 0, T1: Any = 1, graph: Any = None,
                        alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """Percentile bootstrap interval of :meth:`effect`: the final stage refitted
        ``n_bootstrap`` times on nodes resampled with replacement, the cross-fitted
        residuals held fixed (nuisance uncertainty is not propagated).

        Parameters
        ----------
        X, T0, T1, graph
            As in :meth:`effect`.
        alpha : float, default=0.05
            The interval covers ``1 - alpha``.

        Returns
        -------
        lower, upper : ndarray of shape (n_nodes,)
        """
        alpha = check_scalar("alpha", alpha, Real(0, 1, closed="neither"))
        draws = self._effect_draws(X, T0, T1, graph)
        return (np.quantile(draws, alpha / 2, axis=0),
                np.quantile(draws, 1 - alpha / 2, axis=0))

    def ate_interval(self, X: Any, *, T0: Any = 0, T1: Any = 1, graph: Any = None,
                     alpha: float = 0.05) -> tuple[float, float]:
        """Percentile bootstrap interval of :meth:`ate` (see :meth:`effect_interval`).

        Parameters
        ----------
        X, T0, T1, graph, alpha
            As in :meth:`effect_interval`.

        Returns
        -------
        lower, upper : float
        """
        alpha = check_scalar("alpha", alpha, Real(0, 1, closed="neither"))
        means = self._effect_draws(X, T0, T1, graph).mean(axis=1)
        return float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2))

    def score(self, Y: Any, T: Any, *, X: Any, graph: Any = None, W: Any = None) -> float:
        r"""The negated R-loss on (held-out) data, greater is better:

        .. math:: -\frac1n \sum_i \big(Y_i - \hat m_i - (T_i - \hat e_i)\,
                  \hat\tau(x_i, G)\big)^2,

        with the nuisances averaged over the fold models, as EconML does.

        Parameters
        ----------
        Y, T, X, W
            As in :meth:`fit` (``W`` with the columns of fit).
        graph : graph-like or "isolated", optional
            As in :meth:`effect` (default: the graph of ``fit``).

        Returns
        -------
        float
        """
        X, g = self._predict_inputs(X, graph)
        n = X.shape[0]
        Y, T = check_outcomes(Y, T, n)
        W = check_controls(W, n, self._n_controls_)
        xn = X if W is None else np.hstack([X, W])
        preds = [self._predict_nuisance(m, xn, g) for m in self.nuisance_models_]
        m = np.mean([p[0] for p in preds], axis=0)
        e = np.mean([p[1] for p in preds], axis=0)
        tau = self._const_marginal_effect(X, g)
        return -float(np.mean((Y - m - (T - e) * tau) ** 2))
