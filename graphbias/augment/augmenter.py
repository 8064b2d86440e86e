"""``LocalAugmenter``: learn a neighbour-feature generator, then sample from it."""
from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any, Optional, Union

import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import Tensor

from .._validation import (DEPRECATED, Boolean, Device, Integer, Options, RandomState, Real,
                           check_scalar, deprecated_attribute, resolve_device, train_losses,
                           validate_params)
from ..base import EstimatorMixin, seed_from, torch_seed
from ..data.graph import Graph, as_graph, features_to_tensor
from .generator import LOSSES, ConditionalVAE, edge_pairs, train_generator
from .selection import UncertaintySelection, selection_inputs

__all__ = ["LocalAugmenter", "ConditionedGenerator", "dense_features"]

_FORMAT = "graphbias.augment.LocalAugmenter"
_VERSION = 2
_NORMALIZE = ("row", "none")
#: precisions of the decoder's output product (:class:`ConditionedGenerator`)
DECODE_DTYPES = ("float32", "bfloat16")
_ROW_SUM_TOL = 1e-4
# constructor names of files written before the vocabulary of version 2
_V1_NAMES = {"hidden_size": "hidden_channels", "epochs": "max_epochs"}


def dense_features(x: Any, num_nodes: int, where: str = "x") -> Tensor:
    """Node features as a dense float tensor with one row per node.

    Parameters
    ----------
    x : array-like, scipy or torch sparse, or graphbias CSR of shape (num_nodes, F)
        The features (``None`` is an error: the generator is conditioned on them).
    num_nodes : int
        The number of rows required.
    where : str, default="x"
        Name of ``x`` in error messages.

    Returns
    -------
    Tensor of shape (num_nodes, F)
        Dense ``float32`` features, on the device of ``x``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> dense_features(sp.eye(3, format="csr"), 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    if x is None:
        raise ValueError(f"{where}: node features are required (the generator is "
                         "conditioned on them); pass a graph with x or x=...")
    if hasattr(x, "to_dense") and not isinstance(x, Tensor):  # a graphbias CSR
        x = x.to_dense()
    t = features_to_tensor(x, where)
    t = t.to_dense() if t.layout != torch.strided else t
    if t.size(0) != num_nodes:
        raise ValueError(f"{where} has {t.size(0)} rows but the graph has {num_nodes} nodes")
    return t.float()


def _is_row_stochastic(x: Tensor) -> bool:
    sums = x.sum(1)
    nonzero = sums != 0
    return bool((x >= 0).all()) and bool(nonzero.any()) and \
        bool(((sums[nonzero] - 1).abs() <= _ROW_SUM_TOL).all())


def _is_normalised_binary(x: Tensor) -> bool:
    """Rows of a binary matrix scaled to sum to one: every non-zero entry of a row
    equals one over the row's number of non-zeros (row-normalised bag-of-words)."""
    nonzero = x != 0
    counts = nonzero.sum(1, keepdim=True).clamp_min(1).to(x.dtype)
    return bool(((x * counts - 1).abs()[nonzero] <= _ROW_SUM_TOL * counts.expand_as(x)[nonzero])
                .all())


def _support(x: Tensor) -> Tensor:
    return (x != 0).to(x.dtype)


