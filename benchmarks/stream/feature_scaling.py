"""How iHOMER's cost grows with the number of distinct features (bag-of-words).

The sparse generator of the bench suite (150 labels in 30 groups, about 7 words per
instance) with vocabularies of 2,000, 10,000 and 50,000 words, 3,000 instances each,
run through River's progressive validation with the peak memory traced, for:

- ``candidates-128``: ``IHOMER(metric="cosine")``, split candidates bounded to 128 per
  leaf (the default), sparse distances;
- ``candidates-all``: the same with ``max_candidates=None`` (a histogram for every
  feature a leaf's window carries; 2,000 and 10,000 words only);
- ``hashed-1024``: River's ``FeatureHasher(n_features=1024) | IHOMER(metric="cosine")``.

Writes one JSON line per run to ``feature_scaling.jsonl`` beside this script: micro-F1,
instances per second, peak traced MiB, the pickled model's MiB, the largest candidate
set and window width of a leaf.

    python benchmarks/stream/feature_scaling.py
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Callable

from river import preprocessing

from graphbias.data.synthetic.multilabel import sparse_multilabel_stream
from graphbias.stream import IHOMER, evaluate_stream

VARIANTS: dict[str, Callable[[], Any]] = {
    "candidates-128": lambda: IHOMER(metric="cosine", random_state=0),
    "candidates-all": lambda: IHOMER(metric="cosine", max_candidates=None, random_state=0),
    "hashed-1024": lambda: preprocessing.FeatureHasher(n_features=1024, seed=0)
    | IHOMER(metric="cosine", random_state=0),
}


def main() -> None:
    out = Path(__file__).with_name("feature_scaling.jsonl")
    with out.open("w") as fh:
        for n_features in (2_000, 10_000, 50_000):
            data = sparse_multilabel_stream(3_000, n_features=n_features, seed=0)
            for name, make in VARIANTS.items():
                if name == "candidates-all" and n_features > 10_000:
                    continue
                model = make()
                res = evaluate_stream(model, data, track_memory=True)
                ihomer = getattr(model, "_last_step", model)
                leaves = ihomer.tree_.leaves()
                row = {"n_features": n_features, "variant": name,
                       "distinct_features_seen": len(ihomer.encoder_.features),
                       "micro_f1": res["micro_f1"], "instances_per_s": res["instances_per_s"],
                       "peak_memory_mb": res["peak_memory_mb"],
                       "model_pickle_mb": len(pickle.dumps(model)) / 2 ** 20,
                       "leaves": len(leaves),
                       "max_candidates_held": max((len(lf.hist.feats) for lf in leaves
                                                   if lf.hist is not None), default=0),
                       "max_window_width": max(lf.window.idx.shape[1] for lf in leaves)}
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()},
                      flush=True)


if __name__ == "__main__":
    main()
