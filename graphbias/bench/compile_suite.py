"""``graphbias bench --suite compile``: neural-compiled algorithms.

Three kinds of cells:

- ``exact/<family>``: compiled BFS, DFS and Bellman-Ford against the reference
  (outputs, every hint, step counts) and networkx (outputs) on random graphs;
  metric ``exact``: the fraction of graphs where all agree (should be 1.0). With
  Cora under ``--root`` (``root`` or ``root/planetoid``), also on Cora.
- ``gap/<algorithm>``: a learned twin trained on ER graphs with ``n = 16``,
  parent-pointer accuracy (and whole-graph exactness) at ``n = 16, 64, 256``
  beside the compiled network's.
- ``speed/<algorithm>``: one large sparse graph; seconds of the compiled network,
  networkx and scipy.sparse.csgraph, and whether all give the same result.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse import csgraph

from ..compile import (AlgorithmLearner, CompiledAlgorithm, make_traces, output_accuracy,
                       task_graph)
from ..compile.reference import ALGORITHMS, networkx_outputs, run_reference
from ..data.datasets import find_planetoid, load_planetoid
from ..data.graph import Graph
from ..data.synthetic.algorithms import FAMILIES, algorithm_graph
from .suites import Cell

__all__ = ["suite", "exactness", "learning_gap", "large_graph_speed"]

def _agree(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return all(np.array_equal(a[k], b[k]) for k in b)


def exactness(algorithm: str, graphs: Sequence[Graph], sources: Sequence[int], *,
              networkx: bool = True, hints_up_to: int = 200) -> dict[str, float]:
    """Compiled run vs reference (outputs, hints on graphs up to ``hints_up_to``
    nodes, steps) and networkx (outputs); graphs run in batches of similar size."""
    model = CompiledAlgorithm(algorithm)
    order = np.argsort([g.num_nodes for g in graphs], kind="stable")
    exact, seconds, budget, chunk = 0, 0.0, 200_000, []

    def flush() -> int:
        nonlocal seconds
        gs = [graphs[i] for i in chunk]
        ss = [sources[i] for i in chunk]
        hints = max(g.num_nodes for g in gs) <= hints_up_to
        start = time.perf_counter()
        runs = model.predict(gs, source=ss, hints=hints)
        seconds += time.perf_counter() - start
        good = 0
        for g, s, run in zip(gs, ss, runs):
            ref = run_reference(algorithm, g, s, hints=hints)
            ok = _agree(run.outputs, ref.outputs) and run.num_steps == ref.num_steps
            if hints:
                ok &= _agree(run.hints, ref.hints)
            if networkx:
                ok &= _agree(run.outputs, networkx_outputs(algorithm, g, s))
            good += ok
        return good

    size = 0
    for i in order:
        cost = graphs[i].num_nodes + graphs[i].num_edges
        if chunk and size + cost > budget:
            exact += flush()
            chunk, size = [], 0
        chunk.append(int(i))
        size += cost
    if chunk:
        exact += flush()
    return {"exact": exact / len(graphs), "graphs": float(len(graphs)),
            "max_nodes": float(max(g.num_nodes for g in graphs)),
            "compiled_seconds": seconds}


def random_exactness(algorithm: str, family: str, count: int, max_nodes: int,
                     seed: int, **kwargs: Any) -> dict[str, float]:
    """:func:`exactness` on ``count`` graphs with sizes log-uniform in
    ``[1, max_nodes]`` and uniform random sources."""
    rng = np.random.default_rng(seed)
    sizes = np.round(np.exp(rng.uniform(0, np.log(max_nodes), count))).astype(int)
    graphs = [task_graph(algorithm, family, int(n), rng, i) for i, n in enumerate(sizes)]
    sources = [int(rng.integers(g.num_nodes)) for g in graphs]
    return exactness(algorithm, graphs, sources, **kwargs)


def learning_gap(algorithm: str, seed: int, *, train_graphs: int, max_epochs: int,
                 test_sizes: Sequence[int], test_graphs: int, family: str = "er",
                 test_family: Optional[str] = None) -> dict[str, float]:
    """Trains a twin on ``family`` graphs of 16 nodes and compares it with the
    compiled network at each test size.

    Parameters
    ----------
    algorithm : {"bfs", "dfs", "bellman_ford"}
        The algorithm.
    seed : int
        Seeds the graphs, the sources and the learner.
    train_graphs : int
        Number of training graphs (16 nodes each, source 0).
    max_epochs : int
        Training epochs of the :class:`~graphbias.compile.AlgorithmLearner`.
    test_sizes : sequence of int
        Node counts of the test graphs.
    test_graphs : int
        Test graphs per size, each with a random source.
    family : str, default="er"
        Family of the training graphs.
    test_family : str, optional
        Family of the test graphs (default: ``family``).

    Returns
    -------
    dict of str to float
        ``train_seconds``; per test size ``N`` the parent accuracy ``pi_n<N>`` and
        whole-graph exactness ``graph_n<N>`` of the learned model, and the same
        with the prefix ``compiled_`` for the compiled network.

    Examples
    --------
    >>> m = learning_gap("bfs", 0, train_graphs=4, max_epochs=1, test_sizes=(8,),
    ...                  test_graphs=2)
    >>> m["compiled_pi_n8"], 0.0 <= m["pi_n8"] <= 1.0
    (1.0, True)
    """
    rng = np.random.default_rng(seed)
    train = make_traces(algorithm, [task_graph(algorithm, family, 16, rng)
                                    for _ in range(train_graphs)])
    start = time.perf_counter()
    learner = AlgorithmLearner(algorithm, max_epochs=max_epochs,
                               random_state=seed).fit(train)
    metrics = {"train_seconds": time.perf_counter() - start}
    compiled = CompiledAlgorithm(algorithm)
    for n in test_sizes:
        graphs = [task_graph(algorithm, test_family or family, n, rng)
                  for _ in range(test_graphs)]
        sources = [int(rng.integers(n)) for _ in graphs]
        truth = [run_reference(algorithm, g, s, hints=False) for g, s in zip(graphs, sources)]
        for name, model in (("", learner), ("compiled_", compiled)):
            preds = model.predict(graphs, source=sources)
            acc = [output_accuracy(p, t) for p, t in zip(preds, truth)]
            metrics[f"{name}pi_n{n}"] = float(np.mean([a["pi"] for a in acc]))
            metrics[f"{name}graph_n{n}"] = float(np.mean([a["graph"] for a in acc]))
    return metrics


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def large_graph_speed(algorithm: str, n: int, seed: int, *, repeats: int = 3,
                      family: str = "sparse_er", once: Sequence[str] = (),
                      skip: Sequence[str] = ()) -> dict[str, float]:
    """Median seconds (runs alternate; the runners named in ``once`` run in the
    first round only, those in ``skip`` not at all) of the compiled network,
    networkx and scipy.sparse.csgraph
    (BFS: ``breadth_first_order``; Bellman-Ford: ``bellman_ford`` and, as the
    fast non-negative baseline, ``dijkstra``) on one graph. ``exact_*`` are 1.0
    when the compiled result equals the other's: BFS parents equal the smallest
    id of ``nx.predecessor``, hop distances equal scipy's; Bellman-Ford distances
    equal exactly (integer weights), parents equal networkx's smallest-id
    predecessor and attain scipy's distances."""
    import networkx as nx

    rng = np.random.default_rng(seed)
    weights = "integer" if algorithm == "bellman_ford" else None
    g = algorithm_graph(family, n, weights=weights, seed=rng)
    source = int(rng.integers(n))
    ei = g.edge_index.numpy()
    w = np.ones(g.num_edges) if g.edge_weight is None else g.edge_weight.numpy()
    adj = sp.csr_matrix((w, (ei[0], ei[1])), shape=(n, n))
    nxg = nx.DiGraph()
    nxg.add_nodes_from(range(n))
    nxg.add_weighted_edges_from(zip(ei[0].tolist(), ei[1].tolist(), w.tolist()))
    model = CompiledAlgorithm(algorithm)
    runners: dict[str, Callable[[], Any]] = {"compiled": lambda: model.predict(g, source=source)}
    if algorithm == "bfs":
        runners["networkx"] = lambda: nx.predecessor(nxg, source)
        runners["scipy"] = lambda: csgraph.breadth_first_order(adj, source, directed=True)
    else:
        runners["networkx"] = lambda: nx.bellman_ford_predecessor_and_distance(nxg, source)
        runners["scipy"] = lambda: csgraph.bellman_ford(adj, directed=True, indices=source,
                                                        return_predecessors=True)
        runners["scipy_dijkstra"] = lambda: csgraph.dijkstra(adj, directed=True,
                                                             indices=source)
    runners = {k: v for k, v in runners.items() if k not in skip}
    times: dict[str, list[float]] = {k: [] for k in runners}
    results: dict[str, Any] = {}
    for r in range(repeats):
        for name, fn in runners.items():
            if r and name in once:
                continue
            seconds, results[name] = _timed(fn)
            times[name].append(seconds)
    run = results["compiled"]
    exact: dict[str, float] = {}
    if "networkx" in results:
        found = results["networkx"]
        preds = found[0] if algorithm == "bellman_ford" else found
        pi_nx = np.array([min(preds[v]) if preds.get(v) else v for v in range(n)])
        exact["networkx"] = float(np.array_equal(run.outputs["pi"], pi_nx))
        if algorithm == "bellman_ford":
            d_nx = np.full(n, np.inf)
            d_nx[list(found[1])] = list(found[1].values())
            exact["networkx"] *= float(np.array_equal(run.outputs["d"], d_nx))
    if algorithm == "bfs":
        hops = csgraph.shortest_path(adj, directed=True, unweighted=True, indices=source)
        hops = np.where(np.isinf(hops), -1, hops).astype(np.int64)
        exact["scipy"] = float(np.array_equal(run.outputs["dist"], hops))
    else:
        d_sp = results["scipy"][0] if "scipy" in results else results["scipy_dijkstra"]
        reached = np.flatnonzero(np.isfinite(d_sp) & (np.arange(n) != source))
        parent = run.outputs["pi"][reached]
        attained = d_sp[parent] + np.asarray(adj[parent, reached]).ravel()
        exact["scipy"] = float(np.array_equal(run.outputs["d"], d_sp)
                               and np.array_equal(attained, d_sp[reached])
                               and np.array_equal(run.outputs["d"],
                                                  results["scipy_dijkstra"]))
    out = {f"{k}_seconds": float(np.median(v)) for k, v in times.items()}
    out.update(nodes=float(n), edges=float(g.num_edges), steps=float(run.num_steps),
               **{f"exact_{k}": v for k, v in exact.items()},
               torch_threads=float(torch.get_num_threads()))
    return out


def suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    """Exactness, learned-vs-compiled gap and large-graph speed cells."""
    count, max_nodes = (20, 40) if quick else (300, 1000)
    cells = []
    for family in FAMILIES:
        for algorithm in ALGORITHMS:
            for seed in range(seeds):
                cells.append(Cell("compile", f"exact/{family}", algorithm, seed,
                                  lambda a=algorithm, f=family, s=seed:
                                  random_exactness(a, f, count, max_nodes, s)))
    cora: dict[str, Graph] = {}

    def on_cora(algorithm: str) -> dict[str, float]:
        if "g" not in cora:
            cora["g"] = load_planetoid(root, "cora")
        return exactness(algorithm, [cora["g"]], [0], hints_up_to=0)

    if root is not None and find_planetoid(root, "cora") is not None:
        # DFS takes 2n = 5416 layer applications on Cora: full runs only
        for algorithm in ("bfs", "bellman_ford") if quick else ALGORITHMS:
            cells.append(Cell("compile", "exact/cora", algorithm, 0,
                              lambda a=algorithm: on_cora(a)))
    gap = (dict(train_graphs=20, max_epochs=3, test_sizes=(16, 32), test_graphs=3)
           if quick else dict(train_graphs=100, max_epochs=20, test_sizes=(16, 64, 256),
                              test_graphs=8))
    for algorithm in ALGORITHMS:
        for seed in range(seeds):
            cells.append(Cell("compile", f"gap/{algorithm}", "learned_vs_compiled", seed,
                              lambda a=algorithm, s=seed: learning_gap(a, s, **gap)))
    n_large = 10_000 if quick else 100_000
    for algorithm in ("bfs", "bellman_ford"):
        cells.append(Cell("compile", f"speed/{algorithm}", "compiled_vs_nx_scipy", 0,
                          lambda a=algorithm: large_graph_speed(
                              a, n_large, 0, repeats=1 if quick else 3)))
    return cells
