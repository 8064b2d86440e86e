"""The ``graphbias`` command: ``info``, ``datasets``, ``bench`` and ``make-ogb``.

``graphbias bench --suite NAME[,NAME...]|all`` runs suites into ``--out`` (one file
per finished cell, so a rerun resumes), then writes ``results.jsonl``,
``results.csv``, ``report.md`` and ``plots/``; ``graphbias bench report OUT`` rebuilds
the report from saved cells.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from rich.console import Console
from rich.table import Table

from .runner import BACKENDS
from .suites import SUITES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphbias", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="versions, kernel backend and threads")
    ds = sub.add_parser("datasets", help="list the datasets found under a root")
    ds.add_argument("--root", type=Path, required=True)
    bench = sub.add_parser("bench", help="run benchmark suites, or rebuild a report")
    bench.add_argument("action", nargs="?", choices=("run", "report"), default="run",
                       help="run suites (default) or rebuild the report of a folder")
    bench.add_argument("folder", nargs="?", type=Path,
                       help="with 'report': the folder a run wrote")
    bench.add_argument("--suite", default="smoke",
                       help=f"comma-separated suites or 'all': {', '.join(SUITES)}")
    bench.add_argument("--datasets", default=None,
                       help="comma-separated dataset names: run only their cells")
    bench.add_argument("--root", type=Path, default=None,
                       help="folder with datasets (Planetoid files, OGB folders, ...)")
    bench.add_argument("--out", type=Path, default=Path("bench-out"),
                       help="folder for cells/, results.jsonl/.csv, report.md, plots/")
    bench.add_argument("--seeds", type=int, default=3, help="number of seeds per cell")
    bench.add_argument("--quick", action="store_true", help="fewer epochs, smaller graphs")
    bench.add_argument("--backend", choices=BACKENDS, default="local",
                       help="run cells in this process or as Ray tasks")
    bench.add_argument("--ray-address", default=None,
                       help="Ray cluster address ('auto', 'ray://head:10001'); "
                            "default: a local Ray")
    bench.add_argument("--no-resume", action="store_true",
                       help="run every cell again, even those finished in --out")
    bench.add_argument("--download", action="store_true",
                       help="fetch OGB datasets named in --datasets that --root lacks")
    mk = sub.add_parser("make-ogb", help="write a synthetic OGB-format node dataset")
    mk.add_argument("--root", type=Path, required=True)
    mk.add_argument("--name", default="ogbn-synthetic")
    mk.add_argument("--nodes", type=int, default=100_000)
    mk.add_argument("--avg-degree", type=float, default=10.0)
    mk.add_argument("--classes", type=int, default=8)
    mk.add_argument("--features", type=int, default=32)
    mk.add_argument("--homophily", type=float, default=0.8)
    mk.add_argument("--structure", choices=("sbm", "geometric"), default="sbm")
    mk.add_argument("--seed", type=int, default=0)
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


def _suites(spec: str) -> list[str]:
    names = list(SUITES) if spec == "all" else [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in SUITES]
    if unknown or not names:
        raise ValueError(f"unknown suite(s) {unknown or spec!r}; choose from "
                         f"{', '.join(SUITES)} or 'all'")
    return names


def _ogb_ready(root: Optional[Path], datasets: list[str], download: bool,
               console: Console) -> bool:
    """Checks that OGB datasets named in ``--datasets`` are under ``root`` (fetching
    them with ``--download``); prints how to get a missing one."""
    from ..data.datasets import _OGB_NODE, _ogb_dirname
    from ..data.download import download_command, download_ogb_node

    for name in (d for d in datasets if d in _OGB_NODE):
        if root is None:
            console.print(f"[red]{name} needs --root, the folder that holds OGB datasets[/]")
            return False
        if (root / _ogb_dirname(name) / "raw").is_dir():
            continue
        if download:
            console.print(f"downloading {name} into {root} ...")
            download_ogb_node(root, name)
            continue
        console.print(f"[red]{name} is not under {root}[/]; fetch it with\n  "
                      f"{download_command(root, name)}")
        return False
    return True


def _make_ogb(args: argparse.Namespace, console: Console) -> int:
    from ..data.synthetic.ogb_format import write_synthetic_ogb

    folder = write_synthetic_ogb(args.root, args.name, num_nodes=args.nodes,
                                 avg_degree=args.avg_degree, num_classes=args.classes,
                                 num_features=args.features, homophily=args.homophily,
                                 structure=args.structure, seed=args.seed)
    console.print(f"wrote {args.name} to {folder}")
    return 0


def _bench(args: argparse.Namespace, console: Console) -> int:
    from .report import write_report
    from .runner import run_suites

    if args.action == "report":
        if args.folder is None:
            console.print("[red]graphbias bench report needs the folder a run wrote[/]")
            return 2
        console.print(f"report: {write_report(args.folder)}")
        return 0
    suites = _suites(args.suite)
    if args.root is not None and not args.root.is_dir():
        if not (args.download and not args.root.exists()):
            console.print(f"[red]--root {args.root} is not a folder[/]")
            return 2
        args.root.mkdir(parents=True)
    if args.seeds < 1:
        console.print("[red]--seeds must be >= 1[/]")
        return 2
    datasets = [d.strip() for d in args.datasets.split(",")] if args.datasets else []
    if not _ogb_ready(args.root, datasets, args.download, console):
        return 2
    records = run_suites(suites, root=args.root, out=args.out, seeds=args.seeds,
                         quick=args.quick, datasets=datasets or None,
                         backend=args.backend, resume=not args.no_resume,
                         ray_address=args.ray_address, console=console)
    return 1 if any("error" in r for r in records) else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    console = Console()
    try:
        if args.command == "info":
            _info(console)
            return 0
        if args.command == "datasets":
            return _datasets(args.root, console)
        if args.command == "make-ogb":
            return _make_ogb(args, console)
        return _bench(args, console)
    except (ValueError, FileNotFoundError) as err:
        console.print(f"[red]error:[/] {err}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
