"""``LAGNNClassifier``: a :class:`~graphbias.nn.NodeClassifier` with local augmentation."""
from __future__ import annotations

import time
from typing import Any, Callable, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import clone

from .._validation import (DEPRECATED, Boolean, Device, Instance, Integer, Options,
                           RandomState, Real)
from ..base import torch_seed
from ..data.graph import Graph
from ..nn import NodeClassifier
from ..nn.distributed import reduced_loss, reduced_validation, rows_of, shared_loss
from ..nn.functional import Features
from ..nn.training import fit_module
from .augmenter import DECODE_DTYPES, ConditionedGenerator, LocalAugmenter
from .generator import edge_pairs
from .convs import BACKBONES, ConvSpec, is_attention
from .models import LAGNN, Workspace, consistency_loss, stack_rows

__all__ = ["LAGNNClassifier"]

# LAGNN's Cora settings (Liu et al. 2022, their run script): hidden units per
# branch, dropout, learning rate, heads of the first layer.
_DEFAULTS = {"gcn": (8, 0.5, 0.01, 1), "sage": (8, 0.5, 0.01, 1), "gat": (8, 0.6, 0.01, 4)}


class _OwnFeatures:
    r"""The generator of a graph without edges between distinct nodes: each node's
    only neighbour is itself (the self-loop of a GCN), so
    :math:`p(\mathbf{x}_j \mid \mathbf{x}_i)` is the point mass at
    :math:`\mathbf{x}_i` and every draw is the features themselves."""

    def __init__(self, x: Features, device: torch.device) -> None:
        self.x, self.device = x, device
        self.on_device = x.to(device)
        self.num_nodes = x.size(0) if isinstance(x, torch.Tensor) else x.num_rows

    def stacked(self, n_samples: int, rows: Optional[torch.Tensor] = None) -> Features:
        """``n_samples`` draws (the features) stacked row-wise, a copy of them (a
        training step may overwrite its draws)."""
        feats = self.on_device if rows is None else rows_of(self.x, rows).to(self.device)
        if isinstance(feats, torch.Tensor):
            return feats.repeat(n_samples, 1)
        return stack_rows(feats, n_samples)


Sampler = Union[ConditionedGenerator, _OwnFeatures]


def _draw_passes(sampler: Sampler, n_samples: int, n_generated: int,
                 generator: Optional[torch.Generator] = None,
                 rows: Optional[torch.Tensor] = None,
                 workspace: Optional[Workspace] = None) -> list[Features]:
    """The generated matrices of ``n_samples`` passes: one ``[S R, F]`` block per
    branch, decoded in one product (pass ``s``, branch ``k`` gets the ``s K + k``-th
    matrix's codes), into the workspace's memory when given."""
    if isinstance(sampler, _OwnFeatures):
        return [sampler.stacked(n_samples, rows)] * n_generated
    z = sampler.codes(n_samples * n_generated, generator, rows)
    if n_generated > 1:  # branch-major, so that each branch's block is contiguous
        z = z.view(n_samples, n_generated, -1, z.size(1)).transpose(0, 1).flatten(0, 2)
    out = None if workspace is None else workspace.buffer(
        "generated", z.size(0) * sampler.augmenter.n_features_in_, torch.float32,
        sampler.condition.device)
    return list(sampler.decode(z, rows, out).chunk(n_generated))


