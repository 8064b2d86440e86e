"""PEHE of the causal suite over seeds, paired t-tests against the Graph R-Learner.

Usage: python benchmarks/causal/run.py SEEDS [FIRST_SEED] >> benchmarks/causal/results.jsonl
"""
import json
import sys

import torch

from graphbias.bench import causal_suite

torch.set_num_threads(1)
seeds = int(sys.argv[1])
first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
for cell in causal_suite.suite(None, seeds, quick=False):
    if cell.seed < first or cell.method not in {"mlp-linear", "mlp-gnn", "gnn-linear", "gnn-gnn", "gnn-free-intercept",
                           "mlp-free-intercept", "t-learner", "econml-forest"}:
        continue
    out = cell.run()
    print(json.dumps({"dataset": cell.dataset, "method": cell.method, "seed": cell.seed,
                      **out}), flush=True)
