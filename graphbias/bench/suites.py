"""Benchmark suites: each yields cells, each cell trains and scores one model.

A suite is a function ``(root, seeds, quick) -> list[Cell]``; register it in
:data:`SUITES` and it becomes ``graphbias bench --suite NAME``. A suite that needs
an optional extra declares it in :data:`SUITE_REQUIREMENTS`: without the extra it
is skipped with the command that installs it.
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from .._optional import EXTRAS, install_command
from ..data import Graph
from ..data.datasets import (PLANETOID_NAMES, available_datasets, find_planetoid,
                             load_ogb_node, load_planetoid)
from ..data.synthetic import karate_club, sbm
from ..data.transforms import normalize_features
from ..nn import NodeClassifier

__all__ = ["Cell", "SUITES", "smoke_suite", "speed_suite", "ops_suite",
           "real_node_datasets", "EXTRAS", "SUITE_REQUIREMENTS", "install_command",
           "missing_modules", "extras_status", "suite_unavailable"]


@dataclass
class Cell:
    """One (suite, dataset, method, seed) job; ``run()`` returns its metrics."""

    suite: str
    dataset: str
    method: str
    seed: int
    run: Callable[[], dict[str, Any]] = field(repr=False)

    def key(self) -> dict[str, Any]:
        return {"suite": self.suite, "dataset": self.dataset, "method": self.method,
                "seed": self.seed}


def _node_datasets(root: Optional[Path], quick: bool) -> dict[str, Callable[[], Graph]]:
    sizes = [100] * 3 if quick else [300] * 3
    datasets: dict[str, Callable[[], Graph]] = {
        "sbm": lambda: sbm(sizes, 0.05 if not quick else 0.1, 0.005, num_features=16,
                           feature_signal=0.4, seed=0),
        "karate": karate_club,
    }
    datasets.update(real_node_datasets(root))
    return datasets


def real_node_datasets(root: Optional[Path]) -> dict[str, Callable[[], Graph]]:
    """Loaders of the node datasets under ``root``: every Planetoid dataset whose
    files are there (Cora, CiteSeer, PubMed; public split, row-normalised
    features) and every OGB-format node dataset (its own split)."""
    datasets: dict[str, Callable[[], Graph]] = {}
    if root is None:
        return datasets
    for name in PLANETOID_NAMES:
        if find_planetoid(root, name) is not None:
            def planetoid(name: str = name) -> Graph:
                g = load_planetoid(root, name)
                return g.replace(x=normalize_features(g.x))
            datasets[name] = planetoid
    for found in available_datasets(root):
        if found["kind"] == "ogb-node":
            folder = Path(found["path"])
            datasets[found["name"]] = (lambda f=folder: load_ogb_node(f.parent, f.name
                                                                      .replace("_", "-")))
    return datasets


def _fit_score(graph: Graph, conv: str, seed: int, max_epochs: int) -> dict[str, Any]:
    start = time.perf_counter()
    clf = NodeClassifier(conv=conv, random_state=seed, max_epochs=max_epochs)
    clf.fit(graph.x, graph.y, graph=graph, train_mask=graph.train_mask,
            val_mask=graph.val_mask)
    seconds = time.perf_counter() - start
    y = graph.y.numpy()
    return {"test_acc": clf.score(graph.x, y, graph=graph, mask=graph.test_mask),
            "val_acc": clf.score(graph.x, y, graph=graph, mask=graph.val_mask),
            "epochs": clf.n_epochs_, "seconds": seconds}


def smoke_suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    """GCN, GraphSAGE and GAT node classifiers on an SBM, karate club and, when
    ``root`` holds them, Cora with its public split and every OGB-format node
    dataset (its own split; accuracy as ``ogb``'s Evaluator computes it)."""
    epochs = 50 if quick else 200
    cells = []
    for name, load in _node_datasets(root, quick).items():
        cache: dict[str, Graph] = {}

        def graph(load: Callable[[], Graph] = load, cache: dict = cache) -> Graph:
            if "g" not in cache:
                cache["g"] = load()
            return cache["g"]

        for conv in ("gcn", "sage", "gat"):
            for seed in range(seeds):
                cells.append(Cell("smoke", name, conv, seed,
                                  lambda g=graph, c=conv, s=seed: _fit_score(g(), c, s, epochs)))
    return cells


def speed_suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    """Seconds for 200 full-batch GCN training epochs: graphbias vs PyG, one process."""
    from .speed import SPEED_METHODS, gcn_training_seconds, speed_dataset

    epochs = 20 if quick else 200
    data: dict[str, Any] = {}

    def dataset() -> Any:
        if "d" not in data:
            data["d"] = speed_dataset(root)
        return data["d"]

    name = "cora" if root is not None and find_planetoid(root, "cora") else "sbm-2708"
    return [Cell("speed", name, method, seed,
                 lambda m=method, s=seed: gcn_training_seconds(dataset(), m, epochs, s))
            for seed in range(seeds) for method in SPEED_METHODS]


def ops_suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    """scatter / SpMM kernels beside torch, PyG and torch-scatter (see ops_bench)."""
    from .ops_bench import ops_suite as cells

    return cells(root, seeds, quick)


SuiteFn = Callable[[Optional[Path], int, bool], list[Cell]]


def _capability_suite(module: str) -> SuiteFn:
    """The ``suite`` function of ``graphbias.bench.<module>``, imported on first use
    so that ``graphbias bench`` does not import every capability's dependencies."""
    def suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
        return importlib.import_module(f"{__package__}.{module}").suite(root, seeds, quick)

    suite.__name__ = module
    return suite


SUITES: dict[str, SuiteFn] = {
    "smoke": smoke_suite,
    "speed": speed_suite,
    "ops": ops_suite,
    "forecast": _capability_suite("forecast_suite"),
    "cluster": _capability_suite("cluster_suite"),
    "causal": _capability_suite("causal_suite"),
    "stream": _capability_suite("stream_suite"),
    "compile": _capability_suite("compile_suite"),
    "lagnn": _capability_suite("lagnn_suite"),
}


#: suite -> (the extra it needs, the modules of that extra its cells import)
SUITE_REQUIREMENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "causal": ("causal", ("econml",)),
    "stream": ("stream", ("river",)),
    "forecast": ("forecast", ("pandas",)),
}


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """The ``modules`` that cannot be imported here (absent, or broken installs
    such as a compiled extension built for another torch).

    Parameters
    ----------
    modules : tuple of str
        Importable module names.

    Returns
    -------
    list of str
        Those whose import fails, in the given order.

    Examples
    --------
    >>> missing_modules(("json", "graphbias_no_such_module"))
    ['graphbias_no_such_module']
    """
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - any failed import means "not usable"
            missing.append(name)
    return missing


def extras_status() -> list[dict[str, Any]]:
    """Whether each optional extra of :data:`graphbias._optional.EXTRAS` can be
    imported.

    Returns
    -------
    list of dict
        Per extra: ``extra``, ``modules``, ``missing`` (the modules that fail to
        import) and ``install`` (the command that installs the extra).
    """
    return [{"extra": extra, "modules": modules, "missing": missing_modules(modules),
             "install": install_command(extra)}
            for extra, modules in EXTRAS.items()]


def suite_unavailable(suite: str) -> Optional[str]:
    """Why ``suite`` cannot run here (an optional extra it needs is missing, and
    how to install it), or None when it can.

    Parameters
    ----------
    suite : str
        A key of :data:`SUITES`.

    Returns
    -------
    str or None
        The reason, naming the missing modules and the install command.

    Examples
    --------
    >>> suite_unavailable("smoke") is None
    True
    """
    if suite not in SUITE_REQUIREMENTS:
        return None
    extra, modules = SUITE_REQUIREMENTS[suite]
    missing = missing_modules(modules)
    if not missing:
        return None
    return (f"suite {suite} needs {', '.join(missing)} (the {extra} extra), which "
            f"cannot be imported; install it with {install_command(extra)}")
