"""Runs a suite's cells with a progress bar, writes results, prints the table."""
from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Any, Optional

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn)
from rich.table import Table

from .results import append_result, machine_info, summarise
from .suites import SUITES

__all__ = ["run_suite", "results_table"]


def run_suite(suite: str, *, root: Optional[Path], out: Path, seeds: int, quick: bool,
              console: Optional[Console] = None) -> list[dict[str, Any]]:
    """Runs every cell of ``suite``; appends each record to ``out/results.jsonl``.

    A cell that raises is recorded with an ``error`` field and the run goes on.
    """
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; choose from {sorted(SUITES)}")
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    console = console or Console()
    out.mkdir(parents=True, exist_ok=True)
    (out / "machine.json").write_text(json.dumps(machine_info(), indent=2))
    path = out / "results.jsonl"
    cells = SUITES[suite](root, seeds, quick)
    records = []
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("{task.fields[cell]}"))
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(suite, total=len(cells), cell="")
        for cell in cells:
            progress.update(task, cell=f"{cell.dataset} / {cell.method} / seed {cell.seed}")
            record = cell.key()
            try:
                record.update(cell.run())
            except Exception as err:  # noqa: BLE001 - recorded, reported, run continues
                record["error"] = f"{type(err).__name__}: {err}"
                console.print(f"[red]{cell.dataset}/{cell.method}/{cell.seed} failed:[/] "
                              f"{record['error']}")
                console.print(traceback.format_exc(), style="dim")
            append_result(path, record)
            records.append(record)
            progress.advance(task)
    console.print(results_table(records, title=f"graphbias bench --suite {suite}"))
    console.print(f"results: {path}")
    return records


def _fmt(metric: str, value: dict[str, float]) -> str:
    mean, std = value["mean"], value["std"]
    if metric.endswith("acc"):  # accuracies shown in %
        mean, std = 100 * mean, 100 * std
        return f"{mean:.1f} ± {std:.1f}" if std else f"{mean:.1f}"
    return f"{mean:.3g} ± {std:.2g}" if std else f"{mean:.3g}"


def results_table(records: list[dict[str, Any]], title: str = "") -> Table:
    """Mean ± std over seeds (accuracies in %) per dataset and method."""
    rows = summarise(r for r in records if "error" not in r)
    metrics = sorted({k for r in rows for k in r
                      if k not in ("suite", "dataset", "method", "runs")})
    table = Table(title=title)
    for col in ["dataset", "method", "runs"] + metrics:
        table.add_column(col, justify="left" if col in ("dataset", "method") else "right")
    for r in rows:
        table.add_row(r["dataset"], r["method"], str(r["runs"]),
                      *[_fmt(m, r[m]) if m in r else "" for m in metrics])
    return table

