r"""The R-learner's nuisances :math:`\hat m(x, G) \approx E[Y \mid X, G]` and
:math:`\hat e(x, G) \approx P(T = 1 \mid X, G)`: one kind of model per fold, and the
choice among kinds by out-of-fold loss.

Kinds:

- ``"linear"``: ridge regression and logistic regression, each regularised by
  internal cross-validation, on the standardised propagated covariates
  :math:`[X, \hat A X, \dots, \hat A^K X, W]` (:math:`K` the learner's ``hops``;
  ``"linear-k"``: the same with :math:`K = k`).
- ``"gnn"``: two-layer GNNs (the learner's ``conv``) on :math:`[X, W]` and the graph,
  early-stopped on a held-out part of the fold's training nodes.
- ``"mlp"``: the same networks on the graph without edges (graph-blind).
- ``"sklearn"``: the user's ``model_y`` and ``model_t`` on :math:`[X, W]`.

A fold's held-out nodes never enter its losses; their covariates still reach the
others' features through the graph unless ``fold_isolation="edges"`` cuts their
edges while the fold trains.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..data import Graph
from ._features import propagated
from ._masked import bce_on, fit_masked, float_tensor, isolated, mse_on, node_gnn, \
    without_edges_into

__all__ = ["KINDS", "NuisanceData", "fit_fold", "predict_model", "outcome_loss",
           "propensity_loss", "neg_log_loss", "linear_kind"]

KINDS = ("linear", "gnn", "mlp", "sklearn")
#: the ridge penalties the outcome model chooses from by cross-validation
RIDGE_ALPHAS = np.logspace(-3, 3, 13)


@dataclass
class NuisanceData:
    """The inputs the nuisances read: covariates, controls and the graph."""

    X: np.ndarray
    W: Optional[np.ndarray]
    graph: Graph

    def rows(self) -> np.ndarray:
        """:math:`[X, W]`."""
        return self.X if self.W is None else np.hstack([self.X, self.W])

    def propagated_rows(self, hops: int, graph: Optional[Graph] = None) -> np.ndarray:
        """:math:`[X, \\hat A X, \\dots, \\hat A^K X, W]` on ``graph`` (default: the
        data's)."""
        F = propagated(self.X, self.graph if graph is None else graph, hops)
        return F if self.W is None else np.hstack([F, self.W])


def linear_kind(hops: int) -> str:
    """The name of the linear kind on ``hops`` propagation steps.

    Examples
    --------
    >>> linear_kind(1), _linear_hops("linear-1", None)
    ('linear-1', 1)
    """
    return f"linear-{hops}"


def _linear_hops(kind: str, p: Any) -> Optional[int]:
    """The propagation steps of a linear kind (``"linear"``: the learner's
    ``hops``), None for the other kinds."""
    if kind == "linear":
        return p.hops
    name, _, hops = kind.partition("-")
    return int(hops) if name == "linear" and hops.isdigit() else None


def outcome_loss(y: np.ndarray, m: np.ndarray) -> float:
    """Mean squared error of the outcome model."""
    return float(np.mean((y - m) ** 2))


def propensity_loss(t: np.ndarray, e: np.ndarray) -> float:
    """Mean log-loss of the propensity model."""
    e = np.clip(e, 1e-12, 1 - 1e-12)
    return float(-np.mean(t * np.log(e) + (1 - t) * np.log(1 - e)))


def neg_log_loss(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    """The negated mean log-loss of a fitted classifier on ``(X, y)``, computed as
    scikit-learn's ``"neg_log_loss"`` scorer does (probabilities clipped to
    ``[eps, 1 - eps]``, the mean of minus the log-probability of each row's class)
    but without its input checks, which cost more than the logistic fits of the
    cross-validation they score.

    Parameters
    ----------
    model : classifier
        Fitted, with ``predict_proba`` and ``classes_``.
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Labels among ``model.classes_``.

    Returns
    -------
    float
        Greater is better.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> from sklearn.metrics import get_scorer
    >>> model = LogisticRegression().fit(X, y)
    >>> neg_log_loss(model, X, y) == get_scorer("neg_log_loss")(model, X, y)
    True
    """
    proba = model.predict_proba(X)
    eps = np.finfo(proba.dtype).eps
    proba = np.clip(proba, eps, 1 - eps)
    rows = proba[np.arange(len(y)), np.searchsorted(model.classes_, y)]
    return -float(np.mean(-np.log(rows)))


def _logistic_cv() -> LogisticRegressionCV:
    """L2 logistic regression, its penalty chosen by 5-fold cross-validated log-loss
    (:func:`neg_log_loss`); the settings whose defaults scikit-learn is changing are
    given where it has them."""
    accepts = inspect.signature(LogisticRegressionCV).parameters
    params: dict[str, Any] = {"Cs": 10, "max_iter": 1000, "scoring": neg_log_loss}
    if "use_legacy_attributes" in accepts:
        params["use_legacy_attributes"] = False
    if accepts["l1_ratios"].default == "warn":
        params["l1_ratios"] = (0.0,)
    return LogisticRegressionCV(**params)


def _linear_models() -> tuple[Any, Any]:
    return (make_pipeline(StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS)),
            make_pipeline(StandardScaler(), _logistic_cv()))


def _fit_gnn(p: Any, data: NuisanceData, Y: np.ndarray, T: np.ndarray, graph: Graph,
             train: np.ndarray, seed: int, device: Any) -> tuple[Any, Any]:
    """The outcome and propensity GNNs of a fold (seeds ``seed`` and ``seed + 1``);
    with ``validation_fraction`` a random part of the training nodes is held out and
    the epoch of least loss on it kept."""
    rows = data.rows()
    x = float_tensor(rows, device)
    held = np.zeros_like(train)
    if p.validation_fraction > 0:
        held = train & (np.random.default_rng(seed).random(train.size)
                        < p.validation_fraction)
    fit_mask = torch.from_numpy(train & ~held).to(device)
    val_mask = torch.from_numpy(held).to(device)
    models = []
    for k, (target, loss) in enumerate(((Y, mse_on), (T, bce_on))):
        target = float_tensor(target, device)
        module = node_gnn(rows.shape[1], p.hidden_channels, seed=seed + k, device=device,
                          conv=p.conv)
        fit_masked(module, (x, graph), loss(target, fit_mask), max_epochs=p.max_epochs,
                   lr=p.lr, weight_decay=p.weight_decay, patience=p.patience,
                   val_loss=loss(target, val_mask) if held.any() else None)
        models.append(module)
    return models[0], models[1]


def _nuisance_graph(kind: str, graph: Graph) -> Graph:
    return isolated(graph) if kind == "mlp" else graph


def fit_fold(kind: str, p: Any, data: NuisanceData, Y: np.ndarray, T: np.ndarray,
             train: np.ndarray, seed: int, device: Any) -> tuple[Any, Any]:
    """The outcome and propensity models of kind ``kind`` fitted on the nodes
    ``train`` (a boolean mask); ``p`` holds the learner's validated parameters."""
    if kind == "sklearn":
        rows = data.rows()
        return (clone(p.model_y).fit(rows[train], Y[train]),
                clone(p.model_t).fit(rows[train], T[train]))
    graph = data.graph
    if p.fold_isolation == "edges":
        graph = without_edges_into(graph, torch.from_numpy(~train))
    hops = _linear_hops(kind, p)
    if hops is not None:
        rows = data.propagated_rows(hops, graph)[train]
        my, mt = _linear_models()
        return my.fit(rows, Y[train]), mt.fit(rows, T[train])
    graph = _nuisance_graph(kind, graph.to(device))
    return _fit_gnn(p, data, Y, T, graph, train, seed, device)


def predict_model(kind: str, p: Any, model: Any, data: NuisanceData, device: Any, *,
                  propensity: bool) -> np.ndarray:
    r"""A fold's outcome model's :math:`\hat m`, or with ``propensity`` its
    propensity model's :math:`\hat e`, on every node of ``data``."""
    hops = _linear_hops(kind, p)
    if kind == "sklearn" or hops is not None:
        rows = data.rows() if hops is None else data.propagated_rows(hops)
        return model.predict_proba(rows)[:, 1] if propensity else model.predict(rows)
    x = float_tensor(data.rows(), device)
    graph = _nuisance_graph(kind, data.graph.to(device))
    with torch.no_grad():
        out = model(x, graph)[:, 0]
        return (torch.sigmoid(out) if propensity else out).cpu().double().numpy()
