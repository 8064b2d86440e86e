r"""A conditional VAE that generates a neighbour's features from its centre node's.

For every edge :math:`j \to i` (self-loops excluded) the pair
:math:`(\mathbf{x}_j, \mathbf{x}_i)` is one training example of
:math:`p_\theta(\mathbf{x}_j \mid \mathbf{x}_i)`: the encoder
:math:`q_\phi(\mathbf{z} \mid \mathbf{x}_j, \mathbf{x}_i)` and the decoder
:math:`p_\theta(\mathbf{x}_j \mid \mathbf{z}, \mathbf{x}_i)` are one-hidden-layer
MLPs trained on the evidence lower bound

.. math::
    \mathcal L = \mathbb E_{q_\phi}\big[-\log p_\theta(\mathbf{x}_j \mid \mathbf{z},
    \mathbf{x}_i)\big] + \operatorname{KL}\big(q_\phi(\mathbf{z} \mid \mathbf{x}_j,
    \mathbf{x}_i)\,\Vert\,\mathcal N(0, I)\big),

whose reconstruction term is a binary cross-entropy (features in ``[0, 1]``, e.g.
bag-of-words) or a squared error (real-valued features), summed over features and
averaged over pairs (Liu et al., ICML 2022, section 3.1). Training reads pairs by
edge id in mini-batches, so the pair matrix is never built.
"""
from __future__ import annotations

from typing import Callable, Iterator, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .._validation import Boolean, Integer, Real, check_scalar
from ..nn.training import TrainingResult, fit_module

__all__ = ["ConditionalVAE", "LOSSES", "train_generator", "edge_pairs"]

#: reconstruction losses of :class:`ConditionalVAE`
LOSSES = ("bce", "mse")


