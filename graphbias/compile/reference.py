r"""Plain reference implementations of BFS, DFS and Bellman-Ford with hint traces.

Each returns a :class:`Trace`: the ``outputs`` and, in CLRS's spirit, the
``hints``: the node state after each algorithm step (row 0 is the initial state),
which is what the compiled networks reproduce one layer application at a time.
Node ids break every tie (the smaller id wins); edges follow their direction
(an undirected graph stores both).

**BFS** (level-synchronous, as CLRS's ``bfs``): a step reaches every unreached
node with a reached in-neighbour; its parent is the smallest such id, its
``dist`` the step number. Hints ``reach, pi, dist``. Parents equal the smallest
id of networkx's shortest-path predecessors (``nx.predecessor``).

**Bellman-Ford** (synchronous relaxation, as CLRS's ``bellman_ford``): with
:math:`d_t` the distances after step :math:`t` (over reached nodes),

.. math:: d_{t+1}(v) = \min\big(d_t(v),\ \min_{u \to v,\ u\ \mathrm{reached}}
          d_t(u) + w(u, v)\big),

and :math:`\pi_{t+1}(v)` is the smallest id :math:`u` attaining the inner minimum
when it equals :math:`d_{t+1}(v)` (else :math:`\pi_t(v)`; the source keeps itself).
It stops at the first step that changes nothing; a change of ``d`` at step
:math:`\ge n` proves a reachable negative cycle (:class:`NegativeCycleError`). At
the fixed point :math:`\pi(v)` is the smallest id among all shortest-path
predecessors, networkx's ``bellman_ford_predecessor_and_distance`` lists.
Hints ``reach, d, pi``.

**DFS** (directed, CLRS's DFS with the stack made explicit): one step is one
event: if the stack top has a white out-neighbour, the smallest one is
discovered and pushed; else the top is finished and popped; with an empty stack
the next root (``source`` first, then the smallest white id) is discovered.
Times run 1..2n (``d`` discovery, ``f`` finish; 0 = not yet). Hints ``color``
(0 white, 1 grey, 2 black), ``pi``, ``d``, ``f``, ``top`` (1 on the stack top),
``stack_prev`` (the node below on the stack, -1 at the bottom), ``time``. The
result equals networkx's ``dfs_labeled_edges`` on a graph whose adjacency lists
are sorted by id and whose node order starts with ``source``.

>>> from graphbias.data import Graph
>>> g = Graph([[0, 1, 1, 2], [1, 0, 2, 1]], 3)
>>> bfs(g, 0).outputs["pi"].tolist()
[0, 0, 1]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..data.graph import Graph
from .graphs import check_source

__all__ = ["ALGORITHMS", "HINTS", "Trace", "NegativeCycleError", "bfs", "bellman_ford",
           "dfs", "run_reference"]

ALGORITHMS = ("bfs", "dfs", "bellman_ford")
HINTS = {"bfs": ("reach", "pi", "dist"),
         "bellman_ford": ("reach", "d", "pi"),
         "dfs": ("color", "pi", "d", "f", "top", "stack_prev", "time")}


class NegativeCycleError(ValueError):
    """A negative cycle is reachable from the source; ``cycle`` lists its nodes
    in order, ``graph_index`` says which graph of a batch."""

    def __init__(self, cycle: list[int], graph_index: int = 0) -> None:
        self.cycle = cycle
        self.graph_index = graph_index
        super().__init__(f"graph {graph_index}: a negative cycle is reachable from the "
                         f"source: {' -> '.join(map(str, cycle + cycle[:1]))}; "
                         "shortest paths are undefined")


@dataclass
class Trace:
    """One run: ``hints[name]`` is ``[T + 1, n]`` (the state after each of ``T``
    steps, row 0 initial), ``outputs[name]`` is ``[n]``."""

    algorithm: str
    graph: Graph
    source: int
    outputs: dict[str, np.ndarray]
    hints: dict[str, np.ndarray] = field(default_factory=dict)
    num_steps: int = 0


def _edges(graph: Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    src, dst = graph.edge_index.cpu().numpy()
    w = (np.ones(src.size) if graph.edge_weight is None
         else graph.edge_weight.detach().cpu().double().numpy())
    return src, dst, w


def _stack(states: list[dict[str, np.ndarray]], names: tuple[str, ...]
           ) -> dict[str, np.ndarray]:
    return {k: np.stack([s[k] for s in states]) for k in names}


def bfs(graph: Graph, source: int = 0, *, hints: bool = True) -> Trace:
    """Level-synchronous BFS from ``source`` (see the module docstring)."""
    n = graph.num_nodes
    s = check_source(source, n)
    src, dst, _ = _edges(graph)
    reach = np.zeros(n, bool)
    reach[s] = True
    pi = np.arange(n)
    dist = np.full(n, -1)
    dist[s] = 0
    states = [dict(reach=reach.astype(np.int64), pi=pi.copy(), dist=dist.copy())]
    step = 0
    while True:
        live = reach[src] & ~reach[dst]
        if not live.any():
            break
        step += 1
        parent = np.full(n, n)
        np.minimum.at(parent, dst[live], src[live])
        new = parent < n
        pi[new], dist[new], reach[new] = parent[new], step, True
        if hints:
            states.append(dict(reach=reach.astype(np.int64), pi=pi.copy(), dist=dist.copy()))
    out = dict(reach=reach.astype(np.int64), pi=pi, dist=dist)
    return Trace("bfs", graph, s, out, _stack(states, HINTS["bfs"]) if hints else {}, step)


def bellman_ford(graph: Graph, source: int = 0, *, hints: bool = True) -> Trace:
    """Synchronous Bellman-Ford from ``source``; unweighted graphs use weight 1.

    Raises :class:`NegativeCycleError` when a negative cycle is reachable.
    """
    n = graph.num_nodes
    s = check_source(source, n)
    src, dst, w = _edges(graph)
    reach = np.zeros(n, bool)
    reach[s] = True
    d = np.zeros(n)
    pi = np.arange(n)
    states = [dict(reach=reach.astype(np.int64), d=d.copy(), pi=pi.copy())]
    step = 0
    while True:
        live = reach[src]
        cand = d[src[live]] + w[live]
        best = np.full(n, np.inf)
        np.minimum.at(best, dst[live], cand)
        new_d = np.where(reach, np.minimum(d, best), best)
        new_reach = reach | np.isfinite(best)
        new_d[~new_reach] = 0.0
        attain = cand == new_d[dst[live]]
        parent = np.full(n, n)
        np.minimum.at(parent, dst[live][attain], src[live][attain])
        new_pi = np.where(parent < n, parent, pi)
        new_pi[s] = s
        moved = bool((new_d != d).any() or (new_reach != reach).any())
        if moved and step + 1 >= n:
            raise NegativeCycleError(locate_negative_cycle(
                graph, s, new_pi, int(np.flatnonzero((new_d != d) | (new_reach != reach))[0])))
        if not moved and (new_pi == pi).all():
            break
        step += 1
        reach, d, pi = new_reach, new_d, new_pi
        if hints:
            states.append(dict(reach=reach.astype(np.int64), d=d.copy(), pi=pi.copy()))
    out = dict(reach=reach.astype(np.int64), d=np.where(reach, d, np.inf), pi=pi)
    return Trace("bellman_ford", graph, s, out,
                 _stack(states, HINTS["bellman_ford"]) if hints else {}, step)


def locate_negative_cycle(graph: Graph, source: int, pi: np.ndarray, start: int
                          ) -> list[int]:
    """Nodes of a negative cycle reachable from ``source``, in edge order.

    Walks ``n`` parent pointers back from ``start`` (a node whose distance still
    fell at step ``n``) and returns the pointer cycle it lands on when that
    cycle's weight is negative; otherwise asks networkx to find one."""
    n = graph.num_nodes
    src, dst, w = _edges(graph)
    weight: dict[tuple[int, int], float] = {}
    for u, v, x in zip(src.tolist(), dst.tolist(), w.tolist()):
        weight[(u, v)] = min(x, weight.get((u, v), np.inf))
    v = int(start)
    for _ in range(n):
        v = int(pi[v])
    cycle = [v]
    u = int(pi[v])
    while u != v:
        cycle.append(u)
        u = int(pi[u])
    total = sum(weight.get((int(pi[x]), x), np.inf) for x in cycle)
    if total < 0:
        return cycle[::-1]
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from((u, v, x) for (u, v), x in weight.items())
    return [int(x) for x in nx.find_negative_cycle(g, source)[:-1]]


