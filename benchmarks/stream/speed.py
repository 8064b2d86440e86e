"""Throughput of iHOMER against one Hoeffding tree per label, alternating in one process.

On CAL500 (whole stream, 174 labels; default settings) and on the first 300 instances
of the sparse bag-of-words stream of the bench suite (2,000 words, 150 labels;
``metric="cosine"``), both methods run through River's progressive validation
(:func:`graphbias.stream.evaluate_stream`, which times predict, learn and River's metric
updates), alternating, ``REPEATS`` times. The script prints the median instances per
second of each and their ratio, and writes one JSON line per run to ``speed.jsonl``
beside it.

    python benchmarks/stream/speed.py ../shared/data
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any, Callable

from graphbias.data.multilabel import load_cal500
from graphbias.data.synthetic.multilabel import sparse_multilabel_stream
from graphbias.stream import IHOMER, evaluate_stream
from graphbias.stream.baselines import br_hoeffding_trees

REPEATS = 3


def main(root: str) -> None:
    streams = {"cal500": (load_cal500(root), IHOMER),
               "sparse-300": (sparse_multilabel_stream(5000, seed=0).head(300),
                              lambda: IHOMER(metric="cosine"))}
    out = Path(__file__).with_name("speed.jsonl")
    with out.open("w") as fh:
        for name, (data, ihomer) in streams.items():
            makers: dict[str, Callable[[], Any]] = {"ihomer": ihomer,
                                                    "br-hoeffding": br_hoeffding_trees}
            speeds: dict[str, list[float]] = {k: [] for k in makers}
            for repeat in range(REPEATS):
                for method, make in makers.items():
                    res = evaluate_stream(make(), data)
                    speeds[method].append(res["instances_per_s"])
                    fh.write(json.dumps({"stream": name, "method": method, "repeat": repeat,
                                         "instances_per_s": res["instances_per_s"],
                                         "micro_f1": res["micro_f1"]}) + "\n")
                    fh.flush()
                    print(name, method, repeat, round(res["instances_per_s"], 1), flush=True)
            med = {k: statistics.median(v) for k, v in speeds.items()}
            print(f"{name}: median instances/s {med}; iHOMER / BR = "
                  f"{med['ihomer'] / med['br-hoeffding']:.1f}x", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
