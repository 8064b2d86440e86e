from pathlib import Path

import numpy as np
import pytest

from graphbias.bench.compile_suite import (GAP_STARTS, exactness, large_graph_speed,
                                           learning_gap, parameter_gap, random_exactness,
                                           suite)
from graphbias.bench.report import curve_fields
from graphbias.bench.suites import SUITES
from graphbias.data.synthetic.algorithms import FAMILIES, algorithm_graphs


def test_quick_suite_cells():
    cells = suite(None, 2, True)
    kinds = {c.dataset.split("/")[0] for c in cells}
    assert kinds == {"exact", "gap", "twin", "twin-grid", "speed"}
    assert {c.dataset for c in cells if c.dataset.startswith("twin-grid/")} == {
        "twin-grid/bfs", "twin-grid/bellman_ford"}
    assert len([c for c in cells if c.dataset.startswith("exact/")]) == 15 * 2
    gap = [c for c in cells if c.dataset.startswith("gap/")]
    assert {c.method for c in gap} == set(GAP_STARTS) and len(gap) == 3 * len(GAP_STARTS) * 2
    speed = [c for c in cells if c.dataset.startswith("speed/")]
    assert {c.dataset for c in speed} == {f"speed/{f}-1e4" for f in FAMILIES if f != "er"}
    assert {c.method for c in speed} == {"bfs", "bellman_ford"}
    assert {c.seed for c in speed} == {0}
    keys = [(c.dataset, c.method, c.seed) for c in cells]
    assert len(keys) == len(set(keys)) and "compile" in SUITES
    full = suite(None, 1, False)
    sizes = {c.dataset.rsplit("-", 1)[1] for c in full if c.dataset.startswith("speed/")}
    assert sizes == {"1e5", "1e6"}


def test_exact_cell_compares_dense_frontier_reference_and_networkx():
    cells = {(c.dataset, c.method): c for c in suite(None, 1, True)}
    m = cells["exact/grid", "bellman_ford"].run()
    assert m["exact"] == 1.0 and m["frontier_exact"] == 1.0 and m["graphs"] == 20
    dfs = cells["exact/tree", "dfs"].run()
    assert dfs["exact"] == 1.0 and "frontier_exact" not in dfs


def test_exactness_counts_a_wrong_run(monkeypatch):
    import graphbias.bench.compile_suite as cs

    graphs = algorithm_graphs("grid", 9, 2, seed=0)
    real = cs.run_reference

    def shifted(algorithm, g, s, hints=True):
        trace = real(algorithm, g, s, hints=hints)
        trace.outputs["dist"] = trace.outputs["dist"] + (g is graphs[1])
        return trace

    monkeypatch.setattr(cs, "run_reference", shifted)
    assert exactness("bfs", graphs, [0, 0], networkx=False)["exact"] == 0.5


def test_random_exactness_with_negative_weights_and_large_graphs():
    m = random_exactness("bellman_ford", "sparse_er", 10, 30, seed=1, large=1,
                         large_nodes=300)
    assert m["exact"] == 1.0 and m["frontier_exact"] == 1.0 and m["max_nodes"] == 300


def test_gap_cell_records_distances_accuracies_and_curves():
    m = parameter_gap("bellman_ford", "noise0.05", 0, train_graphs=3, max_epochs=2,
                      test_sizes=(8, 12), test_graphs=2)
    assert 0 < m["initial_distance"] <= m["initial_distance_raw"]
    assert m["init_noise"] == 0.05 and m["lr"] == 1e-3
    for n in (8, 12):
        assert 0.0 <= m[f"hint_acc_n{n}"] <= 1.0 and 0.0 <= m[f"exact_n{n}"] <= 1.0
        assert m[f"state_distance_n{n}"] >= 0.0
    assert curve_fields(m) == ["training", "by_size", "by_step"]
    assert [p["t"] for p in m["by_size"]] == [8, 12]
    assert m["training"][-1]["param_distance"] == m["param_distance"]
    with pytest.raises(ValueError, match="start must be one of"):
        parameter_gap("bfs", "zeros", 0, train_graphs=1, max_epochs=1, test_sizes=(8,),
                      test_graphs=1)


def test_compiled_start_is_exact_at_every_size():
    m = parameter_gap("dfs", "compiled", 0, train_graphs=2, max_epochs=1,
                      test_sizes=(6, 20), test_graphs=2)
    assert m["param_distance"] == 0.0 and m["exact_n6"] == m["exact_n20"] == 1.0
    assert m["state_distance_n20"] == 0.0 and m["hint_acc_n20"] == 1.0


@pytest.mark.parametrize("test_family", [None, "grid"])
def test_twin_cell_reports_learned_and_compiled_accuracy(test_family):
    m = learning_gap("bfs", 0, train_graphs=5, max_epochs=1, test_sizes=(9,), test_graphs=2,
                     test_family=test_family)
    assert m["compiled_pi_n9"] == 1.0 and m["compiled_graph_n9"] == 1.0
    assert 0.0 <= m["pi_n9"] <= 1.0


@pytest.mark.parametrize("algorithm", ["bfs", "bellman_ford"])
def test_speed_cell_checks_every_runner(algorithm):
    m = large_graph_speed(algorithm, 3000, 0, repeats=2, family="grid", once=("dense",))
    expected = {"dense", "networkx", "scipy"} | (
        {"scipy_bellman_ford"} if algorithm == "bellman_ford" else set())
    assert {k[len("exact_"):] for k in m if k.startswith("exact_")} == expected
    assert all(m[f"exact_{k}"] == 1.0 for k in expected)
    assert m["frontier_seconds"] > 0 and m["frontier_cpu_seconds"] > 0
    assert m["steps"] > 10 and m["nodes"] == 3000 and np.isfinite(m["load_average"])


def test_speed_cell_skips_runners():
    m = large_graph_speed("bellman_ford", 500, 0, repeats=1, family="tree",
                          skip=("dense", "networkx", "scipy_bellman_ford"))
    assert "dense_seconds" not in m and "networkx_seconds" not in m
    assert m["exact_scipy"] == 1.0 and "scipy_dijkstra_seconds" in m


def test_cora_cells_with_the_shared_data_root(planetoid_root):
    cells = suite(Path(planetoid_root).parent, 1, True)
    cora = [c for c in cells if c.dataset == "exact/cora"]
    assert {c.method for c in cora} == {"bfs", "bellman_ford"}
    m = cora[0].run()
    assert m["exact"] == 1.0 and m["frontier_exact"] == 1.0
