r"""How far a learned network of the compiled architecture is from the compiled one.

**Parameter space.** A network's parameters :math:`\theta` are the entries of its
:class:`~graphbias.compile.layers.Affine` maps in units (multiples of the
sentinel :math:`B` count as their multiple), so the compiled point
:math:`\theta^*` is the same for every :math:`B`. Two kinds of change leave what
a network computes unchanged, and :func:`align` undoes them before distances are
taken:

- a *gate* map feeds only step functions, and :math:`H(c x) = H(x)` for
  :math:`c > 0`: each of its rows :math:`\theta_r` is replaced by
  :math:`c_r \theta_r` with :math:`c_r = \max(0, \langle\theta_r,
  \theta^*_r\rangle) / \lVert\theta_r\rVert^2`, the closest point of the ray;
- an *exchangeable* map has rows whose steps are summed: its rows are permuted
  to the order closest to :math:`\theta^*` (after the scaling).

:func:`parameter_distance` reports :math:`\lVert \mathrm{align}(\theta) -
\theta^*\rVert / \lVert\theta^*\rVert` (``aligned``) and the same without the
alignment (``raw``): 0 is the compiled point.

**State space.** :func:`rollout_distance` runs a network and the compiled one
side by side from the same initial state (each on its own outputs, exact
nonlinearities) and measures, after every layer, the root-mean-square
difference of their hint channels, each divided by its scale (1 for flags, the
graph's size for ids and times, its distance bound for Bellman-Ford's ``d``).

>>> from graphbias.compile.compiled import compile_algorithm
>>> net = compile_algorithm("bfs")
>>> with torch.no_grad():               # a gate: the step ignores the scale
...     _ = net.found.weight.mul_(3.0), net.found.bias.mul_(3.0)
>>> d = parameter_distance(net)
>>> round(d["raw"], 3), d["aligned"]
(0.69, 0.0)
"""
from __future__ import annotations

import itertools
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from ..data.graph import Graph
from .compiled import CompiledNetwork, compile_algorithm
from .graphs import GraphBatch, sentinel
from .layers import Affine

__all__ = ["FLAG_HINTS", "align", "parameter_vector", "parameter_distance",
           "hint_scales", "rollout_distance"]

#: hints that are flags or small categories (compared unscaled)
FLAG_HINTS = frozenset({"reach", "color", "top"})


def _rows(m: Affine) -> Tensor:
    """``[out, k + 1]``: each row's weights and bias, in units."""
    return torch.cat([m.weight.detach(), m.bias.detach()[:, None]], 1).double().cpu()


def _scaled(rows: Tensor, target: Tensor) -> Tensor:
    """Each row moved along its ray ``c * row`` (``c >= 0``) closest to ``target``."""
    norm = (rows * rows).sum(1, keepdim=True)
    c = (rows * target).sum(1, keepdim=True).clamp_min(0.0) / norm.clamp_min(1e-300)
    return torch.where(norm > 0, c * rows, rows)


def _aligned_rows(m: Affine, ref: Affine) -> Tensor:
    rows, target = _rows(m), _rows(ref)
    orders = (itertools.permutations(range(rows.size(0))) if m.exchangeable
              else [tuple(range(rows.size(0)))])
    best, best_cost = rows, float("inf")
    for order in orders:
        candidate = rows[list(order)]
        if m.gate:
            candidate = _scaled(candidate, target)
        cost = float(((candidate - target) ** 2).sum())
        if cost < best_cost:
            best, best_cost = candidate, cost
    return best


def _check_pair(network: CompiledNetwork, reference: CompiledNetwork) -> None:
    if network.algorithm != reference.algorithm:
        raise ValueError(f"cannot compare a {network.algorithm} network with a "
                         f"{reference.algorithm} one")


def align(network: CompiledNetwork, reference: Optional[CompiledNetwork] = None
          ) -> dict[str, Tensor]:
    """The parameters of ``network`` moved along its symmetries to the point
    closest to ``reference`` (default: the compiled network).

    Parameters
    ----------
    network : CompiledNetwork
        A network of the compiled architecture (learned or set by hand).
    reference : CompiledNetwork, optional
        The point to align to; default ``compile_algorithm(network.algorithm)``.

    Returns
    -------
    dict of str to Tensor
        Per :class:`~graphbias.compile.layers.Affine` name, its ``[out, k + 1]``
        rows (weights, then bias) in units, on the CPU.

    Examples
    --------
    >>> from graphbias.compile.compiled import compile_algorithm
    >>> net = compile_algorithm("dfs")
    >>> with torch.no_grad():
    ...     _ = net.is_cand.weight.copy_(net.is_cand.weight.flip(0) * 2)
    ...     _ = net.is_cand.bias.copy_(net.is_cand.bias.flip(0) * 2)
    >>> align(net)["is_cand"].tolist()
    [[1.0, -1.0, 0.5], [-1.0, 1.0, 0.5]]
    """
    reference = compile_algorithm(network.algorithm) if reference is None else reference
    _check_pair(network, reference)
    refs = reference.affines()
    return {name: _aligned_rows(m, refs[name]) for name, m in network.affines().items()}


