"""``LAGNNClassifier``: a :class:`~graphbias.nn.NodeClassifier` with local augmentation."""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import clone

from ..base import EarlyStopping, torch_seed
from ..data.graph import Graph
from ..nn import NodeClassifier
from ..nn.functional import Features
from .augmenter import ConditionedGenerator, LocalAugmenter
from .models import LAGNN, consistency_loss, is_attention, resolve_backbone

__all__ = ["LAGNNClassifier"]

# LAGNN's Cora settings (Liu et al. 2022, their run script): hidden units per
# branch, dropout, learning rate, heads of the first layer.
_DEFAULTS = {"gcn": (8, 0.5, 0.01, 1), "sage": (8, 0.5, 0.01, 1), "gat": (8, 0.6, 0.01, 4)}


class LAGNNClassifier(NodeClassifier):
    r"""Node classification with local augmentation (Liu et al., ICML 2022).

    ``fit`` first trains a :class:`LocalAugmenter` on the graph (the generator of
    neighbour features given a centre node), then an :class:`LAGNN` whose first
    layer runs in parallel on the original features and ``n_generated`` generated
    matrices. Every epoch draws ``n_samples`` fresh sets of generated matrices;
    the loss is the mean cross-entropy over the samples on the training nodes plus
    ``consistency_weight`` times the :func:`consistency_loss` of the samples'
    predictions with their sharpened mean (``temperature``).

    Validation and prediction average the probabilities over ``n_samples`` sets
    drawn with a seed fixed at fit time, so predictions are deterministic. The
    weights of the epoch with the lowest validation loss are kept (ties: higher
    accuracy); ``patience`` epochs without improvement stop training.
    ``fit`` / ``predict`` / ``predict_proba`` / ``decision_function`` / ``score``
    take the same arguments as :class:`~graphbias.nn.NodeClassifier`.

    Parameters:
        backbone: ``"gcn"``, ``"sage"``, ``"gat"``, or a convolution class of
            :mod:`graphbias.nn` or ``torch_geometric.nn`` (e.g. ``GCNConv``).
        n_samples: augmented forward passes per epoch (consistency needs >= 2).
        n_generated: generated matrices per pass (parallel branches besides the
            original features).
        sample_pool: ``None`` (the paper) decodes fresh matrices for every pass
            of every epoch; an integer decodes that many once per ``fit`` and
            every pass picks ``n_generated`` of them at random. On a CPU decoding
            dominates an epoch (a ``[N, hidden] x [hidden, F]`` product per
            matrix), so a pool makes training several times faster, at the cost of
            ``sample_pool * N * F`` floats of memory; dropout on the generated
            features still makes every pass different.
        hidden_channels, dropout, lr, heads: ``None`` takes LAGNN's Cora settings
            (8 units per branch; dropout 0.5, GAT 0.6; lr 0.01; GAT 4 heads).
        temperature, consistency_weight: sharpening temperature and weight of the
            consistency loss (paper: 0.5, 1.0).
        augmenter: a :class:`LocalAugmenter`; unfitted (default: one with the
            paper's settings) it is cloned and fitted on the graph inside ``fit``,
            fitted it is used as is.
        num_layers, weight_decay, max_epochs, patience, early_stopping,
        validation_fraction, random_state, verbose: as for ``NodeClassifier``.
        distributed: train data-parallel over graph partitions in the initialised
            ``torch.distributed`` process group, as ``NodeClassifier(distributed=True)``:
            process 0 fits the generator and sends it to the others, each process
            decodes generated features for its own halo only and all end with the
            same weights, equal to one-process training up to float rounding when
            ``dropout=0`` and ``sample_pool`` is set (fresh draws and dropout masks
            differ per process).

    Fitted attributes besides ``NodeClassifier``'s: ``augmenter_``,
    ``generator_seconds_`` (0 for a fitted ``augmenter``), ``fit_seconds_``.

    >>> from graphbias.data.synthetic import sbm
    >>> g = sbm([30, 30], 0.2, 0.02, num_features=8, seed=0)
    >>> clf = LAGNNClassifier(max_epochs=20, random_state=0,
    ...                       augmenter=LocalAugmenter(epochs=1, random_state=0))
    >>> clf = clf.fit(g.x, g.y, graph=g, train_mask=g.train_mask, val_mask=g.val_mask)
    >>> clf.predict(g.x, graph=g).shape
    (60,)
    """

    def __init__(self, backbone: Any = "gcn", n_samples: int = 4, n_generated: int = 1,
                 sample_pool: Optional[int] = None,
                 hidden_channels: Optional[int] = None, num_layers: int = 2,
                 heads: Optional[int] = None, dropout: Optional[float] = None,
                 lr: Optional[float] = None, weight_decay: float = 5e-4,
                 temperature: float = 0.5, consistency_weight: float = 1.0,
                 augmenter: Optional[LocalAugmenter] = None, max_epochs: int = 2000,
                 patience: Optional[int] = 300, early_stopping: bool = True,
                 validation_fraction: float = 0.1, random_state: Any = None,
                 verbose: bool = False, distributed: bool = False) -> None:
        self.backbone = backbone
        self.n_samples = n_samples
        self.n_generated = n_generated
        self.sample_pool = sample_pool
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.heads = heads
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.temperature = temperature
        self.consistency_weight = consistency_weight
        self.augmenter = augmenter
        self.max_epochs = max_epochs
        self.patience = patience
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose
        self.distributed = distributed

    # ------------------------------------------------------------ validation
    def _check_params(self) -> None:
        resolve_backbone(self.backbone)
        self._check_distributed()
        for name in ("n_samples", "n_generated", "max_epochs"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.num_layers, (int, np.integer)) or self.num_layers < 2:
            raise ValueError(f"num_layers must be an integer >= 2, got {self.num_layers!r}")
        if self.heads is not None and (not isinstance(self.heads, (int, np.integer))
                                       or self.heads < 1):
            raise ValueError(f"heads must be a positive integer, got {self.heads!r}")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be positive, got {self.temperature!r}")
        if not self.consistency_weight >= 0:
            raise ValueError(f"consistency_weight must be >= 0, "
                             f"got {self.consistency_weight!r}")
        if self.augmenter is not None and not isinstance(self.augmenter, LocalAugmenter):
            raise ValueError(f"augmenter must be a LocalAugmenter or None, "
                             f"got {type(self.augmenter).__name__}")
        if self.sample_pool is not None and (
                not isinstance(self.sample_pool, (int, np.integer))
                or self.sample_pool < self.n_generated):
            raise ValueError(f"sample_pool must be None or an integer >= n_generated "
                             f"({self.n_generated}), got {self.sample_pool!r}")
        self._check_validation_fraction()

    def _settings(self) -> tuple[int, float, float, int]:
        name = self.backbone if isinstance(self.backbone, str) else (
            "gat" if is_attention(self.backbone) else "gcn")
        hidden, drop, lr, heads = _DEFAULTS[name]
        return (self.hidden_channels or hidden, drop if self.dropout is None else self.dropout,
                lr if self.lr is None else self.lr, self.heads or heads)

    # ------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any, *, graph: Any = None, train_mask: Any = None,
            val_mask: Any = None) -> "LAGNNClassifier":
        """Trains the generator (unless ``augmenter`` is fitted), then the LA-GNN
        on ``train_mask`` nodes; ``X`` has one row per node of ``graph``."""
        start = time.perf_counter()
        self._check_params()
        x, g, codes, train, val, seed = self._prepare_fit(X, y, graph, train_mask, val_mask)
        if self.augmenter is not None and hasattr(self.augmenter, "generator_"):
            self.augmenter_ = self.augmenter
            self.generator_seconds_ = 0.0
        else:
            aug = LocalAugmenter() if self.augmenter is None else clone(self.augmenter)
            if aug.random_state is None:
                aug.set_params(random_state=seed)
            self.augmenter_ = self._fit_augmenter(aug, g, x)
            self.generator_seconds_ = self.augmenter_.fit_seconds_
        self.inference_seed_ = seed
        hidden, drop, lr, heads = self._settings()
        with torch_seed(seed):
            in_channels = x.size(1) if isinstance(x, torch.Tensor) else x.num_cols
            self.module_ = LAGNN(self.backbone, in_channels, hidden, len(self.classes_),
                                 n_generated=self.n_generated, num_layers=self.num_layers,
                                 dropout=drop, heads=heads)
            self._train_la(x, g, codes, train, val, lr)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _fit_augmenter(self, aug: LocalAugmenter, g: Graph, x: Features) -> LocalAugmenter:
        """Fits the generator; distributed, process 0 fits it and sends it to all."""
        if not self.distributed:
            return aug.fit(g, x=_dense(x))
        from ..nn.distributed import broadcast_object, world

        return broadcast_object(aug.fit(g, x=_dense(x)) if world()[0] == 0 else None)

    def _sampler(self, x: Features) -> ConditionedGenerator:
        return self.augmenter_.conditioned(_dense(x))

    def _fixed_samples(self, sampler: ConditionedGenerator,
                       rows: Optional[torch.Tensor] = None) -> list[list[torch.Tensor]]:
        gen = torch.Generator().manual_seed(self.inference_seed_)
        return [sampler.draw(self.n_generated, gen, rows) for _ in range(self.n_samples)]

    def _training_draws(self, sampler: ConditionedGenerator, rows: Optional[torch.Tensor]
                        ) -> Callable[[], list[torch.Tensor]]:
        """A function returning the generated matrices (``rows`` of them) of one
        training pass."""
        if self.sample_pool is None:
            return lambda: sampler.draw(self.n_generated, rows=rows)
        pool = sampler.draw(int(self.sample_pool), rows=rows)
        return lambda: [pool[i] for i in torch.randperm(len(pool))[:self.n_generated]]

    def _mean_log_proba(self, x: Features, g: Graph,
                        samples: list[list[torch.Tensor]]) -> torch.Tensor:
        probs = torch.stack([torch.softmax(self.module_(x, s, g), dim=1) for s in samples])
        return probs.mean(0).clamp_min(1e-30).log()

    def _train_la(self, x: Features, g: Graph, y: torch.Tensor, train: torch.Tensor,
                  val: Optional[torch.Tensor], lr: float) -> None:
        from tqdm import trange

        model = self.module_
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=self.weight_decay)
        stopper = EarlyStopping(self.patience if val is not None else None)
        sampler = self._sampler(x)
        x, g, y, train, val, rows, owned, size, total, step_model = self._shard(
            x, g, y, train, val, _Passes(model))
        fixed = self._fixed_samples(sampler, rows) if val is not None else []
        draw = self._training_draws(sampler, rows)
        y_train = y[train]
        self.loss_curve_: list[float] = []
        for _ in trange(self.max_epochs, disable=not self.verbose, desc="epochs"):
            step_model.train()
            opt.zero_grad()
            logits = step_model(x, [draw() for _ in range(self.n_samples)], g)
            loss = torch.stack([self._step_loss(z[train], y_train, total, size)
                                for z in logits]).mean()
            if self.n_samples > 1 and self.consistency_weight > 0:
                probs = [torch.softmax(z, dim=1) for z in logits]
                if owned is None:
                    consistency = consistency_loss(probs, self.temperature)
                else:  # this part's share of the mean over all nodes, as _step_loss
                    consistency = consistency_loss(probs, self.temperature, "none")[
                        owned].sum() * (size / sampler.num_nodes)
                loss = loss + self.consistency_weight * consistency
            loss.backward()
            opt.step()
            self.loss_curve_.append(self._reduced_loss(loss, total, size))
            if val is None:
                continue
            model.eval()
            with torch.no_grad():
                log_p = self._mean_log_proba(x, g, fixed)[val]
                val_loss = float(F.nll_loss(log_p, y[val], reduction="sum"))
                val_hits = float((log_p.argmax(1) == y[val]).sum())
            val_loss, val_acc = self._reduced_validation(val_loss, val_hits,
                                                         float(val.sum()), total)
            # lowest validation loss first, then highest accuracy
            if stopper.step(-val_loss, -val_acc, model):
                break
        stopper.restore(model)
        model.eval()
        self.n_epochs_ = len(self.loss_curve_)
        self.best_epoch_ = stopper.best_epoch if val is not None else self.n_epochs_ - 1
        self.best_val_score_ = -stopper.best[1] if val is not None else None

    # --------------------------------------------------------------- predict
    def _logits(self, X: Any, graph: Any) -> torch.Tensor:
        """Log of the probabilities averaged over the fixed generated samples."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        x, g = self._features(X, graph, reset=False)
        self.module_.eval()
        with torch.no_grad():
            return self._mean_log_proba(x, g, self._fixed_samples(self._sampler(x)))


class _Passes(torch.nn.Module):
    """The LA-GNN on several sets of generated matrices in one call, so that a
    training step is one forward and one backward (as ``DistributedDataParallel``
    expects)."""

    def __init__(self, net: LAGNN) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Features, draws: list[list[torch.Tensor]], g: Graph
                ) -> list[torch.Tensor]:
        return [self.net(x, d, g) for d in draws]


def _dense(x: Features) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else x.to_dense()
