"""``graphbias bench --suite cluster``: local clustering with noisy labels.

Every estimator runs at its default settings unless the method says otherwise.

* ``planted-p<noise>``: a planted target cluster (200 nodes in 2,000; 100 in 1,000 with
  ``--quick``) with labels flipped at rate ``noise``; F1 against the target of flow
  diffusion and PageRank on the label-weighted graph (``lfd``, ``lppr``) and on the
  original graph (``flow``, ``ppr``), of the paper's protocol
  (:meth:`~graphbias.cluster.NoisyLabelLocalClustering.paper_protocol` given the
  target's volume: ``lfd-paper``, ``flow-paper``), and of the noisy labels alone
  (``labels``), averaged over seed nodes in the target.
* ``cora-lcc`` and ``cora`` (when ``--root`` holds the Planetoid files, e.g.
  ``../shared/data``): Cora's largest connected component (2,485 of 2,708 nodes, the
  usual protocol: a seed in one of the 77 small components can only return that
  component) and the whole graph. Each class in turn is the target; a logistic
  regression fit on 10 nodes of the class and 10 outside labels every node; one of the
  10 is the seed. Mean F1 over the classes.
* ``locality-<volume>-<boundary>-<nodes>``: a target of volume about 10^3, 10^4 or
  10^5 (:data:`LOCALITY_TARGETS`) with an easy (1) or hard (15) number of boundary
  edges per target node, inside a sparse graph (degree 6) of 10^4, 10^5 or 10^6 nodes
  (``--quick``: 10^3 and 10^4 volumes, 10^4 and 10^5 nodes), labels flipped at rate
  0.2. Methods ``lfd`` / ``flow`` (flow diffusion) and ``lppr`` / ``ppr`` (ACL push
  PageRank), with / without the labels: one default query from each of a few seeds in the
  target, each cold (no degrees cached by an earlier one), sizes alternated; median
  wall and CPU time (``cpu_ms_per_query``: the process's CPU time, which holds up
  better than wall time on a shared machine), median nodes touched and edges scanned
  (summed over the diffusions a query ran), mean F1. A target whose internal volume exceeds a fifth of the graph's is
  left out.
* ``peer-<nodes>`` (when ``localgraphclustering`` is installed): ACL push PageRank and
  its sweep cut, ours against localgraphclustering's, on the unweighted planted graphs
  of the ``1e4``/``easy`` locality target: the largest gap between the two PageRank
  vectors in units of ``epsilon * degree`` (both are within that of the exact vector),
  F1 of both clusters, their Jaccard similarity, and the time ratio.
"""
from __future__ import annotations

import ctypes
import functools
import importlib
import importlib.util
import sys
import time
import types
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from ..cluster import (GraphView, NoisyLabelLocalClustering, acl_ppr, classifier_labels,
                       f1_sets, sample_labelled_nodes, sweep_cut)
from ..data.datasets import find_planetoid, load_planetoid
from ..data.graph import Graph
from ..data.synthetic.planted import PlantedCluster, planted_cluster
from ..data.transforms import largest_component
from .suites import Cell

__all__ = ["suite", "METHODS", "LOCALITY_TARGETS", "locality", "peer_acl", "planted_f1",
           "cora_f1"]

#: method name -> (estimator method, uses the noisy labels, the paper's protocol)
METHODS: dict[str, tuple[str, bool, bool]] = {
    "lfd": ("flow", True, False), "flow": ("flow", False, False),
    "lppr": ("ppr", True, False), "ppr": ("ppr", False, False),
    "lfd-paper": ("flow", True, True), "flow-paper": ("flow", False, True),
}
NOISE_LEVELS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
#: locality targets: volume name -> (cluster size, expected neighbours inside)
LOCALITY_TARGETS: dict[str, tuple[int, float]] = {
    "1e3": (40, 24.0), "1e4": (300, 40.0), "1e5": (2000, 49.0)}
#: boundary edges per target node
BOUNDARIES: dict[str, float] = {"easy": 1.0, "hard": 15.0}
#: the default-settings methods of the locality cells
LOCALITY_METHODS = ("lfd", "flow", "lppr", "ppr")


