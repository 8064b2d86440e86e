"""Runs suites' cells with a progress bar and a live table, one result file per cell.

Finished cells are skipped when a run is repeated into the same ``out`` folder, so
an interrupted run resumes where it stopped; cells that failed, and cell files that
are truncated or corrupt, are run again. A run can keep only some datasets,
methods and seeds of its suites, so that several processes can share one suite.
"""
from __future__ import annotations

import json
import re
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, Union

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn)
from rich.table import Table

from .report import ReportSpec, column_title, format_metric, table_metrics, write_report
from .results import KEYS, cell_path, machine_info, summarise, write_cell, write_text_atomic
from .suites import SUITES, Cell, suite_unavailable

__all__ = ["run_suite", "run_suites", "build_cells", "run_cell", "results_table",
           "parse_seeds", "torch_threads", "BACKENDS"]

BACKENDS = ("local", "ray")
Key = tuple[str, str, str, int]
Seeds = Union[int, Sequence[int]]


def _key(cell: Cell) -> Key:
    return (cell.suite, cell.dataset, cell.method, cell.seed)


def parse_seeds(spec: Union[str, int], first_seed: Optional[int] = None) -> range:
    """The seeds a run uses: a count (from ``first_seed``, default 0) or an
    inclusive range ``"first-last"``.

    Parameters
    ----------
    spec : str or int
        ``"10"`` (or 10): ten seeds; ``"5-14"``: seeds 5 to 14.
    first_seed : int, optional
        The first seed of a count; not allowed with a range.

    Returns
    -------
    range
        The seeds.

    Raises
    ------
    ValueError
        A count below 1, a negative seed, a range whose end is below its start,
        text that is neither, or a range together with ``first_seed``.

    Examples
    --------
    >>> parse_seeds("10", first_seed=5), parse_seeds("5-14"), parse_seeds(3)
    (range(5, 15), range(5, 15), range(0, 3))
    """
    text = str(spec).strip()
    if first_seed is not None and (isinstance(first_seed, bool) or first_seed < 0):
        raise ValueError(f"the first seed must be an integer >= 0, got {first_seed!r}")
    if match := re.fullmatch(r"(\d+)-(\d+)", text):
        if first_seed is not None:
            raise ValueError(f"give either a seed range ({text}) or a first seed, not both")
        first, last = int(match[1]), int(match[2])
        if last < first:
            raise ValueError(f"seed range {text} ends before it starts")
        return range(first, last + 1)
    if not re.fullmatch(r"\d+", text) or int(text) < 1:
        raise ValueError(f"seeds must be a count >= 1 or a range FIRST-LAST, got {spec!r}")
    start = first_seed or 0
    return range(start, start + int(text))


def _seed_list(seeds: Seeds) -> list[int]:
    if isinstance(seeds, bool):
        raise ValueError(f"seeds must be a count or a sequence of seeds, got {seeds!r}")
    if isinstance(seeds, int):
        return list(parse_seeds(seeds))
    seeds = sorted(set(seeds))
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0
                        for s in seeds):
        raise ValueError(f"seeds must be integers >= 0, got {list(seeds)}")
    return seeds


def build_cells(suite: str, root: Optional[Path], seeds: Seeds, quick: bool,
                datasets: Optional[Sequence[str]] = None,
                methods: Optional[Sequence[str]] = None) -> list[Cell]:
    """The cells of ``suite`` for ``seeds``, keeping only ``datasets`` and
    ``methods`` when given.

    Parameters
    ----------
    suite : str
        A key of :data:`~graphbias.bench.suites.SUITES`.
    root : Path or None
        The data root the suite reads.
    seeds : int or sequence of int
        A count (seeds ``0..seeds-1``) or the seeds themselves; cells of seeds not
        listed are left out (a suite's single-seed cells run with seed 0).
    quick : bool
        The suite's quick variant.
    datasets, methods : sequence of str, optional
        Keep only the cells of these datasets / methods.

    Returns
    -------
    list of Cell
        In the suite's order.

    Raises
    ------
    ValueError
        An unknown suite, bad seeds, or a suite with two cells of one key.
    """
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; choose from {sorted(SUITES)}")
    wanted = _seed_list(seeds)
    cells = SUITES[suite](root, max(wanted) + 1, quick)
    seen: set[Key] = set()
    for cell in cells:
        if _key(cell) in seen:
            raise ValueError(f"suite {suite!r} has two cells {_key(cell)}")
        seen.add(_key(cell))
    keep = set(wanted)
    return [c for c in cells if c.seed in keep
            and (not datasets or c.dataset in datasets)
            and (not methods or c.method in methods)]


