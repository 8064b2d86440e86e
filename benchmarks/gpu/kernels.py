"""Kernel benchmark on uniform and power-law graphs: graphbias's hub-balanced kernels
beside cuSPARSE (``torch.sparse.mm``), ``index_add_`` / ``scatter_reduce``, PyG's
``utils.scatter`` and torch-scatter (when installed), one process.

Graph families: ``er`` (uniform), ``powerlaw`` (Chung-Lu, degree exponent 3), ``ba``
(Barabási-Albert), ``zipf`` (Zipf-distributed receivers: giant hubs), ``cora`` (the
real degree sequence of Cora, from ``--data``) and ``ogb-powerlaw`` (a Chung-Lu graph
with degree exponent about 2.1, written in OGB's raw format and read back with
``load_ogb_node``). Widths F = 16, 64, 256; sum, mean, max, min; forward and
forward + backward; median of ``--repeats`` runs after 2 warm-ups.
``graphbias-compiled`` is the library's path (long rows split on CUDA),
``graphbias-onepass`` the same kernels with one group of lanes per row.

Goals (GPU): forward sum at least 1.5x cuSPARSE, forward + backward at least 3x the
best peer, on every family. ``table.md`` says per family whether each is met and by
how much it misses; ``GB/s`` is the bytes the op must move over its time and
``% copy`` that over the device's measured copy bandwidth (gathered rows served from
L2 can push it past 100%).

    python benchmarks/gpu/kernels.py --device cuda --data ../shared/data \
        --out benchmarks/results/kernels_cuda
    python benchmarks/gpu/kernels.py --device cpu --quick --out /tmp/kernels  # runs?
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from graphbias.bench.ops_bench import (REDUCES, _peers, copy_bandwidth, make_graph, measure,
                                       on_device, power_law_ids)
from graphbias.bench.results import machine_info
from graphbias.ops import CSR
from graphbias.ops._balanced import plan_rows

GOAL_FWD_SUM = 1.5   # x cuSPARSE, forward sum
GOAL_FWD_BWD = 3.0   # x the best peer, forward + backward
PEERS_OUTSIDE = ("torch.sparse.mm", "index_add_", "scatter_reduce", "pyg.utils.scatter",
                 "torch_scatter.segment_csr")


def ogb_powerlaw(num_nodes: int, num_edges: int, seed: int = 0) -> CSR:
    """A Chung-Lu graph with degree exponent about 2.1, through OGB's raw format."""
    from graphbias.data import Graph
    from graphbias.data.datasets import load_ogb_node, write_ogb_node

    rng = np.random.default_rng(seed)
    src, dst = (power_law_ids(rng, num_nodes, num_edges, 0.9) for _ in range(2))
    perm = rng.permutation(num_nodes)
    edge_index = torch.from_numpy(np.stack([perm[src], perm[dst]]))
    graph = Graph(edge_index, num_nodes, y=torch.zeros(num_nodes, dtype=torch.long))
    with tempfile.TemporaryDirectory() as root:
        write_ogb_node(root, "ogbn-powerlaw", graph, add_inverse_edge=False)
        return load_ogb_node(root, "ogbn-powerlaw").csr


def cora(data: Path) -> Optional[CSR]:
    """Cora's in-neighbour CSR, or None without the Planetoid files under ``data``."""
    from graphbias.data.datasets import find_planetoid, load_planetoid

    root = data / "planetoid"
    if find_planetoid(root, "cora") is None:
        return None
    return load_planetoid(root, "cora").csr


FAMILIES = ("er", "powerlaw", "ba", "zipf", "cora", "ogb-powerlaw")


def graphs(data: Path, quick: bool) -> dict[str, Callable[[], Optional[CSR]]]:
    """The builder of each family's graph; ``quick``: 1/100 of the sizes."""
    n, e = (10**3, 10**4) if quick else (10**5, 10**6)
    synthetic = {kind: (lambda k=kind: make_graph(k, n, e)) for kind in FAMILIES[:4]}
    return {**synthetic, "cora": lambda: cora(data),
            "ogb-powerlaw": lambda: ogb_powerlaw(2 * n, 2 * e)}


def structure(csr: CSR) -> dict:
    """Sizes, longest row and column, and the split plan of rows and of the transpose."""
    deg, t_deg = csr.degree(), torch.bincount(csr.indices, minlength=csr.num_cols)
    plan, t_plan = plan_rows(csr.indptr.cpu()), plan_rows(csr.transpose_structure()[0].cpu())
    return {"nodes": csr.num_rows, "edges": csr.nnz, "max_in": int(deg.max()),
            "max_out": int(t_deg.max()),
            "chunk": plan.chunk if plan else None,
            "split_rows": plan.split_row.numel() if plan else 0,
            "pieces": plan.num_pieces if plan else 0,
            "t_split_rows": t_plan.split_row.numel() if t_plan else 0}