def _model(method: str, target_volume: float) -> NoisyLabelLocalClustering:
    name, _, paper = METHODS[method]
    if paper:
        return NoisyLabelLocalClustering.paper_protocol(target_volume)
    return NoisyLabelLocalClustering(name)


def _volume(graph: Graph, nodes: np.ndarray) -> float:
    return float(GraphView.from_graph(graph).base_degree(np.asarray(nodes)).sum())


def _fit(method: str, graph: Graph, labels: Any, target: np.ndarray
         ) -> NoisyLabelLocalClustering:
    return _model(method, _volume(graph, target)).fit(
        graph, noisy_labels=labels if METHODS[method][1] else None)


def planted_f1(noise: float, method: str, seed: int, quick: bool) -> dict[str, float]:
    """Mean F1 over 5 seed nodes of the target of a planted-cluster graph."""
    k, n = (100, 1000) if quick else (200, 2000)
    pc = planted_cluster(k, n, degree_in=10, degree_out=5, degree_rest=10, noise=noise,
                         seed=seed)
    if method == "labels":
        return {"f1": f1_sets(np.flatnonzero(pc.noisy_labels), pc.target)}
    start = time.perf_counter()
    model = _fit(method, pc.graph, pc.noisy_labels, pc.target)
    seeds = np.random.default_rng(seed).choice(pc.target, 5, replace=False)
    f1 = model.score(list(seeds), pc.target)
    return {"f1": f1, "seconds_per_query": (time.perf_counter() - start) / seeds.size}


def cora_f1(graph: Graph, method: str, seed: int, num_labelled: int = 10) -> dict[str, float]:
    """Mean F1 over Cora's classes (each the target once) for one random draw of
    labelled nodes and seed per class."""
    y = graph.y.numpy()
    shared = method in METHODS and not METHODS[method][1] and not METHODS[method][2]
    plain = _model(method, 1.0).fit(graph) if shared else None
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
        model = plain or _fit(method, graph, labels, target)
        scores.append(model.score(seed_node, target))
    return {"f1": float(np.mean(scores)), "f1_worst_class": float(np.min(scores))}


#: label noise of the locality graphs
LOCALITY_NOISE = 0.2


@functools.lru_cache(maxsize=3)
def _locality_graph(volume: str, boundary: str, n: int, seed: int,
                    noise: float = LOCALITY_NOISE) -> PlantedCluster:
    k, d_in = LOCALITY_TARGETS[volume]
    return planted_cluster(k, n, degree_in=d_in, degree_out=BOUNDARIES[boundary],
                           degree_rest=6.0, noise=noise, seed=seed)


def locality_sizes(volume: str, sizes: tuple[int, ...]) -> tuple[int, ...]:
    """The graph sizes whose volume (degree 6) is at least five times the target's
    internal volume."""
    k, d_in = LOCALITY_TARGETS[volume]
    return tuple(n for n in sizes if 6.0 * n >= 5 * k * d_in)


