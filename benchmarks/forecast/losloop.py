"""Los-loop trained to convergence: graphbias's forecasters, the baselines and the tsl
peer under one protocol (``graphbias.bench.forecast_suite.LOS_PROTOCOL``).

Each (method, seed) is one fit; its test metrics at 15 / 30 / 60 minutes, the epochs,
the seconds and the learning curve (``history_``: training loss, validation MAE, lr
per epoch) are appended to ``losloop.jsonl`` as soon as the fit ends. Cells already
recorded are skipped, so an interrupted run resumes. While a fit runs, every epoch
appends its validation MAE and the test metrics of that epoch's weights to
``progress/METHOD-SEED.jsonl`` beside the ``--out`` file: the learning curve of a fit
cut short, and the test metrics of its best validation epoch so far. ``--max-epochs`` caps the protocol's
100 epochs (recorded as ``max_epochs``). A method named with the suffix
``-compiled`` (``gwnet-compiled``) is that model trained with ``compile=True``; one
with ``-h<width>`` (``tts-h64``) has that hidden width instead of the protocol's 32,
one with ``-l<layers>`` (``tts-h64-l2``) that ``num_layers`` instead of 1, one
with ``-wd<decay>`` (``gwnet-wd0.0001``) that Adam weight decay instead of 0, one
with ``-i<hops>`` (``gwnet-i2``) Graph WaveNet's per-step input convolution
(``input_hops``), one with ``-k<hops>`` (``agcrn-k0``, the paper's AGCRN) that
many diffusion hops instead of 2, one with ``-e<width>`` (``agcrn-k0-e2``) node
embeddings of that width instead of 10, and ``dcrnn-mlp`` is DCRNN with an MLP readout
instead of its decoder RNN (``decoder="mlp"``). Methods joined by ``+``
(``tts-h64+agcrn-k0``) are a :class:`~graphbias.forecast.ForecastEnsemble` of those
fits, equal weights: its row has the averaged forecasts' metrics, the epochs and
seconds of all members together, and each member's own record under ``members``
(their learning curves go to ``progress/METHOD-SEED.m<i>.jsonl``).

    python benchmarks/forecast/losloop.py --root ../shared/data --seeds 0 \
        --methods gwnet dcrnn tts gru last ha var tsl-gwnet tsl-dcrnn tsl-agcrn
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Optional

import torch

from graphbias.bench.forecast_suite import LOS_STEPS, los_metrics, los_protocol, step_metrics
from graphbias.data.datasets import load_los_loop
from graphbias.forecast import (BASELINES, MODELS, ForecastEnsemble, STGNNForecaster,
                                forecast_metrics)

RESULTS = Path(__file__).with_name("losloop.jsonl")
#: method suffix: the same model trained through ``torch.compile``
COMPILED = "-compiled"
#: method-name suffixes (before ``-compiled``) that set a parameter to a value:
#: every input step on its own graph, DCRNN's MLP readout instead of its decoder RNN
FLAGS = {"-each": ("graph_steps", "each"), "-mlp": ("decoder", "mlp")}
#: method suffixes (before ``-compiled``) that set a parameter: ``tts-h64-l2``
SETTINGS = {"h": ("hidden_channels", int), "l": ("num_layers", int),
            "wd": ("weight_decay", float), "i": ("input_hops", int), "k": ("k", int),
            "e": ("embedding", int)}
#: baselines whose fit does not depend on the seed: one record for every seed
#: (``gbm``'s trees bin a random subset of their rows, so it has one per seed)
DETERMINISTIC = {"last", "ha", "var"}
#: joins the members of an ensemble in a method name: ``tts-h64+agcrn-k0``
ENSEMBLE = "+"


def forecaster(method: str, seed: int, quick: bool = False,
               progress: Optional[Path] = None) -> STGNNForecaster:
    """The estimator of ``method`` (ours, a baseline or ``tsl-*``; a ``-compiled``
    suffix trains it with ``compile=True``, an ``-each`` suffix before it with
    ``graph_steps="each"``, a ``-mlp`` suffix with ``decoder="mlp"``, ``-h<width>``, ``-l<layers>``, ``-wd<decay>``,
    ``-i<hops>``, ``-k<hops>`` and ``-e<width>`` suffixes before it set the hidden
    width, ``num_layers``, ``weight_decay``, ``input_hops``, ``k`` and ``embedding``) under the protocol;
    with ``progress``, each epoch's validation and test metrics go to that file."""
    compiled = method.endswith(COMPILED)
    method = method.removesuffix(COMPILED)
    protocol = los_protocol(quick)
    for suffix, (name, value) in FLAGS.items():
        if method.endswith(suffix):
            method, protocol[name] = method.removesuffix(suffix), value
    while True:
        base, sep, suffix = method.rpartition("-")
        key = suffix.rstrip("0123456789.")
        if not (sep and key in SETTINGS and suffix[len(key):]):
            break
        name, kind = SETTINGS[key]
        method, protocol[name] = base, kind(suffix[len(key):])
    if method.startswith("tsl-"):
        from tsl_peer import TSLForecaster
        cls: type = TSLForecaster
    else:
        cls = STGNNForecaster
    if progress is not None and method not in BASELINES:
        cls = _tracked(cls, progress)
    return cls(method, random_state=seed, compile=compiled, **protocol)


