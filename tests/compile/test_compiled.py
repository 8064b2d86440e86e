import warnings

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphbias.compile import (CompiledAlgorithm, GraphBatch, NegativeCycleError,
                               compile_algorithm, parameter_distance, task_graph)
from graphbias.compile import compiled as compiled_module
from graphbias.compile.compiled import INVALID, execute
from graphbias.compile.layers import BIG, select
from graphbias.compile.reference import ALGORITHMS, HINTS, networkx_outputs, run_reference
from graphbias.data import Graph
from graphbias.data.synthetic.algorithms import FAMILIES, algorithm_graph
from graphbias.ops import _compiled


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
    assert w[0] == 1.0 and w[1] == -b        # id + B (1 - reach), in units of B
    assert net.message.weight_big.tolist() == [[False, True]] and net.message.bias_big
    eff_w, eff_b = net.message.effective(2.0 ** 50)
    assert eff_w.tolist() == [[1.0, -2.0 ** 50]] and eff_b.tolist() == [2.0 ** 50]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_any_valid_sentinel_gives_the_same_run(algorithm):
    rng = np.random.default_rng(6)
    graphs = [task_graph(algorithm, "sparse_er", 20, rng, i) for i in range(4)]
    net = compile_algorithm(algorithm)
    big = GraphBatch.from_graphs(graphs)
    small = GraphBatch.from_graphs(graphs, big=2.0 ** 12)     # 16 x 2 n max|w| < 2^12
    a = execute(net, big, [0] * 4, hints=True)
    b = execute(net, small, [0] * 4, hints=True)
    assert a.steps == b.steps
    for x, y in zip(a.hints, b.hints):
        for k in x:
            np.testing.assert_array_equal(x[k], y[k])


def _transformed(algorithm, rng):
    """The compiled network moved along its declared symmetries: every gate row
    scaled by a random c > 0, every exchangeable map's rows reversed."""
    net = compile_algorithm(algorithm)
    with torch.no_grad():
        for m in net.affines().values():
            if m.exchangeable:
                m.weight.copy_(m.weight.flip(0))
                m.bias.copy_(m.bias.flip(0))
            if m.gate:
                c = torch.from_numpy(rng.uniform(0.25, 4.0, m.weight.size(0)))
                m.weight.mul_(c[:, None])
                m.bias.mul_(c)
    return net


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_declared_symmetries_change_nothing_and_align_to_zero(algorithm):
    rng = np.random.default_rng(7)
    net = _transformed(algorithm, rng)
    d = parameter_distance(net)
    assert d["raw"] > 0.05 and d["aligned"] < 1e-12
    graphs = [task_graph(algorithm, f, 15, rng, i) for i, f in enumerate(FAMILIES)]
    batch = GraphBatch.from_graphs(graphs)
    ours = execute(net, batch, [1] * len(graphs), hints=True)
    ref = execute(compile_algorithm(algorithm), batch, [1] * len(graphs), hints=True)
    for x, y in zip(ours.hints, ref.hints):
        for k in x:
            np.testing.assert_array_equal(x[k], y[k])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("shift", [-0.2, 0.2])
def test_thresholds_have_a_margin(algorithm, shift):
    """Every gate's bias moved by 0.2 (in its units) leaves the network exact."""
    net = compile_algorithm(algorithm)
    with torch.no_grad():
        for m in net.affines().values():
            if m.gate:
                m.bias.add_(shift)
    rng = np.random.default_rng(8)
    graphs, sources = [task_graph(algorithm, "er", 12, rng, i) for i in range(4)], [0, 1, 2, 3]
    runs = execute(net, GraphBatch.from_graphs(graphs), sources, hints=True)
    for g, s, out, h in zip(graphs, sources, runs.outputs, runs.hints):
        ref = run_reference(algorithm, g, s)
        for k, v in ref.hints.items():
            np.testing.assert_array_equal(h[k], v, err_msg=k)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_training_mode_computes_the_exact_values_with_surrogate_gradients(algorithm):
    rng = np.random.default_rng(9)
    graphs = [task_graph(algorithm, "er", 10, rng, i) for i in range(3)]
    batch = GraphBatch.from_graphs(graphs, big=2.0 ** 12)
    net = compile_algorithm(algorithm)
    state = net.init_state(batch, [0, 1, 2])
    for _ in range(3):
        state = net(state, batch)
    exact = net(state, batch)
    net.train().requires_grad_(True)
    trained = net(state, batch)
    for k in net.hints:
        assert torch.equal(trained[k], exact[k]), k
    sum(v.sum() for k, v in trained.items() if k in net.hints).backward()
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    assert grads and any(bool(g.abs().sum() > 0) for g in grads)


