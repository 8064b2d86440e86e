r"""Message-passing networks whose weights are set by hand to run BFS, DFS and
Bellman-Ford exactly: one layer application is one algorithm step.

Every network keeps a float64 node state of named channels (the hints of
:mod:`.reference` plus the inputs ``id``, the node's id within its graph, and
``src``, 1 at the source) and applies the same layer, built from the blocks of
:mod:`.layers`, until the hints stop changing. Graphs of a :class:`GraphBatch`
run side by side; one that has halted stays at its fixed point.

**BFS** (one layer = one BFS level):

.. math::
    m_u = \mathrm{id}_u + B(1 - r_u), \quad a_v = \min_{u \to v} m_u, \quad
    \nu_v = H\big(H(B - 1 - a_v) - r_v - 1\big),

:math:`r' = r + \nu`, :math:`\pi' = \mathrm{select}(\nu, a, \pi)`: the minimum
over in-neighbours of a message that is the sender's id when it is reached and
at least :math:`B` otherwise is the smallest reached in-neighbour, the parent.

**Bellman-Ford** (one layer = one synchronous relaxation): with the penalty
:math:`p_u = B(1 - r_u)` (exactly 0 on reached nodes),

.. math::
    m_{uv} = d_u + w_{uv} + p_u, \quad a_v = \min\big(d_v + p_v,\ \min_{u\to v} m_{uv}\big),

:math:`r' = H(B/2 - a)`, :math:`d' = \mathrm{select}(r', a, 0)`; parents are an
argmin with id tie-break in a second aggregation:
:math:`e_{uv} = H(a_v - m_{uv})` flags the edges attaining the minimum and
:math:`\pi'_v = \min_{u \to v} \mathrm{id}_u + B(2 - e_{uv} - r_u)` when that is
below :math:`B` (and :math:`v` is not the source).

**DFS** (one layer = one DFS event: discover or finish). The stack lives in the
node state: ``top`` flags the node on top, ``stack_prev`` points to the node
below it (-1 at the bottom), ``time`` counts events. Each layer reads, with
aggregations over the in-neighbours and over the whole graph (a virtual node):

- ``child`` :math:`= \max_{u \to v} \mathrm{top}_u` and ``white`` :math:`=H(-\mathrm{color})`,
  so the candidates are the white out-neighbours of the top;
- :math:`c = \min_v \mathrm{id}_v + B(1 - \mathrm{cand}_v)`, the smallest candidate;
- the top's id and its ``stack_prev``, by a graph-wide min of
  :math:`x_v + B(1 - \mathrm{top}_v)`;
- the next root: the graph-wide min of
  :math:`\mathrm{id} + 2B(1-\mathrm{white}) - \tfrac B2 \mathrm{src}`.

Then exactly one event happens: discover :math:`c` (push: ``top`` moves to it,
``pi = stack_prev =`` old top), or finish the top when it has no candidate (pop:
``top`` moves to ``stack_prev``), or, with an empty stack, discover the next
root. Each is a conjunction of step functions, and every update a
:func:`~.layers.select`. A run has exactly :math:`2n` events.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from .. import ops
from .graphs import MAX_MAGNITUDE, GraphBatch
from .layers import (BIG, Affine, edge_min, graph_max, graph_min, neighbour_max,
                     neighbour_min, select, step)
from .reference import HINTS, NegativeCycleError, check_algorithm, locate_negative_cycle

__all__ = ["CompiledBFS", "CompiledBellmanFord", "CompiledDFS", "compile_algorithm",
           "Execution", "execute"]

State = dict[str, Tensor]


def _inputs(batch: GraphBatch, sources: Sequence[int]) -> State:
    src = torch.zeros(batch.num_nodes, dtype=torch.float64, device=batch.device)
    src[batch.ptr[:-1] + torch.tensor(sources, device=batch.device)] = 1.0
    return {"id": batch.ids, "src": src}


class CompiledBFS(torch.nn.Module):
    """Level-synchronous BFS; hints ``reach, pi, dist`` (see the module docstring)."""

    algorithm = "bfs"
    hints = HINTS["bfs"]

    def __init__(self) -> None:
        super().__init__()
        self.message = Affine(["id", "reach"], [[1.0, -BIG]], [BIG])
        self.found = Affine(["a"], [[-1.0]], [BIG - 1])
        self.new = Affine(["found", "reach"], [[1.0, -1.0]], [-1.0])
        self.reach = Affine(["reach", "new"], [[1.0, 1.0]], [0.0])
        self.clock = Affine(["clock"], [[1.0]], [1.0])

    def init_state(self, batch: GraphBatch, sources: Sequence[int]) -> State:
        s = _inputs(batch, sources)
        return {**s, "reach": s["src"].clone(), "pi": batch.ids.clone(),
                "dist": s["src"] - 1.0, "clock": torch.zeros_like(s["src"])}

    def forward(self, s: State, batch: GraphBatch) -> State:
        a = neighbour_min(batch.csr.with_values(None), self.message(**s))
        new = step(self.new(found=step(self.found(a=a)), reach=s["reach"]))
        clock = self.clock(clock=s["clock"])
        return {**s, "reach": self.reach(reach=s["reach"], new=new),
                "pi": select(new, a, s["pi"]), "dist": select(new, clock, s["dist"]),
                "clock": clock}

    def outputs(self, s: State) -> dict[str, Tensor]:
        return {"reach": s["reach"], "pi": s["pi"], "dist": s["dist"]}


class CompiledBellmanFord(torch.nn.Module):
    """Synchronous Bellman-Ford; hints ``reach, d, pi`` (see the module docstring)."""

    algorithm = "bellman_ford"
    hints = HINTS["bellman_ford"]

    def __init__(self) -> None:
        super().__init__()
        self.penalty = Affine(["reach"], [[-BIG]], [BIG])
        self.message = Affine(["d_u", "w", "penalty_u"], [[1.0, 1.0, 1.0]], [0.0])
        self.keep = Affine(["d", "penalty"], [[1.0, 1.0]], [0.0])
        self.reached = Affine(["a"], [[-1.0]], [BIG / 2])
        self.parent_key = Affine(["id_u", "attain", "reach_u"], [[1.0, -BIG, -BIG]],
                                 [2 * BIG])
        self.has_parent = Affine(["p", "src"], [[-1.0, -BIG]], [BIG - 1])

    def init_state(self, batch: GraphBatch, sources: Sequence[int]) -> State:
        s = _inputs(batch, sources)
        return {**s, "reach": s["src"].clone(), "d": torch.zeros_like(s["src"]),
                "pi": batch.ids.clone()}

    def forward(self, s: State, batch: GraphBatch) -> State:
        csr = batch.csr
        senders, receivers = csr.indices, csr.row()
        penalty = self.penalty(reach=s["reach"])
        msg = self.message(d_u=s["d"].index_select(0, senders), w=csr.values,
                           penalty_u=penalty.index_select(0, senders))
        a = torch.minimum(self.keep(d=s["d"], penalty=penalty), edge_min(csr, msg))
        reach = step(self.reached(a=a))
        d = select(reach, a, torch.zeros_like(a))
        attain = step(a.index_select(0, receivers) - msg)
        key = self.parent_key(id_u=s["id"].index_select(0, senders), attain=attain,
                              reach_u=s["reach"].index_select(0, senders))
        p = edge_min(csr, key, empty=3 * BIG)
        update = step(self.has_parent(p=p, src=s["src"]))
        return {**s, "reach": reach, "d": d, "pi": select(update, p, s["pi"])}

    def outputs(self, s: State) -> dict[str, Tensor]:
        d = torch.where(s["reach"] > 0, s["d"], torch.full_like(s["d"], float("inf")))
        return {"reach": s["reach"], "d": d, "pi": s["pi"]}


class CompiledDFS(torch.nn.Module):
    """CLRS DFS, one event per layer; hints ``color, pi, d, f, top, stack_prev,
    time`` (see the module docstring for the stack construction)."""

    algorithm = "dfs"
    hints = HINTS["dfs"]

    def __init__(self) -> None:
        super().__init__()
        self.white = Affine(["color"], [[-1.0]], [0.0])
        self.cand = Affine(["white", "child"], [[1.0, 1.0]], [-2.0])
        self.masked_id = Affine(["id", "flag"], [[1.0, -BIG]], [BIG])
        self.masked_prev = Affine(["stack_prev", "top"], [[1.0, -BIG]], [BIG])
        self.root_key = Affine(["id", "white", "src"], [[1.0, -2 * BIG, -BIG / 2]],
                               [2 * BIG])
        self.below = Affine(["x"], [[-1.0]], [BIG - 1])          # x < BIG
        self.discover_child = Affine(["is_min", "has_cand"], [[1.0, 1.0]], [-2.0])
        self.discover_root = Affine(["is_min", "has_root", "has_top"],
                                    [[1.0, 1.0, -1.0]], [-2.0])
        self.finish = Affine(["top", "has_cand"], [[1.0, -1.0]], [-1.0])
        self.pop = Affine(["is_prev", "finished"], [[1.0, 1.0]], [-2.0])
        self.event = Affine(["has_top", "has_root"], [[1.0, 1.0]], [-1.0])
        self.color = Affine(["color", "child", "root", "finish"], [[1.0, 1.0, 1.0, 1.0]],
                            [0.0])
        self.top = Affine(["child", "root", "pop"], [[1.0, 1.0, 1.0]], [0.0])
        self.clock = Affine(["time", "event"], [[1.0, 1.0]], [0.0])

    def init_state(self, batch: GraphBatch, sources: Sequence[int]) -> State:
        s = _inputs(batch, sources)
        zero = torch.zeros_like(s["src"])
        return {**s, "color": zero, "pi": batch.ids.clone(), "d": zero, "f": zero,
                "top": zero, "stack_prev": zero - 1.0, "time": zero}

    def forward(self, s: State, batch: GraphBatch) -> State:
        ptr, nodes = batch.ptr, batch.batch

        def equal(x: Tensor, y: Tensor) -> Tensor:        # integers: H(x-y) + H(y-x) - 1
            return step(x - y) + step(y - x) - 1.0

        white = step(self.white(color=s["color"]))
        child = neighbour_max(batch.csr.with_values(None), s["top"])
        cand = step(self.cand(white=white, child=child))
        cand_key = self.masked_id(id=s["id"], flag=cand)
        c = graph_min(cand_key, ptr, nodes)
        has_cand = step(self.below(x=c))
        has_top = graph_max(s["top"], ptr, nodes)
        top_id = graph_min(self.masked_id(id=s["id"], flag=s["top"]), ptr, nodes)
        top_prev = graph_min(self.masked_prev(stack_prev=s["stack_prev"], top=s["top"]),
                             ptr, nodes)
        root_key = self.root_key(id=s["id"], white=white, src=s["src"])
        r = graph_min(root_key, ptr, nodes)
        has_root = step(self.below(x=r))
        new_child = step(self.discover_child(is_min=equal(cand_key, c), has_cand=has_cand))
        new_root = step(self.discover_root(is_min=equal(root_key, r), has_root=has_root,
                                           has_top=has_top))
        finish = step(self.finish(top=s["top"], has_cand=has_cand))
        finished = graph_max(finish, ptr, nodes)
        pop = step(self.pop(is_prev=equal(s["id"], top_prev), finished=finished))
        event = step(self.event(has_top=has_top, has_root=has_root))
        time = self.clock(time=s["time"], event=event)
        discovered = new_child + new_root
        return {**s,
                "color": self.color(color=s["color"], child=new_child, root=new_root,
                                    finish=finish),
                "pi": select(new_child, top_id, s["pi"]),
                "d": select(discovered, time, s["d"]),
                "f": select(finish, time, s["f"]),
                "top": self.top(child=new_child, root=new_root, pop=pop),
                "stack_prev": select(new_child, top_id, s["stack_prev"]),
                "time": time}

    def outputs(self, s: State) -> dict[str, Tensor]:
        return {"pi": s["pi"], "d": s["d"], "f": s["f"]}


COMPILED = {"bfs": CompiledBFS, "bellman_ford": CompiledBellmanFord, "dfs": CompiledDFS}


def compile_algorithm(algorithm: str) -> torch.nn.Module:
    """The compiled network of ``algorithm`` (``"bfs"``, ``"dfs"``, ``"bellman_ford"``).

    >>> net = compile_algorithm("bfs")
    >>> [name for name, _ in net.named_parameters()][:2]
    ['message.weight', 'message.bias']
    """
    return COMPILED[check_algorithm(algorithm)]()


@dataclass
class Execution:
    """Result of :func:`execute`: per graph, ``outputs`` (numpy arrays), ``hints``
    (``[T_g + 1, n_g]`` per name, when recorded) and the step count ``steps``."""

    outputs: list[dict[str, np.ndarray]]
    hints: list[dict[str, np.ndarray]]
    steps: list[int]


def _per_graph(batch: GraphBatch, x: Tensor) -> Tensor:
    return ops.segment_csr(x, batch.ptr, "max")


def execute(module: torch.nn.Module, batch: GraphBatch, sources: Sequence[int], *,
            hints: bool = False, graphs: Optional[Sequence] = None) -> Execution:
    """Applies ``module`` layer after layer until every graph's hints are fixed.

    Bellman-Ford: a distance that still changes at step ``n_g`` proves a reachable
    negative cycle; :class:`NegativeCycleError` names it (``graphs``, the input
    graphs, let it list the cycle's nodes).
    """
    names = module.hints
    with torch.no_grad():
        state = module.init_state(batch, sources)
        sizes = torch.tensor(batch.sizes, device=batch.device)
        steps = torch.zeros(batch.num_graphs, dtype=torch.long, device=batch.device)
        record = [torch.stack([state[k] for k in names])] if hints else []
        limit = 2 * max(batch.sizes) + 2
        for t in range(1, limit + 1):
            new = module(state, batch)
            changed = torch.stack([new[k] != state[k] for k in names]).any(0)
            changed_g = _per_graph(batch, changed.double()) > 0
            if module.algorithm == "bellman_ford":
                _check_negative_cycle(batch, state, new, t, sizes, graphs, sources)
            steps += changed_g.long()
            state = new
            if hints:
                record.append(torch.stack([state[k] for k in names]))
            if not bool(changed_g.any()):
                break
        outputs = {k: v.cpu().numpy() for k, v in module.outputs(state).items()}
    def typed(name: str, x: np.ndarray) -> np.ndarray:     # distances stay float64
        real = name == "d" and module.algorithm == "bellman_ford"
        return x if real else x.astype(np.int64)

    steps_list = steps.tolist()
    bounds = list(zip(batch.ptr[:-1].tolist(), batch.ptr[1:].tolist()))
    per_graph = [{k: typed(k, v[lo:hi]) for k, v in outputs.items()} for lo, hi in bounds]
    traces: list[dict[str, np.ndarray]] = []
    if hints:
        stacked = torch.stack(record).cpu().numpy()           # [T+1, H, N]
        for (lo, hi), count in zip(bounds, steps_list):
            cut = stacked[:count + 1, :, lo:hi]
            traces.append({k: typed(k, cut[:, i]) for i, k in enumerate(names)})
    return Execution(per_graph, traces, steps_list)


def _check_negative_cycle(batch: GraphBatch, old: State, new: State, t: int,
                          sizes: Tensor, graphs: Optional[Sequence],
                          sources: Sequence[int]) -> None:
    moved = (new["d"] != old["d"]) | (new["reach"] != old["reach"])
    late = moved & (t >= sizes.index_select(0, batch.batch))
    if not bool(late.any()):
        return
    node = int(late.nonzero()[0])
    g = int(batch.batch[node])
    lo, hi = int(batch.ptr[g]), int(batch.ptr[g + 1])
    if graphs is None:
        raise NegativeCycleError([node - lo], g)
    cycle = locate_negative_cycle(graphs[g], sources[g], new["pi"][lo:hi].cpu().numpy()
                                  .astype(np.int64), node - lo)
    raise NegativeCycleError(cycle, g)


def check_magnitudes(batch: GraphBatch) -> None:
    """Distances must stay far below the sentinel ``B`` of the layers."""
    values = batch.csr.values
    if values is not None and values.numel():
        bound = float(values.abs().max()) * max(batch.sizes)
        if bound >= MAX_MAGNITUDE:
            raise ValueError(f"edge weights up to {float(values.abs().max()):g} on graphs "
                             f"of {max(batch.sizes)} nodes can give distances near "
                             f"{bound:g}, beyond the exact range ({MAX_MAGNITUDE:g}) of "
                             "the compiled network")
