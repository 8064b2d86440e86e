"""Backbone vs LA-backbone on Cora (public split): the cells of
``graphbias bench --suite lagnn`` for a range of seeds, one JSON line per run, so
that several processes can share the seeds.

Usage (from the repository root):
    python benchmarks/lagnn/run.py --seeds 0-9 --methods gcn la-gcn --out benchmarks/lagnn/cora.jsonl
"""
import argparse
import json
import platform

import torch

from graphbias.bench.lagnn_suite import ALL_METHODS, lowdegree_sbm, run_method
from graphbias.bench.suites import real_node_datasets


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="../shared/data")
    ap.add_argument("--dataset", default="cora", help="cora or sbm-lowdeg")
    ap.add_argument("--seeds", default="0-9", help="first-last, inclusive")
    ap.add_argument("--methods", nargs="+", default=list(ALL_METHODS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    first, last = (int(s) for s in args.seeds.split("-"))
    if args.dataset == "sbm-lowdeg":
        graph, by_degree = lowdegree_sbm(), True
    else:
        graph, by_degree = real_node_datasets(args.root)[args.dataset](), False
    for method in args.methods:
        for seed in range(first, last + 1):
            rec = {"dataset": args.dataset, "method": method, "seed": seed,
                   **run_method(graph, method, seed, by_degree=by_degree),
                   "threads": args.threads, "cpu": platform.processor() or platform.machine()}
            print(json.dumps(rec), flush=True)
            if args.out:
                with open(args.out, "a") as out:
                    out.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
