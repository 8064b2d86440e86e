"""Los-loop trained to convergence: graphbias's forecasters, the baselines and the tsl
peer under one protocol (``graphbias.bench.forecast_suite.LOS_PROTOCOL``).

Each (method, seed) is one fit; its test metrics at 15 / 30 / 60 minutes, the epochs,
the seconds and the learning curve (``history_``: training loss, validation MAE, lr
per epoch) are appended to ``losloop.jsonl`` as soon as the fit ends. Cells already
recorded are skipped, so an interrupted run resumes.

    python benchmarks/forecast/losloop.py --root ../shared/data --seeds 0 \
        --methods gwnet dcrnn tts gru last ha var tsl-gwnet tsl-dcrnn tsl-agcrn
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch

from graphbias.bench.forecast_suite import los_metrics, los_protocol
from graphbias.data.datasets import load_los_loop
from graphbias.forecast import BASELINES, MODELS, STGNNForecaster

RESULTS = Path(__file__).with_name("losloop.jsonl")


def forecaster(method: str, seed: int, quick: bool = False) -> STGNNForecaster:
    """The estimator of ``method`` (ours, a baseline or ``tsl-*``) under the protocol."""
    if method.startswith("tsl-"):
        from tsl_peer import TSLForecaster
        return TSLForecaster(method, random_state=seed, **los_protocol(quick))
    return STGNNForecaster(method, random_state=seed, **los_protocol(quick))


def machine(threads: int) -> dict[str, Any]:
    """What the timings were taken on."""
    info = {"machine": platform.machine(), "processor": platform.processor(),
            "cpus": len(__import__("os").sched_getaffinity(0)), "threads": threads,
            "torch": torch.__version__}
    try:
        from tsl_peer import tsl_version
        info["tsl"] = tsl_version()
    except ImportError:
        pass
    return info


def recorded(path: Path) -> set[tuple[str, int]]:
    if not path.exists():
        return set()
    rows = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {(r["method"], r["seed"]) for r in rows}


def run_cell(method: str, seed: int, data: Any, threads: int, quick: bool) -> dict[str, Any]:
    torch.set_num_threads(threads)
    start = time.perf_counter()
    f = forecaster(method, seed, quick).fit(data)
    secs = time.perf_counter() - start
    return {"dataset": "los-loop", "method": method, "seed": seed, "seconds": secs,
            **los_metrics(f, data), "history": f.history_, **machine(threads),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--methods", nargs="+",
                        default=[*MODELS, *BASELINES, "tsl-gwnet", "tsl-dcrnn", "tsl-agcrn"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="smoke run, not recorded")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    data = load_los_loop(args.root)
    done = set() if args.quick else recorded(args.out)
    for seed in args.seeds:
        for method in args.methods:
            key = (method, 0 if method in BASELINES else seed)  # baselines: deterministic
            if key in done:
                continue
            done.add(key)
            seed = key[1]
            row = run_cell(method, seed, data, args.threads, args.quick)
            print(json.dumps({k: v for k, v in row.items() if k != "history"}), flush=True)
            if not args.quick:
                with args.out.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
