import pickle
import warnings

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from graphbias.compile import (AlgorithmLearner, CompiledAlgorithm, NegativeCycleError,
                               make_traces, one_step_accuracy, output_accuracy)
from graphbias.compile.learned import LearnedStep
from graphbias.compile.reference import run_reference
from graphbias.data import Graph, as_graph
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


def test_networkx_node_names_are_kept_and_name_the_source():
    g = nx.Graph()
    g.add_nodes_from([2, 0, 1])                    # inserted out of order
    g.add_edges_from([(2, 0), (0, 1)])
    by_nx = CompiledAlgorithm("bfs").predict(g, source=2, hints=True)
    by_graph = CompiledAlgorithm("bfs").predict(as_graph(g), source=2, hints=True)
    assert by_nx.source == by_graph.source == 0     # node 2 is the first node, id 0
    for k, v in by_graph.outputs.items():
        np.testing.assert_array_equal(by_nx.outputs[k], v)
    assert by_nx.graph.label_of(by_nx.outputs["pi"]) == [2, 2, 0]
    assert dict(zip(by_nx.graph.node_labels, by_nx.outputs["dist"])) == {2: 0, 0: 1, 1: 2}
    ref = run_reference("bfs", by_nx.graph, 0)
    np.testing.assert_array_equal(by_nx.hints["pi"], ref.hints["pi"])


def test_string_node_names_and_unknown_sources():
    g = nx.DiGraph([("a", "b"), ("b", "c"), ("a", "c")])
    run = CompiledAlgorithm("dfs").predict(g, source="b")
    assert dict(zip(g.nodes, run.outputs["d"].tolist())) == {"b": 1, "c": 2, "a": 5}
    assert CompiledAlgorithm("dfs").predict(g).source == 0       # default: the first node
    with pytest.raises(ValueError, match="graph 0: source 'z' is not a node"):
        CompiledAlgorithm("dfs").predict(g, source="z")
    with pytest.raises(ValueError, match="source 0 is not a node"):
        CompiledAlgorithm("bfs").predict(nx.Graph([(1, 5), (5, 7)]), source=0)
    assert CompiledAlgorithm("bfs").predict(nx.Graph([(1, 5), (5, 7)]),
                                            source=7).outputs["dist"].tolist() == [2, 1, 0]
    runs = CompiledAlgorithm("bfs").predict([g, nx.path_graph(3)], source=["c", 2])
    assert [r.source for r in runs] == [2, 2]


def test_missing_networkx_weights_weigh_one_and_real_weights_stay_float64():
    g = nx.DiGraph()
    g.add_edge("s", "a", weight=0.1)
    g.add_edge("a", "t", weight=0.2)
    g.add_edge("s", "t")                           # no weight: 1
    g.add_edge("s", "b", weight=0.30000000000000004)
    g.add_edge("b", "t")
    r = CompiledAlgorithm("bellman_ford").predict(g, source="s")
    d = dict(zip(g.nodes, r.outputs["d"].tolist()))
    assert d == {"s": 0.0, "a": 0.1, "t": 0.1 + 0.2, "b": 0.30000000000000004}
    assert r.graph.label_of(int(r.outputs["pi"][r.graph.index_of("t")])) == "a"
    u = nx.Graph()
    u.add_edge(0, 1, weight=2.5)
    u.add_edge(1, 2)
    g64 = CompiledAlgorithm("bellman_ford").predict(u, source=0).graph
    assert g64.edge_weight.dtype == torch.float64
    np.testing.assert_array_equal(g64.edge_weight.float().numpy(),
                                  as_graph(u).edge_weight.numpy())   # same edge order


def test_bad_graph_inputs():
    with pytest.raises(ValueError, match="edge_index must hold integers"):
        CompiledAlgorithm("bfs").predict(np.array([[0.0, 1.5], [1.0, 0.0]]), source=0)
    with pytest.raises(ValueError, match="graph: the graph is empty"):
        CompiledAlgorithm("bfs").predict(nx.Graph(), source=0)
    with pytest.raises(ValueError, match="graph 1: .*weight"):
        CompiledAlgorithm("bellman_ford").predict(
            [nx.path_graph(2), nx.Graph([(0, 1, {"weight": "heavy"})])])


