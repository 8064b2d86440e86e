"""``graphbias bench --suite compile``: neural-compiled algorithms.

Four kinds of cells:

- ``exact/<family>`` (method: the algorithm): compiled BFS, DFS and Bellman-Ford
  against the reference (outputs, every hint, step counts) and networkx
  (outputs) on random graphs; metric ``exact``, the fraction of graphs where all
  agree, and for BFS and Bellman-Ford ``frontier_exact``, the fraction where the
  frontier path equals the dense one (outputs, hints, steps). Quick: 20 graphs
  of 1..40 nodes; full: 1,000 graphs of 1..200 nodes (hints compared) and 5 of
  1,000 nodes (outputs and steps). With Cora under ``--root`` (``root`` or
  ``root/planetoid``), also on Cora (``exact/cora``).
- ``gap/<algorithm>`` (method: the starting point): the compiled architecture
  trained on traces of 16-node graphs (:class:`~graphbias.compile.CompiledLearner`)
  from a random point (``random``), the compiled point (``compiled``) or the
  compiled point perturbed by Gaussian noise of standard deviation ``s``
  (``noise<s>``); records the symmetry-aligned parameter distance to the compiled
  point during training (curve ``training``) and, at test sizes 16, 64 and 256,
  hint accuracy, output exactness, parent accuracy and the distance of the
  intermediate states (curves ``by_size`` and ``by_step``).
- ``twin/<algorithm>`` (method ``mlp``): a learned twin of another architecture
  (:class:`~graphbias.compile.AlgorithmLearner`), parent accuracy beside the
  compiled network's at 16, 64 and 256 nodes.
- ``speed/<family>-<size>`` (method: the algorithm, BFS or Bellman-Ford): one
  large graph of 10^5 or 10^6 nodes (10^4 quick) of every family but dense ER;
  seconds (median wall time of alternating runs, and process CPU time) of the
  frontier and dense paths, networkx and scipy.sparse.csgraph, and whether all
  give the same result.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse import csgraph

from ..compile import (AlgorithmLearner, CompiledAlgorithm, CompiledLearner,
                       hint_accuracy_per_step, make_traces, output_accuracy,
                       rollout_distance, task_graph)
from ..compile.reference import ALGORITHMS, networkx_outputs, run_reference
from ..data.datasets import find_planetoid, load_planetoid
from ..data.graph import Graph
from ..data.synthetic.algorithms import FAMILIES, algorithm_graph
from .suites import Cell

__all__ = ["suite", "exactness", "random_exactness", "learning_gap", "parameter_gap",
           "large_graph_speed", "GAP_STARTS"]

FRONTIER = ("bfs", "bellman_ford")


def _agree(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return all(np.array_equal(a[k], b[k]) for k in b)


def _same_run(a: Any, b: Any) -> bool:
    return a.num_steps == b.num_steps and _agree(a.outputs, b.outputs) \
        and _agree(a.hints, b.hints)


def _chunks(graphs: Sequence[Graph], budget: int = 200_000) -> list[list[int]]:
    """Graph indices in batches of similar size, each at most ``budget`` nodes
    plus edges (a larger graph alone)."""
    order = np.argsort([g.num_nodes for g in graphs], kind="stable")
    chunks: list[list[int]] = [[]]
    size = 0
    for i in order:
        cost = graphs[i].num_nodes + graphs[i].num_edges
        if chunks[-1] and size + cost > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(int(i))
        size += cost
    return chunks


def exactness(algorithm: str, graphs: Sequence[Graph], sources: Sequence[int], *,
              networkx: bool = True, hints_up_to: int = 200) -> dict[str, float]:
    """The compiled network (dense path) against the reference (outputs, hints on
    graphs up to ``hints_up_to`` nodes, steps) and networkx (outputs), and for
    BFS and Bellman-Ford the frontier path against the dense one; graphs run in
    batches of similar size.

    Parameters
    ----------
    algorithm : {"bfs", "dfs", "bellman_ford"}
        The algorithm.
    graphs : sequence of Graph
        The graphs.
    sources : sequence of int
        One source per graph.
    networkx : bool, default=True
        Also compare the outputs with networkx.
    hints_up_to : int, default=200
        Compare hints on batches whose graphs have at most this many nodes.

    Returns
    -------
    dict of str to float
        ``exact``, ``frontier_exact`` (BFS, Bellman-Ford), ``graphs``,
        ``max_nodes``, ``edges``, ``dense_seconds`` and ``frontier_seconds``
        (time in ``predict``).

    Examples
    --------
    >>> from graphbias.data.synthetic.algorithms import algorithm_graphs
    >>> m = exactness("bfs", algorithm_graphs("grid", 9, 3, seed=0), [0, 4, 8])
    >>> m["exact"], m["frontier_exact"]
    (1.0, 1.0)
    """
    paths = ("dense", "frontier") if algorithm in FRONTIER else ("dense",)
    models = {p: CompiledAlgorithm(algorithm, execution=p) for p in paths}
    seconds = dict.fromkeys(paths, 0.0)
    exact = frontier = 0
    for chunk in _chunks(graphs):
        gs = [graphs[i] for i in chunk]
        ss = [sources[i] for i in chunk]
        hints = max(g.num_nodes for g in gs) <= hints_up_to
        runs = {}
        for path, model in models.items():
            start = time.perf_counter()
            runs[path] = model.predict(gs, source=ss, hints=hints)
            seconds[path] += time.perf_counter() - start
        for k, (g, s, run) in enumerate(zip(gs, ss, runs["dense"])):
            ref = run_reference(algorithm, g, s, hints=hints)
            ok = _same_run(run, ref)
            if networkx:
                ok &= _agree(run.outputs, networkx_outputs(algorithm, g, s))
            exact += ok
            if "frontier" in runs:
                frontier += _same_run(runs["frontier"][k], run)
    out = {"exact": exact / len(graphs), "graphs": float(len(graphs)),
           "max_nodes": float(max(g.num_nodes for g in graphs)),
           "edges": float(sum(g.num_edges for g in graphs))}
    if "frontier" in models:
        out["frontier_exact"] = frontier / len(graphs)
    out.update({f"{p}_seconds": v for p, v in seconds.items()})
    return out


def random_exactness(algorithm: str, family: str, count: int, max_nodes: int,
                     seed: int, *, large: int = 0, large_nodes: int = 1000,
                     **kwargs: Any) -> dict[str, float]:
    """:func:`exactness` on ``count`` graphs with sizes log-uniform in
    ``[1, max_nodes]`` and ``large`` graphs of ``large_nodes`` nodes, each with a
    uniform random source; hints are compared up to ``max_nodes`` nodes.

    Parameters
    ----------
    algorithm : {"bfs", "dfs", "bellman_ford"}
        The algorithm (its graphs as :func:`~graphbias.compile.task_graph` poses
        them: every other Bellman-Ford graph directed with negative edges).
    family : str
        A family of :func:`~graphbias.data.synthetic.algorithms.algorithm_graph`.
    count : int
        Number of small graphs.
    max_nodes : int
        Largest small graph.
    seed : int
        Seeds the sizes, graphs and sources.
    large : int, default=0
        Number of graphs of ``large_nodes`` nodes.
    large_nodes : int, default=1000
        Their size.
    **kwargs
        Passed to :func:`exactness`.

    Returns
    -------
    dict of str to float
        As :func:`exactness`.
    """
    rng = np.random.default_rng([seed, FAMILIES.index(family), ALGORITHMS.index(algorithm)])
    sizes = np.round(np.exp(rng.uniform(0, np.log(max_nodes), count))).astype(int)
    sizes = np.concatenate([sizes, np.full(large, large_nodes)])
    graphs = [task_graph(algorithm, family, int(n), rng, i) for i, n in enumerate(sizes)]
    sources = [int(rng.integers(g.num_nodes)) for g in graphs]
    return exactness(algorithm, graphs, sources, hints_up_to=max_nodes, **kwargs)


def _twin_metrics(model: Any, graphs: list[Graph], sources: list[int],
                  truth: list[Any], prefix: str, n: int) -> dict[str, float]:
    preds = model.predict(graphs, source=sources)
    acc = [output_accuracy(p, t) for p, t in zip(preds, truth)]
    return {f"{prefix}pi_n{n}": float(np.mean([a["pi"] for a in acc])),
            f"{prefix}graph_n{n}": float(np.mean([a["graph"] for a in acc]))}


def learning_gap(algorithm: str, seed: int, *, train_graphs: int, max_epochs: int,
                 test_sizes: Sequence[int], test_graphs: int, family: str = "er",
                 test_family: Optional[str] = None) -> dict[str, float]:
    """Trains an MLP twin (:class:`~graphbias.compile.AlgorithmLearner`) on
    ``family`` graphs of 16 nodes and compares it with the compiled network at
    each test size.

    Parameters
    ----------
    algorithm : {"bfs", "dfs", "bellman_ford"}
        The algorithm.
    seed : int
        Seeds the graphs, the sources and the learner.
    train_graphs : int
        Number of training graphs (16 nodes each, source 0).
    max_epochs : int
        Training epochs of the learner.
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
        for prefix, model in (("", learner), ("compiled_", compiled)):
            metrics.update(_twin_metrics(model, graphs, sources, truth, prefix, n))
    return metrics


