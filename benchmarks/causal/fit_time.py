"""Fit time of ``GraphRLearner()`` (its defaults) against EconML's
``CausalForestDML`` on the propagated covariates [X, AX, A^2X] (``econml-forest-h2`` of
the causal suite), in one process, alternating the two on the same data: CPU seconds
of the process (``time.process_time``, every thread counted; one torch thread) and
wall seconds, with the load average at the start of each fit. The bootstrap of the
intervals is drawn on first use, not in ``fit``. With ``--single`` also the
single-pair learner ``GraphRLearner(nuisance_hops=None, nuisance_members=1)``
(``graph-rlearner-single``), in the same rotation.

The rows recorded before the default averaged two nuisance pairs (labels ``before``,
``after``, ``members``, ``path``) name the single-pair learner ``graph-rlearner`` and
today's default ``graph-rlearner-members``.

Usage: python benchmarks/causal/fit_time.py GRAPH EFFECT N SEEDS [LABEL] [--single]
>> benchmarks/causal/results/fit_time.jsonl
"""
import json
import os
import sys
import time
import warnings

import torch

from graphbias.causal import EconMLLearner, GraphRLearner
from graphbias.data.synthetic.network_causal import network_causal

torch.set_num_threads(1)
warnings.simplefilter("ignore")
args = [a for a in sys.argv[1:] if a != "--single"]
graph, effect, n, seeds = args[0], args[1], int(args[2]), int(args[3])
label = args[4] if len(args) > 4 else ""
METHODS = {"graph-rlearner": lambda s: GraphRLearner(random_state=s),
           "econml-forest-h2": lambda s: EconMLLearner("forest", hops=2, random_state=s)}
if "--single" in sys.argv:
    METHODS["graph-rlearner-single"] = lambda s: GraphRLearner(
        nuisance_hops=None, nuisance_members=1, random_state=s)
for seed in range(seeds):
    d = network_causal(graph, n, effect=effect, seed=seed)
    order = list(METHODS) if seed % 2 == 0 else list(METHODS)[::-1]
    for method in order:
        load = os.getloadavg()[0]
        cpu, wall = time.process_time(), time.perf_counter()
        METHODS[method](seed).fit(d.Y, d.T, X=d.X, graph=d.graph)
        print(json.dumps({"label": label, "graph": graph, "effect": effect, "n": n,
                          "seed": seed, "method": method,
                          "cpu_s": time.process_time() - cpu,
                          "wall_s": time.perf_counter() - wall, "load": load}),
              flush=True)
