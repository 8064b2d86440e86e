"""River baselines for streaming multi-label classification.

- :func:`br_hoeffding_trees`: binary relevance, one Hoeffding tree per label
  (``river.multioutput.PerOutputClassifier``);
- :func:`classifier_chain`: a chain of Hoeffding trees (``river.multioutput.ClassifierChain``);
- :class:`ThresholdedISOUP`: River's multi-target ``ISOUPTreeRegressor`` on 0/1
  targets, a label on when its prediction reaches 1/2;
- :class:`KNNBinaryRelevance`: one ``river.neighbors.LazySearch`` window, each label
  voted by the ``n_neighbors`` nearest instances;
- the random label-clustering ablation is ``IHOMER(clustering="random")``.
"""
from __future__ import annotations

from typing import Hashable

from river import base, multioutput, neighbors, preprocessing, tree
from river.utils.vectordict import euclidean_distance_tuple

__all__ = ["br_hoeffding_trees", "classifier_chain", "ThresholdedISOUP",
           "KNNBinaryRelevance"]


def br_hoeffding_trees() -> base.MultiLabelClassifier:
    """One ``HoeffdingTreeClassifier`` per label (binary relevance)."""
    return multioutput.PerOutputClassifier(tree.HoeffdingTreeClassifier())


def classifier_chain() -> base.MultiLabelClassifier:
    """A classifier chain of Hoeffding trees, labels in order of first appearance."""
    return multioutput.ClassifierChain(tree.HoeffdingTreeClassifier())


class ThresholdedISOUP(base.MultiLabelClassifier):
    """iSOUP tree regression on the 0/1 labels, thresholded at ``threshold``.

    >>> m = ThresholdedISOUP()
    >>> for _ in range(3):
    ...     m.learn_one({"a": 1.0}, {"y": True, "z": False})
    >>> sorted(m.predict_one({"a": 1.0}).items())
    [('y', True), ('z', False)]
    """

    def __init__(self, threshold: float = 0.5, grace_period: int = 200) -> None:
        self.threshold = threshold
        self.grace_period = grace_period
        self.regressor = tree.ISOUPTreeRegressor(grace_period=grace_period)

    def learn_one(self, x: dict, y: dict) -> None:
        self.regressor.learn_one(x, {k: float(v) for k, v in y.items()})

    def predict_one(self, x: dict) -> dict[Hashable, bool]:
        return {k: v >= self.threshold for k, v in self.regressor.predict_one(x).items()}


class KNNBinaryRelevance(base.MultiLabelClassifier):
    """kNN binary relevance on River's ``LazySearch`` over standardised features: one
    neighbour search per instance, label ``l`` on when most neighbours have it.

    >>> m = KNNBinaryRelevance(n_neighbors=1)
    >>> m.learn_one({"a": 0.0}, {"y": False}); m.learn_one({"a": 1.0}, {"y": True})
    >>> m.predict_one({"a": 0.9})
    {'y': True}
    """

    def __init__(self, n_neighbors: int = 11, window_size: int = 1000) -> None:
        self.n_neighbors = n_neighbors
        self.window_size = window_size
        self.scaler = preprocessing.StandardScaler()
        self.search = neighbors.LazySearch(window_size=window_size,
                                           dist_func=euclidean_distance_tuple)
        self.labels: dict[Hashable, None] = {}

    def learn_one(self, x: dict, y: dict) -> None:
        self.scaler.learn_one(x)
        self.labels.update(dict.fromkeys(y))
        self.search.append((self.scaler.transform_one(x), dict(y)))

    def predict_one(self, x: dict) -> dict[Hashable, bool]:
        if not self.labels:
            return {}
        found, _ = self.search.search((self.scaler.transform_one(x), None),
                                      n_neighbors=self.n_neighbors)
        votes = {lab: 0 for lab in self.labels}
        for _, y in found:
            for lab, v in y.items():
                votes[lab] += bool(v)
        return {lab: 2 * c > max(len(found), 1) for lab, c in votes.items()}
