"""The weighted average of several forecasters, as one estimator."""
from __future__ import annotations

import time
from typing import Any, Optional

import numpy as np
import torch
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from .._validation import Instance, Integer, Options
from ..base import EstimatorMixin
from .estimator import STGNNForecaster, _check_no_target
from .metrics import forecast_metrics, masked_mae

__all__ = ["ForecastEnsemble"]

#: the parameters that fix which windows a forecaster predicts and how they split:
#: every member of an ensemble must agree on them
WINDOWING = ("window", "horizon", "delay", "stride", "validation_fraction", "test_fraction")


class ForecastEnsemble(EstimatorMixin, BaseEstimator):
    r"""Several forecasters fitted on the same series, their forecasts averaged.

    .. math::
        \hat x_{t+h} = \sum_{m=1}^{M} w_{m,h}\, \hat x^{(m)}_{t+h},
        \qquad \sum_m w_{m,h} = 1,\ w_{m,h} \ge 0,

    for every step ahead :math:`h`. Models that err differently (a time-then-space
    GRU and an AGCRN on a learned adjacency, say) make an average better than each
    of them; several seeds of one model make a deep ensemble. Each member is cloned
    and fitted as it would be alone (its own early stopping on the validation
    windows); the members must agree on the windowing (``window``, ``horizon``,
    ``delay``, ``stride``, ``validation_fraction``, ``test_fraction``), so that they
    forecast the same windows and are judged on the same split.

    Parameters
    ----------
    forecasters : list of STGNNForecaster or of (name, STGNNForecaster) pairs
        The members, unfitted (they are cloned); names default to ``model`` with a
        count where one repeats (``"tts"``, ``"tts-2"``).
    weights : array-like of shape (M,) or (M, horizon), optional
        Non-negative weights of the M members, the same at every step ahead or one
        column per step; each column is normalised to sum to 1. Default: equal
        weights.
    n_jobs : int, optional
        Members fitted at once, each in its own process with an equal share of
        torch's threads (``-1``: one process per CPU); default one after the other
        in this process. The fitted members are the same either way, up to the
        rounding of torch's threaded sums.

    Attributes
    ----------
    forecasters_ : list of STGNNForecaster
        The fitted members.
    names_ : list of str
        Their names.
    weights_ : ndarray of shape (M, horizon)
        The normalised weights.
    seconds_ : list of float
        Wall seconds of each member's fit.

    Examples
    --------
    >>> from graphbias.data.synthetic.gpvar import gpvar
    >>> data, _ = gpvar(300, seed=0)
    >>> ens = ForecastEnsemble([STGNNForecaster("var", window=4, horizon=2),
    ...                         STGNNForecaster("last", window=4, horizon=2)]).fit(data)
    >>> ens.names_, ens.predict(data).shape
    (['var', 'last'], (2, 30, 1))
    >>> bool(ens.score(data) < 0)
    True
    """

    _parameter_constraints = {
        "forecasters": [Instance(list, tuple, name="a list of forecasters")],
        "weights": [None, Instance(list, tuple, np.ndarray, name="an array of weights")],
        "n_jobs": [None, Integer(1), Options(-1)],
    }

    def __init__(self, forecasters: Any, weights: Any = None,
                 n_jobs: Optional[int] = None) -> None:
        self.forecasters = forecasters
        self.weights = weights
        self.n_jobs = n_jobs

    # -------------------------------------------------------------------- fit
    def _members(self) -> tuple[list[str], list[STGNNForecaster]]:
        if not self.forecasters:
            raise ValueError("ForecastEnsemble: forecasters must hold at least one "
                             "forecaster")
        names, members = [], []
        for i, item in enumerate(self.forecasters):
            name, f = item if isinstance(item, tuple) and len(item) == 2 else (None, item)
            if not isinstance(f, STGNNForecaster):
                raise ValueError(f"ForecastEnsemble: forecasters[{i}] must be an "
                                 "STGNNForecaster or a (name, STGNNForecaster) pair, got "
                                 f"{type(item).__name__}")
            if name is not None and not isinstance(name, str):
                raise ValueError(f"ForecastEnsemble: the name of forecasters[{i}] must "
                                 f"be a str, got {type(name).__name__}")
            names.append(name)
            members.append(f)
        first = members[0].get_params()
        for i, f in enumerate(members[1:], 1):
            params = f.get_params()
            differ = [k for k in WINDOWING if params[k] != first[k]]
            if differ:
                raise ValueError(
                    "ForecastEnsemble: every forecaster must window the series alike; "
                    f"forecasters[{i}] differs from forecasters[0] in " +
                    ", ".join(f"{k} ({params[k]!r} against {first[k]!r})" for k in differ))
        return _unique_names(names, [f.model for f in members]), members

    def _weights(self, n_members: int, horizon: int) -> np.ndarray:
        if self.weights is None:
            return np.full((n_members, horizon), 1.0 / n_members)
        try:
            w = np.asarray(self.weights, dtype=float)
        except (TypeError, ValueError):
            raise ValueError("ForecastEnsemble: weights must be numbers") from None
        if w.ndim == 1:
            w = np.repeat(w[:, None], horizon, axis=1)
        if w.shape != (n_members, horizon):
            raise ValueError(f"ForecastEnsemble: weights must have shape ({n_members},) or "
                             f"({n_members}, {horizon}) for {n_members} forecasters and "
                             f"horizon {horizon}, got {np.shape(self.weights)}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("ForecastEnsemble: weights must be finite and non-negative")
        total = w.sum(axis=0)
        if (total == 0).any():
            raise ValueError("ForecastEnsemble: the weights of step(s) ahead "
                             f"{(np.flatnonzero(total == 0) + 1).tolist()} are all zero")
        return w / total

    def fit(self, data: Any, y: None = None, *, graph: Any = None) -> "ForecastEnsemble":
        """Fits a clone of every forecaster on ``data``.

        Parameters
        ----------
        data : SpatioTemporalData or array-like of shape (T, N) or (T, N, F)
            The series, as :meth:`STGNNForecaster.fit` takes it.
        y : None
            Unused: the targets are the series' own future steps.
        graph : graph-like, optional
            The graph, with plain arrays.

        Returns
        -------
        ForecastEnsemble
        """
        p = self._begin_fit()
        _check_no_target(y, "ForecastEnsemble")
        names, members = self._members()
        weights = self._weights(len(members), members[0].get_params()["horizon"])
        if p.n_jobs is None or p.n_jobs == 1:
            done = [_fit_member(clone(f), data, graph) for f in members]
        else:
            jobs = min(len(members), effective_n_jobs(p.n_jobs))
            threads = max(1, torch.get_num_threads() // jobs)
            done = Parallel(n_jobs=jobs)(delayed(_fit_member)(clone(f), data, graph, threads)
                                         for f in members)
        self.forecasters_ = [f for f, _ in done]
        self.seconds_ = [secs for _, secs in done]
        self.names_, self.weights_ = names, weights
        return self

    # ---------------------------------------------------------------- predict
    def _combine(self, forecasts: list[np.ndarray], step_axis: int) -> np.ndarray:
        """The weighted sum of the members' forecasts, whose axis ``step_axis``
        runs over the steps ahead."""
        shape = [1] * forecasts[0].ndim
        shape[step_axis] = -1
        return sum(w.reshape(shape) * f for w, f in zip(self.weights_, forecasts))

    def predict(self, data: Any, *, graph: Any = None, covariates: Any = None,
                node_covariates: Any = None) -> np.ndarray:
        """The weighted average of the members' :meth:`STGNNForecaster.predict`.

        Returns
        -------
        ndarray of shape (horizon, N, F)
        """
        check_is_fitted(self, "forecasters_")
        return self._combine([f.predict(data, graph=graph, covariates=covariates,
                                        node_covariates=node_covariates)
                              for f in self.forecasters_], 0)

    def predict_windows(self, data: Any, starts: Any, *, graph: Any = None) -> np.ndarray:
        """The weighted average of the members' forecasts of the windows at
        ``starts`` (:meth:`STGNNForecaster.predict_windows`).

        Returns
        -------
        ndarray of shape (len(starts), horizon, N, F)
        """
        check_is_fitted(self, "forecasters_")
        return self._combine([f.predict_windows(data, starts, graph=graph)
                              for f in self.forecasters_], 1)

    def split_windows(self, data: Any) -> Any:
        """The split of :meth:`STGNNForecaster.split_windows`, which every member
        shares."""
        source = self.forecasters_[0] if hasattr(self, "forecasters_") else \
            self._members()[1][0]
        return source.split_windows(data)

    def _truth(self, data: Any, graph: Any, part: str
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The forecasts, targets and target mask of the windows of ``part``."""
        first = self.forecasters_[0]
        d = first._data(data, graph)
        starts = first._starts(d, part)
        return (self.predict_windows(d, starts), *first._targets(d, starts))

    def evaluate(self, data: Any, part: str = "test", *, graph: Any = None
                 ) -> dict[str, np.ndarray]:
        """Masked MAE / RMSE / MAPE per step ahead of the averaged forecasts over the
        windows of ``part`` (see :meth:`STGNNForecaster.evaluate`).

        Returns
        -------
        dict of str to ndarray of shape (horizon,)
        """
        check_is_fitted(self, "forecasters_")
        return forecast_metrics(*self._truth(data, graph, part))

    def score(self, data: Any, y: None = None, *, graph: Any = None,
              part: str = "test") -> float:
        """The **negated** masked MAE of the averaged forecasts over the windows of
        ``part``: greater is better.

        Returns
        -------
        float
        """
        check_is_fitted(self, "forecasters_")
        _check_no_target(y, "ForecastEnsemble")
        return -masked_mae(*self._truth(data, graph, part))


def _fit_member(f: STGNNForecaster, data: Any, graph: Any, threads: Optional[int] = None
                ) -> tuple[STGNNForecaster, float]:
    """``f`` fitted, and the wall seconds it took (with ``threads`` torch threads
    when given: a worker process's share)."""
    if threads is not None:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    f.fit(data, graph=graph)
    return f, time.perf_counter() - start


def _unique_names(given: list[Optional[str]], models: list[str]) -> list[str]:
    """The given names, else the model names numbered from their second use;
    a repeated given name is an error."""
    names: list[str] = []
    for name, model in zip(given, models):
        if name is None:
            name, count = model, 1
            while name in names or name in given:
                count += 1
                name = f"{model}-{count}"
        elif name in names:
            raise ValueError(f"ForecastEnsemble: the name {name!r} is given twice")
        names.append(name)
    return names
