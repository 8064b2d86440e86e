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

Instances are sparse: a feature an instance leaves out is missing, and a feature
never seen before is learned from then on (:mod:`~graphbias.stream.encoding`).

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

from typing import Any, Hashable, Iterator, Mapping, Optional

import numpy as np
import scipy.sparse as sp
from river import base
from river.drift import ADWIN
from sklearn.exceptions import NotFittedError

from .._validation import Boolean, Instance, Integer, Options, Real, validate_params
from .encoding import InstanceEncoder
from .label_clustering import OnlineLabelClustering
from .local_learners import LearnerSettings
from .tree import MultiLabelHoeffdingTree

__all__ = ["IHOMER", "AUTHORS_SETTINGS", "authors_preset"]

#: The settings of the authors' code (larasneves/iHomer): kNN label powerset with 4
#: neighbours over a window of 170 instances, bagged logistic regressions (10 models,
#: SGD step 0.3) for binary relevance, label statistics re-checked every 1,500
#: instances with ODAC's confidence 0.9.
AUTHORS_SETTINGS: dict[str, Any] = {
    "n_neighbors": 4, "window_size": 170, "lp_objective": "subset",
    "br_learner": "bagged-logistic", "n_models": 10, "lr": 0.3,
    "cluster_grace_period": 1500, "cluster_confidence": 0.9}


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


