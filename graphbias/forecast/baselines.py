"""Forecasting baselines that need no training loop.

Each has ``fit(data, steps)`` (``steps``: the training time range) and
``forecast(data, starts, window, horizon, delay=0) -> [S, H, N, F]``.

* :class:`LastValue`: the last observed value of each node in the input window.
* :class:`HistoricalAverage`: the training mean of each node at the same time of
  day (per node mean when the data has no timestamps).
* :class:`VAR`: a linear vector autoregression of order ``p`` over all nodes, fitted
  by ridge-regularised least squares on the training part, iterated for multi-step.

>>> import numpy as np
>>> from graphbias.data.temporal import SpatioTemporalData
>>> data = SpatioTemporalData(np.arange(20.0).reshape(10, 2))
>>> LastValue().fit(data, (0, 7)).forecast(data, [0], 3, 2)[0, :, :, 0].tolist()
[[4.0, 5.0], [4.0, 5.0]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import Integer, Real, check_scalar
from ..data.temporal import SpatioTemporalData, datetime_index

__all__ = ["LastValue", "HistoricalAverage", "VAR"]


def _train_mean(data: SpatioTemporalData, steps: tuple[int, int]) -> np.ndarray:
    x, m = data.values[steps[0]:steps[1]], data.mask[steps[0]:steps[1]]
    return (x * m).sum(0) / np.maximum(m.sum(0), 1)


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
        x, mx = x.numpy(), mx.numpy()
        last = np.broadcast_to(self.mean_, x.shape[:1] + x.shape[2:]).copy()
        for t in range(window):  # forward fill: later observations overwrite
            last = np.where(mx[:, t], x[:, t], last)
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