def test_huge_weights():
    g = Graph(np.array([[0], [1]]), 2, edge_weight=np.array([1e15]))
    with pytest.raises(ValueError, match="exact range"):
        CompiledAlgorithm("bellman_ford").predict(g, source=0)


def test_compiled_estimator_contract():
    est = CompiledAlgorithm("dfs")
    assert est.get_params() == {"algorithm": "dfs", "device": "cpu", "execution": "auto"}
    assert not est.__sklearn_tags__().requires_fit
    assert est.fit() is est and est.network_.algorithm == "dfs"
    assert est.device_ == torch.device("cpu")
    restored = pickle.loads(pickle.dumps(est))
    g = algorithm_graph("er", 10, directed=True, seed=0)
    np.testing.assert_array_equal(restored.predict(g).outputs["f"],
                                  est.predict(g).outputs["f"])
    est.set_params(algorithm="bfs")
    assert est.predict(g).algorithm == "bfs"            # follows the new parameter
    assert est.fit().network_.algorithm == "bfs"


@pytest.mark.parametrize("params, match", [
    ({"algorithm": "dijkstra"}, "algorithm must be one of 'bfs', 'dfs', 'bellman_ford'"),
    ({"device": "tpu"}, "device must be"), ({"device": 0}, "device must be"),
    ({"execution": "sparse"}, "execution must be one of 'auto', 'dense', 'frontier'"),
])
def test_compiled_validates_parameters_in_fit_and_predict(params, match):
    with pytest.raises(ValueError, match=match):
        CompiledAlgorithm(**params).fit()
    with pytest.raises(ValueError, match=match):
        CompiledAlgorithm(**params).predict(nx.path_graph(3))


@pytest.mark.parametrize("execution", ["auto", "dense", "frontier"])
def test_execution_paths_agree(execution):
    graphs = algorithm_graphs("grid", 30, 3, seed=0, weights="integer")
    ref = CompiledAlgorithm("bellman_ford", execution="dense").predict(graphs, source=[0, 5, 29],
                                                                        hints=True)
    runs = CompiledAlgorithm("bellman_ford", execution=execution).predict(
        graphs, source=[0, 5, 29], hints=True)
    for a, b in zip(runs, ref):
        assert a.num_steps == b.num_steps
        for k, v in b.hints.items():
            np.testing.assert_array_equal(a.hints[k], v)


def test_frontier_execution_of_dfs_is_refused_and_auto_runs_it_dense():
    g = algorithm_graph("er", 6, directed=True, seed=0)
    with pytest.raises(ValueError, match="frontier execution needs a network"):
        CompiledAlgorithm("dfs", execution="frontier").predict(g)
    assert CompiledAlgorithm("dfs").predict(g).num_steps == 12


@pytest.mark.parametrize("source", [np.array(1), torch.tensor(1), np.int64(1),
                                    np.array([1, 1]), torch.tensor([1, 1]), (1, 1)])
def test_zero_dimensional_and_array_sources(source):
    graphs = [nx.path_graph(3), nx.path_graph(4)]
    runs = CompiledAlgorithm("bfs").predict(graphs, source=source)
    assert [r.source for r in runs] == [1, 1]
    assert runs[1].outputs["dist"].tolist() == [1, 0, 1, 2]
    one = CompiledAlgorithm("bfs").predict(nx.path_graph(3), source=np.array(2))
    assert one.source == 2 and one.outputs["dist"].tolist() == [2, 1, 0]


@pytest.mark.parametrize("source, match", [
    (np.array(1.0), "source must be an integer"), (torch.tensor(True), "source must be"),
    (np.array(5), "source 5 is not a node"), (np.array([[0], [1]]), "source must be"),
])
def test_bad_array_sources(source, match):
    with pytest.raises(ValueError, match=match):
        CompiledAlgorithm("bfs").predict([nx.path_graph(3)] * 2, source=source)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_compiled_on_cuda_matches_cpu():
    g = algorithm_graph("sparse_er", 30, weights="integer", seed=0)
    cpu = CompiledAlgorithm("bellman_ford").predict(g, source=0, hints=True)
    gpu = CompiledAlgorithm("bellman_ford", device="cuda").predict(g, source=0, hints=True)
    np.testing.assert_array_equal(gpu.outputs["d"], cpu.outputs["d"])
    np.testing.assert_array_equal(gpu.hints["pi"], cpu.hints["pi"])


