import networkx as nx
import numpy as np
import pytest

from graphbias.compile.reference import (ALGORITHMS, HINTS, NegativeCycleError,
                                         bellman_ford, bfs, dfs, networkx_outputs,
                                         run_reference)
from graphbias.data import Graph
from graphbias.data.synthetic.algorithms import FAMILIES, algorithm_graph, with_negative_cycle


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_reference_equals_networkx(task_graphs, algorithm, family):
    graphs, sources = task_graphs(algorithm, family, count=15)
    for g, s in zip(graphs, sources):
        trace = run_reference(algorithm, g, s)
        expected = networkx_outputs(algorithm, g, s)
        for k, v in expected.items():
            np.testing.assert_array_equal(trace.outputs[k], v, err_msg=f"{k} n={g.num_nodes}")
        assert set(trace.hints) == set(HINTS[algorithm])
        for k, h in trace.hints.items():
            assert h.shape == (trace.num_steps + 1, g.num_nodes)
        for k in ("pi", "reach", "dist", "f"):
            if k in trace.hints:                     # the last state holds the outputs
                np.testing.assert_array_equal(trace.hints[k][-1], trace.outputs[k])


def test_bfs_parent_is_smallest_id_on_a_tie():
    # 0 - {3, 1} - 2: both 1 and 3 are at distance 1 from 0 and adjacent to 2
    g = nx.Graph([(0, 3), (0, 1), (3, 2), (1, 2)])
    t = bfs(Graph(np.array(list(g.edges) + [(v, u) for u, v in g.edges]).T, 4), 0)
    assert t.outputs["pi"].tolist() == [0, 0, 1, 0]
    assert t.outputs["dist"].tolist() == [0, 1, 2, 1]
    assert t.hints["reach"].tolist() == [[1, 0, 0, 0], [1, 1, 0, 1], [1, 1, 1, 1]]


def test_dfs_clrs_times_and_tie_break():
    # CLRS figure 22.4-like: smallest white out-neighbour first, roots by id
    edges = [(0, 1), (0, 3), (1, 4), (2, 4), (2, 5), (3, 1), (4, 3), (5, 5)]
    t = dfs(Graph(np.array(edges).T, 6), 0)
    assert t.outputs["d"].tolist() == [1, 2, 9, 4, 3, 10]
    assert t.outputs["f"].tolist() == [8, 7, 12, 5, 6, 11]
    assert t.outputs["pi"].tolist() == [0, 0, 2, 4, 1, 2]
    assert t.num_steps == 12
    # stack after discovering 3 (time 4): 0 <- 1 <- 4 <- 3
    assert t.hints["top"][4].tolist() == [0, 0, 0, 1, 0, 0]
    assert t.hints["stack_prev"][4].tolist() == [-1, 0, -1, 4, 1, -1]


def test_dfs_starts_at_source():
    t = dfs(Graph(np.array([[0, 1], [1, 2]]), 3), 2)
    assert t.outputs["d"].tolist() == [3, 4, 1]


def test_bellman_ford_parents_and_steps():
    # two shortest paths to 3 (via 1 and via 2, both length 2): parent is 1
    edges = [(0, 1, 1.0), (0, 2, 1.0), (1, 3, 1.0), (2, 3, 1.0), (0, 3, 5.0)]
    ei = np.array([[u, v] for u, v, _ in edges]).T
    w = np.array([x for *_, x in edges])
    t = bellman_ford(Graph(ei, 5, edge_weight=w), 0)
    assert t.outputs["d"].tolist() == [0.0, 1.0, 1.0, 2.0, np.inf]
    assert t.outputs["pi"].tolist() == [0, 0, 0, 1, 4]
    assert t.hints["d"][1].tolist() == [0.0, 1.0, 1.0, 5.0, 0.0]
    assert t.hints["pi"][1].tolist() == [0, 0, 0, 0, 4]


def test_negative_cycle_is_reported_with_its_nodes():
    g = algorithm_graph("er", 10, directed=True, weights="integer", seed=0)
    h = with_negative_cycle(g, source=0, length=4, seed=2)
    with pytest.raises(NegativeCycleError, match="negative cycle") as info:
        bellman_ford(h, 0)
    cycle = info.value.cycle
    w = {(u, v): x for u, v, x in zip(*h.edge_index.tolist(), h.edge_weight.tolist())}
    assert sum(w[(u, v)] for u, v in zip(cycle, cycle[1:] + cycle[:1])) < 0
    assert isinstance(info.value, ValueError)


def test_unknown_algorithm_and_source():
    g = Graph(np.array([[0], [1]]), 2)
    with pytest.raises(ValueError, match="algorithm"):
        run_reference("dijkstra", g)
    with pytest.raises(ValueError, match="source 5 is not a node"):
        bfs(g, 5)