#: the starting points of the gap cells: (init, init_noise, lr)
GAP_STARTS: dict[str, tuple[str, float, float]] = {
    "compiled": ("compiled", 0.0, 1e-3),
    "noise0.02": ("compiled", 0.02, 1e-3),
    "noise0.05": ("compiled", 0.05, 1e-3),
    "noise0.1": ("compiled", 0.1, 1e-3),
    "random": ("random", 1.0, 1e-2),
}


def _size_metrics(learner: CompiledLearner, algorithm: str, n: int, graphs: list[Graph],
                  sources: list[int]) -> tuple[dict[str, float], np.ndarray]:
    """Hint accuracy (mean over hints and steps of the reference), output
    exactness, parent accuracy and the per-layer state distance to the compiled
    run, on ``graphs`` of ``n`` nodes."""
    truth = [run_reference(algorithm, g, s) for g, s in zip(graphs, sources)]
    preds = learner.predict(graphs, source=sources, hints=True)
    hint_acc = [np.mean([v.mean() for v in hint_accuracy_per_step(p, t).values()])
                for p, t in zip(preds, truth)]
    out = [output_accuracy(p, t) for p, t in zip(preds, truth)]
    steps = max(t.num_steps for t in truth)
    distance = rollout_distance(learner.module_, graphs, sources, steps)
    return {f"hint_acc_n{n}": float(np.mean(hint_acc)),
            f"exact_n{n}": float(np.mean([o["graph"] for o in out])),
            f"pi_acc_n{n}": float(np.mean([o["pi"] for o in out])),
            f"state_distance_n{n}": float(distance[1:].mean()) if steps else 0.0}, distance


