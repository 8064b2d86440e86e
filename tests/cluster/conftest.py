import numpy as np
import pytest
import torch

from graphbias.data import Graph
from graphbias.data.synthetic import karate_club
from graphbias.data.synthetic.planted import planted_cluster


@pytest.fixture(scope="session")
def karate() -> Graph:
    return karate_club()


@pytest.fixture(scope="session")
def weighted_graph() -> Graph:
    """A connected random graph with strongly varying symmetric weights."""
    rng = np.random.default_rng(3)
    n = 40
    upper = np.triu(rng.random((n, n)) < 0.15, 1)
    upper[np.arange(n - 1), np.arange(1, n)] = True          # a path keeps it connected
    src, dst = np.nonzero(upper)
    w = rng.choice([0.1, 1.0, 10.0], size=src.size)
    ei = np.stack([np.r_[src, dst], np.r_[dst, src]])
    return Graph(torch.from_numpy(ei), n, edge_weight=np.r_[w, w].astype(np.float32),
                 x=rng.standard_normal((n, 3)).astype(np.float32))


@pytest.fixture(scope="session")
def planted():
    return planted_cluster(80, 800, degree_in=10, degree_out=4, degree_rest=8,
                           noise=0.1, seed=0)