def test_cuda_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        CompiledAlgorithm("bfs", device="cuda").predict(nx.path_graph(3))
    with pytest.raises(ValueError, match="CUDA is not available"):
        AlgorithmLearner("bfs", device="cuda").fit([])


@pytest.mark.skipif(torch.cuda.is_available(), reason="loading without CUDA")
def test_compiled_fitted_for_cuda_loads_and_runs_on_a_cpu_only_machine():
    est = CompiledAlgorithm("bfs").fit()
    # the state a CUDA fit leaves (network stored on the CPU by pickling)
    est.set_params(device="cuda")
    est._fit_params_, est.device_ = est.get_params(), torch.device("cuda")
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        restored = pickle.loads(pickle.dumps(est))
    assert restored.device_ == torch.device("cpu")
    assert restored.predict(nx.path_graph(3), source=0).outputs["dist"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="CUDA is not available"):
        restored.set_params(algorithm="dfs").predict(nx.path_graph(3))


@pytest.fixture(scope="module")
def bfs_traces():
    return make_traces("bfs", algorithm_graphs("er", 8, 12, seed=0))


def test_learner_fits_predicts_and_is_reproducible(bfs_traces):
    a = AlgorithmLearner("bfs", hidden_channels=16, max_epochs=3,
                         random_state=0).fit(bfs_traces)
    b = AlgorithmLearner("bfs", hidden_channels=16, max_epochs=3,
                         random_state=0).fit(bfs_traces)
    assert a.history_ == [dict(r, seconds=s["seconds"]) for r, s in zip(b.history_,
                                                                        a.history_)]
    assert [r["epoch"] for r in a.history_] == [0, 1, 2] and a.n_epochs_ == 3
    assert a.best_epoch_ == 2 and isinstance(a.module_, LearnedStep)
    assert a.module_.hidden == 16
    assert a.n_transitions_ == sum(t.num_steps + 1 for t in bfs_traces)
    g = bfs_traces[0].graph
    pa = a.predict(g, source=0, hints=True)
    assert pa.hints["pi"].shape == (pa.num_steps + 1, g.num_nodes)
    np.testing.assert_array_equal(pa.outputs["pi"], b.predict(g, source=0).outputs["pi"])
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.predict(g, source=0).outputs["pi"],
                                  pa.outputs["pi"])
    np.testing.assert_array_equal(a.predict(g, source=torch.tensor(0)).outputs["pi"],
                                  pa.outputs["pi"])
    assert 0.0 <= a.score(bfs_traces) <= 1.0
    assert clone(a).get_params() == a.get_params()


def test_learner_deprecated_names(bfs_traces):
    with pytest.warns(FutureWarning) as caught:
        old = AlgorithmLearner("bfs", hidden=16, epochs=2, random_state=0).fit(bfs_traces)
    assert sorted(str(w.message).split(":")[1].split(";")[0] for w in caught) == [
        " epochs was renamed max_epochs and will be removed in the next release",
        " hidden was renamed hidden_channels and will be removed in the next release"]
    new = AlgorithmLearner("bfs", hidden_channels=16, max_epochs=2,
                           random_state=0).fit(bfs_traces)
    assert old.n_epochs_ == 2 and old.module_.hidden == 16
    with pytest.warns(FutureWarning, match="loss_curve_ was renamed history_"):
        curve = old.loss_curve_
    assert curve == [r["train_loss"] for r in new.history_]
    with pytest.warns(FutureWarning, match="model_ was renamed module_"):
        assert old.model_ is old.module_
    with pytest.raises(ValueError, match="epochs is a deprecated alias of max_epochs"):
        AlgorithmLearner("bfs", epochs=2, max_epochs=3).fit(bfs_traces)


