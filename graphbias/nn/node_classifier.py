"""A scikit-learn node classifier on a GCN, GraphSAGE or GAT backbone."""
from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import (EarlyStopping, node_mask, resolve_graph_input, seed_from,
                    to_scipy_or_array, torch_seed)
from ..data.graph import Graph, features_to_tensor
from .functional import Features, as_features
from .models import CONVS, GNN

__all__ = ["NodeClassifier"]

# Per-backbone defaults from the papers (Kipf & Welling 2017, Hamilton et al. 2017,
# Velickovic et al. 2018): hidden size, dropout, learning rate.
_DEFAULTS = {"gcn": (16, 0.5, 0.01), "sage": (16, 0.5, 0.01), "gat": (8, 0.6, 0.005)}


class Shard(NamedTuple):
    """One process's part of distributed training: the halo view (``x``, ``graph``,
    ``y``, the ``train`` / ``val`` masks restricted to owned nodes), ``nodes`` (global
    id of each local node), ``owned`` (local mask), the world ``size``, ``total``
    training nodes over all processes and the ``DistributedDataParallel`` model.
    In one process: the data as given, ``None``, ``None``, 1, 0 and the model."""

    x: Features
    graph: Graph
    y: torch.Tensor
    train: torch.Tensor
    val: Optional[torch.Tensor]
    nodes: Optional[torch.Tensor]
    owned: Optional[torch.Tensor]
    size: int
    total: float
    model: torch.nn.Module


