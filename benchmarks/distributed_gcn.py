"""Data-parallel GCN training over graph partitions vs one process, on a synthetic
OGB-format graph written to disk and read back through the OGB loader.

    python benchmarks/distributed_gcn.py --nodes 100000 --avg-degree 10 --epochs 30 \
        --structure sbm|geometric

One process uses all cores (torch threads = cores); the distributed run starts one
gloo process per part with cores / parts threads each. Both train the same 2-layer
GCN (dropout 0, fixed epochs) and are scored with ogb's Evaluator; the epoch time is
fit time / epochs (each epoch: forward, backward, gradient all-reduce, validation),
partitioning included; the partitioning time and halo sizes are reported apart.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from graphbias.bench.results import machine_info
from graphbias.data.datasets import load_ogb_node, ogb_evaluate
from graphbias.data.synthetic.ogb_format import write_synthetic_ogb
from graphbias.nn import NodeClassifier
from graphbias.nn.distributed import local_partition

NAME = "ogbn-synthetic"


def _fit(root: str, epochs: int, distributed: bool) -> dict:
    g = load_ogb_node(root, NAME)
    clf = NodeClassifier(conv="gcn", hidden_channels=64, dropout=0.0, max_epochs=epochs,
                         patience=None, random_state=0, distributed=distributed)
    start = time.perf_counter()
    clf.fit(g.x, g.y, graph=g, train_mask=g.train_mask, val_mask=g.val_mask)
    total = time.perf_counter() - start
    result = {"fit_s": total, "epoch_s": total / clf.n_epochs_}
    if distributed:
        rank, size = dist.get_rank(), dist.get_world_size()
        start = time.perf_counter()
        view = local_partition(g, 2, rank, size)
        result.update(partition_s=time.perf_counter() - start,
                      halo_nodes=view.nodes.numel(), owned_nodes=view.num_owned)
    pred = clf.predict(g.x, graph=g)
    test = g.test_mask.numpy()
    result["test_acc"] = ogb_evaluate("ogbn-arxiv", g.y.numpy()[test, None],
                                      pred[test, None])["acc"]
    return result


def _worker(rank: int, size: int, root: str, epochs: int, init: str, out: str,
            threads: int) -> None:
    torch.set_num_threads(threads)
    dist.init_process_group("gloo", init_method=f"file://{init}", rank=rank,
                            world_size=size)
    try:
        result = _fit(root, epochs, True)
        if rank == 0:
            Path(out).write_text(json.dumps(result))
    finally:
        dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--avg-degree", type=float, default=10.0)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--structure", choices=("sbm", "geometric"), default="sbm")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results"
                        / "distributed_gcn")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as root:
        write_synthetic_ogb(root, NAME, num_nodes=args.nodes, avg_degree=args.avg_degree,
                            structure=args.structure, seed=0)
        g = load_ogb_node(root, NAME)
        torch.set_num_threads(cores)
        single = _fit(root, args.epochs, False)
        out = Path(root) / "rank0.json"
        mp.spawn(_worker, args=(args.procs, root, args.epochs, str(Path(root) / "init"),
                                str(out), max(1, cores // args.procs)), nprocs=args.procs)
        multi = json.loads(out.read_text())
    record = {"structure": args.structure, "nodes": g.num_nodes, "edges": g.num_edges, "epochs": args.epochs,
              "procs": args.procs, "single": single, "distributed": multi,
              "speedup": single["epoch_s"] / multi["epoch_s"], "machine": machine_info()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.structure}.json").write_text(json.dumps(record, indent=2))
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
