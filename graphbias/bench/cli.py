"""The ``graphbias`` command: ``info``, ``datasets``, ``bench`` and ``make-ogb``.

``graphbias bench [run] --suite NAME[,NAME...]|all`` runs suites into ``--out`` (one
file per finished cell, so a rerun resumes), then writes ``results.jsonl``,
``results.csv``, ``report.md`` and ``plots/``; ``graphbias bench report SOURCE...``
rebuilds the report from a run's folder or from recorded JSON-lines results.
"""
from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import __version__
from .runner import BACKENDS
from .suites import SUITES

if TYPE_CHECKING:
    from .report import ReportSpec

__all__ = ["main"]

_DESCRIPTION = """Learning on graphs where the graph is the inductive bias.

examples:
  graphbias info
  graphbias bench --suite smoke --seeds 10 --root ../shared/data/planetoid
  graphbias bench --suite lagnn --datasets cora --methods gcn,la-gcn --seeds 5-9
  graphbias bench report bench-out --baseline gcn --metrics test_acc,seconds
"""


class _Formatter(argparse.ArgumentDefaultsHelpFormatter,
                 argparse.RawDescriptionHelpFormatter):
    """Shows each option's default, except for flags and options without one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help or ""
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """An argument parser that names a mistyped option and the closest known one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_args(self, args: Optional[Sequence[str]] = None,
                   namespace: Optional[argparse.Namespace] = None) -> argparse.Namespace:
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            parser = getattr(parsed, "_parser", self)
            parser.error(_unknown_message(parser, extra))
        return parsed


def _unknown_message(parser: argparse.ArgumentParser, extra: list[str]) -> str:
    flag = next((e.split("=", 1)[0] for e in extra if e.startswith("-")), None)
    if flag is None:
        return f"unexpected argument(s): {' '.join(extra)}"
    options = [o for action in parser._actions for o in action.option_strings]
    close = difflib.get_close_matches(flag, options, n=1)
    return f"unknown option {flag}" + (f" (did you mean {close[0]}?)" if close else "")


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metrics", default=None,
                        help="comma-separated metrics for the tables and plots, in this "
                             "order; a/b is the per-run ratio of two metrics "
                             "(default: every metric, headline ones first)")
    parser.add_argument("--baseline", default=None,
                        help="comma-separated methods: a paired comparison of every "
                             "method against each, per dataset, on the first of "
                             "--metrics (mean and std over seeds, paired difference and "
                             "ratio, paired t-test p-value)")
    parser.add_argument("--pivot", default=None,
                        help="a metric to show as a dataset x method table")


def _add_run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument("--suite", default="smoke",
                     help=f"comma-separated suites or 'all': {', '.join(SUITES)}")
    run.add_argument("--datasets", default=None,
                     help="comma-separated dataset names: run only their cells")
    run.add_argument("--methods", default=None,
                     help="comma-separated method names: run only their cells")
    run.add_argument("--root", type=Path, default=None,
                     help="folder with datasets (Planetoid files, OGB folders, ...)")
    run.add_argument("--out", type=Path, default=Path("bench-out"),
                     help="folder for cells/, results.jsonl/.csv, report.md, plots/")
    run.add_argument("--seeds", default="3",
                     help="number of seeds per cell, or an inclusive range FIRST-LAST "
                          "such as 5-14")
    run.add_argument("--first-seed", type=int, default=None,
                     help="first seed of a --seeds count (seeds FIRST..FIRST+N-1; "
                          "default 0)")
    run.add_argument("--quick", action="store_true", help="fewer epochs, smaller graphs")
    run.add_argument("--threads", type=int, default=None,
                     help="torch threads while cells run (default: torch's own)")
    run.add_argument("--backend", choices=BACKENDS, default="local",
                     help="run cells in this process or as Ray tasks")
    run.add_argument("--ray-address", default=None,
                     help="Ray cluster address ('auto', 'ray://head:10001'); "
                          "default: a local Ray")
    run.add_argument("--no-resume", action="store_true",
                     help="run every cell again, even those finished in --out")
    run.add_argument("--download", action="store_true",
                     help="fetch OGB datasets named in --datasets that --root lacks")
    _add_report_options(run)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="graphbias", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"graphbias {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    info = sub.add_parser("info", help="versions, kernel backend, threads, optional extras")
    info.set_defaults(_parser=info)
    ds = sub.add_parser("datasets", help="list the datasets found under a root")
    ds.add_argument("--root", type=Path, required=True, help="the folder to search")
    ds.set_defaults(_parser=ds)
    bench = sub.add_parser("bench", help="run benchmark suites (default), or rebuild a "
                                         "report: graphbias bench report SOURCE")
    bench.set_defaults(_parser=bench)
    actions = bench.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="run suites (the default action)")
    run.set_defaults(_parser=run)
    _add_run_options(run)
    report = actions.add_parser(
        "report", help="rebuild report.md, plots and tables from recorded results")
    report.set_defaults(_parser=report)
    report.add_argument("source", nargs="+", type=Path,
                        help="a folder a run wrote (cells/), a folder with results.jsonl, "
                             "or JSON-lines files of records")
    report.add_argument("--out", type=Path, default=None,
                        help="folder for report.md, plots/ and results.jsonl/.csv "
                             "(default: SOURCE, when it is a single run folder)")
    report.add_argument("--suite", default=None,
                        help="the suite of records that name none")
    _add_report_options(report)
    mk = sub.add_parser("make-ogb", help="write a synthetic OGB-format node dataset")
    mk.set_defaults(_parser=mk)
    mk.add_argument("--root", type=Path, required=True, help="folder to write into")
    mk.add_argument("--name", default="ogbn-synthetic", help="dataset name")
    mk.add_argument("--nodes", type=int, default=100_000, help="number of nodes")
    mk.add_argument("--avg-degree", type=float, default=10.0, help="mean degree")
    mk.add_argument("--classes", type=int, default=8, help="number of classes")
    mk.add_argument("--features", type=int, default=32, help="feature dimension")
    mk.add_argument("--homophily", type=float, default=0.8,
                    help="fraction of edges inside a class")
    mk.add_argument("--structure", choices=("sbm", "geometric"), default="sbm",
                    help="random block model or random geometric graph")
    mk.add_argument("--seed", type=int, default=0, help="random seed")
    return parser


