"""Progressive (test-then-train) evaluation through River, plus what River lacks.

:func:`evaluate_stream` runs ``river.evaluate.iter_progressive_val_score``: each
instance is first predicted, then learned (the first prediction, ``{}`` before any
learning, is not scored, as in River). The scores are River's multi-output metrics
(:func:`multilabel_metrics`):

- subset accuracy: ``ExactMatch``;
- Hamming loss: ``1 - MicroAverage(Accuracy)``;
- example-based F1: ``SampleAverage(F1)``;
- micro-F1: ``MicroAverage(F1)``, ``2 TP / (2 TP + FP + FN)`` pooled over labels;
- macro-F1: ``MacroAverage(F1)``, the per-label F1 averaged over labels. As in
  River, a label with no positive and no predicted positive has F1 = 0 (and so does
  an instance with neither for the example-based F1).

Streams must give every label in every ``y`` (False when off), as River's
metrics compare ``y_true`` and ``y_pred`` label by label.

What River lacks is added around it: throughput, the peak memory Python allocated
while the run went (``tracemalloc``), a curve every ``every`` instances with the
windowed subset accuracy and micro-F1 (River's ``utils.Rolling``) and whatever the
``callbacks`` read off the model at that point (:func:`cluster_structure`: the number
of label clusters and their mean within-cluster Jaccard), and :func:`recovery`, the
instances a curve needs to recover after a drift.
"""
from __future__ import annotations

import itertools
import time
import tracemalloc
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

import numpy as np
from river import evaluate, metrics, utils

__all__ = ["evaluate_stream", "multilabel_metrics", "cluster_structure", "recovery"]

Callback = Callable[[Any], dict[str, float]]


def multilabel_metrics() -> dict[str, metrics.base.Metric]:
    """River's multi-output metrics, by the name :func:`evaluate_stream` reports.

    Returns
    -------
    dict
        ``subset_accuracy``, ``micro_accuracy`` (1 - Hamming loss), ``example_f1``,
        ``micro_f1`` and ``macro_f1`` metrics.

    Examples
    --------
    >>> m = multilabel_metrics()
    >>> for yt, yp in (({"a": True, "b": False}, {"a": True, "b": True}),
    ...                ({"a": False, "b": True}, {"a": False, "b": True})):
    ...     for metric in m.values():
    ...         metric.update(yt, yp)
    >>> m["subset_accuracy"].get(), 1 - m["micro_accuracy"].get()
    (0.5, 0.25)
    """
    mo = metrics.multioutput
    return {"subset_accuracy": mo.ExactMatch(),
            "micro_accuracy": mo.MicroAverage(metrics.Accuracy()),
            "example_f1": mo.SampleAverage(metrics.F1()),
            "micro_f1": mo.MicroAverage(metrics.F1()),
            "macro_f1": mo.MacroAverage(metrics.F1())}


def _ihomer(model: Any) -> Any:
    """The IHOMER in ``model`` (itself, or a pipeline's last step), or None."""
    from .ihomer import IHOMER

    last = getattr(model, "_last_step", model)
    return last if isinstance(last, IHOMER) else None


def cluster_structure(model: Any) -> dict[str, float]:
    """The label-cluster structure of an IHOMER model (or a pipeline ending in one),
    as an :func:`evaluate_stream` callback.

    Parameters
    ----------
    model : IHOMER or river.compose.Pipeline
        The model being evaluated.

    Returns
    -------
    dict
        ``n_clusters`` and ``mean_jaccard`` (within clusters, NaN when every
        cluster has one label); ``{}`` before learning or for other models.

    Examples
    --------
    >>> from graphbias.stream import IHOMER
    >>> cluster_structure(IHOMER())
    {}
    """
    found = _ihomer(model)
    clustering = getattr(found, "clustering_", None)
    if clustering is None:
        return {}
    return {"n_clusters": float(len(clustering.leaves())),
            "mean_jaccard": clustering.mean_jaccard()}


class _Counted:
    """Iterates a stream (its first ``limit`` instances), counting them."""

    def __init__(self, stream: Iterable, limit: Optional[int]) -> None:
        self.stream = itertools.islice(stream, limit)
        self.n = 0

    def __iter__(self) -> Iterator:
        for item in self.stream:
            self.n += 1
            yield item


