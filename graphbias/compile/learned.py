r"""Learned twins: the compiled networks' layer shape, with weights learned from traces.

A twin maps the hint state after step :math:`t` to the state after step
:math:`t + 1`, one layer application per step, like a compiled network: the
state is encoded per node (position :math:`\mathrm{id}/n` as CLRS's ``pos``,
the source flag, one-hot categorical hints, raw scalar hints), pointer hints
(``pi``, ``stack_prev``) become flags on the edges ``u -> v`` with
``pointer(v) = u`` (and on a self-loop for ``pointer(v) = v`` or none), then

.. math::
    z_v = W_e x_v, \quad
    m_{uv} = \mathrm{ReLU}(A z_u + B z_v + C e_{uv} + b), \quad
    h_v = \mathrm{MLP}\big([z_v, \max_{u} m_{uv}, \min_{u} m_{uv},
          \max_{w \in G} z_w]\big),

with max and min aggregation over the in-neighbours and the node itself
(:math:`u \in N(v) \cup \{v\}`) and a max over the graph (the global readout the
compiled DFS needs), through :mod:`graphbias.ops`. Decoders read ``h``:
categorical hints by a linear softmax, scalar hints by linear regression of
their change (a residual: most values stay put),
pointers by a softmax over the in-neighbours and the node itself of
:math:`(Q h_v)^\top (K h_u) / \sqrt{H} + c^\top e_{uv}`. Training is teacher-forced
on every step of the traces (full hint supervision): cross-entropy for
categorical and pointer hints, squared error for scalars. At prediction the
twin is rolled out from the initial state, feeding back its own decoded hints,
until they stop changing (or the algorithm's step bound).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .. import ops
from ..data.graph import Graph
from ..ops.csr import CSR


@dataclass(frozen=True)
class HintSpec:
    """How an algorithm's hints are encoded and decoded."""

    categorical: dict[str, int]
    pointers: tuple[str, ...]
    scalars: tuple[str, ...]
    outputs: tuple[str, ...]
    step_bound: int          # steps per node: bfs / bellman_ford n, dfs 2n
    real: tuple[str, ...] = ()   # scalar hints decoded as reals (not rounded)

    @property
    def node_dim(self) -> int:
        return 2 + sum(self.categorical.values()) + len(self.scalars)

    @property
    def edge_dim(self) -> int:
        return 2 + len(self.pointers)          # weight, self-loop flag, pointer flags


SPECS = {
    "bfs": HintSpec({"reach": 2}, ("pi",), ("dist",), ("reach", "pi", "dist"), 1),
    "bellman_ford": HintSpec({"reach": 2}, ("pi",), ("d",), ("reach", "d", "pi"), 1,
                             real=("d",)),
    "dfs": HintSpec({"color": 3, "top": 2}, ("pi", "stack_prev"), ("d", "f", "time"),
                    ("pi", "d", "f"), 2),
}


