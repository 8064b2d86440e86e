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
    \nu_v = H\big(H(B/2 - a_v) - r_v - \tfrac12\big),

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
below :math:`B/2` (and :math:`v` is not the source).

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

Every threshold sits half-way between the integer values it separates
(:math:`H(g_1 + g_2 - 3/2)` for a conjunction, :math:`H(B/2 - a)` for "below the
sentinel"), so the compiled parameters keep a margin: a small perturbation leaves
the network exact. The networks are :class:`CompiledNetwork` modules whose
:class:`~.layers.Affine` parameters are ordinary ``torch.nn.Parameter``\ s (frozen
here; :class:`~graphbias.compile.CompiledLearner` trains them): in training mode
(``module.train()``) the step and select functions compute the same exact
values but pass the gradients of differentiable surrogates back (straight-through:
a sigmoid for the step, :math:`b + g(a - b)` for select), so a trained network is
the network it is evaluated as.

**Execution** (:func:`execute`). The dense path applies the layer to every node
until the hints stop changing. BFS and Bellman-Ford read only a node's own state
and its in-neighbours' (``local = True``), so a node none of whose in-neighbours
changed in the previous layer, and which did not change itself, is a fixed point:
the frontier path applies the layer only to the nodes that changed and their
out-neighbours, and gives the same states, step counts and errors.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from .. import ops
from ..ops.csr import CSR
from .graphs import MAX_MAGNITUDE, GraphBatch
from .layers import (Affine, big, edge_min, graph_max, graph_min, neighbour_max,
                     neighbour_min, select, soft_select, soft_step, step, straight_through)
from .reference import HINTS, NegativeCycleError, check_algorithm, locate_negative_cycle

__all__ = ["CompiledNetwork", "CompiledBFS", "CompiledBellmanFord", "CompiledDFS",
           "compile_algorithm", "Execution", "execute", "EXECUTIONS", "INVALID"]

State = dict[str, Tensor]
EXECUTIONS = ("dense", "frontier")
#: the decoded value of a hint a (learned) network left non-finite
INVALID = int(np.iinfo(np.int64).min)


def _inputs(batch: GraphBatch, sources: Sequence[int]) -> State:
    src = torch.zeros(batch.num_nodes, dtype=torch.float64, device=batch.device)
    src[batch.ptr[:-1] + torch.tensor(sources, device=batch.device)] = 1.0
    return {"id": batch.ids, "src": src}


class CompiledNetwork(torch.nn.Module):
    r"""What the compiled networks share: the node state, the nonlinearities and
    the symmetry metadata of their parameters.

    Parameters
    ----------
    temperature : float, default=1.0
        :math:`\tau` of the training surrogate :math:`\sigma(x / \tau)` of the
        step function (its gradient is used in training mode).

    Attributes
    ----------
    algorithm : str
        The algorithm the network runs.
    hints : tuple of str
        The state channels that are the algorithm's hints.
    counters : tuple of str
        Channels that equal the number of layers applied, on every node.
    local : bool
        A layer reads only each node's state and its in-neighbours' (frontier
        execution applies).
    idempotent : bool
        A second layer with the same in-neighbour states changes nothing, so a
        node that just changed need not be run again unless an in-neighbour did.
    """

    algorithm: str
    hints: tuple[str, ...]
    counters: tuple[str, ...] = ()
    local: bool = True
    idempotent: bool = False

    def __init__(self, temperature: float = 1.0) -> None:
        super().__init__()
        self.temperature = float(temperature)
        self.training = False                   # exact unless put in training mode

    def step(self, x: Tensor, width: Tensor | float = 1.0) -> Tensor:
        r"""The Heaviside step; in training mode with the gradient of
        :math:`\sigma(x / (\tau w))`, ``w`` the surrogate's ``width``."""
        hard = step(x)
        if not self.training:
            return hard
        return straight_through(hard, soft_step(x, self.temperature * width))

    def gate(self, affine: Affine, sentinel: float, **channels: Tensor) -> Tensor:
        r"""The step of an Affine map's rows; the surrogate's width is each row's
        weight norm, so it sees :math:`x / \lVert w\rVert`, the signed distance to
        the row's hyperplane (the same for every positive scaling of the row)."""
        y = affine(sentinel, **channels)
        if not self.training:
            return step(y)
        width = affine.effective(sentinel)[0].detach().norm(dim=1).clamp_min(1e-12)
        return self.step(y, width if y.dim() == 2 else width[0])

    def select(self, g: Tensor, a: Tensor, b: Tensor, sentinel: float) -> Tensor:
        """``a`` where ``g`` is 1, else ``b``; in training mode with the gradient of
        ``b + g (a - b)``."""
        hard = select(g, a, b, 4 * sentinel)
        return straight_through(hard, soft_select(g, a, b)) if self.training else hard

    def affines(self) -> dict[str, Affine]:
        """The parametrised maps by name, in registration order."""
        return {name: m for name, m in self.named_children() if isinstance(m, Affine)}

    def init_state(self, batch: GraphBatch, sources: Sequence[int]) -> State:
        raise NotImplementedError

    def outputs(self, s: State) -> dict[str, Tensor]:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"algorithm={self.algorithm!r}, temperature={self.temperature:g}"


class CompiledBFS(CompiledNetwork):
    """Level-synchronous BFS; hints ``reach, pi, dist`` (see the module docstring).

    Examples
    --------
    >>> net = CompiledBFS()
    >>> net.message.weight.tolist(), net.message.bias.tolist()     # id + B (1 - reach)
    ([[1.0, -1.0]], [1.0])
    """

    algorithm = "bfs"
    hints = HINTS["bfs"]
    counters = ("clock",)
    idempotent = True

    def __init__(self, temperature: float = 1.0) -> None:
        super().__init__(temperature)
        self.message = Affine(["id", "reach"], [[1.0, big(-1)]], [big(1)])
        self.found = Affine(["a"], [[-1.0]], [big(0.5)], gate=True)
        self.new = Affine(["found", "reach"], [[1.0, -1.0]], [-0.5], gate=True)
        self.reach = Affine(["reach", "new"], [[1.0, 1.0]], [0.0])
        self.clock = Affine(["clock"], [[1.0]], [1.0])

    def init_state(self, batch: GraphBatch, sources: Sequence[int]) -> State:
        s = _inputs(batch, sources)
        return {**s, "reach": s["src"].clone(), "pi": batch.ids.clone(),
                "dist": s["src"] - 1.0, "clock": torch.zeros_like(s["src"])}

    def forward(self, s: State, batch: GraphBatch) -> State:
        B = batch.big
        a = neighbour_min(batch.csr.with_values(None), self.message(B, **s), empty=B)
        new = self.gate(self.new, B, found=self.gate(self.found, B, a=a), reach=s["reach"])
        clock = self.clock(B, clock=s["clock"])
        return {**s, "reach": self.reach(B, reach=s["reach"], new=new),
                "pi": self.select(new, a, s["pi"], B),
                "dist": self.select(new, clock, s["dist"], B), "clock": clock}

    def outputs(self, s: State) -> dict[str, Tensor]:
        return {"reach": s["reach"], "pi": s["pi"], "dist": s["dist"]}


class CompiledBellmanFord(CompiledNetwork):
    """Synchronous Bellman-Ford; hints ``reach, d, pi`` (see the module docstring)."""

    algorithm = "bellman_ford"
    hints = HINTS["bellman_ford"]
    idempotent = True

    def __init__(self, temperature: float = 1.0) -> None:
        super().__init__(temperature)
        self.penalty = Affine(["reach"], [[big(-1)]], [big(1)])
        self.message = Affine(["d_u", "w", "penalty_u"], [[1.0, 1.0, 1.0]], [0.0])
        self.keep = Affine(["d", "penalty"], [[1.0, 1.0]], [0.0])
        self.reached = Affine(["a"], [[-1.0]], [big(0.5)], gate=True)
        self.parent_key = Affine(["id_u", "attain", "reach_u"], [[1.0, big(-1), big(-1)]],
                                 [big(2)])
        self.has_parent = Affine(["p", "src"], [[-1.0, big(-1)]], [big(0.5)], gate=True)

    def init_state(self, batch: GraphBatch, sources: Sequence[int]) -> State:
        s = _inputs(batch, sources)
        return {**s, "reach": s["src"].clone(), "d": torch.zeros_like(s["src"]),
                "pi": batch.ids.clone()}

    def forward(self, s: State, batch: GraphBatch) -> State:
        B, csr = batch.big, batch.csr
        senders, receivers = csr.indices, csr.row()
        penalty = self.penalty(B, reach=s["reach"])
        msg = self.message(B, d_u=s["d"].index_select(0, senders), w=csr.values,
                           penalty_u=penalty.index_select(0, senders))
        a = torch.minimum(self.keep(B, d=s["d"], penalty=penalty),
                          edge_min(csr, msg, empty=B))
        reach = self.gate(self.reached, B, a=a)
        d = self.select(reach, a, torch.zeros_like(a), B)
        attain = self.step(a.index_select(0, receivers) - msg)
        key = self.parent_key(B, id_u=s["id"].index_select(0, senders), attain=attain,
                              reach_u=s["reach"].index_select(0, senders))
        p = edge_min(csr, key, empty=3 * B)
        update = self.gate(self.has_parent, B, p=p, src=s["src"])
        return {**s, "reach": reach, "d": d, "pi": self.select(update, p, s["pi"], B)}

    def outputs(self, s: State) -> dict[str, Tensor]:
        d = torch.where(s["reach"] > 0, s["d"], torch.full_like(s["d"], float("inf")))
        return {"reach": s["reach"], "d": d, "pi": s["pi"]}


def _equality(name: str) -> Affine:
    """Two step units whose sum minus 1 is :math:`[x = y]` for integers."""
    return Affine(["x", "y"], [[1.0, -1.0], [-1.0, 1.0]], [0.5, 0.5], gate=True,
                  exchangeable=True)


class CompiledDFS(CompiledNetwork):
    """CLRS DFS, one event per layer; hints ``color, pi, d, f, top, stack_prev,
    time`` (see the module docstring for the stack construction). Its layer reads
    graph-wide readouts, so it runs on the dense path only (``local = False``)."""

    algorithm = "dfs"
    hints = HINTS["dfs"]
    local = False

    def __init__(self, temperature: float = 1.0) -> None:
        super().__init__(temperature)
        self.white = Affine(["color"], [[-1.0]], [0.5], gate=True)
        self.cand = Affine(["white", "child"], [[1.0, 1.0]], [-1.5], gate=True)
        self.masked_id = Affine(["id", "flag"], [[1.0, big(-1)]], [big(1)])
        self.masked_prev = Affine(["stack_prev", "top"], [[1.0, big(-1)]], [big(1)])
        self.root_key = Affine(["id", "white", "src"], [[1.0, big(-2), big(-0.5)]],
                               [big(2)])
        self.below = Affine(["x"], [[-1.0]], [big(0.5)], gate=True)     # x < B / 2
        self.is_cand = _equality("is_cand")
        self.is_root = _equality("is_root")
        self.is_prev = _equality("is_prev")
        self.discover_child = Affine(["is_min", "has_cand"], [[1.0, 1.0]], [-1.5],
                                     gate=True)
        self.discover_root = Affine(["is_min", "has_root", "has_top"],
                                    [[1.0, 1.0, -1.0]], [-1.5], gate=True)
        self.finish = Affine(["top", "has_cand"], [[1.0, -1.0]], [-0.5], gate=True)
        self.pop = Affine(["is_prev", "finished"], [[1.0, 1.0]], [-1.5], gate=True)
        self.event = Affine(["has_top", "has_root"], [[1.0, 1.0]], [-0.5], gate=True)
        self.color = Affine(["color", "child", "root", "finish"], [[1.0, 1.0, 1.0, 1.0]],
                            [0.0])
        self.top = Affine(["child", "root", "pop"], [[1.0, 1.0, 1.0]], [0.0])
        self.clock = Affine(["time", "event"], [[1.0, 1.0]], [0.0])

    def init_state(self, batch: GraphBatch, sources: Sequence[int]) -> State:
        s = _inputs(batch, sources)
        zero = torch.zeros_like(s["src"])
        return {**s, "color": zero, "pi": batch.ids.clone(), "d": zero, "f": zero,
                "top": zero, "stack_prev": zero - 1.0, "time": zero}

    def _equal(self, unit: Affine, B: float, x: Tensor, y: Tensor) -> Tensor:
        return self.gate(unit, B, x=x, y=y).sum(-1) - 1.0

    def forward(self, s: State, batch: GraphBatch) -> State:
        B, ptr, nodes = batch.big, batch.ptr, batch.batch
        white = self.gate(self.white, B, color=s["color"])
        child = neighbour_max(batch.csr.with_values(None), s["top"])
        cand = self.gate(self.cand, B, white=white, child=child)
        cand_key = self.masked_id(B, id=s["id"], flag=cand)
        c = graph_min(cand_key, ptr, nodes)
        has_cand = self.gate(self.below, B, x=c)
        has_top = graph_max(s["top"], ptr, nodes)
        top_id = graph_min(self.masked_id(B, id=s["id"], flag=s["top"]), ptr, nodes)
        top_prev = graph_min(self.masked_prev(B, stack_prev=s["stack_prev"], top=s["top"]),
                             ptr, nodes)
        root_key = self.root_key(B, id=s["id"], white=white, src=s["src"])
        r = graph_min(root_key, ptr, nodes)
        has_root = self.gate(self.below, B, x=r)
        new_child = self.gate(self.discover_child, B,
                              is_min=self._equal(self.is_cand, B, cand_key, c),
                              has_cand=has_cand)
        new_root = self.gate(self.discover_root, B,
                             is_min=self._equal(self.is_root, B, root_key, r),
                             has_root=has_root, has_top=has_top)
        finish = self.gate(self.finish, B, top=s["top"], has_cand=has_cand)
        finished = graph_max(finish, ptr, nodes)
        pop = self.gate(self.pop, B, is_prev=self._equal(self.is_prev, B, s["id"], top_prev),
                        finished=finished)
        event = self.gate(self.event, B, has_top=has_top, has_root=has_root)
        time = self.clock(B, time=s["time"], event=event)
        discovered = new_child + new_root
        return {**s,
                "color": self.color(B, color=s["color"], child=new_child, root=new_root,
                                    finish=finish),
                "pi": self.select(new_child, top_id, s["pi"], B),
                "d": self.select(discovered, time, s["d"], B),
                "f": self.select(finish, time, s["f"], B),
                "top": self.top(B, child=new_child, root=new_root, pop=pop),
                "stack_prev": self.select(new_child, top_id, s["stack_prev"], B),
                "time": time}

    def outputs(self, s: State) -> dict[str, Tensor]:
        return {"pi": s["pi"], "d": s["d"], "f": s["f"]}


COMPILED = {"bfs": CompiledBFS, "bellman_ford": CompiledBellmanFord, "dfs": CompiledDFS}


def compile_algorithm(algorithm: str, temperature: float = 1.0) -> CompiledNetwork:
    """The compiled network of ``algorithm``, in evaluation (exact) mode.

    Parameters
    ----------
    algorithm : {"bfs", "dfs", "bellman_ford"}
        The algorithm.
    temperature : float, default=1.0
        The step surrogate's temperature, used in training mode.

    Returns
    -------
    CompiledNetwork
        Frozen float64 parameters set to the analytic values.

    Examples
    --------
    >>> net = compile_algorithm("bfs")
    >>> [name for name, _ in net.named_parameters()][:2]
    ['message.weight', 'message.bias']
    """
    return COMPILED[check_algorithm(algorithm)](temperature)


@dataclass
class Execution:
    """Result of :func:`execute`: per graph, ``outputs`` (numpy arrays), ``hints``
    (``[T_g + 1, n_g]`` per name, when recorded) and the step count ``steps``."""

    outputs: list[dict[str, np.ndarray]]
    hints: list[dict[str, np.ndarray]]
    steps: list[int]


def _decoded(real: bool, x: np.ndarray) -> np.ndarray:
    """Real hints as they are; the others rounded to integers (exact networks
    give integers already), values that are not finite or beyond the int64 range as
    :data:`INVALID` (a learned network may write them)."""
    if real:
        return x
    valid = np.isfinite(x) & (np.abs(x) < 2.0 ** 62)
    return np.where(valid, np.rint(np.where(valid, x, 0.0)), INVALID).astype(np.int64)


def execute(module: CompiledNetwork, batch: GraphBatch, sources: Sequence[int], *,
            hints: bool = False, graphs: Optional[Sequence] = None,
            execution: str = "dense", negative_cycles: bool = True) -> Execution:
    """Applies ``module`` (with its exact nonlinearities) layer after layer until
    every graph's hints are fixed, at most ``2 max(n_g) + 2`` layers.

    Parameters
    ----------
    module : CompiledNetwork
        The network (its training surrogates are not used here).
    batch : GraphBatch
        The graphs.
    sources : sequence of int
        One source id per graph.
    hints : bool, default=False
        Record the hints after every layer.
    graphs : sequence of Graph, optional
        The input graphs, to name the nodes of a negative cycle.
    execution : {"dense", "frontier"}, default="dense"
        Apply every layer to every node, or only to the nodes whose inputs changed
        in the previous layer (networks with ``local = True``); same results.
    negative_cycles : bool, default=True
        Bellman-Ford: a distance that still changes at step ``n_g`` proves a
        reachable negative cycle, and :class:`NegativeCycleError` names it (off
        for learned networks, whose distances need not settle).

    Returns
    -------
    Execution

    Raises
    ------
    ValueError
        An unknown ``execution``, or ``"frontier"`` for a network whose layer is
        not local.
    """
    if execution not in EXECUTIONS:
        raise ValueError(f"execution must be one of {EXECUTIONS}, got {execution!r}")
    if execution == "frontier" and not module.local:
        raise ValueError(f"frontier execution needs a network whose layer reads only "
                         f"in-neighbours; {module.algorithm} reads graph-wide readouts: "
                         "use execution='dense'")
    check = negative_cycles and module.algorithm == "bellman_ford"
    run = _run_frontier if execution == "frontier" else _run_dense
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            state, record, steps = run(module, batch, sources, hints,
                                       graphs if check else None, check)
            outputs = {k: v.cpu().numpy() for k, v in module.outputs(state).items()}
    finally:
        module.train(was_training)
    real = {"d"} if module.algorithm == "bellman_ford" else set()
    steps_list = steps.tolist()
    bounds = list(zip(batch.ptr[:-1].tolist(), batch.ptr[1:].tolist()))
    per_graph = [{k: _decoded(k in real, v[lo:hi]) for k, v in outputs.items()}
                 for lo, hi in bounds]
    traces: list[dict[str, np.ndarray]] = []
    if hints:
        stacked = torch.stack(record).cpu().numpy()           # [T+1, H, N]
        for (lo, hi), count in zip(bounds, steps_list):
            cut = stacked[:count + 1, :, lo:hi]
            traces.append({k: _decoded(k in real, cut[:, i])
                           for i, k in enumerate(module.hints)})
    return Execution(per_graph, traces, steps_list)


def _per_graph(batch: GraphBatch, x: Tensor) -> Tensor:
    return ops.segment_csr(x, batch.ptr, "max")


def _run_dense(module: CompiledNetwork, batch: GraphBatch, sources: Sequence[int],
               hints: bool, graphs: Optional[Sequence], check: bool
               ) -> tuple[State, list[Tensor], Tensor]:
    names = module.hints
    state = module.init_state(batch, sources)
    sizes = torch.tensor(batch.sizes, device=batch.device)
    steps = torch.zeros(batch.num_graphs, dtype=torch.long, device=batch.device)
    record = [torch.stack([state[k] for k in names])] if hints else []
    for t in range(1, 2 * max(batch.sizes) + 3):
        new = module(state, batch)
        changed = torch.stack([new[k] != state[k] for k in names]).any(0)
        changed_g = _per_graph(batch, changed.double()) > 0
        if check:
            moved = (new["d"] != state["d"]) | (new["reach"] != state["reach"])
            late = moved & (t >= sizes.index_select(0, batch.batch))
            _raise_negative_cycle(batch, late.nonzero().flatten(), new["pi"], graphs,
                                  sources)
        steps += changed_g.long()
        state = new
        if hints:
            record.append(torch.stack([state[k] for k in names]))
        if not bool(changed_g.any()):
            break
    return state, record, steps


def _frontier_view(batch: GraphBatch, active: Tensor) -> tuple[CSR, Tensor]:
    """The in-edges a layer on the nodes ``active`` reads, as the CSR of a batch of
    its own: rows ``0 .. A-1`` are the active nodes with their in-edges, followed
    by one copy of the sender of each of those edges (a row without in-edges), so
    no node has to be looked up or renumbered; returns ``(csr, nodes)``,
    ``nodes`` the global id of every row."""
    csr = batch.csr
    indptr, edges = ops.csr_rows(csr.indptr, active)
    senders = csr.indices.index_select(0, edges)
    nodes = torch.cat([active, senders])
    a, n = active.numel(), nodes.numel()
    indptr = torch.nn.functional.pad(indptr, (0, n - a), value=senders.numel())
    values = None if csr.values is None else csr.values.index_select(0, edges)
    return CSR.trusted(indptr, torch.arange(a, n, device=nodes.device), (n, n),
                       values), nodes


#: a layer runs on every node when more than this fraction of them is active (the
#: frontier view holds the active nodes, a copy of each in-neighbour and their
#: in-edges: on sparse graphs it costs less than a dense layer up to about a quarter
#: of the nodes; 1/8 was the fastest or within 10% of it on grids, trees, sparse ER
#: and power-law graphs of 10^5 nodes, for BFS and Bellman-Ford)
DENSE_FRACTION = 1 / 8


def _run_frontier(module: CompiledNetwork, batch: GraphBatch, sources: Sequence[int],
                  hints: bool, graphs: Optional[Sequence], check: bool
                  ) -> tuple[State, list[Tensor], Tensor]:
    """The layers applied to the changing part only: layer 1 to every node, then
    layer ``t + 1`` to the out-neighbours of the nodes that changed in layer ``t``
    (and, unless the layer is idempotent, to those nodes), on every node when
    more than :data:`DENSE_FRACTION` of them is active. Per layer the work is
    proportional to the active part and its in-edges (the counters are filled in
    for it), not to the graph."""
    names = module.hints
    state = {k: v.clone() for k, v in module.init_state(batch, sources).items()}
    extra = set(state) - set(names) - set(module.counters) - {"id", "src"}
    if extra:
        raise ValueError(f"frontier execution needs a state of inputs, hints and "
                         f"counters; {module.algorithm} also keeps {sorted(extra)}")
    sizes = torch.tensor(batch.sizes, device=batch.device)
    smallest = min(batch.sizes)
    steps = torch.zeros(batch.num_graphs, dtype=torch.long, device=batch.device)
    touched = torch.zeros(batch.num_graphs, dtype=torch.bool, device=batch.device)
    record = [torch.stack([state[k] for k in names])] if hints else []
    out_indptr, out_indices, _ = batch.csr.transpose_structure()
    mark = torch.zeros(batch.num_nodes, dtype=torch.bool, device=batch.device)
    active: Optional[Tensor] = None                                 # None: every node
    for t in range(1, 2 * max(batch.sizes) + 3):
        if active is None or active.numel() > DENSE_FRACTION * batch.num_nodes:
            active = torch.arange(batch.num_nodes, device=batch.device)
            new = module({**state, **{k: torch.full_like(state[k], t - 1.0)
                                      for k in module.counters}}, batch)
            old = state
        elif not active.numel():                        # nothing can change
            new = old = {k: state[k][:0] for k in names}
        else:
            csr, nodes = _frontier_view(batch, active)
            n = nodes.numel()
            local = {k: (v.new_full((n,), t - 1.0) if k in module.counters
                         else v.index_select(0, nodes)) for k, v in state.items()}
            view = GraphBatch(csr, nodes.new_tensor([0, n]), nodes.new_zeros(n),
                              local["id"], [n], batch.big)
            a = active.numel()
            out = module(local, view)
            new, old = {k: out[k][:a] for k in names}, {k: local[k][:a] for k in names}
        differs = [new[k] != old[k] for k in names]
        which = functools.reduce(torch.logical_or, differs).nonzero().flatten()
        moved_nodes = active.index_select(0, which)
        if check and t >= smallest:              # no earlier step can be late
            moved = (new["d"] != old["d"]) | (new["reach"] != old["reach"])
            late = active[moved & (t >= sizes.index_select(0, batch.batch[active]))]
            if late.numel():
                _raise_negative_cycle(batch, late, state["pi"].index_copy(0, active, new["pi"]),
                                      graphs, sources)
        for k in names:
            state[k].index_copy_(0, active, new[k])
        if hints:
            record.append(torch.stack([state[k] for k in names]))
        if not moved_nodes.numel():
            break
        if batch.num_graphs == 1:
            steps += 1
        else:
            touched.zero_()
            touched[batch.batch.index_select(0, moved_nodes)] = True
            steps += touched
        active = ops.reached(out_indptr, out_indices, moved_nodes,
                             with_rows=not module.idempotent, mark=mark)
    for k in module.counters:
        state[k].fill_(float(t))
    return state, record, steps


def _raise_negative_cycle(batch: GraphBatch, late: Tensor, pi: Tensor,
                          graphs: Optional[Sequence], sources: Sequence[int]) -> None:
    """A :class:`NegativeCycleError` for the first of the ``late`` nodes (whose
    distance or reach changed at a step ``>= n_g``), if any."""
    if not late.numel():
        return
    node = int(late.min())
    g = int(batch.batch[node])
    lo, hi = int(batch.ptr[g]), int(batch.ptr[g + 1])
    if graphs is None:
        raise NegativeCycleError([node - lo], g)
    cycle = locate_negative_cycle(graphs[g], sources[g], pi[lo:hi].cpu().numpy()
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
