"""Peak traced memory of iHOMER over a long sparse bag-of-words stream.

The stream of the bench suite's ``sparse-100k`` cell (2,000 words, 150 labels in 30
groups, about 7 words per instance, a drift of the label groups at 50,000; seed 0) run
through River's progressive validation by ``IHOMER(metric="cosine")`` with Python's
allocations traced. Every ``EVERY`` instances a JSON line goes to
``sparse_memory.jsonl`` beside this script, written as the run goes (so a run stopped
early keeps what it reached): instances, the peak traced MiB so far, the traced MiB
now, the pickled model's MiB (pickled after reading the peak, which then restarts: the
pickle's own bytes are not counted), the tree's leaves, the label clusters and the seconds
since the start (tracing slows the run down: this is not a throughput measurement).

    python benchmarks/stream/sparse_memory.py [max_instances]
"""
from __future__ import annotations

import json
import pickle
import sys
import time
import tracemalloc
from pathlib import Path
from typing import IO, Any

from graphbias.data.synthetic.multilabel import sparse_multilabel_stream
from graphbias.stream import IHOMER, evaluate_stream

N = 100_000
EVERY = 2_000


class _Recorder:
    """An :func:`evaluate_stream` callback writing one memory line per curve point."""

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.t = 0
        self.peak = 0
        self.start = time.perf_counter()

    def __call__(self, model: Any) -> dict[str, float]:
        self.t += EVERY
        now, peak = tracemalloc.get_traced_memory()
        self.peak = max(self.peak, peak)
        size = len(pickle.dumps(model))
        tracemalloc.reset_peak()  # the pickle's own bytes are not the model's peak
        row = {"instances": self.t, "peak_traced_mb": self.peak / 2 ** 20,
               "traced_now_mb": now / 2 ** 20, "model_pickle_mb": size / 2 ** 20,
               "leaves": len(model.tree_.leaves()),
               "clusters": len(model.label_clusters()),
               "elapsed_s": time.perf_counter() - self.start}
        self.fh.write(json.dumps(row) + "\n")
        self.fh.flush()
        print({k: round(v, 2) for k, v in row.items()}, flush=True)
        return {}


def main(max_instances: int) -> None:
    stream = sparse_multilabel_stream(N, drift_points=[N // 2], seed=0)
    out = Path(__file__).with_name("sparse_memory.jsonl")
    with out.open("w") as fh:
        res = evaluate_stream(IHOMER(metric="cosine", random_state=0), stream, every=EVERY,
                              callbacks=[_Recorder(fh)], track_memory=True,
                              max_instances=max_instances)
    print({k: v for k, v in res.items() if k != "curve"}, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else N)