def _info(console: Console) -> None:
    from .results import machine_info
    from .suites import extras_status

    table = Table(show_header=False, title="graphbias")
    for key, value in machine_info().items():
        table.add_row(key, str(value))
    console.print(table)
    extras = Table(title="optional extras")
    for col in ("extra", "modules", "status"):
        extras.add_column(col)
    for e in extras_status():
        status = ("[green]importable[/]" if not e["missing"] else
                  f"[red]missing {', '.join(e['missing'])}[/]: {escape(e['install'])}")
        extras.add_row(e["extra"], ", ".join(e["modules"]), status)
    console.print(extras)


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


def _names(spec: Optional[str]) -> list[str]:
    return [n.strip() for n in (spec or "").split(",") if n.strip()]


def _suites(spec: str) -> list[str]:
    names = list(SUITES) if spec == "all" else _names(spec)
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


def _spec(args: argparse.Namespace) -> ReportSpec:
    from .report import ReportSpec

    return ReportSpec(metrics=tuple(_names(args.metrics)),
                      baselines=tuple(_names(args.baseline)), pivot=args.pivot)


def _report(args: argparse.Namespace, console: Console) -> int:
    from .report import write_report
    from .results import load_results

    out = args.out
    if out is None:
        if len(args.source) != 1 or not (args.source[0] / "cells").is_dir():
            raise ValueError("give --out FOLDER for the report: the source is not a "
                             "single folder a run wrote")
        out = args.source[0]
    records, unreadable, machine = load_results(args.source, args.suite)
    for _, reason in unreadable:
        console.print(f"[yellow]left out: {escape(reason)}[/]")
    if not records:
        raise ValueError(f"no result record in {', '.join(map(str, args.source))}")
    path = write_report(out, records, spec=_spec(args), machine=machine,
                        unreadable=unreadable)
    console.print(f"report: {path}")
    return 0


def _run(args: argparse.Namespace, console: Console) -> int:
    from .runner import parse_seeds, run_suites

    suites = _suites(args.suite)
    seeds = parse_seeds(args.seeds, args.first_seed)
    if args.root is not None and not args.root.is_dir():
        if not (args.download and not args.root.exists()):
            console.print(f"[red]--root {args.root} is not a folder[/]")
            return 2
        args.root.mkdir(parents=True)
    datasets = _names(args.datasets)
    if not _ogb_ready(args.root, datasets, args.download, console):
        return 2
    records = run_suites(suites, root=args.root, out=args.out, seeds=seeds,
                         quick=args.quick, datasets=datasets or None,
                         methods=_names(args.methods) or None, backend=args.backend,
                         resume=not args.no_resume, ray_address=args.ray_address,
                         threads=args.threads, report=_spec(args), console=console)
    if not records:
        console.print("[red]nothing ran: every suite was skipped[/]")
        return 2
    return 1 if any("error" in r for r in records) else 0


def _with_default_action(argv: list[str]) -> list[str]:
    """``graphbias bench --suite ...`` means ``graphbias bench run --suite ...``."""
    if argv[:1] == ["bench"] and (len(argv) == 1 or argv[1] not in
                                  ("run", "report", "-h", "--help")):
        return ["bench", "run"] + argv[1:]
    return argv


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the ``graphbias`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success, 1 some benchmark cell failed, 2 bad usage or
        input (the message says what).

    Examples
    --------
    >>> main(["--version"])
    graphbias 0.1.0
    0
    """
    argv = _with_default_action(list(sys.argv[1:] if argv is None else argv))
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    console = Console()
    try:
        if args.command == "info":
            _info(console)
            return 0
        if args.command == "datasets":
            return _datasets(args.root, console)
        if args.command == "make-ogb":
            return _make_ogb(args, console)
        return _report(args, console) if args.action == "report" else _run(args, console)
    except (ValueError, FileNotFoundError) as err:
        console.print(f"[red]error:[/] {escape(str(err))}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