def parameter_gap(algorithm: str, start: str, seed: int, *, train_graphs: int,
                  max_epochs: int, test_sizes: Sequence[int], test_graphs: int,
                  family: str = "er") -> dict[str, Any]:
    """Trains the compiled architecture (:class:`~graphbias.compile.CompiledLearner`)
    on traces of ``family`` graphs of 16 nodes from the starting point ``start``
    and measures its gap to the compiled network.

    Parameters
    ----------
    algorithm : {"bfs", "dfs", "bellman_ford"}
        The algorithm.
    start : str
        A key of :data:`GAP_STARTS`: ``init``, ``init_noise`` and the learning rate.
    seed : int
        Seeds the graphs, sources, initialisation and batch order.
    train_graphs : int
        Number of training graphs (16 nodes, source 0).
    max_epochs : int
        Training epochs.
    test_sizes : sequence of int
        Node counts of the test graphs.
    test_graphs : int
        Test graphs per size, each with a random source.
    family : str, default="er"
        Family of the training and test graphs.

    Returns
    -------
    dict
        ``initial_distance`` / ``initial_distance_raw``, ``param_distance`` /
        ``param_distance_raw`` (aligned / unaligned, after training),
        ``train_loss``, ``train_seconds``, per test size ``N`` ``hint_acc_n<N>``,
        ``exact_n<N>``, ``pi_acc_n<N>`` and ``state_distance_n<N>``, and the
        curves ``training`` (per epoch, ``t`` = optimisation steps), ``by_size``
        (``t`` = nodes) and ``by_step`` (``t`` = layer, one metric per size).

    Examples
    --------
    >>> m = parameter_gap("bfs", "compiled", 0, train_graphs=3, max_epochs=1,
    ...                   test_sizes=(8,), test_graphs=2)
    >>> m["param_distance"], m["exact_n8"], m["training"][0]["t"]
    (0.0, 1.0, 1)
    """
    if start not in GAP_STARTS:
        raise ValueError(f"start must be one of {sorted(GAP_STARTS)}, got {start!r}")
    init, noise, lr = GAP_STARTS[start]
    rng = np.random.default_rng([seed, ALGORITHMS.index(algorithm)])
    train = make_traces(algorithm, [task_graph(algorithm, family, 16, rng, i)
                                    for i in range(train_graphs)])
    begin = time.perf_counter()
    learner = CompiledLearner(algorithm, init=init, init_noise=noise, lr=lr,
                              max_epochs=max_epochs, random_state=seed).fit(train)
    seconds = time.perf_counter() - begin
    last = learner.history_[-1]
    metrics: dict[str, Any] = {
        "initial_distance": learner.initial_distance_["aligned"],
        "initial_distance_raw": learner.initial_distance_["raw"],
        "param_distance": last["param_distance"],
        "param_distance_raw": last["param_distance_raw"],
        "train_loss": last["train_loss"], "train_seconds": seconds, "lr": lr,
        "init_noise": noise}
    steps = learner.n_steps_per_epoch_
    metrics["training"] = [{"t": (r["epoch"] + 1) * steps, "param_distance": r["param_distance"],
                            "param_distance_raw": r["param_distance_raw"],
                            "train_loss": r["train_loss"]} for r in learner.history_]
    by_size, by_step = [], {}
    for n in test_sizes:
        graphs = [task_graph(algorithm, family, n, rng, i) for i in range(test_graphs)]
        sources = [int(rng.integers(n)) for _ in graphs]
        found, distance = _size_metrics(learner, algorithm, n, graphs, sources)
        metrics.update(found)
        by_size.append({"t": n, **{k.rsplit("_n", 1)[0]: v for k, v in found.items()}})
        for t, d in enumerate(distance):
            by_step.setdefault(t, {"t": t})[f"n{n}"] = float(d)
    metrics["by_size"] = by_size
    metrics["by_step"] = list(by_step.values())
    return metrics


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def _networkx_graph(g: Graph) -> Any:
    import networkx as nx

    ei = g.edge_index.numpy()
    w = np.ones(g.num_edges) if g.edge_weight is None else g.edge_weight.numpy()
    nxg = nx.DiGraph()
    nxg.add_nodes_from(range(g.num_nodes))
    nxg.add_weighted_edges_from(zip(ei[0].tolist(), ei[1].tolist(), w.tolist()))
    return nxg


