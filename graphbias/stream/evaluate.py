"""Prequential (test-then-train) evaluation of streaming multi-label learners.

Each instance is first predicted, then learned. Besides the metrics of
:class:`~graphbias.stream.metrics.MultiLabelMetrics` over the whole stream, the run
reports throughput (instances per second of predict + learn), the peak memory
allocated by Python while it ran (``tracemalloc``, optional: it slows the run) and, every
``every`` instances, the windowed subset accuracy and micro-F1 plus, for models with
label clusters, the number of clusters and their mean within-cluster Jaccard.
"""
from __future__ import annotations

import time
import tracemalloc
from typing import Any, Iterable, Optional

import numpy as np

from .metrics import MultiLabelMetrics

__all__ = ["prequential", "recovery"]


def prequential(model: Any, stream: Iterable[tuple[dict, dict]], *,
                max_instances: Optional[int] = None, every: Optional[int] = None,
                track_memory: bool = False) -> dict[str, Any]:
    """Runs ``model`` (``predict_one`` / ``learn_one``) test-then-train over ``stream``.

    Returns the final metrics, ``instances``, ``seconds``, ``instances_per_s``,
    ``peak_memory_mb`` (NaN unless ``track_memory``) and, with ``every``, a ``curve``
    list of dicts (``t``, windowed ``subset_accuracy`` and ``micro_f1`` and, when the
    model has label clusters, ``n_clusters`` and ``mean_jaccard``).

    >>> from graphbias.data.synthetic.multilabel import multilabel_stream
    >>> from graphbias.stream import IHOMER
    >>> res = prequential(IHOMER(), multilabel_stream(200, n_labels=4, seed=0))
    >>> res["instances"], 0.0 <= res["micro_f1"] <= 1.0
    (200, True)
    """
    total = MultiLabelMetrics()
    window = MultiLabelMetrics()
    curve: list[dict[str, float]] = []
    seconds = 0.0
    n = 0
    if track_memory:
        tracemalloc.start()
        tracemalloc.reset_peak()
    try:
        for x, y in stream:
            if max_instances is not None and n >= max_instances:
                break
            start = time.perf_counter()
            pred = model.predict_one(x)
            model.learn_one(x, y)
            seconds += time.perf_counter() - start
            pred = {lab: bool(pred.get(lab, False)) for lab in y} | \
                {lab: bool(v) for lab, v in pred.items() if lab not in y}
            total.update(y, pred)
            window.update(y, pred)
            n += 1
            if every and n % every == 0:
                point = {"t": n, **{k: window.get()[k] for k in ("subset_accuracy",
                                                                 "micro_f1")}}
                clustering = getattr(model, "clustering_", None)
                if clustering is not None:
                    point["n_clusters"] = len(clustering.leaves())
                    point["mean_jaccard"] = clustering.mean_jaccard()
                curve.append(point)
                window = MultiLabelMetrics()
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if track_memory else float("nan")
    finally:
        if track_memory:
            tracemalloc.stop()
    out: dict[str, Any] = dict(total.get())
    out.update(instances=n, seconds=seconds,
               instances_per_s=n / seconds if seconds > 0 else float("nan"),
               peak_memory_mb=peak)
    if every:
        out["curve"] = curve
    return out


def recovery(curve: list[dict[str, float]], drift_at: int, *, metric: str = "micro_f1",
             level: float = 0.9) -> float:
    """Instances after ``drift_at`` until the windowed ``metric`` first reaches
    ``level`` times its mean over the windows before the drift (inf if never)."""
    before = [p[metric] for p in curve if p["t"] <= drift_at]
    target = level * float(np.mean(before)) if before else 0.0
    for p in curve:
        if p["t"] > drift_at and p[metric] >= target:
            return float(p["t"] - drift_at)
    return float("inf")
