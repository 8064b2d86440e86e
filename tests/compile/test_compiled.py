import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphbias.compile import (CompiledAlgorithm, GraphBatch, NegativeCycleError,
                               compile_algorithm, task_graph)
from graphbias.compile.compiled import execute
from graphbias.compile.reference import ALGORITHMS, HINTS, networkx_outputs, run_reference
from graphbias.data import Graph
from graphbias.data.synthetic.algorithms import FAMILIES, algorithm_graph


def _assert_same(run, ref, hints=True):
    assert run.num_steps == ref.num_steps
    for k, v in ref.outputs.items():
        np.testing.assert_array_equal(run.outputs[k], v, err_msg=k)
    if hints:
        for k, v in ref.hints.items():
            np.testing.assert_array_equal(run.hints[k], v, err_msg=f"hint {k}")


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_compiled_equals_reference_and_networkx(task_graphs, algorithm, family):
    graphs, sources = task_graphs(algorithm, family, count=15, seed=1)
    runs = CompiledAlgorithm(algorithm).predict(graphs, source=sources, hints=True)
    for g, s, run in zip(graphs, sources, runs):
        _assert_same(run, run_reference(algorithm, g, s))
        for k, v in networkx_outputs(algorithm, g, s).items():
            np.testing.assert_array_equal(run.outputs[k], v)


edge_lists = st.integers(1, 9).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                       st.integers(-3, 9)), max_size=30),
    st.integers(0, n - 1)))


@settings(max_examples=60, deadline=None)
@given(edge_lists)
def test_property_any_small_multigraph(case):
    """Self-loops, duplicate edges, isolated nodes: compiled == reference ==
    networkx for BFS and DFS, and for Bellman-Ford with non-negative weights."""
    n, edges, source = case
    ei = np.array([[u for u, _, _ in edges], [v for _, v, _ in edges]],
                  dtype=np.int64).reshape(2, -1)
    w = np.array([abs(x) for *_, x in edges], dtype=np.float64)
    g = Graph(ei, n, edge_weight=w if edges else None)
    for algorithm in ALGORITHMS:
        run = CompiledAlgorithm(algorithm).predict(g, source=source, hints=True)
        _assert_same(run, run_reference(algorithm, g, source))
        for k, v in networkx_outputs(algorithm, g, source).items():
            np.testing.assert_array_equal(run.outputs[k], v)


@settings(max_examples=60, deadline=None)
@given(edge_lists)
def test_property_signed_weights_agree_on_negative_cycles(case):
    """With negative weights, compiled, reference and networkx agree on whether a
    negative cycle is reachable, and on the results when there is none."""
    n, edges, source = case
    ei = np.array([[u for u, _, _ in edges], [v for _, v, _ in edges]],
                  dtype=np.int64).reshape(2, -1)
    g = Graph(ei, n, edge_weight=np.array([x for *_, x in edges], dtype=np.float64)
              if edges else None)
    outcomes = []
    for run in (lambda: CompiledAlgorithm("bellman_ford").predict(g, source=source),
                lambda: run_reference("bellman_ford", g, source),
                lambda: networkx_outputs("bellman_ford", g, source)):
        try:
            result = run()
            outcomes.append(getattr(result, "outputs", result))
        except (NegativeCycleError, nx.NetworkXUnbounded):
            outcomes.append(None)
    assert (outcomes[0] is None) == (outcomes[1] is None) == (outcomes[2] is None)
    if outcomes[0] is not None:
        for k in ("d", "pi", "reach"):
            np.testing.assert_array_equal(outcomes[0][k], outcomes[1][k])
            np.testing.assert_array_equal(outcomes[0][k], outcomes[2][k])


def test_float_weights_give_bitwise_equal_distances():
    rng = np.random.default_rng(0)
    for i in range(10):
        g = algorithm_graph("sparse_er", 200, weights="uniform", seed=rng)
        run = CompiledAlgorithm("bellman_ford").predict(g, source=0)
        ref = networkx_outputs("bellman_ford", g, 0)
        np.testing.assert_array_equal(run.outputs["d"], ref["d"])
        np.testing.assert_array_equal(run.outputs["pi"], ref["pi"])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_one_layer_application_is_one_step(algorithm):
    rng = np.random.default_rng(2)
    g = task_graph(algorithm, "sparse_er", 12, rng)
    ref = run_reference(algorithm, g, 3)
    net = compile_algorithm(algorithm)
    batch = GraphBatch.from_graphs([g])
    state = net.init_state(batch, [3])
    for t in range(ref.num_steps + 1):
        for k in HINTS[algorithm]:
            np.testing.assert_array_equal(state[k].numpy(), ref.hints[k][t],
                                          err_msg=f"{k} at step {t}")
        state = net(state, batch)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_weights_are_fixed_float64_parameters(algorithm):
    net = compile_algorithm(algorithm)
    params = dict(net.named_parameters())
    assert params and all(p.dtype == torch.float64 and not p.requires_grad
                          for p in params.values())
    assert isinstance(net, torch.nn.Module)
    state = dict(net.state_dict())
    clone = compile_algorithm(algorithm)
    clone.load_state_dict(state)


def test_bfs_weights_encode_the_masked_message():
    net = compile_algorithm("bfs")
    assert net.message.inputs == ("id", "reach")
    w, b = net.message.weight.tolist()[0], net.message.bias.item()
    assert w[0] == 1.0 and w[1] == -b        # id + B (1 - reach)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pure_torch_backend_gives_the_same_run(algorithm, monkeypatch):
    rng = np.random.default_rng(5)
    graphs = [task_graph(algorithm, "er", 15, rng, i) for i in range(4)]
    model = CompiledAlgorithm(algorithm)
    fast = model.predict(graphs, source=[0, 1, 2, 3], hints=True)
    monkeypatch.setenv("GRAPHBIAS_BACKEND", "torch")
    slow = model.predict(graphs, source=[0, 1, 2, 3], hints=True)
    for a, b in zip(fast, slow):
        _assert_same(a, b)


def test_batched_run_equals_one_by_one():
    rng = np.random.default_rng(3)
    graphs = [algorithm_graph(f, int(rng.integers(1, 25)), directed=True, seed=rng)
              for f in FAMILIES]
    model = CompiledAlgorithm("dfs")
    together = model.predict(graphs, source=0, hints=True)
    for g, run in zip(graphs, together):
        _assert_same(run, model.predict(g, source=0, hints=True))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_cuda_run_equals_cpu_run(algorithm):
    rng = np.random.default_rng(4)
    graphs = [task_graph(algorithm, "sparse_er", 40, rng, i) for i in range(6)]
    cpu = CompiledAlgorithm(algorithm).predict(graphs, source=0, hints=True)
    gpu = CompiledAlgorithm(algorithm, device="cuda").predict(graphs, source=0, hints=True)
    for a, b in zip(gpu, cpu):
        _assert_same(a, b)


def test_execute_reports_steps_per_graph():
    graphs = [algorithm_graph("grid", n, seed=0) for n in (4, 25)]
    run = execute(compile_algorithm("bfs"), GraphBatch.from_graphs(graphs), [0, 0])
    assert run.steps == [run_reference("bfs", g, 0).num_steps for g in graphs]
