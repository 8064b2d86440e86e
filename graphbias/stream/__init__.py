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
"""
from .evaluate import cluster_structure, evaluate_stream, multilabel_metrics, recovery
from .ihomer import AUTHORS_SETTINGS, IHOMER, authors_preset
from .label_clustering import OnlineLabelClustering
from .tree import MultiLabelHoeffdingTree

__all__ = ["IHOMER", "AUTHORS_SETTINGS", "authors_preset", "OnlineLabelClustering",
           "MultiLabelHoeffdingTree", "evaluate_stream", "multilabel_metrics",
           "cluster_structure", "recovery"]
