import numpy as np
import pytest

from graphbias.bench import cluster_suite
from graphbias.bench.cluster_suite import locality, locality_sizes, peer_functions, suite


def test_quick_suite_cells(planetoid_root):
    cells = suite(planetoid_root, seeds=2, quick=True)
    keys = [(c.dataset, c.method, c.seed) for c in cells]
    assert len(keys) == len(set(keys))
    assert {m for d, m, _ in keys if d.startswith("planted")} == {"lfd", "flow", "labels"}
    assert {m for d, m, _ in keys if d == "cora-lcc"} == {"lfd", "flow", "labels"}
    assert {d for d, _, _ in keys if d.startswith("locality")} == {
        f"locality-{v}-{b}-{n}" for v in ("1e3", "1e4") for b in ("easy", "hard")
        for n in (10**4, 10**5)}
    assert "cora-lcc" not in {c.dataset for c in suite(None, seeds=1, quick=True)}
    full = {(c.dataset, c.method) for c in suite(None, seeds=1, quick=False)}
    assert {("locality-1e5-hard-1000000", m) for m in ("lfd", "flow", "lppr", "ppr")} <= full
    assert ("locality-1e5-easy-10000", "lfd") not in full      # more than 1/5 of it
    assert {("planted-p0.2", "lfd-paper"), ("planted-p0.2", "flow-paper")} <= full


def test_locality_sizes_keep_the_target_a_fifth_of_the_graph():
    assert locality_sizes("1e4", (10**4, 10**5)) == (10**4, 10**5)
    assert locality_sizes("1e5", (10**4, 10**5, 10**6)) == (10**5, 10**6)


@pytest.mark.parametrize("dataset,method", [("planted-p0.1", "lfd"),
                                            ("planted-p0.1", "labels")])
def test_planted_cells_run(dataset, method):
    cell = next(c for c in suite(None, seeds=1, quick=True)
                if (c.dataset, c.method) == (dataset, method))
    out = cell.run()
    assert 0.0 <= out["f1"] <= 1.0


def test_paper_protocol_cell_uses_the_target_volume():
    out = cluster_suite.planted_f1(0.1, "lfd-paper", 0, quick=True)
    assert out["f1"] > 0.5


@pytest.mark.parametrize("method", ["flow", "ppr"])
def test_locality_measures_touched_nodes_at_every_size(method):
    # the smaller graph must hold the region a default query reads (about 2^patience
    # times the mass of the best cluster for flow, 1 / (alpha epsilon) for PageRank)
    out = locality("1e3", "easy", (40_000, 160_000), repeats=2, methods=(method,))
    assert set(out) == {(f"locality-1e3-easy-{n}", method) for n in (40_000, 160_000)}
    small = out[("locality-1e3-easy-40000", method)]
    large = out[("locality-1e3-easy-160000", method)]
    assert small["time_vs_smallest"] == 1.0 and small["touched_vs_smallest"] == 1.0
    assert small["cpu_time_vs_smallest"] == 1.0 and large["cpu_ms_per_query"] > 0
    assert 0.9 <= large["touched_vs_smallest"] <= 1.1 and large["f1"] > 0.9
    assert large["diffusions"] >= 2 and 900 < large["target_volume"] < 1200


def test_locality_refuses_unknown_methods():
    with pytest.raises(ValueError, match="locality methods must be among"):
        locality("1e3", "easy", (40_000,), methods=("lfd-paper",))
    with pytest.raises(ValueError, match="noise must be in"):
        locality("1e3", "easy", (40_000,), methods=("lfd",), noise=1.5)


def test_locality_names_graphs_of_another_label_noise():
    out = locality("1e3", "easy", (40_000,), repeats=1, methods=("lfd",), noise=0.1)
    assert set(out) == {("locality-1e3-easy-40000-p0.1", "lfd")}
    assert out[("locality-1e3-easy-40000-p0.1", "lfd")]["f1"] > 0.5


def test_peer_acl_matches_localgraphclustering():
    if peer_functions() is None:
        pytest.skip("localgraphclustering is not installed")
    out = cluster_suite.peer_acl((3_000,), repeats=2)[("peer-3000", "acl")]
    assert out["gap_in_eps_degree"] < 1.0          # both within epsilon * d of exact
    assert out["jaccard"] > 0.9 and out["f1_ours"] == pytest.approx(out["f1_lgc"], abs=0.05)
    assert np.isfinite(out["ours_over_lgc"])


def test_cora_cells_use_the_largest_component(planetoid_root):
    cells = {(c.dataset, c.method): c for c in suite(planetoid_root, seeds=1, quick=True)}
    out = cells[("cora-lcc", "labels")].run()
    assert 0.0 < out["f1"] < 1.0
