"""Streaming multi-label learning on River: iHOMER, its parts, baselines, evaluation.

- :class:`IHOMER`: a River multi-label classifier on sparse, growing feature sets:
  online label clusters (Jaccard, ODAC-style split / merge with Hoeffding bounds), a
  global multi-label Hoeffding tree (multivariate-Bernoulli entropy, bounded split
  candidates), per-cluster local learners at its leaves, ADWIN drift handling;
  :func:`authors_preset` gives it the authors' settings.
- :func:`evaluate_stream`: River's progressive validation with River's multi-output
  metrics, plus throughput, peak memory, curves with callbacks
  (:func:`cluster_structure`) and :func:`recovery` after a drift.
- :mod:`.baselines`: River baselines (binary relevance of Hoeffding trees, classifier
  chains, thresholded iSOUP tree, kNN binary relevance) and an MLHAT-style
  multi-label Hoeffding tree with kNN label-powerset leaves.

River is an optional dependency (``pip install "graphbias[stream]"``): the package
imports without it, and each name says what to install when first used.
"""
from .._optional import lazy_exports

_EXPORTS = {"IHOMER": ".ihomer", "AUTHORS_SETTINGS": ".ihomer", "authors_preset": ".ihomer",
            "OnlineLabelClustering": ".label_clustering",
            "MultiLabelHoeffdingTree": ".tree", "evaluate_stream": ".evaluate",
            "multilabel_metrics": ".evaluate", "cluster_structure": ".evaluate",
            "recovery": ".evaluate"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, "river", "stream")
