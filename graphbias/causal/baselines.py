r"""Baselines beside the Graph R-Learner: GNN T- and S-learners, and EconML's
``LinearDML`` / ``CausalForestDML`` / ``NonParamDML`` on X alone, on X plus neighbour
means, or on the propagated covariates :math:`[X, \hat A X, \dots, \hat A^k X]`."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator

from .._optional import require
from .._validation import (DEPRECATED, Boolean, Device, Integer, Options, RandomState, Real,
                           check_scalar, deprecated_attribute)
from ..base import EstimatorMixin, seed_from, torch_seed
from ..data import Graph
from ..nn import GNN
from ._checks import NetworkEffectMixin, _treatment_contrast
from ._features import neighbour_means, propagated
from ._masked import fit_masked, float_tensor, mse_on, node_gnn

__all__ = ["GNNTLearner", "GNNSLearner", "EconMLLearner"]


class _GNNMetaLearner(EstimatorMixin, NetworkEffectMixin, BaseEstimator):
    """Parameters, validation and fitting of the GNN meta-learners."""

    _parameter_constraints = {
        "hidden_channels": [Integer(1)],
        "max_epochs": [Integer(1)],
        "lr": [Real(0, None, closed="neither")],
        "random_state": [RandomState()],
        "device": [Device()],
    }
    _aliases = {"hidden": "hidden_channels", "epochs": "max_epochs"}

    def __init__(self, hidden_channels: int = 32, max_epochs: int = 200, lr: float = 0.01,
                 random_state: Any = None, device: Any = "cpu", hidden: Any = DEPRECATED,
                 epochs: Any = DEPRECATED) -> None:
        self.hidden_channels = hidden_channels
        self.max_epochs = max_epochs
        self.lr = lr
        self.random_state = random_state
        self.device = device
        self.hidden = hidden
        self.epochs = epochs

    def fit(self, Y: Any, T: Any, *, X: Any, graph: Any = None) -> Any:
        """Trains the outcome model(s).

        Parameters
        ----------
        Y : array-like of shape (n_nodes,)
            Outcomes (finite).
        T : array-like of shape (n_nodes,)
            Binary treatments (0/1, both present).
        X : array-like of shape (n_nodes, n_features)
            Covariates, one row per node.
        graph : graph-like, optional
            Anything :func:`graphbias.as_graph` reads (``None``: isolated nodes).

        Returns
        -------
        self
        """
        p = self._begin_fit()
        Y, T, X, _, g = self._fit_inputs(Y, T, X, graph)
        x, g_dev = self._inputs(X, g)
        self._fit_models(x, g_dev, float_tensor(Y, self.device_), T, p,
                         seed_from(p.random_state))
        self.ate_ = self.ate(X, graph=g)
        return self

    def _fit_models(self, x: torch.Tensor, g: Graph, y: torch.Tensor, T: np.ndarray,
                    p: Any, seed: int) -> None:
        raise NotImplementedError  # pragma: no cover - every learner implements it

    def _inputs(self, X: np.ndarray, g: Graph) -> tuple[torch.Tensor, Graph]:
        return float_tensor(X, self.device_), g.to(self.device_)


def _numpy(out: torch.Tensor) -> np.ndarray:
    return out[:, 0].cpu().double().numpy()


class GNNTLearner(_GNNMetaLearner):
    r"""The GNN T-learner: two outcome GCNs,
    :math:`\hat\tau = \hat\mu_1(x, G) - \hat\mu_0(x, G)`, each trained on the
    treated or the control nodes' outcomes (the full graph passes messages).

    Parameters
    ----------
    hidden_channels : int, default=32
        Hidden width of the two-layer GCNs.
    max_epochs : int, default=200
        Full-batch Adam epochs of each GCN.
    lr : float, default=0.01
        Adam's learning rate.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the initialisations.
    device : str or torch.device, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"``.
    hidden, epochs : deprecated
        Old names of ``hidden_channels`` and ``max_epochs``.

    Attributes
    ----------
    models_ : list of GNN
        :math:`\hat\mu_0` and :math:`\hat\mu_1`.
    ate_ : float
        The average effect over the training nodes.
    graph_ : Graph or None
        The graph of ``fit`` (reused by prediction without ``graph=``).
    n_features_in_ : int
        Number of covariates.
    device_ : torch.device
        Where the GCNs live.

    Examples
    --------
    >>> from graphbias.data.synthetic.network_causal import network_causal
    >>> d = network_causal("ba", 200, effect="constant", seed=0)
    >>> est = GNNTLearner(max_epochs=50, random_state=0)
    >>> est.fit(d.Y, d.T, X=d.X, graph=d.graph).effect(d.X).shape
    (200,)
    """

    _fitted_attribute = "models_"

    def _fit_models(self, x: torch.Tensor, g: Graph, y: torch.Tensor, T: np.ndarray,
                    p: Any, seed: int) -> None:
        models = []
        for t in (0, 1):
            module = node_gnn(x.size(1), p.hidden_channels, seed=seed + t,
                              device=self.device_)
            mask = torch.from_numpy(T == t).to(self.device_)
            fit_masked(module, (x, g), mse_on(y, mask), max_epochs=p.max_epochs, lr=p.lr)
            models.append(module)
        self.models_ = models

    def _const_marginal_effect(self, X: np.ndarray, g: Graph) -> np.ndarray:
        x, g = self._inputs(X, g)
        with torch.no_grad():
            mu0, mu1 = (_numpy(m(x, g)) for m in self.models_)
        return mu1 - mu0


class _TreatmentHead(torch.nn.Module):
    """A GCN embedding ``h`` of ``x`` whose output head also reads the node's own
    treatment ``t``, :math:`\\mu = w^\\top [h, t h, t] + b` (the treatment is not passed
    to neighbours, so setting it is a per-node change)."""

    def __init__(self, in_channels: int, hidden_channels: int) -> None:
        super().__init__()
        self.body = GNN(in_channels, hidden_channels, hidden_channels, 2, "gcn", 0.0)
        self.head = torch.nn.Linear(2 * hidden_channels + 1, 1)

    def forward(self, x: torch.Tensor, graph: Any, t: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.body(x, graph))
        t = t.view(-1, 1)
        return self.head(torch.cat([h, t * h, t], 1))


class GNNSLearner(_GNNMetaLearner):
    r"""The GNN S-learner: one outcome model :math:`\mu(h(x, G), t)` with a GCN
    embedding ``h`` and the node's own treatment in the head,
    :math:`\hat\tau = \hat\mu(h, 1) - \hat\mu(h, 0)`.

    Parameters
    ----------
    hidden_channels : int, default=32
        Width of the GCN embedding.
    max_epochs : int, default=200
        Full-batch Adam epochs.
    lr : float, default=0.01
        Adam's learning rate.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the initialisation.
    device : str or torch.device, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"``.
    hidden, epochs : deprecated
        Old names of ``hidden_channels`` and ``max_epochs``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The outcome model (``model_`` is its deprecated alias).
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``lr``, ``seconds``.
    n_epochs_, best_epoch_ : int
        Epochs run, and the epoch whose weights the model holds (the last).
    ate_ : float
        The average effect over the training nodes.
    graph_ : Graph or None
        The graph of ``fit`` (reused by prediction without ``graph=``).
    n_features_in_ : int
        Number of covariates.
    device_ : torch.device
        Where the model lives.

    Examples
    --------
    >>> from graphbias.data.synthetic.network_causal import network_causal
    >>> d = network_causal("ba", 200, effect="constant", seed=0)
    >>> est = GNNSLearner(max_epochs=50, random_state=0).fit(d.Y, d.T, X=d.X, graph=d.graph)
    >>> est.effect(d.X).shape, len(est.history_)
    ((200,), 50)
    """

    _fitted_attribute = "module_"
    model_ = deprecated_attribute("model_", "module_")

    def _fit_models(self, x: torch.Tensor, g: Graph, y: torch.Tensor, T: np.ndarray,
                    p: Any, seed: int) -> None:
        with torch_seed(seed):
            module = _TreatmentHead(x.size(1), p.hidden_channels)
        self.module_ = module.to(self.device_)
        t = float_tensor(T, self.device_)
        every = torch.ones(len(T), dtype=torch.bool, device=self.device_)
        result = fit_masked(self.module_, (x, g, t), mse_on(y, every),
                            max_epochs=p.max_epochs, lr=p.lr)
        self.history_ = result.history
        self.n_epochs_, self.best_epoch_ = result.n_epochs, result.best_epoch

    def _const_marginal_effect(self, X: np.ndarray, g: Graph) -> np.ndarray:
        x, g = self._inputs(X, g)
        with torch.no_grad():
            mu0, mu1 = (_numpy(self.module_(x, g, torch.full((len(X),), t,
                                                                device=self.device_)))
                        for t in (0.0, 1.0))
        return mu1 - mu0


class EconMLLearner(EstimatorMixin, NetworkEffectMixin, BaseEstimator):
    r"""EconML's ``CausalForestDML``, ``NonParamDML`` or ``LinearDML`` on X, on X plus
    the mean of each node's neighbours' X, or on the propagated covariates
    :math:`[X, \hat A X, \dots, \hat A^k X]` (:math:`\hat A` the GCN-normalised
    adjacency with self-loops): what a user of EconML does with three lines of
    feature engineering.

    Parameters
    ----------
    kind : {"forest", "nonparam", "linear"}, default="forest"
        ``"forest"``: ``CausalForestDML``; ``"nonparam"``: ``NonParamDML`` with a
        random-forest final stage; ``"linear"``: ``LinearDML``.
    neighbours : bool, default=False
        Append the mean of each node's in-neighbours' covariates to ``X``.
    hops : int, default=0
        Append :math:`\hat A X, \dots, \hat A^k X` (``k = hops``) to ``X``; not
        together with ``neighbours``.
    nuisance : {"forest", "auto"}, default="forest"
        ``"forest"``: random-forest nuisances (100 trees, at least 5 nodes per leaf);
        ``"auto"``: EconML's default, the better of its linear (lasso / logistic
        regression, regularised by cross-validation) and forest models by
        cross-validation.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the forests and EconML's cross-fitting.

    Attributes
    ----------
    estimator_ : econml estimator
        The fitted EconML model.
    ate_ : float
        The average effect over the training nodes.
    graph_ : Graph or None
        The graph of ``fit`` (reused by prediction without ``graph=``).
    n_features_in_ : int
        Number of covariates.

    Examples
    --------
    >>> from graphbias.data.synthetic.network_causal import network_causal
    >>> d = network_causal("ba", 200, effect="constant", seed=0)
    >>> est = EconMLLearner("forest", neighbours=True, random_state=0)
    >>> est.fit(d.Y, d.T, X=d.X, graph=d.graph).effect(d.X).shape
    (200,)
    >>> est = EconMLLearner("linear", hops=1, nuisance="auto", random_state=0)
    >>> est.fit(d.Y, d.T, X=d.X, graph=d.graph).estimator_.coef_.shape   # on [X, A X]
    (20,)
    """

    _fitted_attribute = "estimator_"
    _parameter_constraints = {
        "kind": [Options("forest", "nonparam", "linear")],
        "neighbours": [Boolean()],
        "hops": [Integer(0)],
        "nuisance": [Options("forest", "auto")],
        "random_state": [RandomState()],
    }

    def __init__(self, kind: str = "forest", neighbours: bool = False, hops: int = 0,
                 nuisance: str = "forest", random_state: Any = None) -> None:
        self.kind = kind
        self.neighbours = neighbours
        self.hops = hops
        self.nuisance = nuisance
        self.random_state = random_state

    def _features(self, X: np.ndarray, g: Graph) -> np.ndarray:
        if self._neighbours_:
            return np.hstack([X, neighbour_means(X, g)])
        return propagated(X, g, self._hops_) if self._hops_ else X

    def _estimator(self, p: Any, seed: int) -> Any:
        dml = require("econml.dml", "causal", "EconMLLearner")
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        forest = dict(n_estimators=100, min_samples_leaf=5, random_state=seed)
        models: dict[str, Any] = {"model_y": "auto", "model_t": "auto"}
        if p.nuisance == "forest":
            models = {"model_y": RandomForestRegressor(**forest),
                      "model_t": RandomForestClassifier(**forest)}
        if p.kind == "forest":
            return dml.CausalForestDML(**models, discrete_treatment=True, random_state=seed)
        if p.kind == "linear":
            return dml.LinearDML(**models, discrete_treatment=True, random_state=seed)
        return dml.NonParamDML(**models, model_final=RandomForestRegressor(**forest),
                           discrete_treatment=True, random_state=seed)

    def fit(self, Y: Any, T: Any, *, X: Any, graph: Any = None) -> "EconMLLearner":
        """Fits the EconML model on ``X`` (plus neighbour means or propagated
        covariates).

        Parameters
        ----------
        Y : array-like of shape (n_nodes,)
            Outcomes (finite).
        T : array-like of shape (n_nodes,)
            Binary treatments (0/1, both present).
        X : array-like of shape (n_nodes, n_features)
            Covariates, one row per node.
        graph : graph-like, optional
            Anything :func:`graphbias.as_graph` reads (``None``: isolated nodes).

        Returns
        -------
        self
        """
        p = self._begin_fit()
        if p.neighbours and p.hops:
            raise ValueError("EconMLLearner: give neighbours=True or hops > 0, not both "
                             "(neighbour means and propagated covariates)")
        Y, T, X, _, g = self._fit_inputs(Y, T, X, graph)
        self._neighbours_, self._hops_ = p.neighbours, p.hops
        est = self._estimator(p, seed_from(p.random_state))
        self.estimator_ = est.fit(Y, T, X=self._features(X, g))
        self.ate_ = self.ate(X, graph=g)
        return self

    def _const_marginal_effect(self, X: np.ndarray, g: Graph) -> np.ndarray:
        return np.asarray(self.estimator_.effect(self._features(X, g))).reshape(-1)

    def effect_interval(self, X: Any, *, T0: Any = 0, T1: Any = 1, graph: Any = None,
                        alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """EconML's own ``1 - alpha`` interval of :meth:`effect`.

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
        alpha = check_scalar("alpha", alpha, Real(0, 1, closed="neither"))
        X, g = self._predict_inputs(X, graph)
        contrast = _treatment_contrast(T0, T1, X.shape[0])
        lower, upper = (np.asarray(b).reshape(-1) for b in
                        self.estimator_.effect_interval(self._features(X, g), alpha=alpha))
        return (np.where(contrast >= 0, contrast * lower, contrast * upper),
                np.where(contrast >= 0, contrast * upper, contrast * lower))
