"""``graphbias bench --suite forecast``: GP-VAR (known one-step optimum) and Los-loop.

GP-VAR cells (20,000 steps, one series per shift; seeds vary the models) report the
one-step test MAE next to the optimum (the MAE of the stored noise-free prediction
on the same windows, and its analytic expectation ``sigma * sqrt(2 / pi)``). Dataset
``"gpvar"`` is tsl's GP-VAR (shift :math:`A + I`, unnormalised), ``"gpvar-gcn"`` the
GCN-normalised shift. Each graph model runs with both graph operators, named
``"MODEL:none"`` (:math:`A + I`) and ``"MODEL:gcn"``: one matches the shift of the
series, the other does not. ``"gpvar-dynamic"`` redraws the graph at every step
(each edge kept with probability 0.7, each lag spread over its own step's graph;
:func:`~graphbias.data.synthetic.gpvar.gpvar` with ``period=1``): ``"MODEL:none"``
reads the last input step's graph, ``"MODEL:none:each"`` every step's
(``graph_steps="each"``), ``"MODEL:none:static"`` the static graph the steps' graphs
are drawn from, and ``"gwnet:none:each:input"`` adds Graph WaveNet's per-step input
convolution (``input_hops=2``), which reaches the steps its dilations skip.
``"gpvar-driven"`` adds an input known in advance
(:data:`GPVAR_DRIVE`, the data's node covariate): a method named with ``":future"``
reads the target step's input (``future_covariates=True``), the others only those of
the input steps, which foretell nothing.
Los-loop cells (when ``root`` holds ``traffic/``) follow :data:`LOS_PROTOCOL`: a
chronological 70/10/20 split, 12 steps in and out, training to convergence (at most
100 epochs, early stopping on the validation MAE with patience 10, learning rate
halved after 5 epochs without improvement); they report the test MAE / RMSE / MAPE
at 3, 6 and 12 steps ahead (15, 30, 60 minutes). Every model reads the time-of-day
and day-of-week covariates of the series.
"""
from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch

from ..data.datasets import load_los_loop
from ..data.synthetic.gpvar import gpvar, optimal_mae, triangle_communities
from ..data.temporal import SpatioTemporalData
from ..forecast import STGNNForecaster
from .suites import Cell

__all__ = ["suite", "traffic_root", "LOS_PROTOCOL", "los_protocol", "los_metrics", "step_metrics",
           "GPVAR_SHIFTS", "MATCHED_NORMALIZATION", "GPVAR_DYNAMIC", "GPVAR_DRIVE"]

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


#: GP-VAR datasets of the suite and the shift each is generated with
GPVAR_SHIFTS = {"gpvar": "adjacency", "gpvar-gcn": "gcn"}
#: the graph operator (``normalization``) matching each shift
MATCHED_NORMALIZATION = {"adjacency": "none", "gcn": "gcn"}
#: the time-varying GP-VAR: tsl's shift, a graph redrawn at every step
GPVAR_DYNAMIC = dict(shift="adjacency", period=1, keep=0.7)
#: the driven GP-VAR: tsl's GP-VAR plus an input known in advance, pushed through
#: :math:`-u_t + (A + I) u_t = A u_t`: each node feels its neighbours' inputs only
GPVAR_DRIVE = dict(shift="adjacency", drive=(-1.0, 1.0))
#: method flags after the model (and its normalisation): which graphs it reads,
#: whether it reads the target step's covariates, whether Graph WaveNet diffuses
#: every input step on its own graph (``input_hops=k``), ``k0``: no hops of the
#: given graph (AGCRN as in the paper, on its learned adjacency alone), and ``mlp``:
#: DCRNN with an MLP readout instead of its decoder RNN (``decoder="mlp"``)
VARIANTS = ("each", "static", "future", "input", "k0", "mlp")
#: AGCRN cells on tsl's GP-VAR: on the matched operator, and the paper's model
AGCRN_METHODS = ("agcrn:none", "agcrn:k0")
#: DCRNN with an MLP readout on tsl's GP-VAR, on the matched operator
DCRNN_MLP_METHOD = "dcrnn:none:mlp"


