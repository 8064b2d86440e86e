"""The Markdown report of a benchmark folder: one table and one PNG figure per suite.

``graphbias bench report OUT`` rebuilds it from ``OUT/cells`` at any time.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .results import read_cells, summarise, write_tables

__all__ = ["format_metric", "write_report", "plot_suite", "plotted_metrics"]

_NOT_PLOTTED = {"wall_s", "seed"}
_MAX_PANELS = 6
_BOOKKEEPING = ("epochs", "seconds")


def format_metric(metric: str, value: dict[str, float]) -> str:
    """``mean ± std``; metrics named ``*acc`` are shown in %."""
    mean, std = value["mean"], value["std"]
    if metric.endswith("acc"):
        mean, std = 100 * mean, 100 * std
        return f"{mean:.1f} ± {std:.1f}" if std else f"{mean:.1f}"
    return f"{mean:.3g} ± {std:.2g}" if std else f"{mean:.3g}"


def _metrics(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({k for r in rows for k, v in r.items() if isinstance(v, dict)})


def plotted_metrics(rows: list[dict[str, Any]]) -> list[str]:
    """At most six metrics with a finite value: headline ones (``test_*``, ``*acc``)
    first, bookkeeping (epochs, seconds) last, alphabetical within each group."""
    def rank(metric: str) -> int:
        if metric.startswith("test_") or metric.endswith("acc"):
            return 0
        return 2 if any(b in metric for b in _BOOKKEEPING) else 1

    finite = [m for m in _metrics(rows) if m not in _NOT_PLOTTED
              and any(np.isfinite(r[m]["mean"]) for r in rows if m in r)]
    return sorted(finite, key=rank)[:_MAX_PANELS] or ["wall_s"]


def _markdown_table(rows: list[dict[str, Any]]) -> list[str]:
    metrics = _metrics(rows)
    head = ["dataset", "method", "runs"] + metrics
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["dataset"], r["method"], str(r["runs"])]
        cells += [format_metric(m, r[m]) if m in r else "" for m in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def plot_suite(suite: str, rows: list[dict[str, Any]], path: Path) -> Path:
    """Grouped bars (mean ± std over seeds) of each of :func:`plotted_metrics`:
    datasets on the x axis, one bar per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = plotted_metrics(rows)
    datasets = sorted({r["dataset"] for r in rows})
    methods = sorted({r["method"] for r in rows})
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.8),
                             squeeze=False)
    width = 0.8 / max(len(methods), 1)
    index = {(r["dataset"], r["method"]): r for r in rows}
    for ax, metric in zip(axes[0], metrics):
        for j, method in enumerate(methods):
            mean = [index.get((d, method), {}).get(metric, {}).get("mean", np.nan)
                    for d in datasets]
            std = [index.get((d, method), {}).get(metric, {}).get("std", 0.0)
                   for d in datasets]
            ax.bar(np.arange(len(datasets)) + (j - (len(methods) - 1) / 2) * width,
                   mean, width, yerr=std, label=method, capsize=2,
                   color=plt.cm.tab20(j % 20) if len(methods) > 10 else None)
        ax.set_xticks(np.arange(len(datasets)), datasets, rotation=20, ha="right")
        ax.set_title(metric)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=min(len(methods), 4), fontsize="small", frameon=False)
    fig.suptitle(f"suite {suite}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def write_report(out: Path) -> Path:
    """Rebuilds ``results.jsonl``, ``results.csv``, ``plots/<suite>.png`` and
    ``report.md`` in ``out`` from its cell files; returns the report's path."""
    out = Path(out)
    if not (out / "cells").is_dir():
        raise ValueError(f"{out} holds no benchmark results (no cells/ folder)")
    records = read_cells(out)
    write_tables(out, records)
    lines = ["# graphbias benchmark report", ""]
    machine = out / "machine.json"
    if machine.exists():
        info = json.loads(machine.read_text())
        lines += ["| machine | |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in info.items()] + [""]
    for suite in sorted({r["suite"] for r in records}):
        ok = [r for r in records if r["suite"] == suite and "error" not in r]
        failed = [r for r in records if r["suite"] == suite and "error" in r]
        lines += [f"## {suite}", "",
                  f"{len(ok)} cells finished, {len(failed)} failed; mean ± std over seeds.",
                  ""]
        if ok:
            rows = summarise(ok)
            lines += _markdown_table(rows) + [""]
            plot_suite(suite, rows, out / "plots" / f"{suite}.png")
            lines += [f"![{suite}](plots/{suite}.png)", ""]
        for r in failed:
            lines.append(f"- failed: {r['dataset']} / {r['method']} / seed {r['seed']}: "
                         f"{r['error']}")
        lines.append("")
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