def parameter_vector(network: CompiledNetwork) -> Tensor:
    """All parameters in units, one vector (Affine by Affine, rows of weights and
    bias), on the CPU.

    >>> from graphbias.compile.compiled import compile_algorithm
    >>> parameter_vector(compile_algorithm("bfs")).numel()
    13
    """
    return torch.cat([_rows(m).flatten() for m in network.affines().values()])


def parameter_distance(network: CompiledNetwork,
                       reference: Optional[CompiledNetwork] = None) -> dict[str, float]:
    """Relative distance of ``network``'s parameters to the compiled ones.

    Parameters
    ----------
    network : CompiledNetwork
        The network.
    reference : CompiledNetwork, optional
        Default: the compiled network of the same algorithm.

    Returns
    -------
    dict
        ``aligned``: :math:`\\lVert\\mathrm{align}(\\theta) - \\theta^*\\rVert /
        \\lVert\\theta^*\\rVert`; ``raw``: the same without alignment.

    Examples
    --------
    >>> from graphbias.compile.compiled import compile_algorithm
    >>> parameter_distance(compile_algorithm("bellman_ford"))
    {'aligned': 0.0, 'raw': 0.0}
    """
    reference = compile_algorithm(network.algorithm) if reference is None else reference
    target = parameter_vector(reference)
    norm = float(target.norm())
    aligned = torch.cat([rows.flatten() for rows in align(network, reference).values()])
    return {"aligned": float((aligned - target).norm()) / norm,
            "raw": float((parameter_vector(network) - target).norm()) / norm}


def hint_scales(algorithm: str, batch: GraphBatch) -> dict[str, Tensor]:
    """Per hint, the per-node scale its differences are divided by: 1 for flags
    (:data:`FLAG_HINTS`), the graph's node count for ids and times, and the node
    count times ``max(1, max |w|)`` for Bellman-Ford's ``d``.

    Parameters
    ----------
    algorithm : str
        The algorithm whose hints are scaled.
    batch : GraphBatch
        The graphs.

    Returns
    -------
    dict of str to Tensor
        ``[N]`` float64 scales per hint.

    Examples
    --------
    >>> b = GraphBatch.from_graphs([Graph([[0, 1], [1, 2]], 3)])
    >>> {k: v.tolist() for k, v in hint_scales("bfs", b).items()}
    {'reach': [1.0, 1.0, 1.0], 'pi': [3.0, 3.0, 3.0], 'dist': [3.0, 3.0, 3.0]}
    """
    from .reference import HINTS

    size = torch.tensor(batch.sizes, dtype=torch.float64, device=batch.device)
    size = size.index_select(0, batch.batch)
    values = batch.csr.values
    weight = max(1.0, float(values.abs().max())) if values is not None and \
        values.numel() else 1.0
    scales = {}
    for k in HINTS[algorithm]:
        if k in FLAG_HINTS:
            scales[k] = torch.ones_like(size)
        else:
            scales[k] = size * weight if (algorithm, k) == ("bellman_ford", "d") else size
    return scales


def rollout_distance(network: CompiledNetwork, graphs: Sequence[Graph],
                     sources: Sequence[int], steps: int, *,
                     reference: Optional[CompiledNetwork] = None) -> np.ndarray:
    """Per layer, the scaled root-mean-square distance between the hint states of
    ``network`` and the compiled network run side by side (exact nonlinearities,
    each on its own states, ``steps`` layers from the same initial state; the
    sentinel is :func:`~graphbias.compile.graphs.sentinel` of the graphs).

    Parameters
    ----------
    network : CompiledNetwork
        The network to compare.
    graphs : sequence of Graph
        The graphs, run as one batch.
    sources : sequence of int
        One source id per graph.
    steps : int
        Number of layers.
    reference : CompiledNetwork, optional
        Default: the compiled network of the same algorithm.

    Returns
    -------
    ndarray of shape (steps + 1,)
        Entry ``t``: the distance after ``t`` layers (entry 0 is 0).

    Examples
    --------
    >>> from graphbias.compile.compiled import compile_algorithm
    >>> g = Graph([[0, 1, 1, 2], [1, 0, 2, 1]], 3)
    >>> rollout_distance(compile_algorithm("bfs"), [g], [0], 3).tolist()
    [0.0, 0.0, 0.0, 0.0]
    """
    reference = compile_algorithm(network.algorithm) if reference is None else reference
    _check_pair(network, reference)
    device = next(network.parameters()).device
    batch = GraphBatch.from_graphs(graphs, device=device)
    batch = GraphBatch(batch.csr, batch.ptr, batch.batch, batch.ids, batch.sizes,
                       sentinel(batch.magnitude()))
    scales = hint_scales(network.algorithm, batch)
    reference = reference.to(device)
    modes = network.training, reference.training
    network.eval()
    reference.eval()
    ours = theirs = network.init_state(batch, sources)
    out = [0.0]
    with torch.no_grad():
        for _ in range(steps):
            ours, theirs = network(ours, batch), reference(theirs, batch)
            diff = torch.stack([(ours[k] - theirs[k]) / scales[k] for k in scales])
            diff = torch.nan_to_num(diff, nan=np.inf)
            out.append(float(diff.pow(2).mean().sqrt()))
    network.train(modes[0])
    reference.train(modes[1])
    return np.array(out)
