"""The Markdown report of benchmark results: tables, paired tests and PNG figures.

Per suite: tables of mean ± std over seeds (datasets that record the same metrics
share a table), optional paired comparisons against baseline methods (paired
t-tests over the seeds both ran), an optional dataset x method table of one metric
and PNG figures (bars per metric; lines for curves a cell records, such as a
windowed metric over a stream). One unit per metric everywhere: accuracies
(metrics named ``*acc``, ``acc_*`` or ``*accuracy*``) in %, timings
(``*seconds*``, ``wall_s``, ``ms*``) as the median over seeds, in tables and
figures alike. ``graphbias bench report SOURCE``
rebuilds the report at any time from a run's cell files or from recorded
JSON-lines results.
"""
from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from .results import (metric_values, scan_cells, slug, summarise, write_tables,
                      write_text_atomic)

__all__ = ["ReportSpec", "format_metric", "column_title", "ordered_metrics",
           "table_metrics", "plotted_metrics", "paired_comparison", "plot_suite", "curve_fields",
           "plot_curves", "report_markdown", "write_report"]

_NOT_PLOTTED = {"wall_s", "seed"}
_MARKERS = {"drift_at"}
_MAX_PANELS = 6


@dataclass(frozen=True)
class ReportSpec:
    """What a report shows besides the tables of every metric.

    Parameters
    ----------
    metrics : tuple of str, default=()
        The metrics of the tables and figures, in this order (``"a/b"``: the
        ratio of two metrics per run, e.g. ``"generator_seconds/seconds"``);
        empty: every recorded metric, headline ones first.
    baselines : tuple of str, default=()
        Methods to compare every other method of the same dataset against, on the
        first of ``metrics`` (default: the headline metric): mean ± std, the mean
        paired difference and ratio over the seeds both ran, and the p-value of a
        paired t-test.
    pivot : str or None, default=None
        A metric shown as a dataset x method table per suite.

    Examples
    --------
    >>> ReportSpec(metrics=("pehe",), baselines=("gnn-gnn",)).baselines
    ('gnn-gnn',)
    """

    metrics: tuple[str, ...] = ()
    baselines: tuple[str, ...] = ()
    pivot: Optional[str] = None


def _percent(metric: str) -> bool:
    return metric.endswith("acc") or metric.startswith("acc_") or "accuracy" in metric


def _timing(metric: str) -> bool:
    return "seconds" in metric or metric == "wall_s" or metric.split("_")[0] == "ms"


def _bookkeeping(metric: str) -> bool:
    return _timing(metric) or metric == "epochs"


def column_title(metric: str) -> str:
    """A metric's column title with its unit or statistic.

    Parameters
    ----------
    metric : str
        The metric's name.

    Returns
    -------
    str
        ``"name (%)"`` for accuracies, ``"name (median)"`` for timings, else the name.

    Examples
    --------
    >>> column_title("test_acc"), column_title("seconds"), column_title("pehe")
    ('test_acc (%)', 'seconds (median)', 'pehe')
    """
    if _percent(metric):
        return f"{metric} (%)"
    return f"{metric} (median)" if _timing(metric) else metric


def _decimals(x: float) -> int:
    """Three decimals below 10, two below 100, one below 1,000, none above."""
    return next((d for d, bound in ((3, 10), (2, 100), (1, 1000)) if abs(x) < bound), 0)


def _number(x: float, decimals: int) -> str:
    return f"{x:.2e}" if x != 0 and abs(x) < 1e-3 else f"{x:,.{decimals}f}"


def _scale(metric: str) -> float:
    return 100.0 if _percent(metric) else 1.0


def _shown(metric: str, value: dict[str, float]) -> float:
    """The statistic a table or figure shows: the median of a timing, else the
    mean, in the metric's unit."""
    return value["median"] if _timing(metric) else _scale(metric) * value["mean"]


