r"""Inference results in EconML's shape: per-node effects (:class:`EffectInference`,
as EconML's ``NormalInferenceResults``) and their average
(:class:`PopulationInference`, as ``PopulationSummaryResults``).

Both are built from bootstrap draws of an estimate :math:`\tilde\theta`, the
*centre*: the standard error is the draws' standard deviation, p-values and
z-statistics use the normal approximation around :math:`\tilde\theta`, and the
interval is the basic (pivot) bootstrap interval
:math:`[2\tilde\theta - q_{1 - \alpha/2},\; 2\tilde\theta - q_{\alpha/2}]` with
:math:`q` the quantiles of the draws, as EconML's ``BootstrapInference`` by default.
The centre is the point estimate unless it is given apart: a penalised estimate's
shrinkage bias is not in bootstrap draws of it, so a learner may centre its inference
on a less penalised refit (see :class:`~graphbias.causal.GraphRLearner`).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm

from .._optional import require
from .._validation import Integer, Real, check_scalar

__all__ = ["EffectInference", "PopulationInference", "pivot_interval"]


def _alpha(alpha: float) -> float:
    return check_scalar("alpha", alpha, Real(0, 1, closed="neither"))


def pivot_interval(point: np.ndarray, draws: np.ndarray, alpha: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    r"""The basic bootstrap interval
    :math:`[2\hat\theta - q_{1-\alpha/2}, 2\hat\theta - q_{\alpha/2}]` of each column
    of ``draws`` (one row per bootstrap replicate) around ``point``.

    Parameters
    ----------
    point : ndarray of shape (n,) or float
        The estimate.
    draws : ndarray of shape (n_bootstrap, n) or (n_bootstrap,)
        Its bootstrap replicates.
    alpha : float
        The interval covers ``1 - alpha``.

    Returns
    -------
    lower, upper : ndarray of shape (n,) or float

    Examples
    --------
    >>> lo, hi = pivot_interval(1.0, np.array([0.5, 1.0, 1.5, 2.5]), 0.5)
    >>> float(lo), float(hi)
    (0.25, 1.125)
    """
    low_q = np.quantile(draws, alpha / 2, axis=0)
    high_q = np.quantile(draws, 1 - alpha / 2, axis=0)
    return 2 * np.asarray(point) - high_q, 2 * np.asarray(point) - low_q


class _Inference:
    """Point estimate, the centre of the inference, its bootstrap draws and the
    statistics both results share."""

    def __init__(self, point: Any, draws: np.ndarray, centre: Any = None) -> None:
        self._point = np.asarray(point, dtype=np.float64)
        self._draws = np.asarray(draws, dtype=np.float64)
        self._centre = self._point if centre is None else np.asarray(centre,
                                                                      dtype=np.float64)
        if self._centre.shape != self._point.shape:
            raise ValueError(f"centre has shape {self._centre.shape}, but the point "
                             f"estimate has shape {self._point.shape}")

    @property
    def centre(self) -> Any:
        """The estimate the intervals, z-statistics and p-values are about (the
        point estimate unless given apart)."""
        return self._centre

    @property
    def _stderr(self) -> np.ndarray:
        return self._draws.std(axis=0, ddof=1)

    def _zstat(self, value: float) -> np.ndarray:
        value = check_scalar("value", value, Real())
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self._centre - value) / self._stderr

    def _pvalue(self, value: float) -> np.ndarray:
        return 2 * norm.sf(np.abs(self._zstat(value)))

    def _conf_int(self, alpha: float) -> tuple[Any, Any]:
        return pivot_interval(self._centre, self._draws, _alpha(alpha))

    def _frame(self, alpha: float, value: float, decimals: int, names: tuple[str, ...],
               index: Any) -> Any:
        pd = require("pandas", "causal", "summary_frame")
        decimals = check_scalar("decimals", decimals, Integer(0))
        lower, upper = self._conf_int(alpha)
        columns = [self._point, self._stderr, self._zstat(value), self._pvalue(value),
                   lower, upper]
        frame = pd.DataFrame({n: np.atleast_1d(c) for n, c in zip(names, columns)},
                             index=index)
        return frame.round(decimals)


class EffectInference(_Inference):
    """Inference on the per-node effects (EconML's ``effect_inference`` result).

    Parameters
    ----------
    point_estimate : ndarray of shape (n_nodes,)
        The estimated effects.
    draws : ndarray of shape (n_bootstrap, n_nodes)
        Bootstrap replicates of ``centre``.
    centre : ndarray of shape (n_nodes,) or None, default=None
        The estimate the intervals, z-statistics and p-values are about (``None``:
        ``point_estimate``).

    Examples
    --------
    >>> draws = np.random.default_rng(0).normal([1.0, 2.0], 0.1, (200, 2))
    >>> inf = EffectInference(np.array([1.0, 2.0]), draws)
    >>> list(inf.summary_frame().columns)
    ['point_estimate', 'stderr', 'zstat', 'pvalue', 'ci_lower', 'ci_upper']
    >>> bool(inf.pvalue()[1] < 0.01), inf.population_summary().mean_point
    (True, 1.5)
    >>> shifted = EffectInference(np.array([1.0, 2.0]), draws + 0.5, centre=[1.5, 2.5])
    >>> bool(shifted.conf_int()[0][0] > 1.2), shifted.point_estimate.tolist()
    (True, [1.0, 2.0])
    """

    @property
    def point_estimate(self) -> np.ndarray:
        """The estimated effect of every node."""
        return self._point

    @property
    def stderr(self) -> np.ndarray:
        """The bootstrap standard error of every node's effect."""
        return self._stderr

    @property
    def var(self) -> np.ndarray:
        """The bootstrap variance of every node's effect."""
        return self._stderr ** 2

    def zstat(self, value: float = 0.0) -> np.ndarray:
        """``(centre - value) / stderr``.

        Parameters
        ----------
        value : float, default=0.0
            The effect under the null hypothesis.

        Returns
        -------
        ndarray of shape (n_nodes,)
        """
        return self._zstat(value)

    def pvalue(self, value: float = 0.0) -> np.ndarray:
        """Two-sided p-value of the null ``effect == value`` (normal approximation).

        Parameters
        ----------
        value : float, default=0.0
            The effect under the null hypothesis.

        Returns
        -------
        ndarray of shape (n_nodes,)
        """
        return self._pvalue(value)

    def conf_int(self, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """The ``1 - alpha`` basic bootstrap interval of every node's effect (around
        :attr:`centre`).

        Parameters
        ----------
        alpha : float, default=0.05
            In (0, 1).

        Returns
        -------
        lower, upper : ndarray of shape (n_nodes,)
        """
        return self._conf_int(alpha)

    def summary_frame(self, alpha: float = 0.05, value: float = 0.0,
                      decimals: int = 3) -> Any:
        """One row per node: ``point_estimate``, ``stderr``, ``zstat``, ``pvalue``,
        ``ci_lower``, ``ci_upper`` (EconML's columns; all but the first are about
        :attr:`centre`).

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals cover ``1 - alpha``.
        value : float, default=0.0
            The effect under the null hypothesis of ``zstat`` and ``pvalue``.
        decimals : int, default=3
            Rounding.

        Returns
        -------
        pandas.DataFrame
        """
        names = ("point_estimate", "stderr", "zstat", "pvalue", "ci_lower", "ci_upper")
        return self._frame(alpha, value, decimals, names, None)

    def times(self, factor: Any) -> "EffectInference":
        """The inference of ``factor`` times the effects (a per-node treatment
        contrast such as -1, 0 or 1).

        Parameters
        ----------
        factor : float or ndarray of shape (n_nodes,)

        Returns
        -------
        EffectInference
        """
        factor = np.asarray(factor, dtype=np.float64)
        return EffectInference(factor * self._point, factor * self._draws,
                               factor * self._centre)

    def population_summary(self) -> "PopulationInference":
        """Inference on the average of the effects over the nodes.

        Returns
        -------
        PopulationInference
        """
        return PopulationInference(self._point.mean(), self._draws.mean(axis=1),
                                   self._centre.mean())


class PopulationInference(_Inference):
    """Inference on the average effect (EconML's ``ate_inference`` result).

    Parameters
    ----------
    mean_point : float
        The estimated average effect.
    draws : ndarray of shape (n_bootstrap,)
        Bootstrap replicates of ``centre``.
    centre : float or None, default=None
        The estimate the interval, z-statistic and p-value are about (``None``:
        ``mean_point``).

    Examples
    --------
    >>> inf = PopulationInference(2.0, np.random.default_rng(0).normal(2.0, 0.1, 500))
    >>> lo, hi = inf.conf_int_mean()
    >>> bool(lo < 2.0 < hi), round(inf.stderr_mean, 1)
    (True, 0.1)
    """

    @property
    def mean_point(self) -> float:
        """The estimated average effect."""
        return float(self._point)

    @property
    def stderr_mean(self) -> float:
        """Its bootstrap standard error."""
        return float(self._stderr)

    def zstat(self, value: float = 0.0) -> float:
        """``(centre - value) / stderr_mean``.

        Parameters
        ----------
        value : float, default=0.0
            The average effect under the null hypothesis.

        Returns
        -------
        float
        """
        return float(self._zstat(value))

    def pvalue(self, value: float = 0.0) -> float:
        """Two-sided p-value of the null ``average effect == value``.

        Parameters
        ----------
        value : float, default=0.0
            The average effect under the null hypothesis.

        Returns
        -------
        float
        """
        return float(self._pvalue(value))

    def conf_int_mean(self, alpha: float = 0.05) -> tuple[float, float]:
        """The ``1 - alpha`` basic bootstrap interval of the average effect (around
        :attr:`centre`).

        Parameters
        ----------
        alpha : float, default=0.05
            In (0, 1).

        Returns
        -------
        lower, upper : float
        """
        lower, upper = self._conf_int(alpha)
        return float(lower), float(upper)

    def summary_frame(self, alpha: float = 0.05, value: float = 0.0,
                      decimals: int = 3) -> Any:
        """One row: ``mean_point``, ``stderr_mean``, ``zstat``, ``pvalue``,
        ``ci_mean_lower``, ``ci_mean_upper`` (the columns of EconML's summary).

        Parameters
        ----------
        alpha : float, default=0.05
            The interval covers ``1 - alpha``.
        value : float, default=0.0
            The average effect under the null hypothesis.
        decimals : int, default=3
            Rounding.

        Returns
        -------
        pandas.DataFrame
        """
        names = ("mean_point", "stderr_mean", "zstat", "pvalue", "ci_mean_lower",
                 "ci_mean_upper")
        return self._frame(alpha, value, decimals, names, ["ATE"])

    def summary(self, alpha: float = 0.05, value: float = 0.0, decimals: int = 3) -> Any:
        """The same as :meth:`summary_frame` (EconML's ``ate_inference().summary()``
        prints a table of these columns).

        Parameters
        ----------
        alpha, value, decimals
            As in :meth:`summary_frame`.

        Returns
        -------
        pandas.DataFrame
        """
        return self.summary_frame(alpha, value, decimals)
