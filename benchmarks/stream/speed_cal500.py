"""Throughput on CAL500 (174 labels): iHOMER against one Hoeffding tree per label.

Both run prequentially over the whole stream in this process, alternating, ``REPEATS``
times; the script prints the median instances per second of each and their ratio, and
appends one JSON line per run to ``speed_cal500.jsonl`` beside it.

    python benchmarks/stream/speed_cal500.py ../shared/data
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from graphbias.data.multilabel import load_cal500
from graphbias.stream import IHOMER, prequential
from graphbias.stream.baselines import br_hoeffding_trees

REPEATS = 3


def main(root: str) -> None:
    cal = load_cal500(root)
    out = Path(__file__).with_name("speed_cal500.jsonl")
    speeds: dict[str, list[float]] = {"ihomer": [], "br-hoeffding": []}
    with out.open("a") as fh:
        for repeat in range(REPEATS):
            for name, make in (("ihomer", IHOMER), ("br-hoeffding", br_hoeffding_trees)):
                res = prequential(make(), cal)
                speeds[name].append(res["instances_per_s"])
                fh.write(json.dumps({"method": name, "repeat": repeat,
                                     "instances_per_s": res["instances_per_s"],
                                     "micro_f1": res["micro_f1"]}) + "\n")
                print(name, repeat, round(res["instances_per_s"], 1), flush=True)
    med = {k: statistics.median(v) for k, v in speeds.items()}
    print(f"median instances/s: {med}; iHOMER / BR = {med['ihomer'] / med['br-hoeffding']:.1f}x")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