class IHOMER(base.MultiLabelClassifier):
    """Streaming multi-label classifier with label clusters that follow drift.

    A River multi-label classifier: ``learn_one(x, y)``, ``predict_one(x)`` and
    ``predict_proba_one(x)`` with ``x: dict[feature, number]`` and
    ``y: dict[label, bool]``, so it runs in ``river.evaluate.progressive_val_score``
    with ``river.metrics.multioutput`` metrics and in ``compose`` pipelines. Features
    are handled as River's models handle them: an instance may leave features out
    (``missing``) and bring new ones, learned from then on; a value may be a number or
    a numeric string (as ``river.stream.iter_arff`` yields for sparse rows). A label
    is a bool, 0/1 or ``'0'``/``'1'``; labels may first appear at any time and a
    label missing from ``y`` is False. Before the first instance the ``*_one``
    methods return ``{}`` as River's models do.

    On top, arrays (scikit-multiflow style): ``partial_fit(X, Y)``, ``fit(X, Y)``,
    ``predict(X)``, ``predict_proba(X)`` with ``X`` dense or ``scipy.sparse`` (its
    columns are the features, numbered) and ``Y`` a 0/1 matrix; ``predict`` raises
    ``NotFittedError`` before learning. ``get_params`` / ``set_params`` read and set
    the constructor parameters, so scikit-learn's ``clone`` works as River's
    ``clone()`` does. Every parameter is validated when learning starts (the first
    ``learn_one`` or ``partial_fit``, and every ``fit``): a bad value raises
    ``ValueError`` naming it.

    Parameters
    ----------
    n_neighbors : int, default=11
        Neighbours of the local learners (>= 1).
    metric : {"euclidean", "cosine"}, default="euclidean"
        Distance of the neighbour search, on features divided by their running
        standard deviation: Euclidean, or ``1 - cos`` (for sparse, non-negative data
        such as bag-of-words, where Euclidean neighbours are the shortest instances
        rather than the most similar).
    window_size : int, default=1000
        Instances kept per leaf for the local learners (>= 1).
    lp_max_labels : int or None, default=8
        Clusters of at most this many labels are predicted as a label powerset over
        the neighbours, larger ones by ``br_learner`` (0: always binary relevance;
        None: always a label powerset).
    lp_objective : {"f1", "subset"}, default="f1"
        How a label powerset decides: the largest expected F1, or the most likely
        label combination.
    br_learner : {"knn", "bagged-logistic"}, default="knn"
        Binary relevance of the larger clusters: the neighbours' weighted votes, or
        online-bagged logistic regressions per label (their weights grow with the
        features: ``features x n_models x labels`` per leaf).
    n_models : int, default=10
        Bagged logistic regressions per label (>= 1; ``br_learner="bagged-logistic"``).
    lr : float, default=0.3
        SGD step of the logistic regressions (> 0; ``br_learner="bagged-logistic"``).
    grace_period : int, default=200
        Instances a tree leaf sees between split attempts (>= 1).
    split_confidence : float, default=1e-7
        Hoeffding ``delta`` of the tree's splits, in (0, 1).
    tie_threshold : float, default=0.05
        Hoeffding ``tau`` of the tree's splits (>= 0): split when the bound falls
        below it.
    n_bins : int, default=16
        Histogram bins per candidate feature (>= 2).
    max_leaves : int, default=16
        The tree stops growing at this many leaves (>= 1).
    max_candidates : int or None, default=128
        Split candidates per leaf (>= 1; None: every feature the leaf's window
        carries), chosen by their merit on the window and re-ranked at each failed
        split attempt: a leaf's statistics stay bounded however many distinct
        features the stream brings.
    missing : {"zero", "absent"}, default="zero"
        A feature missing from an instance is 0 (sparse data such as bag-of-words),
        or absent as in River's Hoeffding trees: left out of the tree's split
        statistics and sent down a branch's more frequent side. The neighbour
        distances read it as 0 either way (as River's neighbour searches do).
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
        Seeds the random ablation and the bagging draws.

    Attributes
    ----------
    n_seen_ : int
        Instances learned.
    labels_ : list
        The labels, in the order they were first seen.
    n_features_in_ : int
        Columns of ``X`` (set by the first ``partial_fit`` / ``fit``).
    tree_ : MultiLabelHoeffdingTree
        The global tree.
    clustering_ : OnlineLabelClustering
        The label hierarchy.
    drifts_ : list of tuple
        ``(instance, "global" or "cluster", cluster id)`` of every drift handled.

    Examples
    --------
    >>> from river import evaluate, metrics
    >>> from graphbias.data.synthetic.multilabel import multilabel_stream
    >>> stream = multilabel_stream(300, n_labels=4, n_groups=2, seed=0)
    >>> model = IHOMER(random_state=0)
    >>> evaluate.progressive_val_score(stream, model, metrics.multioutput.ExactMatch())
    ExactMatch: ...%
    >>> x, y = next(iter(stream))
    >>> sorted(model.predict_one(x)), model.n_seen_
    (['y0', 'y1', 'y2', 'y3'], 300)
    >>> sorted(model.predict_proba_one(x)["y0"])
    [False, True]
    """

    _parameter_constraints = {
        "n_neighbors": [Integer(1)],
        "metric": [Options("euclidean", "cosine")],
        "window_size": [Integer(1)],
        "lp_max_labels": [None, Integer(0)],
        "lp_objective": [Options("f1", "subset")],
        "br_learner": [Options("knn", "bagged-logistic")],
        "n_models": [Integer(1)],
        "lr": [Real(0, None, closed="neither")],
        "grace_period": [Integer(1)],
        "split_confidence": [Real(0, 1, closed="neither")],
        "tie_threshold": [Real(0)],
        "n_bins": [Integer(2)],
        "max_leaves": [Integer(1)],
        "max_candidates": [None, Integer(1)],
        "missing": [Options("zero", "absent")],
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

    def __init__(self, n_neighbors: int = 11, metric: str = "euclidean",
                 window_size: int = 1000,
                 lp_max_labels: Optional[int] = 8, lp_objective: str = "f1",
                 br_learner: str = "knn", n_models: int = 10, lr: float = 0.3,
                 grace_period: int = 200, split_confidence: float = 1e-7,
                 tie_threshold: float = 0.05, n_bins: int = 16, max_leaves: int = 16,
                 max_candidates: Optional[int] = 128, missing: str = "zero",
                 cluster_grace_period: int = 100, cluster_confidence: float = 0.1,
                 cluster_tie_threshold: float = 0.1, min_jaccard: float = 0.1,
                 clustering: str = "jaccard", drift_detection: bool = True,
                 drift_delta: float = 0.002, warning_delta: float = 0.01,
                 random_state: Optional[int | np.random.Generator] = None) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.window_size = window_size
        self.lp_max_labels = lp_max_labels
        self.lp_objective = lp_objective
        self.br_learner = br_learner
        self.n_models = n_models
        self.lr = lr
        self.grace_period = grace_period
        self.split_confidence = split_confidence
        self.tie_threshold = tie_threshold
        self.n_bins = n_bins
        self.max_leaves = max_leaves
        self.max_candidates = max_candidates
        self.missing = missing
        self.cluster_grace_period = cluster_grace_period
        self.cluster_confidence = cluster_confidence
        self.cluster_tie_threshold = cluster_tie_threshold
        self.min_jaccard = min_jaccard
        self.clustering = clustering
        self.drift_detection = drift_detection
        self.drift_delta = drift_delta
        self.warning_delta = warning_delta
        self.random_state = random_state

    # ------------------------------------------------------------------ parameters
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (River's ``_get_params``), for scikit-learn's
        ``clone`` and ``set_params``.

        Parameters
        ----------
        deep : bool, default=True
            Unused: no parameter is an estimator.

        Returns
        -------
        dict
            Parameter name -> value.
        """
        return self._get_params()

    def set_params(self, **params: Any) -> "IHOMER":
        """Sets constructor parameters (validated when learning starts next).

        Parameters
        ----------
        **params
            Parameter name -> value.

        Returns
        -------
        self
        """
        known = self._get_params()
        for name, value in params.items():
            if name not in known:
                raise ValueError(f"IHOMER: unknown parameter {name!r}; parameters are "
                                 f"{', '.join(known)}")
            setattr(self, name, value)
        return self

    @classmethod
    def _unit_test_params(cls) -> Iterator[dict[str, Any]]:
        yield {"grace_period": 20, "cluster_grace_period": 20, "window_size": 100}

    # ------------------------------------------------------------------ set-up
    def _new_tree(self, n_labels: int) -> MultiLabelHoeffdingTree:
        p = self._p_
        return MultiLabelHoeffdingTree(
            n_labels, settings=self._settings_, window_size=p.window_size,
            grace_period=p.grace_period, delta=p.split_confidence, tau=p.tie_threshold,
            n_bins=p.n_bins, max_leaves=p.max_leaves, max_candidates=p.max_candidates,
            missing=p.missing, rng=self._rng_)

    def _new_clustering(self, n_labels: int) -> OnlineLabelClustering:
        p = self._p_
        grace = p.cluster_grace_period
        if p.clustering == "none":   # never reaches a split test
            grace = np.iinfo(np.int64).max
        olc = OnlineLabelClustering(
            grace_period=grace, delta=p.cluster_confidence, tau=p.cluster_tie_threshold,
            min_jaccard=p.min_jaccard,
            assignment="random" if p.clustering == "random" else "jaccard",
            random_state=p.random_state)
        olc.add_labels(n_labels)
        return olc

    def _setup(self) -> None:
        p = self._p_ = validate_params(self)
        self._settings_ = LearnerSettings(p.n_neighbors, p.lp_max_labels, p.lp_objective,
                                          p.br_learner, p.n_models, p.lr, p.metric)
        self._rng_ = np.random.default_rng(p.random_state)
        self.encoder_ = InstanceEncoder()
        self.n_seen_ = 0
        self.tree_: Optional[MultiLabelHoeffdingTree] = None
        self.clustering_: Optional[OnlineLabelClustering] = None
        self._background_: Optional[tuple[MultiLabelHoeffdingTree,
                                          OnlineLabelClustering]] = None
        self._global_ = _Detector(p.drift_delta, p.warning_delta)
        self._cluster_detectors_: dict[int, _Detector] = {}
        self.drifts_: list[tuple[int, str, int]] = []

    # ------------------------------------------------------------------ learning
    def learn_one(self, x: Mapping[Hashable, Any], y: Mapping[Hashable, Any]) -> None:
        """Learns one instance (returns None, as River's ``learn_one``).

        The first call validates the parameters. A malformed ``x`` or ``y`` raises
        ``ValueError`` and leaves the model as it was.

        Parameters
        ----------
        x : dict
            ``{feature: number}``; features may be left out (missing) or new.
        y : dict
            ``{label: bool}`` (or 0/1, ``'0'``/``'1'``); a label may first appear at
            any time, and a label missing from ``y`` is False.
        """
        encoder = self.encoder_ if hasattr(self, "encoder_") else InstanceEncoder()
        row = encoder.check_x(x)
        on, new = encoder.check_y(y)
        if not hasattr(self, "encoder_"):
            self._setup()
        self.encoder_.commit(row.new, new)
        self._learn(row.idx, row.val, np.asarray(on, dtype=np.int64), len(new))

    def _learn(self, idx: np.ndarray, val: np.ndarray, on: np.ndarray, n_new: int) -> None:
        n_labels = self.encoder_.n_labels
        if self.tree_ is None:
            self.tree_ = self._new_tree(n_labels)
            self.clustering_ = self._new_clustering(n_labels)
        elif n_new:
            self.tree_.grow_labels(n_new)
            self.clustering_.add_labels(n_new)
            if self._background_ is not None:
                self._background_[0].grow_labels(n_new)
                self._background_[1].add_labels(n_new)
        y = np.zeros(n_labels, dtype=bool)
        y[on] = True
        t = self.n_seen_
        if self._p_.drift_detection and t > 0:
            self._watch_drift(idx, val, y, t)
        for tree, clustering in [(self.tree_, self.clustering_)] + \
                ([self._background_] if self._background_ is not None else []):
            tree.learn(idx, val, y, t)
            clustering.update(on)
        self.n_seen_ += 1

    def _watch_drift(self, idx: np.ndarray, val: np.ndarray, y: np.ndarray, t: int) -> None:
        clusters = self.clustering_.clusters()
        pred, _ = self.tree_.predict(*self._known(idx, val), clusters)
        wrong = pred != y
        p = self._p_
        if self._global_.update(float(wrong.mean()), t):
            self._global_drift(t)
            return
        if self._global_.warned_at == t:   # a new warning: (re)start the alternates
            self._background_ = (self._new_tree(self.encoder_.n_labels),
                                 self._new_clustering(self.encoder_.n_labels))
        live = {cid for cid, _, _ in clusters}
        for cid in list(self._cluster_detectors_):
            if cid not in live:
                del self._cluster_detectors_[cid]
        for cid, labels, _ in clusters:
            det = self._cluster_detectors_.get(cid)
            if det is None:
                det = self._cluster_detectors_[cid] = _Detector(p.drift_delta,
                                                                p.warning_delta)
            if det.update(int(np.count_nonzero(wrong[labels])) / len(labels), t):
                since = det.warned_at if det.warned_at is not None else t
                if self.clustering_.restructure(cid, since):
                    self.drifts_.append((t, "cluster", cid))

    def _global_drift(self, t: int) -> None:
        if self._background_ is not None:
            self.tree_, self.clustering_ = self._background_
        else:
            self.tree_ = self._new_tree(self.encoder_.n_labels)
            self.clustering_ = self._new_clustering(self.encoder_.n_labels)
        self._background_ = None
        self._global_ = _Detector(self._p_.drift_delta, self._p_.warning_delta)
        self._cluster_detectors_ = {}
        self.drifts_.append((t, "global", -1))

    # ------------------------------------------------------------------ prediction
    def _known(self, idx: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The entries of a sparse row whose features the current tree has seen."""
        count = self.tree_.scale.count
        keep = idx < len(count)
        keep[keep] = count[idx[keep]] > 0
        return (idx, val) if keep.all() else (idx[keep], val[keep])

    def _predict_row(self, idx: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.tree_.predict(*self._known(idx, val), self.clustering_.clusters())

    def _predict_dict(self, x: Mapping[Hashable, Any]) -> tuple[np.ndarray, np.ndarray]:
        row = self.encoder_.check_x(x)
        return self._predict_row(row.idx, row.val)

    def predict_proba_one(self, x: Mapping[Hashable, Any]) -> dict[Hashable, dict[bool, float]]:
        """``{label: {False: 1 - p, True: p}}``: per label the probability ``p`` of
        being on (the weighted neighbour vote, or the bagged logistic regressions);
        ``{}`` before learning.

        Parameters
        ----------
        x : dict
            ``{feature: number}``.

        Returns
        -------
        dict
            River's multi-label probabilities.
        """
        if getattr(self, "tree_", None) is None:
            return {}
        return self.encoder_.to_proba_dict(self._predict_dict(x)[1])

    def predict_one(self, x: Mapping[Hashable, Any]) -> dict[Hashable, bool]:
        """``{label: bool}`` for every label seen so far (``{}`` before learning).

        Parameters
        ----------
        x : dict
            ``{feature: number}``.

        Returns
        -------
        dict
            The labels predicted on (True) and off (False).
        """
        if getattr(self, "tree_", None) is None:
            return {}
        return self.encoder_.to_dict(self._predict_dict(x)[0])

    # ------------------------------------------------------------------ arrays
    def fit(self, X: Any, Y: Any) -> "IHOMER":
        """Forgets everything learned, validates the parameters, then learns the rows
        of ``X`` and ``Y`` in order.

        Parameters
        ----------
        X : array-like or scipy sparse matrix of shape (n_samples, n_features)
            Finite features.
        Y : array-like of shape (n_samples, n_labels)
            0/1 labels.

        Returns
        -------
        self
        """
        for name in [k for k in vars(self) if k.endswith("_")]:
            delattr(self, name)
        return self.partial_fit(X, Y)

    def _check_X(self, X: Any) -> sp.csr_array:
        if sp.issparse(X):
            X = sp.csr_array(X, dtype=float)
            X.sum_duplicates()
            values = X.data
        else:
            X = np.asarray(X, dtype=float)
            if X.ndim != 2:
                raise ValueError(f"X must be a non-empty 2-D array, got shape {X.shape}")
            values = X
        if X.shape[0] == 0:
            raise ValueError(f"X must be a non-empty 2-D array, got shape {X.shape}")
        if not np.isfinite(values).all():
            dense = X if isinstance(X, np.ndarray) else X.toarray()
            r, c = np.argwhere(~np.isfinite(dense))[0]
            raise ValueError(f"X[{r}, {c}] = {dense[r, c]} is not finite")
        n_in = getattr(self, "n_features_in_", None)
        if n_in is not None and X.shape[1] != n_in:
            raise ValueError(f"X has {X.shape[1]} features, the model {n_in}")
        return X

    def _check_Y(self, Y: Any, n_rows: int) -> np.ndarray:
        Y = np.asarray(Y)
        if Y.ndim != 2 or Y.shape[0] != n_rows:
            raise ValueError(f"Y must be 2-D with {n_rows} rows, got shape {Y.shape}")
        bad = ~np.isin(Y, (0, 1))
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ValueError(f"Y[{r}, {c}] = {Y[r, c]!r} is not 0/1")
        n_labels = self.encoder_.n_labels if hasattr(self, "encoder_") else 0
        if n_labels and Y.shape[1] != n_labels:
            raise ValueError(f"Y has {Y.shape[1]} labels, the model {n_labels}: the label "
                             "dimension cannot change between partial_fit calls")
        return Y.astype(bool)

    def _rows(self, X: Any) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Sparse rows of ``X`` (columns mapped to the encoder's features)."""
        columns = self._columns_
        order = np.argsort(columns, kind="stable")
        if isinstance(X, np.ndarray):
            idx = columns[order]
            for row in X:
                yield idx, row[order]
            return
        for i in range(X.shape[0]):
            cols = X.indices[X.indptr[i]:X.indptr[i + 1]]
            vals = X.data[X.indptr[i]:X.indptr[i + 1]]
            at = np.argsort(columns[cols], kind="stable")
            yield columns[cols][at], vals[at]

    def partial_fit(self, X: Any, Y: Any) -> "IHOMER":
        """Learns the rows of ``X`` and ``Y`` in order.

        The whole batch is checked first, so a bad batch changes nothing; the first
        call validates the parameters and fixes the number of columns.

        Parameters
        ----------
        X : array-like or scipy sparse matrix of shape (n_samples, n_features)
            Finite features (the same number of columns in every call); column ``j``
            is the feature named ``j``, and a sparse matrix leaves its zeros out.
        Y : array-like of shape (n_samples, n_labels)
            0/1 labels (the same number in every call); column ``l`` is the ``l``-th
            label in order of first appearance.

        Returns
        -------
        self
        """
        X = self._check_X(X)
        Y = self._check_Y(Y, X.shape[0])
        if not hasattr(self, "encoder_"):
            self._setup()
        if not hasattr(self, "n_features_in_"):
            enc = self.encoder_
            enc.commit([j for j in range(X.shape[1]) if j not in enc.feature_index], [])
            self._columns_ = np.array([enc.feature_index[j] for j in range(X.shape[1])],
                                      dtype=np.int64)
            self.n_features_in_ = X.shape[1]
        n_new = 0
        if self.encoder_.n_labels == 0:
            self.encoder_.commit([], list(range(Y.shape[1])))
            n_new = Y.shape[1]
        for (idx, val), yv in zip(self._rows(X), Y):
            self._learn(idx, val, np.flatnonzero(yv), n_new)
            n_new = 0
        return self

    def _predict_arrays(self, X: Any, which: int) -> np.ndarray:
        if getattr(self, "tree_", None) is None or not hasattr(self, "n_features_in_"):
            raise NotFittedError("This IHOMER instance has not learned from arrays yet: "
                                 "call partial_fit or fit first")
        X = self._check_X(X)
        return np.array([self._predict_row(idx, val)[which] for idx, val in self._rows(X)])

    def predict(self, X: Any) -> np.ndarray:
        """``(n, L)`` 0/1 predictions, labels in the order they were first seen.

        Parameters
        ----------
        X : array-like or scipy sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_labels)
        """
        return self._predict_arrays(X, 0).astype(np.int64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, L)`` probabilities of each label being on.

        Parameters
        ----------
        X : array-like or scipy sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_labels)
        """
        return self._predict_arrays(X, 1).astype(float)

    # ------------------------------------------------------------------ inspection
    @property
    def labels_(self) -> list[Hashable]:
        if not hasattr(self, "encoder_"):
            raise NotFittedError("This IHOMER instance has not learned yet")
        return list(self.encoder_.labels)

    def label_clusters(self) -> list[list[Hashable]]:
        """The current label clusters, as lists of labels.

        Returns
        -------
        list of list
            Disjoint clusters covering every label.
        """
        if getattr(self, "tree_", None) is None:
            raise NotFittedError("This IHOMER instance has not learned yet")
        return [[self.encoder_.labels[i] for i in c] for c in self.clustering_.partition()]


def authors_preset(**params: Any) -> IHOMER:
    """IHOMER with the authors' settings (:data:`AUTHORS_SETTINGS`).

    Parameters
    ----------
    **params
        Settings that override the preset (e.g. ``random_state``).

    Returns
    -------
    IHOMER
        The configured model.

    Examples
    --------
    >>> model = authors_preset(random_state=0)
    >>> model.n_neighbors, model.window_size, model.br_learner, model.cluster_grace_period
    (4, 170, 'bagged-logistic', 1500)
    """
    return IHOMER(**{**AUTHORS_SETTINGS, **params})
