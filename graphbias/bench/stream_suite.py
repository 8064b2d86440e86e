"""``graphbias bench --suite stream``: iHOMER against River baselines, through River.

Each cell runs one method over a whole stream with River's progressive validation
(:func:`graphbias.stream.evaluate_stream`: ``river.evaluate`` with River's
multi-output metrics; ``--quick``: a prefix) and reports subset accuracy, Hamming
loss, example-based / micro / macro F1 (River's definitions: a label, or an
instance, with nothing on and nothing predicted scores 0), instances per second and,
where measured, the peak memory traced while the run went.

Datasets:

- ``yeast`` (inside River) and ``cal500`` (when ``--root`` holds ``CAL500.arff``,
  e.g. ``--root ../shared/data``): deterministic streams, so deterministic methods
  run with seed 0 only; methods with random draws run every seed.
- ``cal500-orderings``: CAL500 in ``ORDERINGS`` random orders (seed ``s``: order
  ``s``), iHOMER against the random-clustering ablation, paired by order (``graphbias
  bench report --baseline ihomer-random-clusters``).
- ``synthetic-drift``: 12 labels in 3 groups whose groups and concept change half
  way; ``recovery`` is the instances needed after the drift for the windowed
  micro-F1 (windows of 250) to reach 90% of its pre-drift mean (censored at the end
  of the stream). The cells record the curve (``curve``, ``drift_at``) and the final
  label partition beside the generator's groups.
- ``sparse``: a bag-of-words stream (2,000 word features, 150 labels in 30 groups,
  about 7 words per instance, 5,000 instances): distances, bounded split candidates
  and feature hashing compared; the per-label Hoeffding trees run once (seed 0: they
  take about 2 instances per second there).
- ``sparse-100k`` (full runs): the same generator over 100,000 instances with a
  drift at 50,000, peak memory traced and recorded every 10,000 instances.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
from river import compose, preprocessing

from ..data.multilabel import MultiLabelStream, find_cal500, load_cal500, load_yeast
from ..data.synthetic.multilabel import multilabel_stream, sparse_multilabel_stream
from ..stream import IHOMER, authors_preset, cluster_structure, evaluate_stream, recovery
from ..stream.baselines import (KNNBinaryRelevance, ThresholdedISOUP, br_hoeffding_trees,
                                classifier_chain, mlhat_style)
from .suites import Cell

__all__ = ["suite", "METHODS", "ORDERINGS"]


def _hashed(seed: int) -> compose.Pipeline:
    return preprocessing.FeatureHasher(n_features=256, seed=seed) | \
        IHOMER(metric="cosine", random_state=seed)


METHODS: dict[str, Callable[[int], Any]] = {
    "ihomer": lambda seed: IHOMER(random_state=seed),
    "ihomer-cosine": lambda seed: IHOMER(metric="cosine", random_state=seed),
    "ihomer-cosine-32-candidates": lambda seed: IHOMER(metric="cosine", max_candidates=32,
                                                       random_state=seed),
    "ihomer-cosine-all-candidates": lambda seed: IHOMER(metric="cosine",
                                                        max_candidates=None,
                                                        random_state=seed),
    "ihomer-cosine-hashed-256": _hashed,
    "ihomer-random-clusters": lambda seed: IHOMER(clustering="random", random_state=seed),
    "ihomer-no-drift": lambda seed: IHOMER(drift_detection=False, random_state=seed),
    "ihomer-one-cluster": lambda seed: IHOMER(clustering="none", random_state=seed),
    "ihomer-lp-subset": lambda seed: IHOMER(lp_objective="subset", random_state=seed),
    "ihomer-authors": lambda seed: authors_preset(random_state=seed),
    "mlhat-style": lambda seed: mlhat_style(random_state=seed),
    "mlhat-style-cosine": lambda seed: mlhat_style(metric="cosine", random_state=seed),
    "br-hoeffding": lambda seed: br_hoeffding_trees(),
    "classifier-chain": lambda seed: classifier_chain(),
    "isoup-thresholded": lambda seed: ThresholdedISOUP(),
    "knn-br": lambda seed: KNNBinaryRelevance(),
}
RANDOMISED = {"ihomer-random-clusters", "ihomer-authors"}
REAL_METHODS = ["ihomer", "ihomer-random-clusters", "ihomer-one-cluster", "ihomer-lp-subset",
                "ihomer-authors", "mlhat-style", "br-hoeffding", "classifier-chain",
                "isoup-thresholded", "knn-br"]
DRIFT_METHODS = ["ihomer", "ihomer-no-drift", "ihomer-random-clusters", "knn-br",
                 "isoup-thresholded"]
SPARSE_METHODS = ["ihomer", "ihomer-cosine", "ihomer-cosine-32-candidates",
                  "ihomer-cosine-all-candidates", "ihomer-cosine-hashed-256",
                  "mlhat-style-cosine", "br-hoeffding"]
SLOW_ON_SPARSE = {"br-hoeffding"}
ORDERINGS = 10


def _shuffled(stream: MultiLabelStream, seed: int) -> MultiLabelStream:
    order = np.random.default_rng(seed).permutation(len(stream))
    return MultiLabelStream(stream.X[order], stream.Y[order], stream.feature_names,
                            stream.label_names, stream.name, stream.info)


def _run(make: Callable[[], MultiLabelStream], method: str, seed: int, *,
         drift_at: Optional[int] = None, track_memory: bool = False,
         every: Optional[int] = None) -> dict[str, Any]:
    stream = make()
    model = METHODS[method](seed)
    every = every or (250 if drift_at else None)
    res = evaluate_stream(model, stream, every=every, track_memory=track_memory,
                          callbacks=[cluster_structure] if every else ())
    out: dict[str, Any] = {
        "subset_acc": res["subset_accuracy"], "hamming_loss": res["hamming_loss"],
        "example_f1": res["example_f1"], "micro_f1": res["micro_f1"],
        "macro_f1": res["macro_f1"], "inst_per_s": res["instances_per_s"],
        "instances": float(res["instances"])}
    if track_memory:
        out["peak_mb"] = res["peak_memory_mb"]
        out["peak_mb_10k"] = next((p["peak_memory_mb"] for p in res["curve"]
                                   if p["t"] == 10_000), float("nan"))
    if every:
        out["curve"] = res["curve"]
    if drift_at:
        # censored at the end of the stream when the level is never reached
        out["recovery"] = min(recovery(res["curve"], drift_at), res["instances"] - drift_at)
        out["drift_at"] = drift_at
        groups = stream.info["groups"][-1]
        out["true_partition"] = sorted(np.flatnonzero(groups == g).tolist()
                                       for g in np.unique(groups))
    ihomer = getattr(model, "_last_step", model)
    if isinstance(ihomer, IHOMER):
        out["clusters"] = float(len(ihomer.label_clusters()))
        if drift_at:
            out["partition"] = ihomer.clustering_.partition()
    return out


def _cell(dataset: str, method: str, seed: int, make: Callable[[], MultiLabelStream],
          **kwargs: Any) -> Cell:
    return Cell("stream", dataset, method, seed,
                lambda: _run(make, method, seed, **kwargs))


def _real_cells(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    real: dict[str, Callable[[], MultiLabelStream]] = {
        "yeast": (lambda: load_yeast().head(300)) if quick else load_yeast}
    cal = find_cal500(root) if root is not None else None
    if cal is not None:
        real["cal500"] = (lambda: load_cal500(cal).head(40)) if quick else \
            (lambda: load_cal500(cal))
    cells = []
    for name, make in real.items():
        for method in REAL_METHODS:
            if quick and method not in ("ihomer", "ihomer-random-clusters", "ihomer-authors",
                                        "mlhat-style", "br-hoeffding", "knn-br"):
                continue
            for seed in range(seeds if method in RANDOMISED else 1):
                cells.append(_cell(name, method, seed, make))
    if cal is not None:
        size = 100 if quick else None
        for method in ("ihomer", "ihomer-random-clusters"):
            for seed in range(2 if quick else ORDERINGS):
                cells.append(_cell("cal500-orderings", method, seed,
                                   lambda s=seed: _shuffled(load_cal500(cal), s).head(size)
                                   if size else _shuffled(load_cal500(cal), s)))
    return cells


def _sparse(n: int, seed: int, quick: bool, drift: bool = False) -> MultiLabelStream:
    shape = dict(n_features=400, n_labels=40, n_topics=8) if quick else {}
    return sparse_multilabel_stream(n, drift_points=[n // 2] if drift else (), seed=seed,
                                    **shape)


def suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    """Cells for Yeast, CAL500 and its orderings (with ``root``), the drift stream,
    the sparse stream and, in full runs, the 100,000-instance sparse stream."""
    cells = _real_cells(root, seeds, quick)
    n, drift_at = (1000, 500) if quick else (20_000, 10_000)
    for method in (DRIFT_METHODS[:2] if quick else DRIFT_METHODS):
        for seed in range(seeds):
            cells.append(_cell("synthetic-drift", method, seed,
                               lambda s=seed: multilabel_stream(n, drift_points=[drift_at],
                                                                seed=s),
                               drift_at=drift_at))
    n_sparse = 300 if quick else 5000
    for method in (["ihomer-cosine", "br-hoeffding"] if quick else SPARSE_METHODS):
        for seed in range(1 if method in SLOW_ON_SPARSE else seeds):
            cells.append(_cell("sparse", method, seed,
                               lambda s=seed: _sparse(n_sparse, s, quick)))
    if not quick:
        cells.append(_cell("sparse-100k", "ihomer-cosine", 0,
                           lambda: _sparse(100_000, 0, False, drift=True),
                           drift_at=50_000, track_memory=True, every=10_000))
    return cells