def _runners(algorithm: str, g: Graph, source: int, skip: Sequence[str]
             ) -> dict[str, Callable[[], Any]]:
    import networkx as nx

    ei = g.edge_index.numpy()
    w = np.ones(g.num_edges) if g.edge_weight is None else g.edge_weight.numpy()
    adj = sp.csr_matrix((w, (ei[0], ei[1])), shape=(g.num_nodes,) * 2)
    runners: dict[str, Callable[[], Any]] = {
        path: (lambda m=CompiledAlgorithm(algorithm, execution=path):
               m.predict(g, source=source)) for path in ("frontier", "dense")}
    if "networkx" not in skip:
        nxg = _networkx_graph(g)
        runners["networkx"] = (
            (lambda: nx.predecessor(nxg, source)) if algorithm == "bfs" else
            (lambda: nx.bellman_ford_predecessor_and_distance(nxg, source)))
    if algorithm == "bfs":
        runners["scipy"] = lambda: csgraph.breadth_first_order(adj, source, directed=True)
    else:
        runners["scipy_bellman_ford"] = lambda: csgraph.bellman_ford(
            adj, directed=True, indices=source, return_predecessors=True)
        runners["scipy_dijkstra"] = lambda: csgraph.dijkstra(adj, directed=True,
                                                             indices=source)
    return {k: v for k, v in runners.items() if k not in skip}


