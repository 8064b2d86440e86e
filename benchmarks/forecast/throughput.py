"""Training and prediction throughput of graphbias's forecasters against their tsl
peers, in one process, one thread, alternating.

Every model is a forecaster of ``losloop.py`` (the Los-loop protocol: 207 nodes,
12 steps in and out, hidden 32, K = 2, batch 64, mask and time covariates as
inputs). Training windows/s: one epoch over every ``--stride``-th training window
(forward, backward, clipping, Adam; no validation), through ``fit``. Prediction
windows/s: ``predict_windows`` on 256 test windows. The competitors alternate
within each repeat; the median of ``--repeats`` is reported. Peak memory: the
growth of the resident set over one such fit and prediction (the peak, ``VmHWM``,
reset after loading the data, minus the resident set then), each model in a fresh
child process; ``--memory-only`` measures that alone.

    python benchmarks/forecast/throughput.py --root ../shared/data --repeats 3
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graphbias.data.datasets import load_los_loop
from losloop import forecaster, machine

RESULTS = Path(__file__).with_name("throughput.jsonl")
#: ours -> its tsl peer (None: no peer)
PAIRS = {"dcrnn": "tsl-dcrnn", "dcrnn-mlp": "tsl-dcrnn", "gwnet": "tsl-gwnet",
         "agcrn-k0": "tsl-agcrn", "agcrn": None, "tts": None, "gru": None}


def _layout(method: str) -> dict[str, str]:
    """How a tsl model receives the graph (``tsl_peer.TSLForecaster.layout``)."""
    layout = forecaster(method, seed=0).get_params().get("layout")
    return {} if layout is None else {"tsl_layout": layout}


def _status_kib(field: str) -> int:
    """A memory field of /proc/self/status (``VmRSS``, ``VmHWM``), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def one_epoch(method: str, data: Any, stride: int) -> tuple[Any, float]:
    """A fresh fit of ``method``: one epoch over every ``stride``-th training window,
    no validation; the forecaster and its training windows/s."""
    f = forecaster(method, seed=0).set_params(max_epochs=1, stride=stride,
                                             validation_fraction=0.0)
    f.fit(data)
    return f, len(f.split_windows(data).train) / f.history_[0]["seconds"]


def measure(method: str, data: Any, stride: int) -> dict[str, float]:
    """Training and prediction windows/s of one fresh fit."""
    f, train = one_epoch(method, data, stride)
    starts = np.arange(256) + f.split_windows(data).test_steps[0]
    start = time.perf_counter()
    f.predict_windows(data, starts)
    return {"train": train, "predict": len(starts) / (time.perf_counter() - start)}


def _peak(method: str, root: Path, stride: int, queue: Any) -> None:
    torch.set_num_threads(1)
    data = load_los_loop(root)
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current (loading excluded)
    before = _status_kib("VmRSS")
    measure(method, data, stride)
    queue.put((_status_kib("VmHWM") - before) / 1024)


def peak_memory_mib(method: str, root: Path, stride: int) -> float:
    """Resident-set growth (MiB) of one fit and prediction, in a fresh process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_peak, args=(method, root, stride, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--models", nargs="+", default=list(PAIRS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stride", type=int, default=8)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--memory-only", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_los_loop(args.root)
    methods = list(dict.fromkeys(m for ours in args.models for m in (ours, PAIRS.get(ours))
                                 if m))  # a peer shared by two of ours runs once
    try:
        from tsl_peer import tsl_version
        tsl_version()
    except ImportError as err:  # measure ours alone, and say why
        print(f"tsl peers skipped: {err}", flush=True)
        methods = [m for m in methods if not m.startswith("tsl-")]
    if args.memory_only:
        for method in methods:
            row = {"benchmark": "forecast_peak_memory", "method": method,
                   "peak_memory_mib": peak_memory_mib(method, args.root, args.stride),
                   "stride": args.stride, **machine(1),
                   "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
            print(json.dumps(row), flush=True)
            with args.out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
        return
    rates: dict[str, dict[str, list[float]]] = {m: {"train": [], "predict": []}
                                                for m in methods}
    for _ in range(args.repeats):
        for method in methods:  # ours, then its peer, alternating every repeat
            for key, value in measure(method, data, args.stride).items():
                rates[method][key].append(value)
            print(f"{method}: " + ", ".join(f"{k} {v[-1]:.1f} windows/s"
                                           for k, v in rates[method].items()),
                  file=sys.stderr, flush=True)
    for method in methods:
        row = {"benchmark": "forecast_throughput", "method": method,
               "train_windows_per_s": statistics.median(rates[method]["train"]),
               "predict_windows_per_s": statistics.median(rates[method]["predict"]),
               "train_runs": rates[method]["train"], "predict_runs": rates[method]["predict"],
               "peak_memory_mib": peak_memory_mib(method, args.root, args.stride),
               "stride": args.stride, "repeats": args.repeats,
               **_layout(method), **machine(1),
               "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
        print(json.dumps(row), flush=True)
        with args.out.open("a") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
