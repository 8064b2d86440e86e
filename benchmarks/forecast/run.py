"""Runs the forecast suite and appends one JSON line per cell to results.jsonl.

    python benchmarks/forecast/run.py --root ../shared/data --seeds 3 [--only gpvar]
"""
import argparse
import json
import platform
import time
from pathlib import Path

import torch

from graphbias.bench.forecast_suite import suite

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/data"))
parser.add_argument("--seeds", type=int, default=3)
parser.add_argument("--first-seed", type=int, default=0, help="skip the seeds below")
parser.add_argument("--only", default=None, help="dataset name to run (gpvar, los-loop)")
parser.add_argument("--methods", default=None, help="comma-separated methods")
args = parser.parse_args()
torch.set_num_threads(1)
out = Path(__file__).with_name("results.jsonl")
for cell in suite(args.root, args.seeds, quick=False):
    if args.only and cell.dataset != args.only:
        continue
    if args.methods and cell.method not in args.methods.split(","):
        continue
    if cell.seed < args.first_seed:
        continue
    metrics = cell.run()
    row = {**cell.key(), **metrics, "machine": platform.processor() or platform.machine(),
           "torch": torch.__version__, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    print(json.dumps(row), flush=True)
    with out.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