def member_progress(progress: Path, i: int) -> Path:
    """The progress file of the ``i``-th member of an ensemble fit."""
    return progress.with_suffix(f".m{i}.jsonl")


def estimator(method: str, seed: int, quick: bool = False,
              progress: Optional[Path] = None) -> Any:
    """:func:`forecaster`, or for methods joined by ``+`` the equal-weight
    :class:`ForecastEnsemble` of theirs (named by their methods), each member with
    its own progress file."""
    if ENSEMBLE not in method:
        return forecaster(method, seed, quick, progress)
    return ForecastEnsemble([
        (m, forecaster(m, seed, quick, None if progress is None else member_progress(progress, i)))
        for i, m in enumerate(method.split(ENSEMBLE))])


def ensemble_metrics(f: ForecastEnsemble, data: Any) -> dict[str, Any]:
    """The averaged forecasts' test metrics, the members' epochs summed
    (``best_epoch`` -1) and each member's own :func:`los_metrics` and seconds."""
    members = [{"method": name, "seconds": secs, **los_metrics(g, data)}
               for name, g, secs in zip(f.names_, f.forecasters_, f.seconds_)]
    return {"epochs": sum(r["epochs"] for r in members), "best_epoch": -1,
            **step_metrics(f.evaluate(data, "test")), "members": members}


def _tracked(cls: type, path: Path) -> type:
    """``cls`` whose per-epoch validation also scores the test windows and appends
    both to ``path``."""
    class Tracked(cls):  # type: ignore[misc, valid-type]
        def _mae(self, d: Any, starts: Any) -> float:
            val = super()._mae(d, starts)
            test = self.split_windows(d).test
            m = forecast_metrics(self._forecast_windows(d, test), *self._targets(d, test))
            row = {"val_mae": val, "time": time.time(),
                   **step_metrics(m, [s for s in LOS_STEPS if s <= self._params_.horizon])}
            with path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            return val
    return Tracked


def machine(threads: int) -> dict[str, Any]:
    """What the timings were taken on, and how busy it was (1-minute load average)."""
    info = {"machine": platform.machine(), "processor": platform.processor(),
            "cpus": len(os.sched_getaffinity(0)), "threads": threads,
            "load": os.getloadavg()[0], "torch": torch.__version__}
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


def run_cell(method: str, seed: int, data: Any, threads: int, quick: bool,
             max_epochs: Optional[int] = None, out: Path = RESULTS) -> dict[str, Any]:
    """One fit, its progress files in ``progress/`` beside ``out`` (so a refit
    recorded elsewhere leaves the recorded learning curves alone)."""
    torch.set_num_threads(threads)
    progress = None
    if not quick:
        folder = out.with_name("progress")
        folder.mkdir(exist_ok=True)
        progress = folder / f"{method}-{seed}.jsonl"
        for path in [progress] + [member_progress(progress, i)
                                  for i in range(method.count(ENSEMBLE) + 1)]:
            path.unlink(missing_ok=True)
    f = estimator(method, seed, quick, progress)
    members = [g for _, g in f.forecasters] if isinstance(f, ForecastEnsemble) else [f]
    if max_epochs is not None:
        for g in members:
            g.set_params(max_epochs=max_epochs)
    start = time.perf_counter()
    f.fit(data)
    secs = time.perf_counter() - start
    if isinstance(f, ForecastEnsemble):
        metrics, history = ensemble_metrics(f, data), []
    else:
        metrics, history = los_metrics(f, data), f.history_
    return {"dataset": "los-loop", "method": method, "seed": seed, "seconds": secs,
            "max_epochs": members[0].max_epochs, **metrics, "history": history,
            **machine(threads), "time": time.strftime("%Y-%m-%dT%H:%M:%S")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--methods", nargs="+",
                        default=[*MODELS, *BASELINES, "tsl-gwnet", "tsl-dcrnn", "tsl-agcrn"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="cap the protocol's epochs (recorded)")
    parser.add_argument("--quick", action="store_true", help="smoke run, not recorded")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    data = load_los_loop(args.root)
    done = set() if args.quick else recorded(args.out)
    for seed in args.seeds:
        for method in args.methods:
            key = (method, 0 if method in DETERMINISTIC else seed)
            if key in done:
                continue
            done.add(key)
            seed = key[1]
            row = run_cell(method, seed, data, args.threads, args.quick, args.max_epochs,
                           args.out)
            print(json.dumps({k: v for k, v in row.items() if k != "history"}), flush=True)
            if not args.quick:
                with args.out.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
