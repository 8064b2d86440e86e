"""``graphbias bench --suite cluster``: local clustering with noisy labels.

Three groups of cells:

* ``planted-p<noise>``: a planted target cluster (200 nodes in 2,000; 100 in 1,000 with
  ``--quick``) with labels flipped at rate ``noise``; F1 against the target of flow
  diffusion and PageRank on the label-weighted graph (``lfd``, ``lppr``) and on the
  original graph (``flow``, ``ppr``), and of the noisy labels alone (``labels``),
  averaged over seed nodes in the target.
* ``cora-lcc`` and ``cora`` (when ``--root`` holds the Planetoid files, e.g.
  ``../shared/data``): Cora's largest connected component (2,485 of 2,708 nodes, the
  usual protocol: a seed in one of the 77 small components can only return that
  component) and the whole graph. Each class in turn is the target; a logistic
  regression fit on 10 nodes of the class and 10 outside labels every node; one of the
  10 is the seed. Mean F1 over the classes.
* ``locality``: the same 500-node target cluster inside graphs of 10^4, 10^5 and
  (full runs) 10^6 nodes. One label-weighted flow diffusion query (and one ACL push)
  is timed on every size, alternating sizes, median of repeats, each query cold (no
  degrees cached by an earlier one); also the nodes it
  touches, and the time of a global personalised PageRank (scipy power iteration on
  the whole graph, the same alpha) on the largest graph as a ratio to one query.
"""
from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components

from ..base import to_scipy_or_array
from ..cluster import (GraphView, NoisyLabelLocalClustering, acl_ppr, classifier_labels,
                       f1_sets, flow_diffusion, global_ppr, sample_labelled_nodes, sweep_cut)
from ..data.datasets import find_planetoid, load_planetoid
from ..data.graph import Graph
from ..data.synthetic.planted import planted_cluster
from .suites import Cell

__all__ = ["suite", "METHODS", "locality", "planted_f1", "cora_f1"]

#: method name -> (estimator method, uses the noisy labels)
METHODS: dict[str, tuple[str, bool]] = {
    "lfd": ("flow", True), "flow": ("flow", False),
    "lppr": ("ppr", True), "ppr": ("ppr", False),
}
NOISE_LEVELS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def _model(method: str) -> NoisyLabelLocalClustering:
    return NoisyLabelLocalClustering(METHODS[method][0])


def planted_f1(noise: float, method: str, seed: int, quick: bool) -> dict[str, float]:
    """Mean F1 over 5 seed nodes of the target of a planted-cluster graph."""
    k, n = (100, 1000) if quick else (200, 2000)
    pc = planted_cluster(k, n, degree_in=10, degree_out=5, degree_rest=10, noise=noise,
                         seed=seed)
    if method == "labels":
        return {"f1": f1_sets(np.flatnonzero(pc.noisy_labels), pc.target)}
    start = time.perf_counter()
    model = _model(method).fit(pc.graph, noisy_labels=pc.noisy_labels
                               if METHODS[method][1] else None)
    seeds = np.random.default_rng(seed).choice(pc.target, 5, replace=False)
    f1 = model.score(list(seeds), pc.target)
    return {"f1": f1, "seconds_per_query": (time.perf_counter() - start) / seeds.size}


def cora_f1(graph: Graph, method: str, seed: int, num_labelled: int = 10) -> dict[str, float]:
    """Mean F1 over Cora's classes (each the target once) for one random draw of
    labelled nodes and seed per class."""
    y = graph.y.numpy()
    plain = _model(method).fit(graph) if method in METHODS and not METHODS[method][1] \
        else None
    scores = []
    for c in range(int(y.max()) + 1):
        rng = np.random.default_rng([seed, c])
        pos, neg = sample_labelled_nodes(y, c, num_labelled, num_labelled,
                                         int(rng.integers(2**31)))
        labels = classifier_labels(graph.x, pos, neg)
        target = np.flatnonzero(y == c)
        seed_node = int(rng.choice(pos))
        if method == "labels":
            scores.append(f1_sets(np.flatnonzero(labels), target))
            continue
        model = plain or _model(method).fit(graph, noisy_labels=labels)
        scores.append(model.score(seed_node, target))
    return {"f1": float(np.mean(scores)), "f1_worst_class": float(np.min(scores))}


def largest_component(graph: Graph) -> Graph:
    """The subgraph induced by the largest connected component (nodes renumbered in
    order; features, labels kept), the usual protocol for local clustering."""
    _, comp = connected_components(graph.to_scipy(), directed=False)
    keep = np.flatnonzero(comp == np.bincount(comp).argmax())
    new_id = np.full(graph.num_nodes, -1, dtype=np.int64)
    new_id[keep] = np.arange(keep.size)
    ei = graph.edge_index.numpy()
    ei = new_id[ei[:, new_id[ei[0]] >= 0]]
    x = None if graph.x is None else to_scipy_or_array(graph.x)[keep]
    y = None if graph.y is None else graph.y[torch.from_numpy(keep)]
    return Graph(torch.from_numpy(ei), keep.size, x=x, y=y, name=f"{graph.name}-lcc")


