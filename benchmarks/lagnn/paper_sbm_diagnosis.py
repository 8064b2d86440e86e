"""Which part of ``LAGNNClassifier.paper`` costs accuracy on ``sbm-lowdeg``.

Refits the paper preset (LA-GCN, seeds given) on the suite's low-degree SBM (or, with
``--root``, on the suite's Cora from that data root) with one part changed at a time
and prints one JSON line per fit (with the generator's Adam steps and the step the
uncertainty selection kept, when it ran):

* ``paper+mean``: inference by averaged draws instead of the best single draw;
* ``paper+last-generator``: the default generator (``LocalAugmenter()``, kept after
  its last epoch) instead of the uncertainty-selected one;
* ``paper+warmup600``: the uncertainty selection with a warm-up of 600 steps instead
  of 200 (of the generator's 960), so that it cannot keep an early generator.

    python benchmarks/lagnn/paper_sbm_diagnosis.py paper+mean,paper+last-generator,paper+warmup600 0 1 2
    python benchmarks/lagnn/paper_sbm_diagnosis.py paper+warmup600 0 1 --root ../shared/data
"""
import argparse
import json
from pathlib import Path

import torch

from graphbias.augment import LAGNNClassifier, LocalAugmenter
from graphbias.bench.lagnn_suite import fit_and_score, lowdegree_sbm
from graphbias.bench.suites import real_node_datasets

VARIANTS = {
    "paper+mean": lambda s: LAGNNClassifier.paper("gcn", random_state=s, inference="mean"),
    "paper+last-generator": lambda s: LAGNNClassifier.paper("gcn", random_state=s,
                                                            augmenter=LocalAugmenter()),
    "paper+warmup600": lambda s: LAGNNClassifier.paper(
        "gcn", random_state=s, augmenter=LocalAugmenter(selection="uncertainty",
                                                        warmup=600)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", help="comma-separated names of VARIANTS")
    parser.add_argument("seeds", type=int, nargs="+")
    parser.add_argument("--root", type=Path, default=None,
                        help="data root: Cora from there instead of sbm-lowdeg")
    args = parser.parse_args()
    torch.set_num_threads(1)
    dataset = "sbm-lowdeg" if args.root is None else "cora"
    g = lowdegree_sbm() if args.root is None else real_node_datasets(args.root)["cora"]()
    for seed in args.seeds:
        for name in args.variants.split(","):
            out, clf = fit_and_score(g, VARIANTS[name](seed))
            gen = clf.augmenter_
            print(json.dumps({"dataset": dataset, "variant": name, "seed": seed,
                              "test_acc": out["test_acc"], "epochs": out["epochs"],
                              "seconds": out["seconds"],
                              "generator_steps": len(gen.uncertainty_) or None,
                              "selected_step": gen.selected_step_}), flush=True)


if __name__ == "__main__":
    main()