def format_metric(metric: str, value: dict[str, float]) -> str:
    """A metric's summary as a table shows it.

    Parameters
    ----------
    metric : str
        The metric's name: accuracies (``*acc``, ``acc_*``) are shown in % with one
        decimal, timings as the median, others as ``mean ± std`` with three
        decimals below 10, two below 100, one below 1,000 and none above (a
        spread below the last decimal with two significant digits; an integral
        value without spread without decimals).
    value : dict
        ``{"mean", "std", "median"}`` (and optionally ``"n"``) from
        :func:`~graphbias.bench.results.summarise`.

    Returns
    -------
    str
        The formatted value; ``± std`` only when the spread is not zero.

    Examples
    --------
    >>> format_metric("test_acc", {"mean": 0.8176, "std": 0.0061, "median": 0.82})
    '81.8 ± 0.6'
    >>> format_metric("pehe", {"mean": 0.5343, "std": 0.1447, "median": 0.5})
    '0.534 ± 0.145'
    >>> format_metric("seconds", {"mean": 3.0, "std": 1.0, "median": 2.5})
    '2.500'
    >>> format_metric("mae", {"mean": 0.3333, "std": 0.00045, "median": 0.3333})
    '0.333 ± 0.00045'
    >>> format_metric("epochs", {"mean": 8.0, "std": 0.0, "median": 8.0})
    '8'
    """
    shown = _shown(metric, value)
    std = _scale(metric) * value["std"]
    if std <= 1e-9 * abs(shown):        # rounding noise of identical runs
        std = 0.0
    if _percent(metric):
        decimals = 1
    else:
        decimals = 0 if not std and float(shown).is_integer() else _decimals(shown)
    text = _number(shown, decimals)
    if _timing(metric) or not std:
        return text
    spread = f"{std:.2g}" if std < 10.0 ** -decimals else _number(std, decimals)
    return f"{text} ± {spread}"


def ordered_metrics(metrics: Sequence[str]) -> list[str]:
    """Headline metrics (``test_*`` and accuracies) first, bookkeeping (timings,
    epochs) last, alphabetical within each group.

    Parameters
    ----------
    metrics : sequence of str
        Metric names.

    Returns
    -------
    list of str
        The names in report order.

    Examples
    --------
    >>> ordered_metrics(["seconds", "mae@3", "test_mae", "epochs", "val_acc"])
    ['test_mae', 'val_acc', 'mae@3', 'epochs', 'seconds']
    """
    def rank(metric: str) -> tuple[int, str]:
        if metric.startswith("test_") or _percent(metric):
            return 0, metric
        return (2 if _bookkeeping(metric) else 1), metric

    return sorted(set(metrics), key=rank)


def table_metrics(rows: list[dict[str, Any]]) -> list[str]:
    """The metrics of summarised rows in :func:`ordered_metrics` order, without
    ``drift_at`` (where a recorded curve changes: a marker, not a result).

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`~graphbias.bench.results.summarise`.

    Returns
    -------
    list of str
        The metric names.

    Examples
    --------
    >>> one = {"mean": 1.0, "std": 0.0, "median": 1.0}
    >>> table_metrics([{"method": "m", "runs": 1, "seconds": one, "f1": one,
    ...                 "drift_at": one}])
    ['f1', 'seconds']
    """
    return ordered_metrics([k for r in rows for k, v in r.items()
                            if isinstance(v, dict) and k not in _MARKERS])


def plotted_metrics(rows: list[dict[str, Any]]) -> list[str]:
    """At most six metrics with a finite value, in :func:`ordered_metrics` order.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`~graphbias.bench.results.summarise`.

    Returns
    -------
    list of str
        The metrics to draw; ``["wall_s"]`` when no other has a value.
    """
    finite = [m for m in table_metrics(rows) if m not in _NOT_PLOTTED
              and any(np.isfinite(r[m]["mean"]) for r in rows if m in r)]
    return finite[:_MAX_PANELS] or ["wall_s"]


def _markdown(head: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(cells) + " |" for cells in body] + [""]


def _metric_tables(rows: list[dict[str, Any]], metrics: Sequence[str]) -> list[str]:
    """One table per run of consecutive datasets that record the same metrics."""
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    groups: list[tuple[list[str], list[str]]] = []
    for dataset in datasets:
        own = [m for m in metrics if any(m in r for r in rows if r["dataset"] == dataset)]
        if groups and groups[-1][1] == own:
            groups[-1][0].append(dataset)
        else:
            groups.append(([dataset], own))
    lines: list[str] = []
    for names, own in groups:
        body = [[r["dataset"], r["method"], str(r["runs"])]
                + [format_metric(m, r[m]) if m in r else "" for m in own]
                for r in rows if r["dataset"] in names]
        lines += _markdown(["dataset", "method", "runs"] + [column_title(m) for m in own],
                           body)
    return lines