def _parse(method: str) -> tuple[str, str, set[str]]:
    """``"MODEL[:NORMALIZATION][:FLAG...]"`` as (model, normalisation, flags)."""
    model, *rest = method.split(":")
    flags = {t for t in rest if t in VARIANTS}
    norms = [t for t in rest if t not in VARIANTS]
    return model, norms[0] if norms else "", flags


def _gpvar_cell(method: str, seed: int, get: Callable[[], Any], quick: bool) -> Callable[[], dict]:
    window = 6
    model, normalization, flags = _parse(method)

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
                  lr=0.01 if quick else 0.005, batch_size=64 if quick else 128,
                  k=0 if "k0" in flags else 2,
                  normalization=normalization or "random_walk",
                  graph_steps="each" if "each" in flags else "last",
                  input_hops=2 if "input" in flags else 0,
                  decoder="mlp" if "mlp" in flags else "rnn")
        if "static" in flags:
            data = SpatioTemporalData(data.values, triangle_communities(),
                                      node_covariates=data.node_covariates)
        f, secs = _fit(model, data, seed, window, 1, future_covariates="future" in flags, **kw)
        return {"test_mae": -f.score(data), "optimal_mae": optimal_mae(GPVAR_SIGMA),
                "epochs": f.n_epochs_, "seconds": secs}
    return run


#: the Los-loop protocol: chronological 70/10/20 split, 12 steps in and out, trained
#: to convergence (early stopping on the validation MAE, learning rate halved on
#: plateaus)
LOS_PROTOCOL: dict[str, Any] = dict(window=12, horizon=12, hidden_channels=32, lr=0.005,
                                    batch_size=64, max_epochs=100, patience=10,
                                    lr_patience=5, validation_fraction=0.1,
                                    test_fraction=0.2)
#: horizon steps reported (15, 30 and 60 minutes)
LOS_STEPS = (3, 6, 12)


def los_protocol(quick: bool = False) -> dict[str, Any]:
    """Keyword arguments of every Los-loop forecaster (ours and peers alike).

    Parameters
    ----------
    quick : bool, default=False
        One epoch of a small model on every 8th window (tests, smoke runs).

    Returns
    -------
    dict
        ``STGNNForecaster`` keyword arguments (``window`` and ``horizon`` included).

    Examples
    --------
    >>> los_protocol()["max_epochs"], los_protocol(quick=True)["max_epochs"]
    (100, 1)
    """
    kw = dict(LOS_PROTOCOL)
    if quick:
        kw.update(hidden_channels=8, stride=8, max_epochs=1)
    return kw


def los_metrics(f: STGNNForecaster, data: Any) -> dict[str, float]:
    """Test MAE / RMSE / MAPE at 3, 6 and 12 steps ahead, the epochs run and the
    epoch whose weights were kept.

    Parameters
    ----------
    f : STGNNForecaster
        A forecaster fitted on ``data``.
    data : SpatioTemporalData
        The series.

    Returns
    -------
    dict of str to float
        ``"mae@3"``, ``"rmse@3"``, ``"mape@3"``, ... and ``"epochs"``,
        ``"best_epoch"`` (``-1`` for the training-free baselines).

    Examples
    --------
    >>> from graphbias.data.synthetic.gpvar import gpvar
    >>> data, _ = gpvar(300, seed=0)
    >>> f = STGNNForecaster("last", window=12, horizon=12).fit(data)
    >>> sorted(los_metrics(f, data))[:4]
    ['best_epoch', 'epochs', 'mae@12', 'mae@3']
    """
    return {"epochs": f.n_epochs_,
            "best_epoch": -1 if f.best_epoch_ is None else f.best_epoch_,
            **step_metrics(f.evaluate(data, "test"))}


