"""Which part of ``LAGNNClassifier.paper`` costs accuracy on ``sbm-lowdeg``.

Refits the paper preset (LA-GCN, seeds given) on the suite's low-degree SBM with one
part changed at a time and prints one JSON line per fit:

* ``paper+mean``: inference by averaged draws instead of the best single draw;
* ``paper+last-generator``: the default generator (``LocalAugmenter()``, kept after
  its last epoch) instead of the uncertainty-selected one;
* ``paper+warmup600``: the uncertainty selection with a warm-up of 600 steps instead
  of 200 (of the generator's 960), so that it cannot keep an early generator.

    python benchmarks/lagnn/paper_sbm_diagnosis.py paper+mean,paper+last-generator,paper+warmup600 0 1 2
"""
import json
import sys

import torch

from graphbias.augment import LAGNNClassifier, LocalAugmenter
from graphbias.bench.lagnn_suite import fit_and_score, lowdegree_sbm

VARIANTS = {
    "paper+mean": lambda s: LAGNNClassifier.paper("gcn", random_state=s, inference="mean"),
    "paper+last-generator": lambda s: LAGNNClassifier.paper("gcn", random_state=s,
                                                            augmenter=LocalAugmenter()),
    "paper+warmup600": lambda s: LAGNNClassifier.paper(
        "gcn", random_state=s, augmenter=LocalAugmenter(selection="uncertainty",
                                                        warmup=600)),
}


def main(names: str, seeds: list[int]) -> None:
    torch.set_num_threads(1)
    g = lowdegree_sbm()
    for seed in seeds:
        for name in names.split(","):
            out, _ = fit_and_score(g, VARIANTS[name](seed))
            print(json.dumps({"variant": name, "seed": seed, "test_acc": out["test_acc"],
                              "epochs": out["epochs"], "seconds": out["seconds"]}),
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1], [int(a) for a in sys.argv[2:]])
