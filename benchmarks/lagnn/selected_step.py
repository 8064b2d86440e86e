"""The Adam step the uncertainty selection keeps, on the suite's ``sbm-lowdeg``.

Fits ``LocalAugmenter(selection="uncertainty", random_state=seed)`` (the paper
preset's generator: 10 epochs, warm-up 200 steps) for each seed given and prints
the number of steps, the selected one, and the score there and at the last step.

    python benchmarks/lagnn/selected_step.py 0 1 2 3
"""
import json
import sys

import torch

from graphbias.augment import LocalAugmenter
from graphbias.bench.lagnn_suite import lowdegree_sbm


def main(seeds: list[int]) -> None:
    torch.set_num_threads(1)
    g = lowdegree_sbm()
    for seed in seeds:
        aug = LocalAugmenter(selection="uncertainty", random_state=seed).fit(
            g, y=g.y, train_mask=g.train_mask)
        scores = aug.uncertainty_
        step = aug.selected_step_
        print(json.dumps({"seed": seed, "steps": len(scores), "selected_step": step,
                          "score_at_selected": scores[step - 1] if step else None,
                          "score_last": scores[-1]}), flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]])
