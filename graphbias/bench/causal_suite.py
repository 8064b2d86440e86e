r"""``graphbias bench --suite causal``: PEHE of the Graph R-Learner, its graph-blind
ablations and the baselines on the network-confounded data of
:mod:`graphbias.data.synthetic.network_causal`.

Methods are ``graph-rlearner`` (``GraphRLearner()`` with its defaults: nuisances and
final stage chosen by cross-validated loss, the final stages of the two best nuisance
pairs averaged), ``graph-rlearner-single`` (``GraphRLearner(nuisance_hops=None,
nuisance_members=1)``: the single best pair, linear nuisances on two hops; the
default before), ``<nuisance>-<final>`` R-learners
(nuisance ``mlp`` or ``gnn``; final ``linear``, ``gnn`` (the unpenalised SGC),
``gcn``, ``forest``, ``free-intercept``), ``t-learner`` and ``s-learner`` (GNN), and
EconML's ``econml-forest`` / ``econml-nonparam`` on X (``-nbr``: plus neighbour
means) and ``econml-linear-h1`` / ``-h2`` (``LinearDML`` with EconML's default
nuisances) and ``econml-forest-h1`` / ``-h2`` (``CausalForestDML``) on the propagated
covariates :math:`[X, \hat A X]` / :math:`[X, \hat A X, \hat A^2 X]`;
``graph-rlearner-paper`` is :meth:`~graphbias.causal.GraphRLearner.paper_preset`;
``graph-rlearner-hops`` is ``GraphRLearner(nuisance_hops=(0, 1, 2, 3),
nuisance_members=1)``, its linear nuisances' propagation steps chosen by out-of-fold
loss, the best pair alone (recorded rows named ``graph-rlearner-members`` are the
default learner under its earlier name). The
``<nuisance>-<final>`` R-learners of one (dataset, seed, nuisance) share one
cross-fitting (``refit_final``).

Datasets are ``<graph>-<effect>`` at 1,000 nodes: BA with ``simple_h`` and
``higher_order`` (the recorded configurations), then the family of every graph of
:data:`~graphbias.data.synthetic.network_causal.GRAPHS` with every effect but
``local_x`` (select with ``--datasets``). Each also comes as
``<graph>-<effect>-n<N>`` at N = 500, 3,000 and 5,000 nodes,
``<graph>-<effect>-threshold`` (the threshold treatment
:math:`T = [\ell + \eta > 0]`, :math:`\eta \sim \mathcal N(0, 1)`, at 1,000 nodes;
``<graph>-<effect>-threshold-n<N>`` at the other sizes) and
``<graph>-<effect>-paper`` (``setting="paper"``, the simulator of "The Final-Stage
Bottleneck", at 1,000 nodes). With Cora's Planetoid files under ``--root``, also
``cora-<effect>`` and ``cora-<effect>-threshold``: the same process on Cora's
citation graph (2,708 nodes, 78 components; covariates a random projection of its
word features, :func:`~graphbias.data.synthetic.network_causal.cora_causal`), a real
graph none of the learners' defaults was chosen on.
"""
from __future__ import annotations

import functools
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from .suites import Cell

#: the graph sizes besides 1,000 that the full suite offers (``-n<N>``)
SIZES = (500, 3000, 5000)
_FINALS = {"linear": "linear", "gnn": "gnn", "gcn": "gcn", "forest": "forest",
           "free-intercept": "linear_free_intercept"}


def _metrics(est: Any, data: Any, seconds: float) -> dict[str, float]:
    tau = est.effect(data.X, graph=data.graph)
    return {"pehe": float(np.mean((tau - data.tau) ** 2)),
            "ate_error": float(abs(tau.mean() - data.tau.mean())), "seconds": seconds}


def dataset_config(name: str) -> dict[str, Any]:
    """The :func:`~graphbias.data.synthetic.network_causal.network_causal` arguments
    of a dataset name ``<graph>-<effect>[-threshold][-n<N>]`` or
    ``<graph>-<effect>-paper`` (for ``cora-<effect>[-threshold|-paper]``,
    ``graph="cora"`` and the arguments of
    :func:`~graphbias.data.synthetic.network_causal.cora_causal` but the root).

    >>> dataset_config("sbm-linear-n5000")
    {'graph': 'sbm', 'effect': 'linear', 'num_nodes': 5000}
    >>> dataset_config("ba-simple_h-paper")
    {'graph': 'ba', 'effect': 'simple_h', 'num_nodes': 1000, 'setting': 'paper'}
    >>> dataset_config("cora-linear-threshold")
    {'graph': 'cora', 'effect': 'linear', 'treatment': 'threshold'}
    >>> dataset_config("er-simple_h-threshold-n3000")
    {'graph': 'er', 'effect': 'simple_h', 'num_nodes': 3000, 'treatment': 'threshold'}
    """
    graph, effect, *variant = name.split("-")
    config: dict[str, Any] = {"graph": graph, "effect": effect}
    if graph != "cora":
        config["num_nodes"] = 1000
    rest = list(variant)
    if rest == ["paper"]:
        config["setting"], rest = "paper", []
    if rest[:1] == ["threshold"]:
        config["treatment"], rest = "threshold", rest[1:]
    if len(rest) == 1 and rest[0][:1] == "n" and rest[0][1:].isdigit() and graph != "cora":
        config["num_nodes"], rest = int(rest[0][1:]), []
    if rest:
        raise ValueError(f"dataset {name!r} is not <graph>-<effect>[-threshold][-n<N>] or "
                         "<graph>-<effect>-paper (cora: no -n<N>, its size is fixed)")
    return config


def suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    from ..causal import EconMLLearner, GNNSLearner, GNNTLearner, GraphRLearner
    from ..causal.rlearner import AUTO_NUISANCE_HOPS
    from ..data.datasets.planetoid import find_planetoid
    from ..data.synthetic.network_causal import EFFECTS, GRAPHS, cora_causal, network_causal

    epochs = 60 if quick else 200
    names = ["ba-simple_h"] if quick else ["ba-simple_h", "ba-higher_order"]
    if not quick:
        family = [f"{g}-{e}" for g in GRAPHS for e in EFFECTS if e != "local_x"]
        names += [f for f in family if f not in names]
        names += [f"{f}-{variant}" for f in family
                  for variant in [f"n{n}" for n in SIZES] + ["threshold", "paper"]]
        names += [f"{f}-threshold-n{n}" for f in family for n in SIZES]
        if root is not None and find_planetoid(root, "cora") is not None:
            names += [f"cora-{e}{variant}" for variant in ("", "-threshold")
                      for e in EFFECTS if e != "local_x"]

    @functools.cache
    def data(name: str, seed: int) -> Any:
        config = dataset_config(name)
        graph = config.pop("graph")
        if graph == "cora":
            return cora_causal(root, **config, seed=seed)
        if quick:
            config["num_nodes"] = 300
        return network_causal(graph, **config, seed=seed)

    @functools.cache
    def crossfitted(name: str, seed: int, nuisance: str) -> Any:
        """One cross-fitting per (dataset, seed, nuisance), fitted with the cheap
        linear final stage; every cell refits the final stage it measures."""
        d = data(name, seed)
        return GraphRLearner(nuisance=nuisance, final="linear", max_epochs=epochs,
                             random_state=seed).fit(d.Y, d.T, X=d.X, graph=d.graph)

    def rlearner(name: str, seed: int, nuisance: str, final: str) -> dict:
        d = data(name, seed)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            est = crossfitted(name, seed, nuisance)
            est = est.set_params(final=final).refit_final()
        return _metrics(est, d, time.perf_counter() - start)

    def other(name: str, seed: int, make: Callable[[], Any]) -> dict:
        d = data(name, seed)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            est = make().fit(d.Y, d.T, X=d.X, graph=d.graph)
        return _metrics(est, d, time.perf_counter() - start)

    others: dict[str, Callable[[int], Any]] = {
        "graph-rlearner": lambda s: GraphRLearner(max_epochs=epochs, random_state=s),
        "t-learner": lambda s: GNNTLearner(max_epochs=epochs, random_state=s),
        "econml-forest": lambda s: EconMLLearner("forest", random_state=s),
        "econml-linear-h1": lambda s: EconMLLearner("linear", hops=1, nuisance="auto",
                                                    random_state=s),
    }
    if not quick:
        others.update({
            "econml-linear-h2": lambda s: EconMLLearner("linear", hops=2, nuisance="auto",
                                                        random_state=s),
            "econml-forest-h1": lambda s: EconMLLearner("forest", hops=1, random_state=s),
            "econml-forest-h2": lambda s: EconMLLearner("forest", hops=2, random_state=s),
            "graph-rlearner-paper": lambda s: GraphRLearner.paper_preset(random_state=s),
            "graph-rlearner-single": lambda s: GraphRLearner(
                max_epochs=epochs, nuisance_hops=None, nuisance_members=1,
                random_state=s),
            "graph-rlearner-hops": lambda s: GraphRLearner(
                max_epochs=epochs, nuisance_hops=AUTO_NUISANCE_HOPS, nuisance_members=1,
                random_state=s),
            "s-learner": lambda s: GNNSLearner(max_epochs=epochs, random_state=s),
            "econml-forest-nbr": lambda s: EconMLLearner("forest", True, random_state=s),
            "econml-nonparam": lambda s: EconMLLearner("nonparam", random_state=s)})
    finals = ["linear", "gnn", "free-intercept"] if quick else list(_FINALS)
    cells = []
    for name in names:
        for seed in range(seeds):
            for nuisance in ("mlp", "gnn"):
                for final in finals:
                    cells.append(Cell("causal", name, f"{nuisance}-{final}", seed,
                                      lambda d=name, s=seed, nu=nuisance,
                                      f=_FINALS[final]: rlearner(d, s, nu, f)))
            for method, make in others.items():
                cells.append(Cell("causal", name, method, seed,
                                  lambda d=name, s=seed, m=make: other(d, s, lambda: m(s))))
    return cells
