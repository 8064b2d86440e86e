import pickle

import networkx as nx
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from graphbias.compile import (AlgorithmLearner, CompiledAlgorithm, NegativeCycleError,
                               make_traces, output_accuracy)
from graphbias.compile.reference import run_reference
from graphbias.data import Graph
from graphbias.data.synthetic.algorithms import (algorithm_graph, algorithm_graphs,
                                                 with_negative_cycle)


def test_predict_accepts_networkx_scipy_and_edge_index():
    g = nx.path_graph(5)
    by_nx = CompiledAlgorithm("bfs").predict(g, source=2)
    assert by_nx.outputs["dist"].tolist() == [2, 1, 0, 1, 2]
    by_scipy = CompiledAlgorithm("bfs").predict(nx.to_scipy_sparse_array(g, format="csr"),
                                                source=2)
    np.testing.assert_array_equal(by_scipy.outputs["pi"], by_nx.outputs["pi"])
    by_list = CompiledAlgorithm("dfs").predict([[0, 1], [1, 2]], source=0)
    assert by_list.outputs["d"].tolist() == [1, 2, 3]


def test_networkx_weights_are_read_in_float64():
    g = nx.DiGraph()
    g.add_weighted_edges_from([(0, 1, 0.1), (1, 2, 0.2), (0, 2, 0.30000000000000004)])
    r = CompiledAlgorithm("bellman_ford").predict(g, source=0)
    assert r.outputs["d"][2] == 0.1 + 0.2 and r.outputs["pi"][2] == 0


def test_batch_returns_one_result_per_graph_with_its_source():
    graphs = algorithm_graphs("sparse_er", 20, 4, seed=0, weights="integer")
    runs = CompiledAlgorithm("bellman_ford").predict(graphs, source=[0, 5, 10, 19])
    assert [r.source for r in runs] == [0, 5, 10, 19]
    for g, r in zip(graphs, runs):
        ref = run_reference("bellman_ford", g, r.source, hints=False)
        np.testing.assert_array_equal(r.outputs["d"], ref.outputs["d"])


def test_negative_cycle_is_detected_in_the_right_graph():
    graphs = algorithm_graphs("er", 8, 3, seed=1, directed=True, weights="integer")
    graphs[2] = with_negative_cycle(graphs[2], source=0, length=3, seed=0)
    with pytest.raises(NegativeCycleError, match="graph 2: a negative cycle") as info:
        CompiledAlgorithm("bellman_ford").predict(graphs, source=0)
    g = graphs[2]
    w = {(u, v): x for u, v, x in zip(*g.edge_index.tolist(), g.edge_weight.tolist())}
    cycle = info.value.cycle
    assert sum(w[(u, v)] for u, v in zip(cycle, cycle[1:] + cycle[:1])) < 0


def test_negative_self_loop_is_a_negative_cycle():
    g = Graph(np.array([[0, 1], [1, 1]]), 2, edge_weight=np.array([1.0, -1.0]))
    with pytest.raises(NegativeCycleError) as info:
        CompiledAlgorithm("bellman_ford").predict(g, source=0)
    assert info.value.cycle == [1]


def test_unreachable_negative_cycle_is_fine():
    g = Graph(np.array([[0, 2, 3], [1, 3, 2]]), 4, edge_weight=np.array([2.0, -3.0, 1.0]))
    r = CompiledAlgorithm("bellman_ford").predict(g, source=0)
    assert r.outputs["d"].tolist() == [0.0, 2.0, np.inf, np.inf]


@pytest.mark.parametrize("source, match", [
    (7, "source 7 is not a node"), (-1, "source -1 is not a node"),
    (1.0, "source must be an integer"), ("a", "source must be an integer"),
    (True, "source must be an integer"),
])
def test_bad_source(source, match):
    with pytest.raises(ValueError, match=match):
        CompiledAlgorithm("bfs").predict(nx.path_graph(3), source=source)


def test_bad_source_list():
    with pytest.raises(ValueError, match="2 sources for 3 graphs"):
        CompiledAlgorithm("bfs").predict([nx.path_graph(3)] * 3, source=[0, 1])
    with pytest.raises(ValueError, match="graph 1: source 4 is not a node"):
        CompiledAlgorithm("bfs").predict([nx.path_graph(3)] * 2, source=[0, 4])


