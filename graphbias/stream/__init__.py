"""Streaming multi-label learning on River: iHOMER, its parts, baselines, metrics.

- :class:`IHOMER`: online label clusters (Jaccard, ODAC-style split / merge with
  Hoeffding bounds), a global multi-label Hoeffding tree (multivariate-Bernoulli
  entropy), per-cluster local learners at its leaves, ADWIN drift handling.
- :func:`prequential`: test-then-train evaluation with :class:`MultiLabelMetrics`.
- :mod:`.baselines`: River baselines (binary relevance of Hoeffding trees, classifier
  chains, thresholded iSOUP tree, kNN binary relevance).
"""
from .evaluate import prequential, recovery
from .ihomer import IHOMER
from .label_clustering import OnlineLabelClustering
from .metrics import MultiLabelMetrics
from .tree import MultiLabelHoeffdingTree

__all__ = ["IHOMER", "OnlineLabelClustering", "MultiLabelHoeffdingTree",
           "MultiLabelMetrics", "prequential", "recovery"]
