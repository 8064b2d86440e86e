r"""The Graph R-Learner: cross-fitted graph nuisances, then a final stage on the R-loss.

With cross-fitted :math:`\hat m(x, G) \approx E[Y \mid X, G]` and
:math:`\hat e(x, G) \approx P(T = 1 \mid X, G)`, residuals
:math:`\tilde Y = Y - \hat m`, :math:`\tilde T = T - \hat e`, the effect is

.. math:: \hat\tau = \arg\min_\tau \frac1n \sum_i \big(\tilde Y_i - \tilde T_i\,\tau(x_i, G)\big)^2 .

Final stages: ``"gnn"`` (the Graph R-Learner: a simplified graph convolution,
:math:`\tau(x, G) = [1, X, \hat A X, \dots, \hat A^K X]_i\,\beta` with :math:`\hat A`
the GCN-normalised adjacency, fitted in closed form on the R-loss, as SGC of Wu et al.
2019), ``"gcn"`` (a nonlinear 2-layer GCN trained on the R-loss by gradient, the epoch
of least R-loss on 10% held-out nodes kept), ``"linear"`` (:math:`\tau = [1, x]\beta`, the intercept multiplied by
:math:`\tilde T`, as EconML's DML), ``"forest"`` (a random forest on the pseudo-outcome
:math:`\tilde Y / \tilde T` weighted by :math:`\tilde T^2`, as EconML's NonParamDML)
and ``"linear_free_intercept"``, an ablation only: it regresses :math:`\tilde Y` on
:math:`[1, \tilde T x]` with a free intercept, so :math:`\tau = x\beta` has no
constant term and cannot represent a constant effect.

Folds are graph-aware: a fold's nodes never enter its nuisance losses. Message
passing still reads their *features* (``fold_isolation="loss"``, the default);
``fold_isolation="edges"`` also removes every edge touching the held-out nodes while
the fold's nuisances train, so nothing of them enters.
"""
from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold
from sklearn.utils.validation import check_is_fitted

from ..base import seed_from
from ..data import Graph
from ._checks import check_covariates, check_effect_inputs
from .gnn_fit import bce_on, fit_gnn, isolated, mse_on, without_edges_into

__all__ = ["GraphRLearner", "FINAL_STAGES", "NUISANCES"]

FINAL_STAGES = ("gnn", "gcn", "linear", "forest", "linear_free_intercept")
NUISANCES = ("gnn", "mlp", "sklearn")


def _ones(X: np.ndarray) -> np.ndarray:
    return np.hstack([np.ones((X.shape[0], 1)), X])


def propagated(X: np.ndarray, graph: Graph, hops: int) -> np.ndarray:
    """``[X, A X, ..., A^hops X]`` with ``A`` the GCN-normalised adjacency."""
    from .. import ops
    from ..data.transforms import gcn_norm

    a = gcn_norm(graph, dtype=torch.float64)
    parts = [torch.from_numpy(X)]
    for _ in range(hops):
        parts.append(ops.spmm(a, parts[-1]))
    return torch.cat(parts, 1).numpy()


