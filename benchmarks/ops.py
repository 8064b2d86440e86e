"""Kernel benchmark: graphbias's compiled and pure-torch SpMM beside torch, PyG and
torch-scatter, one process, median of 7 runs after 2 warm-ups; forward and
forward + backward; effective GB/s against this machine's copy bandwidth.

    python benchmarks/ops.py                      # CPU, the full grid
    python benchmarks/ops.py --headline           # 100k nodes, 1M edges, F=64 only
    python benchmarks/ops.py --device cuda --out DIR
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import torch

from graphbias.bench.ops_bench import (FULL_GRAPHS, REDUCES, _peers, copy_bandwidth, measure,
                                       prepare_graph, widths_for)
from graphbias.bench.results import machine_info

HERE = Path(__file__).resolve().parent


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu")
    p.add_argument("--headline", action="store_true",
                   help="only ER with 100k nodes, 1M edges, F=64")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    out = args.out or HERE / "results" / f"ops_{args.device}"
    out.mkdir(parents=True, exist_ok=True)
    graphs = [("er", 10**5, 10**6)] if args.headline else FULL_GRAPHS
    info = machine_info()
    if args.device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name()
    bandwidth = copy_bandwidth() if args.device == "cpu" else None
    info["copy_gbps"] = bandwidth
    records = []
    for kind, n, e in graphs:
        csr = prepare_graph(kind, n, e, args.device)
        for width in [64] if args.headline else widths_for(e):
            for reduce in REDUCES:
                for backward in (False, True):
                    for method in _peers(csr, reduce):
                        rec = {"graph": kind, "nodes": n, "edges": e, "width": width,
                               "reduce": reduce, "pass": "fwd+bwd" if backward else "fwd",
                               "method": method,
                               **measure(csr, width, reduce, backward, method, args.repeats,
                                         args.device)}
                        records.append(rec)
                        print(json.dumps(rec), flush=True)
        del csr
    (out / "machine.json").write_text(json.dumps(info, indent=2))
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (out / "table.md").write_text(table(records, info))
    print(table(records, info))


def table(records: list[dict], info: dict) -> str:
    """One row per (graph, width, reduce, pass): ms per method, and the speed-up of
    the compiled kernels over the best peer outside graphbias."""
    cases: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for r in records:
        cases[(r["graph"], r["nodes"], r["edges"], r["width"], r["reduce"], r["pass"])][
            r["method"]] = r
    methods = sorted({r["method"] for r in records})
    where = info.get("gpu") or f"{info['cpu']}, {info['torch_threads']} threads"
    bw = f"; copy bandwidth {info['copy_gbps']:.1f} GB/s" if info.get("copy_gbps") else ""
    lines = [f"{where}, torch {info['torch']}{bw}. Milliseconds, median of 7 runs; "
             "`GB/s` = bytes the op must move / time (compiled kernels).", "",
             "| graph | F | reduce | pass | " + " | ".join(methods)
             + " | compiled GB/s | speed-up vs best peer |",
             "|" + "---|" * (len(methods) + 6)]
    for (kind, n, e, width, reduce, pas), by in cases.items():
        ms = [f"{by[m]['ms']:.1f}" if m in by else "" for m in methods]
        peers = [v["ms"] for m, v in by.items() if not m.startswith("graphbias")]
        comp = by.get("graphbias-compiled")
        gbps = f"{comp['gbps']:.1f}" if comp else ""
        speed = f"{min(peers) / comp['ms']:.1f}x" if comp and peers else ""
        lines.append(f"| {kind} {n:,}/{e:,} | {width} | {reduce} | {pas} | "
                     + " | ".join(ms) + f" | {gbps} | {speed} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