def locality(volume: str, boundary: str, sizes: tuple[int, ...], repeats: int = 5,
             seed: int = 0, methods: tuple[str, ...] = LOCALITY_METHODS,
             noise: float = LOCALITY_NOISE) -> dict[tuple[str, str], dict[str, float]]:
    """Default queries on one target while the rest of the graph grows (module doc).

    Returns metrics keyed by ``(f"locality-{volume}-{boundary}-{n}", method)`` for
    each of ``methods`` (of :data:`LOCALITY_METHODS`); with a label ``noise`` other
    than :data:`LOCALITY_NOISE` the names end in ``-p{noise}``."""
    unknown = set(methods) - set(LOCALITY_METHODS)
    if unknown:
        raise ValueError(f"locality methods must be among {LOCALITY_METHODS}, got "
                         f"{sorted(unknown)}")
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be in [0, 1], got {noise}")
    graphs = {n: _locality_graph(volume, boundary, n, seed, noise) for n in sizes}
    suffix = "" if noise == LOCALITY_NOISE else f"-p{noise:g}"
    models = {(n, m): NoisyLabelLocalClustering(METHODS[m][0]).fit(
        pc.graph, noisy_labels=pc.noisy_labels if METHODS[m][1] else None)
        for n, pc in graphs.items() for m in methods}
    k = LOCALITY_TARGETS[volume][0]
    seeds = np.random.default_rng(seed).choice(k, repeats, replace=False)
    runs: dict[tuple[int, str], list[tuple[float, ...]]] = {}
    for s in seeds:
        for n in sizes:                 # alternate sizes, so load hits each alike
            for method in methods:
                model = models[(n, method)]
                model.view_.clear_cache()
                start, cpu_start = time.perf_counter(), time.process_time()
                res = model.query(int(s))
                cpu = time.process_time() - cpu_start
                seconds = time.perf_counter() - start
                runs.setdefault((n, method), []).append(
                    (seconds, res.touched, res.edges_scanned, res.diffusions,
                     f1_sets(res.nodes, graphs[n].target), cpu))
    out: dict[tuple[str, str], dict[str, float]] = {}
    for (n, method), rows in runs.items():
        arr = np.array(rows)
        out[(f"locality-{volume}-{boundary}-{n}{suffix}", method)] = {
            "ms_per_query": 1e3 * float(np.median(arr[:, 0])),
            "cpu_ms_per_query": 1e3 * float(np.median(arr[:, 5])),
            "touched": float(np.median(arr[:, 1])),
            "edges_scanned": float(np.median(arr[:, 2])),
            "diffusions": float(np.median(arr[:, 3])), "f1": float(arr[:, 4].mean()),
            "target_volume": _volume(graphs[n].graph, graphs[n].target)}
    for method in methods:
        first = out[(f"locality-{volume}-{boundary}-{sizes[0]}{suffix}", method)]
        for n in sizes:
            cell = out[(f"locality-{volume}-{boundary}-{n}{suffix}", method)]
            cell["time_vs_smallest"] = cell["ms_per_query"] / first["ms_per_query"]
            cell["cpu_time_vs_smallest"] = (cell["cpu_ms_per_query"]
                                            / first["cpu_ms_per_query"])
            cell["touched_vs_smallest"] = cell["touched"] / first["touched"]
    return out


def peer_functions() -> Optional[tuple[Callable[..., Any], Callable[..., Any]]]:
    """localgraphclustering's ACL push and sweep cut, or None when not installed.

    localgraphclustering 0.6.1 cannot be imported as a package: its ``__init__``
    binds every routine of its bundled ``libgraph.so``, which lacks some of them
    (``MQI_weighted64``). Only its ``aclpagerank_cpp`` and ``sweepcut_cpp`` modules
    are loaded here, with the library they bind."""
    spec = importlib.util.find_spec("localgraphclustering")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(spec.submodule_search_locations[0])
    if "localgraphclustering.cpp" not in sys.modules:
        package = types.ModuleType("localgraphclustering")
        package.__path__, package.__spec__ = [str(root)], spec
        cpp = types.ModuleType("localgraphclustering.cpp")
        cpp.__path__ = [str(root / "cpp")]
        cpp._graphlib = ctypes.CDLL(str(root / "src/lib/graph_lib_test/libgraph.so"))
        sys.modules.setdefault("localgraphclustering", package)
        sys.modules["localgraphclustering.cpp"] = cpp
    acl = importlib.import_module("localgraphclustering.cpp.aclpagerank_cpp")
    sweep = importlib.import_module("localgraphclustering.cpp.sweepcut_cpp")
    return acl.aclpagerank_cpp, sweep.sweepcut_cpp


