r"""Closed-form final stages on the R-loss and their selection by cross-validated
R-loss (the R-score of Nie and Wager 2021).

Every stage here is penalised least squares in a basis :math:`B(x, G)` of the
propagated covariates :math:`F = [X, \hat A X, \dots, \hat A^K X]`:

.. math:: \hat\beta = \arg\min_\beta \frac{\sum_i w_i (\tilde Y_i - \tilde T_i B_i
          \beta)^2}{\sum_i w_i} + \lambda \sum_j p_j \beta_j^2, \qquad
          \hat\tau(x, G) = B(x, G)\,\hat\beta,

with node weights :math:`w` (0 for trimmed nodes, bootstrap multiplicities) and a
penalty :math:`p_j` of 0 on the intercept. The bases:

- :class:`LinearBasis`: :math:`[1, F_S]`, the standardised columns :math:`S` of
  :math:`F` (``hops=k``: the covariates propagated up to :math:`k` hops; ``k = 0``
  is EconML's linear final stage on :math:`X`).
- :class:`IndexBasis`: a single-index stage,
  :math:`[1, F_S, s(u)]` with :math:`u = F_S \hat\beta_{lin}` the index of the linear
  stage (standardised) and :math:`s` a cubic B-spline basis with knots at the
  quantiles of :math:`u`, penalised :math:`r` times as much as the linear part, with
  :math:`\lambda \ge 10^{-3}` (:data:`INDEX_PENALTIES`). It represents
  :math:`\tau = g(F v)` for a smooth :math:`g`, such as a sine of an embedding.
- :class:`QuadraticBasis`: :math:`[1, F_S, q(F_Q)]` with :math:`q` the standardised
  pairwise products of the columns :math:`Q` (own and one-hop covariates),
  penalised :math:`r` times as much: interactions such as :math:`H_{1,0} X_1`.

:func:`score_candidate` chooses :math:`\lambda` (and :math:`r`) of a candidate by the
R-loss on held-out folds of nodes (each fold's basis, index and standardisation fitted
on the other folds only), and :func:`parsimonious` the candidate among those scored.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

import numpy as np
from scipy.interpolate import BSpline
from sklearn.model_selection import KFold

__all__ = ["LinearBasis", "IndexBasis", "QuadraticBasis", "RidgeStage", "Candidate",
           "node_folds", "score_candidate", "parsimonious", "Score", "fit_ridge_stage",
           "PENALTIES", "INDEX_PENALTIES", "RATIOS"]

#: the penalties :math:`\lambda` tried (0: least squares)
PENALTIES = np.r_[0.0, np.logspace(-5, 1, 13)]
#: the penalties of the single-index stage. The held-out R-loss weighs a node's error
#: by :math:`\tilde T_i^2`, which is small where overlap is weak, at the ends of the
#: index: below :math:`10^{-3}` the spline's end coefficients can follow the noise of
#: those nodes (effects off by 10x there) at no cost in the R-loss, so the grid stops
#: at :math:`10^{-3}`. The floor does not shrink with the number of nodes; it was
#: measured on 500 to 5,000 nodes, where every fit it changed came out closer.
INDEX_PENALTIES = PENALTIES[PENALTIES >= 1e-3]
#: relative penalties :math:`r` of a nonlinear block
RATIOS = (0.1, 1.0, 10.0)
#: interior knots of the single-index spline
KNOTS = 5


def _weighted_moments(F: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sw = w / w.sum()
    mean = sw @ F
    std = np.sqrt(sw @ (F - mean) ** 2)
    return mean, np.where(std > 1e-12, std, 1.0)


@dataclass
class LinearBasis:
    """:math:`[1, F_S]` with the columns ``columns`` standardised by weighted moments
    of the nodes it is fitted on."""

    columns: np.ndarray
    mean: Optional[np.ndarray] = None
    std: Optional[np.ndarray] = None

    def fit(self, F: np.ndarray, w: np.ndarray, **_: object) -> "LinearBasis":
        mean, std = _weighted_moments(F[:, self.columns], w)
        return replace(self, mean=mean, std=std)

    def standardised(self, F: np.ndarray) -> np.ndarray:
        return (F[:, self.columns] - self.mean) / self.std

    def transform(self, F: np.ndarray) -> np.ndarray:
        return np.hstack([np.ones((F.shape[0], 1)), self.standardised(F)])

    def penalty(self, ratio: float) -> np.ndarray:
        return np.r_[0.0, np.ones(self.columns.size)]


def _spline(u: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Cubic B-splines on ``knots`` (clamped ends, ``u`` clipped to their range)
    without the first function: with the intercept they span the same space."""
    t = np.r_[[knots[0]] * 3, knots, [knots[-1]] * 3]
    return BSpline.design_matrix(np.clip(u, knots[0], knots[-1]), t, 3).toarray()[:, 1:]