class ConditionalVAE(torch.nn.Module):
    r"""The conditional VAE of a neighbour's features given its centre node's.

    Encoder :math:`[\mathbf{x}, \mathbf{c}] \to h \to (\mu, \log\sigma^2)` and
    decoder :math:`[\mathbf{z}, \mathbf{c}] \to h \to \hat{\mathbf{x}}` with ReLU
    hidden layers; ``loss="bce"`` puts a sigmoid on the decoder output.

    The decoder's first layer is split into a latent part and a condition part,
    which equals one linear layer on :math:`[\mathbf{z}, \mathbf{c}]`; the
    condition part (:meth:`condition`) is computed once per graph and reused by
    every sample drawn from it.

    Parameters
    ----------
    num_features : int
        Feature dimension :math:`F` of neighbour and centre.
    latent_size : int, default=10
        Dimension of :math:`\mathbf{z}`.
    hidden_channels : int, default=256
        Width of the encoder's and the decoder's hidden layer.
    loss : {"bce", "mse"}, default="bce"
        Reconstruction term: binary cross-entropy on logits (features in
        ``[0, 1]``) or squared error.

    Attributes
    ----------
    num_features, latent_size : int
        As given.
    loss : str
        As given.

    Examples
    --------
    >>> import torch
    >>> vae = ConditionalVAE(6, latent_size=2, hidden_channels=8)
    >>> x, c = torch.rand(4, 6), torch.rand(4, 6)
    >>> vae.elbo_loss(x, c).shape
    torch.Size([])
    >>> vae.generate(torch.zeros(4, 2), vae.condition(c)).shape
    torch.Size([4, 6])
    """

    def __init__(self, num_features: int, latent_size: int = 10, hidden_channels: int = 256,
                 loss: str = "bce") -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        self.num_features, self.latent_size, self.loss = num_features, latent_size, loss
        self.encoder = torch.nn.Linear(2 * num_features, hidden_channels)
        self.mean = torch.nn.Linear(hidden_channels, latent_size)
        self.log_var = torch.nn.Linear(hidden_channels, latent_size)
        self.decoder_latent = torch.nn.Linear(latent_size, hidden_channels)
        self.decoder_condition = torch.nn.Linear(num_features, hidden_channels, bias=False)
        self.decoder_out = torch.nn.Linear(hidden_channels, num_features)

    def encode(self, x: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        r"""Mean and log-variance ``[B, latent_size]`` of
        :math:`q_\phi(\mathbf{z} \mid \mathbf{x}, \mathbf{c})`."""
        h = F.relu(self.encoder(torch.cat([x, c], dim=1)))
        return self.mean(h), self.log_var(h)

    def condition(self, c: Tensor) -> Tensor:
        """The decoder's condition term ``[N, hidden_channels]`` for centre features
        ``c`` (reusable by every sample)."""
        return self.decoder_condition(c)

    def hidden(self, z: Tensor, condition: Tensor) -> Tensor:
        """The decoder's hidden layer ``[B, hidden_channels]`` of codes ``z`` and
        condition terms (see :meth:`decode`)."""
        rows, width = condition.size(0), condition.size(1)
        if z.size(0) % rows:
            raise ValueError(f"z has {z.size(0)} rows, not a multiple of the {rows} "
                             "rows of condition")
        hidden = (self.decoder_latent(z).view(-1, rows, width) + condition).relu_()
        return hidden.view(-1, width)

    def decode(self, z: Tensor, condition: Tensor, out: Optional[Tensor] = None) -> Tensor:
        """Decoder output before the sigmoid (logits for ``bce``), written into
        ``out`` when given (a ``[B, num_features]`` tensor, e.g. reused memory).

        ``condition`` has one row per code, or ``R`` rows for codes ``z`` made of
        blocks of ``R`` (every block of codes gets the same ``R`` conditions,
        without copying them)."""
        hidden = self.hidden(z, condition)
        if out is None:
            return self.decoder_out(hidden)
        return torch.addmm(self.decoder_out.bias, hidden, self.decoder_out.weight.t(),
                           out=out)

    def generate(self, z: Tensor, condition: Tensor, out: Optional[Tensor] = None
                 ) -> Tensor:
        """Generated features: probabilities for ``bce``, values for ``mse``
        (written into ``out`` when given)."""
        result = self.decode(z, condition, out)
        return result.sigmoid_() if self.loss == "bce" else result

    def elbo_loss(self, x: Tensor, c: Tensor) -> Tensor:
        """Negative ELBO of neighbour features ``x`` given centre features ``c``,
        summed over features and latent units, averaged over the batch."""
        mean, log_var = self.encode(x, c)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
        out = self.decode(z, self.condition(c))
        if self.loss == "bce":
            recon = F.binary_cross_entropy_with_logits(out, x, reduction="sum")
        else:
            recon = F.mse_loss(out, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + log_var - mean.pow(2) - log_var.exp())
        return (recon + kl) / x.size(0)


def edge_pairs(edge_index: Tensor) -> tuple[Tensor, Tensor]:
    """The (neighbour, centre) node ids of every edge ``j -> i`` that is not a loop.

    Parameters
    ----------
    edge_index : Tensor of shape (2, E)
        Source (neighbour) ids in row 0, target (centre) ids in row 1.

    Returns
    -------
    neighbour, centre : Tensor of shape (E',)
        The ends of the ``E'`` edges between distinct nodes, in edge order.

    Examples
    --------
    >>> import torch
    >>> edge_pairs(torch.tensor([[0, 1, 2], [1, 1, 0]]))
    (tensor([0, 2]), tensor([1, 0]))
    """
    src, dst = edge_index[0], edge_index[1]
    keep = src != dst
    return src[keep], dst[keep]


def train_generator(model: ConditionalVAE, x: Tensor, edge_index: Tensor, *,
                    max_epochs: int, batch_size: int, lr: float, verbose: bool = False,
                    after_step: Optional[Callable[[], None]] = None) -> TrainingResult:
    """Trains ``model`` on the (neighbour, centre) pairs of ``edge_index``.

    Adam through :func:`graphbias.nn.training.fit_module` over mini-batches of
    pairs, reshuffled every epoch with torch's global generator; an epoch's
    ``train_loss`` is the mean negative ELBO over its pairs. The data follow the
    device of ``x``.

    Parameters
    ----------
    model : ConditionalVAE
        The generator, on the device of ``x``.
    x : Tensor of shape (N, F)
        Node features (dense).
    edge_index : Tensor of shape (2, E)
        The edges; loops are left out (:func:`edge_pairs`).
    max_epochs : int
        Passes over the pairs (no early stopping).
    batch_size : int
        Pairs per Adam step.
    lr : float
        Adam's learning rate.
    verbose : bool, default=False
        Show a progress bar with the loss.
    after_step : callable, optional
        Called without arguments after every Adam step (e.g. to score the
        generator, :mod:`graphbias.augment.selection`).

    Returns
    -------
    TrainingResult
        ``history`` holds one record per epoch (``epoch``, ``train_loss``, ``lr``,
        ``seconds``).

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> vae = ConditionalVAE(4, latent_size=2, hidden_channels=8)
    >>> x = torch.rand(5, 4)
    >>> ring = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
    >>> result = train_generator(vae, x, ring, max_epochs=3, batch_size=2, lr=0.01)
    >>> result.n_epochs, sorted(result.history[0])
    (3, ['epoch', 'lr', 'seconds', 'train_loss'])
    """
    max_epochs = check_scalar("max_epochs", max_epochs, Integer(1))
    batch_size = check_scalar("batch_size", batch_size, Integer(1))
    lr = check_scalar("lr", lr, Real(0, None, closed="neither"))
    verbose = check_scalar("verbose", verbose, Boolean())
    neighbour, centre = (t.to(x.device) for t in edge_pairs(edge_index))
    if neighbour.numel() == 0:
        raise ValueError("the graph has no edges between distinct nodes: the "
                         "generator learns from (neighbour, centre) pairs")

    def batches(_: int) -> Iterator[Tensor]:
        order = torch.randperm(neighbour.numel())
        for start in range(0, order.numel(), batch_size):
            yield order[start:start + batch_size].to(x.device)

    def step(batch: Tensor) -> tuple[Tensor, float]:
        return model.elbo_loss(x[neighbour[batch]], x[centre[batch]]), batch.numel()

    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    if after_step is not None:
        optimizer.register_step_post_hook(lambda *_: after_step())
    return fit_module(model, optimizer, step, max_epochs=max_epochs, batches=batches,
                      verbose=verbose, desc="LocalAugmenter")