class LAGNNClassifier(NodeClassifier):
    r"""Node classification with local augmentation (Liu et al., ICML 2022).

    ``fit`` first trains a :class:`LocalAugmenter` on the graph (the generator of
    neighbour features given a centre node, :math:`p_\theta(\mathbf{x}_j \mid
    \mathbf{x}_i)`), then an :class:`~graphbias.augment.LAGNN` whose first layer
    runs in parallel on the original features and ``n_generated`` generated
    matrices :math:`\bar{\mathbf{X}}_k \sim p_\theta(\cdot \mid \mathbf{X})`:

    .. math::
        \mathbf{H}^{(1)} = \Big\Vert_{k=0}^{K} \sigma\big(\operatorname{conv}_k(
        \bar{\mathbf{X}}_k, \mathcal G)\big), \qquad \bar{\mathbf{X}}_0 = \mathbf{X}.

    Every epoch draws ``n_samples`` fresh sets of generated matrices; the loss is
    the mean cross-entropy over the samples on the training nodes plus
    ``consistency_weight`` times the :func:`~graphbias.augment.consistency_loss`
    of the samples' predictions :math:`P_s` with their sharpened mean,

    .. math::
        \mathcal L = \tfrac1S \textstyle\sum_s \operatorname{CE}(P_s, y)
        + \lambda\, \tfrac1S \textstyle\sum_s \tfrac1N \lVert P_s - \tilde P \rVert_F^2,
        \qquad \tilde P_{ic} \propto \bar P_{ic}^{1/T}.

    The ``n_samples`` passes of a step run as one batched pass (each with its own
    generated matrices and dropout masks; see :class:`~graphbias.augment.LAGNN`).
    Training runs through :func:`graphbias.nn.training.fit_module`; the weights of
    the epoch with the lowest validation loss are kept (monitor ``val_loss``,
    mode ``min``; ties: higher ``val_acc``) and ``patience`` epochs without
    improvement stop training. With ``inference="mean"`` (the default) validation
    and prediction average the probabilities over ``n_samples`` passes drawn with
    a seed fixed at fit time; with ``inference="best_draw"`` (the paper) every
    epoch is validated on one fresh draw and prediction uses the draw of the kept
    epoch. Either way predictions are deterministic.

    **Two protocols.** The defaults stop early (``patience=300``) and average
    four draws at inference. :meth:`paper` gives the protocol of Liu et al.'s
    Cora scripts: the generator chosen by the uncertainty of a GCN trained on the
    labels (``LocalAugmenter(selection="uncertainty")``), 2,000 epochs (GAT:
    1,000) without early stopping, and the single validation draw of the best
    epoch at inference.

    ``fit`` / ``predict`` / ``predict_proba`` / ``decision_function`` / ``score``
    take the same arguments as :class:`~graphbias.nn.NodeClassifier`, with its
    graph-safe prediction (without ``graph=`` the graph of ``fit`` is reused when
    the rows match; ``graph="isolated"`` opts out) and its ``node_ids`` mode.
    ``decision_function`` returns the log of the averaged probabilities.

    **Without a graph** (``graph=None``, or a graph with no edge between distinct
    nodes) every node's only neighbour is itself, the self-loop a GCN adds, so the
    neighbour distribution :math:`p(\mathbf{x}_j \mid \mathbf{x}_i)` is the point
    mass at :math:`\mathbf{x}_i`: the generated matrices are the features
    themselves, no generator is trained (``augmenter_`` is ``None`` unless a
    fitted ``augmenter`` is given) and the model is an MLP over rows with
    ``1 + n_generated`` branches, to which scikit-learn's checks apply.

    Parameters
    ----------
    conv : {"gcn", "sage", "gat"}, type or callable, default="gcn"
        The graph convolution: a name, a convolution class of :mod:`graphbias.nn`
        or ``torch_geometric.nn`` (e.g. ``GCNConv``, ``GINConv``, whose inner
        network is built from the layer widths), or a factory ``(in_channels,
        out_channels, **kwargs) -> module`` such as ``functools.partial(GATv2Conv,
        heads=2)`` (picklable factories keep the model picklable). Edge weights
        of the graph reach convolutions whose ``forward`` takes ``edge_weight``;
        see :mod:`graphbias.augment.convs`.
    conv_kwargs : dict or None, default=None
        Constructor keyword arguments of every convolution, e.g. ``{"K": 2}`` for
        ``ChebConv`` (they override the attention settings ``heads``, ``concat``
        and ``dropout`` set for GAT-like convolutions).
    n_samples : int, default=4
        Augmented forward passes per epoch (consistency needs at least 2).
    n_generated : int, default=1
        Generated matrices per pass (parallel branches besides the original
        features).
    sample_pool : int or None, default=None
        ``None`` (the paper) decodes fresh matrices for every pass of every epoch;
        an integer (at least ``n_generated``) decodes that many once per ``fit``
        and every pass picks ``n_generated`` of them at random. On a CPU decoding
        dominates an epoch (a ``[N, hidden] x [hidden, F]`` product per matrix),
        so a pool makes training several times faster, at the cost of
        ``sample_pool * N * F`` floats of memory; dropout on the generated
        features still makes every pass different.
    decode_dtype : {"float32", "bfloat16"}, default="float32"
        Precision of the decoder's output product when drawing generated
        matrices (training, validation and prediction alike); see
        :class:`~graphbias.augment.ConditionedGenerator`. ``"bfloat16"`` pays on
        CPUs with bfloat16 matrix units (Intel AMX) and on GPUs; not in the paper.
        On a 2-core Intel Xeon with AMX an LA-GCN epoch on Cora took 1.32x less CPU
        time, and test accuracy over 10 paired seeds was 0.10 points lower (p =
        0.33; ``benchmarks/lagnn``).
    hidden_channels : int or None, default=None
        Hidden units per branch (``None``: 8).
    num_layers : int, default=2
        Graph convolutions (at least 2: the parallel first layer, then the
        convolution's).
    heads : int or None, default=None
        Attention heads of GAT's hidden layers (``None``: 4).
    dropout : float or None, default=None
        Dropout before every layer (``None``: 0.5, GAT 0.6).
    lr : float or None, default=None
        Adam's learning rate (``None``: 0.01).
    weight_decay : float, default=5e-4
        L2 penalty (Adam).
    temperature : float, default=0.5
        Sharpening temperature :math:`T` of the consistency target.
    consistency_weight : float, default=1.0
        Weight :math:`\lambda` of the consistency loss.
    augmenter : LocalAugmenter or None, default=None
        Unfitted, it is cloned and fitted on the graph inside ``fit`` (seeded from
        ``random_state`` when its own is ``None``); fitted, it is used as is.
        ``None``: a :class:`LocalAugmenter` with the paper's settings on this
        classifier's ``device``.
    max_epochs : int, default=2000
        Training epochs at most (LAGNN's Cora setting).
    patience : int or None, default=300
        Stop after that many epochs without a lower validation loss (``None``: run
        every epoch, keep the best).
    inference : {"mean", "best_draw"}, default="mean"
        What validation and prediction feed the generated branches: ``"mean"``
        averages the probabilities of ``n_samples`` passes drawn once per fit;
        ``"best_draw"`` validates each epoch on one fresh draw and predicts with
        the draw of the kept epoch (Liu et al.).
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training nodes when no validation
        nodes are given.
    validation_fraction : float, default=0.1
        Share of the training nodes held out, in (0, 1).
    node_ids : bool, default=False
        ``X`` holds node ids of the graph given to ``fit``, whose ``x`` carries the
        features (see :class:`~graphbias.nn.NodeClassifier`).
    random_state : int, RandomState, Generator or None, default=None
        Seeds initialisation, dropout, the validation split, the generator (see
        ``augmenter``) and the generated matrices.
    device : str or torch.device, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"``: data, model and
        generated matrices live there; predictions come back to the CPU.
    verbose : bool, default=False
        Show progress bars with the losses and the validation loss.
    distributed : bool, default=False
        Train data-parallel over graph partitions in the initialised
        ``torch.distributed`` process group, as ``NodeClassifier(distributed=True)``:
        process 0 fits the generator and sends it to the others, each process
        decodes generated features for its own halo only and all end with the same
        weights, equal to one-process training up to float rounding when
        ``dropout=0`` and ``sample_pool`` is set (fresh draws and dropout masks
        differ per process).
    backbone : str or type
        Deprecated alias of ``conv``.

    Attributes
    ----------
    module_ : LAGNN
        The trained LA-model.
    augmenter_ : LocalAugmenter or None
        The fitted generator (``None`` without edges, see above).
    classes_ : ndarray
        The class labels.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``val_acc``
        (when validating), ``lr``, ``seconds``.
    n_epochs_, best_epoch_ : int
        Epochs run, and the epoch whose weights the model holds.
    best_score_ : float or None
        Validation loss of ``best_epoch_`` (``None`` without validation).
    graph_ : Graph or None
        The graph of ``fit`` (reused by prediction without ``graph=``).
    n_features_in_ : int
        Number of node features.
    device_ : torch.device
        Where the model lives.
    inference_seed_ : int
        Seed of the generated matrices of validation and prediction
        (``"best_draw"``: the seeds of the epochs' draws derive from it).
    generator_seconds_ : float
        Seconds spent fitting the generator (0 when none was fitted).
    fit_seconds_ : float
        Seconds ``fit`` took.

    Examples
    --------
    >>> from graphbias.data.synthetic import sbm
    >>> g = sbm([30, 30], 0.2, 0.02, num_features=8, seed=0)
    >>> clf = LAGNNClassifier(conv="gcn", max_epochs=20, random_state=0,
    ...                       augmenter=LocalAugmenter(max_epochs=1, random_state=0))
    >>> clf = clf.fit(g.x, g.y, graph=g, train_mask=g.train_mask, val_mask=g.val_mask)
    >>> clf.predict(g.x).shape          # the graph of fit is reused
    (60,)
    >>> len(clf.history_) == clf.n_epochs_
    True
    """

    _parameter_constraints = {
        "conv": [Options(*BACKBONES), ConvSpec()],
        "conv_kwargs": [Instance(dict), None],
        "n_samples": [Integer(1)],
        "n_generated": [Integer(1)],
        "sample_pool": [Integer(1), None],
        "decode_dtype": [Options(*DECODE_DTYPES)],
        "hidden_channels": [Integer(1), None],
        "num_layers": [Integer(2)],
        "heads": [Integer(1), None],
        "dropout": [Real(0, 1, closed="left"), None],
        "lr": [Real(0, None, closed="neither"), None],
        "weight_decay": [Real(0)],
        "temperature": [Real(0, None, closed="neither")],
        "consistency_weight": [Real(0)],
        "augmenter": [Instance(LocalAugmenter), None],
        "max_epochs": [Integer(1)],
        "patience": [Integer(1), None],
        "inference": [Options("mean", "best_draw")],
        "early_stopping": [Boolean()],
        "validation_fraction": [Real(0, 1, closed="neither")],
        "node_ids": [Boolean()],
        "random_state": [RandomState()],
        "device": [Device()],
        "verbose": [Boolean()],
        "distributed": [Boolean()],
    }
    _aliases = {"backbone": "conv"}

    def __init__(self, conv: Any = "gcn", conv_kwargs: Optional[dict[str, Any]] = None,
                 n_samples: int = 4, n_generated: int = 1,
                 sample_pool: Optional[int] = None, decode_dtype: str = "float32",
                 hidden_channels: Optional[int] = None,
                 num_layers: int = 2, heads: Optional[int] = None,
                 dropout: Optional[float] = None, lr: Optional[float] = None,
                 weight_decay: float = 5e-4, temperature: float = 0.5,
                 consistency_weight: float = 1.0, augmenter: Optional[LocalAugmenter] = None,
                 max_epochs: int = 2000, patience: Optional[int] = 300,
                 inference: str = "mean", early_stopping: bool = True,
                 validation_fraction: float = 0.1, node_ids: bool = False, random_state: Any = None, device: Any = "cpu",
                 verbose: bool = False, distributed: bool = False,
                 backbone: Any = DEPRECATED) -> None:
        self.conv = conv
        self.conv_kwargs = conv_kwargs
        self.n_samples = n_samples
        self.n_generated = n_generated
        self.sample_pool = sample_pool
        self.decode_dtype = decode_dtype
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
        self.inference = inference
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.node_ids = node_ids
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.distributed = distributed
        self.backbone = backbone

    def _begin_fit(self) -> Any:
        params = super()._begin_fit()
        if params.sample_pool is not None and params.sample_pool < params.n_generated:
            raise ValueError(f"sample_pool must be None or an integer >= n_generated "
                             f"({params.n_generated}), got {params.sample_pool!r}")
        return params

    @classmethod
    def paper(cls, conv: Any = "gcn", **params: Any) -> "LAGNNClassifier":
        """The protocol of Liu et al. (ICML 2022; their Cora scripts).

        The generator is chosen by the uncertainty of a GCN trained on the labels
        (``LocalAugmenter(selection="uncertainty")``, warm-up 200 steps, 100
        dropout samples), the LA-model trains 2,000 epochs (1,000 for attention
        convolutions, as their LA-GAT script) without early stopping, keeping the
        weights of the epoch with the lowest validation loss, and predicts with
        that epoch's single validation draw (``inference="best_draw"``).
        Everything else is the defaults, which are the paper's Cora settings
        (4 passes, 1 generated matrix, 8 hidden units, dropout 0.5 / 0.6,
        learning rate 0.01, weight decay 5e-4, temperature 0.5, consistency
        weight 1).

        Parameters
        ----------
        conv : str, type or callable, default="gcn"
            The convolution (see the class).
        **params
            Any other constructor parameter; overrides the protocol's.

        Returns
        -------
        LAGNNClassifier
            Unfitted.

        Examples
        --------
        >>> clf = LAGNNClassifier.paper("gat")
        >>> clf.max_epochs, clf.patience, clf.inference, clf.augmenter.selection
        (1000, None, 'best_draw', 'uncertainty')
        """
        settings: dict[str, Any] = {
            "max_epochs": 1000 if is_attention(conv) else 2000, "patience": None,
            "inference": "best_draw",
            "augmenter": LocalAugmenter(selection="uncertainty",
                                        device=params.get("device", "cpu"))}
        settings.update(params)
        return cls(conv=conv, **settings)

    @staticmethod
    def _settings(p: Any) -> tuple[int, float, float, int]:
        """Hidden units, dropout, learning rate and heads: the given ones, else
        LAGNN's settings for the convolution."""
        name = p.conv if isinstance(p.conv, str) else (
            "gat" if is_attention(p.conv) else "gcn")
        hidden, drop, lr, heads = _DEFAULTS[name]
        return (p.hidden_channels or hidden, drop if p.dropout is None else p.dropout,
                lr if p.lr is None else p.lr, p.heads or heads)

    # ------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any, *, graph: Any = None, train_mask: Any = None,
            val_mask: Any = None) -> "LAGNNClassifier":
        """Trains the generator (unless ``augmenter`` is fitted), then the LA-model
        on the ``train_mask`` nodes (all by default).

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
        start = time.perf_counter()
        p = self._begin_fit()
        x, g, codes, train, val, seed = self._prepare_fit(X, y, graph, train_mask,
                                                          val_mask, p)
        self.augmenter_ = self._fitted_augmenter(p, g, x, seed, codes, train)
        self.generator_seconds_ = 0.0 if self.augmenter_ is None or \
            self.augmenter_ is p.augmenter else self.augmenter_.fit_seconds_
        self.inference_seed_ = seed
        hidden, drop, lr, heads = self._settings(p)
        with torch_seed(seed):
            in_channels = x.size(1) if isinstance(x, torch.Tensor) else x.num_cols
            module = LAGNN(p.conv, in_channels, hidden, len(self.classes_),
                           n_generated=p.n_generated, num_layers=p.num_layers,
                           dropout=drop, heads=heads, conv_kwargs=p.conv_kwargs)
            self.module_ = module.to(self.device_)
            self._train(x, g, codes, train, val, lr, p)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _fitted_augmenter(self, p: Any, g: Graph, x: Features, seed: int,
                          codes: torch.Tensor, train: torch.Tensor
                          ) -> Optional[LocalAugmenter]:
        """The given fitted augmenter; ``None`` on a graph without an edge between
        distinct nodes (the features are their own neighbours); else a clone of
        ``augmenter`` fitted on ``g`` (distributed: by process 0, sent to all), with
        the training nodes' labels for its selection."""
        if p.augmenter is not None and hasattr(p.augmenter, "module_"):
            return p.augmenter
        if edge_pairs(g.edge_index)[0].numel() == 0:
            return None
        aug = LocalAugmenter(device=p.device) if p.augmenter is None else clone(p.augmenter)
        if aug.random_state is None:
            aug.set_params(random_state=seed)
        labels = {"y": codes, "train_mask": train}
        if not p.distributed:
            return aug.fit(g, x=_dense(x), **labels)
        from ..nn.distributed import broadcast_object, world

        return broadcast_object(aug.fit(g, x=_dense(x), **labels) if world()[0] == 0
                                else None)

    def _sampler(self, x: Features) -> Sampler:
        """Draws generated matrices for the nodes of ``x`` onto ``device_``."""
        if self.augmenter_ is None:
            return _OwnFeatures(x, self.device_)
        return self.augmenter_.conditioned(_dense(x), device=self.device_,
                                           dtype=self.decode_dtype)

    def _draw_seed(self, epoch: int) -> int:
        """Seed of the validation draw of ``epoch`` (``inference="best_draw"``)."""
        state = np.random.SeedSequence([self.inference_seed_, epoch]).generate_state(1)
        return int(state[0])

    def _prediction_passes(self) -> tuple[int, int]:
        """Seed and number of the passes that prediction averages: ``n_samples``
        from ``inference_seed_``, or the best epoch's validation draw."""
        if self.inference == "best_draw":
            return self._draw_seed(self.best_epoch_), 1
        return self.inference_seed_, self.n_samples

    def _fixed_samples(self, sampler: Sampler, seed: int, passes: int,
                       rows: Optional[torch.Tensor] = None) -> list[Features]:
        """``passes`` passes of generated matrices drawn from ``seed``."""
        gen = torch.Generator().manual_seed(seed)
        return _draw_passes(sampler, passes, self.n_generated, gen, rows)

    def _training_draws(self, sampler: Sampler, rows: Optional[torch.Tensor], p: Any,
                        workspace: Workspace) -> Callable[[], list[Features]]:
        """A function returning the generated matrices (``rows`` of them) of one
        training step's ``n_samples`` passes, one ``[S R, F]`` block per branch, in
        ``workspace``'s memory."""
        if p.sample_pool is None or isinstance(sampler, _OwnFeatures):
            return lambda: _draw_passes(sampler, p.n_samples, p.n_generated, rows=rows,
                                        workspace=workspace)
        pool = sampler.draw_stacked(p.sample_pool, rows=rows)
        pool = pool.view(p.sample_pool, -1, pool.size(1))

        def picks() -> list[Features]:
            chosen = torch.stack([torch.randperm(p.sample_pool)[:p.n_generated]
                                  for _ in range(p.n_samples)]).t().to(pool.device)
            out = workspace.buffer("generated", chosen.numel() * pool[0].numel(),
                                   pool.dtype, pool.device)
            picked = torch.index_select(pool, 0, chosen.reshape(-1),
                                        out=out.view(chosen.numel(), *pool.shape[1:]))
            return list(picked.flatten(0, 1).chunk(p.n_generated))

        return picks

    def _mean_log_proba(self, x: Features, g: Graph, samples: list[Features],
                        passes: int) -> torch.Tensor:
        probs = torch.softmax(self.module_(x, samples, g, passes), dim=2)
        return probs.mean(0).clamp_min(1e-30).log()

    def _train(self, x: Features, g: Graph, y: torch.Tensor, train: torch.Tensor,
               val: Optional[torch.Tensor], lr: float, p: Any) -> None:
        model = self.module_
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=p.weight_decay)
        sampler = self._sampler(x)
        x, g, y, train, val, rows, owned, size, total, step_model = self._shard(
            x, g, y, train, val, model)
        best_draw = p.inference == "best_draw"
        fixed = self._fixed_samples(sampler, self.inference_seed_, p.n_samples, rows) \
            if val is not None and not best_draw else []
        workspace = Workspace()
        draw = self._training_draws(sampler, rows, p, workspace)
        y_train, y_val = y[train].repeat(p.n_samples), (None if val is None else y[val])
        x_passes = stack_rows(x, p.n_samples)  # the same for every step: stacked once

        def step(_: Any) -> torch.Tensor:
            logits = step_model(x_passes, draw(), g, p.n_samples, workspace)
            picked = logits[:, train].flatten(0, 1)
            loss = shared_loss(picked, y_train, total * p.n_samples, size)
            if p.n_samples > 1 and p.consistency_weight > 0:
                probs = torch.softmax(logits, dim=2)
                if owned is None:
                    consistency = consistency_loss(probs, p.temperature)
                else:  # this part's share of the mean over all nodes, as shared_loss
                    consistency = consistency_loss(probs, p.temperature, "none")[
                        owned].sum() * (size / sampler.num_nodes)
                loss = loss + p.consistency_weight * consistency
            return loss

        epochs = iter(range(p.max_epochs))

        def validate() -> dict[str, float]:
            epoch = next(epochs)
            if best_draw:   # one fresh draw per epoch, reproducible from its seed
                draw = self._fixed_samples(sampler, self._draw_seed(epoch), 1, rows)
                log_p = self._mean_log_proba(x, g, draw, 1)[val]
            else:
                log_p = self._mean_log_proba(x, g, fixed, p.n_samples)[val]
            return reduced_validation(
                float(F.nll_loss(log_p, y_val, reduction="sum")),
                float((log_p.argmax(1) == y_val).sum()), float(y_val.numel()), total > 0)

        result = fit_module(
            model, opt, step, max_epochs=p.max_epochs,
            validate=None if val is None else validate,
            stopping=self._stopping(val, p.patience, "val_loss", "min", ("val_acc", "max")),
            reduce_loss=(lambda v: reduced_loss(v, size)) if total else None,
            verbose=p.verbose, desc=type(self).__name__)
        self._fit_result(result)

    # --------------------------------------------------------------- predict
    def _forward(self, x: Features, g: Graph) -> torch.Tensor:
        """Log of the probabilities averaged over the prediction passes."""
        self.module_.eval()
        seed, passes = self._prediction_passes()
        with torch.no_grad():
            samples = self._fixed_samples(self._sampler(x), seed, passes)
            return self._mean_log_proba(x, g, samples, passes)


def _dense(x: Features) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else x.to_dense()
