"""``graphbias bench --suite stream``: iHOMER against River baselines, prequential.

Datasets: Yeast (inside River), CAL500 (when ``--root`` holds ``CAL500.arff``, e.g.
``--root ../shared/data``), a synthetic stream with a label-correlation drift half
way, and (full runs) a 100,000-instance synthetic stream for throughput and peak
memory. Each cell runs one method test-then-train over the whole stream (``--quick``:
a prefix) and reports subset accuracy, Hamming loss, example-based / micro / macro
F1, instances per second and, where measured, peak traced memory and ``recovery``:
the instances needed after the drift for the windowed micro-F1 (windows of 250) to
reach 90% of its pre-drift mean (censored at the end of the stream).

Real-data streams are deterministic, so deterministic methods run there with seed 0
only; the random-clustering ablation runs every seed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

from ..data.multilabel import MultiLabelStream, find_cal500, load_cal500, load_yeast
from ..data.synthetic.multilabel import multilabel_stream
from ..stream import IHOMER, prequential, recovery
from ..stream.baselines import (KNNBinaryRelevance, ThresholdedISOUP, br_hoeffding_trees,
                                classifier_chain)
from .suites import Cell

__all__ = ["suite", "METHODS"]

METHODS: dict[str, Callable[[int], Any]] = {
    "ihomer": lambda seed: IHOMER(random_state=seed),
    "ihomer-random-clusters": lambda seed: IHOMER(clustering="random", random_state=seed),
    "ihomer-no-drift": lambda seed: IHOMER(drift_detection=False, random_state=seed),
    "ihomer-one-cluster": lambda seed: IHOMER(clustering="none", random_state=seed),
    "ihomer-lp-subset": lambda seed: IHOMER(lp_objective="subset", random_state=seed),
    "br-hoeffding": lambda seed: br_hoeffding_trees(),
    "classifier-chain": lambda seed: classifier_chain(),
    "isoup-thresholded": lambda seed: ThresholdedISOUP(),
    "knn-br": lambda seed: KNNBinaryRelevance(),
}
RANDOMISED = {"ihomer-random-clusters"}
DRIFT_METHODS = ["ihomer", "ihomer-no-drift", "ihomer-random-clusters", "knn-br",
                 "isoup-thresholded"]


def _run(make: Callable[[], MultiLabelStream], method: str, seed: int, *,
         drift_at: Optional[int] = None, track_memory: bool = False) -> dict[str, Any]:
    stream = make()
    model = METHODS[method](seed)
    res = prequential(model, stream, every=250 if drift_at else None,
                      track_memory=track_memory)
    out = {"subset_acc": res["subset_accuracy"], "hamming_loss": res["hamming_loss"],
           "example_f1": res["example_f1"], "micro_f1": res["micro_f1"],
           "macro_f1": res["macro_f1"], "inst_per_s": res["instances_per_s"],
           "instances": float(res["instances"])}
    if track_memory:
        out["peak_mb"] = res["peak_memory_mb"]
    if drift_at:
        # censored at the end of the stream when the level is never reached
        out["recovery"] = min(recovery(res["curve"], drift_at), res["instances"] - drift_at)
    if isinstance(model, IHOMER):
        out["clusters"] = float(len(model.label_clusters()))
    return out


def suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    """Cells for Yeast, CAL500 (with ``root``), the drift stream and, in full runs,
    the 100,000-instance stream."""
    real: dict[str, Callable[[], MultiLabelStream]] = {
        "yeast": (lambda: load_yeast().head(300)) if quick else load_yeast}
    cal = find_cal500(root) if root is not None else None
    if cal is not None:
        real["cal500"] = (lambda: load_cal500(cal).head(40)) if quick else \
            (lambda: load_cal500(cal))
    cells = []
    for name, make in real.items():
        for method in METHODS:
            if method == "ihomer-no-drift" or (quick and method.startswith("ihomer-")
                                               and method != "ihomer-random-clusters"):
                continue
            for seed in range(seeds if method in RANDOMISED else 1):
                cells.append(Cell("stream", name, method, seed,
                                  lambda m=make, me=method, s=seed: _run(m, me, s)))
    n, drift_at = (1000, 500) if quick else (20_000, 10_000)
    for method in (DRIFT_METHODS[:2] if quick else DRIFT_METHODS):
        for seed in range(seeds):
            def make(s: int = seed) -> MultiLabelStream:
                return multilabel_stream(n, drift_points=[drift_at], seed=s)
            cells.append(Cell("stream", "synthetic-drift", method, seed,
                              lambda m=make, me=method, s=seed: _run(m, me, s,
                                                                     drift_at=drift_at)))
    if not quick:
        for method in ("ihomer", "ihomer-no-drift"):
            cells.append(Cell("stream", "synthetic-100k", method, 0,
                              lambda me=method: _run(
                                  lambda: multilabel_stream(100_000, drift_points=[50_000],
                                                            seed=0),
                                  me, 0, track_memory=True)))
    return cells
