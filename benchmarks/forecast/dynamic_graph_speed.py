"""What one graph per step costs in training: Los-loop with its static graph, with a
graph that changes every hour (12 steps) and with one that changes at every step,
in one process, one thread, alternating.

Each time-varying graph is the Los-loop graph with 5% of its edges dropped at random,
redrawn every ``period`` steps (the same object in between). The estimator forecasts
each window on the graph of its last input step and passes a batch of 64 windows
(visited in random order, so it meets dozens of hourly graphs) as the nodes of one
block-diagonal graph, built with its operators once a batch, where a static graph's
operators stay cached. Training windows/s of one epoch over every ``--stride``-th training window
(forward, backward, clipping, Adam; no validation), through ``fit`` under the
``losloop.py`` protocol, after one unmeasured fit on each graph; median of
``--repeats``; results appended to ``dynamic_graph_speed.jsonl``.

    python benchmarks/forecast/dynamic_graph_speed.py --root ../shared/data --repeats 3
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graphbias.data import Graph
from graphbias.data.datasets import load_los_loop
from losloop import machine
from throughput import one_epoch

RESULTS = Path(__file__).with_name("dynamic_graph_speed.jsonl")
#: graph period in steps (None: the static graph)
PERIODS = {"static": None, "hourly": 12, "every step": 1}


def varying(data: Any, period: int, seed: int = 0) -> Any:
    """``data`` with one graph per step: the graph less 5% of its edges, redrawn every
    ``period`` steps."""
    rng = np.random.default_rng(seed)
    g = data.graph
    graphs: list[Graph] = []
    for t in range(data.num_steps):
        if t % period == 0:
            keep = torch.from_numpy(rng.random(g.num_edges) >= 0.05)
            current = Graph(g.edge_index[:, keep], g.num_nodes,
                            edge_weight=None if g.edge_weight is None else g.edge_weight[keep])
        graphs.append(current)
    out = copy.copy(data)
    out.graph = graphs
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--methods", nargs="+", default=["tts", "dcrnn", "gwnet"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stride", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    base = load_los_loop(args.root)
    datasets = {name: base if period is None else varying(base, period)
                for name, period in PERIODS.items()}
    for method in args.methods:
        for data in datasets.values():       # warm-up: one-time costs, not measured
            one_epoch(method, data, 8 * args.stride)
        rates: dict[str, list[float]] = {name: [] for name in datasets}
        for _ in range(args.repeats):
            for name, data in datasets.items():
                rates[name].append(one_epoch(method, data, args.stride)[1])
        static = statistics.median(rates["static"])
        for name, values in rates.items():
            row = {"method": method, "graph": name, "period": PERIODS[name],
                   "train_windows_per_s": statistics.median(values), "runs": values,
                   "x_static": statistics.median(values) / static, **machine(1),
                   "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
            print(json.dumps(row), flush=True)
            with RESULTS.open("a") as fh:
                fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
