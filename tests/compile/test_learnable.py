import pickle

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from graphbias.compile import (CompiledLearner, CompiledNetwork, make_traces,
                               output_accuracy, task_graph)
from graphbias.compile.compiled import compile_algorithm
from graphbias.compile.learnable import initialise, transition_batch, transition_loss
from graphbias.compile.reference import ALGORITHMS, run_reference


def _traces(algorithm, count=6, n=8, seed=0):
    rng = np.random.default_rng(seed)
    return make_traces(algorithm, [task_graph(algorithm, "er", n, rng) for _ in range(count)])


@pytest.fixture(scope="module")
def bfs_traces():
    return _traces("bfs", count=10)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_compiled_point_has_zero_loss_and_stays_put(algorithm):
    traces = _traces(algorithm, count=3)
    learner = CompiledLearner(algorithm, init="compiled", init_noise=0.0, max_epochs=2,
                              random_state=0).fit(traces)
    assert isinstance(learner.module_, CompiledNetwork) and not learner.module_.training
    assert [r["train_loss"] for r in learner.history_] == [0.0, 0.0]
    assert [r["param_distance"] for r in learner.history_] == [0.0, 0.0]
    test = _traces(algorithm, count=2, n=20, seed=1)
    preds = learner.predict([t.graph for t in test], source=[t.source for t in test],
                            hints=True)
    for p, t in zip(preds, test):
        assert output_accuracy(p, t)["graph"] == 1.0


def test_perturbed_start_trains_towards_lower_loss_and_records_distances(bfs_traces):
    learner = CompiledLearner("bfs", init="compiled", init_noise=0.05, max_epochs=8,
                              lr=1e-3, random_state=0).fit(bfs_traces)
    h = learner.history_
    assert set(h[0]) == {"epoch", "train_loss", "param_distance", "param_distance_raw",
                         "lr", "seconds"}
    assert h[-1]["train_loss"] < h[0]["train_loss"]
    assert 0.0 < learner.initial_distance_["aligned"] <= learner.initial_distance_["raw"]
    assert all(r["param_distance"] <= r["param_distance_raw"] + 1e-12 for r in h)
    assert learner.n_epochs_ == 8 and learner.best_epoch_ == 7
    assert learner.n_transitions_ == sum(t.num_steps + 1 for t in bfs_traces)
    assert learner.n_steps_per_epoch_ == -(-learner.n_transitions_ // 32)


def test_random_start_is_far_from_the_compiled_point(bfs_traces):
    learner = CompiledLearner("bfs", max_epochs=1, random_state=0).fit(bfs_traces)
    assert learner.initial_distance_["aligned"] > 0.5


def test_same_random_state_same_history_and_predictions(bfs_traces):
    a = CompiledLearner("bfs", init="compiled", init_noise=0.1, max_epochs=3,
                        random_state=3).fit(bfs_traces)
    b = CompiledLearner("bfs", init="compiled", init_noise=0.1, max_epochs=3,
                        random_state=3).fit(bfs_traces)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in a.history_]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in b.history_]
    g = bfs_traces[0].graph
    np.testing.assert_array_equal(a.predict(g).outputs["pi"], b.predict(g).outputs["pi"])
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.predict(g).outputs["pi"],
                                  a.predict(g).outputs["pi"])
    assert clone(a).get_params() == a.get_params()


def test_refit_keeps_nothing_stale_and_accepts_numpy_numbers(bfs_traces):
    learner = CompiledLearner("bfs", max_epochs=2, random_state=0).fit(bfs_traces)
    learner.set_params(algorithm="bellman_ford", max_epochs=np.int64(1),
                       init_noise=np.float32(0.5), batch_size=np.int32(8))
    learner.fit(_traces("bellman_ford", count=2))
    assert learner.module_.algorithm == "bellman_ford" and learner.n_epochs_ == 1


