"""Sequential randomized coordinate push against ``FlowSolver`` on the same l2 flow
diffusions: does the push touch fewer nodes?

The push is the coordinate method of Fountoulakis, Wang and Yang (2021) and Yang and
Fountoulakis (2023): while some node holds more mass than its sink capacity (by more
than ``tol`` times it), pick one such node uniformly at random, raise its potential
until it holds exactly its capacity and send the excess to its neighbours in
proportion to the edge weights. It reads a node's row on its first push, one node at
a time, in Python. ``FlowSolver`` grows the support and solves each step by
conjugate gradients (``graphbias.cluster.flow``).

On the suite's locality targets (10^5-node graphs, labels flipped at 20%), both solve
the same source masses from scratch at ``tol`` 1e-3 (``lfd``: on the label-weighted
graph, ``flow``: on the original one): the 1e3 easy and hard targets from 3 seed
nodes at 2, 8 and 32 times the target's volume, and the 1e4 easy target from one
seed node at twice its volume (the push, in Python, needs over a million pushes
there). Nodes touched (nodes that received mass or were read), the support, the F1 of
the support against the target and the largest potential gap relative to the largest
potential; one JSON line per (target, method, mass, seed node).

    python benchmarks/cluster/coordinate_push.py > benchmarks/cluster/results/coordinate_push.jsonl
"""
from __future__ import annotations

import json
import os

import numpy as np

from graphbias.bench.cluster_suite import LOCALITY_TARGETS, _locality_graph
from graphbias.cluster import GraphView, f1_sets
from graphbias.cluster.flow import FlowSolver, sink_capacity


def coordinate_push(view: GraphView, seed: int, mass: float, tol: float,
                    rng: np.random.Generator) -> tuple[dict[int, float], set[int], int]:
    """Potentials ``x`` (nodes pushed at least once), the nodes touched and the pushes."""
    m: dict[int, float] = {seed: mass}
    cap: dict[int, float] = {}
    x: dict[int, float] = {}
    rows: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}

    def capacity(i: int) -> float:
        if i not in cap:
            cap[i] = float(sink_capacity(view, np.array([i]), "degree")[0])
        return cap[i]

    over = [seed] if mass > capacity(seed) * (1 + tol) else []
    queued = set(over)
    pushes = 0
    while over:
        k = int(rng.integers(len(over)))
        over[k], over[-1] = over[-1], over[k]
        i = over.pop()
        queued.discard(i)
        if i not in rows:
            _, nbrs, w = view.rows(np.array([i]))
            rows[i] = (nbrs, w, float(w.sum()))
        nbrs, w, degree = rows[i]
        excess = m[i] - capacity(i)
        x[i] = x.get(i, 0.0) + excess / degree
        m[i] = capacity(i)
        pushes += 1
        for j, share in zip(nbrs.tolist(), (excess * w / degree).tolist()):
            m[j] = m.get(j, 0.0) + share
            if j not in queued and m[j] > capacity(j) * (1 + tol):
                over.append(j)
                queued.add(j)
    return x, set(m) | set(rows), pushes


def main() -> None:
    tol = 1e-3
    runs = {("1e3", "easy"): (3, (2, 8, 32)), ("1e3", "hard"): (3, (2, 8, 32)),
            ("1e4", "easy"): (1, (2,))}
    for (volume, boundary), (n_seeds, factors) in runs.items():
        k = LOCALITY_TARGETS[volume][0]
        pc = _locality_graph(volume, boundary, 100_000, 0)
        for method, labels in (("lfd", pc.noisy_labels), ("flow", None)):
            view = GraphView.from_graph(pc.graph, labels=labels)
            target_volume = float(view.base_degree(pc.target).sum())
            seeds = np.random.default_rng(0).choice(k, 3, replace=False)[:n_seeds]
            for seed in seeds.tolist():
                for factor in factors:
                    mass = factor * target_volume
                    with FlowSolver(view, seed, tol=tol) as solver:
                        cg = solver.solve(mass)
                    x, touched, pushes = coordinate_push(view, seed, mass, tol,
                                                         np.random.default_rng(seed))
                    push_x = np.zeros(view.num_nodes)
                    push_x[list(x)] = list(x.values())
                    cg_x = cg.to_dense(view.num_nodes)
                    support = np.flatnonzero(push_x > 0)
                    print(json.dumps({
                        "target": f"{volume}-{boundary}", "method": method, "seed": seed,
                        "mass_over_target_volume": factor, "tol": tol,
                        "touched_cg": int(cg.touched), "touched_push": len(touched),
                        "support_cg": int(cg.support.size), "support_push": int(support.size),
                        "pushes": pushes, "cg_rounds": int(cg.rounds),
                        "f1_support_cg": f1_sets(cg.support, pc.target),
                        "f1_support_push": f1_sets(support, pc.target),
                        "max_gap_over_max_x": float(np.abs(push_x - cg_x).max() / cg_x.max()),
                        "load": os.getloadavg()[0]}), flush=True)


if __name__ == "__main__":
    main()