def _warmup_steps(p: Any, graph: Graph) -> int:
    """``p.warmup`` in Adam steps (a float is a fraction of the fit's steps); an
    error when it leaves the uncertainty selection no step to choose."""
    pairs = int(edge_pairs(graph.edge_index)[0].numel())
    batches = -(-pairs // p.batch_size)
    steps = p.max_epochs * batches
    warmup = p.warmup if isinstance(p.warmup, int) else int(p.warmup * steps)
    if pairs and warmup >= steps:
        raise ValueError(
            f"LocalAugmenter: warmup={p.warmup!r} leaves selection='uncertainty' no "
            f"step to choose from: the fit makes {steps} Adam steps ({p.max_epochs} "
            f"epochs of {batches} batches of {pairs} pairs); give a smaller warmup, "
            f"more epochs, or the warm-up as a fraction of the steps (e.g. warmup=0.1)")
    return warmup


def _bfloat16_matrix_units() -> bool:
    """Whether the CPU multiplies bfloat16 matrices in hardware (AMX tiles or
    AVX512-BF16); True when torch cannot tell."""
    try:
        return bool(torch.cpu._is_amx_tile_supported() or
                    torch.cpu._is_avx512_bf16_supported())
    except AttributeError:
        return True


class ConditionedGenerator:
    r"""A fitted generator bound to one feature matrix.

    :meth:`draw` returns new neighbour-feature matrices without recomputing the
    decoder's condition term :math:`W_c \mathbf{x}_i` of every node.

    Parameters
    ----------
    augmenter : LocalAugmenter
        A fitted augmenter.
    x : Tensor of shape (N, n_features_in_)
        Dense node features (moved to the augmenter's device).
    device : torch.device, optional
        Where drawn matrices go (default: the augmenter's ``device_``).
    dtype : {"float32", "bfloat16"}, default="float32"
        Precision of the decoder's output product, the
        ``[N, hidden] x [hidden, F]`` product that dominates a draw. With
        ``"bfloat16"`` its inputs and its output are rounded to bfloat16 (8
        significant bits; the sums accumulate in float32); the sigmoid, the row
        normalisation and the matrices returned stay float32. With Cora's generator
        the probabilities then differ from the float32 decoding by 1.1% of their
        value at the median and 4.7% at the 99th percentile (most for rare words,
        whose large negative logits round coarsely). It pays on CPUs with bfloat16
        matrix units (Intel AMX) and on GPUs; elsewhere the product is emulated
        and slower.

    Attributes
    ----------
    condition : Tensor of shape (N, hidden_channels)
        The condition term of every node.
    num_nodes : int
        ``N``.

    Examples
    --------
    >>> from graphbias.data.synthetic import sbm
    >>> g = sbm([20, 20], 0.2, 0.02, num_features=4, seed=0)
    >>> aug = LocalAugmenter(max_epochs=1, hidden_channels=8, random_state=0).fit(g)
    >>> sampler = aug.conditioned(g.x)
    >>> [tuple(s.shape) for s in sampler.draw(2, rows=torch.tensor([0, 5]))]
    [(2, 4), (2, 4)]
    """

    def __init__(self, augmenter: "LocalAugmenter", x: Tensor,
                 device: Optional[torch.device] = None, dtype: str = "float32") -> None:
        if dtype not in DECODE_DTYPES:
            raise ValueError(f"dtype must be one of {DECODE_DTYPES}, got {dtype!r}")
        self.augmenter = augmenter
        self.device = augmenter.device_ if device is None else device
        model = augmenter.module_
        x = x.to(augmenter.device_)
        with torch.no_grad():
            self.condition = model.condition(_support(x) if augmenter.binary_ else x)
        self.num_nodes = x.size(0)
        self.dtype = dtype
        if dtype == "bfloat16":
            if augmenter.device_.type == "cpu" and not _bfloat16_matrix_units():
                warnings.warn("this CPU has no bfloat16 matrix instructions (AMX or "
                              "AVX512-BF16): bfloat16 decoding is emulated and slower "
                              "than float32", UserWarning, stacklevel=3)
            layer = model.decoder_out  # the output layer's weights, rounded once
            self._output = (layer.bias.detach().to(torch.bfloat16),
                            layer.weight.detach().t().to(torch.bfloat16))

    def draw(self, n_samples: int = 1, generator: Optional[torch.Generator] = None,
             rows: Optional[Tensor] = None) -> list[Tensor]:
        r"""Generated neighbour-feature matrices.

        Each matrix decodes fresh latent codes
        :math:`\mathbf{z}_i \sim \mathcal N(0, I)` with every node's condition,
        :math:`\hat{\mathbf{x}}_i = g_\theta(\mathbf{z}_i, \mathbf{x}_i)`, rows
        rescaled to sum to one when the augmenter's ``normalize_`` is ``"row"``.
        The codes are drawn on the CPU, so a random state gives the same matrices
        on every device.

        Parameters
        ----------
        n_samples : int, default=1
            Number of matrices.
        generator : torch.Generator, optional
            A CPU generator for the codes (default: torch's global one).
        rows : Tensor, optional
            Node ids: only those rows are decoded (``[len(rows), F]``), equal to the
            same rows of a full draw from the same random state.

        Returns
        -------
        list of Tensor
            ``n_samples`` matrices ``[N, F]`` (or ``[len(rows), F]``) on ``device``:
            the row blocks of :meth:`draw_stacked`.

        Examples
        --------
        >>> from graphbias.data.synthetic import sbm
        >>> g = sbm([20, 20], 0.2, 0.02, num_features=4, seed=0)
        >>> aug = LocalAugmenter(max_epochs=1, hidden_channels=8, random_state=0).fit(g)
        >>> full = aug.conditioned(g.x).draw(1, torch.Generator().manual_seed(0))[0]
        >>> part = aug.conditioned(g.x).draw(1, torch.Generator().manual_seed(0),
        ...                                  rows=torch.tensor([3, 7]))[0]
        >>> torch.equal(full[[3, 7]], part)
        True
        """
        return list(self.draw_stacked(n_samples, generator, rows).chunk(n_samples))

    def codes(self, n_samples: int, generator: Optional[torch.Generator] = None,
              rows: Optional[Tensor] = None) -> Tensor:
        """The latent codes of ``n_samples`` matrices.

        One ``[N, latent_size]`` CPU draw per matrix (so a matrix's codes do not
        depend on how many are drawn with it), restricted to ``rows``.

        Parameters
        ----------
        n_samples : int
            Number of matrices.
        generator : torch.Generator, optional
            A CPU generator (default: torch's global one).
        rows : Tensor, optional
            Node ids to keep.

        Returns
        -------
        Tensor of shape (n_samples * R, latent_size)
            On the generator's device, matrix after matrix.
        """
        latent = self.augmenter.module_.latent_size
        z = torch.stack([torch.randn(self.num_nodes, latent, generator=generator)
                         for _ in range(n_samples)])
        if rows is not None:
            z = z[:, rows.cpu()]
        return z.reshape(-1, latent).to(self.condition.device)

    def decode(self, z: Tensor, rows: Optional[Tensor] = None,
               out: Optional[Tensor] = None) -> Tensor:
        """The matrices of stacked codes ``z`` (see :meth:`codes`), decoded in one
        product, rows normalised when ``normalize_`` is ``"row"``.

        Parameters
        ----------
        z : Tensor of shape (n * R, latent_size)
            ``n`` blocks of codes of the ``R`` nodes (all, or ``rows``).
        rows : Tensor, optional
            The node ids of each block (default: every node).
        out : Tensor, optional
            A float32 tensor with ``n * R * F`` entries on the generator's device
            to write into (memory reused from step to step).

        Returns
        -------
        Tensor of shape (n * R, F)
            On ``device``.
        """
        model = self.augmenter.module_
        condition = self.condition if rows is None else self.condition[rows]
        if out is not None:
            out = out.view(z.size(0), -1)
        with torch.no_grad():
            if self.dtype == "bfloat16":
                bias, weight = self._output
                logits = torch.addmm(bias, model.hidden(z, condition).to(bias.dtype), weight)
                x = logits.float() if out is None else out.copy_(logits)
                if model.loss == "bce":
                    x.sigmoid_()
            else:
                x = model.generate(z, condition, out)
            if self.augmenter.normalize_ == "row":
                sums = x.sum(1, keepdim=True)
                x = x.div_(torch.where(sums == 0, torch.ones_like(sums), sums))
        return x.to(self.device)

    def draw_stacked(self, n_samples: int = 1, generator: Optional[torch.Generator] = None,
                     rows: Optional[Tensor] = None) -> Tensor:
        """``n_samples`` generated matrices stacked row-wise, decoded in one product.

        Parameters
        ----------
        n_samples : int, default=1
            Number of matrices.
        generator : torch.Generator, optional
            A CPU generator for the codes (default: torch's global one).
        rows : Tensor, optional
            Node ids: only those rows are decoded.

        Returns
        -------
        Tensor of shape (n_samples * R, F)
            Matrix ``s`` in rows ``s * R .. (s + 1) * R - 1`` (``R``: ``N`` or
            ``len(rows)``), on ``device``; the same codes as :meth:`draw`.

        Examples
        --------
        >>> from graphbias.data.synthetic import sbm
        >>> g = sbm([20, 20], 0.2, 0.02, num_features=4, seed=0)
        >>> aug = LocalAugmenter(max_epochs=1, hidden_channels=8, random_state=0).fit(g)
        >>> aug.conditioned(g.x).draw_stacked(3).shape
        torch.Size([120, 4])
        """
        return self.decode(self.codes(n_samples, generator, rows), rows)


class LocalAugmenter(EstimatorMixin, BaseEstimator):
    r"""Local augmentation (Liu et al., ICML 2022): a generator of neighbour features.

    A conditional VAE (:class:`~graphbias.augment.generator.ConditionalVAE`)
    learns the distribution :math:`p_\theta(\mathbf{x}_j \mid \mathbf{x}_i)` of a
    neighbour's features given the centre node's from the pairs of every edge
    :math:`j \to i` of a graph, by minimising the negative evidence lower bound

    .. math::
        \mathcal L = \mathbb E_{q_\phi}\big[-\log p_\theta(\mathbf{x}_j \mid
        \mathbf{z}, \mathbf{x}_i)\big] + \operatorname{KL}\big(q_\phi(\mathbf{z}
        \mid \mathbf{x}_j, \mathbf{x}_i)\,\Vert\,\mathcal N(0, I)\big);

    sampling it (:meth:`transform`) gives every node new "neighbour" feature
    vectors.

    Parameters
    ----------
    latent_size : int, default=10
        Dimension of the latent code (paper: 10).
    hidden_channels : int, default=256
        Hidden width of encoder and decoder (paper: 256).
    loss : {"auto", "bce", "mse"}, default="auto"
        Reconstruction loss: ``"bce"`` for features in ``[0, 1]`` (e.g.
        bag-of-words), ``"mse"`` for real-valued ones; ``"auto"`` is ``"bce"``
        when every feature lies in ``[0, 1]``, else ``"mse"``.
    normalize : {"auto", "row", "none"}, default="auto"
        ``"row"`` rescales each generated row to sum to one (as the paper does for
        row-normalised bag-of-words); ``"auto"`` is ``"row"`` when the training
        features are non-negative rows summing to one. When those rows are a
        normalised binary matrix (every non-zero of a row equal), the generator
        learns and is conditioned on the binary words present (``x != 0``), as
        LAGNN trains on the raw bag-of-words: on the normalised values (targets of
        about ``1 / words``) the CVAE collapses to the average row and ignores the
        centre node.
    max_epochs : int, default=10
        Passes over the pairs (paper: 10).
    batch_size : int, default=64
        Pairs per Adam step (paper: 64; larger batches take fewer steps and can
        leave the generator at the average row).
    lr : float, default=0.01
        Adam's learning rate.
    selection : {"last", "uncertainty"}, default="last"
        Which generator ``fit`` keeps: the one after the last epoch, or the one
        chosen by the uncertainty of a GCN trained on the labels, as Liu et al.
        do (App. B.2; :mod:`graphbias.augment.selection`): after every Adam step a
        decoded matrix is scored by how little ``n_models`` dropout samples of the
        GCN disagree on the training nodes' labels, and the step that last beat
        every earlier score after ``warmup`` steps is kept. Needs ``y`` and
        ``train_mask`` in ``fit`` and costs ``n_models`` GCN passes per step.
    warmup : int or float, default=200
        Adam steps before ``selection="uncertainty"`` may choose a generator
        (paper: 200); a float in (0, 1) is a fraction of the fit's steps
        (``max_epochs`` times the batches of pairs per epoch). A warm-up that
        leaves no step to choose from is an error, not a silent ``"last"``.
    n_models : int, default=100
        Dropout samples of the GCN per score (paper: 100).
    random_state : int, RandomState, Generator or None, default=None
        Seeds initialisation, shuffling and the reparametrisation noise.
    device : str or torch.device, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"``: where the generator
        trains and samples.
    verbose : bool, default=False
        Show a progress bar with the loss of each epoch.
    hidden_size : int
        Deprecated alias of ``hidden_channels``.
    epochs : int
        Deprecated alias of ``max_epochs``.

    Attributes
    ----------
    module_ : ConditionalVAE
        The trained generator.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss`` (mean negative ELBO over
        the pairs), ``lr``, ``seconds``.
    n_epochs_, best_epoch_ : int
        Epochs run, and the last one (no early stopping).
    loss_ : {"bce", "mse"}
        The reconstruction loss used.
    normalize_ : {"row", "none"}
        The normalisation of generated rows.
    binary_ : bool
        Whether the generator learns the support ``x != 0`` of normalised binary
        rows.
    n_features_in_ : int
        Feature dimension.
    uncertainty_ : list of float
        The uncertainty score after every Adam step (``selection="uncertainty"``;
        empty otherwise).
    selected_step_ : int or None
        The 1-based Adam step whose generator was kept (``None``: the last one,
        with ``selection="last"`` or when no step after the warm-up beat the
        best score).
    fit_seconds_ : float
        Seconds ``fit`` took.
    device_ : torch.device
        Where the generator lives.

    Examples
    --------
    >>> from graphbias.data.synthetic import sbm
    >>> g = sbm([30, 30], 0.2, 0.02, num_features=8, seed=0)
    >>> aug = LocalAugmenter(max_epochs=2, random_state=0).fit(g)
    >>> aug.loss_, len(aug.history_)
    ('mse', 2)
    >>> [tuple(x.shape) for x in aug.transform(g, n_samples=2, random_state=0)]
    [(60, 8), (60, 8)]
    """

    _parameter_constraints = {
        "latent_size": [Integer(1)],
        "hidden_channels": [Integer(1)],
        "loss": [Options("auto", *LOSSES)],
        "normalize": [Options("auto", *_NORMALIZE)],
        "max_epochs": [Integer(1)],
        "batch_size": [Integer(1)],
        "lr": [Real(0, None, closed="neither")],
        "selection": [Options("last", "uncertainty")],
        "warmup": [Integer(0), Real(0, 1, closed="neither")],
        "n_models": [Integer(2)],
        "random_state": [RandomState()],
        "device": [Device()],
        "verbose": [Boolean()],
    }
    _aliases = {"hidden_size": "hidden_channels", "epochs": "max_epochs"}

    generator_ = deprecated_attribute("generator_", "module_")
    loss_curve_ = deprecated_attribute("loss_curve_", "history_", train_losses)

    def __init__(self, latent_size: int = 10, hidden_channels: int = 256, loss: str = "auto",
                 normalize: str = "auto", max_epochs: int = 10, batch_size: int = 64,
                 lr: float = 0.01, selection: str = "last", warmup: int = 200,
                 n_models: int = 100, random_state: Any = None, device: Any = "cpu",
                 verbose: bool = False, hidden_size: Any = DEPRECATED,
                 epochs: Any = DEPRECATED) -> None:
        self.latent_size = latent_size
        self.hidden_channels = hidden_channels
        self.loss = loss
        self.normalize = normalize
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.selection = selection
        self.warmup = warmup
        self.n_models = n_models
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.hidden_size = hidden_size
        self.epochs = epochs

    @staticmethod
    def _graph_and_features(graph: Any, x: Any) -> tuple[Graph, Tensor]:
        g = as_graph(graph)
        return g, dense_features(g.x if x is None else x, g.num_nodes)

    def fit(self, graph: Any, *, x: Any = None, y: Any = None,
            train_mask: Any = None) -> "LocalAugmenter":
        """Trains the generator on the (neighbour, centre) pairs of ``graph``'s edges.

        Parameters
        ----------
        graph : graph-like
            Anything :func:`graphbias.as_graph` reads; it needs an edge between
            distinct nodes.
        x : array-like or sparse of shape (n_nodes, n_features), optional
            Node features (default: ``graph.x``); dense or sparse.
        y : array-like of shape (n_nodes,), optional
            Integer classes (default: ``graph.y``); read on the ``train_mask``
            nodes by ``selection="uncertainty"`` only.
        train_mask : array-like, optional
            Boolean mask or ids of the labelled nodes (default:
            ``graph.train_mask``); ``selection="uncertainty"`` only.

        Returns
        -------
        self
        """
        p = self._begin_fit()
        start = time.perf_counter()
        g, feats = self._graph_and_features(graph, x)
        labels = selection_inputs(g, y, train_mask) if p.selection == "uncertainty" \
            else None
        warmup = None if labels is None else _warmup_steps(p, g)
        in_unit = bool((feats >= 0).all() and (feats <= 1).all())
        self.loss_ = p.loss if p.loss != "auto" else ("bce" if in_unit else "mse")
        if self.loss_ == "bce" and not in_unit:
            raise ValueError("loss='bce' needs features in [0, 1]; use loss='mse' "
                             "for real-valued features")
        self.normalize_ = p.normalize
        if p.normalize == "auto":
            self.normalize_ = "row" if _is_row_stochastic(feats) else "none"
        if self.normalize_ == "row" and self.loss_ != "bce":
            raise ValueError("normalize='row' needs loss='bce' (non-negative outputs)")
        self.binary_ = self.normalize_ == "row" and _is_normalised_binary(feats)
        inputs = feats.to(self.device_)
        if self.binary_:
            feats = _support(feats)
        self.n_features_in_ = feats.size(1)
        feats = feats.to(self.device_)
        with torch_seed(seed_from(p.random_state)):
            self.module_ = ConditionalVAE(self.n_features_in_, p.latent_size,
                                          p.hidden_channels, self.loss_).to(self.device_)
            selection = None if labels is None else UncertaintySelection(
                g, inputs, *labels, n_models=p.n_models, warmup=warmup)
            after_step = None if selection is None else lambda: selection.after_step(
                self.module_, feats, self.normalize_ == "row")
            result = train_generator(self.module_, feats, g.edge_index,
                                     max_epochs=p.max_epochs, batch_size=p.batch_size,
                                     lr=p.lr, verbose=p.verbose, after_step=after_step)
            if selection is not None:
                selection.finish(self.module_)
        self.uncertainty_ = [] if selection is None else selection.scores
        self.selected_step_ = None if selection is None else selection.selected_step
        self.history_ = result.history
        self.n_epochs_, self.best_epoch_ = result.n_epochs, result.best_epoch
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def conditioned(self, x: Any, *, device: Any = None,
                    dtype: str = "float32") -> ConditionedGenerator:
        """The generator bound to node features ``x``.

        Parameters
        ----------
        x : array-like or sparse of shape (N, n_features_in_)
            Node features.
        device : str or torch.device, optional
            Where drawn matrices go (default: ``device_``).
        dtype : {"float32", "bfloat16"}, default="float32"
            Precision of the decoder's output product (see
            :class:`ConditionedGenerator`).

        Returns
        -------
        ConditionedGenerator
        """
        check_is_fitted(self)
        feats = dense_features(x, x.shape[0] if hasattr(x, "shape") else len(x))
        if feats.size(1) != self.n_features_in_:
            raise ValueError(f"x has {feats.size(1)} features but the generator was "
                             f"fitted on {self.n_features_in_}")
        return ConditionedGenerator(self, feats,
                                    None if device is None else torch.device(device), dtype)

    def transform(self, graph: Any, n_samples: int = 1, *, x: Any = None,
                  random_state: Any = None) -> list[Tensor]:
        """Generated feature matrices for the nodes of ``graph``.

        Parameters
        ----------
        graph : graph-like
            The nodes to generate for (anything :func:`graphbias.as_graph` reads).
        n_samples : int, default=1
            Number of matrices.
        x : array-like or sparse, optional
            Node features (default: ``graph.x``).
        random_state : int, RandomState, Generator or None, default=None
            Seeds the latent codes: the same value gives the same matrices.

        Returns
        -------
        list of Tensor
            ``n_samples`` matrices ``[N, n_features_in_]`` on ``device_``.
        """
        check_is_fitted(self)
        n_samples = check_scalar("n_samples", n_samples, Integer(1))
        _, feats = self._graph_and_features(graph, x)
        gen = torch.Generator().manual_seed(seed_from(random_state))
        return self.conditioned(feats).draw(n_samples, gen)

    # ------------------------------------------------------------ persistence
    def save(self, path: Union[str, Path]) -> None:
        """Writes the fitted generator to one file.

        The file holds the weights (on the CPU) and a JSON configuration, so that
        :meth:`load` reads it with ``torch.load(weights_only=True)``: no code is
        pickled.

        Parameters
        ----------
        path : str or Path
            The file to write.

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> from graphbias.data.synthetic import sbm
        >>> g = sbm([20, 20], 0.2, 0.02, num_features=4, seed=0)
        >>> aug = LocalAugmenter(max_epochs=1, hidden_channels=8, random_state=0).fit(g)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     aug.save(Path(tmp) / "gen.pt")
        ...     again = LocalAugmenter.load(Path(tmp) / "gen.pt")
        >>> torch.equal(aug.transform(g, random_state=1)[0],
        ...             again.transform(g, random_state=1)[0])
        True
        """
        check_is_fitted(self)
        params = {k: v for k, v in self.get_params().items() if k not in self._aliases}
        if not isinstance(params["random_state"], (int, type(None))):
            params["random_state"] = None
        params["device"] = str(params["device"])
        config = {"format": _FORMAT, "version": _VERSION, "params": params,
                  "loss": self.loss_, "normalize": self.normalize_, "binary": self.binary_,
                  "n_features_in": int(self.n_features_in_), "history": self.history_,
                  "fit_seconds": self.fit_seconds_, "uncertainty": self.uncertainty_,
                  "selected_step": self.selected_step_}
        state = {k: v.detach().cpu() for k, v in self.module_.state_dict().items()}
        torch.save({"config": json.dumps(config), "state_dict": state}, Path(path))

    @classmethod
    def load(cls, path: Union[str, Path]) -> "LocalAugmenter":
        """A fitted augmenter from a file of :meth:`save` (this or the previous
        version).

        The file is read with ``torch.load(weights_only=True)`` (tensors and JSON
        only) and checked before any module is built: the configuration's keys and
        types, the weights' names, ``float32`` type and shapes against the
        configuration (so no size in the configuration allocates more than the
        file holds) and finite values. The generator goes to the saved ``device``
        when this machine has it, else to the CPU with a warning.

        Parameters
        ----------
        path : str or Path
            A file written by :meth:`save`.

        Returns
        -------
        LocalAugmenter
            Fitted, equal to the saved one.

        Raises
        ------
        ValueError
            When the file is not a valid saved augmenter; the message says what is
            wrong.
        """
        try:
            blob = torch.load(Path(path), weights_only=True, map_location="cpu")
        except Exception as err:  # an unsafe or corrupt file
            raise ValueError(f"{path} is not a saved LocalAugmenter: {err}") from None
        if not isinstance(blob, dict) or set(blob) != {"config", "state_dict"}:
            raise ValueError(f"{path} is not a saved LocalAugmenter (expected the keys "
                             "'config' and 'state_dict')")
        config = _read_config(blob["config"], str(path))
        aug = cls(**config["params"])
        try:
            validate_params(aug, cls._aliases)
        except ValueError as err:
            raise ValueError(f"{path}: invalid saved parameters: {err}") from None
        module = _checked_module(blob["state_dict"], config, aug, str(path))
        aug.loss_, aug.normalize_ = config["loss"], config["normalize"]
        aug.binary_ = config["binary"]
        aug.n_features_in_ = config["n_features_in"]
        aug.history_ = config["history"]
        aug.n_epochs_ = len(aug.history_)
        aug.best_epoch_ = aug.n_epochs_ - 1
        aug.fit_seconds_ = config["fit_seconds"]
        aug.uncertainty_, aug.selected_step_ = config["uncertainty"], config["selected_step"]
        aug.device_ = _load_device(aug.device)
        aug.module_ = module.to(aug.device_)
        return aug


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _key_problem(required: set[str], present: set[str]) -> str:
    """What is wrong with the keys ``present`` where ``required`` are expected
    (empty when nothing is)."""
    missing, extra = sorted(required - present), sorted(present - required)
    return "; ".join(([f"missing the keys {missing}"] if missing else []) +
                     ([f"unexpected keys {extra}"] if extra else []))


def _read_config(text: Any, path: str) -> dict[str, Any]:
    """The saved configuration, checked key by key; files of version 1 are
    translated (``loss_curve`` to ``history``, old parameter names to new ones)."""
    where = f"{path}: config"
    if not isinstance(text, str):
        raise ValueError(f"{where} must be a JSON string, got {type(text).__name__}")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{where} is not valid JSON: {err}") from None
    if not isinstance(config, dict) or config.get("format") != _FORMAT:
        raise ValueError(f"{path} is not a saved LocalAugmenter (format "
                         f"{config.get('format') if isinstance(config, dict) else None!r})")
    version = check_scalar("version", config.get("version"), Options(1, _VERSION),
                           owner=where)
    curve = "loss_curve" if version == 1 else "history"
    # "binary" was added within version 1, the selection's keys within version 2
    optional = ({"binary"} if version == 1 else set()) | {"uncertainty", "selected_step"}
    required = {"format", "version", "params", "loss", "normalize", "n_features_in", curve,
                "fit_seconds"} | ({"binary"} - optional)
    problem = _key_problem(required, set(config) - optional)
    if problem:
        raise ValueError(f"{where}: {problem}")
    out = {"loss": check_scalar("loss", config["loss"], Options(*LOSSES), owner=where),
           "normalize": check_scalar("normalize", config["normalize"],
                                     Options(*_NORMALIZE), owner=where),
           "binary": check_scalar("binary", config.get("binary", False), Boolean(),
                                  owner=where),
           "n_features_in": check_scalar("n_features_in", config["n_features_in"],
                                         Integer(1), owner=where),
           "fit_seconds": check_scalar("fit_seconds", config["fit_seconds"], Real(0),
                                       owner=where),
           "params": _read_params(config["params"], version, where)}
    if version == 1:
        curve_ok = isinstance(config[curve], list) and all(map(_number, config[curve]))
        history = [{"epoch": i, "train_loss": float(v)} for i, v in
                   enumerate(config[curve])] if curve_ok else None
    else:
        history = config[curve]
        curve_ok = isinstance(history, list) and all(
            isinstance(r, dict) and "train_loss" in r and all(map(_number, r.values()))
            for r in history)
    if not curve_ok:
        raise ValueError(f"{where}[{curve!r}] must be a list of "
                         f"{'numbers' if version == 1 else 'epoch records of numbers'}")
    return {**out, "history": history, **_selection_record(config, where)}


def _selection_record(config: dict[str, Any], where: str) -> dict[str, Any]:
    """The selection's scores and step of a saved configuration (absent: none)."""
    scores = config.get("uncertainty", [])
    if not isinstance(scores, list) or not all(map(_number, scores)):
        raise ValueError(f"{where}['uncertainty'] must be a list of numbers")
    step = config.get("selected_step")
    if step is not None:
        step = check_scalar("selected_step", step, Integer(1), owner=where)
    return {"uncertainty": [float(v) for v in scores], "selected_step": step}


def _read_params(params: Any, version: int, where: str) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise ValueError(f"{where}['params'] must be an object, got {type(params).__name__}")
    names = {_V1_NAMES.get(k, k) if version == 1 else k: v for k, v in params.items()}
    unknown = set(names) - set(LocalAugmenter._parameter_constraints)
    if unknown:
        raise ValueError(f"{where}['params'] has unknown parameters {sorted(unknown)}")
    return names


def _checked_module(state: Any, config: dict[str, Any], aug: LocalAugmenter,
                    path: str) -> ConditionalVAE:
    """The saved generator, after its weights are checked against the shapes the
    configuration implies (computed on the meta device: nothing is allocated)."""
    args = (config["n_features_in"], aug.latent_size, aug.hidden_channels, config["loss"])
    with torch.device("meta"):
        module = ConditionalVAE(*args)
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    if not isinstance(state, dict):
        raise ValueError(f"{path}: state_dict must be a dict of tensors, "
                         f"got {type(state).__name__}")
    problem = _key_problem(set(expected), set(map(str, state)))
    if problem:
        raise ValueError(f"{path}: state_dict: {problem}")
    sizes = (f"n_features_in={args[0]}, latent_size={args[1]}, "
             f"hidden_channels={args[2]}")
    for name, shape in expected.items():
        t = state[name]
        if not isinstance(t, Tensor) or t.dtype != torch.float32:
            kind = t.dtype if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(f"{path}: weight {name} must be a float32 tensor, got {kind}")
        if tuple(t.shape) != shape:
            raise ValueError(f"{path}: weight {name} has shape {tuple(t.shape)} but the "
                             f"saved configuration ({sizes}) needs {shape}")
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{path}: weight {name} holds NaN or infinite values")
    module.load_state_dict(state, assign=True)
    return module.eval()


def _load_device(device: Any) -> torch.device:
    """The saved device when this machine has it, else the CPU (with a warning)."""
    try:
        return resolve_device(device)
    except ValueError as err:
        warnings.warn(f"LocalAugmenter: {err}; the generator was loaded on the CPU",
                      UserWarning, stacklevel=3)
        return torch.device("cpu")
