"""Benchmark results: one JSON file per (suite, dataset, method, seed) cell.

Each finished cell is written atomically to ``OUT/cells/<suite>/<dataset>__<method>__
seed<k>.json`` (a temporary file renamed into place), so an interrupted run keeps
every finished cell and a resumed run skips them. ``results.jsonl`` and
``results.csv`` are rebuilt from the cell files. Recorded results can also be read
back from JSON-lines files (one record per line) and from folders holding a
``results.jsonl``.
"""
from __future__ import annotations

import csv
import json
import math
import os
import platform
import re
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np

__all__ = ["machine_info", "cell_path", "write_cell", "read_cells", "scan_cells",
           "write_tables", "read_results", "load_results", "summarise",
           "metric_values", "write_text_atomic", "slug", "KEYS"]

KEYS = ("suite", "dataset", "method", "seed")


def machine_info() -> dict[str, Any]:
    """The facts a timing depends on: CPU, threads, library versions, backend.

    Returns
    -------
    dict
        ``graphbias``, ``torch`` and ``python`` versions, ``cpu`` model, ``cores``,
        ``torch_threads``, kernel ``backend`` and ``platform``.

    Examples
    --------
    >>> info = machine_info()
    >>> sorted(info)[:3]
    ['backend', 'cores', 'cpu']
    """
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


def slug(value: Any) -> str:
    """``value`` as a file-name part: runs of other characters than letters,
    digits and ``_.+-`` become ``-``.

    Examples
    --------
    >>> slug("exact/er")
    'exact-er'
    """
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", str(value)).strip("-") or "_"


def cell_path(out: Path, record: dict[str, Any]) -> Path:
    """Where the record of one (suite, dataset, method, seed) cell lives under ``out``.

    Parameters
    ----------
    out : Path
        The folder of a benchmark run.
    record : dict
        A record with the keys ``suite``, ``dataset``, ``method`` and ``seed``.

    Returns
    -------
    Path
        ``out/cells/<suite>/<dataset>__<method>__seed<k>.json``.

    Examples
    --------
    >>> cell_path(Path("out"), {"suite": "smoke", "dataset": "cora", "method": "gcn",
    ...                         "seed": 3}).as_posix()
    'out/cells/smoke/cora__gcn__seed3.json'
    """
    missing = [k for k in KEYS if k not in record]
    if missing:
        raise ValueError(f"result record lacks keys {missing}")
    name = f"{slug(record['dataset'])}__{slug(record['method'])}__seed{record['seed']}"
    return Path(out) / "cells" / slug(record["suite"]) / f"{name}.json"


def write_text_atomic(path: Path, text: str) -> None:
    """Writes ``text`` to a temporary file in ``path``'s folder, then renames it
    into place, so a reader sees the old file or the new one, never a part.

    Parameters
    ----------
    path : Path
        The file to write; its folder is created when missing.
    text : str
        The whole content.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_text_atomic(folder / "a.txt", "done")
    >>> (folder / "a.txt").read_text(), [p.name for p in folder.iterdir()]
    ('done', ['a.txt'])
    """
    path = Path(path)
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
    """Writes one cell's record atomically; a crash leaves the old file or none.

    Parameters
    ----------
    out : Path
        The folder of a benchmark run.
    record : dict
        The cell's keys (see :func:`cell_path`) and metrics.

    Returns
    -------
    Path
        The file written.
    """
    path = cell_path(out, record)
    write_text_atomic(path, json.dumps(record, sort_keys=True, indent=1) + "\n")
    return path