def peer_acl(sizes: tuple[int, ...], repeats: int = 5, seed: int = 0, alpha: float = 0.05,
             epsilon: float = 1e-5) -> dict[tuple[str, str], dict[str, float]]:
    """ACL push + sweep cut, ours against localgraphclustering's (module doc).

    localgraphclustering's ACL computes PageRank of the lazy walk with teleport
    ``alpha``, which is PageRank of the plain walk with teleport
    ``2 alpha / (1 + alpha)``: ours runs with that."""
    functions = peer_functions()
    if functions is None:
        raise RuntimeError("localgraphclustering is not installed")
    lgc_acl, lgc_sweep = functions
    plain_alpha = 2 * alpha / (1 + alpha)
    out = {}
    for n in sizes:
        pc = _locality_graph("1e4", "easy", n, seed)
        view = GraphView.from_graph(pc.graph)
        view.scratch()
        ai, aj = view.indptr.astype(np.int64), view.indices.astype(np.int64)
        ones, deg = np.ones(aj.size), view.degree(np.arange(n))
        rows = []
        for s in np.random.default_rng(seed).choice(pc.target, repeats, replace=False):
            start = time.perf_counter()
            d = acl_ppr(view, int(s), alpha=plain_alpha, epsilon=epsilon)
            ours, _ = sweep_cut(view, d.nodes, d.scores)
            mid = time.perf_counter()
            length, ids, values = lgc_acl(n, ai, aj, alpha, epsilon, [int(s)], 10**8,
                                          xlength=4 * d.nodes.size + 16)
            _, theirs, _ = lgc_sweep(n, ai, aj, ones, ids.astype(np.int64), length,
                                     values / deg[ids], 0, deg)
            end = time.perf_counter()
            gap = np.abs(d.to_dense(n)[ids] - values) / (epsilon * deg[ids])
            only_ours = np.setdiff1d(d.nodes[d.values > 0], ids)
            gap_max = max(float(gap.max()), float(
                (d.to_dense(n)[only_ours] / (epsilon * deg[only_ours])).max(initial=0.0)))
            theirs = np.asarray(theirs, dtype=np.int64)
            rows.append((mid - start, end - mid, gap_max, f1_sets(ours, pc.target),
                         f1_sets(theirs, pc.target),
                         np.intersect1d(ours, theirs).size / np.union1d(ours, theirs).size))
        arr = np.array(rows)
        out[(f"peer-{n}", "acl")] = {
            "ours_ms": 1e3 * float(np.median(arr[:, 0])),
            "lgc_ms": 1e3 * float(np.median(arr[:, 1])),
            "ours_over_lgc": float(np.median(arr[:, 0] / arr[:, 1])),
            "gap_in_eps_degree": float(arr[:, 2].max()), "f1_ours": float(arr[:, 3].mean()),
            "f1_lgc": float(arr[:, 4].mean()), "jaccard": float(arr[:, 5].mean())}
    return out


def _cora_root(root: Optional[Path]) -> Optional[Path]:
    if root is None:
        return None
    return find_planetoid(root, "cora")


def _shared(measure: Callable[[], dict]) -> Callable[[tuple[str, str]], Callable[[], dict]]:
    """Cells that read one shared measurement, run once on first use."""
    once = functools.cache(measure)
    return lambda key: lambda: once()[key]


def _locality_cells(quick: bool) -> list[Cell]:
    volumes = ("1e3", "1e4") if quick else tuple(LOCALITY_TARGETS)
    sizes = (10**4, 10**5) if quick else (10**4, 10**5, 10**6)
    cells = []
    for volume in volumes:
        for boundary in BOUNDARIES:
            kept = locality_sizes(volume, sizes)
            if not kept:
                continue
            for method in LOCALITY_METHODS:   # measured per method: run only those asked
                cell = _shared(lambda v=volume, b=boundary, k=kept, m=method: locality(
                    v, b, k, repeats=2 if quick else 5, methods=(m,)))
                cells += [Cell("cluster", f"locality-{volume}-{boundary}-{n}", method, 0,
                               cell((f"locality-{volume}-{boundary}-{n}", method)))
                          for n in kept]
    if importlib.util.find_spec("localgraphclustering") is not None:
        cell = _shared(lambda: peer_acl(sizes, repeats=2 if quick else 5))
        cells += [Cell("cluster", f"peer-{n}", "acl", 0, cell((f"peer-{n}", "acl")))
                  for n in sizes]
    return cells


def suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    cells = []
    noise_levels = (0.0, 0.1, 0.3, 0.5) if quick else NOISE_LEVELS
    methods = ("lfd", "flow", "labels") + (() if quick else (
        "lppr", "ppr", "lfd-paper", "flow-paper"))
    for noise in noise_levels:
        for method in methods:
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
            for method in methods:
                for seed in range(seeds):
                    cells.append(Cell("cluster", variant, method, seed,
                                      lambda v=variant, m=method, s=seed: cora_f1(cora(v), m, s)))
    return cells + _locality_cells(quick)
