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
    """Mean absolute error over observed entries (per horizon step with ``per_step``)."""
    p, t, m = _args(pred, true, mask)
    return _reduce(np.abs(p - t), m, per_step)


def masked_rmse(pred: Any, true: Any, mask: Optional[Any] = None, per_step: bool = False) -> Any:
    """Root mean squared error over observed entries."""
    p, t, m = _args(pred, true, mask)
    return np.sqrt(_reduce((p - t) ** 2, m, per_step))


def masked_mape(pred: Any, true: Any, mask: Optional[Any] = None, per_step: bool = False) -> Any:
    """Mean absolute percentage error (in %) over observed, non-zero targets."""
    p, t, m = _args(pred, true, mask)
    m = m & (t != 0)
    return 100.0 * _reduce(np.abs(p - t) / np.where(t != 0, np.abs(t), 1.0), m, per_step)


def forecast_metrics(pred: Any, true: Any, mask: Optional[Any] = None) -> dict[str, np.ndarray]:
    """``{"mae", "rmse", "mape"}`` per horizon step (arrays of length H)."""
    return {"mae": masked_mae(pred, true, mask, True), "rmse": masked_rmse(pred, true, mask, True),
            "mape": masked_mape(pred, true, mask, True)}
