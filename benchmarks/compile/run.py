"""Measurements for the neural-compiled algorithms (graphbias.compile).

    python benchmarks/compile/run.py exactness   # thousands of graphs, every family
    python benchmarks/compile/run.py large       # single graphs of 10^5+ nodes
    python benchmarks/compile/run.py gap         # learned vs compiled, n = 16, 64, 256
    python benchmarks/compile/run.py gap_grid    # the same twins tested on grids

Each writes JSON lines to benchmarks/compile/results/<name>.jsonl (one line per
cell) and prints them. One CPU thread (torch.set_num_threads(1)).
"""
from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from graphbias.bench.compile_suite import exactness, large_graph_speed, learning_gap
from graphbias.compile import task_graph
from graphbias.compile.reference import ALGORITHMS
from graphbias.data.synthetic.algorithms import FAMILIES

OUT = Path(__file__).resolve().parent / "results"


def _write(name: str, rows: list[dict]) -> None:
    OUT.mkdir(exist_ok=True)
    with open(OUT / f"{name}.jsonl", "w") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")


def _emit(rows: list[dict], row: dict) -> None:
    row.update(machine=platform.processor() or platform.machine(),
               torch=torch.__version__)
    rows.append(row)
    print(json.dumps(row), flush=True)


def run_exactness(small: int = 1000, small_max: int = 200, large: int = 5,
                  large_n: int = 1000) -> list[dict]:
    """Per family and algorithm: ``small`` graphs with sizes log-uniform in
    [1, small_max] (hints compared too) and ``large`` graphs of ``large_n`` nodes
    (outputs and step counts), against the reference and networkx."""
    rows: list[dict] = []
    for family in FAMILIES:
        for algorithm in ALGORITHMS:
            rng = np.random.default_rng(hash((family, algorithm)) % 2**32)
            sizes = np.round(np.exp(rng.uniform(0, np.log(small_max), small))).astype(int)
            sizes = np.concatenate([sizes, np.full(large, large_n)])
            graphs = [task_graph(algorithm, family, int(n), rng, i)
                      for i, n in enumerate(sizes)]
            sources = [int(rng.integers(g.num_nodes)) for g in graphs]
            start = time.perf_counter()
            m = exactness(algorithm, graphs, sources, hints_up_to=small_max)
            _emit(rows, dict(family=family, algorithm=algorithm,
                             edges=int(sum(g.num_edges for g in graphs)),
                             wall_seconds=time.perf_counter() - start, **m))
    return rows


def run_large() -> list[dict]:
    rows: list[dict] = []
    # scipy's Bellman-Ford makes n passes over the edges (about 200 s at 10^5
    # nodes here): one run on the sparse graph, none on the grid (dijkstra checks
    # the distances there); networkx is left out at 10^6 nodes (memory).
    cases = [("bfs", "sparse_er", 100_000, (), ()),
             ("bfs", "grid", 100_000, (), ()),
             ("bfs", "power_law", 100_000, (), ()),
             ("bfs", "sparse_er", 1_000_000, (), ("networkx",)),
             ("bellman_ford", "sparse_er", 100_000, ("scipy",), ()),
             ("bellman_ford", "grid", 100_000, (), ("scipy",)),
             ("bellman_ford", "power_law", 100_000, (), ("scipy",))]
    for algorithm, family, n, once, skip in cases:
        m = large_graph_speed(algorithm, n, 0, repeats=3, family=family, once=once,
                              skip=skip)
        _emit(rows, dict(algorithm=algorithm, family=family, **m))
    return rows


GAP_TRAINING = {"bfs": dict(train_graphs=100, epochs=20),
                "bellman_ford": dict(train_graphs=300, epochs=40),
                "dfs": dict(train_graphs=100, epochs=20)}


def run_gap(seeds: int = 2) -> list[dict]:
    rows: list[dict] = []
    for algorithm in ALGORITHMS:
        for seed in range(seeds):
            m = learning_gap(algorithm, seed, test_sizes=(16, 64, 256), test_graphs=8,
                             **GAP_TRAINING[algorithm])
            _emit(rows, dict(algorithm=algorithm, seed=seed, **GAP_TRAINING[algorithm], **m))
    return rows


def run_gap_grid(seeds: int = 2) -> list[dict]:
    """BFS and Bellman-Ford twins trained on ER graphs, tested on grids, where
    the number of steps grows with the size (ER graphs with p = 0.5 need 2-3)."""
    rows: list[dict] = []
    for algorithm in ("bfs", "bellman_ford"):
        for seed in range(seeds):
            m = learning_gap(algorithm, seed, test_sizes=(16, 64, 256), test_graphs=8,
                             test_family="grid", **GAP_TRAINING[algorithm])
            _emit(rows, dict(algorithm=algorithm, seed=seed, test_family="grid",
                             **GAP_TRAINING[algorithm], **m))
    return rows


if __name__ == "__main__":
    torch.set_num_threads(1)
    what = sys.argv[1] if len(sys.argv) > 1 else "exactness"
    runs = {"exactness": run_exactness, "large": run_large, "gap": run_gap,
            "gap_grid": run_gap_grid}
    if what not in runs:
        sys.exit(__doc__)
    _write(what, runs[what]())
