import numpy as np
import pytest

from graphbias.compile import (AlgorithmLearner, CompiledAlgorithm, hint_accuracy_per_step,
                               make_traces, one_step_accuracy, output_accuracy,
                               run_reference, state_distance_per_step)
from graphbias.data.synthetic.algorithms import algorithm_graph, algorithm_graphs


def test_compiled_run_scores_perfectly():
    g = algorithm_graph("sparse_er", 30, directed=True, seed=0)
    truth = run_reference("dfs", g, 0)
    run = CompiledAlgorithm("dfs").predict(g, source=0, hints=True)
    assert output_accuracy(run, truth) == {"pi": 1.0, "d": 1.0, "f": 1.0, "graph": 1.0}
    per_step = hint_accuracy_per_step(run, truth)
    assert all(v.shape == (truth.num_steps + 1,) and v.min() == 1.0 for v in per_step.values())
    dist = state_distance_per_step(run, truth)
    assert dist["hamming"].max() == 0.0 and dist["scalar_l1"].max() == 0.0


def test_a_wrong_parent_and_distance_are_counted():
    g = algorithm_graph("grid", 9, weights="integer", seed=0)
    truth = run_reference("bellman_ford", g, 0)
    pred = run_reference("bellman_ford", g, 0)
    v = int(np.flatnonzero(truth.outputs["pi"] != np.arange(9))[0])
    pred.outputs["pi"][v] = v
    pred.outputs["d"][v] += 0.4                     # within the 0.5 tolerance
    acc = output_accuracy(pred, truth)
    assert acc["pi"] == pytest.approx(8 / 9) and acc["d"] == 1.0 and acc["graph"] == 0.0
    pred.outputs["d"][v] = np.inf
    assert output_accuracy(pred, truth)["d"] == pytest.approx(8 / 9)
    assert output_accuracy(pred, truth, atol=0.0)["d"] == pytest.approx(8 / 9)


def test_early_halt_is_compared_through_its_last_state():
    g = algorithm_graph("grid", 16, shuffle=False, seed=0)
    truth = run_reference("bfs", g, 0)
    stuck = run_reference("bfs", g, 0)
    stuck.hints = {k: v[:1] for k, v in stuck.hints.items()}
    stuck.num_steps = 0
    acc = hint_accuracy_per_step(stuck, truth)["reach"]
    assert acc[0] == 1.0 and acc[-1] == pytest.approx(1 / 16)
    assert state_distance_per_step(stuck, truth)["hamming"][-1] > 0
    with pytest.raises(ValueError, match="hints=True"):
        hint_accuracy_per_step(CompiledAlgorithm("bfs").predict(g), truth)


def test_one_step_accuracy_shapes():
    traces = make_traces("bellman_ford", algorithm_graphs("er", 8, 6, seed=0,
                                                           weights="integer"))
    learner = AlgorithmLearner("bellman_ford", hidden_channels=8, max_epochs=1,
                               random_state=0)
    acc = one_step_accuracy(learner.fit(traces), traces)
    longest = max(t.num_steps for t in traces)
    assert set(acc) == {"reach", "d", "pi"}
    assert all(v.shape == (longest,) and ((0 <= v) & (v <= 1)).all() for v in acc.values())
