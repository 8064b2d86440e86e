"""Benchmark results: one JSON object per (suite, dataset, method, seed) cell."""
from __future__ import annotations

import json
import os
import platform
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

import numpy as np

__all__ = ["machine_info", "append_result", "read_results", "summarise"]

KEYS = ("suite", "dataset", "method", "seed")


def machine_info() -> dict[str, Any]:
    """The facts a timing depends on: CPU, threads, library versions, backend."""
    import torch

    from .. import __version__, ops

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"graphbias": __version__, "torch": torch.__version__,
            "python": platform.python_version(), "cpu": cpu,
            "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "backend": ops.backend(), "platform": platform.platform()}


def append_result(path: Path, record: dict[str, Any]) -> None:
    """Appends one cell's record as a JSON line (flushed, so a crash keeps it)."""
    missing = [k for k in KEYS if k not in record]
    if missing:
        raise ValueError(f"result record lacks keys {missing}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()


def read_results(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def summarise(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean, std and median over seeds of every numeric metric, per
    (suite, dataset, method): ``row[metric] = {"mean", "std", "median"}``."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(r["suite"], r["dataset"], r["method"])].append(r)
    rows = []
    for (suite, dataset, method), rs in groups.items():
        row: dict[str, Any] = {"suite": suite, "dataset": dataset, "method": method,
                               "runs": len(rs)}
        metrics = sorted({k for r in rs for k, v in r.items()
                          if k not in KEYS and isinstance(v, (int, float))})
        for m in metrics:
            values = np.array([r[m] for r in rs if isinstance(r.get(m), (int, float))],
                              dtype=float)
            row[m] = {"mean": float(values.mean()), "std": float(values.std()),
                      "median": float(np.median(values))}
        rows.append(row)
    return rows