def run_cell(cell: Cell) -> dict[str, Any]:
    """Runs one cell; an exception becomes an ``error`` field in its record.

    Parameters
    ----------
    cell : Cell
        The cell.

    Returns
    -------
    dict
        The cell's keys, its metrics (or ``error`` and ``traceback``) and ``wall_s``.
    """
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


Executor = Callable[[list[Cell]], Iterable[dict[str, Any]]]


def _executor(backend: str, args: tuple, ray_address: Optional[str],
              threads: Optional[int]) -> Executor:
    if backend == "local":
        return _run_local
    from .ray_backend import run_on_ray

    return lambda cells: run_on_ray(cells, *args, address=ray_address, threads=threads)


def _finished(out: Path, cell: Cell, console: Console) -> Optional[dict[str, Any]]:
    """The record of a cell finished in ``out``; None when it is missing, failed
    or unreadable (reported by name: it will be run again)."""
    path = cell_path(out, cell.key())
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        console.print(f"[yellow]cell file {escape(str(path))} is truncated or corrupt "
                      f"({escape(str(err))}); running the cell again[/]")
        return None
    if not isinstance(record, dict) or {k: record.get(k) for k in KEYS} != cell.key():
        console.print(f"[yellow]cell file {escape(str(path))} does not hold this "
                      f"cell's record; running the cell again[/]")
        return None
    return None if "error" in record else record


@contextmanager
def torch_threads(threads: Optional[int]) -> Iterator[None]:
    """Sets torch's intra-op threads inside the ``with`` block, restoring them after.

    Parameters
    ----------
    threads : int or None
        The number of threads (>= 1); None leaves them as they are.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if threads is None:
        yield
        return
    import torch

    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an integer >= 1, got {threads!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _check_selection(plan: dict[str, list[Cell]], name: str,
                     wanted: Optional[Sequence[str]], field: str) -> None:
    """A ValueError naming every requested dataset or method no cell has."""
    if not wanted:
        return
    have = {getattr(c, field) for cells in plan.values() for c in cells}
    unknown = [w for w in wanted if w not in have]
    if unknown:
        raise ValueError(f"no cell of suites {list(plan)} has the {name} "
                         f"{', '.join(unknown)}; available: {', '.join(sorted(have))}")


def _plan(suites: Sequence[str], root: Optional[Path], seeds: Seeds, quick: bool,
          datasets: Optional[Sequence[str]], methods: Optional[Sequence[str]],
          console: Console) -> dict[str, list[Cell]]:
    """The cells of every runnable suite; suites missing an extra are skipped."""
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        raise ValueError(f"unknown suite(s) {unknown}; choose from {sorted(SUITES)}")
    runnable = []
    for suite in suites:
        reason = suite_unavailable(suite)
        if reason:
            console.print(f"[yellow]skipped: {escape(reason)}[/]")
        else:
            runnable.append(suite)
    every = {s: build_cells(s, root, seeds, quick) for s in runnable}
    _check_selection(every, "dataset(s)", datasets, "dataset")
    _check_selection(every, "method(s)", methods, "method")
    plan = {s: [c for c in cells if (not datasets or c.dataset in datasets)
                and (not methods or c.method in methods)] for s, cells in every.items()}
    if runnable and not any(plan.values()):
        raise ValueError(f"no cell of suites {runnable} has both datasets "
                         f"{list(datasets or [])} and methods {list(methods or [])}")
    return plan


def run_suites(suites: Sequence[str], *, root: Optional[Path], out: Path, seeds: Seeds,
               quick: bool, datasets: Optional[Sequence[str]] = None,
               methods: Optional[Sequence[str]] = None, backend: str = "local",
               resume: bool = True, ray_address: Optional[str] = None,
               threads: Optional[int] = None, report: Optional[ReportSpec] = None,
               console: Optional[Console] = None) -> list[dict[str, Any]]:
    """Runs the cells of ``suites``, writing ``out/cells/...`` as each finishes, then
    ``results.jsonl``, ``results.csv``, ``report.md``, ``plots/`` and ``machine.json``.

    Parameters
    ----------
    suites : sequence of str
        Keys of :data:`~graphbias.bench.suites.SUITES`. A suite whose optional
        extra is missing is skipped with the command that installs it.
    root : Path or None
        The data root.
    out : Path
        The run's folder (created; it must not be a file).
    seeds : int or sequence of int
        A count (seeds ``0..seeds-1``) or the seeds to run (see
        :func:`parse_seeds`).
    quick : bool
        The suites' quick variants.
    datasets, methods : sequence of str, optional
        Run only these datasets / methods; a name no cell has is an error.
    backend : {"local", "ray"}, default="local"
        Run cells in this process or as Ray tasks (on ``ray_address``, or a local
        Ray started for the run).
    resume : bool, default=True
        Skip cells already finished in ``out``.
    ray_address : str, optional
        The Ray cluster's address.
    threads : int, optional
        torch intra-op threads while the cells run (restored afterwards).
    report : ReportSpec, optional
        Metrics, baselines and pivot of the report.
    console : rich.console.Console, optional
        Where progress goes.

    Returns
    -------
    list of dict
        The records of this run's cells (resumed ones included), failed ones with
        an ``error``; empty when every suite was skipped.

    Raises
    ------
    ValueError
        Unknown suite, backend, dataset or method, bad seeds or threads, ``out``
        a file.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for the results")
    console = console or Console()
    plan = _plan(suites, root, seeds, quick, datasets, methods, console)
    if not plan:
        return []
    seed_list = _seed_list(seeds)
    records: list[dict[str, Any]] = []
    with torch_threads(threads):
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out / "machine.json", json.dumps(machine_info(), indent=2))
        for suite, cells in plan.items():
            execute = _executor(backend, (suite, root, seed_list, quick), ray_address,
                                threads)
            records += _run_one(suite, cells, out, resume, console, execute)
    path = write_report(out, spec=report)
    console.print(f"results: {out / 'results.jsonl'}, report: {path}")
    return records