@dataclass
class IndexBasis:
    """:math:`[1, F_S, s(u)]`: the linear basis plus a spline of the index
    :math:`u = F_S \\beta` of the linear stage with penalty ``penalty_linear``,
    refitted on the nodes the basis is fitted on."""

    linear: LinearBasis
    penalty_linear: float
    direction: Optional[np.ndarray] = None
    centre: float = 0.0
    scale: float = 1.0
    knots: Optional[np.ndarray] = None

    def fit(self, F: np.ndarray, w: np.ndarray, *, y_res: np.ndarray,
            t_res: np.ndarray) -> "IndexBasis":
        linear = self.linear.fit(F, w)
        coef = _solve(*_gram(t_res[:, None] * linear.transform(F), y_res, w),
                      self.penalty_linear, linear.penalty(1.0))
        u = linear.standardised(F) @ coef[1:]
        centre, scale = _weighted_moments(u[:, None], w)
        z = (u - centre[0]) / scale[0]
        knots = np.unique(np.quantile(z[w > 0], np.linspace(0, 1, KNOTS + 2)))
        return replace(self, linear=linear, direction=coef[1:], centre=float(centre[0]),
                       scale=float(scale[0]), knots=knots)

    def transform(self, F: np.ndarray) -> np.ndarray:
        z = (self.linear.standardised(F) @ self.direction - self.centre) / self.scale
        return np.hstack([self.linear.transform(F), _spline(z, self.knots)])

    def penalty(self, ratio: float) -> np.ndarray:
        return np.r_[self.linear.penalty(1.0), ratio * np.ones(self.knots.size + 1)]


@dataclass
class QuadraticBasis:
    """:math:`[1, F_S, q(F_Q)]`: the linear basis plus the standardised pairwise
    products (squares included) of the standardised columns ``products``."""

    linear: LinearBasis
    products: LinearBasis
    mean: Optional[np.ndarray] = None
    std: Optional[np.ndarray] = None

    def _raw(self, F: np.ndarray) -> np.ndarray:
        z = self.products.standardised(F)
        i, j = np.triu_indices(z.shape[1])
        return z[:, i] * z[:, j]

    def fit(self, F: np.ndarray, w: np.ndarray, **_: object) -> "QuadraticBasis":
        fitted = replace(self, linear=self.linear.fit(F, w),
                         products=self.products.fit(F, w))
        mean, std = _weighted_moments(fitted._raw(F), w)
        return replace(fitted, mean=mean, std=std)

    def transform(self, F: np.ndarray) -> np.ndarray:
        return np.hstack([self.linear.transform(F), (self._raw(F) - self.mean) / self.std])

    def penalty(self, ratio: float) -> np.ndarray:
        return np.r_[self.linear.penalty(1.0), ratio * np.ones(self.mean.size)]


Basis = object   # LinearBasis, IndexBasis or QuadraticBasis


