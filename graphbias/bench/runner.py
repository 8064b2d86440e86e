"""Runs suites' cells with a progress bar and a live table, one result file per cell.

Finished cells are skipped when a run is repeated into the same ``out`` folder, so
an interrupted run resumes where it stopped; cells that failed are run again.
"""
from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from rich.console import Console, Group
from rich.live import Live
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn)
from rich.table import Table

from .report import format_metric, write_report
from .results import cell_path, machine_info, summarise, write_cell
from .suites import SUITES, Cell

__all__ = ["run_suite", "run_suites", "build_cells", "run_cell", "results_table",
           "BACKENDS"]

BACKENDS = ("local", "ray")
Key = tuple[str, str, str, int]


def _key(cell: Cell) -> Key:
    return (cell.suite, cell.dataset, cell.method, cell.seed)


def build_cells(suite: str, root: Optional[Path], seeds: int, quick: bool,
                datasets: Optional[Sequence[str]] = None) -> list[Cell]:
    """The cells of ``suite``, keeping only ``datasets`` when given."""
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; choose from {sorted(SUITES)}")
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    cells = SUITES[suite](root, seeds, quick)
    seen: set[Key] = set()
    for cell in cells:
        if _key(cell) in seen:
            raise ValueError(f"suite {suite!r} has two cells {_key(cell)}")
        seen.add(_key(cell))
    if datasets:
        cells = [c for c in cells if c.dataset in datasets]
    return cells


def run_cell(cell: Cell) -> dict[str, Any]:
    """Runs one cell; an exception becomes an ``error`` field in its record."""
    record: dict[str, Any] = cell.key()
    start = time.perf_counter()
    try:
        record.update(cell.run())
    except Exception as err:  # noqa: BLE001 - recorded, reported, run continues
        record["error"] = f"{type(err).__name__}: {err}"
        record["traceback"] = traceback.format_exc()
    record["wall_s"] = time.perf_counter() - start
    return record


def _run_local(cells: list[Cell]) -> Iterator[dict[str, Any]]:
    for cell in cells:
        yield run_cell(cell)


def _executor(backend: str, args: tuple, ray_address: Optional[str]
              ) -> Callable[[list[Cell]], Iterable[dict[str, Any]]]:
    if backend == "local":
        return _run_local
    if backend == "ray":
        from .ray_backend import run_on_ray

        return lambda cells: run_on_ray(cells, *args, address=ray_address)
    raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")


def _finished(out: Path, cell: Cell) -> Optional[dict[str, Any]]:
    path = cell_path(out, cell.key())
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    return None if "error" in record else record


def run_suites(suites: Sequence[str], *, root: Optional[Path], out: Path, seeds: int,
               quick: bool, datasets: Optional[Sequence[str]] = None,
               backend: str = "local", resume: bool = True,
               ray_address: Optional[str] = None,
               console: Optional[Console] = None) -> list[dict[str, Any]]:
    """Runs every cell of ``suites``, writing ``out/cells/...`` as each finishes, then
    ``results.jsonl``, ``results.csv``, ``report.md`` and ``plots/``.

    With ``resume`` (the default) cells already finished in ``out`` are not run again.
    ``datasets`` keeps only the cells of those datasets. ``backend="ray"`` runs the
    cells as Ray tasks (on ``ray_address``, or a local Ray started for the run).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")
    console = console or Console()
    plan = {s: build_cells(s, root, seeds, quick, datasets) for s in suites}
    if datasets and not any(plan.values()):
        raise ValueError(f"no cell of suites {list(suites)} uses datasets {list(datasets)}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "machine.json").write_text(json.dumps(machine_info(), indent=2))
    records: list[dict[str, Any]] = []
    for suite, cells in plan.items():
        records += _run_one(suite, cells, out, resume, console,
                            _executor(backend, (suite, root, seeds, quick), ray_address))
    report = write_report(out)
    console.print(f"results: {out / 'results.jsonl'}, report: {report}")
    return records


def _run_one(suite: str, cells: list[Cell], out: Path, resume: bool, console: Console,
             execute: Callable[[list[Cell]], Iterable[dict[str, Any]]]
             ) -> list[dict[str, Any]]:
    done = {_key(c): r for c in cells if resume and (r := _finished(out, c)) is not None}
    pending = [c for c in cells if _key(c) not in done]
    records = list(done.values())
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("{task.fields[note]}"))
    progress = Progress(*columns, console=console)
    task = progress.add_task(suite, total=len(cells), completed=len(done),
                             note=f"{len(done)} resumed" if done else "")
    title = f"graphbias bench --suite {suite}"
    with Live(Group(progress, results_table(records, title)), console=console,
              refresh_per_second=4, transient=True) as live:
        for record in execute(pending):
            write_cell(out, record)
            records.append(record)
            if "error" in record:
                console.print(f"[red]{record['dataset']}/{record['method']}/"
                              f"{record['seed']} failed:[/] {record['error']}")
                console.print(record["traceback"], style="dim")
            progress.update(task, advance=1,
                            note=f"{record['dataset']} / {record['method']} / "
                                 f"seed {record['seed']}")
            live.update(Group(progress, results_table(records, title)))
    order = {_key(c): i for i, c in enumerate(cells)}
    records.sort(key=lambda r: order[(r["suite"], r["dataset"], r["method"], r["seed"])])
    console.print(results_table(records, title))
    return records


def run_suite(suite: str, *, root: Optional[Path], out: Path, seeds: int, quick: bool,
              **kwargs: Any) -> list[dict[str, Any]]:
    """:func:`run_suites` for one suite."""
    return run_suites([suite], root=root, out=out, seeds=seeds, quick=quick, **kwargs)


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
                      *[format_metric(m, r[m]) if m in r else "" for m in metrics])
    return table
