"""Stop rules of the default flow search, compared on recorded search traces.

``record`` runs the default search's doubling masses (one warm-started
``FlowSolver``, twice the seed's capacity doubling) far past any stop rule: until
the mass exceeds the graph's capacity, fills the seed's component, or the query has
touched more than ``--touch-cap`` nodes; for each mass it keeps the sweep cut's
conductance, nodes and volume, the support's volume, nodes touched and F1. The
stop rules only cut these sequences short, so ``replay`` scores any rule on them
without running a diffusion again: F1 of the cluster the rule returns and nodes
touched when it stops (a trace cut at ``--touch-cap`` before the rule stopped is
marked ``+``: the rule reads at least that much).

Cases: the planted cluster of the suite's F1 rows (200 nodes in 2,000, noise 0 and
0.2, 5 graphs x 5 seeds), Cora's largest component and whole graph (the suite's
protocol, 5 draws x 7 classes), the suite's locality targets (1e3 and 1e4 volume,
easy and hard boundaries, 1e4-1e6 nodes, 5 seeds), and LFR graphs from networkx
(10,000 nodes, mixing 0.2 and 0.4, 3 graphs, 10 communities each, labels flipped at
0.2)::

    python benchmarks/cluster/stop_rule_replay.py record --root ../shared/data --out traces
    python benchmarks/cluster/stop_rule_replay.py replay --out traces

``show`` prints the trace of one locality target's first ``--repeats`` seed nodes
(the locality cells' own), one JSON line per doubling::

    python benchmarks/cluster/stop_rule_replay.py show --volume 1e5 --boundary hard \\
        --nodes 1000000 --method lfd --repeats 2 --touch-cap 5000000
"""
from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from graphbias.bench.cluster_suite import (BOUNDARIES, LOCALITY_NOISE, LOCALITY_TARGETS,
                                           _locality_graph)
from graphbias.cluster import (NoisyLabelLocalClustering, classifier_labels, f1_sets,
                               sample_labelled_nodes)
from graphbias.cluster.flow import FlowSolver, UnabsorbedMass, sink_capacity
from graphbias.cluster.sweep import conductance, sweep_cut, volume

Step = dict[str, Any]
Rule = Callable[[dict, Step], bool]


def trace(view, seed: int, target: np.ndarray, touch_cap: int) -> list[Step]:
    """Every doubling of the default search from ``seed`` (module docstring)."""
    seeds = view.check_seeds(seed)
    mass, steps = 2.0 * float(sink_capacity(view, seeds, "degree").sum()), []
    base = lambda nodes: float(view.base_degree(nodes).sum())
    with FlowSolver(view, seeds, sink="degree", tol=1e-3) as solver:
        while mass <= solver.capacity:
            try:
                diff = solver.solve(mass)
            except UnabsorbedMass as full:
                comp = full.component
                small = volume(view, comp) <= 0.5 * view.volume()
                steps.append(dict(fill=True, phi=conductance(view, comp) if small else np.inf,
                                  nodes=comp, volume=base(comp), spread=base(comp),
                                  f1=f1_sets(comp, target), touched=solver.nodes.size))
                break
            nodes, phi = sweep_cut(view, diff.nodes, diff.scores)
            if nodes.size == 0:
                nodes, phi = seeds, conductance(view, seeds)
            steps.append(dict(fill=False, phi=phi, nodes=nodes, volume=base(nodes),
                              spread=base(diff.support), f1=f1_sets(nodes, target),
                              touched=solver.nodes.size))
            if solver.nodes.size > touch_cap:
                break
            mass *= 2.0
    return steps


def _models(graph, labels):
    return {"lfd": NoisyLabelLocalClustering().fit(graph, noisy_labels=labels),
            "flow": NoisyLabelLocalClustering().fit(graph)}


