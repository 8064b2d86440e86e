r"""Choosing the generator by the uncertainty of a classifier (LAGNN, App. B.2).

Liu et al. do not take the generator after its last epoch: a two-layer GCN is
trained on the labelled nodes (100 epochs), then after every Adam step of the
generator one matrix :math:`\tilde{\mathbf X}` is decoded and scored with
``n_models`` dropout samples :math:`P_m` of that GCN on the training nodes,

.. math::
    U = \operatorname{NLL}\Big(\log \tfrac1M \textstyle\sum_m P_m, y\Big)
        - \tfrac1M \textstyle\sum_m \operatorname{NLL}(\log P_m, y) \;\le 0

(minus the Jensen gap of the negative log-likelihood, by the convexity of
:math:`-\log`: zero when the samples agree on the probability of the true
labels, negative when they disagree). A step whose score beats every earlier
one is, after ``warmup`` steps, kept as the selected generator, and the GCN is
trained ``update_epochs`` more epochs on its matrix; the kept generator is the
last such step's, the one whose matrices the GCN's dropout samples disagree on
least. The authors' settings: GCN with 32 hidden units, dropout 0.5, Adam with
learning rate 0.01 and weight decay 5e-4, 100 pre-training epochs, 100 dropout
samples, warm-up 200 steps, 20 update epochs.

Only the training nodes are scored, and a two-layer GCN's outputs there depend
only on their two-hop neighbourhood: the classifier runs on that part of the
graph (with the whole graph's normalisation), and each step decodes only its rows,
which gives the scores of the whole-graph computation.
"""
from __future__ import annotations

import copy
from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import ops
from ..base import node_mask
from ..data.graph import Graph
from ..data.transforms import gcn_norm
from ..nn.distributed import halo_partition
from ..nn.training import fit_module
from ..ops.csr import CSR
from .generator import ConditionalVAE
from .models import Workspace, input_dropout

__all__ = ["LabelGCN", "UncertaintySelection", "SELECTION_SETTINGS"]

#: the authors' settings of the selection's GCN and of its schedule
SELECTION_SETTINGS = {"hidden_channels": 32, "dropout": 0.5, "lr": 0.01,
                      "weight_decay": 5e-4, "pretrain_epochs": 100, "update_epochs": 20}


def _first_rows(csr: CSR, rows: int, cols: int) -> CSR:
    """Rows ``0 .. rows - 1`` of ``csr`` as a ``rows x cols`` matrix (every column id
    of those rows below ``cols``)."""
    end = int(csr.indptr[rows])
    return CSR(csr.indptr[:rows + 1], csr.indices[:end], (rows, cols),
               None if csr.values is None else csr.values[:end])


def _block_rows(csr: CSR, copies: int) -> CSR:
    """The block-diagonal matrix of ``copies`` copies of a (rectangular) ``csr``."""
    offsets = torch.arange(copies, device=csr.device)
    indptr = (csr.indptr[:-1].unsqueeze(0) + (offsets * csr.nnz).unsqueeze(1)).reshape(-1)
    indptr = torch.cat([indptr, indptr.new_tensor([copies * csr.nnz])])
    indices = (csr.indices.unsqueeze(0) + (offsets * csr.num_cols).unsqueeze(1)).reshape(-1)
    values = None if csr.values is None else csr.values.repeat(copies)
    return CSR(indptr, indices, (copies * csr.num_rows, copies * csr.num_cols), values)