def test_score_is_greater_is_better(bfs_traces):
    test = _traces("bfs", count=4, seed=5)
    exact = CompiledLearner("bfs", init="compiled", init_noise=0.0, max_epochs=1,
                            random_state=0).fit(bfs_traces)
    random = CompiledLearner("bfs", max_epochs=1, random_state=0).fit(bfs_traces)
    assert exact.score(test) == 1.0 > random.score(test)


def test_predict_reads_networkx_with_node_names():
    traces = _traces("bfs", count=2)
    learner = CompiledLearner("bfs", init="compiled", init_noise=0.0, max_epochs=1,
                              random_state=0).fit(traces)
    g = nx.Graph([("x", "y"), ("y", "z")])
    run = learner.predict(g, source="z")
    assert run.outputs["dist"].tolist() == [2, 1, 0]
    assert run.graph.label_of(run.outputs["pi"]) == ["y", "z", "z"]


def test_transition_batch_and_loss():
    traces = _traces("dfs", count=2, n=5)
    net = compile_algorithm("dfs")
    pairs = [(0, 0), (1, 3), (0, traces[0].num_steps)]
    tb = transition_batch(net, traces, pairs, "cpu")
    assert tb.batch.big == 256.0                   # 16 x (2 x 5 nodes), rounded up
    np.testing.assert_array_equal(tb.target["f"][5:10].numpy(), traces[1].hints["f"][4])
    np.testing.assert_array_equal(tb.target["f"][10:].numpy(), traces[0].hints["f"][-1])
    assert float(transition_loss(net, tb)) == 0.0
    with torch.no_grad():
        net.clock.bias.add_(1.0)
    assert float(transition_loss(net, tb)) > 0.0


def test_initialise():
    net = compile_algorithm("bfs")
    initialise(net, "random", 0.0, torch.Generator().manual_seed(0))
    assert all(float(p.abs().max()) == 0.0 for p in net.parameters())
    with pytest.raises(ValueError, match="init must be one of"):
        initialise(net, "zeros", 1.0, torch.Generator())


def test_errors(bfs_traces):
    with pytest.raises(NotFittedError):
        CompiledLearner("bfs").predict(nx.path_graph(3))
    with pytest.raises(ValueError, match="is a bfs trace"):
        CompiledLearner("dfs").fit(bfs_traces)
    with pytest.raises(ValueError, match="no hints"):
        CompiledLearner("bfs").fit([run_reference("bfs", bfs_traces[0].graph, hints=False)])


@pytest.mark.parametrize("params, match", [
    ({"init": "zeros"}, "init must be one of"),
    ({"init_noise": -0.1}, "init_noise must be a real number"),
    ({"temperature": 0.0}, "temperature must be a real number"),
    ({"max_epochs": 0}, "max_epochs must be an integer >= 1"),
    ({"batch_size": True}, "batch_size must be an integer"),
    ({"lr": 0}, "lr must be a real number"),
    ({"random_state": "x"}, "random_state must be"),
    ({"device": "tpu"}, "device must be"),
    ({"verbose": "yes"}, "verbose must be a bool"),
    ({"algorithm": "sort"}, "algorithm must be one of"),
])
def test_every_parameter_is_validated(bfs_traces, params, match):
    with pytest.raises(ValueError, match=match):
        CompiledLearner(**params).fit(bfs_traces)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(bfs_traces):
    cpu = CompiledLearner("bfs", init="compiled", init_noise=0.1, max_epochs=2,
                          random_state=0).fit(bfs_traces)
    gpu = CompiledLearner("bfs", init="compiled", init_noise=0.1, max_epochs=2,
                          random_state=0, device="cuda").fit(bfs_traces)
    assert next(gpu.module_.parameters()).is_cuda
    np.testing.assert_allclose([r["param_distance"] for r in gpu.history_],
                               [r["param_distance"] for r in cpu.history_], rtol=1e-6)
    g = bfs_traces[0].graph
    np.testing.assert_array_equal(gpu.predict(g).outputs["pi"], cpu.predict(g).outputs["pi"])
