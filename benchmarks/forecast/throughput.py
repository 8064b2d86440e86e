"""Training throughput (windows/s) of graphbias's DCRNN vs the same model whose
diffusion convolution is written with torch_geometric.nn.MessagePassing.

Both run the same encoder-decoder (graphbias.forecast.DCRNN) with identical weights;
only the diffusion step differs (graphbias.ops.spmm vs PyG propagate). Los-loop sizes:
207 nodes, 12 in / 12 out, hidden_channels=32, K = 2, batch 32. Competitors alternate
in the same process; the median over repeats is reported.

    python benchmarks/forecast/throughput.py --root ../shared/data
"""
import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from torch_geometric.nn import MessagePassing

import graphbias.nn.diffusion_conv as dc
from graphbias.data.datasets import load_los_loop
from graphbias.forecast import DCRNN


class PyGDiffusionStep(MessagePassing):
    """One random-walk step out_i = sum_j P_ij x_j, with P given per edge."""

    def __init__(self) -> None:
        super().__init__(aggr="add")

    def forward(self, x, edge_index, weight):
        return self.propagate(edge_index, x=x, weight=weight)

    def message(self, x_j, weight):
        return weight.view(-1, 1) * x_j


class PyGDiffusionConv(torch.nn.Module):
    """Same parameters and maths as graphbias.nn.DiffusionConv, diffusion via PyG."""

    def __init__(self, conv: dc.DiffusionConv, edge_index, weight) -> None:
        super().__init__()
        self.conv, self.step = conv, PyGDiffusionStep()
        src, dst = edge_index
        n = int(edge_index.max()) + 1
        out_deg = torch.zeros(n).index_add_(0, src, weight).clamp(min=1e-12)
        in_deg = torch.zeros(n).index_add_(0, dst, weight).clamp(min=1e-12)
        # forward P_f[i, j] = w_ij / dout_i: node i gathers from j along reversed edges
        self.fwd = (torch.stack([dst, src]), weight / out_deg[src])
        self.bwd = (edge_index, weight / in_deg[dst])

    def forward(self, x, graph):
        terms = [x]
        for ei, w in (self.fwd, self.bwd):
            h = x
            for _ in range(self.conv.k):
                h = self.step(h.reshape(h.size(0), -1), ei, w).view_as(x)
                terms.append(h)
        return self.conv.lin(torch.cat(terms, -1))


def pygify(model: DCRNN, graph) -> DCRNN:
    import copy
    twin = copy.deepcopy(model)
    w = graph.edge_weight if graph.edge_weight is not None else torch.ones(graph.num_edges)
    for cell in list(twin.encoder) + list(twin.decoder):
        cell.gates = PyGDiffusionConv(cell.gates, graph.edge_index, w)
        cell.candidate = PyGDiffusionConv(cell.candidate, graph.edge_index, w)
    return twin


def windows_per_second(model, graph, x, y, steps: int) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)
    start = time.perf_counter()
    for _ in range(steps):
        loss = (model(x, graph) - y).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps * x.size(0) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_los_loop(args.root)
    graph = data.graph
    x, y, *_ = data.gather(list(range(args.batch)), 12, 12)
    torch.manual_seed(0)
    ours = DCRNN(1, 1, 12, hidden_channels=32, k=2)
    theirs = pygify(ours, graph)
    with torch.no_grad():
        diff = (ours(x, graph) - theirs(x, graph)).abs().max().item()
    rates = {"graphbias": [], "pyg": []}
    for _ in range(args.repeats):
        rates["graphbias"].append(windows_per_second(ours, graph, x, y, args.steps))
        rates["pyg"].append(windows_per_second(theirs, graph, x, y, args.steps))
    row = {"benchmark": "dcrnn_throughput", "nodes": graph.num_nodes, "batch": args.batch,
           "max_abs_output_diff": diff,
           **{f"{k}_windows_per_s": statistics.median(v) for k, v in rates.items()},
           "torch": torch.__version__, "threads": 1}
    row["ratio_graphbias_over_pyg"] = row["graphbias_windows_per_s"] / row["pyg_windows_per_s"]
    print(json.dumps(row))
    with Path(__file__).with_name("throughput.jsonl").open("a") as fh:
        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
