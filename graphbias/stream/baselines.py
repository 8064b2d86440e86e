"""River baselines for streaming multi-label classification.

- :func:`br_hoeffding_trees`: binary relevance, one Hoeffding tree per label
  (``river.multioutput.PerOutputClassifier``);
- :func:`classifier_chain`: a chain of Hoeffding trees (``river.multioutput.ClassifierChain``);
- :class:`ThresholdedISOUP`: River's multi-target ``ISOUPTreeRegressor`` on 0/1
  targets, a label on when its prediction reaches 1/2;
- :class:`KNNBinaryRelevance`: one ``river.neighbors.LazySearch`` window, each label
  voted by the ``n_neighbors`` nearest instances;
- :func:`mlhat_style`: a multi-label Hoeffding tree with kNN label-powerset leaves,
  in the spirit of MLHAT (Esteban et al., 2024), the strongest baseline in the
  iHOMER authors' comparison;
- the random label-clustering ablation is ``IHOMER(clustering="random")``.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Hashable, Optional

from river import base, multioutput, neighbors, preprocessing, tree
from river.utils.vectordict import euclidean_distance_tuple

from .._validation import Integer, Real, check_scalar
from .ihomer import IHOMER

__all__ = ["br_hoeffding_trees", "classifier_chain", "ThresholdedISOUP",
           "KNNBinaryRelevance", "mlhat_style"]


def br_hoeffding_trees() -> base.MultiLabelClassifier:
    """One ``HoeffdingTreeClassifier`` per label (binary relevance)."""
    return multioutput.PerOutputClassifier(tree.HoeffdingTreeClassifier())


def classifier_chain() -> base.MultiLabelClassifier:
    """A classifier chain of Hoeffding trees, labels in order of first appearance."""
    return multioutput.ClassifierChain(tree.HoeffdingTreeClassifier())


def mlhat_style(**params: Any) -> IHOMER:
    """A multi-label Hoeffding tree whose leaves predict the label combination of
    their nearest neighbours (kNN label powerset, 4 neighbours over a window of 170,
    the most likely combination), with ADWIN drift handling: MLHAT's low-cardinality
    leaf learner, as an :class:`~graphbias.stream.IHOMER` with one cluster of every
    label. MLHAT's switch to bagged logistic binary relevance at large,
    high-entropy leaves is not reproduced.

    Parameters
    ----------
    **params
        IHOMER parameters that override these settings.

    Returns
    -------
    IHOMER
        The configured model.

    Examples
    --------
    >>> m = mlhat_style()
    >>> m.clustering, m.lp_max_labels, m.n_neighbors, m.window_size
    ('none', None, 4, 170)
    """
    return IHOMER(**{"clustering": "none", "lp_max_labels": None, "n_neighbors": 4,
                     "window_size": 170, "lp_objective": "subset", **params})


def _check_params(model: base.Base) -> SimpleNamespace:
    """Every constructor parameter of a River ``model`` checked against its
    ``_parameter_constraints`` (see :func:`graphbias._validation.check_scalar`)."""
    owner = type(model).__name__
    return SimpleNamespace(**{
        name: check_scalar(name, value, *model._parameter_constraints[name], owner=owner)
        for name, value in model._get_params().items()})


class ThresholdedISOUP(base.MultiLabelClassifier):
    """iSOUP tree regression on the 0/1 labels, thresholded at ``threshold``.

    The regressor is built, and the parameters validated, at the first
    ``learn_one``.

    Parameters
    ----------
    threshold : float, default=0.5
        A label is on when its predicted value reaches it, in [0, 1].
    grace_period : int, default=200
        Instances between split attempts of ``river.tree.ISOUPTreeRegressor``.

    Attributes
    ----------
    regressor : river.tree.ISOUPTreeRegressor or None
        The multi-target tree (``None`` before the first instance).

    Examples
    --------
    >>> m = ThresholdedISOUP()
    >>> for _ in range(3):
    ...     m.learn_one({"a": 1.0}, {"y": True, "z": False})
    >>> sorted(m.predict_one({"a": 1.0}).items())
    [('y', True), ('z', False)]
    """

    _parameter_constraints = {"threshold": [Real(0, 1)], "grace_period": [Integer(1)]}

    def __init__(self, threshold: float = 0.5, grace_period: int = 200) -> None:
        self.threshold = threshold
        self.grace_period = grace_period
        self.regressor: Optional[tree.ISOUPTreeRegressor] = None

    def learn_one(self, x: dict, y: dict) -> None:
        """Learns one instance: ``x`` ``{feature: number}``, ``y`` ``{label: bool}``."""
        if self.regressor is None:
            p = _check_params(self)
            self.regressor = tree.ISOUPTreeRegressor(grace_period=p.grace_period)
        self.regressor.learn_one(x, {k: float(v) for k, v in y.items()})

    def predict_one(self, x: dict) -> dict[Hashable, bool]:
        """``{label: bool}`` for the labels seen so far (``{}`` before learning)."""
        if self.regressor is None:
            return {}
        return {k: v >= self.threshold for k, v in self.regressor.predict_one(x).items()}


class KNNBinaryRelevance(base.MultiLabelClassifier):
    """kNN binary relevance on River's ``LazySearch`` over standardised features: one
    neighbour search per instance, label ``l`` on when most neighbours have it.

    The scaler and the search are built, and the parameters validated, at the first
    ``learn_one``.

    Parameters
    ----------
    n_neighbors : int, default=11
        Neighbours that vote (>= 1).
    window_size : int, default=1000
        Instances the search keeps (>= 1).

    Attributes
    ----------
    scaler : river.preprocessing.StandardScaler or None
        Standardises the features (``None`` before the first instance).
    search : river.neighbors.LazySearch or None
        The window of standardised instances and their labels.
    labels : dict
        The labels seen so far, in order (values unused).

    Examples
    --------
    >>> m = KNNBinaryRelevance(n_neighbors=1)
    >>> m.learn_one({"a": 0.0}, {"y": False}); m.learn_one({"a": 1.0}, {"y": True})
    >>> m.predict_one({"a": 0.9})
    {'y': True}
    """

    _parameter_constraints = {"n_neighbors": [Integer(1)], "window_size": [Integer(1)]}

    def __init__(self, n_neighbors: int = 11, window_size: int = 1000) -> None:
        self.n_neighbors = n_neighbors
        self.window_size = window_size
        self.scaler: Optional[preprocessing.StandardScaler] = None
        self.search: Optional[neighbors.LazySearch] = None
        self.labels: dict[Hashable, None] = {}

    def learn_one(self, x: dict, y: dict) -> None:
        """Learns one instance: ``x`` ``{feature: number}``, ``y`` ``{label: bool}``."""
        if self.search is None:
            p = _check_params(self)
            self.scaler = preprocessing.StandardScaler()
            self.search = neighbors.LazySearch(window_size=p.window_size,
                                               dist_func=euclidean_distance_tuple)
        self.scaler.learn_one(x)
        self.labels.update(dict.fromkeys(y))
        self.search.append((self.scaler.transform_one(x), dict(y)))

    def predict_one(self, x: dict) -> dict[Hashable, bool]:
        """``{label: bool}`` for the labels seen so far (``{}`` before learning)."""
        if not self.labels:
            return {}
        found, _ = self.search.search((self.scaler.transform_one(x), None),
                                      n_neighbors=int(self.n_neighbors))
        votes = {lab: 0 for lab in self.labels}
        for _, y in found:
            for lab, v in y.items():
                votes[lab] += bool(v)
        return {lab: 2 * c > max(len(found), 1) for lab, c in votes.items()}
