"""Benchmark cells as Ray tasks.

A task receives only the cell's identity (suite, dataset, method, seed) and the
suite's arguments, rebuilds the suite's cells on the worker and runs the matching
one, so nothing but small tuples and result dictionaries crosses the wire. Without
``address`` a local Ray is started for the run (``ray.init()``, all local CPUs); with
``address="auto"`` or ``"ray://head:10001"`` the same cells fan out over a cluster
whose workers have graphbias installed and the data root at the same path.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from .suites import Cell

__all__ = ["run_on_ray"]


def _run_remote(suite: str, root: Optional[Path], seeds: Sequence[int], quick: bool,
                key: tuple[str, str, int], threads: Optional[int]) -> dict[str, Any]:
    from .runner import torch_threads, build_cells, run_cell

    with torch_threads(threads):
        for cell in build_cells(suite, root, seeds, quick):
            if (cell.dataset, cell.method, cell.seed) == key:
                return run_cell(cell)
    raise ValueError(f"suite {suite!r} has no cell {key} on this worker")


def run_on_ray(cells: list[Cell], suite: str, root: Optional[Path], seeds: Sequence[int],
               quick: bool, *, address: Optional[str] = None,
               num_cpus: Optional[int] = None,
               threads: Optional[int] = None) -> Iterator[dict[str, Any]]:
    """Yields the records of ``cells`` as their Ray tasks finish (any order).

    Parameters
    ----------
    cells : list of Cell
        The cells to run, all of ``suite``.
    suite : str
        Their suite.
    root : Path or None
        The data root, at the same path on every worker.
    seeds : sequence of int
        The seeds the cells were built for (the worker rebuilds the same list).
    quick : bool
        The suite's quick variant.
    address : str, optional
        The Ray cluster's address; default a local Ray started here.
    num_cpus : int, optional
        CPUs of a local Ray (default all).
    threads : int, optional
        torch intra-op threads in each task.

    Yields
    ------
    dict
        One cell record per task, as :func:`~graphbias.bench.runner.run_cell`.
    """
    try:
        import ray
    except ImportError as err:
        raise ImportError('--backend ray needs Ray: pip install "graphbias[distributed]"'
                          ) from err
    if not cells:
        return
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=num_cpus, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    task = ray.remote(num_cpus=1)(_run_remote)
    seeds = list(seeds)
    pending = [task.remote(suite, root, seeds, quick, (c.dataset, c.method, c.seed),
                           threads) for c in cells]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield ray.get(done[0])
