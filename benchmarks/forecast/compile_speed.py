"""Training epochs with and without ``torch.compile`` (``STGNNForecaster(compile=True)``)
under the Los-loop protocol, one thread.

For each model, an eager fit and a compiled fit from the same seed, ``--epochs``
epochs each over every ``--stride``-th training window (no validation), one after
the other in one process. The first compiled epoch carries the compilation (one per
batch shape); the speed-up is the ratio of the median epoch seconds of the later
epochs, and the training losses show both fits doing the same arithmetic.

    python benchmarks/forecast/compile_speed.py --root ../shared/data --models gwnet dcrnn tts
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from graphbias.data.datasets import load_los_loop
from losloop import forecaster, machine

RESULTS = Path(__file__).with_name("compile.jsonl")


def epochs(method: str, data: object, compiled: bool, n: int, stride: int) -> list[dict]:
    """``history_`` of one fit of ``n`` epochs."""
    f = forecaster(method, seed=0).set_params(max_epochs=n, stride=stride,
                                             validation_fraction=0.0, compile=compiled)
    return f.fit(data).history_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--models", nargs="+", default=["gwnet", "dcrnn", "tts"])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--stride", type=int, default=4)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_los_loop(args.root)
    for method in args.models:
        runs = {c: epochs(method, data, c, args.epochs, args.stride) for c in (False, True)}
        seconds = {c: [h["seconds"] for h in runs[c]] for c in runs}
        eager, compiled = (statistics.median(seconds[c][1:]) for c in (False, True))
        row = {"benchmark": "forecast_compile", "method": method, "epochs": args.epochs,
               "stride": args.stride, "eager_epoch_s": eager, "compiled_epoch_s": compiled,
               "speedup": eager / compiled,
               "compile_overhead_s": seconds[True][0] - eager,
               "eager_seconds": seconds[False], "compiled_seconds": seconds[True],
               "eager_train_loss": [h["train_loss"] for h in runs[False]],
               "compiled_train_loss": [h["train_loss"] for h in runs[True]],
               **machine(1), "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
        print(json.dumps(row), flush=True)
        with args.out.open("a") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