class LabelGCN(torch.nn.Module):
    r"""The two-layer GCN of the selection, on the two-hop neighbourhood of the
    training nodes.

    :math:`P = \operatorname{softmax}(\hat A_2\, \mathrm{drop}(\mathrm{ReLU}(
    \hat A_1 \mathrm{drop}(X) W_1 + b_1)) W_2 + b_2)`, with :math:`\hat A_1` the
    rows of the normalised adjacency reaching the one-hop nodes and
    :math:`\hat A_2` those reaching the training nodes (propagation before the
    first product: :math:`(\hat A X) W = \hat A (X W)`, fewer operations for a
    wide :math:`X`). ``forward`` runs ``copies`` dropout samples at once.

    Parameters
    ----------
    first, second : CSR
        :math:`\hat A_1` (``R1 x R2``) and :math:`\hat A_2` (``T x R1``).
    in_channels, out_channels : int
        Feature width and classes.
    hidden_channels : int, default=32
    dropout : float, default=0.5

    Examples
    --------
    >>> from graphbias.data.synthetic import karate_club
    >>> g = karate_club()
    >>> train = torch.tensor([0, 1, 32, 33])       # two of each class
    >>> sel = UncertaintySelection(g, torch.as_tensor(g.x).float(), g.y, train,
    ...                            n_models=4, warmup=0)
    >>> sel.classifier.train()(sel.x, copies=3).shape   # 3 dropout samples, 4 nodes
    torch.Size([12, 2])
    """

    def __init__(self, first: CSR, second: CSR, in_channels: int, out_channels: int,
                 hidden_channels: int = 32, dropout: float = 0.5) -> None:
        super().__init__()
        self.first, self.second, self.dropout = first, second, dropout
        self.lin1 = torch.nn.Linear(in_channels, hidden_channels)
        self.lin2 = torch.nn.Linear(hidden_channels, out_channels)

    def forward(self, x: Tensor, copies: int = 1,
                workspace: Optional[Workspace] = None) -> Tensor:
        """Logits ``[copies * T, C]`` of ``copies`` dropout samples (one without
        training) on the ``R2`` rows ``x``; ``workspace`` holds the copies and
        their masks from call to call."""
        copies = copies if self.training else 1
        h = F.relu(self.lin1(self._propagate(x, copies, workspace)))
        h = self.lin2(input_dropout(h, self.dropout, self.training))
        return ops.spmm(_block_rows(self.second, copies), h)

    def _propagate(self, x: Tensor, copies: int, workspace: Optional[Workspace]) -> Tensor:
        r""":math:`\hat A_1 \mathrm{drop}(X)` for ``copies`` samples, ``[copies * R1, F]``.
        On the CPU with the authors' p = 1/2 the masks are fair random bits and the
        products one :func:`graphbias.ops.masked_spmm` (no masked copy of ``x`` is
        written); otherwise the copies are stacked, dropped out and propagated."""
        if self.training and self.dropout == 0.5 and x.device.type == "cpu" and \
                not x.requires_grad:
            words = torch.randint(-2 ** 63, 2 ** 63 - 1, (copies, x.size(0), -(-x.size(1) // 64)))
            return ops.masked_spmm(self.first, x, words, 2.0).view(-1, x.size(1))
        if copies > 1 and workspace is not None:
            stacked = workspace.buffer("copies", copies * x.numel(), x.dtype, x.device)
            stacked = stacked.view(copies, *x.shape).copy_(x.expand(copies, *x.shape))
            h = input_dropout(stacked.view(-1, x.size(1)), self.dropout, self.training,
                              workspace)
        else:
            h = input_dropout(x.repeat(copies, 1), self.dropout, self.training)
        return ops.spmm(_block_rows(self.first, copies), h)


class UncertaintySelection:
    """The selection of :mod:`graphbias.augment.selection` for one generator fit.

    Builds and pre-trains the GCN at construction; :meth:`after_step` scores the
    generator after each of its Adam steps; :meth:`finish` loads the selected
    state into the generator.

    Parameters
    ----------
    graph : Graph
        The generator's graph.
    x : Tensor of shape (N, F)
        The classifier's input features (as the LA-model sees them).
    y : Tensor of shape (N,)
        Class codes (read on the training nodes only).
    train : Tensor
        Ids of the labelled training nodes.
    n_models : int, default=100
        Dropout samples per score.
    warmup : int, default=200
        Steps before a generator can be selected.
    chunk : int, default=4
        Dropout samples computed together (on Cora, 4 samples' first products,
        15 MB, stay in the CPU's last-level cache with the features: 4 took 0.76
        CPU s a step against 1.08 s for 10).

    Attributes
    ----------
    classifier : LabelGCN
    x : Tensor of shape (R2, F)
        The rows the classifier reads.
    rows : Tensor
        Their node ids.
    scores : list of float
        The score of every step.
    selected_step : int or None
        The 1-based step of the selected generator (None: no step after the
        warm-up beat the best score, the last generator is kept).
    """

    def __init__(self, graph: Graph, x: Tensor, y: Tensor, train: Tensor, *,
                 n_models: int = 100, warmup: int = 200, chunk: int = 4) -> None:
        s = SELECTION_SETTINGS
        part = halo_partition(graph.to("cpu"), train.cpu(), 2)
        hop1 = int(halo_partition(graph.to("cpu"), train.cpu(), 1).nodes.numel())
        norm = gcn_norm(part.graph).to(x.device)
        n_train = part.num_owned
        self.rows = part.nodes.to(x.device)
        self.x = x[self.rows]
        self.y = y.to(x.device)[self.rows[:n_train]]
        classes = int(self.y.max()) + 1
        self.classifier = LabelGCN(_first_rows(norm, hop1, norm.num_cols),
                                   _first_rows(norm, n_train, hop1), x.size(1), classes,
                                   s["hidden_channels"], s["dropout"]).to(x.device)
        self.optimizer = torch.optim.Adam(self.classifier.parameters(), lr=s["lr"],
                                          weight_decay=s["weight_decay"])
        self.n_models, self.warmup, self.chunk = n_models, warmup, chunk
        self.workspace = Workspace()
        self.scores: list[float] = []
        self.best = float("-inf")
        self.selected_step: Optional[int] = None
        self.selected_state: Optional[dict[str, Tensor]] = None
        self._train_classifier(self.x, s["pretrain_epochs"])

    def _train_classifier(self, x: Tensor, epochs: int) -> None:
        fit_module(self.classifier, self.optimizer,
                   lambda _: F.cross_entropy(self.classifier(x), self.y),
                   max_epochs=epochs, desc="LabelGCN")

    def score(self, x: Tensor) -> float:
        """The uncertainty :math:`U` of the classifier's dropout samples on the
        ``R2`` rows ``x`` (see the module description)."""
        self.classifier.train()
        mean_p = torch.zeros(self.y.numel(), self.classifier.lin2.out_features,
                             device=x.device)
        nll = 0.0
        with torch.no_grad():
            for start in range(0, self.n_models, self.chunk):
                copies = min(self.chunk, self.n_models - start)
                logits = self.classifier(x, copies, self.workspace).view(
                    copies, self.y.numel(), -1)
                log_p = torch.log_softmax(logits, dim=2)
                mean_p += log_p.exp().sum(0)
                nll += float(F.nll_loss(log_p.flatten(0, 1), self.y.repeat(copies),
                                        reduction="sum"))
        mean_p /= self.n_models
        ensemble = float(F.nll_loss(mean_p.clamp_min(1e-30).log(), self.y))
        return ensemble - nll / (self.n_models * self.y.numel())

    def after_step(self, generator: ConditionalVAE, features: Tensor,
                   normalize: bool) -> None:
        """Scores the generator after one Adam step: decodes one matrix for the
        classifier's rows (fresh codes from torch's global generator), keeps the
        generator and trains the classifier on the matrix when the score beats
        every earlier one after the warm-up."""
        step = len(self.scores) + 1
        with torch.no_grad():
            z = torch.randn(self.rows.numel(), generator.latent_size).to(features.device)
            x = generator.generate(z, generator.condition(features[self.rows]))
            if normalize:
                sums = x.sum(1, keepdim=True)
                x = x / torch.where(sums == 0, torch.ones_like(sums), sums)
        score = self.score(x)
        self.scores.append(score)
        if score <= self.best:
            return
        self.best = score
        if step > self.warmup:
            self.selected_step = step
            self.selected_state = copy.deepcopy(generator.state_dict())
            self._train_classifier(x, SELECTION_SETTINGS["update_epochs"])

    def finish(self, generator: ConditionalVAE) -> None:
        """Loads the selected state into ``generator`` (nothing when none was)."""
        if self.selected_state is not None:
            generator.load_state_dict(self.selected_state)


def selection_inputs(graph: Graph, y: Any, train_mask: Any) -> tuple[Tensor, Tensor]:
    """Labels and training node ids for the selection, from the arguments or the
    graph, checked."""
    y = graph.y if y is None else torch.as_tensor(y)
    train = graph.train_mask if train_mask is None else node_mask("train_mask", train_mask,
                                                                  graph.num_nodes)
    if y is None or train is None:
        raise ValueError("selection='uncertainty' trains a GCN on the labels: give y and "
                         "train_mask to fit (or a graph carrying them)")
    y = torch.as_tensor(y).view(-1)
    if y.numel() != graph.num_nodes or y.is_floating_point() and \
            not bool((y == y.round()).all()):
        raise ValueError(f"y must hold one integer class per node ({graph.num_nodes}), "
                         f"got {y.dtype} of {y.numel()} entries")
    ids = train.nonzero().view(-1) if train.dtype == torch.bool else train
    if ids.numel() == 0:
        raise ValueError("train_mask selects no node")
    codes = y.long()
    if int(codes[ids].min()) < 0:
        raise ValueError("y has negative classes on training nodes")
    return codes, ids