def run(args: argparse.Namespace) -> list[dict]:
    widths = [16] if args.quick else [16, 64, 256]
    reduces = ["sum", "max"] if args.quick else list(REDUCES)
    bandwidth = copy_bandwidth(64 if args.quick else 1024, device=args.device)
    records = []
    builders = graphs(args.data, args.quick)
    for family in args.graphs:
        start = time.perf_counter()
        csr = builders[family]()
        if csr is None:
            print(f"# {family}: skipped (no data under {args.data})", flush=True)
            continue
        csr = on_device(csr, args.device)
        info = {"graph": family, **structure(csr),
                "build_seconds": round(time.perf_counter() - start, 2)}
        print("#", json.dumps(info), flush=True)
        for width in widths:
            for reduce in reduces:
                for backward in (False, True):
                    for method in _peers(csr, reduce):
                        timing = measure(csr, width, reduce, backward, method, args.repeats,
                                         args.device)
                        rec = {**info, "width": width, "reduce": reduce,
                               "pass": "fwd+bwd" if backward else "fwd", "method": method,
                               **timing, "copy_gbps": bandwidth,
                               "fraction": timing["gbps"] / bandwidth}
                        records.append(rec)
                        print(json.dumps(rec), flush=True)
        del csr
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()
    return records


def _speedups(records: list[dict]) -> dict[tuple, dict]:
    """Per (graph, width, reduce, pass): ours, one-pass, the best outside peer."""
    cases: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for r in records:
        cases[(r["graph"], r["width"], r["reduce"], r["pass"])][r["method"]] = r
    out = {}
    for key, by in cases.items():
        ours = by.get("graphbias-compiled")
        peers = {m: v for m, v in by.items() if m in PEERS_OUTSIDE}
        if ours is None or not peers:
            continue
        best = min(peers, key=lambda m: peers[m]["ms"])
        out[key] = {"ours": ours, "onepass": by.get("graphbias-onepass"), "best": best,
                    "best_ms": peers[best]["ms"], "speedup": peers[best]["ms"] / ours["ms"],
                    "cusparse": peers.get("torch.sparse.mm")}
    return out


def table(records: list[dict], info: dict) -> str:
    """The goal summary per family, then the forward-sum and forward + backward rows."""
    cases = _speedups(records)
    where = info.get("gpu") or f"{info['cpu']}, {info['torch_threads']} threads"
    lines = [f"{where}, torch {info['torch']}; copy bandwidth {info['copy_gbps']:.0f} GB/s. "
             "Milliseconds, median of the runs.", "",
             f"Goals: forward sum >= {GOAL_FWD_SUM}x cuSPARSE; forward + backward >= "
             f"{GOAL_FWD_BWD}x the best peer (worst case over F and reduce).", "",
             "| graph | fwd sum vs cuSPARSE (worst) | goal | fwd+bwd vs best peer (worst) | goal |",
             "|---|---|---|---|---|"]
    for family in dict.fromkeys(k[0] for k in cases):
        mine = {k: c for k, c in cases.items() if k[0] == family}
        fwd = [c["cusparse"]["ms"] / c["ours"]["ms"] for k, c in mine.items()
               if k[2] == "sum" and k[3] == "fwd" and c["cusparse"]]
        both = [c["speedup"] for k, c in mine.items() if k[3] == "fwd+bwd"]
        lines.append(f"| {family} | {_worst(fwd)} | {_goal(fwd, GOAL_FWD_SUM)} | "
                     f"{_worst(both)} | {_goal(both, GOAL_FWD_BWD)} |")
    lines += ["", "| graph | entries | longest row | F | reduce | pass | graphbias | one-pass | "
              "best peer | peer ms | speed-up | GB/s | % copy |", "|" + "---|" * 13]
    for (family, width, reduce, pas), c in cases.items():
        ours = c["ours"]
        one = f"{c['onepass']['ms']:.3f}" if c["onepass"] else ""
        lines.append(f"| {family} | {ours['edges']:,} | {ours['max_in']:,} | {width} | {reduce} "
                     f"| {pas} | {ours['ms']:.3f} | {one} | {c['best']} | {c['best_ms']:.3f} | "
                     f"{c['speedup']:.1f}x | {ours['gbps']:.0f} | {100 * ours['fraction']:.0f} |")
    return "\n".join(lines) + "\n"


def _worst(values: list[float]) -> str:
    return f"{min(values):.2f}x" if values else "n/a"


def _goal(values: list[float], goal: float) -> str:
    if not values:
        return "n/a"
    worst = min(values)
    return "met" if worst >= goal else f"misses by {goal / worst:.2f}x"


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/kernels_cuda"))
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--quick", action="store_true", help="small graphs, F=16, sum and max")
    p.add_argument("--graphs", type=lambda s: s.split(","), default=list(FAMILIES),
                   help=f"comma-separated families of {', '.join(FAMILIES)}")
    args = p.parse_args(argv)
    unknown = sorted(set(args.graphs) - set(FAMILIES))
    if unknown:
        p.error(f"unknown graph families {unknown}; choose from {', '.join(FAMILIES)}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("kernels.py: no CUDA device; use --device cpu", file=sys.stderr)
        return 2
    info = machine_info()
    if args.device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(args.device)
    records = run(args)
    info["copy_gbps"] = records[0]["copy_gbps"] if records else None
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "machine.json").write_text(json.dumps(info, indent=2))
    (args.out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    text = table(records, info)
    (args.out / "table.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