def step_metrics(m: dict[str, Any], steps: Sequence[int] = LOS_STEPS) -> dict[str, float]:
    """``"mae@3"``, ``"rmse@3"``, ``"mape@3"``, ...: the per-step metrics of an
    ``evaluate`` (:func:`~graphbias.forecast.forecast_metrics`) at each of ``steps``
    ahead.

    Examples
    --------
    >>> import numpy as np
    >>> m = {k: np.arange(1.0, 13.0) for k in ("mae", "rmse", "mape")}
    >>> step_metrics(m, [3])
    {'mae@3': 3.0, 'rmse@3': 3.0, 'mape@3': 3.0}
    """
    return {f"{name}@{step}": float(m[name][step - 1])
            for step in steps for name in ("mae", "rmse", "mape")}


def _los_cell(method: str, seed: int, get: Callable[[], Any], quick: bool) -> Callable[[], dict]:
    def run() -> dict[str, Any]:
        data = get()
        kw = los_protocol(quick)
        f, secs = _fit(method, data, seed, kw.pop("window"), kw.pop("horizon"), **kw)
        return {"seconds": secs, **los_metrics(f, data)}
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
    >>> sorted(c.method for c in cells if c.dataset == "gpvar")
    ['gru', 'last', 'optimal', 'tts:gcn', 'tts:none']
    >>> sorted({c.dataset for c in cells})
    ['gpvar', 'gpvar-driven', 'gpvar-dynamic', 'gpvar-gcn']
    """
    cells = []
    steps = 1500 if quick else GPVAR_STEPS
    graph_models = ("tts",) if quick else ("dcrnn", "gwnet", "tts")
    gp_methods = (*(f"{m}:{n}" for m in graph_models for n in ("none", "gcn")), "gru",
                  *(() if quick else ("var", "gbm")), "last", "optimal")
    for dataset, shift in GPVAR_SHIFTS.items():
        get_gpvar = functools.cache(
            lambda shift=shift: gpvar(steps, sigma=GPVAR_SIGMA, shift=shift, seed=0))
        extra = (*AGCRN_METHODS, DCRNN_MLP_METHOD) if dataset == "gpvar" and not quick \
            else ()
        for seed in range(seeds):
            for method in (*gp_methods, *extra):
                cells.append(Cell("forecast", dataset, method, seed,
                                  _gpvar_cell(method, seed, get_gpvar, quick)))
    get_dynamic = functools.cache(
        lambda: gpvar(steps, sigma=GPVAR_SIGMA, seed=0, **GPVAR_DYNAMIC))
    dynamic_methods = ("tts:none", "dcrnn:none:each", "gru", "last", "optimal") if quick \
        else ("dcrnn:none", "dcrnn:none:each", "gwnet:none", "gwnet:none:each",
              "gwnet:none:each:input", "tts:none", "tts:none:static", "gru", "gbm", "last",
              "optimal")
    for seed in range(seeds):
        for method in dynamic_methods:
            cells.append(Cell("forecast", "gpvar-dynamic", method, seed,
                              _gpvar_cell(method, seed, get_dynamic, quick)))
    get_driven = functools.cache(lambda: gpvar(steps, sigma=GPVAR_SIGMA, seed=0, **GPVAR_DRIVE))
    driven_methods = ("tts:none:future", "tts:none", "gru:future", "last", "optimal") if quick \
        else (*(f"{m}:none{v}" for m in ("dcrnn", "gwnet", "tts") for v in (":future", "")),
              "gru:future", "gru", "last", "optimal")
    for seed in range(seeds):
        for method in driven_methods:
            cells.append(Cell("forecast", "gpvar-driven", method, seed,
                              _gpvar_cell(method, seed, get_driven, quick)))
    troot = traffic_root(root)
    if troot is not None:
        get_los = functools.cache(lambda: load_los_loop(troot))
        los_methods = ("tts", "last", "ha") if quick else (
            "dcrnn", "gwnet", "tts", "gru", "last", "ha", "var", "gbm")
        for seed in range(seeds):
            for method in los_methods:
                cells.append(Cell("forecast", "los-loop", method, seed,
                                  _los_cell(method, seed, get_los, quick)))
    return cells
