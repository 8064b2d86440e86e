"""The suite's locality measurement (``graphbias.bench.cluster_suite.locality``) on
graph sizes of your choice, such as 10^7 nodes, which the suite itself does not build.

Default queries (``lfd`` / ``lppr`` with the noisy labels, ``flow`` / ``ppr`` without;
``--methods`` picks some) from the same seed nodes of one planted target, alternating
sizes query by query; one JSON line per (size, method) in the bench's record format,
with the 1-minute load average.

    OMP_NUM_THREADS=1 python benchmarks/cluster/locality_sizes.py --volume 1e5 \\
        --boundary easy --sizes 1000000 10000000 --out benchmarks/cluster/results/locality-1e7.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from graphbias.bench.cluster_suite import (BOUNDARIES, LOCALITY_METHODS, LOCALITY_NOISE,
                                           LOCALITY_TARGETS, locality)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--volume", choices=list(LOCALITY_TARGETS), required=True)
    parser.add_argument("--boundary", choices=list(BOUNDARIES), required=True)
    parser.add_argument("--sizes", type=int, nargs="+", required=True)
    parser.add_argument("--methods", choices=LOCALITY_METHODS, nargs="+",
                        default=list(LOCALITY_METHODS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--noise", type=float, default=LOCALITY_NOISE,
                        help="label noise of the graphs (datasets named -p<noise> "
                             "when not the suite's)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.time()
    cells = locality(args.volume, args.boundary, tuple(args.sizes), repeats=args.repeats,
                     methods=tuple(args.methods), noise=args.noise)
    with args.out.open("a") as fh:
        for (dataset, method), metrics in cells.items():
            row = {"suite": "cluster", "dataset": dataset, "method": method, "seed": 0,
                   **metrics, "load": os.getloadavg()[0], "wall_s": time.time() - start,
                   "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
            print(json.dumps(row), flush=True)
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
