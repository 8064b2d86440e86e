import numpy as np
import pytest

from graphbias.compile import task_graph


@pytest.fixture(scope="module")
def task_graphs():
    """Per algorithm and family, 12 random graphs of 1..30 nodes with sources."""
    def make(algorithm, family, count=12, max_nodes=30, seed=0):
        rng = np.random.default_rng(seed)
        graphs = [task_graph(algorithm, family, int(rng.integers(1, max_nodes + 1)), rng, i)
                  for i in range(count)]
        return graphs, [int(rng.integers(g.num_nodes)) for g in graphs]
    return make
