"""``LocalAugmenter``: learn a neighbour-feature generator, then sample from it."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import Tensor

from ..base import seed_from, torch_seed
from ..data.graph import Graph, as_graph, features_to_tensor
from .generator import LOSSES, ConditionalVAE, train_generator

__all__ = ["LocalAugmenter", "ConditionedGenerator", "dense_features"]

_FORMAT = "graphbias.augment.LocalAugmenter"
_NORMALIZE = ("row", "none")
_ROW_SUM_TOL = 1e-4


def dense_features(x: Any, num_nodes: int, where: str = "x") -> Tensor:
    """Node features as a dense float tensor with one row per node."""
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


class ConditionedGenerator:
    """A fitted generator bound to one feature matrix: :meth:`draw` returns new
    neighbour-feature matrices without recomputing the condition term."""

    def __init__(self, augmenter: "LocalAugmenter", x: Tensor) -> None:
        self.augmenter = augmenter
        model = augmenter.generator_
        with torch.no_grad():
            self.condition = model.condition(_support(x) if augmenter.binary_ else x)
        self.num_nodes = x.size(0)

    def draw(self, n_samples: int = 1, generator: Optional[torch.Generator] = None,
             rows: Optional[Tensor] = None) -> list[Tensor]:
        """``n_samples`` matrices ``[N, F]``, each from fresh latent codes
        :math:`\\mathbf{z} \\sim \\mathcal N(0, I)` (``generator``: torch's global
        one when None). With ``rows`` only those rows are decoded (``[len(rows), F]``),
        equal to the same rows of a full draw from the same random state."""
        model = self.augmenter.generator_
        condition = self.condition if rows is None else self.condition[rows]
        out = []
        with torch.no_grad():
            for _ in range(n_samples):
                z = torch.randn(self.num_nodes, model.latent_size, generator=generator)
                x = model.generate(z if rows is None else z[rows], condition)
                if self.augmenter.normalize_ == "row":
                    sums = x.sum(1, keepdim=True)
                    x = x / torch.where(sums == 0, torch.ones_like(sums), sums)
                out.append(x)
        return out


class LocalAugmenter(BaseEstimator):
    r"""Local augmentation (Liu et al., ICML 2022): a conditional VAE learns the
    distribution of a neighbour's features given the centre node's features
    (:mod:`graphbias.augment.generator`) from every edge of a graph; sampling it
    gives each node new "neighbour" feature vectors.

    Parameters:
        latent_size, hidden_size: CVAE latent and hidden widths (paper: 10, 256).
        loss: ``"bce"`` (features in ``[0, 1]``, e.g. bag-of-words), ``"mse"``
            (real-valued) or ``"auto"``: ``"bce"`` when every feature lies in
            ``[0, 1]``, else ``"mse"``.
        normalize: ``"row"`` rescales each generated row to sum to one (as the
            paper does for row-normalised bag-of-words), ``"none"``, or ``"auto"``:
            ``"row"`` when the training features are non-negative rows summing to one.
            When those rows are a normalised binary matrix (every non-zero of a row
            equal), the generator learns and is conditioned on the binary words
            present (``x != 0``), as LAGNN trains on the raw bag-of-words: on the
            normalised values (targets of about ``1 / words``) the CVAE collapses
            to the average row and ignores the centre node.
        epochs, batch_size, lr: Adam over mini-batches of (neighbour, centre) pairs
            (paper: 10, 64, 0.01; larger batches take fewer steps and can leave
            the generator at the average row).
        random_state: seed of initialisation and shuffling.
        verbose: print the loss of each epoch.

    Fitted attributes: ``generator_`` (the :class:`ConditionalVAE`), ``loss_``,
    ``normalize_``, ``binary_`` (learns the support of normalised binary rows),
    ``n_features_in_``, ``loss_curve_``, ``fit_seconds_``.

    >>> from graphbias.data.synthetic import sbm
    >>> g = sbm([30, 30], 0.2, 0.02, num_features=8, seed=0)
    >>> aug = LocalAugmenter(epochs=2, random_state=0).fit(g)
    >>> aug.loss_
    'mse'
    >>> [tuple(x.shape) for x in aug.transform(g, n_samples=2, random_state=0)]
    [(60, 8), (60, 8)]
    """

    def __init__(self, latent_size: int = 10, hidden_size: int = 256, loss: str = "auto",
                 normalize: str = "auto", epochs: int = 10, batch_size: int = 64,
                 lr: float = 0.01, random_state: Any = None, verbose: bool = False) -> None:
        self.latent_size = latent_size
        self.hidden_size = hidden_size
        self.loss = loss
        self.normalize = normalize
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self) -> None:
        for name in ("latent_size", "hidden_size", "epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.loss not in LOSSES + ("auto",):
            raise ValueError(f"loss must be 'auto', 'bce' or 'mse', got {self.loss!r}")
        if self.normalize not in _NORMALIZE + ("auto",):
            raise ValueError(f"normalize must be 'auto', 'row' or 'none', "
                             f"got {self.normalize!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")

    @staticmethod
    def _graph_and_features(graph: Any, x: Any) -> tuple[Graph, Tensor]:
        g = as_graph(graph)
        return g, dense_features(g.x if x is None else x, g.num_nodes)

    def fit(self, graph: Any, *, x: Any = None) -> "LocalAugmenter":
        """Trains the generator on the pairs of ``graph``'s edges; node features
        are ``x`` or ``graph.x`` (dense or sparse)."""
        self._check_params()
        start = time.perf_counter()
        g, feats = self._graph_and_features(graph, x)
        self.loss_ = self.loss
        if self.loss == "auto":
            self.loss_ = "bce" if bool((feats >= 0).all() and (feats <= 1).all()) else "mse"
        if self.loss_ == "bce" and not bool((feats >= 0).all() and (feats <= 1).all()):
            raise ValueError("loss='bce' needs features in [0, 1]; use loss='mse' "
                             "for real-valued features")
        self.normalize_ = self.normalize
        if self.normalize == "auto":
            self.normalize_ = "row" if _is_row_stochastic(feats) else "none"
        if self.normalize_ == "row" and self.loss_ != "bce":
            raise ValueError("normalize='row' needs loss='bce' (non-negative outputs)")
        self.binary_ = self.normalize_ == "row" and _is_normalised_binary(feats)
        if self.binary_:
            feats = _support(feats)
        self.n_features_in_ = feats.size(1)
        with torch_seed(seed_from(self.random_state)):
            self.generator_ = ConditionalVAE(self.n_features_in_, self.latent_size,
                                             self.hidden_size, self.loss_)
            report = (lambda epoch, loss: print(  # noqa: E731
                f"generator epoch {epoch + 1}: loss {loss:.4f}")) if self.verbose else None
            self.loss_curve_ = train_generator(
                self.generator_, feats, g.edge_index, epochs=self.epochs,
                batch_size=self.batch_size, lr=self.lr, progress=report)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def conditioned(self, x: Any) -> ConditionedGenerator:
        """The generator bound to features ``x`` (``[N, n_features_in_]``)."""
        check_is_fitted(self)
        feats = dense_features(x, x.shape[0] if hasattr(x, "shape") else len(x))
        if feats.size(1) != self.n_features_in_:
            raise ValueError(f"x has {feats.size(1)} features but the generator was "
                             f"fitted on {self.n_features_in_}")
        return ConditionedGenerator(self, feats)

    def transform(self, graph: Any, n_samples: int = 1, *, x: Any = None,
                  random_state: Any = None) -> list[Tensor]:
        """``n_samples`` generated feature matrices ``[N, F]`` for the nodes of
        ``graph`` (features ``x`` or ``graph.x``), reproducible by ``random_state``."""
        check_is_fitted(self)
        if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
        g, feats = self._graph_and_features(graph, x)
        gen = torch.Generator().manual_seed(seed_from(random_state))
        return self.conditioned(feats).draw(int(n_samples), gen)

    # ------------------------------------------------------------ persistence
    def save(self, path: Union[str, Path]) -> None:
        """Writes the fitted generator: its weights and a JSON configuration, in one
        file that :meth:`load` reads with ``torch.load(weights_only=True)``."""
        check_is_fitted(self)
        params = self.get_params()
        if not isinstance(params["random_state"], (int, type(None))):
            params["random_state"] = None
        config = {"format": _FORMAT, "version": 1, "params": params,
                  "loss": self.loss_, "normalize": self.normalize_, "binary": self.binary_,
                  "n_features_in": int(self.n_features_in_),
                  "loss_curve": self.loss_curve_, "fit_seconds": self.fit_seconds_}
        torch.save({"config": json.dumps(config),
                    "state_dict": self.generator_.state_dict()}, Path(path))

    @classmethod
    def load(cls, path: Union[str, Path]) -> "LocalAugmenter":
        """A fitted augmenter from :meth:`save`'s file (tensors and JSON only:
        no code is unpickled)."""
        try:
            blob = torch.load(Path(path), weights_only=True, map_location="cpu")
        except Exception as err:  # an unsafe or corrupt file
            raise ValueError(f"{path} is not a saved LocalAugmenter: {err}") from None
        if not isinstance(blob, dict) or set(blob) != {"config", "state_dict"}:
            raise ValueError(f"{path} is not a saved LocalAugmenter")
        config = json.loads(blob["config"])
        if config.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a saved LocalAugmenter "
                             f"(format {config.get('format')!r})")
        aug = cls(**config["params"])
        aug.loss_, aug.normalize_ = config["loss"], config["normalize"]
        aug.binary_ = bool(config.get("binary", False))
        aug.n_features_in_ = config["n_features_in"]
        aug.loss_curve_, aug.fit_seconds_ = config["loss_curve"], config["fit_seconds"]
        aug.generator_ = ConditionalVAE(aug.n_features_in_, aug.latent_size,
                                        aug.hidden_size, aug.loss_)
        aug.generator_.load_state_dict(blob["state_dict"])
        aug.generator_.eval()
        return aug