def _paired_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided paired t-test p-value; NaN with fewer than two pairs or when every
    difference is the same (the test is undefined)."""
    from scipy.stats import ttest_rel

    diff = a - b
    if diff.size < 2 or np.ptp(diff) == 0:
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(ttest_rel(a, b).pvalue)


def paired_comparison(records: Sequence[dict[str, Any]], baseline: str,
                      metric: str) -> list[dict[str, Any]]:
    """Every method against ``baseline`` on ``metric``, per dataset, over the seeds
    both ran.

    Parameters
    ----------
    records : sequence of dict
        Cell records of one suite.
    baseline : str
        The method to compare against; datasets without it are left out.
    metric : str
        The metric (``"a/b"`` for a per-run ratio).

    Returns
    -------
    list of dict
        Per (dataset, method), baseline first: ``dataset``, ``method``, ``runs``,
        ``summary`` (``{"mean", "std", "median", "n"}`` over the method's runs),
        ``paired`` (seeds both ran), ``difference`` and ``difference_std`` (mean
        and std of method minus baseline), ``ratio`` and ``ratio_std`` (of method /
        baseline; NaN if a baseline value is 0) and ``p`` (two-sided paired t-test,
        ``scipy.stats.ttest_rel``; NaN with fewer than two pairs or identical
        differences).

    Examples
    --------
    >>> rs = [{"dataset": "d", "method": m, "seed": s, "err": v}
    ...       for m, vs in (("base", [1.0, 2.0, 3.0]), ("new", [2.0, 2.5, 4.5]))
    ...       for s, v in enumerate(vs)]
    >>> row = paired_comparison(rs, "base", "err")[1]
    >>> row["method"], row["paired"], row["difference"], round(row["p"], 3)
    ('new', 3, 1.0, 0.074)
    """
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        by.setdefault((r["dataset"], r["method"]), []).append(r)
    out = []
    for dataset in dict.fromkeys(d for d, _ in by):
        if (dataset, baseline) not in by:
            continue
        ref = metric_values(by[(dataset, baseline)], metric)
        methods = [baseline] + [m for d, m in by if d == dataset and m != baseline]
        for method in methods:
            values = metric_values(by[(dataset, method)], metric)
            seeds = sorted(set(values) & set(ref), key=str)
            a = np.array([values[s] for s in seeds])
            b = np.array([ref[s] for s in seeds])
            v = np.array(list(values.values()))
            summary = ({"mean": float(v.mean()), "std": float(v.std()),
                        "median": float(np.median(v)), "n": int(v.size)} if v.size else None)
            ratio = a / b if seeds and np.all(b != 0) else np.array([math.nan])
            diff = a - b if seeds else np.array([math.nan])
            out.append({"dataset": dataset, "method": method,
                        "runs": len(by[(dataset, method)]), "summary": summary,
                        "paired": len(seeds), "difference": float(diff.mean()),
                        "difference_std": float(diff.std()), "ratio": float(ratio.mean()),
                        "ratio_std": float(ratio.std()), "p": _paired_p(a, b)})
    return out


def _signed(text: str) -> str:
    return text if text.startswith("-") else f"+{text}"


def _paired_table(records: Sequence[dict[str, Any]], baseline: str,
                  metric: str) -> list[str]:
    rows = paired_comparison(records, baseline, metric)
    if not rows:
        return []
    unit = " (points)" if _percent(metric) else ""
    head = ["dataset", "method", "runs", column_title(metric), "paired seeds",
            f"difference vs {baseline}{unit}", f"ratio to {baseline}", "p (paired t-test)"]
    body = []
    for r in rows:
        cells = [r["dataset"], r["method"], str(r["runs"]),
                 format_metric(metric, r["summary"]) if r["summary"] else ""]
        if r["method"] == baseline:
            body.append(cells + [str(r["paired"]), "—", "—", "—"])
            continue
        diff = {"mean": r["difference"], "std": r["difference_std"],
                "median": r["difference"]}
        ratio = {"mean": r["ratio"], "std": r["ratio_std"], "median": r["ratio"]}
        body.append(cells + [str(r["paired"]),
                             "" if math.isnan(r["difference"]) else
                             _signed(format_metric(metric, diff)),
                             "" if math.isnan(r["ratio"]) else format_metric("ratio", ratio),
                             "—" if math.isnan(r["p"]) else f"{r['p']:.1e}"])
    return [f"### Paired comparison against {baseline} on {metric}", "",
            f"Mean ± std over each method's seeds; difference (method minus {baseline}) "
            f"and ratio, mean ± std over the seeds both ran; two-sided paired t-test on "
            f"those seeds (— when undefined: fewer than two pairs or identical "
            f"differences).", ""] + _markdown(head, body)


def _pivot_table(rows: list[dict[str, Any]], metric: str) -> list[str]:
    methods = list(dict.fromkeys(r["method"] for r in rows if metric in r))
    if not methods:
        return []
    index = {(r["dataset"], r["method"]): r for r in rows}
    body = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        cells = [format_metric(metric, index[(dataset, m)][metric])
                 if metric in index.get((dataset, m), {}) else "" for m in methods]
        if any(cells):
            body.append([dataset] + cells)
    return [f"### {column_title(metric)} by dataset and method", ""] + _markdown(
        ["dataset"] + methods, body)


def plot_suite(suite: str, rows: list[dict[str, Any]], path: Path,
               metrics: Optional[Sequence[str]] = None) -> Path:
    """Grouped bars of each metric: datasets on the x axis, one bar per method.

    Bars show the statistic the tables show in the same unit (accuracies in %,
    the median of timings, else the mean); error bars are ± std, clipped at zero
    for a non-negative mean, and absent for timings.

    Parameters
    ----------
    suite : str
        The suite's name (the figure's title).
    rows : list of dict
        Rows of :func:`~graphbias.bench.results.summarise`.
    path : Path
        The PNG file to write.
    metrics : sequence of str, optional
        The panels (at most six); default :func:`plotted_metrics`.

    Returns
    -------
    Path
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = list(metrics or plotted_metrics(rows))[:_MAX_PANELS]
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.8),
                             squeeze=False)
    width = 0.8 / max(len(methods), 1)
    index = {(r["dataset"], r["method"]): r for r in rows}
    for ax, metric in zip(axes[0], metrics):
        for j, method in enumerate(methods):
            values = [index.get((d, method), {}).get(metric) for d in datasets]
            height = np.array([_shown(metric, v) if v else np.nan for v in values])
            std = np.array([0.0 if not v or _timing(metric) else _scale(metric) * v["std"]
                            for v in values])
            lower = np.where(height >= 0, np.minimum(std, np.abs(height)), std)
            ax.bar(np.arange(len(datasets)) + (j - (len(methods) - 1) / 2) * width,
                   height, width, label=method, capsize=2,
                   yerr=None if _timing(metric) else np.vstack([np.nan_to_num(lower), std]),
                   color=plt.cm.tab20(j % 20) if len(methods) > 10 else None)
        ax.set_xticks(np.arange(len(datasets)), datasets, rotation=20, ha="right")
        ax.set_title(column_title(metric))
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=min(len(methods), 4), fontsize="small", frameon=False)
    fig.suptitle(f"suite {suite}", y=1.03)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def curve_fields(record: dict[str, Any]) -> list[str]:
    """The fields of ``record`` that hold a curve: a non-empty list of points, each
    a dict with a numeric ``t`` (e.g. instances seen) and metrics at ``t``.

    Parameters
    ----------
    record : dict
        A cell record.

    Returns
    -------
    list of str
        The curve fields, in the record's order.

    Examples
    --------
    >>> curve_fields({"seed": 0, "f1": 0.5, "curve": [{"t": 250, "micro_f1": 0.4}]})
    ['curve']
    """
    return [k for k, v in record.items() if isinstance(v, list) and v
            and all(isinstance(p, dict) and isinstance(p.get("t"), (int, float))
                    for p in v)]


