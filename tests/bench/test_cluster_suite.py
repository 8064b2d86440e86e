import networkx as nx
import pytest

from graphbias.bench.cluster_suite import largest_component, suite


def test_quick_suite_cells(planetoid_root):
    cells = suite(planetoid_root, seeds=2, quick=True)
    keys = [(c.dataset, c.method, c.seed) for c in cells]
    assert len(keys) == len(set(keys))
    assert {m for d, m, _ in keys if d.startswith("planted")} == {"lfd", "flow", "labels"}
    assert {m for d, m, _ in keys if d == "cora-lcc"} == {"lfd", "flow", "labels"}
    assert {d for d, _, _ in keys if d.startswith("locality")} == {
        "locality-10000", "locality-100000"}
    assert "cora-lcc" not in {c.dataset for c in suite(None, seeds=1, quick=True)}
    full = suite(None, seeds=1, quick=False)
    assert ("locality-1000000", "global-ppr") in {(c.dataset, c.method) for c in full}


@pytest.mark.parametrize("dataset,method", [("planted-p0.1", "lfd"),
                                            ("planted-p0.1", "labels")])
def test_planted_cells_run(dataset, method):
    cell = next(c for c in suite(None, seeds=1, quick=True)
                if (c.dataset, c.method) == (dataset, method))
    out = cell.run()
    assert 0.0 <= out["f1"] <= 1.0


def test_quick_locality_cells_share_one_measurement():
    cells = {(c.dataset, c.method): c for c in suite(None, seeds=1, quick=True)
             if c.dataset.startswith("locality")}
    lfd = cells[("locality-100000", "lfd")].run()
    glob = cells[("locality-100000", "global-ppr")].run()
    assert lfd["touched"] < 10_000 and lfd["f1"] > 0.5
    assert glob["ms_per_query"] > 0 and glob["global_over_lfd"] > 1
    assert cells[("locality-10000", "lfd")].run()["time_vs_smallest"] == 1.0


def test_largest_component(planetoid_root):
    from graphbias.data.datasets import load_planetoid

    lcc = largest_component(load_planetoid(planetoid_root, "cora"))
    assert lcc.num_nodes == 2485 and lcc.is_undirected() and lcc.x.shape[0] == 2485
    assert len(nx.node_connected_component(lcc.to_networkx(), 0)) == 2485
