"""iHOMER: an online hierarchy of multi-label classifiers over label clusters.

Three parts work together on each instance ``(x, y)`` of the stream:

1. :class:`~graphbias.stream.label_clustering.OnlineLabelClustering` keeps disjoint
   label clusters from the co-occurrence (Jaccard) of labels, split and merged with
   Hoeffding bounds (ODAC-style).
2. :class:`~graphbias.stream.tree.MultiLabelHoeffdingTree` routes instances with
   splits chosen by the summed per-label Bernoulli entropy.
3. At the leaf reached by ``x``, every cluster has its local learner
   (:mod:`~graphbias.stream.local_learners`): label powerset for small clusters,
   binary relevance otherwise, sharing one nearest-neighbour search.

Drift (River's ADWIN): a global detector watches each instance's Hamming error and a
detector per cluster the error on the cluster's labels; each has a warning twin with
a larger ``delta``. On a global warning an alternate tree and label hierarchy start
learning in the background (afresh at each new warning); on a global drift they
replace the current ones (fresh ones when no warning came first). On a cluster
warning the cluster notes the time; on its drift the label hierarchy above the
cluster collapses into one leaf with fresh statistics (re-partitioned by the split
test on post-drift data) and its learners switch to the instances that arrived since
the warning.
"""
from __future__ import annotations

from typing import Any, Hashable, Mapping, Optional

import numpy as np
from river.drift import ADWIN
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._validation import Boolean, Instance, Integer, Options, Real, validate_params
from .encoding import InstanceEncoder
from .label_clustering import OnlineLabelClustering
from .tree import MultiLabelHoeffdingTree

__all__ = ["IHOMER"]


class _Detector:
    """An ADWIN drift detector with a warning twin (ADWIN at a larger delta)."""

    def __init__(self, drift_delta: float, warning_delta: float) -> None:
        self.drift = ADWIN(delta=drift_delta)
        self.warning = ADWIN(delta=warning_delta)
        self.warned_at: Optional[int] = None

    def update(self, error: float, t: int) -> bool:
        """Feeds one error; notes the time of the latest warning, returns True on a
        drift. Only changes that raise the error count: ADWIN also flags a model that
        got better."""
        before = self.warning.estimation
        self.warning.update(error)
        if self.warning.drift_detected and self.warning.estimation > before:
            self.warned_at = t
        before = self.drift.estimation
        self.drift.update(error)
        return self.drift.drift_detected and self.drift.estimation > before