def dfs(graph: Graph, source: int = 0, *, hints: bool = True) -> Trace:
    """CLRS depth-first search over all nodes, roots ``source`` then by id."""
    n = graph.num_nodes
    s = check_source(source, n)
    src, dst, _ = _edges(graph)
    order = np.lexsort((dst, src))
    starts = np.searchsorted(src[order], np.arange(n + 1))
    adjacency = dst[order]
    color = np.zeros(n, np.int64)
    pi, d, f = np.arange(n), np.zeros(n, np.int64), np.zeros(n, np.int64)
    top = np.zeros(n, np.int64)
    stack_prev = np.full(n, -1)
    cursor = starts[:-1].copy()          # next out-neighbour to look at, per node
    stack: list[int] = []
    roots = iter([s] + [v for v in range(n) if v != s])
    states = []

    def record(time: int) -> None:
        if hints:
            states.append(dict(color=color.copy(), pi=pi.copy(), d=d.copy(), f=f.copy(),
                               top=top.copy(), stack_prev=stack_prev.copy(),
                               time=np.full(n, time)))

    def push(v: int, time: int) -> None:
        if stack:
            pi[v] = stack_prev[v] = stack[-1]
            top[stack[-1]] = 0
        color[v], d[v], top[v] = 1, time, 1
        stack.append(v)

    record(0)
    for time in range(1, 2 * n + 1):
        if not stack:
            root = next(r for r in roots if color[r] == 0)
            push(root, time)
        else:
            u = stack[-1]
            while cursor[u] < starts[u + 1] and color[adjacency[cursor[u]]] != 0:
                cursor[u] += 1
            if cursor[u] < starts[u + 1]:
                push(int(adjacency[cursor[u]]), time)
            else:
                stack.pop()
                color[u], f[u], top[u] = 2, time, 0
                if stack:
                    top[stack[-1]] = 1
        record(time)
    out = dict(pi=pi, d=d, f=f)
    return Trace("dfs", graph, s, out, _stack(states, HINTS["dfs"]) if hints else {}, 2 * n)