class GraphRLearner(BaseEstimator):
    """Heterogeneous treatment effects on a network, EconML's R-learner API.

    Parameters:
        nuisance: ``"gnn"`` (GCN nuisances on the graph), ``"mlp"`` (the same
            network on a graph without edges: graph-blind) or ``"sklearn"``
            (``model_y`` regressor and ``model_t`` classifier on ``[X, W]``).
        final: one of ``"gnn"``, ``"gcn"``, ``"linear"``, ``"forest"``,
            ``"linear_free_intercept"`` (see the module docstring).
        hops: propagation steps :math:`K` of the ``"gnn"`` final stage.
        n_folds: cross-fitting folds.
        fold_isolation: ``"loss"`` or ``"edges"`` (see the module docstring).
        hidden, epochs, lr: size and training of the GNNs; ``final_epochs`` for the
            GNN final stage (the epoch of least R-loss on 10% held-out nodes is kept).
        overlap: propensities outside ``[clip, 1 - clip]``: ``"trim"`` drops those
            nodes from the final stage with a warning, ``"raise"`` refuses.
        n_bootstrap: final-stage refits on resampled nodes for ``effect_interval``.
        random_state: seeds folds, networks and bootstrap.

    >>> from graphbias.data.synthetic.network_causal import network_causal
    >>> d = network_causal("ba", 300, effect="constant", seed=0)
    >>> est = GraphRLearner(final="linear", epochs=60, random_state=0)
    >>> est = est.fit(d.Y, d.T, X=d.X, graph=d.graph)
    >>> 1.0 < est.ate_ < 3.0
    True
    """

    def __init__(self, nuisance: str = "gnn", final: str = "gnn", model_y: Any = None,
                 model_t: Any = None, n_folds: int = 3, fold_isolation: str = "loss",
                 hidden: int = 32, epochs: int = 200, final_epochs: int = 300,
                 lr: float = 0.01, overlap: str = "trim", clip: float = 0.01,
                 n_bootstrap: int = 20, hops: int = 2, random_state: Any = None) -> None:
        self.nuisance = nuisance
        self.final = final
        self.model_y = model_y
        self.model_t = model_t
        self.n_folds = n_folds
        self.fold_isolation = fold_isolation
        self.hidden = hidden
        self.epochs = epochs
        self.final_epochs = final_epochs
        self.lr = lr
        self.overlap = overlap
        self.clip = clip
        self.n_bootstrap = n_bootstrap
        self.hops = hops
        self.random_state = random_state

    # ------------------------------------------------------------ checks
    def _check_params(self) -> None:
        choices = {"nuisance": NUISANCES, "final": FINAL_STAGES,
                   "fold_isolation": ("loss", "edges"), "overlap": ("trim", "raise")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, "
                                 f"got {getattr(self, name)!r}")
        if self.nuisance == "sklearn" and (self.model_y is None or self.model_t is None):
            raise ValueError("nuisance='sklearn' needs model_y (regressor) and "
                             "model_t (classifier with predict_proba)")
        if not (isinstance(self.n_folds, int) and self.n_folds >= 2):
            raise ValueError(f"n_folds must be an integer >= 2, got {self.n_folds!r}")
        if not (isinstance(self.hops, int) and self.hops >= 1):
            raise ValueError(f"hops must be an integer >= 1, got {self.hops!r}")
        if not 0.0 <= self.clip < 0.5:
            raise ValueError(f"clip must be in [0, 0.5), got {self.clip}")

    # ------------------------------------------------------------ nuisances
    def _nuisance_graph(self, g: Graph) -> Graph:
        return isolated(g) if self.nuisance == "mlp" else g

    def _fit_fold(self, xn: np.ndarray, Y: np.ndarray, T: np.ndarray, g: Graph,
                  train: np.ndarray, seed: int) -> tuple[Any, Any]:
        if self.nuisance == "sklearn":
            my = clone(self.model_y).fit(xn[train], Y[train])
            mt = clone(self.model_t).fit(xn[train], T[train])
            return my, mt
        x = torch.from_numpy(xn).float()
        mask = torch.from_numpy(train)
        graph = self._nuisance_graph(g)
        if self.fold_isolation == "edges":
            graph = without_edges_into(graph, ~mask)
        kw = dict(hidden=self.hidden, epochs=self.epochs, lr=self.lr)
        my = fit_gnn(x, graph, mse_on(torch.from_numpy(Y).float()), mask, seed=seed, **kw)
        mt = fit_gnn(x, graph, bce_on(torch.from_numpy(T).float()), mask, seed=seed + 1,
                     **kw)
        return my, mt

    def _predict_nuisance(self, models: tuple[Any, Any], xn: np.ndarray,
                          g: Graph) -> tuple[np.ndarray, np.ndarray]:
        my, mt = models
        if self.nuisance == "sklearn":
            return my.predict(xn), mt.predict_proba(xn)[:, 1]
        x = torch.from_numpy(xn).float()
        graph = self._nuisance_graph(g)
        with torch.no_grad():
            return (my(x, graph)[:, 0].double().numpy(),
                    torch.sigmoid(mt(x, graph)[:, 0]).double().numpy())

    # ------------------------------------------------------------ final stage
    def _fit_stage(self, X: np.ndarray, g: Graph, y_res: np.ndarray, t_res: np.ndarray,
                   weight: np.ndarray, seed: int, validate: bool) -> Any:
        """One final stage fitted with node weights ``weight`` (0 = left out)."""
        if self.final in ("gnn", "linear", "linear_free_intercept"):
            if self.final == "gnn":
                Z = t_res[:, None] * _ones(propagated(X, g, self.hops))
            elif self.final == "linear":
                Z = t_res[:, None] * _ones(X)
            else:
                Z = np.hstack([np.ones((X.shape[0], 1)), t_res[:, None] * X])
            sw = np.sqrt(weight)
            return np.linalg.lstsq(Z * sw[:, None], y_res * sw, rcond=None)[0]
        if self.final == "forest":
            keep = weight > 0
            forest = RandomForestRegressor(n_estimators=100, min_samples_leaf=5,
                                           random_state=seed)
            return forest.fit(X[keep], y_res[keep] / t_res[keep],
                              sample_weight=(weight * t_res ** 2)[keep])
        yr, tr = torch.from_numpy(y_res).float(), torch.from_numpy(t_res).float()
        w = torch.from_numpy(weight).float()
        val = None
        if validate:
            rng = np.random.default_rng(seed)
            held = rng.random(X.shape[0]) < 0.1
            val = torch.from_numpy(held & (weight > 0))
            w = w * torch.from_numpy(~held).float()

        def rloss(out: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            wm = w if mask is not val else mask.float()
            return (wm * (yr - tr * out[:, 0]) ** 2).sum() / wm.sum().clamp_min(1e-12)

        return fit_gnn(torch.from_numpy(X).float(), g, rloss, w > 0, hidden=self.hidden,
                       epochs=self.final_epochs, lr=self.lr, seed=seed, val_mask=val)

    def _stage_effect(self, stage: Any, X: np.ndarray, g: Graph) -> np.ndarray:
        if self.final == "gnn":
            return _ones(propagated(X, g, self.hops)) @ stage
        if self.final == "linear":
            return _ones(X) @ stage
        if self.final == "linear_free_intercept":
            return X @ stage[1:]
        if self.final == "forest":
            return stage.predict(X)
        with torch.no_grad():
            return stage(torch.from_numpy(X).float(), g)[:, 0].double().numpy()

    # ------------------------------------------------------------ API
    def fit(self, Y: Any, T: Any, *, X: Any, graph: Any = None,
            W: Any = None) -> "GraphRLearner":
        """Cross-fits the nuisances, then fits the final stage on the R-loss."""
        self._check_params()
        Y, T, X, W, g = check_effect_inputs(Y, T, X, graph, W)
        seed = seed_from(self.random_state)
        xn = X if W is None else np.hstack([X, W])
        n = X.shape[0]
        m_hat, e_hat = np.empty(n), np.empty(n)
        self.nuisance_models_: list[tuple[Any, Any]] = []
        folds = KFold(self.n_folds, shuffle=True, random_state=seed % (2**31))
        for k, (train_idx, test_idx) in enumerate(folds.split(X)):
            train = np.zeros(n, dtype=bool)
            train[train_idx] = True
            models = self._fit_fold(xn, Y, T, g, train, seed + 2 * k)
            m, e = self._predict_nuisance(models, xn, g)
            m_hat[test_idx], e_hat[test_idx] = m[test_idx], e[test_idx]
            self.nuisance_models_.append(models)
        outside = (e_hat < self.clip) | (e_hat > 1 - self.clip)
        self.overlap_ = {"min": float(e_hat.min()), "max": float(e_hat.max()),
                         "n_outside": int(outside.sum()), "clip": self.clip}
        if outside.any():
            msg = (f"{outside.sum()} of {n} nodes have estimated propensities outside "
                   f"[{self.clip}, {1 - self.clip}] (range {e_hat.min():.3g} to "
                   f"{e_hat.max():.3g}): overlap fails there")
            if self.overlap == "raise":
                raise ValueError(msg + "; use overlap='trim' to drop them")
            warnings.warn(msg + "; they are left out of the final stage", UserWarning)
        self.kept_ = ~outside
        if not self.kept_.any():
            raise ValueError("no node has a propensity inside the overlap region")
        self.residuals_ = (Y - m_hat, T - e_hat)
        self.n_features_in_ = X.shape[1]
        self._fit_X, self._fit_graph, self._seed = X, g, seed
        return self.refit_final()

    def refit_final(self) -> "GraphRLearner":
        """Refits only the final stage (the current ``final`` / ``hops``) on the
        stored cross-fitted residuals, as EconML's ``refit_final``."""
        check_is_fitted(self, "residuals_")
        self._check_params()
        X, g = self._fit_X, self._fit_graph
        self.stage_ = self._fit_stage(X, g, *self.residuals_, self.kept_.astype(float),
                                      self._seed + 97, validate=True)
        self._bootstrap: Optional[list[Any]] = None
        self.ate_ = float(self.effect(X, graph=g)[self.kept_].mean())
        return self

    def effect(self, X: Any, *, graph: Any = None) -> np.ndarray:
        """:math:`\\hat\\tau(x_i, G)` for every node of ``graph`` (one row of X each)."""
        check_is_fitted(self, "stage_")
        X, g = check_covariates(X, graph, self.n_features_in_)
        return self._stage_effect(self.stage_, X, g)

    def effect_interval(self, X: Any, *, graph: Any = None,
                        alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """Percentile bootstrap interval: the final stage refitted ``n_bootstrap``
        times on nodes resampled with replacement, the cross-fitted residuals held
        fixed (nuisance uncertainty is not propagated)."""
        check_is_fitted(self, "stage_")
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        if self.n_bootstrap < 2:
            raise ValueError("effect_interval needs n_bootstrap >= 2")
        X, g = check_covariates(X, graph, self.n_features_in_)
        if self._bootstrap is None:
            rng = np.random.default_rng(self._seed + 7)
            kept = np.flatnonzero(self.kept_)
            self._bootstrap = []
            for b in range(self.n_bootstrap):
                weight = np.bincount(rng.choice(kept, kept.size),
                                     minlength=self.kept_.size).astype(float)
                self._bootstrap.append(self._fit_stage(
                    self._fit_X, self._fit_graph, *self.residuals_, weight,
                    self._seed + 1000 + b, validate=False))
        draws = np.stack([self._stage_effect(s, X, g) for s in self._bootstrap])
        return (np.quantile(draws, alpha / 2, axis=0),
                np.quantile(draws, 1 - alpha / 2, axis=0))

    def score(self, Y: Any, T: Any, *, X: Any, graph: Any = None, W: Any = None) -> float:
        """R-loss on (held-out) data, nuisances averaged over the fold models as
        EconML does; lower is better."""
        check_is_fitted(self, "stage_")
        Y, T, X, W, g = check_effect_inputs(Y, T, X, graph, W)
        xn = X if W is None else np.hstack([X, W])
        preds = [self._predict_nuisance(m, xn, g) for m in self.nuisance_models_]
        m = np.mean([p[0] for p in preds], axis=0)
        e = np.mean([p[1] for p in preds], axis=0)
        tau = self._stage_effect(self.stage_, X, g)
        return float(np.mean((Y - m - (T - e) * tau) ** 2))