def _mean_curve(records: list[dict[str, Any]], field: str, metric: str
                ) -> tuple[np.ndarray, np.ndarray]:
    """``t`` and the mean over records of ``metric`` at each ``t`` any record has."""
    by_t: dict[float, list[float]] = {}
    for r in records:
        for point in r.get(field) or ():
            value = point.get(metric)
            if isinstance(value, (int, float)) and math.isfinite(value):
                by_t.setdefault(float(point["t"]), []).append(float(value))
    t = np.array(sorted(by_t))
    return t, np.array([np.mean(by_t[x]) for x in t])


def plot_curves(title: str, records: list[dict[str, Any]], field: str, path: Path) -> Path:
    """Lines of every metric of the ``field`` curves against ``t``: one panel per
    metric (at most six), one line per method (the mean over its seeds at each
    ``t``), accuracies in %, and a dashed vertical line at each ``drift_at`` the
    records give (where the stream changes).

    Parameters
    ----------
    title : str
        The figure's title.
    records : list of dict
        Cell records of one dataset with the curve ``field``.
    field : str
        The curve field (see :func:`curve_fields`).
    path : Path
        The PNG file to write.

    Returns
    -------
    Path
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = list(dict.fromkeys(k for r in records for p in r.get(field) or ()
                                 for k, v in p.items()
                                 if k != "t" and isinstance(v, (int, float))))[:_MAX_PANELS]
    methods = list(dict.fromkeys(r["method"] for r in records))
    fig, axes = plt.subplots(len(metrics), 1, figsize=(8, 2.3 * len(metrics) + 0.5),
                             sharex=True, squeeze=False)
    drifts = sorted({r["drift_at"] for r in records
                     if isinstance(r.get("drift_at"), (int, float))})
    for ax, metric in zip(axes[:, 0], metrics):
        for method in methods:
            t, y = _mean_curve([r for r in records if r["method"] == method], field, metric)
            ax.plot(t, _scale(metric) * y, label=method)
        for x in drifts:
            ax.axvline(x, color="grey", ls="--")
        ax.set_ylabel(f"{metric} (%)" if _percent(metric) else metric)
    axes[0, 0].legend(fontsize="small")
    axes[-1, 0].set_xlabel("t")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _curve_figures(suite: str, records: list[dict[str, Any]], plots: Path) -> list[str]:
    lines = []
    for dataset in dict.fromkeys(r["dataset"] for r in records):
        mine = [r for r in records if r["dataset"] == dataset]
        for field in dict.fromkeys(f for r in mine for f in curve_fields(r)):
            name = f"{slug(suite)}-{slug(dataset)}-{slug(field)}.png"
            plot_curves(f"{suite} / {dataset}: {field}",
                        [r for r in mine if field in curve_fields(r)], field, plots / name)
            lines += [f"![{dataset} {field}](plots/{name})", ""]
    return lines


def _check_spec(records: Sequence[dict[str, Any]], spec: ReportSpec) -> None:
    """A ValueError for a metric, baseline or pivot that no record has."""
    recorded = sorted({k for r in records for k in r})
    for metric in spec.metrics + ((spec.pivot,) if spec.pivot else ()):
        parts = metric.split("/", 1) if "/" in metric and metric not in recorded else [metric]
        unknown = [p for p in parts if p not in recorded]
        if unknown:
            raise ValueError(f"no record has the metric {unknown[0]!r}; recorded: "
                             f"{', '.join(recorded)}")
    methods = {r["method"] for r in records}
    for baseline in spec.baselines:
        if baseline not in methods:
            raise ValueError(f"no record has the baseline method {baseline!r}; methods: "
                             f"{', '.join(sorted(methods))}")


def _natural(text: str) -> list[Any]:
    """Sort key that orders the numbers inside names by value (p0.05 < p0.1)."""
    parts = re.split(r"(\d+(?:\.\d+)?)", text)
    return [(0, float(p), "") if i % 2 else (1, 0.0, p) for i, p in enumerate(parts)]


def _suite_section(suite: str, records: list[dict[str, Any]], spec: ReportSpec,
                   plots: Path) -> list[str]:
    order = {d: i for i, d in enumerate(sorted({r["dataset"] for r in records},
                                               key=_natural))}
    records = sorted(records, key=lambda r: order[r["dataset"]])
    ok = [r for r in records if "error" not in r]
    failed = [r for r in records if "error" in r]
    lines = [f"## {suite}", "",
             f"{len(ok)} cells finished, {len(failed)} failed. Mean ± std over seeds "
             f"(population std); accuracies in %, timings as the median over seeds.", ""]
    if ok:
        rows = summarise(ok, spec.metrics or None)
        metrics = list(spec.metrics) or table_metrics(rows)
        lines += _metric_tables(rows, metrics)
        compared = metrics[0] if metrics else None
        for baseline in spec.baselines if compared else ():
            lines += _paired_table(ok, baseline, compared)
        if spec.pivot:
            lines += _pivot_table(summarise(ok, [spec.pivot]), spec.pivot)
        shown = [m for m in metrics if m not in _NOT_PLOTTED
                 and any(m in r for r in rows)] if spec.metrics else None
        plot_suite(suite, rows, plots / f"{suite}.png", shown or None)
        lines += [f"![{suite}](plots/{suite}.png)", ""]
        lines += _curve_figures(suite, ok, plots)
    for r in failed:
        lines.append(f"- failed: {r['dataset']} / {r['method']} / seed {r['seed']}: "
                     f"{r['error']}")
    return lines + [""]


def report_markdown(records: Sequence[dict[str, Any]], plots: Path,
                    spec: Optional[ReportSpec] = None,
                    machine: Optional[dict[str, Any]] = None,
                    unreadable: Sequence[tuple[Path, str]] = ()) -> str:
    """The report of ``records`` as Markdown, drawing one figure per suite.

    Parameters
    ----------
    records : sequence of dict
        Cell records (failed ones carry an ``error``).
    plots : Path
        The folder for ``<suite>.png``; the report links them as ``plots/...``.
    spec : ReportSpec, optional
        Metrics, baselines and pivot (default: every metric, no comparison).
    machine : dict, optional
        The machine the results come from (``machine.json``).
    unreadable : sequence of (Path, str)
        Cell files that could not be read, listed at the end.

    Returns
    -------
    str
        The report.

    Raises
    ------
    ValueError
        A metric, pivot or baseline of ``spec`` appears in no record.
    """
    spec = spec or ReportSpec()
    _check_spec(records, spec)
    lines = ["# graphbias benchmark report", ""]
    if machine:
        lines += ["| machine | |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in machine.items()] + [""]
    for suite in dict.fromkeys(r["suite"] for r in records):
        lines += _suite_section(suite, [r for r in records if r["suite"] == suite],
                                spec, plots)
    if unreadable:
        lines += ["## Unreadable cell files", ""]
        lines += [f"- {reason}" for _, reason in unreadable] + [""]
    return "\n".join(lines)


def write_report(out: Path, records: Optional[Sequence[dict[str, Any]]] = None, *,
                 spec: Optional[ReportSpec] = None,
                 machine: Optional[dict[str, Any]] = None,
                 unreadable: Sequence[tuple[Path, str]] = ()) -> Path:
    """Writes ``results.jsonl``, ``results.csv``, ``plots/<suite>.png`` and
    ``report.md`` into ``out``.

    Parameters
    ----------
    out : Path
        The folder to write into. Without ``records`` it must be a benchmark run's
        folder: the report covers its cell files (unreadable ones are listed in
        the report) and its ``machine.json``.
    records : sequence of dict, optional
        The records to report instead of ``out``'s cells.
    spec : ReportSpec, optional
        Metrics, baselines and pivot of the report.
    machine : dict, optional
        The machine of ``records`` (default: ``out/machine.json`` when present).
    unreadable : sequence of (Path, str)
        Cell files of ``records``' sources that could not be read.

    Returns
    -------
    Path
        The report's path.

    Raises
    ------
    ValueError
        ``out`` is a file, or holds no ``cells/`` folder and no ``records`` were
        given, or ``spec`` names something no record has.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file; the report needs a folder")
    if records is None:
        if not (out / "cells").is_dir():
            raise ValueError(f"{out} holds no benchmark results (no cells/ folder)")
        records, unreadable = scan_cells(out)
    if machine is None and (out / "machine.json").is_file():
        machine = json.loads((out / "machine.json").read_text())
    text = report_markdown(records, out / "plots", spec, machine, unreadable)
    out.mkdir(parents=True, exist_ok=True)
    write_tables(out, list(records))
    path = out / "report.md"
    write_text_atomic(path, text)
    return path
