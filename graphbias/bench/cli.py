"""The ``graphbias`` command: ``info``, ``datasets`` and ``bench``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from rich.console import Console
from rich.table import Table

from .suites import SUITES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphbias", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="versions, kernel backend and threads")
    ds = sub.add_parser("datasets", help="list the datasets found under a root")
    ds.add_argument("--root", type=Path, required=True)
    bench = sub.add_parser("bench", help="run a benchmark suite")
    bench.add_argument("--suite", choices=sorted(SUITES), default="smoke")
    bench.add_argument("--root", type=Path, default=None,
                       help="folder with datasets (e.g. the Planetoid ind.cora.* files)")
    bench.add_argument("--out", type=Path, default=Path("bench-out"),
                       help="folder for results.jsonl and machine.json")
    bench.add_argument("--seeds", type=int, default=3, help="number of seeds per cell")
    bench.add_argument("--quick", action="store_true", help="fewer epochs, smaller graphs")
    return parser


def _info(console: Console) -> None:
    from .results import machine_info

    table = Table(show_header=False, title="graphbias")
    for key, value in machine_info().items():
        table.add_row(key, str(value))
    console.print(table)


def _datasets(root: Path, console: Console) -> int:
    from ..data.datasets import available_datasets

    if not root.is_dir():
        console.print(f"[red]root {root} is not a folder[/]")
        return 2
    found = available_datasets(root)
    table = Table(title=f"datasets under {root}")
    for col in ("name", "kind", "path"):
        table.add_column(col)
    for d in found:
        table.add_row(d["name"], d["kind"], str(d["path"]))
    console.print(table if found else f"no dataset found under {root}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    console = Console()
    if args.command == "info":
        _info(console)
        return 0
    if args.command == "datasets":
        return _datasets(args.root, console)
    from .runner import run_suite

    if args.root is not None and not args.root.is_dir():
        console.print(f"[red]--root {args.root} is not a folder[/]")
        return 2
    if args.seeds < 1:
        console.print("[red]--seeds must be >= 1[/]")
        return 2
    records = run_suite(args.suite, root=args.root, out=args.out, seeds=args.seeds,
                        quick=args.quick, console=console)
    return 1 if any("error" in r for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
