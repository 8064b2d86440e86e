"""PEHE of ``GraphRLearner()`` and EconML's ``LinearDML`` on [X, AX] and [X, AX, A^2X]
at other graph sizes than the causal suite's 1,000 nodes: one JSON record per (dataset,
method, seed) with the suite's fields (``dataset`` is ``<graph>-<effect>-n<N>``), so
that ``family_table.py`` reads them. One torch thread; seconds are wall seconds.

Usage: python benchmarks/causal/size_scan.py GRAPH N SEEDS EFFECT [EFFECT ...] >> benchmarks/causal/results/size_scan.jsonl
"""
import json
import sys
import time
import warnings

import numpy as np
import torch

from graphbias.causal import EconMLLearner, GraphRLearner
from graphbias.data.synthetic.network_causal import network_causal

torch.set_num_threads(1)
warnings.simplefilter("ignore")
METHODS = {
    "graph-rlearner": lambda s: GraphRLearner(random_state=s),
    "econml-linear-h1": lambda s: EconMLLearner("linear", hops=1, nuisance="auto",
                                                random_state=s),
    "econml-linear-h2": lambda s: EconMLLearner("linear", hops=2, nuisance="auto",
                                                random_state=s),
}
graph, n, seeds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for effect in sys.argv[4:]:
    for seed in range(seeds):
        d = network_causal(graph, n, effect=effect, seed=seed)
        for method, make in METHODS.items():
            start = time.perf_counter()
            tau = make(seed).fit(d.Y, d.T, X=d.X, graph=d.graph).effect(d.X, graph=d.graph)
            print(json.dumps({
                "suite": "causal", "dataset": f"{graph}-{effect}-n{n}", "method": method,
                "seed": seed, "pehe": float(np.mean((tau - d.tau) ** 2)),
                "ate_error": float(abs(tau.mean() - d.tau.mean())),
                "seconds": time.perf_counter() - start}), flush=True)