def test_non_finite_learned_values_decode_as_invalid():
    net = compile_algorithm("bfs")
    with torch.no_grad():
        net.message.weight.fill_(float("nan"))
    run = execute(net, GraphBatch.from_graphs([algorithm_graph("grid", 4, seed=0)]), [0])
    assert (run.outputs[0]["pi"] == INVALID).any()


def test_values_beyond_int64_decode_as_invalid_without_a_cast_warning():
    from graphbias.compile.compiled import _decoded

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = _decoded(False, np.array([1e30, -1e30, 2.0, np.inf, 2.0 ** 70]))
    assert out.tolist() == [INVALID, INVALID, 2, INVALID, INVALID]


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


@pytest.mark.parametrize("execution", ["dense", "frontier"])
def test_execute_reports_steps_per_graph(execution):
    graphs = [algorithm_graph("grid", n, seed=0) for n in (4, 25)]
    run = execute(compile_algorithm("bfs"), GraphBatch.from_graphs(graphs), [0, 0],
                  execution=execution)
    assert run.steps == [run_reference("bfs", g, 0).num_steps for g in graphs]


# ------------------------------------------------------------- frontier execution
FRONTIER = ("bfs", "bellman_ford")


def _dense_and_frontier(algorithm, graphs, sources, hints=True):
    net = compile_algorithm(algorithm)
    batch = GraphBatch.from_graphs(graphs)
    return [execute(net, batch, sources, hints=hints, graphs=graphs, execution=e)
            for e in ("dense", "frontier")]


def _assert_runs_equal(a, b):
    assert a.steps == b.steps
    for x, y in zip(a.outputs + a.hints, b.outputs + b.hints):
        assert x.keys() == y.keys()
        for k in x:
            np.testing.assert_array_equal(x[k], y[k], err_msg=k)


@pytest.fixture(params=["switching", "frontier only"])
def dense_fraction(request, monkeypatch):
    """The default (a layer runs densely when many nodes are active) and a
    frontier path that never switches."""
    if request.param == "frontier only":
        monkeypatch.setattr(compiled_module, "DENSE_FRACTION", 1.0)
    return request.param


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("algorithm", FRONTIER)
def test_frontier_equals_dense(task_graphs, algorithm, family, dense_fraction):
    """Undirected, directed, integer and negative weights (task_graph variants)."""
    graphs, sources = task_graphs(algorithm, family, count=15, seed=2)
    _assert_runs_equal(*_dense_and_frontier(algorithm, graphs, sources))


@pytest.mark.parametrize("algorithm", FRONTIER)
def test_frontier_equals_dense_with_real_weights_one_graph_at_a_time(algorithm,
                                                                     dense_fraction):
    rng = np.random.default_rng(10)
    for i in range(6):
        g = algorithm_graph("sparse_er", 150, directed=bool(i % 2), weights="uniform",
                            seed=rng)
        _assert_runs_equal(*_dense_and_frontier(algorithm, [g], [i]))