def evaluate_stream(model: Any, stream: Iterable[tuple[dict, dict]], *,
                    every: Optional[int] = None, callbacks: Sequence[Callback] = (),
                    track_memory: bool = False,
                    max_instances: Optional[int] = None) -> dict[str, Any]:
    """Runs ``model`` test-then-train over ``stream`` with River's progressive
    validation and multi-output metrics.

    Parameters
    ----------
    model : river.base.MultiLabelClassifier
        Any River multi-label classifier or a pipeline ending in one.
    stream : iterable of (dict, dict)
        ``(x, y)`` pairs, ``y`` holding every label.
    every : int, default=None
        Record a curve point every ``every`` instances.
    callbacks : sequence of callable, default=()
        ``callback(model) -> dict`` of values added to each curve point
        (e.g. :func:`cluster_structure`).
    track_memory : bool, default=False
        Trace Python's allocations (slower): ``peak_memory_mb`` overall and, on
        the curve, the peak so far.
    max_instances : int, default=None
        Stop after this many instances.

    Returns
    -------
    dict
        ``subset_accuracy``, ``hamming_loss``, ``example_f1``, ``micro_f1``,
        ``macro_f1``, ``instances``, ``seconds`` (predict, learn and metric updates;
        not the callbacks), ``instances_per_s``, ``peak_memory_mb`` (NaN unless
        ``track_memory``) and, with ``every``, ``curve``: a list of dicts with ``t``,
        the windowed ``subset_accuracy`` and ``micro_f1`` over the last ``every``
        instances, ``peak_memory_mb`` when traced, and the callbacks' values.

    Examples
    --------
    >>> from graphbias.data.synthetic.multilabel import multilabel_stream
    >>> from graphbias.stream import IHOMER
    >>> res = evaluate_stream(IHOMER(), multilabel_stream(200, n_labels=4, seed=0),
    ...                       every=100, callbacks=[cluster_structure])
    >>> res["instances"], 0.0 <= res["micro_f1"] <= 1.0, [p["t"] for p in res["curve"]]
    (200, True, [100, 200])
    """
    scores = multilabel_metrics()
    mo = metrics.multioutput
    windows = {"subset_accuracy": utils.Rolling(mo.ExactMatch, window_size=every),
               "micro_f1": utils.Rolling(mo.MicroAverage, window_size=every,
                                         metric=metrics.F1())} if every else {}
    combined = metrics.base.Metrics(list(scores.values()) + list(windows.values()))
    counted = _Counted(stream, max_instances)
    curve: list[dict[str, float]] = []
    if track_memory:
        tracemalloc.start()
        tracemalloc.reset_peak()
    outside = 0.0
    start = time.perf_counter()
    try:
        for state in evaluate.iter_progressive_val_score(counted, model, combined,
                                                         step=every or 2 ** 62):
            pause = time.perf_counter()
            point = {"t": state["Step"], **{k: m.get() for k, m in windows.items()}}
            if track_memory:
                point["peak_memory_mb"] = tracemalloc.get_traced_memory()[1] / 2 ** 20
            for callback in callbacks:
                point.update(callback(model))
            curve.append(point)
            outside += time.perf_counter() - pause
        seconds = time.perf_counter() - start - outside
        peak = tracemalloc.get_traced_memory()[1] / 2 ** 20 if track_memory \
            else float("nan")
    finally:
        if track_memory:
            tracemalloc.stop()
    n = counted.n
    out: dict[str, Any] = {k: m.get() for k, m in scores.items() if k != "micro_accuracy"}
    out["hamming_loss"] = 1.0 - scores["micro_accuracy"].get()
    out.update(instances=n, seconds=seconds,
               instances_per_s=n / seconds if seconds > 0 else float("nan"),
               peak_memory_mb=peak)
    if every:
        out["curve"] = curve
    return out


def recovery(curve: list[dict[str, float]], drift_at: int, *, metric: str = "micro_f1",
             level: float = 0.9) -> float:
    """Instances after ``drift_at`` until the windowed ``metric`` first reaches
    ``level`` times its mean over the windows before the drift.

    Parameters
    ----------
    curve : list of dict
        Points with ``t`` and ``metric`` (the ``curve`` of :func:`evaluate_stream`).
    drift_at : int
        The instance where the stream changes.
    metric : str, default="micro_f1"
        The curve's metric.
    level : float, default=0.9
        Share of the pre-drift mean to reach.

    Returns
    -------
    float
        Instances after the drift (inf if never).

    Examples
    --------
    >>> curve = [{"t": 100, "f1": 0.8}, {"t": 200, "f1": 0.3}, {"t": 300, "f1": 0.75}]
    >>> recovery(curve, 100, metric="f1")
    200.0
    """
    before = [p[metric] for p in curve if p["t"] <= drift_at]
    target = level * float(np.mean(before)) if before else 0.0
    for p in curve:
        if p["t"] > drift_at and p[metric] >= target:
            return float(p["t"] - drift_at)
    return float("inf")
