"""Masked forecasting metrics, overall and per horizon step.

Arrays are ``[S, H, N, F]`` (windows, horizon steps, nodes, features); entries whose
mask is False (missing) are ignored. MAPE also ignores true values of 0.

>>> import numpy as np
>>> y = np.ones((2, 3, 4, 1)); p = y + 0.5; m = np.ones_like(y, bool)
>>> masked_mae(p, y, m), masked_mae(p, y, m, per_step=True).tolist()
(0.5, [0.5, 0.5, 0.5])
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

__all__ = ["masked_mae", "masked_rmse", "masked_mape", "forecast_metrics"]


def _reduce(err: np.ndarray, mask: np.ndarray, per_step: bool) -> Any:
    axes = (0, 2, 3) if per_step else None
    total = np.where(mask, err, 0.0).sum(axes)
    count = mask.sum(axes)
    out = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out if per_step else float(out)


def _args(pred: Any, true: Any, mask: Optional[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p, t = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    if p.shape != t.shape:
        raise ValueError(f"predictions {p.shape} and targets {t.shape} differ in shape")
    m = np.isfinite(t) if mask is None else np.asarray(mask, bool) & np.isfinite(t)
    return p, np.nan_to_num(t), m


def masked_mae(pred: Any, true: Any, mask: Optional[Any] = None, per_step: bool = False) -> Any:
    r"""Mean absolute error over observed entries,
    :math:`\frac{1}{|M|}\sum_{M} |\hat y - y|`.

    Parameters
    ----------
    pred, true : array-like of shape (S, H, N, F)
        Forecasts and targets (any common shape).
    mask : array-like of bool, optional
        ``True`` where the target is observed (default: where it is finite).
    per_step : bool, default=False
        One value per horizon step (axis 1) instead of one overall.

    Returns
    -------
    float or ndarray of shape (H,)
        NaN where no target is observed.

    Examples
    --------
    >>> import numpy as np
    >>> masked_mae([[1.0, 5.0]], [[2.0, 0.0]], mask=[[True, False]])
    1.0
    """
    p, t, m = _args(pred, true, mask)
    return _reduce(np.abs(p - t), m, per_step)


def masked_rmse(pred: Any, true: Any, mask: Optional[Any] = None, per_step: bool = False) -> Any:
    r"""Root mean squared error over observed entries,
    :math:`\sqrt{\frac{1}{|M|}\sum_{M} (\hat y - y)^2}`.

    Parameters
    ----------
    pred, true : array-like of shape (S, H, N, F)
        Forecasts and targets (any common shape).
    mask : array-like of bool, optional
        ``True`` where the target is observed (default: where it is finite).
    per_step : bool, default=False
        One value per horizon step (axis 1) instead of one overall.

    Returns
    -------
    float or ndarray of shape (H,)
        NaN where no target is observed.

    Examples
    --------
    >>> float(masked_rmse([[3.0, 0.0]], [[0.0, 4.0]]))
    3.5355339059327378
    """
    p, t, m = _args(pred, true, mask)
    return np.sqrt(_reduce((p - t) ** 2, m, per_step))


def masked_mape(pred: Any, true: Any, mask: Optional[Any] = None, per_step: bool = False) -> Any:
    r"""Mean absolute percentage error (in %) over observed, non-zero targets,
    :math:`\frac{100}{|M|}\sum_{M} |\hat y - y| / |y|`.

    Parameters
    ----------
    pred, true : array-like of shape (S, H, N, F)
        Forecasts and targets (any common shape).
    mask : array-like of bool, optional
        ``True`` where the target is observed (default: where it is finite).
    per_step : bool, default=False
        One value per horizon step (axis 1) instead of one overall.

    Returns
    -------
    float or ndarray of shape (H,)
        NaN where no target is observed.

    Examples
    --------
    >>> float(masked_mape([[1.5, 1.0]], [[1.0, 0.0]]))   # the zero target is skipped
    50.0
    """
    p, t, m = _args(pred, true, mask)
    m = m & (t != 0)
    return 100.0 * _reduce(np.abs(p - t) / np.where(t != 0, np.abs(t), 1.0), m, per_step)


def forecast_metrics(pred: Any, true: Any, mask: Optional[Any] = None) -> dict[str, np.ndarray]:
    """Masked MAE, RMSE and MAPE per horizon step.

    Parameters
    ----------
    pred, true : array-like of shape (S, H, N, F)
        Forecasts and targets.
    mask : array-like of bool, optional
        ``True`` where the target is observed (default: where it is finite).

    Returns
    -------
    dict of str to ndarray of shape (H,)
        ``"mae"``, ``"rmse"`` and ``"mape"`` (in %).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.ones((2, 3, 4, 1))
    >>> forecast_metrics(y + 0.5, y)["mae"].tolist()
    [0.5, 0.5, 0.5]
    """
    return {"mae": masked_mae(pred, true, mask, True), "rmse": masked_rmse(pred, true, mask, True),
            "mape": masked_mape(pred, true, mask, True)}
