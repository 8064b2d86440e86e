"""Default-search stop rule, before and after, on the suite's locality targets.

Loads ``graphbias/cluster/estimator.py`` as it was at ``--old-rev`` next to the
current one and runs both default searches from the same seeds on the same graphs
(``graphbias.bench.cluster_suite``'s locality generator), alternating old and new
query by query and graph size by graph size, so that machine load hits both alike.
Each query is cold (the view's cached degrees cleared). Records per query the CPU
time of this process (``time.process_time``), the wall time, nodes touched, edges
scanned, diffusions run and F1, with the 1-minute load average; prints median CPU
ms, median touched and mean F1 per cell.

    OMP_NUM_THREADS=1 python benchmarks/cluster/stop_rule_ab.py --old-rev e4b4691~1 \\
        --out benchmarks/cluster/results/stop_rule_ab.jsonl
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from graphbias.bench.cluster_suite import LOCALITY_TARGETS, _locality_graph, _volume
from graphbias.cluster import NoisyLabelLocalClustering, f1_sets

REPO = Path(__file__).resolve().parents[2]


def old_estimator(rev: str) -> type:
    """``NoisyLabelLocalClustering`` as committed at ``rev`` (same package, so its
    relative imports resolve to the current diffusion and sweep code)."""
    source = subprocess.run(["git", "-C", str(REPO), "show",
                             f"{rev}:graphbias/cluster/estimator.py"],
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "estimator_old.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("graphbias.cluster.estimator_old", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.NoisyLabelLocalClustering


def cell(volume: str, boundary: str, sizes: list[int], rules: dict[str, type],
         repeats: int, out) -> None:
    graphs = {n: _locality_graph(volume, boundary, n, 0) for n in sizes}
    models = {(n, m, r): cls().fit(pc.graph, noisy_labels=pc.noisy_labels if m == "lfd"
                                   else None)
              for n, pc in graphs.items() for m in ("lfd", "flow")
              for r, cls in rules.items()}
    seeds = np.random.default_rng(0).choice(LOCALITY_TARGETS[volume][0], repeats,
                                            replace=False)
    for s in seeds:
        for n in sizes:
            for m in ("lfd", "flow"):
                for r in rules:
                    model = models[(n, m, r)]
                    model.view_.clear_cache()
                    wall, cpu = time.perf_counter(), time.process_time()
                    res = model.query(int(s))
                    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                    row = {"volume": volume, "boundary": boundary, "nodes": n,
                           "method": m, "rule": r, "seed": int(s), "cpu_ms": 1e3 * cpu,
                           "wall_ms": 1e3 * wall, "touched": res.touched,
                           "edges_scanned": res.edges_scanned,
                           "diffusions": res.diffusions,
                           "f1": f1_sets(res.nodes, graphs[n].target),
                           "cluster_volume": _volume(graphs[n].graph, res.nodes),
                           "target_volume": _volume(graphs[n].graph, graphs[n].target),
                           "load1": os.getloadavg()[0]}
                    out.write(json.dumps(row) + "\n")
                    out.flush()


def summary(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    keys = sorted({(r["volume"], r["boundary"], r["method"], r["rule"], r["nodes"])
                   for r in rows}, key=lambda k: (k[0], k[1], k[2], k[3], k[4]))
    print("volume boundary method rule nodes cpu_ms touched diffusions f1 load")
    for k in keys:
        sel = [r for r in rows if (r["volume"], r["boundary"], r["method"], r["rule"],
                                   r["nodes"]) == k]
        med = lambda f: float(np.median([r[f] for r in sel]))
        print(*k, f"{med('cpu_ms'):.0f}", f"{med('touched'):.0f}",
              f"{med('diffusions'):.0f}", f"{np.mean([r['f1'] for r in sel]):.3f}",
              f"{min(r['load1'] for r in sel):.1f}-{max(r['load1'] for r in sel):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-rev", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--volumes", default="1e3,1e4")
    parser.add_argument("--boundaries", default="easy,hard")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rules = {"old": old_estimator(args.old_rev), "new": NoisyLabelLocalClustering}
    sizes = [int(n) for n in args.sizes.split(",")]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as out:
        for volume in args.volumes.split(","):
            for boundary in args.boundaries.split(","):
                cell(volume, boundary, sizes, rules, args.repeats, out)
    summary(args.out)


if __name__ == "__main__":
    main()
