from pathlib import Path

from graphbias.bench.compile_suite import learning_gap, random_exactness, suite
from graphbias.bench.suites import SUITES


def test_quick_suite_cells_and_a_run_of_each_kind():
    cells = suite(None, 1, True)
    kinds = {c.dataset.split("/")[0] for c in cells}
    assert kinds == {"exact", "gap", "speed"}
    assert len([c for c in cells if c.dataset.startswith("exact/")]) == 15
    exact = next(c for c in cells if c.dataset == "exact/grid" and c.method == "dfs").run()
    assert exact["exact"] == 1.0 and exact["graphs"] == 20
    speed = next(c for c in cells if c.dataset == "speed/bfs").run()
    assert speed["exact_networkx"] == 1.0 and speed["exact_scipy"] == 1.0
    assert "compile" in SUITES


def test_gap_cell_reports_learned_and_compiled_accuracy():
    m = learning_gap("bfs", 0, train_graphs=5, max_epochs=1, test_sizes=(8,), test_graphs=2)
    assert m["compiled_pi_n8"] == 1.0 and m["compiled_graph_n8"] == 1.0
    assert 0.0 <= m["pi_n8"] <= 1.0


def test_exactness_on_negative_weights():
    m = random_exactness("bellman_ford", "sparse_er", 10, 30, seed=1)
    assert m["exact"] == 1.0


def test_cora_cells_with_the_shared_data_root(planetoid_root):
    cells = suite(Path(planetoid_root).parent, 1, True)
    cora = [c for c in cells if c.dataset == "exact/cora"]
    assert {c.method for c in cora} == {"bfs", "bellman_ford"}
    assert cora[0].run()["exact"] == 1.0
