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

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["ConditionalVAE", "LOSSES", "train_generator", "edge_pairs"]

LOSSES = ("bce", "mse")


class ConditionalVAE(torch.nn.Module):
    r"""Encoder :math:`[\mathbf{x}, \mathbf{c}] \to h \to (\mu, \log\sigma^2)` and
    decoder :math:`[\mathbf{z}, \mathbf{c}] \to h \to \hat{\mathbf{x}}` with ReLU
    hidden layers; ``loss="bce"`` puts a sigmoid on the decoder output.

    The decoder's first layer is split into a latent part and a condition part,
    which equals one linear layer on :math:`[\mathbf{z}, \mathbf{c}]`; the
    condition part (:meth:`condition`) is computed once per graph and reused by
    every sample drawn from it.
    """

    def __init__(self, num_features: int, latent_size: int = 10, hidden_size: int = 256,
                 loss: str = "bce") -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        self.num_features, self.latent_size, self.loss = num_features, latent_size, loss
        self.encoder = torch.nn.Linear(2 * num_features, hidden_size)
        self.mean = torch.nn.Linear(hidden_size, latent_size)
        self.log_var = torch.nn.Linear(hidden_size, latent_size)
        self.decoder_latent = torch.nn.Linear(latent_size, hidden_size)
        self.decoder_condition = torch.nn.Linear(num_features, hidden_size, bias=False)
        self.decoder_out = torch.nn.Linear(hidden_size, num_features)

    def encode(self, x: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        h = F.relu(self.encoder(torch.cat([x, c], dim=1)))
        return self.mean(h), self.log_var(h)

    def condition(self, c: Tensor) -> Tensor:
        """The decoder's condition term for centre features ``c`` (reusable)."""
        return self.decoder_condition(c)

    def decode(self, z: Tensor, condition: Tensor) -> Tensor:
        """Decoder output before the sigmoid (logits for ``bce``)."""
        return self.decoder_out(F.relu(self.decoder_latent(z) + condition))

    def generate(self, z: Tensor, condition: Tensor) -> Tensor:
        """Generated features: probabilities for ``bce``, values for ``mse``."""
        out = self.decode(z, condition)
        return torch.sigmoid(out) if self.loss == "bce" else out

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
    """(neighbour, centre) node ids of every edge ``j -> i`` that is not a loop."""
    src, dst = edge_index[0], edge_index[1]
    keep = src != dst
    return src[keep], dst[keep]


def train_generator(model: ConditionalVAE, x: Tensor, edge_index: Tensor, *,
                    epochs: int, batch_size: int, lr: float,
                    progress: Optional[Callable[[int, float], None]] = None) -> list[float]:
    """Adam on mini-batches of (neighbour, centre) pairs, reshuffled every epoch
    with torch's global generator; returns the mean loss of each epoch."""
    neighbour, centre = edge_pairs(edge_index)
    if neighbour.numel() == 0:
        raise ValueError("the graph has no edges between distinct nodes: the "
                         "generator learns from (neighbour, centre) pairs")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    curve = []
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(neighbour.numel())
        total = 0.0
        for start in range(0, order.numel(), batch_size):
            batch = order[start:start + batch_size]
            loss = model.elbo_loss(x[neighbour[batch]], x[centre[batch]])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * batch.numel()
        curve.append(total / order.numel())
        if progress is not None:
            progress(epoch, curve[-1])
    model.eval()
    return curve