def _parse_record(text: str, where: str) -> dict[str, Any]:
    """One record from JSON text; a ValueError naming ``where`` when it is not a
    JSON object holding every key of :data:`KEYS` but ``suite``."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{where} is not valid JSON ({err})") from None
    if not isinstance(record, dict):
        raise ValueError(f"{where} holds a {type(record).__name__}, not a result record")
    missing = [k for k in KEYS[1:] if k not in record]
    if missing:
        raise ValueError(f"{where} lacks the keys {missing}")
    return record


def scan_cells(out: Path, suite: Optional[str] = None
               ) -> tuple[list[dict[str, Any]], list[tuple[Path, str]]]:
    """Every readable cell record under ``out`` and every unreadable cell file.

    Parameters
    ----------
    out : Path
        The folder of a benchmark run.
    suite : str, optional
        Only this suite's cells (default: every suite's).

    Returns
    -------
    records : list of dict
        The records, in a stable (path) order.
    unreadable : list of (Path, str)
        Truncated or corrupt cell files and what is wrong with each.
    """
    pattern = f"{slug(suite)}/*.json" if suite is not None else "*/*.json"
    records, unreadable = [], []
    for path in sorted((Path(out) / "cells").glob(pattern)):
        try:
            records.append(_parse_record(path.read_text(), str(path)))
        except ValueError as err:
            unreadable.append((path, str(err)))
    return records, unreadable


def read_cells(out: Path, suite: Optional[str] = None) -> list[dict[str, Any]]:
    """Every cell record under ``out`` (of one suite, if given), in a stable order.

    Parameters
    ----------
    out : Path
        The folder of a benchmark run.
    suite : str, optional
        Only this suite's cells (default: every suite's).

    Returns
    -------
    list of dict
        The records.

    Raises
    ------
    ValueError
        A cell file is truncated or corrupt (the message names it).
    """
    records, unreadable = scan_cells(out, suite)
    if unreadable:
        raise ValueError(unreadable[0][1])
    return records


def write_tables(out: Path, records: list[dict[str, Any]]) -> None:
    """Rebuilds ``out/results.jsonl`` and ``out/results.csv`` from ``records``.

    Parameters
    ----------
    out : Path
        The folder to write into.
    records : list of dict
        One record per cell; lists and dicts go into the CSV as JSON text.
    """
    write_text_atomic(out / "results.jsonl",
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
        write_text_atomic(out / "results.csv", f.read())


def read_results(path: Path, suite: Optional[str] = None) -> list[dict[str, Any]]:
    """The records of a JSON-lines file, one per non-blank line.

    Parameters
    ----------
    path : Path
        A ``results.jsonl`` or any file with one JSON record per line.
    suite : str, optional
        The suite of the records that name none (files written by hand or by
        older scripts); a record without a suite and no ``suite`` given is an error.

    Returns
    -------
    list of dict
        The records, in file order.

    Raises
    ------
    ValueError
        A line is not a JSON object with ``dataset``, ``method`` and ``seed``, or no
        suite is known for it; the message names the file and line.
    """
    records = []
    with Path(path).open() as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            record = _parse_record(line, f"{path}, line {number},")
            if "suite" not in record:
                if suite is None:
                    raise ValueError(f"{path}, line {number}, names no suite; pass the "
                                     f"suite of its records (--suite NAME)")
                record = {"suite": suite, **record}
            records.append(record)
    return records


def _source_records(source: Path, suite: Optional[str]
                    ) -> tuple[list[dict[str, Any]], list[tuple[Path, str]], Path]:
    """Records, unreadable cell files and the folder of one source."""
    if source.is_file():
        return read_results(source, suite), [], source.parent
    if (source / "cells").is_dir():
        records, unreadable = scan_cells(source)
        return records, unreadable, source
    if (source / "results.jsonl").is_file():
        return read_results(source / "results.jsonl", suite), [], source
    raise ValueError(f"{source} holds no benchmark results: neither a cells/ folder nor "
                     f"results.jsonl, and it is not a results file")


def load_results(sources: Sequence[Path], suite: Optional[str] = None
                 ) -> tuple[list[dict[str, Any]], list[tuple[Path, str]],
                            Optional[dict[str, Any]]]:
    """The records of several recorded results, checked for clashes.

    Parameters
    ----------
    sources : sequence of Path
        Benchmark folders (with ``cells/``, or with a ``results.jsonl``) and
        JSON-lines files.
    suite : str, optional
        The suite of records that name none (see :func:`read_results`).

    Returns
    -------
    records : list of dict
        Every record, in source order.
    unreadable : list of (Path, str)
        Truncated or corrupt cell files, left out of ``records``.
    machine : dict or None
        The first ``machine.json`` found in a source folder (or beside a file).

    Raises
    ------
    ValueError
        A source is missing or holds no results, or two records share one
        (suite, dataset, method, seed).
    """
    records: list[dict[str, Any]] = []
    unreadable: list[tuple[Path, str]] = []
    machine = None
    origin: dict[tuple, Path] = {}
    for source in map(Path, sources):
        if not source.exists():
            raise ValueError(f"{source} does not exist")
        found, bad, folder = _source_records(source, suite)
        for record in found:
            key = tuple(record[k] for k in KEYS)
            if key in origin:
                raise ValueError(f"{source} and {origin[key]} both hold the cell {key}")
            origin[key] = source
        records += found
        unreadable += bad
        if machine is None and (folder / "machine.json").is_file():
            machine = json.loads((folder / "machine.json").read_text())
    return records, unreadable, machine


def _number(value: Any) -> Optional[float]:
    """``value`` as a float when it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def metric_values(records: Iterable[dict[str, Any]], metric: str) -> dict[Any, float]:
    """The finite values of ``metric`` by seed; ``"a/b"`` is the per-record ratio of
    two metrics (records where ``b`` is 0 or either is missing are left out).

    Parameters
    ----------
    records : iterable of dict
        The records of one (suite, dataset, method).
    metric : str
        A metric name, or ``"numerator/denominator"``.

    Returns
    -------
    dict
        ``{seed: value}``.

    Examples
    --------
    >>> rs = [{"seed": 0, "gen": 1.0, "seconds": 4.0}, {"seed": 1, "gen": 2.0,
    ...        "seconds": 0.0}, {"seed": 2, "gen": float("nan"), "seconds": 1.0}]
    >>> metric_values(rs, "gen"), metric_values(rs, "gen/seconds")
    ({0: 1.0, 1: 2.0}, {0: 0.25})
    """
    out = {}
    for r in records:
        if "/" in metric and metric not in r:
            num, den = (_number(r.get(m)) for m in metric.split("/", 1))
            value = num / den if num is not None and den else None
        else:
            value = _number(r.get(metric))
        if value is not None:
            out[r["seed"]] = value
    return out


