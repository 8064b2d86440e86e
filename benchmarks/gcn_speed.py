"""GCN training speed on Cora, graphbias beside PyG in one process.

Runs ``graphbias bench --suite speed`` (200 epochs per run, several seeds), then
writes the medians and the speed-up over PyG to ``benchmarks/gcn_speed.md``.

    python benchmarks/gcn_speed.py --root ../shared/data/planetoid --seeds 5
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from graphbias.bench.results import summarise
from graphbias.bench.runner import run_suite

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    out = HERE / "results" / "gcn_speed"
    if (out / "results.jsonl").exists():
        (out / "results.jsonl").unlink()
    records = run_suite("speed", root=args.root, out=out, seeds=args.seeds, quick=False)
    rows = {r["method"]: r for r in summarise(records)}
    machine = json.loads((out / "machine.json").read_text())
    pyg = rows.get("pyg", {}).get("seconds", {}).get("median")
    lines = [f"Machine: {machine['cpu']}, {machine['cores']} cores, torch "
             f"{machine['torch']} ({machine['torch_threads']} threads), backend "
             f"{machine['backend']}. Dataset: {records[0]['dataset']}; 200 epochs per run, "
             f"median of {args.seeds} runs.", "",
             "| method | s / 200 epochs (median) | ms / epoch | speed-up vs PyG | test acc |",
             "|---|---|---|---|---|"]
    for method, row in rows.items():
        sec = row["seconds"]["median"]
        ratio = f"{pyg / sec:.1f}x" if pyg else "n/a"
        lines.append(f"| {method} | {sec:.2f} | {row['ms_per_epoch']['median']:.1f} | "
                     f"{ratio} | {100 * row['test_acc']['mean']:.1f} |")
    (HERE / "gcn_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