REFERENCES: dict[str, Callable[..., Trace]] = {"bfs": bfs, "dfs": dfs,
                                                "bellman_ford": bellman_ford}


def run_reference(algorithm: str, graph: Graph, source: int = 0, *,
                  hints: bool = True) -> Trace:
    """The reference trace of ``algorithm`` (one of :data:`ALGORITHMS`)."""
    if algorithm not in REFERENCES:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    return REFERENCES[algorithm](graph, source, hints=hints)


def check_algorithm(algorithm: str) -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    return algorithm


def networkx_outputs(algorithm: str, graph: Graph, source: int = 0
                     ) -> dict[str, np.ndarray]:
    """The same outputs computed with networkx (for cross-checks), with the tie
    rules above: smallest-id shortest-path predecessor; DFS on sorted adjacency."""
    import networkx as nx

    n = graph.num_nodes
    src, dst, w = _edges(graph)
    g = nx.DiGraph()
    g.add_nodes_from([source] + [v for v in range(n) if v != source])
    order = np.lexsort((dst, src))
    if algorithm == "bellman_ford":
        best: dict[tuple[int, int], float] = {}
        for u, v, x in zip(src[order].tolist(), dst[order].tolist(), w[order].tolist()):
            best[(u, v)] = min(x, best.get((u, v), np.inf))
        g.add_weighted_edges_from((u, v, x) for (u, v), x in best.items())
    else:
        g.add_edges_from(zip(src[order].tolist(), dst[order].tolist()))
    pi = np.arange(n)
    if algorithm == "dfs":
        d, f = np.zeros(n, np.int64), np.zeros(n, np.int64)
        time = 0
        for u, v, kind in nx.dfs_labeled_edges(g):
            if kind == "forward":
                time += 1
                d[v] = time
                if u != v:
                    pi[v] = u
            elif kind == "reverse":
                time += 1
                f[v] = time
        return dict(pi=pi, d=d, f=f)
    reach = np.zeros(n, np.int64)
    if algorithm == "bfs":
        dist = np.full(n, -1)
        for v, k in nx.single_source_shortest_path_length(g, source).items():
            dist[v], reach[v] = k, 1
        for v, preds in nx.predecessor(g, source).items():
            if preds:
                pi[v] = min(preds)
        return dict(reach=reach, pi=pi, dist=dist)
    # networkx refuses any negative self-loop, even an unreachable one: keep the
    # part reachable from the source (the rest is unreached either way)
    g = g.subgraph(nx.descendants(g, source) | {source})
    preds, dist_map = nx.bellman_ford_predecessor_and_distance(g, source)
    d = np.full(n, np.inf)
    for v, x in dist_map.items():
        d[v], reach[v] = x, 1
    for v, p in preds.items():
        if p and v != source:       # networkx lists the source's zero-weight cycles
            pi[v] = min(p)
    return dict(reach=reach, d=d, pi=pi)