class NodeClassifier(ClassifierMixin, BaseEstimator):
    """Semi-supervised node classification with a graph neural network.

    ``fit(X, y, *, graph, train_mask, val_mask)`` trains on the nodes of
    ``train_mask`` (all nodes by default) with full-batch Adam and keeps the
    weights of the epoch with the best validation accuracy (ties: lower validation
    loss). Without ``val_mask`` (and no ``graph.val_mask``) a stratified
    ``validation_fraction`` of the training nodes is held out for that, unless
    ``early_stopping=False``. ``X`` may be dense or sparse (scipy or torch): sparse
    features stay sparse. Without a graph each row is an isolated node, so the
    model is an MLP over rows and the scikit-learn checks apply.

    Parameters:
        conv: ``"gcn"``, ``"sage"`` or ``"gat"``.
        hidden_channels, dropout, lr: ``None`` takes the backbone's published
            defaults (GCN/SAGE: 16, 0.5, 0.01; GAT: 8 x 8 heads, 0.6, 0.005).
        num_layers: number of graph convolutions.
        heads: attention heads of GAT's hidden layers.
        weight_decay: L2 penalty (Adam).
        max_epochs: training epochs; patience: stop after that many epochs
            without validation improvement (``None``: run all epochs).
        early_stopping, validation_fraction: see above.
        random_state: seed for initialisation, dropout and the validation split.
        verbose: show a progress bar.
        distributed: train data-parallel over graph partitions in the initialised
            ``torch.distributed`` process group: each process calls ``fit`` with the
            same data, trains on its part's halo (:mod:`graphbias.nn.distributed`)
            and all end with the same weights, equal to one-process training up to
            float rounding when ``dropout=0`` (dropout masks differ per process).

    >>> import networkx as nx
    >>> from graphbias.data.synthetic import karate_club
    >>> g = karate_club()
    >>> clf = NodeClassifier(random_state=0, max_epochs=100)
    >>> clf = clf.fit(g.x, g.y, graph=g, train_mask=g.train_mask, val_mask=g.val_mask)
    >>> clf.predict(g.x, graph=g).shape
    (34,)
    """

    def __init__(self, conv: str = "gcn", hidden_channels: Optional[int] = None,
                 num_layers: int = 2, heads: int = 8, dropout: Optional[float] = None,
                 lr: Optional[float] = None, weight_decay: float = 5e-4,
                 max_epochs: int = 200, patience: Optional[int] = 100,
                 early_stopping: bool = True, validation_fraction: float = 0.1,
                 random_state: Any = None, verbose: bool = False,
                 distributed: bool = False) -> None:
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
        self.random_state = random_state
        self.verbose = verbose
        self.distributed = distributed

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------ validation
    def _check_params(self) -> None:
        if self.conv not in CONVS:
            raise ValueError(f"conv must be one of {CONVS}, got {self.conv!r}")
        self._check_distributed()
        for name in ("num_layers", "heads", "max_epochs"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self._check_validation_fraction()

    def _check_distributed(self) -> None:
        if self.distributed:
            from .distributed import world

            world()

    def _check_validation_fraction(self) -> None:
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction}")

    def _features(self, X: Any, graph: Any, reset: bool) -> tuple[Features, Graph]:
        X = validate_data(self, to_scipy_or_array(X), accept_sparse="csr",
                          dtype=np.float32, reset=reset)
        g = resolve_graph_input(X, graph, n_rows=X.shape[0])
        return as_features(features_to_tensor(X)), g

    # ------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any, *, graph: Any = None, train_mask: Any = None,
            val_mask: Any = None) -> "NodeClassifier":
        """Trains on ``train_mask`` nodes; ``X`` has one row per node of ``graph``."""
        self._check_params()
        x, g, codes, train, val, seed = self._prepare_fit(X, y, graph, train_mask, val_mask)
        hidden, drop, lr = _DEFAULTS[self.conv]
        hidden = self.hidden_channels or hidden
        drop = drop if self.dropout is None else self.dropout
        lr = lr if self.lr is None else self.lr
        with torch_seed(seed):
            self.module_ = GNN(x.num_cols if not isinstance(x, torch.Tensor) else x.size(1),
                               hidden, len(self.classes_), self.num_layers, self.conv,
                               drop, self.heads)
            self._train(x, g, codes, train, val, lr)
        return self

    def _prepare_fit(self, X: Any, y: Any, graph: Any, train_mask: Any,
                     val_mask: Any) -> tuple[Features, Graph, torch.Tensor, torch.Tensor,
                                             Optional[torch.Tensor], int]:
        """Validated features, graph, label codes (-1 outside train / val), train
        and validation masks and the seed drawn from ``random_state``; sets
        ``classes_`` and ``n_features_in_``."""
        X, y = validate_data(self, to_scipy_or_array(X), y, accept_sparse="csr",
                             dtype=np.float32, reset=True)
        x, g = self._features(X, graph, reset=False)
        n = g.num_nodes
        train = node_mask("train_mask", train_mask, n)
        if train is None:
            train = g.train_mask if g.train_mask is not None else torch.ones(n, dtype=torch.bool)
        if not bool(train.any()):
            raise ValueError("train_mask selects no node")
        check_classification_targets(y[train.numpy()])
        self._encoder = LabelEncoder().fit(y[train.numpy()])
        self.classes_ = self._encoder.classes_
        codes = np.full(n, -1, dtype=np.int64)
        codes[train.numpy()] = self._encoder.transform(y[train.numpy()])
        val = node_mask("val_mask", val_mask, n)
        if val is None and g.val_mask is not None:
            val = g.val_mask
        seed = seed_from(self.random_state)
        if val is not None:
            known = np.isin(y[val.numpy()], self.classes_)
            if not known.all():
                raise ValueError("val_mask holds nodes whose labels never occur in training")
            codes[val.numpy()] = self._encoder.transform(y[val.numpy()])
        elif self.early_stopping and int(train.sum()) >= 2 * len(self.classes_):
            train, val = self._split_validation(train, codes, seed)
        return x, g, torch.as_tensor(codes), train, val, seed

    def _shard(self, x: Features, g: Graph, y: torch.Tensor, train: torch.Tensor,
               val: Optional[torch.Tensor], module: Optional[torch.nn.Module] = None
               ) -> "Shard":
        """What this process trains on: with ``distributed``, its halo view of the
        data (see :mod:`graphbias.nn.distributed`) and ``module`` (default
        ``module_``) wrapped in ``DistributedDataParallel``; otherwise everything
        as given (world size 1, ``total`` 0, no ``nodes`` / ``owned``)."""
        module = module or self.module_
        if not self.distributed:
            return Shard(x, g, y, train, val, None, None, 1, 0.0, module)
        from torch.nn.parallel import DistributedDataParallel

        from .distributed import all_reduce_sum, local_partition, rows_of, world

        rank, size = world()
        part = local_partition(g, self.num_layers, rank, size)
        owned = part.owned_mask()
        keep = lambda m: None if m is None else m[part.nodes] & owned  # noqa: E731
        train = keep(train)
        return Shard(rows_of(x, part.nodes), part.graph, y[part.nodes], train, keep(val),
                     part.nodes, owned, size, all_reduce_sum(float(train.sum()))[0],
                     DistributedDataParallel(module))

    def _reduced_validation(self, val_loss: float, val_hits: float, count: float,
                            total: float) -> tuple[float, float]:
        """Mean validation loss and accuracy, summed over processes when distributed
        (``total`` > 0); the inputs are this process's sums and node count."""
        if total:
            from .distributed import all_reduce_sum

            val_loss, val_hits, count = all_reduce_sum(val_loss, val_hits, count)
        return val_loss / count, val_hits / count

    @staticmethod
    def _reduced_loss(loss: torch.Tensor, total: float, size: int) -> float:
        """The full-batch training loss: the processes' scaled losses averaged when
        distributed (``total`` > 0)."""
        if not total:
            return float(loss.detach())
        from .distributed import all_reduce_sum

        return all_reduce_sum(float(loss.detach()) / size)[0]

    def _step_loss(self, logits: torch.Tensor, y: torch.Tensor, total: float,
                   size: int) -> torch.Tensor:
        """Mean loss; distributed: this part's share scaled so that the average of
        the processes' gradients is the full-batch gradient."""
        if total == 0:
            return F.cross_entropy(logits, y)
        return F.cross_entropy(logits, y, reduction="sum") * (size / total)

    def _split_validation(self, train: torch.Tensor, codes: np.ndarray,
                          seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        from sklearn.model_selection import train_test_split

        ids = train.nonzero().view(-1).numpy()
        labels = codes[ids]
        n_val = max(1, int(round(self.validation_fraction * ids.size)))
        stratify = labels if (np.bincount(labels).min() >= 2
                              and n_val >= len(self.classes_)) else None
        fit_ids, val_ids = train_test_split(ids, test_size=n_val,
                                            random_state=seed, stratify=stratify)
        n = train.numel()
        return node_mask("train", fit_ids, n), node_mask("val", val_ids, n)

    def _train(self, x: Features, g: Graph, y: torch.Tensor, train: torch.Tensor,
               val: Optional[torch.Tensor], lr: float) -> None:
        from tqdm import trange

        model = self.module_
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=self.weight_decay)
        stopper = EarlyStopping(self.patience if val is not None else None)
        x, g, y, train, val, _, _, size, total, step_model = self._shard(x, g, y, train, val)
        y_train, y_val = y[train], (None if val is None else y[val])
        self.loss_curve_: list[float] = []
        for _ in trange(self.max_epochs, disable=not self.verbose, desc="epochs"):
            step_model.train()
            opt.zero_grad()
            loss = self._step_loss(step_model(x, g)[train], y_train, total, size)
            loss.backward()
            opt.step()
            self.loss_curve_.append(self._reduced_loss(loss, total, size))
            if val is None:
                continue
            model.eval()
            with torch.no_grad():
                logits = model(x, g)[val]
                val_loss = float(F.cross_entropy(logits, y_val, reduction="sum"))
                val_hits = float((logits.argmax(1) == y_val).sum())
            val_loss, val_acc = self._reduced_validation(val_loss, val_hits,
                                                         float(y_val.numel()), total)
            if stopper.step(val_acc, val_loss, model):
                break
        stopper.restore(model)
        model.eval()
        self.n_epochs_ = len(self.loss_curve_)
        self.best_epoch_ = stopper.best_epoch if val is not None else self.n_epochs_ - 1
        self.best_val_score_ = stopper.best[0] if val is not None else None

    # --------------------------------------------------------------- predict
    def _logits(self, X: Any, graph: Any) -> torch.Tensor:
        check_is_fitted(self)
        x, g = self._features(X, graph, reset=False)
        self.module_.eval()
        with torch.no_grad():
            return self.module_(x, g)

    def decision_function(self, X: Any, *, graph: Any = None) -> np.ndarray:
        """Logits ``[N, n_classes]`` for every node (``[N]`` margins when binary)."""
        logits = self._logits(X, graph)
        if logits.size(1) == 2:
            logits = logits[:, 1] - logits[:, 0]
        return logits.numpy()

    def predict_proba(self, X: Any, *, graph: Any = None) -> np.ndarray:
        return torch.softmax(self._logits(X, graph), dim=1).numpy()

    def predict(self, X: Any, *, graph: Any = None) -> np.ndarray:
        codes = self._logits(X, graph).argmax(1).numpy()
        return self.classes_[codes]

    def score(self, X: Any, y: Any, sample_weight: Any = None, *, graph: Any = None,
              mask: Any = None) -> float:
        """Accuracy over the nodes of ``mask`` (all nodes by default)."""
        from sklearn.metrics import accuracy_score

        pred = self.predict(X, graph=graph)
        y = np.asarray(y)
        m = node_mask("mask", mask, len(pred))
        if m is not None:
            pred, y = pred[m.numpy()], y[m.numpy()]
            if sample_weight is not None:
                sample_weight = np.asarray(sample_weight)[m.numpy()]
        return float(accuracy_score(y, pred, sample_weight=sample_weight))
