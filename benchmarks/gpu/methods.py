"""The methods on one device, with small fixed settings: each step appends its
records to ``<out>/results.jsonl`` as soon as it ends and rewrites ``<out>/table.md``.

Steps (``--only`` picks some; every step runs on ``--device``):

* ``gcn``: Cora (or, without ``--data``, an SBM of its size), 2-layer GCN, 200 full-batch epochs: graphbias's ``GNN`` beside
  PyG's ``GCNConv`` (``graphbias.bench.speed``, the CPU comparison's models), and
  one ``NodeClassifier(conv="gcn")`` fit;
* ``lagcn``: one ``LAGNNClassifier(conv="gcn", sample_pool=16)`` fit on Cora,
  generator included (goal on a GPU: under 20 s);
* ``forecast``: one training epoch of DCRNN and Graph WaveNet on Los-loop (the
  Los-loop protocol), graphbias's and tsl's (``benchmarks/forecast/tsl_peer.py``,
  when tsl imports) on the same device;
* ``rlearner``: the Graph R-Learner's cross-fitting (GNN nuisances, linear final
  stage) on the network-causal BA graph;
* ``compiled``: the compiled BFS and Bellman-Ford networks on a sparse random graph
  of 10^6 nodes, against scipy's ``csgraph`` on the CPU.

    python benchmarks/gpu/methods.py --device cuda --data ../shared/data \
        --out benchmarks/results/methods_cuda
    python benchmarks/gpu/methods.py --device cpu --quick --only gcn,compiled --out /tmp/m
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
LAGCN_GOAL_SECONDS = 20.0


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], Any], device: str) -> tuple[float, Any]:
    _sync(device)
    start = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - start, out


def _node_data(data: Path) -> tuple[str, Any]:
    """Cora (row-normalised features) when ``data/planetoid`` holds it, else the SBM
    of Cora's size with sparse bag-of-words features of the speed benchmark."""
    from graphbias.bench.speed import speed_dataset
    from graphbias.data.datasets import find_planetoid

    name = "cora" if find_planetoid(data / "planetoid", "cora") is not None else "sbm-2708"
    return name, speed_dataset(data / "planetoid")


def _accuracy(pred: np.ndarray, g: Any) -> float:
    test = g.test_mask.numpy()
    return float((pred[test] == g.y.numpy()[test]).mean())


# ------------------------------------------------------------------- steps
def gcn(device: str, data: Path, quick: bool) -> list[dict]:
    """200 GCN epochs, graphbias beside PyG; one NodeClassifier fit."""
    from graphbias.bench.speed import SPEED_METHODS, SpeedData, gcn_training_seconds
    from graphbias.nn import NodeClassifier

    epochs = 20 if quick else 200
    name, speed = _node_data(data)
    g = speed.graph
    on_device = SpeedData(g.to(device), speed.x_dense.to(device), speed.num_classes)
    records = []
    with torch.device(device):  # the models' parameters are made on the device
        for method in SPEED_METHODS:
            gcn_training_seconds(on_device, method, 2, 0)  # warm-up: kernels, caches
            out = gcn_training_seconds(on_device, method, epochs, 0)
            records.append({"method": method, "dataset": name, **out})
    clf = NodeClassifier(conv="gcn", random_state=0, device=device, max_epochs=epochs)
    seconds, _ = _timed(lambda: clf.fit(g.x, g.y, graph=g, train_mask=g.train_mask,
                                        val_mask=g.val_mask), device)
    records.append({"method": "NodeClassifier", "dataset": name, "seconds": seconds,
                    "epochs": clf.n_epochs_, "test_acc": _accuracy(clf.predict(g.x, graph=g), g)})
    return records


def lagcn(device: str, data: Path, quick: bool) -> list[dict]:
    """One LA-GCN fit on Cora, the generator's training included."""
    from graphbias.augment import LAGNNClassifier, LocalAugmenter

    name, speed = _node_data(data)
    g = speed.graph
    extra = {"max_epochs": 30, "augmenter": LocalAugmenter(max_epochs=1, device=device)} \
        if quick else {}
    clf = LAGNNClassifier(conv="gcn", sample_pool=16, random_state=0, device=device, **extra)
    seconds, _ = _timed(lambda: clf.fit(g.x, g.y, graph=g, train_mask=g.train_mask,
                                        val_mask=g.val_mask), device)
    return [{"method": "la-gcn", "dataset": name, "seconds": seconds, "epochs": clf.n_epochs_,
             "generator_seconds": getattr(clf, "generator_seconds_", None),
             "test_acc": _accuracy(clf.predict(g.x, graph=g), g),
             "goal_seconds": LAGCN_GOAL_SECONDS, "goal_met": seconds < LAGCN_GOAL_SECONDS}]


def _tsl_forecaster() -> Any:
    """The tsl peer, once tsl's models (and their compiled dependencies) import."""
    import tsl.nn.models  # noqa: F401  (tsl_peer imports it only when a model is built)

    sys.path.insert(0, str(HERE.parent / "forecast"))
    from tsl_peer import TSLForecaster

    return TSLForecaster


