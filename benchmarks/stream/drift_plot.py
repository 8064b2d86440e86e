"""Label clusters and accuracy around a label-correlation drift (``drift_plot.png``).

The synthetic stream of the bench suite (20,000 instances, 12 labels in 3 groups,
groups and concept change at 10,000, seed 0); iHOMER with and without drift
handling, windows of 250 instances.

    python benchmarks/stream/drift_plot.py
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from graphbias.data.synthetic.multilabel import multilabel_stream  # noqa: E402
from graphbias.stream import IHOMER, prequential, recovery  # noqa: E402

DRIFT = 10_000


def main() -> None:
    stream = multilabel_stream(20_000, drift_points=[DRIFT], seed=0)
    here = Path(__file__).parent
    runs = {}
    for name, model in (("with drift handling", IHOMER()),
                        ("without", IHOMER(drift_detection=False))):
        res = prequential(model, stream, every=250)
        runs[name] = res
        print(name, "recovery", recovery(res["curve"], DRIFT), "drifts", model.drifts_,
              "clusters", model.clustering_.partition())
    groups = [g.tolist() for g in stream.info["groups"]]
    (here / "drift_curves.json").write_text(json.dumps(
        {"true_groups": groups, **{k: v["curve"] for k, v in runs.items()}}))
    fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    for name, res in runs.items():
        t = [p["t"] for p in res["curve"]]
        for ax, key in zip(axes, ("micro_f1", "n_clusters", "mean_jaccard")):
            ax.plot(t, [p[key] for p in res["curve"]], label=name)
    for ax, label in zip(axes, ("windowed micro-F1", "label clusters",
                                "mean Jaccard\nin clusters")):
        ax.axvline(DRIFT, color="grey", ls="--")
        ax.set_ylabel(label)
    axes[0].legend()
    axes[2].set_xlabel("instances")
    fig.tight_layout()
    fig.savefig(here / "drift_plot.png", dpi=110)


if __name__ == "__main__":
    main()