def _gram(Z: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    zw = Z * (w / w.sum())[:, None]
    return zw.T @ Z, zw.T @ y


def _solve_path(gram: np.ndarray, rhs: np.ndarray, penalties: Sequence[float],
                weights: np.ndarray) -> np.ndarray:
    """The coefficients ``[penalty, column]`` of every penalty. A positive penalty
    makes the system positive definite (the unpenalised intercept's diagonal is the
    mean of :math:`w \\tilde T^2 > 0`): one batched LU solve for all of them. Least
    squares (penalty 0) takes the minimum-norm solution, as the Gram matrix of
    collinear columns is singular."""
    penalties = np.asarray(penalties, dtype=float)
    coef = np.empty((penalties.size, rhs.size))
    positive = penalties > 0
    if positive.any():
        systems = gram + penalties[positive, None, None] * np.diag(weights)
        coef[positive] = np.linalg.solve(systems, np.broadcast_to(
            rhs[:, None], (int(positive.sum()), rhs.size, 1)))[..., 0]
    for i in np.flatnonzero(~positive):
        coef[i] = np.linalg.lstsq(gram, rhs, rcond=None)[0]
    return coef


def _solve(gram: np.ndarray, rhs: np.ndarray, penalty: float,
           weights: np.ndarray) -> np.ndarray:
    return _solve_path(gram, rhs, [penalty], weights)[0]


@dataclass
class RidgeStage:
    """A fitted closed-form final stage: :math:`\\hat\\tau = B(F)\\,\\beta`.

    ``name`` is the candidate's, ``penalty`` and ``ratio`` the chosen
    :math:`\\lambda` and :math:`r`, ``cv_loss`` the held-out R-loss that chose them
    (NaN when they were given)."""

    name: str
    basis: Basis
    coef: np.ndarray
    penalty: float
    ratio: float
    cv_loss: float = float("nan")

    def predict(self, F: np.ndarray) -> np.ndarray:
        return self.basis.transform(F) @ self.coef


@dataclass
class Candidate:
    """An unfitted final stage: a basis and the grids of :math:`\\lambda` and
    :math:`r` its cross-validation searches."""

    name: str
    basis: Basis
    penalties: Sequence[float] = field(default_factory=lambda: tuple(PENALTIES))
    ratios: Sequence[float] = (1.0,)


def fit_ridge_stage(candidate: Candidate, F: np.ndarray, y_res: np.ndarray,
                    t_res: np.ndarray, w: np.ndarray, penalty: float, ratio: float,
                    cv_loss: float = float("nan")) -> RidgeStage:
    """The candidate fitted with :math:`\\lambda` = ``penalty`` and :math:`r` =
    ``ratio`` on the nodes of weight ``w > 0``."""
    basis = candidate.basis.fit(F, w, y_res=y_res, t_res=t_res)
    keep = w > 0
    gram, rhs = _gram(t_res[keep, None] * basis.transform(F[keep]), y_res[keep], w[keep])
    coef = _solve(gram, rhs, penalty, basis.penalty(ratio))
    return RidgeStage(candidate.name, basis, coef, penalty, ratio, cv_loss)


def _held_out_losses(candidate: Candidate, F: np.ndarray, y_res: np.ndarray,
                     t_res: np.ndarray, w: np.ndarray, folds: list) -> np.ndarray:
    """Each node's weighted held-out R-loss ``[ratio, penalty, node]`` (0 for nodes
    of no weight), every fold's basis fitted on the other folds."""
    losses = np.zeros((len(candidate.ratios), len(candidate.penalties), w.size))
    for train, test in folds:
        basis = candidate.basis.fit(F[train], w[train], y_res=y_res[train],
                                    t_res=t_res[train])
        gram, rhs = _gram(t_res[train, None] * basis.transform(F[train]), y_res[train],
                          w[train])
        z_test = t_res[test, None] * basis.transform(F[test])
        for a, ratio in enumerate(candidate.ratios):
            coef = _solve_path(gram, rhs, candidate.penalties, basis.penalty(ratio))
            err = y_res[test, None] - z_test @ coef.T
            losses[a][:, test] = (w[test, None] * err ** 2).T
    return losses * (w.size / w.sum())


@dataclass
class Score:
    """A candidate's held-out R-loss at its best ratio and penalty, and the nodes'
    held-out losses there (their mean is ``loss``)."""

    loss: float
    ratio: float
    penalty: float
    node_losses: np.ndarray


def node_folds(w: np.ndarray, n_folds: int, seed: int) -> list:
    """``n_folds`` shuffled folds ``(train, test)`` of the nodes of positive weight."""
    nodes = np.flatnonzero(w > 0)
    return [(nodes[a], nodes[b]) for a, b in
            KFold(n_folds, shuffle=True, random_state=seed % (2**31)).split(nodes)]


def score_candidate(candidate: Candidate, F: np.ndarray, y_res: np.ndarray,
                    t_res: np.ndarray, w: np.ndarray, folds: list) -> Score:
    """The least held-out R-loss of ``candidate`` over its grids of :math:`r` and
    :math:`\\lambda`."""
    losses = _held_out_losses(candidate, F, y_res, t_res, w, folds)
    means = losses.mean(axis=2)
    a, b = np.unravel_index(np.argmin(means), means.shape)
    return Score(float(means[a, b]), candidate.ratios[a], candidate.penalties[b],
                 losses[a, b])


def parsimonious(scores: Sequence[Score], tolerance: float) -> int:
    """The first (simplest) of ``scores`` whose held-out R-loss exceeds the least one
    by at most ``tolerance`` standard errors of the paired per-node difference."""
    best = int(np.argmin([s.loss for s in scores]))
    for i, s in enumerate(scores[:best]):
        diff = s.node_losses - scores[best].node_losses
        if diff.mean() <= tolerance * diff.std(ddof=1) / np.sqrt(diff.size):
            return i
    return best
