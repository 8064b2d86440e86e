"""Baselines beside the Graph R-Learner: GNN T- and S-learners, and EconML's
``NonParamDML`` / ``CausalForestDML`` on X alone or on X plus neighbour means."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..base import seed_from, torch_seed
from ..nn import GNN
from ._checks import check_covariates, check_effect_inputs, neighbour_means
from .gnn_fit import fit_gnn, mse_on

__all__ = ["GNNTLearner", "GNNSLearner", "EconMLLearner"]


class _GNNMetaLearner(BaseEstimator):
    """Shared parameters and input handling of the GNN meta-learners."""

    def __init__(self, hidden: int = 32, epochs: int = 200, lr: float = 0.01,
                 random_state: Any = None) -> None:
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.random_state = random_state

    def _fit_outcome(self, x: torch.Tensor, graph: Any, y: np.ndarray,
                     mask: np.ndarray, seed: int) -> Any:
        return fit_gnn(x, graph, mse_on(torch.from_numpy(y).float()),
                       torch.from_numpy(mask), hidden=self.hidden, epochs=self.epochs,
                       lr=self.lr, seed=seed)

    def fit(self, Y: Any, T: Any, *, X: Any, graph: Any = None) -> Any:
        Y, T, X, _, g = check_effect_inputs(Y, T, X, graph)
        self.n_features_in_ = X.shape[1]
        self._fit_models(Y, T, X, g, seed_from(self.random_state))
        self.ate_ = float(self.effect(X, graph=g).mean())
        return self


class GNNTLearner(_GNNMetaLearner):
    r"""Two outcome GCNs, :math:`\hat\tau = \hat\mu_1(x, G) - \hat\mu_0(x, G)`, each
    trained on the treated or the control nodes' outcomes (full graph for messages).

    >>> from graphbias.data.synthetic.network_causal import network_causal
    >>> d = network_causal("ba", 200, effect="constant", seed=0)
    >>> GNNTLearner(epochs=50, random_state=0).fit(d.Y, d.T, X=d.X, graph=d.graph).effect(
    ...     d.X, graph=d.graph).shape
    (200,)
    """

    def _fit_models(self, Y, T, X, g, seed) -> None:
        x = torch.from_numpy(X).float()
        self.models_ = [self._fit_outcome(x, g, Y, T == t, seed + t) for t in (0, 1)]

    def effect(self, X: Any, *, graph: Any = None) -> np.ndarray:
        check_is_fitted(self, "models_")
        X, g = check_covariates(X, graph, self.n_features_in_)
        x = torch.from_numpy(X).float()
        with torch.no_grad():
            mu0, mu1 = (m(x, g)[:, 0].double().numpy() for m in self.models_)
        return mu1 - mu0


class _TreatmentHead(torch.nn.Module):
    """A GCN embedding of ``x`` whose output head also reads the node's own treatment
    (the treatment is not passed to neighbours, so setting it is a per-node change)."""

    def __init__(self, in_channels: int, hidden: int) -> None:
        super().__init__()
        self.body = GNN(in_channels, hidden, hidden, 2, "gcn", 0.0)
        self.head = torch.nn.Linear(2 * hidden + 1, 1)
        self.t = torch.zeros(0)

    def forward(self, x: torch.Tensor, graph: Any) -> torch.Tensor:
        h = torch.relu(self.body(x, graph))
        t = self.t.view(-1, 1)
        return self.head(torch.cat([h, t * h, t], 1))


class GNNSLearner(_GNNMetaLearner):
    r"""One outcome model :math:`\mu(h(x, G), t)` with a GCN embedding ``h`` and the
    node's own treatment in the head: :math:`\hat\tau = \hat\mu(h, 1) - \hat\mu(h, 0)`."""

    def _fit_models(self, Y, T, X, g, seed) -> None:
        x = torch.from_numpy(X).float()
        with torch_seed(seed):
            model = _TreatmentHead(X.shape[1], self.hidden)
        model.t = torch.from_numpy(T).float()
        self.model_ = fit_gnn(x, g, mse_on(torch.from_numpy(Y).float()),
                              torch.ones(len(Y), dtype=torch.bool), epochs=self.epochs,
                              lr=self.lr, seed=seed, model=model)

    def effect(self, X: Any, *, graph: Any = None) -> np.ndarray:
        check_is_fitted(self, "model_")
        X, g = check_covariates(X, graph, self.n_features_in_)
        x, out = torch.from_numpy(X).float(), []
        with torch.no_grad():
            for t in (0.0, 1.0):
                self.model_.t = torch.full((len(X),), t)
                out.append(self.model_(x, g)[:, 0].double().numpy())
        return out[1] - out[0]


class EconMLLearner(BaseEstimator):
    """EconML's ``CausalForestDML`` (``kind="forest"``) or ``NonParamDML`` with a
    random-forest final stage (``kind="nonparam"``), called through econml, on X or,
    with ``neighbours=True``, on X plus the mean of each node's neighbours' X."""

    def __init__(self, kind: str = "forest", neighbours: bool = False,
                 random_state: Any = None) -> None:
        self.kind = kind
        self.neighbours = neighbours
        self.random_state = random_state

    def _features(self, X: np.ndarray, g: Any) -> np.ndarray:
        return np.hstack([X, neighbour_means(X, g)]) if self.neighbours else X

    def fit(self, Y: Any, T: Any, *, X: Any, graph: Any = None) -> "EconMLLearner":
        from econml.dml import CausalForestDML, NonParamDML
        from sklearn.ensemble import (RandomForestClassifier, RandomForestRegressor)

        if self.kind not in ("forest", "nonparam"):
            raise ValueError(f"kind must be 'forest' or 'nonparam', got {self.kind!r}")
        Y, T, X, _, g = check_effect_inputs(Y, T, X, graph)
        seed = seed_from(self.random_state)
        forest = dict(n_estimators=100, min_samples_leaf=5, random_state=seed)
        if self.kind == "forest":
            est = CausalForestDML(model_y=RandomForestRegressor(**forest),
                                  model_t=RandomForestClassifier(**forest),
                                  discrete_treatment=True, random_state=seed)
        else:
            est = NonParamDML(model_y=RandomForestRegressor(**forest),
                              model_t=RandomForestClassifier(**forest),
                              model_final=RandomForestRegressor(**forest),
                              discrete_treatment=True, random_state=seed)
        self.n_features_in_ = X.shape[1]
        self.estimator_ = est.fit(Y, T, X=self._features(X, g))
        self.ate_ = float(self.effect(X, graph=g).mean())
        return self

    def effect(self, X: Any, *, graph: Any = None) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        X, g = check_covariates(X, graph, self.n_features_in_)
        return np.asarray(self.estimator_.effect(self._features(X, g))).reshape(-1)
