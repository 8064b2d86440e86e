"""Benchmark results: one JSON file per (suite, dataset, method, seed) cell.

Each finished cell is written atomically to ``OUT/cells/<suite>/<dataset>__<method>__
seed<k>.json`` (a temporary file renamed into place), so an interrupted run keeps
every finished cell and a resumed run skips them. ``results.jsonl`` and
``results.csv`` are rebuilt from the cell files.
"""
from __future__ import annotations

import csv
import json
import os
import platform
import re
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

import numpy as np

__all__ = ["machine_info", "cell_path", "write_cell", "read_cells", "write_tables",
           "read_results", "summarise"]

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


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", str(value)).strip("-") or "_"


def cell_path(out: Path, record: dict[str, Any]) -> Path:
    """Where the record of one (suite, dataset, method, seed) cell lives under ``out``."""
    missing = [k for k in KEYS if k not in record]
    if missing:
        raise ValueError(f"result record lacks keys {missing}")
    name = f"{_slug(record['dataset'])}__{_slug(record['method'])}__seed{record['seed']}"
    return out / "cells" / _slug(record["suite"]) / f"{name}.json"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_cell(out: Path, record: dict[str, Any]) -> Path:
    """Writes one cell's record atomically; a crash leaves the old file or none."""
    path = cell_path(out, record)
    _write_atomic(path, json.dumps(record, sort_keys=True, indent=1) + "\n")
    return path


def read_cells(out: Path, suite: str | None = None) -> list[dict[str, Any]]:
    """Every cell record under ``out`` (of one suite, if given), in a stable order."""
    folder = out / "cells"
    pattern = f"{_slug(suite)}/*.json" if suite is not None else "*/*.json"
    records = []
    for path in sorted(folder.glob(pattern)):
        try:
            records.append(json.loads(path.read_text()))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not a valid result file: {err}") from None
    return records


def write_tables(out: Path, records: list[dict[str, Any]]) -> None:
    """Rebuilds ``out/results.jsonl`` and ``out/results.csv`` from ``records``."""
    _write_atomic(out / "results.jsonl",
                  "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    columns = list(KEYS) + sorted({k for r in records for k in r} - set(KEYS))
    rows = []
    for r in records:
        rows.append({k: json.dumps(v) if isinstance(v, (dict, list)) else v
                     for k, v in r.items()})
    with tempfile.TemporaryFile("w+", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        f.seek(0)
        _write_atomic(out / "results.csv", f.read())


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
