"""Size of iHOMER's state over a 100,000-instance synthetic stream (drift at 50,000).

Runs test-then-train and writes, every 10,000 instances, the size of the pickled model
(everything it keeps: leaf windows, histograms, co-occurrence counts, detectors), the
number of tree leaves and the metrics so far to ``memory_100k.jsonl`` beside this
script. Bounded memory shows as a flat size curve; the peak memory traced by
``tracemalloc`` over the whole run is the ``synthetic-100k`` cell of the bench suite.

    python benchmarks/stream/memory_100k.py
"""
from __future__ import annotations

import json
import pickle
import time
from pathlib import Path

from graphbias.data.synthetic.multilabel import multilabel_stream
from graphbias.stream import IHOMER, MultiLabelMetrics


def main() -> None:
    stream = multilabel_stream(100_000, drift_points=[50_000], seed=0)
    model, metrics = IHOMER(), MultiLabelMetrics()
    out = Path(__file__).with_name("memory_100k.jsonl")
    start = time.perf_counter()
    with out.open("w") as fh:
        for t, (x, y) in enumerate(stream, 1):
            metrics.update(y, model.predict_one(x))
            model.learn_one(x, y)
            if t % 10_000 == 0:
                row = {"t": t, "model_pickle_mb": len(pickle.dumps(model)) / 2**20,
                       "leaves": model.tree_.n_leaves,
                       "clusters": len(model.label_clusters()),
                       "seconds": time.perf_counter() - start, **metrics.get()}
                fh.write(json.dumps(row) + "\n")
                print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()},
                      flush=True)


if __name__ == "__main__":
    main()
