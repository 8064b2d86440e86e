"""Forecasting baselines that need no training loop.

Each has ``fit(data, steps)`` (``steps``: the training time range) and
``forecast(data, starts, window, horizon, delay=0) -> [S, H, N, F]``.

* :class:`LastValue`: the last observed value of each node in the input window.
* :class:`HistoricalAverage`: the training mean of each node at the same time of
  day (per node mean when the data has no timestamps).
* :class:`VAR`: a linear vector autoregression of order ``p`` over all nodes, fitted
  by ridge-regularised least squares on the training part, iterated for multi-step.
* :class:`LagBoost`: gradient-boosted trees (scikit-learn) on each node's lags, its
  neighbours' mean lags and the covariates, one model per step ahead: the
  feature-engineering peer every graph model has to beat.

:class:`LagBoost` fits on training windows (``fit(data, starts, window, horizon,
delay, val_starts)``), the others on a training time range.

>>> import numpy as np
>>> from graphbias.data.temporal import SpatioTemporalData
>>> data = SpatioTemporalData(np.arange(20.0).reshape(10, 2))
>>> LastValue().fit(data, (0, 7)).forecast(data, [0], 3, 2)[0, :, :, 0].tolist()
[[4.0, 5.0], [4.0, 5.0]]
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from .._validation import Integer, Real, check_scalar
from ..data.temporal import SpatioTemporalData, datetime_index

__all__ = ["LastValue", "HistoricalAverage", "VAR", "LagBoost", "neighbour_means"]


def _train_mean(data: SpatioTemporalData, steps: tuple[int, int]) -> np.ndarray:
    x, m = data.values[steps[0]:steps[1]], data.mask[steps[0]:steps[1]]
    return (x * m).sum(0) / np.maximum(m.sum(0), 1)


def _last_observed(x: np.ndarray, m: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """``[S, N, F]``: the last observed value of each window ``x`` ``[S, W, N, F]``
    (mask ``m``), ``fallback`` ``[N, F]`` where the window observes nothing."""
    last = np.broadcast_to(fallback, x.shape[:1] + x.shape[2:]).copy()
    for t in range(x.shape[1]):  # forward fill: later observations overwrite
        last = np.where(m[:, t], x[:, t], last)
    return last


def neighbour_means(data: SpatioTemporalData, steps: Any) -> np.ndarray:
    r"""``[len(steps), N, F]``: each node's weighted mean of its in-neighbours'
    observed values at each of ``steps``, :math:`\sum_u w_{uv} m_u x_u / \sum_u w_{uv}
    m_u` (NaN where no in-neighbour is observed), on the static graph or on each
    step's own graph.

    >>> import torch
    >>> from graphbias.data import Graph
    >>> g = Graph(torch.tensor([[0, 1], [2, 2]]), 3)      # 0 -> 2 and 1 -> 2
    >>> data = SpatioTemporalData(np.array([[1.0, 3.0, 0.0]]), graph=g)
    >>> neighbour_means(data, [0])[0, :, 0].tolist()
    [nan, nan, 2.0]
    """
    steps = np.asarray(steps, dtype=np.int64)
    xm = np.where(data.mask[steps], data.values[steps], 0)
    m = data.mask[steps].astype(xm.dtype)
    _, N, F = xm.shape

    def spread(a: sp.csr_matrix, v: np.ndarray) -> np.ndarray:  # [t, N, F] -> same
        return (a @ v.transpose(1, 0, 2).reshape(N, -1)).reshape(N, -1, F).transpose(1, 0, 2)

    if data.is_static:
        a = data.graph.to_scipy().T.tocsr()  # row v: the weights of edges u -> v
        num, den = spread(a, xm), spread(a, m)
    else:
        num, den = np.empty_like(xm), np.empty_like(xm)
        for i, t in enumerate(steps):
            a = data.graph[t].to_scipy().T.tocsr()
            num[i], den[i] = spread(a, xm[i:i + 1])[0], spread(a, m[i:i + 1])[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan).astype(xm.dtype)


class LastValue:
    r"""Repeats the last observed input value of each node (the training mean of the
    node when its window has no observation): :math:`\hat x_{t+h} = x_t`.

    Attributes
    ----------
    mean_ : ndarray of shape (N, F)
        Training mean of each node, the fallback.

    Examples
    --------
    >>> import numpy as np
    >>> from graphbias.data.temporal import SpatioTemporalData
    >>> data = SpatioTemporalData(np.arange(20.0).reshape(10, 2))
    >>> LastValue().fit(data, (0, 7)).forecast(data, [2], 3, 1)[0, 0, :, 0].tolist()
    [8.0, 9.0]
    """

    def fit(self, data: SpatioTemporalData, steps: tuple[int, int]) -> "LastValue":
        """Fits on the time steps ``steps = (start, stop)`` of ``data``.

        Parameters
        ----------
        data : SpatioTemporalData
            The series.
        steps : tuple of (int, int)
            The training time range ``[start, stop)``.

        Returns
        -------
        self
        """
        self.mean_ = _train_mean(data, steps)
        return self

    def forecast(self, data: SpatioTemporalData, starts: Any, window: int, horizon: int,
                 delay: int = 0) -> np.ndarray:
        """Forecasts of the windows at ``starts``.

        Parameters
        ----------
        data : SpatioTemporalData
            The series.
        starts : array-like of int
            Window starts; inputs are steps ``[s, s + window)``.
        window, horizon : int
            Input and forecast steps.
        delay : int, default=0
            Steps between the inputs and the first forecast step.

        Returns
        -------
        ndarray of shape (len(starts), horizon, N, F)
        """
        x, _, mx, _, _ = data.gather(starts, window, horizon, delay)
        last = _last_observed(x.numpy(), mx.numpy(), self.mean_)
        return np.repeat(last[:, None], horizon, 1)


class HistoricalAverage:
    """Training mean per node, and per time-of-day slot when the data has timestamps
    (a slot never seen in training falls back to the node's mean).

    Attributes
    ----------
    table_ : dict of int to ndarray of shape (N, F)
        Mean per time-of-day slot (minute of the day; one slot 0 without timestamps).
    fallback_ : ndarray of shape (N, F)
        Training mean of each node.

    Examples
    --------
    >>> import numpy as np
    >>> from graphbias.data.temporal import SpatioTemporalData
    >>> data = SpatioTemporalData(np.arange(20.0).reshape(10, 2))
    >>> HistoricalAverage().fit(data, (0, 4)).forecast(data, [0], 3, 1)[0, 0, :, 0].tolist()
    [3.0, 4.0]
    """

    def _slots(self, data: SpatioTemporalData) -> np.ndarray:
        if data.timestamps is None:
            return np.zeros(data.num_steps, np.int64)
        idx = datetime_index(data.timestamps)
        return (idx.hour * 60 + idx.minute).to_numpy().astype(np.int64)

    def fit(self, data: SpatioTemporalData, steps: tuple[int, int]) -> "HistoricalAverage":
        """Fits on the time steps ``steps = (start, stop)`` of ``data``.

        Parameters
        ----------
        data : SpatioTemporalData
            The series.
        steps : tuple of (int, int)
            The training time range ``[start, stop)``.

        Returns
        -------
        self
        """
        lo, hi = steps
        slots = self._slots(data)[lo:hi]
        x, m = data.values[lo:hi], data.mask[lo:hi]
        self.fallback_ = _train_mean(data, steps)
        self.table_ = {}
        for s in np.unique(slots):
            sel = slots == s
            cnt = m[sel].sum(0)
            mean = (x[sel] * m[sel]).sum(0) / np.maximum(cnt, 1)
            self.table_[int(s)] = np.where(cnt > 0, mean, self.fallback_)
        return self

    def forecast(self, data: SpatioTemporalData, starts: Any, window: int, horizon: int,
                 delay: int = 0) -> np.ndarray:
        """Forecasts of the windows at ``starts``.

        Parameters
        ----------
        data : SpatioTemporalData
            The series.
        starts : array-like of int
            Window starts; inputs are steps ``[s, s + window)``.
        window, horizon : int
            Input and forecast steps.
        delay : int, default=0
            Steps between the inputs and the first forecast step.

        Returns
        -------
        ndarray of shape (len(starts), horizon, N, F)
        """
        slots = self._slots(data)
        t = np.asarray(starts)[:, None] + window + delay + np.arange(horizon)
        return np.stack([np.stack([self.table_.get(int(s), self.fallback_) for s in row])
                         for row in slots[t]])


class VAR:
    r"""Vector autoregression VAR(p) over all nodes and features,

    .. math::

        z_t = \sum_{i=1}^{p} A_i z_{t-i},\qquad z_t = (x_t - \mu) / s,

    fitted by ridge regression (penalty ``alpha``) on the standardised training
    series and iterated for multi-step forecasts; missing entries are filled with
    the training mean.

    Parameters
    ----------
    p : int, default=3
        Lag order (>= 1).
    alpha : float, default=1.0
        Ridge penalty (>= 0).

    Attributes
    ----------
    coef_ : ndarray of shape (p * N * F, N * F)
        The stacked :math:`A_i^\top`, newest lag first.
    mean_, scale_ : ndarray of shape (N * F,)
        Training mean and standard deviation of each series.

    Examples
    --------
    >>> import numpy as np
    >>> from graphbias.data.temporal import SpatioTemporalData
    >>> x = np.cumsum(np.random.default_rng(0).normal(size=(200, 3)), 0)
    >>> data = SpatioTemporalData(x)
    >>> VAR(p=2).fit(data, (0, 150)).forecast(data, [150, 160], 4, 2).shape
    (2, 2, 3, 1)
    """

    def __init__(self, p: int = 3, alpha: float = 1.0) -> None:
        self.p, self.alpha = p, alpha

    def fit(self, data: SpatioTemporalData, steps: tuple[int, int]) -> "VAR":
        """Fits on the time steps ``steps = (start, stop)`` of ``data``.

        Parameters
        ----------
        data : SpatioTemporalData
            The series.
        steps : tuple of (int, int)
            The training time range ``[start, stop)``.

        Returns
        -------
        self
        """
        check_scalar("p", self.p, Integer(1), owner="VAR")
        check_scalar("alpha", self.alpha, Real(0), owner="VAR")
        lo, hi = steps
        if hi - lo <= self.p:
            raise ValueError(f"VAR({self.p}) needs more than {self.p} training steps")
        self.mean_ = _train_mean(data, steps).reshape(-1)
        x = self._filled(data)[lo:hi]
        self.scale_ = np.maximum(x.std(0), 1e-6)
        z = (x - self.mean_) / self.scale_
        X = np.concatenate([z[self.p - i - 1:len(z) - i - 1] for i in range(self.p)], 1)
        Y = z[self.p:]
        gram = X.T @ X + self.alpha * np.eye(X.shape[1])
        self.coef_ = np.linalg.solve(gram, X.T @ Y)
        return self

    def _filled(self, data: SpatioTemporalData) -> np.ndarray:
        T = data.num_steps
        return np.where(data.mask, data.values, self.mean_.reshape(data.values.shape[1:])
                        ).reshape(T, -1)

    def forecast(self, data: SpatioTemporalData, starts: Any, window: int, horizon: int,
                 delay: int = 0) -> np.ndarray:
        """Forecasts of the windows at ``starts``.

        Parameters
        ----------
        data : SpatioTemporalData
            The series.
        starts : array-like of int
            Window starts; inputs are steps ``[s, s + window)``.
        window, horizon : int
            Input and forecast steps.
        delay : int, default=0
            Steps between the inputs and the first forecast step.

        Returns
        -------
        ndarray of shape (len(starts), horizon, N, F)
        """
        if window < self.p:
            raise ValueError(f"VAR({self.p}) needs window >= {self.p}, got {window}")
        z = (self._filled(data) - self.mean_) / self.scale_
        s = np.asarray(starts)[:, None]
        hist = [z[s[:, 0] + window - 1 - i] for i in range(self.p)]  # newest first
        outs = []
        for _ in range(delay + horizon):
            nxt = np.concatenate(hist, 1) @ self.coef_
            hist = [nxt] + hist[:-1]
            outs.append(nxt)
        out = np.stack(outs[delay:], 1) * self.scale_ + self.mean_
        return out.reshape(out.shape[:2] + data.values.shape[1:])


class LagBoost:
    r"""Gradient-boosted regression trees on lag features, one model per step ahead
    and feature, pooled over the nodes (the direct multi-step strategy).

    Each row is one node of one window. Its features are the node's ``window``
    input values (every feature; NaN where missing), the weighted mean of its
    in-neighbours' observed inputs at each input step (:math:`\sum_u w_{uv} m_u x_u
    / \sum_u w_{uv} m_u`, NaN where no neighbour is observed; on that step's graph
    when the data has one per step; absent without a graph), the node's training mean and the covariates of the last input step.
    The target is the change from the node's last observed input (its training mean
    when the window observes nothing), so the trees learn corrections to the last
    value. Each step ahead ``h`` has its own
    :class:`~sklearn.ensemble.HistGradientBoostingRegressor` (absolute error, the
    forecast metric; missing values handled natively), early-stopped on the
    validation windows when there are any. Trees use as many threads as torch.

    Parameters
    ----------
    max_iter : int, default=500
        Boosting iterations at most (each step's model).
    learning_rate : float, default=0.1
        Shrinkage of each tree.
    max_rows : int, default=1_000_000
        Training rows (windows x nodes) at most: beyond that a random subset of the
        windows, drawn before their rows are built.
    random_state : int, optional
        Seed of that subset and of the trees (scikit-learn finds their bin edges
        on a random subset of 200,000 rows when there are more).

    Attributes
    ----------
    models_ : list of list of HistGradientBoostingRegressor
        ``models_[h][f]``: the model of step ``h + 1`` ahead and feature ``f``.
    mean_ : ndarray of shape (N, F)
        Training mean of each node.
    columns_ : ndarray of int
        The feature columns the trees read: those the training rows observe.
    uses_graph_ : bool
        Whether the rows hold neighbour features (the data of :meth:`forecast`
        then needs a graph: its own, or the one of ``fit``).

    Examples
    --------
    >>> import numpy as np
    >>> from graphbias.data.temporal import SpatioTemporalData
    >>> x = np.sin(np.arange(300.0) / 5)[:, None] * np.ones((1, 3))
    >>> data = SpatioTemporalData(x)
    >>> starts = data.window_starts(6, 2, steps=(0, 250))
    >>> f = LagBoost(max_iter=50).fit(data, starts, 6, 2)
    >>> pred = f.forecast(data, [270], 6, 2)
    >>> pred.shape, bool(np.abs(pred[0, :, :, 0] - x[276:278]).max() < 0.05)
    ((1, 2, 3, 1), True)
    """

    def __init__(self, max_iter: int = 500, learning_rate: float = 0.1,
                 max_rows: int = 1_000_000, random_state: Optional[int] = None) -> None:
        self.max_iter, self.learning_rate = max_iter, learning_rate
        self.max_rows, self.random_state = max_rows, random_state

    def _features(self, data: SpatioTemporalData, starts: Any, window: int
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``[S, N, D]`` of the windows at ``starts`` (NaN where missing) and the
        base ``[S, N, F]`` they correct (the last observed input, else the mean)."""
        if self.uses_graph_ and data.graph is None:
            raise ValueError("LagBoost was fitted on a graph: give the data one")
        s = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(window)
        x, m = data.values[s], data.mask[s]  # [S, W, N, F]
        S, W, N, F = x.shape
        own = np.where(m, x, np.nan)
        cols = [own.transpose(0, 2, 1, 3).reshape(S, N, W * F)]
        if self.uses_graph_:
            read, at = np.unique(s, return_inverse=True)  # each step once
            nb = neighbour_means(data, read)[at.reshape(s.shape)]  # [S, W, N, F]
            cols.append(nb.transpose(0, 2, 1, 3).reshape(S, N, W * F))
        cols.append(np.broadcast_to(self.mean_, (S, N, F)))
        cov = data.covariates_at(s[:, -1:])
        if cov is not None:
            cov = cov[:, 0].numpy()
            cols.append(np.broadcast_to(cov[:, None], (S, N, cov.shape[-1]))
                        if cov.ndim == 2 else cov)
        return np.concatenate(cols, -1).astype(np.float32), _last_observed(x, m, self.mean_)

    def _rows(self, data: SpatioTemporalData, starts: Any, window: int, horizon: int,
              delay: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        X, base = self._features(data, starts, window)
        _, y, _, my, _ = data.gather(starts, window, horizon, delay)
        S, N, D = X.shape
        return (X.reshape(S * N, D), base.reshape(S * N, -1),
                y.numpy().transpose(0, 2, 1, 3).reshape(S * N, horizon, -1),
                my.numpy().transpose(0, 2, 1, 3).reshape(S * N, horizon, -1))

    def fit(self, data: SpatioTemporalData, starts: Any, window: int, horizon: int,
            delay: int = 0, val_starts: Any = None) -> "LagBoost":
        """Fits on the windows at ``starts``.

        Parameters
        ----------
        data : SpatioTemporalData
            The series.
        starts : array-like of int
            Training window starts; inputs are steps ``[s, s + window)``.
        window, horizon : int
            Input and forecast steps.
        delay : int, default=0
            Steps between the inputs and the first forecast step.
        val_starts : array-like of int, optional
            Validation window starts: each model stops adding trees when their
            loss has not improved for 10 iterations. Without them each model
            grows ``max_iter`` trees.

        Returns
        -------
        self
        """
        check_scalar("max_iter", self.max_iter, Integer(1), owner="LagBoost")
        check_scalar("learning_rate", self.learning_rate, Real(0, closed="right"),
                     owner="LagBoost")
        check_scalar("max_rows", self.max_rows, Integer(1), owner="LagBoost")
        if len(starts) == 0:
            raise ValueError("LagBoost needs at least one training window")
        self.uses_graph_ = data.graph is not None
        starts = np.asarray(starts, dtype=np.int64)
        lo, hi = int(starts.min()), int(starts.max()) + window + delay + horizon
        self.mean_ = _train_mean(data, (lo, hi)).astype(np.float32)
        keep = max(1, self.max_rows // data.num_nodes)
        if len(starts) > keep:
            rng = np.random.default_rng(self.random_state)
            starts = np.sort(rng.choice(starts, keep, replace=False))
        X, base, y, my = self._rows(data, starts, window, horizon, delay)
        for h, f in zip(*np.nonzero(~my.any(0))):
            raise ValueError(f"no observed training target {h + 1} step(s) ahead of "
                             f"feature {f}")
        # a column no training row observes (a feature missing throughout) is dropped
        self.columns_ = np.flatnonzero(~np.isnan(X).all(0))
        X = X[:, self.columns_]
        val = None if val_starts is None or len(val_starts) == 0 else \
            self._rows(data, val_starts, window, horizon, delay)
        self.models_ = []
        with threadpool_limits(torch.get_num_threads(), user_api="openmp"):
            for h in range(horizon):
                models = []
                for f in range(base.shape[1]):
                    rows = np.flatnonzero(my[:, h, f])
                    extra = {}
                    if val is not None and val[3][:, h, f].any():
                        vr = val[3][:, h, f]
                        extra = dict(X_val=val[0][vr][:, self.columns_],
                                     y_val=(val[2][:, h, f] - val[1][:, f])[vr])
                    model = HistGradientBoostingRegressor(
                        loss="absolute_error", max_iter=self.max_iter,
                        learning_rate=self.learning_rate, early_stopping=bool(extra),
                        random_state=self.random_state)
                    models.append(model.fit(X[rows], y[rows, h, f] - base[rows, f], **extra))
                self.models_.append(models)
        self.window_, self.delay_ = window, delay
        return self

    def forecast(self, data: SpatioTemporalData, starts: Any, window: int, horizon: int,
                 delay: int = 0) -> np.ndarray:
        """Forecasts ``[len(starts), horizon, N, F]`` of the windows at ``starts``, as
        :meth:`LastValue.forecast`; ``window`` and ``delay`` must be those of
        :meth:`fit`, ``horizon`` at most its."""
        if window != self.window_ or delay != self.delay_ or horizon > len(self.models_):
            raise ValueError(
                f"LagBoost was fitted with window={self.window_}, delay={self.delay_} "
                f"and {len(self.models_)} steps ahead; got window={window}, "
                f"delay={delay}, horizon={horizon}")
        X, base = self._features(data, starts, window)
        S, N, D = X.shape
        X, base = X.reshape(S * N, D)[:, self.columns_], base.reshape(S * N, -1)
        with threadpool_limits(torch.get_num_threads(), user_api="openmp"):
            out = np.stack([np.stack([base[:, f] + m.predict(X) for f, m in enumerate(ms)], -1)
                            for ms in self.models_[:horizon]], 1)  # [S * N, H, F]
        return out.reshape(S, N, horizon, -1).transpose(0, 2, 1, 3).astype(data.values.dtype)