@dataclass
class StateBatch:
    """Several graphs, each in some hint state, as one disjoint union with
    self-loops; edges sorted by receiver (CSR order)."""

    csr: CSR
    senders: Tensor
    receivers: Tensor
    weight: Tensor
    self_loop: Tensor
    ptr: Tensor
    batch: Tensor
    pos: Tensor
    local_ids: Tensor

    @classmethod
    def build(cls, graphs: Sequence[Graph]) -> "StateBatch":
        sizes = [g.num_nodes for g in graphs]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        n_total = int(offsets[-1])
        src, dst, w = [], [], []
        for g, o in zip(graphs, offsets):
            ei = g.edge_index.cpu()
            keep = ei[0] != ei[1]
            src.append(ei[0, keep] + int(o))
            dst.append(ei[1, keep] + int(o))
            w.append(torch.ones(int(keep.sum())) if g.edge_weight is None
                     else g.edge_weight.detach().cpu()[keep].float())
        loops = torch.arange(n_total)
        senders = torch.cat(src + [loops])
        receivers = torch.cat(dst + [loops])
        weight = torch.cat(w + [torch.zeros(n_total)])
        self_loop = (senders == receivers).float()
        csr = CSR.from_coo(receivers, senders, (n_total, n_total))
        perm = csr.perm
        ptr = torch.from_numpy(offsets)
        batch = torch.repeat_interleave(torch.arange(len(graphs)), torch.tensor(sizes))
        local = torch.arange(n_total) - ptr[:-1][batch]
        pos = local.float() / torch.tensor(sizes, dtype=torch.float)[batch]
        return cls(csr, senders[perm], receivers[perm], weight[perm], self_loop[perm],
                   ptr, batch, pos, local)

    @property
    def num_nodes(self) -> int:
        return int(self.pos.numel())

    def to(self, device: torch.device | str) -> "StateBatch":
        """The same batch with every tensor on ``device``."""
        return StateBatch(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


def encode(spec: HintSpec, sb: StateBatch, state: dict[str, Tensor], src: Tensor
           ) -> tuple[Tensor, Tensor]:
    """Node features ``[N, node_dim]`` and edge features ``[E, edge_dim]`` of a
    state (local ids; pointers -1 point to the node itself)."""
    cols = [sb.pos, src.float()]
    for name, k in spec.categorical.items():
        cols += list(F.one_hot(state[name].long().clamp(0, k - 1), k).float().T)
    cols += [state[name].float() for name in spec.scalars]
    x = torch.stack(cols, 1)
    edge = [sb.weight, sb.self_loop]
    for name in spec.pointers:
        target = state[name].long()
        target = torch.where(target < 0, sb.local_ids, target)
        edge.append((sb.local_ids[sb.senders] == target[sb.receivers]).float())
    return x, torch.stack(edge, 1)


class LearnedStep(torch.nn.Module):
    """One learned step: encoder, max-aggregation message passing with a global
    readout, and hint decoders (see the module docstring)."""

    def __init__(self, spec: HintSpec, hidden: int) -> None:
        super().__init__()
        self.spec = spec
        self.hidden = hidden
        self.encoder = torch.nn.Linear(spec.node_dim, hidden)
        self.msg_sender = torch.nn.Linear(hidden, hidden)
        self.msg_receiver = torch.nn.Linear(hidden, hidden, bias=False)
        self.msg_edge = torch.nn.Linear(spec.edge_dim, hidden, bias=False)
        self.update = torch.nn.Sequential(torch.nn.Linear(4 * hidden, hidden),
                                          torch.nn.ReLU(), torch.nn.Linear(hidden, hidden))
        self.categorical = torch.nn.ModuleDict(
            {k: torch.nn.Linear(hidden, n) for k, n in spec.categorical.items()})
        self.scalar = torch.nn.Linear(hidden, len(spec.scalars))
        self.query = torch.nn.ModuleDict(
            {k: torch.nn.Linear(hidden, hidden) for k in spec.pointers})
        self.key = torch.nn.ModuleDict(
            {k: torch.nn.Linear(hidden, hidden) for k in spec.pointers})
        self.pointer_edge = torch.nn.ModuleDict(
            {k: torch.nn.Linear(spec.edge_dim, 1) for k in spec.pointers})

    def forward(self, sb: StateBatch, x: Tensor, e: Tensor) -> dict[str, Tensor]:
        z = self.encoder(x)
        m = torch.relu(self.msg_sender(z).index_select(0, sb.senders)
                       + self.msg_receiver(z).index_select(0, sb.receivers)
                       + self.msg_edge(e))
        high = ops.segment_csr(m, sb.csr.indptr, "max")
        low = ops.segment_csr(m, sb.csr.indptr, "min")
        glob = ops.segment_csr(z, sb.ptr, "max").index_select(0, sb.batch)
        h = self.update(torch.cat([z, high, low, glob], 1))
        out: dict[str, Tensor] = {k: lin(h) for k, lin in self.categorical.items()}
        # scalar hints are predicted as a change of their input value
        change = self.scalar(h)
        first = x.size(1) - len(self.spec.scalars)
        for i, k in enumerate(self.spec.scalars):
            out[k] = x[:, first + i] + change[:, i]
        for k in self.spec.pointers:
            q = self.query[k](h).index_select(0, sb.receivers)
            kk = self.key[k](h).index_select(0, sb.senders)
            out[k] = (q * kk).sum(1) / math.sqrt(self.hidden) \
                + self.pointer_edge[k](e).squeeze(1)
        return out


def pointer_targets(sb: StateBatch, target: Tensor) -> Tensor:
    """Per edge: 1 where the sender is the receiver's pointer (-1: itself)."""
    t = torch.where(target < 0, sb.local_ids, target.long())
    return (sb.local_ids[sb.senders] == t[sb.receivers])


def loss(spec: HintSpec, sb: StateBatch, out: dict[str, Tensor],
         target: dict[str, Tensor]) -> Tensor:
    """Cross-entropy (categorical, pointers) plus squared error (scalars)."""
    total = torch.zeros((), device=sb.pos.device)
    for k in spec.categorical:
        total = total + F.cross_entropy(out[k], target[k].long())
    for k in spec.scalars:
        total = total + F.mse_loss(out[k], target[k].float())
    for k in spec.pointers:
        logp = torch.log(ops.softmax_csr(out[k], sb.csr).clamp_min(1e-12))
        hit = pointer_targets(sb, target[k])
        total = total - logp[hit].sum() / sb.num_nodes
    return total


def decode(spec: HintSpec, sb: StateBatch, out: dict[str, Tensor]) -> dict[str, Tensor]:
    """Hard hints from decoder outputs: argmax classes, rounded scalars (``d`` of
    Bellman-Ford kept real), pointers to the best-scoring sender (smallest id on
    ties); a ``stack_prev`` pointing to itself decodes as -1."""
    state: dict[str, Tensor] = {k: out[k].argmax(1) for k in spec.categorical}
    for k in spec.scalars:
        state[k] = out[k] if k in spec.real else out[k].round()
    for k in spec.pointers:
        best = ops.segment_csr(out[k].detach(), sb.csr.indptr, "max")
        is_best = out[k] >= best.index_select(0, sb.receivers)
        key = torch.where(is_best, sb.local_ids[sb.senders].float(),
                          torch.full_like(out[k], float("inf")))
        p = ops.segment_csr(key, sb.csr.indptr, "min").long()
        if k == "stack_prev":
            p = torch.where(p == sb.local_ids, torch.full_like(p, -1), p)
        state[k] = p
    return state