def summarise(records: Iterable[dict[str, Any]],
              metrics: Optional[Sequence[str]] = None) -> list[dict[str, Any]]:
    """Mean, std, median and count over seeds of every numeric metric, per
    (suite, dataset, method).

    The standard deviation is the population one (``ddof=0``); values that are
    not finite (NaN for an empty degree bucket, say) are left out of a metric's
    statistics, and a metric with no finite value is left out of the row.

    Parameters
    ----------
    records : iterable of dict
        Cell records.
    metrics : sequence of str, optional
        The metrics to summarise (``"a/b"``: the ratio of two metrics per record,
        see :func:`metric_values`); default every numeric field but the keys.

    Returns
    -------
    list of dict
        One row per (suite, dataset, method) in order of first appearance:
        ``suite``, ``dataset``, ``method``, ``runs`` (records) and
        ``row[metric] = {"mean", "std", "median", "n"}``.

    Examples
    --------
    >>> rows = summarise([{"suite": "s", "dataset": "d", "method": "m", "seed": 0,
    ...                    "test_acc": 0.5}, {"suite": "s", "dataset": "d",
    ...                    "method": "m", "seed": 1, "test_acc": 0.7}])
    >>> rows[0]["runs"], round(rows[0]["test_acc"]["std"], 3)
    (2, 0.1)
    """
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(r["suite"], r["dataset"], r["method"])].append(r)
    rows = []
    for (suite, dataset, method), rs in groups.items():
        row: dict[str, Any] = {"suite": suite, "dataset": dataset, "method": method,
                               "runs": len(rs)}
        names = metrics if metrics is not None else sorted(
            {k for r in rs for k, v in r.items() if k not in KEYS and _number(v) is not None})
        for m in names:
            values = np.array(list(metric_values(rs, m).values()))
            if values.size:
                row[m] = {"mean": float(values.mean()), "std": float(values.std()),
                          "median": float(np.median(values)), "n": int(values.size)}
        rows.append(row)
    return rows
