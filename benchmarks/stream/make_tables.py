"""Markdown tables (mean ± std over seeds) from a ``graphbias bench --suite stream``
output folder.

    python benchmarks/stream/make_tables.py benchmarks/stream/full
"""
from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

import numpy as np

ORDER = ["ihomer", "ihomer-random-clusters", "ihomer-one-cluster", "ihomer-lp-subset",
         "ihomer-no-drift", "br-hoeffding", "classifier-chain", "isoup-thresholded",
         "knn-br"]
COLUMNS = [("subset_acc", "subset acc"), ("hamming_loss", "Hamming loss"),
           ("example_f1", "example F1"), ("micro_f1", "micro-F1"), ("macro_f1", "macro-F1"),
           ("inst_per_s", "instances/s"), ("recovery", "recovery"), ("peak_mb", "peak MiB"),
           ("clusters", "clusters")]


def _fmt(values: list[float], key: str) -> str:
    digits = 0 if key in ("inst_per_s", "recovery") else 1 if key in ("peak_mb", "clusters") \
        else 3
    mean = f"{np.mean(values):.{digits}f}"
    return mean if len(values) == 1 else f"{mean} ± {np.std(values):.{digits}f}"


def tables(folder: Path) -> str:
    rows = collections.defaultdict(list)
    for path in sorted(folder.glob("cells/stream/*.json")):
        record = json.loads(path.read_text())
        if "error" not in record:
            rows[(record["dataset"], record["method"])].append(record)
    out = []
    for dataset in dict.fromkeys(d for d, _ in rows):
        methods = sorted((m for d, m in rows if d == dataset), key=ORDER.index)
        cols = [(k, n) for k, n in COLUMNS if any(k in r for m in methods
                                                   for r in rows[(dataset, m)])]
        out.append(f"\n**{dataset}**\n")
        out.append("| method | runs | " + " | ".join(n for _, n in cols) + " |")
        out.append("|---" * (len(cols) + 2) + "|")
        for m in methods:
            rs = rows[(dataset, m)]
            cells = [_fmt([r[k] for r in rs if k in r], k) if any(k in r for r in rs) else ""
                     for k, _ in cols]
            out.append(f"| {m} | {len(rs)} | " + " | ".join(cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    print(tables(Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/stream/full")))