def _checks(algorithm: str, g: Graph, source: int, results: dict[str, Any]
            ) -> dict[str, float]:
    """1.0 where the frontier run's outputs equal each other runner's (BFS:
    parents the smallest id of ``nx.predecessor``, hop distances scipy's;
    Bellman-Ford: distances exactly, parents networkx's smallest-id predecessor
    and attaining scipy's Dijkstra distances)."""
    n = g.num_nodes
    run = results["frontier"]
    exact: dict[str, float] = {}
    if "dense" in results:
        exact["dense"] = float(_agree(run.outputs, results["dense"].outputs))
    if "networkx" in results:
        found = results["networkx"]
        preds = found[0] if algorithm == "bellman_ford" else found
        pi_nx = np.array([min(preds[v]) if preds.get(v) else v for v in range(n)])
        exact["networkx"] = float(np.array_equal(run.outputs["pi"], pi_nx))
        if algorithm == "bellman_ford":
            d_nx = np.full(n, np.inf)
            d_nx[list(found[1])] = list(found[1].values())
            exact["networkx"] *= float(np.array_equal(run.outputs["d"], d_nx))
    ei = g.edge_index.numpy()
    w = np.ones(g.num_edges) if g.edge_weight is None else g.edge_weight.numpy()
    adj = sp.csr_matrix((w, (ei[0], ei[1])), shape=(n, n))
    if algorithm == "bfs":
        hops = csgraph.shortest_path(adj, directed=True, unweighted=True, indices=source)
        hops = np.where(np.isinf(hops), -1, hops).astype(np.int64)
        exact["scipy"] = float(np.array_equal(run.outputs["dist"], hops))
        return exact
    d_sp = results["scipy_dijkstra"]
    reached = np.flatnonzero(np.isfinite(d_sp) & (np.arange(n) != source))
    parent = run.outputs["pi"][reached]
    attained = d_sp[parent] + np.asarray(adj[parent, reached]).ravel()
    exact["scipy"] = float(np.array_equal(run.outputs["d"], d_sp)
                           and np.array_equal(attained, d_sp[reached]))
    if "scipy_bellman_ford" in results:
        exact["scipy_bellman_ford"] = float(np.array_equal(run.outputs["d"],
                                                           results["scipy_bellman_ford"][0]))
    return exact


def large_graph_speed(algorithm: str, n: int, seed: int, *, repeats: int = 3,
                      family: str = "sparse_er", once: Sequence[str] = (),
                      skip: Sequence[str] = ()) -> dict[str, float]:
    """Seconds of the compiled network (frontier and dense paths), networkx and
    scipy.sparse.csgraph (BFS: ``breadth_first_order`` as ``scipy``;
    Bellman-Ford: ``dijkstra`` as ``scipy_dijkstra``, the fast non-negative
    baseline, and ``bellman_ford`` as ``scipy_bellman_ford``) on one graph with
    integer weights 1..10 (Bellman-Ford) and a random source.

    Parameters
    ----------
    algorithm : {"bfs", "bellman_ford"}
        The algorithm.
    n : int
        Number of nodes.
    seed : int
        Seeds the graph and the source.
    repeats : int, default=3
        Rounds; in each the runners run one after the other.
    family : str, default="sparse_er"
        The graph family.
    once : sequence of str, default=()
        Runners that run in the first round only.
    skip : sequence of str, default=()
        Runners left out (``frontier`` cannot be).

    Returns
    -------
    dict of str to float
        Per runner ``<name>_seconds`` (median wall time) and
        ``<name>_cpu_seconds`` (median process CPU time); ``exact_<name>`` (1.0
        when the frontier run's result equals that runner's, see
        :func:`_checks`), ``nodes``, ``edges``, ``steps``, ``torch_threads`` and
        ``load_average`` (the machine's one-minute load when the cell ended).
    """
    rng = np.random.default_rng(seed)
    weights = "integer" if algorithm == "bellman_ford" else None
    g = algorithm_graph(family, n, weights=weights, seed=rng)
    source = int(rng.integers(n))
    runners = _runners(algorithm, g, source, skip)
    wall: dict[str, list[float]] = {k: [] for k in runners}
    cpu: dict[str, list[float]] = {k: [] for k in runners}
    results: dict[str, Any] = {}
    for r in range(repeats):
        for name, fn in runners.items():
            if r and name in once:
                continue
            w, c, results[name] = _timed(fn)
            wall[name].append(w)
            cpu[name].append(c)
    out = {f"{k}_seconds": float(np.median(v)) for k, v in wall.items()}
    out.update({f"{k}_cpu_seconds": float(np.median(v)) for k, v in cpu.items()})
    out.update({f"exact_{k}": v for k, v in _checks(algorithm, g, source, results).items()})
    out.update(nodes=float(n), edges=float(g.num_edges),
               steps=float(results["frontier"].num_steps),
               torch_threads=float(torch.get_num_threads()),
               load_average=float(os.getloadavg()[0]))
    return out