class IHOMER(BaseEstimator):
    """Streaming multi-label classifier with label clusters that follow drift.

    River API: ``learn_one(x, y)``, ``predict_one(x)``, ``predict_proba_one(x)`` with
    ``x: dict[feature, number]`` and ``y: dict[label, bool]``; scikit-learn /
    scikit-multiflow API: ``partial_fit(X, Y)`` and ``predict(X)`` on arrays (features
    and labels are then the column numbers). Before the first instance the ``*_one``
    methods return ``{}`` as River's models do; ``predict`` raises ``NotFittedError``.
    Every parameter is validated when learning starts (the first ``learn_one`` or
    ``partial_fit``, and every ``fit``): a bad value raises ``ValueError`` naming it.
    scikit-learn's ``check_estimator`` is not run on it: its checks fit single-output
    ``y``, while ``fit`` / ``partial_fit`` take an ``(n, L)`` label matrix.

    Parameters
    ----------
    n_neighbors : int, default=11
        Neighbours of the local learners (>= 1).
    window_size : int, default=1000
        Instances kept per leaf for the local learners (>= 1).
    lp_max_labels : int, default=8
        Clusters of at most this many labels are predicted as a label powerset, larger
        ones by binary relevance (0: always binary relevance).
    lp_objective : {"f1", "subset"}, default="f1"
        How a label powerset decides: the largest expected F1, or the most likely
        label combination.
    grace_period : int, default=200
        Instances a tree leaf sees between split attempts (>= 1).
    split_confidence : float, default=1e-7
        Hoeffding ``delta`` of the tree's splits, in (0, 1).
    tie_threshold : float, default=0.05
        Hoeffding ``tau`` of the tree's splits (>= 0): split when the bound falls
        below it.
    n_bins : int, default=16
        Histogram bins per feature for split candidates (>= 2).
    max_leaves : int, default=16
        The tree stops growing at this many leaves (>= 1).
    cluster_grace_period : int, default=100
        Instances between restructurings of the label hierarchy (>= 1).
    cluster_confidence : float, default=0.1
        Hoeffding ``delta`` of the label hierarchy, in (0, 1).
    cluster_tie_threshold : float, default=0.1
        Hoeffding ``tau`` of the label hierarchy (>= 0).
    min_jaccard : float, default=0.1
        Labels less similar than this (Jaccard, in [0, 1)) are confidently unrelated.
    clustering : {"jaccard", "random", "none"}, default="jaccard"
        ``"random"`` is the ablation (same hierarchy, labels dealt at random);
        ``"none"`` keeps one cluster of every label (a single label powerset or
        binary relevance over all labels).
    drift_detection : bool, default=True
        Watch drift with ADWIN (``False`` turns drift handling off).
    drift_delta : float, default=0.002
        ADWIN's ``delta`` for drifts, in (0, 1).
    warning_delta : float, default=0.01
        ADWIN's ``delta`` for warnings, in (0, 1).
    random_state : int, numpy Generator or None, default=None
        Seeds the random ablation.

    Attributes
    ----------
    n_seen_ : int
        Instances learned.
    labels_ : list
        The labels, in the order they were first seen.
    tree_ : MultiLabelHoeffdingTree
        The global tree.
    clustering_ : OnlineLabelClustering
        The label hierarchy.
    drifts_ : list of tuple
        ``(instance, "global" or "cluster", cluster id)`` of every drift handled.

    Examples
    --------
    >>> from graphbias.data.synthetic.multilabel import multilabel_stream
    >>> model = IHOMER(random_state=0)
    >>> for x, y in multilabel_stream(300, n_labels=4, n_groups=2, seed=0):
    ...     model.learn_one(x, y)
    >>> sorted(model.predict_one(x))
    ['y0', 'y1', 'y2', 'y3']
    >>> model.n_seen_
    300
    """

    _parameter_constraints = {
        "n_neighbors": [Integer(1)],
        "window_size": [Integer(1)],
        "lp_max_labels": [Integer(0)],
        "lp_objective": [Options("f1", "subset")],
        "grace_period": [Integer(1)],
        "split_confidence": [Real(0, 1, closed="neither")],
        "tie_threshold": [Real(0)],
        "n_bins": [Integer(2)],
        "max_leaves": [Integer(1)],
        "cluster_grace_period": [Integer(1)],
        "cluster_confidence": [Real(0, 1, closed="neither")],
        "cluster_tie_threshold": [Real(0)],
        "min_jaccard": [Real(0, 1, closed="left")],
        "clustering": [Options("jaccard", "random", "none")],
        "drift_detection": [Boolean()],
        "drift_delta": [Real(0, 1, closed="neither")],
        "warning_delta": [Real(0, 1, closed="neither")],
        "random_state": [None, Integer(0), Instance(np.random.Generator,
                                                    name="a numpy Generator")],
    }

    def __init__(self, n_neighbors: int = 11, window_size: int = 1000, lp_max_labels: int = 8,
                 lp_objective: str = "f1",
                 grace_period: int = 200, split_confidence: float = 1e-7,
                 tie_threshold: float = 0.05, n_bins: int = 16, max_leaves: int = 16,
                 cluster_grace_period: int = 100, cluster_confidence: float = 0.1,
                 cluster_tie_threshold: float = 0.1, min_jaccard: float = 0.1,
                 clustering: str = "jaccard", drift_detection: bool = True,
                 drift_delta: float = 0.002, warning_delta: float = 0.01,
                 random_state: Optional[int | np.random.Generator] = None) -> None:
        self.n_neighbors = n_neighbors
        self.window_size = window_size
        self.lp_max_labels = lp_max_labels
        self.lp_objective = lp_objective
        self.grace_period = grace_period
        self.split_confidence = split_confidence
        self.tie_threshold = tie_threshold
        self.n_bins = n_bins
        self.max_leaves = max_leaves
        self.cluster_grace_period = cluster_grace_period
        self.cluster_confidence = cluster_confidence
        self.cluster_tie_threshold = cluster_tie_threshold
        self.min_jaccard = min_jaccard
        self.clustering = clustering
        self.drift_detection = drift_detection
        self.drift_delta = drift_delta
        self.warning_delta = warning_delta
        self.random_state = random_state

    # ------------------------------------------------------------------ set-up
    def _new_tree(self, n_labels: int) -> MultiLabelHoeffdingTree:
        return MultiLabelHoeffdingTree(
            self.encoder_.n_features, n_labels, window_size=self.window_size,
            grace_period=self.grace_period, delta=self.split_confidence,
            tau=self.tie_threshold, n_bins=self.n_bins, max_leaves=self.max_leaves)

    def _new_clustering(self, n_labels: int) -> OnlineLabelClustering:
        grace = self.cluster_grace_period
        if self.clustering == "none":   # never reaches a split test
            grace = np.iinfo(np.int64).max
        olc = OnlineLabelClustering(
            grace_period=grace, delta=self.cluster_confidence,
            tau=self.cluster_tie_threshold, min_jaccard=self.min_jaccard,
            assignment="random" if self.clustering == "random" else "jaccard",
            random_state=self.random_state)
        olc.add_labels(n_labels)
        return olc

    def _setup(self) -> None:
        validate_params(self)
        self.encoder_ = InstanceEncoder()
        self.n_seen_ = 0
        self.tree_: Optional[MultiLabelHoeffdingTree] = None
        self.clustering_: Optional[OnlineLabelClustering] = None
        self._background: Optional[tuple[MultiLabelHoeffdingTree, OnlineLabelClustering]] = None
        self._global = _Detector(self.drift_delta, self.warning_delta)
        self._cluster_detectors: dict[int, _Detector] = {}
        self.drifts_: list[tuple[int, str, int]] = []

    # ------------------------------------------------------------------ learning
    def learn_one(self, x: Mapping[Hashable, float], y: Mapping[Hashable, bool]) -> None:
        """Learns one instance (returns None, as River's ``learn_one``).

        The first call validates the parameters. A malformed ``x`` or ``y`` raises
        ``ValueError`` and leaves the model as it was.

        Parameters
        ----------
        x : dict
            ``{feature: number}``. The first instance fixes the features: later
            ones may leave features out (read as 0) but not bring new ones.
        y : dict
            ``{label: bool}``; a label may first appear at any time, and a label
            missing from ``y`` is False.
        """
        if not hasattr(self, "encoder_"):
            probe = InstanceEncoder()
            probe.check_x(x)
            probe.check_y(y)
            self._setup()
        xv = self.encoder_.check_x(x)
        on, new = self.encoder_.check_y(y)
        self.encoder_.commit(x, new)
        self._learn(xv, np.asarray(on, dtype=np.int64), len(new))

    def _learn(self, xv: np.ndarray, on: np.ndarray, n_new: int) -> None:
        n_labels = self.encoder_.n_labels
        if self.tree_ is None:
            self.tree_ = self._new_tree(n_labels)
            self.clustering_ = self._new_clustering(n_labels)
        elif n_new:
            self.tree_.grow_labels(n_new)
            self.clustering_.add_labels(n_new)
            if self._background is not None:
                self._background[0].grow_labels(n_new)
                self._background[1].add_labels(n_new)
        y = np.zeros(n_labels, dtype=bool)
        y[on] = True
        t = self.n_seen_
        if self.drift_detection and t > 0:
            self._watch_drift(xv, y, t)
        for tree, clustering in [(self.tree_, self.clustering_)] + \
                ([self._background] if self._background is not None else []):
            tree.learn(xv, y, t)
            clustering.update(on)
        self.n_seen_ += 1

    def _watch_drift(self, xv: np.ndarray, y: np.ndarray, t: int) -> None:
        clusters = self.clustering_.clusters()
        pred, _ = self.tree_.predict(xv, clusters, self.n_neighbors, self.lp_max_labels,
                                     self.lp_objective)
        wrong = pred != y
        if self._global.update(float(wrong.mean()), t):
            self._global_drift(t)
            return
        if self._global.warned_at == t:   # a new warning: (re)start the alternates
            self._background = (self._new_tree(self.encoder_.n_labels),
                                self._new_clustering(self.encoder_.n_labels))
        live = {cid for cid, _, _ in clusters}
        for cid in list(self._cluster_detectors):
            if cid not in live:
                del self._cluster_detectors[cid]
        for cid, labels, _ in clusters:
            det = self._cluster_detectors.get(cid)
            if det is None:
                det = self._cluster_detectors[cid] = _Detector(self.drift_delta,
                                                               self.warning_delta)
            if det.update(float(wrong[labels].mean()), t):
                since = det.warned_at if det.warned_at is not None else t
                if self.clustering_.restructure(cid, since):
                    self.drifts_.append((t, "cluster", cid))

    def _global_drift(self, t: int) -> None:
        if self._background is not None:
            self.tree_, self.clustering_ = self._background
        else:
            self.tree_ = self._new_tree(self.encoder_.n_labels)
            self.clustering_ = self._new_clustering(self.encoder_.n_labels)
        self._background = None
        self._global = _Detector(self.drift_delta, self.warning_delta)
        self._cluster_detectors = {}
        self.drifts_.append((t, "global", -1))

    # ------------------------------------------------------------------ prediction
    def _predict_vec(self, xv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.tree_.predict(xv, self.clustering_.clusters(), self.n_neighbors,
                                  self.lp_max_labels, self.lp_objective)

    def predict_proba_one(self, x: Mapping[Hashable, float]) -> dict[Hashable, float]:
        """Per-label probability (the weighted neighbour vote) of being on."""
        if getattr(self, "tree_", None) is None:
            return {}
        return self.encoder_.to_dict(self._predict_vec(self.encoder_.check_x(x))[1])

    def predict_one(self, x: Mapping[Hashable, float]) -> dict[Hashable, bool]:
        """``{label: bool}`` for every label seen so far (``{}`` before learning)."""
        if getattr(self, "tree_", None) is None:
            return {}
        return self.encoder_.to_dict(self._predict_vec(self.encoder_.check_x(x))[0])

    # ------------------------------------------------------------------ arrays
    def fit(self, X: Any, Y: Any) -> "IHOMER":
        """Forgets everything learned, validates the parameters, then learns the rows
        of ``X`` and ``Y`` in order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite features.
        Y : array-like of shape (n_samples, n_labels)
            0/1 labels.

        Returns
        -------
        self
        """
        for name in [k for k in vars(self) if k.endswith("_") or k.startswith("_")]:
            delattr(self, name)
        return self.partial_fit(X, Y)

    def _check_arrays(self, X: Any, Y: Any = None) -> tuple[np.ndarray, Optional[np.ndarray]]:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"X must be a non-empty 2-D array, got shape {X.shape}")
        bad = ~np.isfinite(X)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ValueError(f"X[{r}, {c}] = {X[r, c]} is not finite")
        if hasattr(self, "encoder_") and X.shape[1] != self.encoder_.n_features:
            raise ValueError(f"X has {X.shape[1]} features, the model "
                             f"{self.encoder_.n_features}")
        if Y is None:
            return X, None
        Y = np.asarray(Y)
        if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
            raise ValueError(f"Y must be 2-D with {X.shape[0]} rows, got shape {Y.shape}")
        if not np.isin(Y, (0, 1)).all():
            r, c = np.argwhere(~np.isin(Y, (0, 1)))[0]
            raise ValueError(f"Y[{r}, {c}] = {Y[r, c]!r} is not 0/1")
        if hasattr(self, "encoder_") and self.encoder_.n_labels and \
                Y.shape[1] != self.encoder_.n_labels:
            raise ValueError(f"Y has {Y.shape[1]} labels, the model "
                             f"{self.encoder_.n_labels}: the label dimension cannot change "
                             "between partial_fit calls")
        return X, Y.astype(bool)

    def partial_fit(self, X: Any, Y: Any) -> "IHOMER":
        """Learns the rows of ``X`` and ``Y`` in order.

        The whole batch is checked first, so a bad batch changes nothing; the first
        call validates the parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite features (the same number in every call).
        Y : array-like of shape (n_samples, n_labels)
            0/1 labels (the same number in every call).

        Returns
        -------
        self
        """
        X, Y = self._check_arrays(X, Y)
        if not hasattr(self, "encoder_"):
            self._setup()
            self.encoder_.commit({j: 0.0 for j in range(X.shape[1])}, [])
        if self.encoder_.n_labels == 0:
            self.encoder_.commit({}, list(range(Y.shape[1])))
            n_new = Y.shape[1]
        else:
            n_new = 0
        for xv, yv in zip(X, Y):
            self._learn(xv, np.flatnonzero(yv), n_new)
            n_new = 0
        return self

    def predict(self, X: Any) -> np.ndarray:
        """``(n, L)`` 0/1 predictions, labels in the order they were first seen."""
        check_is_fitted(self, "tree_")
        X, _ = self._check_arrays(X)
        return np.array([self._predict_vec(x)[0] for x in X], dtype=np.int64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, L)`` per-label probabilities."""
        check_is_fitted(self, "tree_")
        X, _ = self._check_arrays(X)
        return np.array([self._predict_vec(x)[1] for x in X])

    # ------------------------------------------------------------------ inspection
    @property
    def labels_(self) -> list[Hashable]:
        check_is_fitted(self, "encoder_")
        return list(self.encoder_.labels)

    def label_clusters(self) -> list[list[Hashable]]:
        """The current label clusters, as lists of labels."""
        check_is_fitted(self, "tree_")
        return [[self.encoder_.labels[i] for i in c] for c in self.clustering_.partition()]
