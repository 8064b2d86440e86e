"""Per-epoch time breakdown of an LA-model fit on Cora, for before / after comparisons.

Prints one JSON line: milliseconds per epoch spent decoding generated matrices
(``draw_ms``), in the rest of the training forward and loss (``forward_loss_ms``),
backward, Adam and validation, the epoch total (CPU time of this process and wall
time) and the whole fit. Times are CPU time of this one-thread process unless
named ``wall``: on a machine shared with other jobs the wall time is an upper
bound, the CPU time is closer to what the code costs alone.

``--decode-dtype bfloat16`` decodes in bfloat16 (``LAGNNClassifier(decode_dtype=)``);
each line names the CPU and whether it has AMX, where that pays.

The generator is fitted once and saved (``--generator``), so that runs of
different code versions train the same LA-model on the same generator. To time
an older version, check it out into a git worktree and run this script with
``PYTHONPATH`` set to that worktree::

    git worktree add /tmp/before <commit>
    PYTHONPATH=/tmp/before python benchmarks/lagnn/profile_epoch.py --root ../shared/data \\
        --generator gen.pt --epochs 30
    python benchmarks/lagnn/profile_epoch.py --root ../shared/data --generator gen.pt --epochs 30
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Callable

import torch

import graphbias
import graphbias.augment.classifier as classifier
from graphbias.augment import LAGNNClassifier, LocalAugmenter
from graphbias.augment.augmenter import ConditionedGenerator
from graphbias.bench.results import machine_info
from graphbias.data.datasets import load_planetoid
from graphbias.data.transforms import normalize_features


def _cora(root: Path) -> Any:
    g = load_planetoid(root, "cora")
    return g.replace(x=normalize_features(g.x))


def _generator(path: Path, graph: Any) -> LocalAugmenter:
    if not path.exists():
        LocalAugmenter(random_state=0).fit(graph).save(path)
    return LocalAugmenter.load(path)


class _Timers:
    """CPU seconds per named part, counted while a fit's epochs run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.active = False

    def wrap(self, key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                if self.active:
                    self.seconds[key] = self.seconds.get(key, 0.0) + \
                        time.process_time() - start
        return timed


def _instrument(timers: _Timers) -> None:
    # decoding: ConditionedGenerator.decode (.draw in versions that decoded each
    # matrix on its own)
    name = "decode" if hasattr(ConditionedGenerator, "decode") else "draw"
    setattr(ConditionedGenerator, name, timers.wrap("draw", getattr(ConditionedGenerator,
                                                                    name)))
    torch.Tensor.backward = timers.wrap("backward", torch.Tensor.backward)
    fit_module = classifier.fit_module

    def instrumented(module: Any, opt: Any, step: Any, **kwargs: Any) -> Any:
        opt.step = timers.wrap("adam", opt.step)
        if kwargs.get("validate") is not None:
            kwargs["validate"] = timers.wrap("validate", kwargs["validate"])
        timers.active = True
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return fit_module(module, opt, timers.wrap("step", step), **kwargs)
        finally:
            timers.seconds["epochs"] = time.process_time() - cpu
            timers.seconds["epochs_wall"] = time.perf_counter() - wall
            timers.active = False

    classifier.fit_module = instrumented


def _cpu() -> str:
    """The CPU's model name and whether it has AMX tiles (bfloat16 matrix units)."""
    return f"{machine_info()['cpu']}, AMX bf16: {torch.cpu._is_amx_tile_supported()}"


def profile(root: Path, generator: Path, epochs: int, conv: str, pool: int,
            threads: int, decode_dtype: str = "float32") -> dict[str, Any]:
    """Fits one LA-model for ``epochs`` epochs (no early stopping) and returns the
    breakdown (see the module docstring)."""
    torch.set_num_threads(threads)
    graph = _cora(root)
    aug = _generator(generator, graph)
    timers = _Timers()
    _instrument(timers)
    # decode_dtype only when set, so that versions without it still run
    clf = LAGNNClassifier(conv=conv, augmenter=aug, max_epochs=epochs, patience=None,
                          random_state=0, sample_pool=pool or None, **(
                              {} if decode_dtype == "float32" else
                              {"decode_dtype": decode_dtype}))
    cpu, wall = time.process_time(), time.perf_counter()
    clf.fit(graph.x, graph.y, graph=graph, train_mask=graph.train_mask,
            val_mask=graph.val_mask)
    fit_cpu, fit_wall = time.process_time() - cpu, time.perf_counter() - wall
    t = timers.seconds
    ms = lambda key: round(1000 * t.get(key, 0.0) / epochs, 1)  # noqa: E731
    parts = {"draw_ms": ms("draw"),
             "forward_loss_ms": round(1000 * (t["step"] - t.get("draw", 0.0)) / epochs, 1),
             "backward_ms": ms("backward"), "adam_ms": ms("adam"),
             "validate_ms": ms("validate")}
    return {"code": str(Path(graphbias.__file__).parents[1]), "conv": conv,
            "sample_pool": pool or None, "decode_dtype": decode_dtype, "epochs": epochs,
            "threads": threads, "cpu": _cpu(), **parts,
            "other_ms": round(ms("epochs") - sum(parts.values()), 1),
            "epoch_ms": ms("epochs"), "epoch_wall_ms": ms("epochs_wall"),
            "fit_s": round(fit_cpu, 2), "fit_wall_s": round(fit_wall, 2),
            "test_acc": clf.score(graph.x, graph.y, graph=graph, mask=graph.test_mask)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="folder with Cora")
    parser.add_argument("--generator", type=Path, required=True,
                        help="saved generator (fitted and written there when absent)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--conv", default="gcn")
    parser.add_argument("--sample-pool", type=int, default=0, help="0: fresh draws")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--decode-dtype", default="float32", choices=["float32", "bfloat16"])
    args = parser.parse_args()
    print(json.dumps(profile(args.root, args.generator, args.epochs, args.conv,
                             args.sample_pool, args.threads, args.decode_dtype)))


if __name__ == "__main__":
    main()
