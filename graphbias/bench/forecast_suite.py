"""``graphbias bench --suite forecast``: GP-VAR (known one-step optimum) and Los-loop.

GP-VAR cells (20,000 steps, one series; seeds vary the models) report the one-step
test MAE next to the optimum (the MAE of the stored noise-free prediction on the
same windows, and its analytic expectation ``sigma * sqrt(2 / pi)``). The graph
models use ``normalization="gcn"``, the shift the series is generated with.
Los-loop cells (when ``root`` holds ``traffic/``) use a chronological 70/10/20
split, 12 steps in and report the test MAE / RMSE / MAPE at 3, 6 and 12 steps ahead
(15, 30, 60 minutes).
"""
from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch

from ..data.datasets import load_los_loop
from ..data.synthetic.gpvar import gpvar, optimal_mae
from ..forecast import STGNNForecaster
from .suites import Cell

__all__ = ["suite", "traffic_root"]

GPVAR_SIGMA = 0.4
GPVAR_STEPS = 20000


def traffic_root(root: Optional[Path]) -> Optional[Path]:
    """The folder holding ``traffic/los_speed.csv``: ``root`` or its parent (so both
    ``../shared/data`` and ``../shared/data/traffic`` work), or None.

    Parameters
    ----------
    root : path or None
        A data root or its ``traffic`` folder.

    Returns
    -------
    Path or None

    Examples
    --------
    >>> traffic_root(None) is None
    True
    """
    if root is None:
        return None
    for cand in (Path(root), Path(root).parent):
        if (cand / "traffic" / "los_speed.csv").is_file():
            return cand
    return None


def _fit(method: str, data: Any, seed: int, window: int, horizon: int,
         **kw: Any) -> tuple[STGNNForecaster, float]:
    torch.set_num_threads(1)
    start = time.perf_counter()
    f = STGNNForecaster(method, window, horizon, random_state=seed, **kw).fit(data)
    return f, time.perf_counter() - start


def _gpvar_cell(method: str, seed: int, get: Callable[[], Any], quick: bool) -> Callable[[], dict]:
    window = 6

    def run() -> dict[str, Any]:
        data, clean = get()
        if method == "optimal":
            f, secs = _fit("last", data, seed, window, 1)
            starts = f.split_windows(data).test
            t = starts + window
            err = np.abs(clean[t] - data.values[t]).mean()
            return {"test_mae": float(err), "optimal_mae": optimal_mae(GPVAR_SIGMA),
                    "seconds": secs}
        kw = dict(hidden_channels=16 if quick else 32, max_epochs=6 if quick else 80,
                  patience=5 if quick else 10, lr_patience=None if quick else 5,
                  lr=0.01 if quick else 0.005, batch_size=64 if quick else 128, k=2,
                  normalization="gcn")
        f, secs = _fit(method, data, seed, window, 1, **kw)
        return {"test_mae": -f.score(data), "optimal_mae": optimal_mae(GPVAR_SIGMA),
                "epochs": f.n_epochs_, "seconds": secs}
    return run


def _los_cell(method: str, seed: int, get: Callable[[], Any], quick: bool) -> Callable[[], dict]:
    def run() -> dict[str, Any]:
        data = get()
        kw: dict[str, Any] = dict(hidden_channels=32, max_epochs=1 if quick else 8,
                                  patience=3, lr=0.005, batch_size=64,
                                  validation_fraction=0.1, test_fraction=0.2)
        if quick:
            kw.update(hidden_channels=8, stride=8)
        f, secs = _fit(method, data, seed, 12, 12, **kw)
        m = f.evaluate(data, "test")
        out: dict[str, Any] = {"seconds": secs, "epochs": f.n_epochs_}
        for step in (3, 6, 12):
            for name in ("mae", "rmse", "mape"):
                out[f"{name}@{step}"] = float(m[name][step - 1])
        return out
    return run


def suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    """GP-VAR cells always; Los-loop cells when ``root`` (or its parent) holds
    ``traffic/los_speed.csv`` and ``los_adj.csv``.

    Parameters
    ----------
    root : path or None
        The data root (see :func:`traffic_root`).
    seeds : int
        Cells per method, seeds ``0 .. seeds - 1``.
    quick : bool
        A short GP-VAR series, small models and few epochs (tests, smoke runs).

    Returns
    -------
    list of Cell
        Each cell's ``run()`` returns its metrics (``test_mae`` is the MAE itself,
        lower is better).

    Examples
    --------
    >>> cells = suite(None, seeds=1, quick=True)
    >>> sorted(c.method for c in cells)
    ['gru', 'last', 'optimal', 'tts']
    """
    cells = []
    steps = 1500 if quick else GPVAR_STEPS
    get_gpvar = functools.cache(lambda: gpvar(steps, sigma=GPVAR_SIGMA, seed=0))
    gp_methods = ("tts", "gru", "last", "optimal") if quick else (
        "dcrnn", "gwnet", "tts", "gru", "var", "last", "optimal")
    for seed in range(seeds):
        for method in gp_methods:
            cells.append(Cell("forecast", "gpvar", method, seed,
                              _gpvar_cell(method, seed, get_gpvar, quick)))
    troot = traffic_root(root)
    if troot is not None:
        get_los = functools.cache(lambda: load_los_loop(troot))
        los_methods = ("tts", "last", "ha") if quick else (
            "dcrnn", "gwnet", "tts", "gru", "last", "ha", "var")
        for seed in range(seeds):
            for method in los_methods:
                cells.append(Cell("forecast", "los-loop", method, seed,
                                  _los_cell(method, seed, get_los, quick)))
    return cells