def _weighted_adjacency(view: GraphView, chunk: int = 1 << 16) -> sp.csr_matrix:
    """The view's weights over the whole graph, for the global baseline only."""
    n = view.num_nodes
    rows, cols, vals = [], [], []
    for lo in range(0, n, chunk):
        owner, nbrs, w = view.rows(np.arange(lo, min(lo + chunk, n)))
        rows.append(owner + lo)
        cols.append(nbrs)
        vals.append(w)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                 np.concatenate(cols))), shape=(n, n))


def locality(sizes: tuple[int, ...], repeats: int = 5, seed: int = 0,
             global_repeats: int = 3) -> dict[tuple[str, str], dict[str, float]]:
    """Time per query with the target fixed while the rest grows (see module doc).

    Returns metrics keyed by ``(f"locality-{n}", method)`` for ``lfd`` (flow
    diffusion on the label-weighted graph), ``lppr`` (ACL push on it) and, on the
    largest graph, ``global-ppr``."""
    views, targets = {}, {}
    for n in sizes:
        pc = planted_cluster(500, n, degree_in=10, degree_out=5, degree_rest=10,
                             noise=0.1, seed=seed)
        view = GraphView.from_graph(pc.graph, labels=pc.noisy_labels, label_eps=0.05)
        view.volume()
        view.scratch()
        views[n], targets[n] = view, pc.target
    seeds = np.random.default_rng(seed).choice(500, repeats, replace=False)
    mass = 7500.0                       # the target's volume (500 nodes of degree 15)
    queries: dict[str, Callable[[GraphView, int], Any]] = {
        "lfd": lambda view, s: flow_diffusion(view, s, source_mass=mass),
        "lppr": lambda view, s: acl_ppr(view, s, alpha=0.05, epsilon=3e-4)}
    runs: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    for s in seeds:
        for n in sizes:                 # alternate sizes, so load hits each alike
            view = views[n]
            for name, query in queries.items():
                view.clear_cache()      # cold: no degrees cached by earlier queries
                start = time.perf_counter()
                d = query(view, int(s))
                nodes, _ = sweep_cut(view, d.nodes, d.scores)
                seconds = time.perf_counter() - start
                runs.setdefault((name, n), []).append(
                    (seconds, d.touched, f1_sets(nodes, targets[n])))
    out: dict[tuple[str, str], dict[str, float]] = {}
    for (name, n), rows in runs.items():
        arr = np.array(rows)
        out[(f"locality-{n}", name)] = {
            "ms_per_query": 1e3 * float(np.median(arr[:, 0])),
            "touched": float(arr[:, 1].mean()), "f1": float(arr[:, 2].mean())}
    lo, hi = min(sizes), max(sizes)
    for name in queries:
        for n in sizes:
            out[(f"locality-{n}", name)]["time_vs_smallest"] = \
                out[(f"locality-{n}", name)]["ms_per_query"] / \
                out[(f"locality-{lo}", name)]["ms_per_query"]
    adj = _weighted_adjacency(views[hi])
    glob = []
    for _ in range(global_repeats):
        start = time.perf_counter()
        global_ppr(adj, int(seeds[0]), alpha=0.05)
        glob.append(time.perf_counter() - start)
    ms = 1e3 * float(np.median(glob))
    out[(f"locality-{hi}", "global-ppr")] = {
        "ms_per_query": ms, "touched": float(hi),
        "global_over_lfd": ms / out[(f"locality-{hi}", "lfd")]["ms_per_query"],
        "global_over_lppr": ms / out[(f"locality-{hi}", "lppr")]["ms_per_query"]}
    return out


def _cora_root(root: Optional[Path]) -> Optional[Path]:
    if root is None:
        return None
    return find_planetoid(root, "cora")


def suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    cells = []
    noise_levels = (0.0, 0.1, 0.3, 0.5) if quick else NOISE_LEVELS
    for noise in noise_levels:
        for method in ("lfd", "flow", "labels") + (() if quick else ("lppr", "ppr")):
            for seed in range(seeds):
                cells.append(Cell("cluster", f"planted-p{noise}", method, seed,
                                  lambda p=noise, m=method, s=seed: planted_f1(p, m, s, quick)))
    folder = _cora_root(root)
    if folder is not None:
        @functools.cache
        def cora(variant: str) -> Graph:
            g = load_planetoid(folder, "cora")
            return largest_component(g) if variant == "cora-lcc" else g

        for variant in ("cora-lcc",) + (() if quick else ("cora",)):
            for method in ("lfd", "flow", "labels") + (() if quick else ("lppr", "ppr")):
                for seed in range(seeds):
                    cells.append(Cell("cluster", variant, method, seed,
                                      lambda v=variant, m=method, s=seed: cora_f1(cora(v), m, s)))
    sizes = (10**4, 10**5) if quick else (10**4, 10**5, 10**6)
    @functools.cache
    def measured() -> dict[tuple[str, str], dict[str, float]]:
        # one alternating run serves every cell
        return locality(sizes, repeats=3 if quick else 15, global_repeats=1 if quick else 3)

    def measure(key: tuple[str, str]) -> dict[str, float]:
        return measured()[key]

    for n in sizes:
        for method in ("lfd", "lppr") + (("global-ppr",) if n == max(sizes) else ()):
            cells.append(Cell("cluster", f"locality-{n}", method, 0,
                              lambda k=(f"locality-{n}", method): measure(k)))
    return cells