def test_non_integer_node_ids():
    with pytest.raises(ValueError, match="node ids must be integers"):
        CompiledAlgorithm("dfs").predict(nx.Graph([("a", "b")]), source=0)
    with pytest.raises(ValueError, match="node ids must be integers"):
        CompiledAlgorithm("dfs").predict(nx.Graph([(0.5, 1.5)]), source=0)
    with pytest.raises(ValueError, match=r"exactly 0\.\.2"):
        CompiledAlgorithm("dfs").predict(nx.Graph([(1, 5), (5, 7)]), source=0)
    with pytest.raises(ValueError, match="edge_index must hold integers"):
        CompiledAlgorithm("bfs").predict(np.array([[0.0, 1.5], [1.0, 0.0]]), source=0)
    with pytest.raises(ValueError, match="empty"):
        CompiledAlgorithm("bfs").predict(nx.Graph(), source=0)


def test_unknown_algorithm_and_huge_weights():
    with pytest.raises(ValueError, match="algorithm must be one of"):
        CompiledAlgorithm("dijkstra").predict(nx.path_graph(3))
    g = Graph(np.array([[0], [1]]), 2, edge_weight=np.array([1e15]))
    with pytest.raises(ValueError, match="exact range"):
        CompiledAlgorithm("bellman_ford").predict(g, source=0)


def test_compiled_estimator_contract():
    est = CompiledAlgorithm("dfs")
    assert est.get_params() == {"algorithm": "dfs", "device": "cpu"}
    assert est.fit() is est and est.network_.algorithm == "dfs"
    restored = pickle.loads(pickle.dumps(est))
    g = algorithm_graph("er", 10, directed=True, seed=0)
    np.testing.assert_array_equal(restored.predict(g).outputs["f"],
                                  est.predict(g).outputs["f"])
    est.set_params(algorithm="bfs")
    assert est.predict(g).algorithm == "bfs"            # follows the new parameter


@pytest.fixture(scope="module")
def bfs_traces():
    return make_traces("bfs", algorithm_graphs("er", 8, 12, seed=0))


def test_learner_fits_predicts_and_is_reproducible(bfs_traces):
    a = AlgorithmLearner("bfs", hidden=16, epochs=3, random_state=0).fit(bfs_traces)
    b = AlgorithmLearner("bfs", hidden=16, epochs=3, random_state=0).fit(bfs_traces)
    assert a.loss_curve_ == b.loss_curve_ and len(a.loss_curve_) == 3
    assert a.n_transitions_ == sum(t.num_steps + 1 for t in bfs_traces)
    g = bfs_traces[0].graph
    pa = a.predict(g, source=0, hints=True)
    assert pa.hints["pi"].shape == (pa.num_steps + 1, g.num_nodes)
    np.testing.assert_array_equal(pa.outputs["pi"], b.predict(g, source=0).outputs["pi"])
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.predict(g, source=0).outputs["pi"],
                                  pa.outputs["pi"])
    assert 0.0 <= a.score(bfs_traces) <= 1.0
    assert clone(a).get_params() == a.get_params()


def test_learner_learns_bfs_on_its_training_distribution(bfs_traces):
    learner = AlgorithmLearner("bfs", epochs=30, random_state=0).fit(bfs_traces)
    assert learner.loss_curve_[-1] < 0.5 * learner.loss_curve_[0]
    test = make_traces("bfs", algorithm_graphs("er", 8, 10, seed=1))
    preds = learner.predict([t.graph for t in test], source=0)
    acc = np.mean([output_accuracy(p, t)["reach"] for p, t in zip(preds, test)])
    assert acc > 0.9


def test_learner_errors(bfs_traces):
    with pytest.raises(NotFittedError):
        AlgorithmLearner("bfs").predict(nx.path_graph(3))
    with pytest.raises(ValueError, match="is a bfs trace"):
        AlgorithmLearner("dfs").fit(bfs_traces)
    with pytest.raises(ValueError, match="non-empty list"):
        AlgorithmLearner("bfs").fit([])
    with pytest.raises(ValueError, match="not a Trace"):
        AlgorithmLearner("bfs").fit([nx.path_graph(3)])
    with pytest.raises(ValueError, match="no hints"):
        AlgorithmLearner("bfs").fit([run_reference("bfs", bfs_traces[0].graph, hints=False)])
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        AlgorithmLearner("bfs", epochs=0).fit(bfs_traces)
    with pytest.raises(ValueError, match="lr must be a positive"):
        AlgorithmLearner("bfs", lr=-1.0).fit(bfs_traces)
    with pytest.raises(ValueError, match="algorithm must be one of"):
        AlgorithmLearner("sort").fit(bfs_traces)
