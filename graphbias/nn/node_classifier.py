"""A scikit-learn node classifier on a GCN, GraphSAGE or GAT backbone."""
from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (check_consistent_length, check_is_fitted,
                                      column_or_1d, validate_data)

from .._validation import (Boolean, Device, Integer, Options, RandomState, Real,
                           deprecated_attribute, train_losses)
from ..base import (EstimatorMixin, node_mask, predict_graph, resolve_graph_input,
                    seed_from, to_scipy_or_array, torch_seed)
from ..data.graph import Graph, as_graph, features_to_tensor
from .distributed import Shard, reduced_loss, reduced_validation, shard, shared_loss
from .functional import Features, as_features
from .models import CONVS, GNN
from .training import EarlyStopping, fit_module

__all__ = ["NodeClassifier"]

# Per-backbone defaults from the papers (Kipf & Welling 2017, Hamilton et al. 2017,
# Velickovic et al. 2018): hidden size, dropout, learning rate.
_DEFAULTS = {"gcn": (16, 0.5, 0.01), "sage": (16, 0.5, 0.01), "gat": (8, 0.6, 0.005)}


class NodeClassifier(EstimatorMixin, ClassifierMixin, BaseEstimator):
    r"""Semi-supervised node classification with a graph neural network.

    ``fit(X, y, *, graph, train_mask, val_mask)`` trains on the nodes of
    ``train_mask`` (all nodes by default) with full-batch Adam on the
    cross-entropy and keeps the weights of the epoch with the best validation
    accuracy (ties: lower validation loss). Without ``val_mask`` (and no
    ``graph.val_mask``) a stratified ``validation_fraction`` of the training nodes
    is held out for that, unless ``early_stopping=False``. ``X`` may be dense or
    sparse (scipy or torch): sparse features stay sparse. Without a graph each row
    is an isolated node, so the model is an MLP over rows and the scikit-learn
    checks apply.

    Prediction without ``graph=`` reuses the graph of ``fit`` when ``X`` has one
    row per node of it and raises otherwise; ``graph="isolated"`` predicts every
    row as an isolated node on purpose.

    **Cross-validation over nodes.** With ``node_ids=True``, ``X`` holds node ids
    (one column) of the graph given to ``fit``, whose ``x`` carries the features:
    ``fit`` trains on the nodes of ``X`` (message passing still reads the whole
    graph), ``predict`` returns the classes of the nodes of ``X``. Splitting ``X``
    then splits nodes, so ``cross_val_score`` and ``GridSearchCV`` work::

        ids = np.arange(g.num_nodes).reshape(-1, 1)
        cross_val_score(NodeClassifier(node_ids=True), ids, y, params={"graph": g})

    Parameters
    ----------
    conv : {"gcn", "sage", "gat"}, default="gcn"
        The graph convolution.
    hidden_channels : int or None, default=None
        Hidden width (``None``: the backbone's published 16, GAT 8 per head).
    num_layers : int, default=2
        Number of graph convolutions.
    heads : int, default=8
        Attention heads of GAT's hidden layers.
    dropout : float or None, default=None
        Dropout before every layer (``None``: 0.5, GAT 0.6).
    lr : float or None, default=None
        Adam's learning rate (``None``: 0.01, GAT 0.005).
    weight_decay : float, default=5e-4
        L2 penalty (Adam).
    max_epochs : int, default=200
        Training epochs at most.
    patience : int or None, default=100
        Stop after that many epochs without validation improvement (``None``: run
        every epoch, keep the best).
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training nodes when no validation
        nodes are given.
    validation_fraction : float, default=0.1
        Share of the training nodes held out, in (0, 1).
    node_ids : bool, default=False
        ``X`` holds node ids instead of features (see above).
    random_state : int, RandomState, Generator or None, default=None
        Seeds initialisation, dropout and the validation split.
    device : str or torch.device, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"`` (CUDA when available).
    verbose : bool, default=False
        Show a progress bar with the training loss and validation accuracy.
    distributed : bool, default=False
        Train data-parallel over graph partitions in the initialised
        ``torch.distributed`` process group: each process calls ``fit`` with the
        same data, trains on its part's halo (:mod:`graphbias.nn.distributed`) and
        all end with the same weights, equal to one-process training up to float
        rounding when ``dropout=0`` (dropout masks differ per process).

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained :class:`~graphbias.nn.GNN`.
    classes_ : ndarray
        The class labels.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``val_acc``
        (when validating), ``lr``, ``seconds``.
    n_epochs_, best_epoch_ : int
        Epochs run, and the epoch whose weights the model holds.
    best_score_ : float or None
        Validation accuracy of ``best_epoch_`` (``None`` without validation).
    graph_ : Graph or None
        The graph of ``fit`` (reused by prediction without ``graph=``).
    n_features_in_ : int
        Number of node features.
    device_ : torch.device
        Where the model lives.

    Examples
    --------
    >>> from graphbias.data.synthetic import karate_club
    >>> g = karate_club()
    >>> clf = NodeClassifier(random_state=0, max_epochs=100)
    >>> clf = clf.fit(g.x, g.y, graph=g, train_mask=g.train_mask, val_mask=g.val_mask)
    >>> clf.predict(g.x).shape          # the graph of fit is reused
    (34,)
    """

    _parameter_constraints = {
        "conv": [Options(*CONVS)],
        "hidden_channels": [Integer(1), None],
        "num_layers": [Integer(1)],
        "heads": [Integer(1)],
        "dropout": [Real(0, 1, closed="left"), None],
        "lr": [Real(0, None, closed="neither"), None],
        "weight_decay": [Real(0)],
        "max_epochs": [Integer(1)],
        "patience": [Integer(1), None],
        "early_stopping": [Boolean()],
        "validation_fraction": [Real(0, 1, closed="neither")],
        "node_ids": [Boolean()],
        "random_state": [RandomState()],
        "device": [Device()],
        "verbose": [Boolean()],
        "distributed": [Boolean()],
    }

    loss_curve_ = deprecated_attribute("loss_curve_", "history_", train_losses)

    def __init__(self, conv: str = "gcn", hidden_channels: Optional[int] = None,
                 num_layers: int = 2, heads: int = 8, dropout: Optional[float] = None,
                 lr: Optional[float] = None, weight_decay: float = 5e-4,
                 max_epochs: int = 200, patience: Optional[int] = 100,
                 early_stopping: bool = True, validation_fraction: float = 0.1,
                 node_ids: bool = False, random_state: Any = None, device: Any = "cpu",
                 verbose: bool = False, distributed: bool = False) -> None:
        self.conv = conv
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.heads = heads
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.patience = patience
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.node_ids = node_ids
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.distributed = distributed

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _begin_fit(self) -> Any:
        params = super()._begin_fit()
        if params.distributed:
            from .distributed import world

            world()
        return params

    # ---------------------------------------------------------------- inputs
    def _node_rows(self, X: Any, g: Graph) -> torch.Tensor:
        """The node ids of ``X`` in ``node_ids`` mode, checked against ``g``."""
        ids = np.asarray(X)
        if ids.ndim == 2 and ids.shape[1] == 1:
            ids = ids[:, 0]
        if ids.ndim != 1 or not (np.issubdtype(ids.dtype, np.integer)
                                 or (np.issubdtype(ids.dtype, np.floating)
                                     and np.all(np.mod(ids, 1) == 0))):
            raise ValueError("node_ids=True: X must hold integer node ids, one per row "
                             f"(shape (n,) or (n, 1)); got {ids.dtype} of shape {ids.shape}")
        if ids.size == 0:
            raise ValueError("node_ids=True: X holds no node id")
        if ids.min() < 0 or ids.max() >= g.num_nodes:
            raise ValueError(f"node_ids=True: X has node ids outside [0, {g.num_nodes})")
        if np.unique(ids).size != ids.size:
            raise ValueError("node_ids=True: X lists a node id more than once")
        if g.x is None:
            raise ValueError("node_ids=True needs the features on the graph (graph.x)")
        return torch.from_numpy(ids.astype(np.int64))

    def _inputs(self, X: Any, graph: Any, fitting: bool, y: Any = "no_validation"
                ) -> tuple[Features, Graph, Optional[torch.Tensor], Any]:
        """Features of every node, the graph, in ``node_ids`` mode the nodes that
        are ``X``'s rows (``None``: every node, in order), and ``y`` validated
        against ``X`` when given."""
        if self.node_ids:
            if fitting and graph is None:
                raise ValueError("node_ids=True: fit needs graph=... carrying x")
            g = self.graph_ if graph is None else as_graph(graph)
            rows = self._node_rows(X, g)
            if not _no_y(y):
                if y is None:
                    raise ValueError(f"{type(self).__name__} requires y to be passed, "
                                     "but the target y is None")
                y = column_or_1d(y, warn=True)
                check_consistent_length(rows, y)
            x = validate_data(self, to_scipy_or_array(g.x), accept_sparse="csr",
                              dtype=np.float32, reset=fitting)
            return as_features(features_to_tensor(x)), g, rows, y
        if not _no_y(y):
            X, y = validate_data(self, to_scipy_or_array(X), y, accept_sparse="csr",
                                 dtype=np.float32, reset=fitting)
        else:
            X = validate_data(self, to_scipy_or_array(X), accept_sparse="csr",
                              dtype=np.float32, reset=fitting)
        if fitting:
            g = resolve_graph_input(X, graph, n_rows=X.shape[0])
        else:
            g = predict_graph(self.graph_, graph, n_rows=X.shape[0])
        return as_features(features_to_tensor(X)), g, None, y

    # ------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any, *, graph: Any = None, train_mask: Any = None,
            val_mask: Any = None) -> "NodeClassifier":
        """Trains on the ``train_mask`` nodes (all by default).

        Parameters
        ----------
        X : array-like or sparse of shape (n_nodes, n_features)
            One row per node of ``graph`` (node ids with ``node_ids=True``).
        y : array-like of shape (n_nodes,)
            Labels; only those of training and validation nodes are read.
        graph : graph-like, optional
            Anything :func:`graphbias.as_graph` reads (``None``: isolated nodes).
        train_mask, val_mask : array-like, optional
            Boolean masks or node ids.

        Returns
        -------
        self
        """
        p = self._begin_fit()
        x, g, codes, train, val, seed = self._prepare_fit(X, y, graph, train_mask,
                                                          val_mask, p)
        hidden, drop, lr = _DEFAULTS[p.conv]
        hidden = p.hidden_channels or hidden
        drop = drop if p.dropout is None else p.dropout
        with torch_seed(seed):
            module = GNN(x.num_cols if not isinstance(x, torch.Tensor) else x.size(1),
                         hidden, len(self.classes_), p.num_layers, p.conv, drop, p.heads)
            self.module_ = module.to(self.device_)
            self._train(x, g, codes, train, val, lr if p.lr is None else p.lr, p)
        return self

    def _prepare_fit(self, X: Any, y: Any, graph: Any, train_mask: Any, val_mask: Any,
                     p: Any) -> tuple[Features, Graph, torch.Tensor, torch.Tensor,
                                      Optional[torch.Tensor], int]:
        """Validated features, graph, label codes (-1 outside train / val), train
        and validation masks and the seed drawn from ``random_state``; sets
        ``classes_``, ``graph_`` and ``n_features_in_``."""
        x, g, rows, y = self._inputs(X, graph, fitting=True, y=y)
        n = g.num_nodes
        if rows is not None:
            if train_mask is not None or val_mask is not None:
                raise ValueError("node_ids=True: the training nodes are X's ids and the "
                                 "validation nodes are drawn from them "
                                 "(validation_fraction); train_mask / val_mask do not apply")
            full = np.empty(n, dtype=y.dtype)
            full[rows.numpy()] = y
            y, train = full, node_mask("X", rows, n)
        else:
            train = node_mask("train_mask", train_mask, n)
            if train is None:
                train = g.train_mask if g.train_mask is not None else \
                    torch.ones(n, dtype=torch.bool)
        if not bool(train.any()):
            raise ValueError("train_mask selects no node")
        check_classification_targets(y[train.numpy()])
        self._encoder_ = LabelEncoder().fit(y[train.numpy()])
        self.classes_ = self._encoder_.classes_
        codes = np.full(n, -1, dtype=np.int64)
        codes[train.numpy()] = self._encoder_.transform(y[train.numpy()])
        val = node_mask("val_mask", val_mask, n)
        if val is None and rows is None and g.val_mask is not None:
            val = g.val_mask
        seed = seed_from(p.random_state)
        if val is not None:
            if not bool(val.any()):
                raise ValueError("val_mask selects no node")
            both = int((val & train).sum())
            if both:
                warnings.warn(f"{both} nodes are in both train_mask and val_mask: "
                              "validation then measures training accuracy", UserWarning)
            known = np.isin(y[val.numpy()], self.classes_)
            if not known.all():
                raise ValueError("val_mask holds nodes whose labels never occur in training")
            codes[val.numpy()] = self._encoder_.transform(y[val.numpy()])
        elif p.early_stopping and int(train.sum()) >= 2 * len(self.classes_):
            train, val = self._split_validation(train, codes, seed, p.validation_fraction)
        self.graph_ = None if graph is None else g
        return x, g, torch.as_tensor(codes), train, val, seed

    def _split_validation(self, train: torch.Tensor, codes: np.ndarray, seed: int,
                          fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
        from sklearn.model_selection import train_test_split

        ids = train.nonzero().view(-1).numpy()
        labels = codes[ids]
        n_val = max(1, int(round(fraction * ids.size)))
        stratify = labels if (np.bincount(labels).min() >= 2
                              and n_val >= len(self.classes_)) else None
        fit_ids, val_ids = train_test_split(ids, test_size=n_val,
                                            random_state=seed, stratify=stratify)
        n = train.numel()
        return node_mask("train", fit_ids, n), node_mask("val", val_ids, n)

    def _shard(self, x: Features, g: Graph, y: torch.Tensor, train: torch.Tensor,
               val: Optional[torch.Tensor], module: torch.nn.Module) -> Shard:
        """This process's training view (see :func:`graphbias.nn.distributed.shard`),
        on the fit device."""
        dev = self.device_
        part = shard(x, g, y, train, val, module, self.num_layers, self.distributed)
        move = lambda t: None if t is None else t.to(dev)  # noqa: E731
        return part._replace(x=_to(part.x, dev), graph=part.graph.to(dev), y=move(part.y),
                             train=move(part.train), val=move(part.val),
                             owned=move(part.owned))

    def _stopping(self, val: Optional[torch.Tensor], patience: Optional[int],
                  monitor: str, mode: str, tiebreak: tuple[str, str]
                  ) -> Optional[EarlyStopping]:
        if val is None:
            return None
        return EarlyStopping(monitor, mode, patience, tiebreak=tiebreak)

    def _fit_result(self, result: Any) -> None:
        self.history_ = result.history
        self.n_epochs_, self.best_epoch_ = result.n_epochs, result.best_epoch
        self.best_score_ = result.best_score

    def _train(self, x: Features, g: Graph, y: torch.Tensor, train: torch.Tensor,
               val: Optional[torch.Tensor], lr: float, p: Any) -> None:
        model = self.module_
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=p.weight_decay)
        x, g, y, train, val, _, _, size, total, step_model = self._shard(
            x, g, y, train, val, model)
        y_train, y_val = y[train], (None if val is None else y[val])

        def step(_: Any) -> torch.Tensor:
            return shared_loss(step_model(x, g)[train], y_train, total, size)

        def validate() -> dict[str, float]:
            logits = model(x, g)[val]
            return reduced_validation(
                float(F.cross_entropy(logits, y_val, reduction="sum")),
                float((logits.argmax(1) == y_val).sum()), float(y_val.numel()), total > 0)

        result = fit_module(
            model, opt, step, max_epochs=p.max_epochs,
            validate=None if val is None else validate,
            stopping=self._stopping(val, p.patience, "val_acc", "max", ("val_loss", "min")),
            reduce_loss=(lambda v: reduced_loss(v, size)) if total else None,
            verbose=p.verbose, desc=type(self).__name__)
        self._fit_result(result)

    # --------------------------------------------------------------- predict
    def _logits(self, X: Any, graph: Any) -> torch.Tensor:
        """Logits of ``X``'s rows, on the CPU."""
        check_is_fitted(self)
        x, g, rows, _ = self._inputs(X, graph, fitting=False)
        out = self._forward(_to(x, self.device_), g.to(self.device_)).cpu()
        return out if rows is None else out[rows]

    def _forward(self, x: Features, g: Graph) -> torch.Tensor:
        self.module_.eval()
        with torch.no_grad():
            return self.module_(x, g)

    def decision_function(self, X: Any, *, graph: Any = None) -> np.ndarray:
        """Logits ``[n, n_classes]`` of ``X``'s nodes (``[n]`` margins when binary)."""
        logits = self._logits(X, graph)
        if logits.size(1) == 2:
            logits = logits[:, 1] - logits[:, 0]
        return logits.numpy()

    def predict_proba(self, X: Any, *, graph: Any = None) -> np.ndarray:
        """Class probabilities ``[n, n_classes]`` of ``X``'s nodes."""
        return torch.softmax(self._logits(X, graph), dim=1).numpy()

    def predict(self, X: Any, *, graph: Any = None) -> np.ndarray:
        """The class of each of ``X``'s nodes."""
        codes = self._logits(X, graph).argmax(1).numpy()
        return self.classes_[codes]

    def score(self, X: Any, y: Any, sample_weight: Any = None, *, graph: Any = None,
              mask: Any = None) -> float:
        """Accuracy (greater is better) over the nodes of ``mask`` (all of ``X``'s
        nodes by default)."""
        from sklearn.metrics import accuracy_score

        pred = self.predict(X, graph=graph)
        y = np.asarray(y)
        m = node_mask("mask", mask, len(pred))
        if m is not None:
            pred, y = pred[m.numpy()], y[m.numpy()]
            if sample_weight is not None:
                sample_weight = np.asarray(sample_weight)[m.numpy()]
        return float(accuracy_score(y, pred, sample_weight=sample_weight))


def _to(x: Features, device: torch.device) -> Features:
    return x.to(device)


def _no_y(y: Any) -> bool:
    return isinstance(y, str) and y == "no_validation"
