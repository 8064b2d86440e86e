"""Whole-fit CPU time and accuracy of LA-GCN on Cora, one JSON line per seed.

``--preset default`` is ``LAGNNClassifier()``; ``--preset paper`` is
``LAGNNClassifier.paper()`` (2,000 epochs without early stopping, best-draw
inference). ``--options`` overrides constructor parameters (JSON), e.g.
``{"max_epochs": 200}`` to time part of a long fit and extrapolate per epoch.

The LA-model of each seed trains on a saved generator
(``LocalAugmenter(random_state=seed)``, fitted and written under
``--generators`` when absent), so runs of different code or options share it; the
LA-model's fit is timed without it. ``--generator-epochs k`` also times fitting
the preset's own generator for ``k`` epochs (the paper's uncertainty selection
scores every Adam step, so its cost is per step): ``generator_cpu_s`` and the
per-epoch figure, which the paper's 10 epochs multiply.

Times are CPU seconds of this one-thread process (``*_cpu_s``) and wall seconds;
on a machine shared with other jobs the wall time is an upper bound. Each line
also holds the 1-minute load average at the end::

    python benchmarks/lagnn/fit_time.py --root ../shared/data --generators gens --seeds 0
    python benchmarks/lagnn/fit_time.py --root ../shared/data --generators gens --seeds 0 \\
        --preset paper --options '{"max_epochs": 200}' --generator-epochs 1
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import torch

from graphbias.augment import LAGNNClassifier, LocalAugmenter
from graphbias.data.datasets import load_planetoid
from graphbias.data.transforms import normalize_features


def _seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def _saved_generator(folder: Path, graph: Any, seed: int) -> LocalAugmenter:
    path = folder / f"cora_seed{seed}.pt"
    if not path.exists():
        LocalAugmenter(random_state=seed).fit(graph).save(path)
    return LocalAugmenter.load(path)


def _model(preset: str, seed: int, options: dict[str, Any]) -> LAGNNClassifier:
    make = LAGNNClassifier.paper if preset == "paper" else LAGNNClassifier
    return make(random_state=seed, **options)


def _generator_time(clf: LAGNNClassifier, graph: Any, seed: int, epochs: int
                    ) -> dict[str, float]:
    """CPU seconds of fitting ``clf``'s generator (the default one when ``None``) for
    ``epochs`` epochs on ``graph``'s training labels."""
    aug = (clf.augmenter or LocalAugmenter()).set_params(max_epochs=epochs,
                                                         random_state=seed)
    cpu = time.process_time()
    aug.fit(graph, y=graph.y, train_mask=graph.train_mask)
    seconds = time.process_time() - cpu
    return {"generator_epochs": epochs, "generator_cpu_s": round(seconds, 2),
            "generator_cpu_s_per_epoch": round(seconds / epochs, 2)}


def fit_once(graph: Any, seed: int, preset: str, options: dict[str, Any],
             generators: Path, generator_epochs: int) -> dict[str, Any]:
    """One LA-model fit of ``seed``; its record (see the module docstring)."""
    clf = _model(preset, seed, options)
    timing = _generator_time(clf, graph, seed, generator_epochs) if generator_epochs \
        else {}
    clf.set_params(augmenter=_saved_generator(generators, graph, seed))
    cpu, wall = time.process_time(), time.perf_counter()
    clf.fit(graph.x, graph.y, graph=graph, train_mask=graph.train_mask,
            val_mask=graph.val_mask)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    score = lambda mask: round(float(clf.score(graph.x, graph.y, graph=graph,  # noqa: E731
                                               mask=mask)), 4)
    return {"seed": seed, "preset": preset, "options": options,
            "test_acc": score(graph.test_mask), "val_acc": score(graph.val_mask),
            "epochs": clf.n_epochs_, "best_epoch": clf.best_epoch_,
            "fit_cpu_s": round(cpu, 2), "fit_wall_s": round(wall, 2),
            "cpu_ms_per_epoch": round(1000 * cpu / clf.n_epochs_, 1), **timing,
            "load_average_1min": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="folder with Cora")
    parser.add_argument("--generators", type=Path, required=True,
                        help="folder of the saved generators (written when absent)")
    parser.add_argument("--seeds", default="0", help="a seed or a range, e.g. 0-4")
    parser.add_argument("--preset", choices=("default", "paper"), default="default")
    parser.add_argument("--options", default="{}", help="constructor options, JSON")
    parser.add_argument("--generator-epochs", type=int, default=0,
                        help="also time the preset's generator for that many epochs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.generators.mkdir(parents=True, exist_ok=True)
    g = load_planetoid(args.root, "cora")
    graph = g.replace(x=normalize_features(g.x))
    for seed in _seeds(args.seeds):
        print(json.dumps(fit_once(graph, seed, args.preset, json.loads(args.options),
                                  args.generators, args.generator_epochs)), flush=True)


if __name__ == "__main__":
    main()
