"""benchmarks/cluster/label_percolation.py: the largest component of the nodes
labelled 1, against a hand count and networkx."""
import networkx as nx
import numpy as np
import pytest



@pytest.fixture(scope="module")
def percolation(benchmark_script):
    return benchmark_script("cluster/label_percolation.py")


def _both_ways(edges):
    e = np.array(edges).T
    return np.hstack([e, e[::-1]])


def test_largest_labelled_component_by_hand(percolation):
    # path 0-1-2-3-4 and 5-6; labelled 1: 0, 1, 2 (a component of 3), 4, 5, 6
    edges = _both_ways([(0, 1), (1, 2), (2, 3), (3, 4), (5, 6)])
    labels = np.array([1, 1, 1, 0, 1, 1, 1])
    row = percolation.labelled_component(edges, labels, np.array([0, 5]))
    assert row == {"labelled": 6, "largest_labelled_component": 3,
                   "with_neighbours": 4, "target_share_in_it": 0.5}


def test_largest_labelled_component_matches_networkx(percolation):
    g = nx.gnp_random_graph(400, 0.01, seed=0)
    rng = np.random.default_rng(0)
    labels = (rng.random(400) < 0.5).astype(int)
    row = percolation.labelled_component(_both_ways(list(g.edges)), labels, np.arange(10))
    ones = g.subgraph(np.flatnonzero(labels).tolist())
    largest = max(nx.connected_components(ones), key=len)
    reached = set(largest).union(*(g[v] for v in largest))
    assert row["largest_labelled_component"] == len(largest)
    assert row["with_neighbours"] == len(reached)
    assert row["target_share_in_it"] == np.isin(np.arange(10), list(largest)).mean()