def test_learner_refit_starts_clean_and_score_is_greater_is_better(bfs_traces):
    learner = AlgorithmLearner("bfs", max_epochs=20, random_state=0)
    short = clone(learner).set_params(max_epochs=1).fit(bfs_traces)
    learner.fit(bfs_traces)
    assert learner.score(bfs_traces) > short.score(bfs_traces)
    learner.set_params(max_epochs=1, hidden_channels=8).fit(bfs_traces)
    assert learner.n_epochs_ == 1 and len(learner.history_) == 1
    assert learner.module_.hidden == 8


def test_learner_accepts_numpy_integers(bfs_traces):
    learner = AlgorithmLearner("bfs", hidden_channels=np.int64(8), max_epochs=np.int32(1),
                               batch_size=np.int64(16), random_state=np.int64(0))
    assert learner.fit(bfs_traces).n_epochs_ == 1


def test_learner_learns_bfs_on_its_training_distribution(bfs_traces):
    learner = AlgorithmLearner("bfs", max_epochs=30, random_state=0).fit(bfs_traces)
    losses = [r["train_loss"] for r in learner.history_]
    assert losses[-1] < 0.5 * losses[0]
    test = make_traces("bfs", algorithm_graphs("er", 8, 10, seed=1))
    preds = learner.predict([t.graph for t in test], source=0)
    acc = np.mean([output_accuracy(p, t)["reach"] for p, t in zip(preds, test)])
    assert acc > 0.9
    steps = one_step_accuracy(learner, test)
    assert set(steps) == {"reach", "pi", "dist"} and steps["reach"][0] > 0.9


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_learner_on_cuda_matches_cpu(bfs_traces):
    cpu = AlgorithmLearner("bfs", hidden_channels=16, max_epochs=2,
                           random_state=0).fit(bfs_traces)
    gpu = AlgorithmLearner("bfs", hidden_channels=16, max_epochs=2, random_state=0,
                           device="cuda").fit(bfs_traces)
    assert next(gpu.module_.parameters()).is_cuda
    np.testing.assert_allclose([r["train_loss"] for r in gpu.history_],
                               [r["train_loss"] for r in cpu.history_], rtol=1e-4)
    g = bfs_traces[0].graph
    out = gpu.predict(g, source=0, hints=True)
    assert isinstance(out.outputs["pi"], np.ndarray)
    restored = pickle.loads(pickle.dumps(gpu))
    np.testing.assert_array_equal(restored.predict(g, source=0).outputs["pi"],
                                  out.outputs["pi"])


def test_learner_errors(bfs_traces):
    with pytest.raises(NotFittedError):
        AlgorithmLearner("bfs").predict(nx.path_graph(3))
    with pytest.raises(NotFittedError):
        AlgorithmLearner("bfs").score(bfs_traces)
    with pytest.raises(ValueError, match="is a bfs trace"):
        AlgorithmLearner("dfs").fit(bfs_traces)
    with pytest.raises(ValueError, match="non-empty list"):
        AlgorithmLearner("bfs").fit([])
    with pytest.raises(ValueError, match="not a Trace"):
        AlgorithmLearner("bfs").fit([nx.path_graph(3)])
    with pytest.raises(ValueError, match="no hints"):
        AlgorithmLearner("bfs").fit([run_reference("bfs", bfs_traces[0].graph, hints=False)])


@pytest.mark.parametrize("params, match", [
    ({"max_epochs": 0}, "max_epochs must be an integer >= 1"),
    ({"max_epochs": True}, "max_epochs must be an integer >= 1, got True"),
    ({"hidden_channels": 2.0}, "hidden_channels must be an integer >= 1"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1"),
    ({"lr": -1.0}, r"lr must be a real number in \(0, inf\)"),
    ({"lr": float("nan")}, "lr must be a real number"),
    ({"random_state": -1}, "random_state must be None"),
    ({"verbose": 1}, "verbose must be a bool"),
    ({"device": "gpu"}, "device must be"),
    ({"algorithm": "sort"}, "algorithm must be one of"),
    ({"epochs": 0}, "epochs must be an integer >= 1"),
])
def test_learner_validates_every_parameter(bfs_traces, params, match):
    with pytest.raises(ValueError, match=match), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        AlgorithmLearner(**{"algorithm": "bfs", **params}).fit(bfs_traces)
