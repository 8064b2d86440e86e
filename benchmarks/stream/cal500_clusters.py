"""Do iHOMER's label clusters matter on CAL500? A paired test over stream orders.

CAL500 (502 songs, 174 labels) is run in ``ORDERS`` random orders; in each order
iHOMER (Jaccard clusters) and the ablation (``clustering="random"``: the same
hierarchy, labels dealt at random) run through River's progressive validation, with
``lp_max_labels`` 8 (the default) and 32 (label powersets over larger clusters). The
script writes one JSON line per run to ``cal500_clusters.jsonl`` (micro-F1, macro-F1,
subset accuracy, the final cluster sizes and the frequency of the labels predicted as a
label powerset) and prints, per setting, the paired micro-F1 difference (mean, std),
the paired t-test and Wilcoxon signed-rank p-values.

    python benchmarks/stream/cal500_clusters.py ../shared/data
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy import stats

from graphbias.bench.stream_suite import _shuffled
from graphbias.data.multilabel import load_cal500
from graphbias.stream import IHOMER, evaluate_stream

ORDERS = 10


def _run(data, clustering: str, lp_max_labels: int, seed: int) -> dict:
    model = IHOMER(clustering=clustering, lp_max_labels=lp_max_labels, random_state=seed)
    res = evaluate_stream(model, data)
    freq = data.Y.mean(axis=0)
    clusters = model.clustering_.partition()
    lp = [i for c in clusters if 1 < len(c) <= lp_max_labels for i in c]
    return {"clustering": clustering, "lp_max_labels": lp_max_labels, "order": seed,
            "micro_f1": res["micro_f1"], "macro_f1": res["macro_f1"],
            "subset_accuracy": res["subset_accuracy"],
            "cluster_sizes": sorted(map(len, clusters), reverse=True),
            "labels_in_powersets": len(lp),
            "powerset_label_frequency": float(freq[lp].mean()) if lp else float("nan")}


def main(root: str) -> None:
    cal = load_cal500(root)
    out = Path(__file__).with_name("cal500_clusters.jsonl")
    rows = []
    with out.open("w") as fh:
        for lp_max_labels in (8, 32):
            for seed in range(ORDERS):
                data = _shuffled(cal, seed)
                for clustering in ("jaccard", "random"):
                    row = _run(data, clustering, lp_max_labels, seed)
                    rows.append(row)
                    fh.write(json.dumps(row) + "\n")
                    fh.flush()
                    print({k: row[k] for k in ("clustering", "lp_max_labels", "order",
                                               "micro_f1", "labels_in_powersets")},
                          flush=True)
    for lp_max_labels in (8, 32):
        get = {c: np.array([r["micro_f1"] for r in rows if r["clustering"] == c
                            and r["lp_max_labels"] == lp_max_labels])
               for c in ("jaccard", "random")}
        diff = get["jaccard"] - get["random"]
        t_p = stats.ttest_rel(get["jaccard"], get["random"]).pvalue
        w_p = stats.wilcoxon(diff).pvalue if np.any(diff != 0) else 1.0
        print(f"lp_max_labels={lp_max_labels}: Jaccard {get['jaccard'].mean():.4f}, random "
              f"{get['random'].mean():.4f}, paired difference {diff.mean():+.4f} ± "
              f"{diff.std():.4f}, t-test p = {t_p:.3g}, Wilcoxon p = {w_p:.3g}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