def record(root: Path, out: Path, touch_cap: int) -> None:
    from graphbias.data.datasets import find_planetoid, load_planetoid
    from graphbias.data.synthetic.planted import planted_cluster
    from graphbias.data.transforms import largest_component

    out.mkdir(parents=True, exist_ok=True)
    save = lambda name, cases: pickle.dump(cases, (out / f"{name}.pkl").open("wb"))
    for noise in (0.0, 0.2):
        for s in range(5):
            pc = planted_cluster(200, 2000, degree_in=10, degree_out=5, degree_rest=10,
                                 noise=noise, seed=s)
            seeds = np.random.default_rng(s).choice(pc.target, 5, replace=False)
            models = _models(pc.graph, pc.noisy_labels)
            save(f"planted-{noise}-{s}", {(m, int(v)): trace(model.view_, int(v), pc.target,
                                                             touch_cap)
                                          for m, model in models.items() for v in seeds})
    cora = load_planetoid(find_planetoid(root, "cora"), "cora")
    for variant, g in (("cora-lcc", largest_component(cora)), ("cora", cora)):
        y, plain = g.y.numpy(), NoisyLabelLocalClustering().fit(g)
        for s in range(5):
            cases = {}
            for c in range(int(y.max()) + 1):       # the suite's cora_f1 draws
                rng = np.random.default_rng([s, c])
                pos, neg = sample_labelled_nodes(y, c, 10, 10, int(rng.integers(2**31)))
                labels = classifier_labels(g.x, pos, neg)
                target, v = np.flatnonzero(y == c), int(rng.choice(pos))
                lab = NoisyLabelLocalClustering().fit(g, noisy_labels=labels)
                cases[("lfd", c)] = trace(lab.view_, v, target, touch_cap)
                cases[("flow", c)] = trace(plain.view_, v, target, touch_cap)
            save(f"{variant}-{s}", cases)
    for vol in ("1e3", "1e4"):
        for boundary in ("easy", "hard"):
            for n in (10**4, 10**5, 10**6):
                pc = _locality_graph(vol, boundary, n, 0)
                seeds = np.random.default_rng(0).choice(LOCALITY_TARGETS[vol][0], 5,
                                                        replace=False)
                models = _models(pc.graph, pc.noisy_labels)
                save(f"loc-{vol}-{boundary}-{n}",
                     {(m, int(v)): trace(model.view_, int(v), pc.target, touch_cap)
                      for m, model in models.items() for v in seeds})
    for mu in (0.2, 0.4):
        for s in range(3):
            save(f"lfr-10000-{mu}-{s}", _lfr_cases(10_000, mu, s, touch_cap))


