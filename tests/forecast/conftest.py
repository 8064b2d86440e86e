from pathlib import Path

import numpy as np
import pytest
import torch

from graphbias.data import Graph
from graphbias.data.datasets import load_los_loop

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def los_loop():
    if not (SHARED_DATA / "traffic" / "los_speed.csv").exists():
        pytest.skip(f"Los-loop files not found under {SHARED_DATA / 'traffic'}")
    return load_los_loop(SHARED_DATA)


@pytest.fixture
def driven():
    """``driven(per_node, lag)``: ``y[t] = 0.6 y[t-1] + 1.5 u[t-lag] + 0.1 noise``
    with a known input ``u`` (one series, or one per node) that the series alone
    cannot foresee; ``lag=0`` drives each step by the input of that same step, which
    no input window holds. Returns ``(y, u)``."""
    def make(per_node: bool, lag: int = 1, steps: int = 600, nodes: int = 5,
             seed: int = 0):
        rng = np.random.default_rng(seed)
        u = rng.standard_normal((steps, nodes) if per_node else (steps, 1))
        y = np.zeros((steps, nodes))
        for t in range(1, steps):
            y[t] = 0.6 * y[t - 1] + 1.5 * u[t - lag] + 0.1 * rng.standard_normal(nodes)
        return y, u
    return make


@pytest.fixture
def ring():
    """``ring(n)``: the directed cycle 0 -> 1 -> ... -> n-1 -> 0."""
    def make(n: int) -> Graph:
        src = np.arange(n)
        return Graph(torch.tensor(np.stack([src, (src + 1) % n])), n)
    return make


@pytest.fixture
def check_blocks():
    """``check_blocks(m)``: a model built for 5 nodes, 2 input channels, 4 steps in and
    2 out forecasts 3 windows side by side (the nodes of one block-diagonal graph) as
    it forecasts each alone, and refuses 7 nodes."""
    def check(m: torch.nn.Module) -> None:
        x = torch.randn(3, 4, 5, 2)
        g = Graph(torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]), 5)
        union = Graph(torch.cat([g.edge_index + 5 * b for b in range(3)], 1), 15)
        side_by_side = x.transpose(0, 1).reshape(1, 4, 15, 2)
        out = m(side_by_side, union).reshape(2, 3, 5, 1).transpose(0, 1)
        torch.testing.assert_close(out, m(x, g), rtol=1e-5, atol=1e-6)
        with pytest.raises(ValueError, match="built for 5 nodes .or blocks of them., got 7"):
            m(torch.randn(3, 4, 7, 2), Graph(torch.tensor([[0], [1]]), 7))
    return check