def forecast(device: str, data: Path, quick: bool) -> list[dict]:
    """Seconds of one training epoch, DCRNN and Graph WaveNet, ours and tsl's."""
    from graphbias.bench.forecast_suite import los_protocol
    from graphbias.data.datasets import load_los_loop
    from graphbias.forecast import STGNNForecaster

    series = load_los_loop(data)
    try:
        tsl: Optional[Any] = _tsl_forecaster()
        tsl_error = ""
    except Exception as err:  # noqa: BLE001 - tsl and its compiled deps are optional
        tsl, tsl_error = None, f"{type(err).__name__}: {err}"
    records = []
    for model in ("dcrnn", "gwnet"):
        for name in (model, f"tsl-{model}"):
            if name.startswith("tsl-") and tsl is None:
                records.append({"method": name, "skipped": tsl_error})
                continue
            cls = tsl if name.startswith("tsl-") else STGNNForecaster
            f = cls(name, random_state=0, device=device, **los_protocol(quick))
            f.set_params(max_epochs=2, validation_fraction=0.0)
            seconds, _ = _timed(lambda f=f: f.fit(series), device)
            epochs = [h["seconds"] for h in f.history_]
            records.append({"method": name, "seconds": seconds,
                            "first_epoch_seconds": epochs[0],
                            "epoch_seconds": epochs[-1],
                            "windows": len(f.split_windows(series).train)})
    return records


def rlearner(device: str, data: Path, quick: bool) -> list[dict]:
    """Cross-fitting of the Graph R-Learner (GNN nuisances, linear final stage)."""
    from graphbias.causal import GraphRLearner
    from graphbias.data.synthetic.network_causal import network_causal

    d = network_causal("ba", 300 if quick else 2000, effect="simple_h", seed=0)
    est = GraphRLearner(nuisance="gnn", final="linear", max_epochs=20 if quick else 200,
                        random_state=0, device=device)
    seconds, _ = _timed(lambda: est.fit(d.Y, d.T, X=d.X, graph=d.graph), device)
    tau = np.asarray(est.effect(d.X, graph=d.graph))
    return [{"method": "graph-rlearner", "seconds": seconds, "nodes": d.graph.num_nodes,
             "ate_error": float(abs(tau.mean() - d.tau.mean()))}]


def compiled(device: str, data: Path, quick: bool) -> list[dict]:
    """Compiled BFS / Bellman-Ford at 10^6 nodes beside scipy; the same outputs."""
    import scipy.sparse as sp
    from scipy.sparse import csgraph

    from graphbias.compile import CompiledAlgorithm
    from graphbias.data.synthetic import algorithm_graph

    n = 10**4 if quick else 10**6
    records = []
    for algorithm in ("bfs", "bellman_ford"):
        rng = np.random.default_rng(0)
        weights = "integer" if algorithm == "bellman_ford" else None
        g = algorithm_graph("sparse_er", n, weights=weights, seed=rng)
        source = int(rng.integers(n))
        model = CompiledAlgorithm(algorithm, device=device).fit()
        model.predict(g, source=source)  # warm-up
        runs = [_timed(lambda: model.predict(g, source=source), device) for _ in range(3)]
        trace = runs[-1][1]
        ei = g.edge_index.numpy()
        w = np.ones(g.num_edges) if g.edge_weight is None else g.edge_weight.numpy()
        adj = sp.csr_matrix((w, (ei[0], ei[1])), shape=(n, n))
        start = time.perf_counter()
        if algorithm == "bfs":
            hops = csgraph.shortest_path(adj, unweighted=True, indices=source)
            want = np.where(np.isinf(hops), -1, hops).astype(np.int64)
            got = trace.outputs["dist"]
        else:
            want, got = csgraph.dijkstra(adj, indices=source), trace.outputs["d"]
        scipy_seconds = time.perf_counter() - start
        records.append({"method": f"compiled-{algorithm}", "nodes": n, "edges": g.num_edges,
                        "seconds": statistics.median(s for s, _ in runs),
                        "steps": trace.num_steps, "scipy_seconds": scipy_seconds,
                        "exact": bool(np.array_equal(got, want))})
    return records


STEPS: dict[str, Callable[[str, Path, bool], list[dict]]] = {
    "gcn": gcn, "lagcn": lagcn, "forecast": forecast, "rlearner": rlearner,
    "compiled": compiled}


# ------------------------------------------------------------------ output
def table(records: list[dict]) -> str:
    """One row per record: step, device, method, seconds, then its other fields."""
    lines = ["| step | device | method | seconds | details |", "|---|---|---|---|---|"]
    for r in records:
        rest = {k: v for k, v in r.items()
                if k not in ("step", "device", "method", "seconds", "gpu", "torch")}
        details = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in rest.items())
        sec = f"{r['seconds']:.2f}" if isinstance(r.get("seconds"), float) else ""
        lines.append(f"| {r['step']} | {r['device']} | {r['method']} | {sec} | {details} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/methods_cuda"))
    p.add_argument("--only", default=",".join(STEPS),
                   help=f"comma-separated steps of {', '.join(STEPS)}")
    p.add_argument("--quick", action="store_true", help="tiny settings (a check that it runs)")
    args = p.parse_args(argv)
    steps = [s for s in args.only.split(",") if s]
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        p.error(f"unknown steps {unknown}; choose from {', '.join(STEPS)}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("methods.py: no CUDA device; use --device cpu", file=sys.stderr)
        return 2
    where = {"device": args.device, "torch": torch.__version__,
             "gpu": torch.cuda.get_device_name(args.device)
             if args.device.startswith("cuda") else None}
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.jsonl"
    failed = []
    for step in steps:
        print(f"== {step} on {args.device}", flush=True)
        try:
            records = [{"step": step, **where, **r}
                       for r in STEPS[step](args.device, args.data, args.quick)]
        except Exception:  # noqa: BLE001 - reported, the other steps still run
            traceback.print_exc()
            failed.append(step)
            records = [{"step": step, **where, "method": "-", "error":
                        traceback.format_exc(limit=1).strip().splitlines()[-1]}]
        with results.open("a") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in records)
        for r in records:
            print(json.dumps(r), flush=True)
    everything = [json.loads(line) for line in results.read_text().splitlines() if line]
    (args.out / "table.md").write_text(table(everything))
    if failed:
        print(f"methods.py: failed steps: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