def _lfr_cases(n: int, mu: float, seed: int, touch_cap: int) -> dict:
    import networkx as nx

    from graphbias.data import as_graph
    from graphbias.data.synthetic.planted import flip_labels

    G = nx.LFR_benchmark_graph(n, 2.5, 1.5, mu, average_degree=10, max_degree=100,
                               min_community=50, max_community=max(500, n // 20),
                               seed=seed)
    communities = sorted({frozenset(G.nodes[v]["community"]) for v in G}, key=min)
    G = nx.Graph(G)
    G.remove_edges_from(nx.selfloop_edges(G))
    g, rng = as_graph(G), np.random.default_rng(seed)
    plain, cases = NoisyLabelLocalClustering().fit(g), {}
    for j in rng.choice(len(communities), min(10, len(communities)), replace=False):
        target = np.sort(np.atleast_1d(g.index_of(list(communities[j]))))
        clean = np.zeros(g.num_nodes, dtype=np.int64)
        clean[target] = 1
        labels = flip_labels(clean, 0.2, rng)
        v = int(rng.choice(target))
        lab = NoisyLabelLocalClustering().fit(g, noisy_labels=labels)
        cases[("lfd", int(j))] = trace(lab.view_, v, target, touch_cap)
        cases[("flow", int(j))] = trace(plain.view_, v, target, touch_cap)
    return cases


# ---------------------------------------------------------------- stop rules
def patience_rule(patience: int = 4, gain: float = 0.01, refine_gain: float = None,
                  same_volume: float = 1.2, cap: float = None) -> Rule:
    """Patience counts doublings that spread without progress; progress is a
    conductance ``gain`` below the best (``refine_gain`` when the cluster's volume is
    within ``same_volume`` of the best's); ``cap``: stop once the support's volume
    reaches ``cap`` times the best cluster's."""
    def rule(st: dict, s: Step) -> bool:
        best = st.get("best")
        if best is None:
            progress = True
        else:
            ratio = s["volume"] / best["volume"]
            same = refine_gain is not None and 1 / same_volume < ratio < same_volume
            progress = s["phi"] < (1 - (refine_gain if same else gain)) * best["phi"]
        if progress:
            st["stale"] = 0
        elif s["spread"] > st.get("spread", 0.0):
            st["stale"] = st.get("stale", 0) + 1
        st["spread"] = max(st.get("spread", 0.0), s["spread"])
        if best is None or s["phi"] < best["phi"]:
            st["best"] = s
        return st["stale"] >= patience or (
            cap is not None and st["spread"] >= cap * st["best"]["volume"])
    return rule


def reference_rule(patience: int = 4, gain: float = 0.1, beta: float = 0.0,
                   overlap: float = None) -> Rule:
    """Progress measured against a reference best (the best at the last progress):
    its conductance times ``(spread_ref / spread) ** beta`` and ``1 - gain``
    (``beta`` > 0: a gain that grows with the logarithm of the support's growth);
    with ``overlap``, a 1% gain whose cluster differs from the best in more than
    ``overlap`` of its nodes (symmetric difference) is progress too."""
    def rule(st: dict, s: Step) -> bool:
        ref, best = st.get("ref"), st.get("best")
        if ref is None:
            progress = True
        else:
            need = min(1 - gain, (ref["spread"] / max(s["spread"], ref["spread"])) ** beta)
            progress = s["phi"] < need * ref["phi"]
            if overlap is not None and s["phi"] < 0.99 * best["phi"]:
                moved = np.setxor1d(s["nodes"], best["nodes"]).size
                progress = progress or moved > overlap * best["nodes"].size
        if progress:
            st["stale"], st["ref"] = 0, s
        elif s["spread"] > st.get("spread", 0.0):
            st["stale"] = st.get("stale", 0) + 1
        st["spread"] = max(st.get("spread", 0.0), s["spread"])
        if best is None or s["phi"] < best["phi"]:
            st["best"] = s
        return st["stale"] >= patience
    return rule


def run_rule(steps: list[Step], rule: Rule) -> tuple[Step, Step, bool]:
    """The best step, the step the search stops at, and whether the trace ended
    (touch cap, capacity or a filled component) before the rule stopped."""
    st: dict = {}
    for s in steps:
        if s["fill"]:
            if np.isfinite(s["phi"]) and ("best" not in st or s["phi"] < st["best"]["phi"]):
                st["best"] = s
            return st["best"], s, False
        if rule(st, s):
            return st["best"], s, False
    return st["best"], steps[-1], True


RULES: dict[str, Rule] = {
    "1% gain, patience 4 (before)": patience_rule(),
    "2% gain": patience_rule(gain=0.02),
    "3% gain": patience_rule(gain=0.03),
    "5% gain": patience_rule(gain=0.05),
    "10% gain": patience_rule(gain=0.10),
    "cumulative 10% gain since the last progress": reference_rule(gain=0.1),
    "gain >= (support growth)^-0.05 since the last progress": reference_rule(gain=0.01,
                                                                            beta=0.05),
    "gain >= (support growth)^-0.1": reference_rule(gain=0.01, beta=0.1),
    "10% gain, or 1% with > 10% of the nodes changed": reference_rule(gain=0.1,
                                                                      overlap=0.1),
    "cap 16 x vol(best)": patience_rule(cap=16),
    "cap 64 x vol(best)": patience_rule(cap=64),
    "same volume (1.2x) is no progress": patience_rule(refine_gain=1.0, cap=256),
    "same volume: 3% (cap 256)": patience_rule(refine_gain=0.03, cap=256),
    "same volume: 4% (cap 256, the default)": patience_rule(refine_gain=0.04, cap=256),
    "same volume: 5% (cap 256)": patience_rule(refine_gain=0.05, cap=256),
}


def replay(out: Path, touch_cap: int) -> None:
    data = {p.stem: pickle.load(p.open("rb")) for p in sorted(out.glob("*.pkl"))}
    group = lambda name: name.rsplit("-", 1)[0]
    f1_groups = [g for g in ("planted-0.0", "planted-0.2", "cora-lcc", "cora",
                             "lfr-10000-0.2", "lfr-10000-0.4")
                 if any(group(n) == g for n in data)]
    locs = sorted(n for n in data if n.startswith("loc-") and n.endswith("-1000000"))
    head = [f"{g} {m} F1" for g in f1_groups for m in ("lfd", "flow")] + \
        [f"{n[4:-8]} 1e6 {m} touched" for n in locs for m in ("lfd", "flow")]
    print("| rule | " + " | ".join(head) + " |")
    print("|---" * (len(head) + 1) + "|")
    for label, make in RULES.items():
        cells = []
        for g in f1_groups:
            for m in ("lfd", "flow"):
                f1 = [run_rule(steps, make)[0]["f1"] for n, cases in data.items()
                      if group(n) == g for (meth, _), steps in cases.items() if meth == m]
                cells.append(f"{np.mean(f1):.3f}")
        for n in locs:
            for m in ("lfd", "flow"):
                runs = [run_rule(steps, make) for (meth, _), steps in data[n].items()
                        if meth == m]
                touched = np.median([stop["touched"] for _, stop, _ in runs])
                cut = any(ended and stop["touched"] > touch_cap for _, stop, ended in runs)
                cells.append(f"{touched / 1e3:.0f}k" + ("+" if cut else ""))
        print(f"| {label} | " + " | ".join(cells) + " |")


def show(volume: str, boundary: str, nodes: int, noise: float, method: str, repeats: int,
         touch_cap: int) -> None:
    pc = _locality_graph(volume, boundary, nodes, 0, noise)
    view = _models(pc.graph, pc.noisy_labels)[method].view_
    seeds = np.random.default_rng(0).choice(LOCALITY_TARGETS[volume][0], repeats,
                                            replace=False)
    for s in seeds:
        for i, step in enumerate(trace(view, int(s), np.asarray(pc.target), touch_cap)):
            print(json.dumps({"target": f"{volume}-{boundary}", "nodes": nodes, "noise": noise,
                              "method": method, "seed_node": int(s), "doubling": i,
                              "conductance": float(step["phi"]), "volume": step["volume"],
                              "support_volume": step["spread"], "f1": step["f1"],
                              "touched": int(step["touched"])}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("record", "replay", "show"))
    parser.add_argument("--root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("traces"))
    parser.add_argument("--touch-cap", type=int, default=400_000)
    parser.add_argument("--volume", choices=list(LOCALITY_TARGETS), default="1e5")
    parser.add_argument("--boundary", choices=list(BOUNDARIES), default="hard")
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--noise", type=float, default=LOCALITY_NOISE)
    parser.add_argument("--method", choices=("lfd", "flow"), default="lfd")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.action == "record":
        record(args.root, args.out, args.touch_cap)
    elif args.action == "replay":
        replay(args.out, args.touch_cap)
    else:
        show(args.volume, args.boundary, args.nodes, args.noise, args.method, args.repeats,
             args.touch_cap)


if __name__ == "__main__":
    main()
