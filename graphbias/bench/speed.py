"""Full-batch GCN training speed: graphbias beside PyG, same model, same process.

The model is Kipf & Welling's 2-layer GCN (16 hidden, dropout 0.5 on the input and
hidden layer, Adam lr 0.01, weight decay 5e-4). graphbias keeps bag-of-words
features sparse (dropout and the first product touch stored entries only); PyG's
example densifies them.
"""
from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from ..base import torch_seed
from ..data import Graph
from ..data.datasets import find_planetoid, load_planetoid
from ..data.synthetic import sbm
from ..data.transforms import normalize_features
from ..nn import GNN, as_features

__all__ = ["SPEED_METHODS", "SpeedData", "speed_dataset", "gcn_training_seconds"]

_HAS_PYG = importlib.util.find_spec("torch_geometric") is not None
SPEED_METHODS = ("graphbias", "graphbias-dense") + (
    ("pyg", "pyg-cached") if _HAS_PYG else ())


@dataclass
class SpeedData:
    graph: Graph
    x_dense: torch.Tensor
    num_classes: int


def speed_dataset(root: Optional[Path]) -> SpeedData:
    """Cora when ``root`` holds it; otherwise an SBM of Cora's size with sparse
    1%-dense bag-of-words features."""
    if root is not None and find_planetoid(root, "cora") is not None:
        g = load_planetoid(root, "cora")
    else:
        base = sbm([387] * 7, 0.004, 0.0003, num_features=2, seed=0)
        rng = np.random.default_rng(0)
        words = sp.random(base.num_nodes, 1433, density=0.0127, format="csr",
                          random_state=rng, data_rvs=np.ones)
        g = base.replace(x=words)
    g = g.replace(x=normalize_features(g.x))
    return SpeedData(g, g.x.to_dense(), int(g.y.max()) + 1)


def _pyg_model(in_channels: int, out_channels: int, cached: bool) -> torch.nn.Module:
    from torch_geometric.nn import GCNConv

    class PyGGCN(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = GCNConv(in_channels, 16, cached=cached)
            self.conv2 = GCNConv(16, out_channels, cached=cached)

        def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
            x = F.dropout(x, 0.5, self.training)
            x = F.relu(self.conv1(x, edge_index))
            x = F.dropout(x, 0.5, self.training)
            return self.conv2(x, edge_index)

    return PyGGCN()


def gcn_training_seconds(data: SpeedData, method: str, epochs: int,
                         seed: int) -> dict[str, Any]:
    """Trains for ``epochs`` steps and returns wall seconds, ms per epoch, test acc."""
    if method not in SPEED_METHODS:
        raise ValueError(f"method must be one of {SPEED_METHODS}, got {method!r}")
    g = data.graph
    with torch_seed(seed):
        if method.startswith("pyg"):
            model = _pyg_model(g.num_features, data.num_classes, method == "pyg-cached")
            x, graph_arg = data.x_dense, g.edge_index
        else:
            model = GNN(g.num_features, 16, data.num_classes, conv="gcn", dropout=0.5)
            x = as_features(g.x) if method == "graphbias" else data.x_dense
            graph_arg = g.replace()  # fresh caches: each run pays for its own CSR
        opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
        train, y = g.train_mask, g.y
        start = time.perf_counter()
        for _ in range(epochs):
            model.train()
            opt.zero_grad()
            F.cross_entropy(model(x, graph_arg)[train], y[train]).backward()
            opt.step()
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            pred = model(x, graph_arg).argmax(1)
    test = g.test_mask
    return {"seconds": seconds, "ms_per_epoch": 1000 * seconds / epochs,
            "test_acc": float((pred[test] == y[test]).float().mean()), "epochs": epochs}