def _run_one(suite: str, cells: list[Cell], out: Path, resume: bool, console: Console,
             execute: Executor) -> list[dict[str, Any]]:
    done = {_key(c): r for c in cells
            if resume and (r := _finished(out, c, console)) is not None}
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
                console.print(f"[red]{escape(record['dataset'])}/"
                              f"{escape(record['method'])}/{record['seed']} failed:[/] "
                              f"{escape(record['error'])}")
                console.print(escape(record["traceback"]), style="dim")
            progress.update(task, advance=1,
                            note=f"{record['dataset']} / {record['method']} / "
                                 f"seed {record['seed']}")
            live.update(Group(progress, results_table(records, title)))
    order = {_key(c): i for i, c in enumerate(cells)}
    records.sort(key=lambda r: order[(r["suite"], r["dataset"], r["method"], r["seed"])])
    console.print(results_table(records, title))
    return records


def run_suite(suite: str, *, root: Optional[Path], out: Path, seeds: Seeds, quick: bool,
              **kwargs: Any) -> list[dict[str, Any]]:
    """:func:`run_suites` for one suite.

    Parameters
    ----------
    suite : str
        A key of :data:`~graphbias.bench.suites.SUITES`.
    root, out, seeds, quick, **kwargs
        As :func:`run_suites`.

    Returns
    -------
    list of dict
        The records.
    """
    return run_suites([suite], root=root, out=out, seeds=seeds, quick=quick, **kwargs)


def results_table(records: list[dict[str, Any]], title: str = "") -> Table:
    """Mean ± std over seeds (accuracies in %, timings as medians) per dataset and
    method, as a rich table.

    Parameters
    ----------
    records : list of dict
        Cell records; failed ones are left out.
    title : str, default=""
        The table's title.

    Returns
    -------
    rich.table.Table
        The table.
    """
    rows = summarise(r for r in records if "error" not in r)
    metrics = table_metrics(rows)
    table = Table(title=title)
    for col in ["dataset", "method", "runs"] + [column_title(m) for m in metrics]:
        table.add_column(col, justify="left" if col in ("dataset", "method") else "right")
    for r in rows:
        table.add_row(r["dataset"], r["method"], str(r["runs"]),
                      *[format_metric(m, r[m]) if m in r else "" for m in metrics])
    return table