@settings(max_examples=60, deadline=None)
@given(edge_lists)
def test_property_frontier_equals_dense_and_reports_the_same_negative_cycle(case):
    n, edges, source = case
    ei = np.array([[u for u, _, _ in edges], [v for _, v, _ in edges]],
                  dtype=np.int64).reshape(2, -1)
    g = Graph(ei, n, edge_weight=np.array([x for *_, x in edges], dtype=np.float64)
              if edges else None)
    _assert_runs_equal(*_dense_and_frontier("bfs", [g], [source]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compiled_module, "DENSE_FRACTION", 1.0)
        _assert_runs_equal(*_dense_and_frontier("bfs", [g], [source]))
    outcomes = []
    for execution in ("dense", "frontier"):
        try:
            outcomes.append(CompiledAlgorithm("bellman_ford", execution=execution)
                            .predict(g, source=source, hints=True))
        except NegativeCycleError as err:
            outcomes.append(str(err))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compiled_module, "DENSE_FRACTION", 1.0)
        try:
            outcomes.append(CompiledAlgorithm("bellman_ford", execution="frontier")
                            .predict(g, source=source, hints=True))
        except NegativeCycleError as err:
            outcomes.append(str(err))
    if isinstance(outcomes[0], str):
        assert outcomes[0] == outcomes[1] == outcomes[2]
    else:
        for other in outcomes[1:]:
            assert other.num_steps == outcomes[0].num_steps
            for k, v in outcomes[0].hints.items():
                np.testing.assert_array_equal(other.hints[k], v)


def test_frontier_on_a_batch_that_halts_at_different_steps(dense_fraction):
    graphs = [algorithm_graph("grid", n, weights="integer", seed=n) for n in (1, 9, 60, 200)]
    for algorithm in FRONTIER:
        _assert_runs_equal(*_dense_and_frontier(algorithm, graphs, [0, 4, 7, 100]))


def test_frontier_needs_a_local_network():
    g = algorithm_graph("er", 6, directed=True, seed=0)
    with pytest.raises(ValueError, match="frontier execution needs a network whose layer"):
        execute(compile_algorithm("dfs"), GraphBatch.from_graphs([g]), [0],
                execution="frontier")
    with pytest.raises(ValueError, match="execution must be one of"):
        execute(compile_algorithm("bfs"), GraphBatch.from_graphs([g]), [0],
                execution="sparse")


@pytest.mark.skipif(not _compiled.AVAILABLE, reason="graphbias._C not built")
def test_fused_select_equals_the_torch_expression_bit_for_bit(monkeypatch):
    gen = torch.Generator().manual_seed(0)
    g = torch.randint(0, 2, (500,), generator=gen).double()
    a = torch.randint(-2**40, 2**40, (500,), generator=gen).double()
    b = torch.rand(500, generator=gen, dtype=torch.float64) * 1e6
    a[::17], b[::23], g[::29] = float("nan"), float("inf"), 0.5
    a[::31], b[::31] = -0.0, -0.0                              # signed zeros
    margin = 4 * BIG
    fused = select(g, a, b, margin)
    monkeypatch.setenv("GRAPHBIAS_BACKEND", "torch")
    plain = select(g, a, b, margin)
    assert torch.equal(fused.view(torch.int64), plain.view(torch.int64))   # same bits


@pytest.mark.skipif(not _compiled.AVAILABLE, reason="graphbias._C not built")
@pytest.mark.parametrize("algorithm", FRONTIER)
def test_frontier_on_the_compiled_kernels_equals_the_torch_path(algorithm, monkeypatch):
    """The frontier bookkeeping and the fused select as kernels, or as torch ops."""
    rng = np.random.default_rng(3)
    graphs = [algorithm_graph(family, 120, weights="integer", seed=rng)
              for family in ("grid", "sparse_er", "power_law")]
    fast = _dense_and_frontier(algorithm, graphs, [0, 5, 7])[1]
    monkeypatch.setenv("GRAPHBIAS_BACKEND", "torch")
    _assert_runs_equal(fast, _dense_and_frontier(algorithm, graphs, [0, 5, 7])[1])