#: speed cells: (family, nodes) -> runners left out, runners run in the first
#: round only (scipy's Bellman-Ford makes n passes over the edges: 406 s on the
#: sparse graph of 10^5 nodes; Dijkstra checks the distances instead)
SPEED_CASES: dict[tuple[str, int], tuple[tuple[str, ...], tuple[str, ...]]] = {
    **{(f, 100_000): (("scipy_bellman_ford",), ("dense",)) for f in FAMILIES if f != "er"},
    **{(f, 1_000_000): (("scipy_bellman_ford", "dense"), ()) for f in FAMILIES
       if f != "er"},
}


#: training of the MLP twins (Bellman-Ford needs more graphs and epochs)
TWIN_TRAINING = {"bfs": dict(train_graphs=100, max_epochs=20),
                 "bellman_ford": dict(train_graphs=300, max_epochs=40),
                 "dfs": dict(train_graphs=100, max_epochs=20)}


def _size_label(n: int) -> str:
    return f"1e{int(round(np.log10(n)))}"


def suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    """Exactness, parameter gap, MLP twin (tested on ER graphs and, for BFS and
    Bellman-Ford, on grids) and large-graph speed cells.

    Quick: small exactness runs, short training, and speed on graphs of 10^4
    nodes; full: the measurements recorded in ``benchmarks/compile``. Speed
    cells run with seed 0 only; scipy's Bellman-Ford (``n`` passes over the
    edges) is left out (Dijkstra checks the distances), the dense path runs once
    at 10^5 nodes and not at 10^6.
    """
    cells = []
    exact = dict(count=20, max_nodes=40) if quick else dict(count=1000, max_nodes=200,
                                                             large=5)
    for family in FAMILIES:
        for algorithm in ALGORITHMS:
            for seed in range(seeds):
                cells.append(Cell("compile", f"exact/{family}", algorithm, seed,
                                  lambda a=algorithm, f=family, s=seed:
                                  random_exactness(a, f, seed=s, **exact)))
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
    gap = (dict(train_graphs=10, max_epochs=3, test_sizes=(16, 32), test_graphs=2)
           if quick else dict(train_graphs=60, max_epochs=30, test_sizes=(16, 64, 256),
                              test_graphs=8))
    for algorithm in ALGORITHMS:
        for start in GAP_STARTS:
            for seed in range(seeds):
                cells.append(Cell("compile", f"gap/{algorithm}", start, seed,
                                  lambda a=algorithm, st=start, s=seed:
                                  parameter_gap(a, st, s, **gap)))
    for algorithm in ALGORITHMS:
        twin = (dict(train_graphs=20, max_epochs=3, test_sizes=(16, 32), test_graphs=3)
                if quick else dict(TWIN_TRAINING[algorithm], test_sizes=(16, 64, 256),
                                   test_graphs=8))
        for seed in range(seeds):
            cells.append(Cell("compile", f"twin/{algorithm}", "mlp", seed,
                              lambda a=algorithm, s=seed, kw=twin: learning_gap(a, s, **kw)))
            if algorithm in FRONTIER:       # tested on grids, whose depth grows with n
                cells.append(Cell("compile", f"twin-grid/{algorithm}", "mlp", seed,
                                  lambda a=algorithm, s=seed, kw=twin:
                                  learning_gap(a, s, test_family="grid", **kw)))
    cases = ({(f, 10_000): (("scipy_bellman_ford",), ()) for f in FAMILIES if f != "er"}
             if quick else SPEED_CASES)
    for (family, n), (skip, once) in cases.items():
        repeats = 1 if quick or n >= 1_000_000 else 3
        for algorithm in FRONTIER:
            cells.append(Cell("compile", f"speed/{family}-{_size_label(n)}", algorithm, 0,
                              lambda a=algorithm, f=family, n=n, sk=skip, o=once,
                              r=repeats: large_graph_speed(a, n, 0, repeats=r, family=f,
                                                           once=o, skip=sk)))
    return cells
