import math

import pytest
import torch

from graphbias.bench import lagnn_suite
from graphbias.bench.lagnn_suite import lowdegree_sbm, suite
from graphbias.bench.suites import SUITES


def test_registered_and_cells(planetoid_root):
    assert "lagnn" in SUITES
    cells = suite(planetoid_root, seeds=2, quick=True)
    keys = [(c.dataset, c.method, c.seed) for c in cells]
    assert len(keys) == len(set(keys))
    assert {m for d, m, _ in keys if d == "cora"} == {"gcn", "la-gcn", "gat", "la-gat",
                                                       "la-gcn-paper", "la-gat-paper"}
    assert {m for d, m, _ in keys if d == "sbm-lowdeg"} == {"gcn", "la-gcn", "la-gcn-paper"}
    assert {c.dataset for c in suite(None, seeds=1, quick=True)} == {"sbm-lowdeg"}


def test_every_planetoid_dataset_under_the_root_gets_all_methods(planetoid_root, tmp_path):
    # CiteSeer's file names holding Cora's content: the suite looks for every name
    for part in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index"):
        (tmp_path / f"ind.citeseer.{part}").symlink_to(planetoid_root / f"ind.cora.{part}")
    keys = {(c.dataset, c.method) for c in suite(tmp_path, seeds=1, quick=True)}
    assert {m for d, m in keys if d == "citeseer"} == set(lagnn_suite.ALL_METHODS)
    assert "cora" not in {d for d, _ in keys}


def test_lowdegree_sbm_has_many_low_degree_nodes():
    g = lowdegree_sbm()
    degree = g.in_degree().numpy()
    assert g.num_nodes == 2000 and 2.5 < degree.mean() < 3.5
    assert (degree <= 2).mean() > 0.3


def test_each_graph_is_loaded_once_by_the_first_cell_that_runs(monkeypatch):
    calls = []
    monkeypatch.setattr(lagnn_suite, "lowdegree_sbm", lambda quick: calls.append(quick) or "g")
    monkeypatch.setattr(lagnn_suite, "run_method",
                        lambda graph, method, seed, quick, by_degree, gens: {"graph": graph})
    cells = suite(None, seeds=2, quick=True)
    assert calls == []
    assert [c.run()["graph"] for c in cells] == ["g"] * 6 and calls == [True]


@pytest.mark.filterwarnings("error::FutureWarning")   # the suite uses the current names
def test_quick_sbm_cells_run_and_report_degree_buckets():
    cells = {c.method: c for c in suite(None, seeds=1, quick=True)}
    plain, la = cells["gcn"].run(), cells["la-gcn"].run()
    for out in (plain, la):
        assert 0.0 <= out["test_acc"] <= 1.0
        assert {"acc_deg<=2", "acc_deg3-5", "acc_deg6-10", "acc_deg>10"} <= set(out)
        assert not math.isnan(out["acc_deg<=2"])
    assert plain["generator_seconds"] == 0.0 < la["generator_seconds"] < la["seconds"]


def test_paper_methods_build_the_papers_protocol():
    """``-paper`` cells fit :meth:`LAGNNClassifier.paper` with the conv of their name
    (a quick one: 30 epochs, one generator epoch selected without warm-up)."""
    full = lagnn_suite._model("la-gat-paper", 3, quick=False)
    assert (full.conv, full.max_epochs, full.patience, full.inference) == \
        ("gat", 1000, None, "best_draw")
    assert full.augmenter.selection == "uncertainty" and full.random_state == 3
    quick = lagnn_suite._model("la-gcn-paper", 0, quick=True)
    assert (quick.conv, quick.max_epochs, quick.augmenter.max_epochs) == ("gcn", 30, 1)
    out = lagnn_suite.run_method(lowdegree_sbm(quick=True), "la-gcn-paper", 0, quick=True)
    assert 0.0 <= out["test_acc"] <= 1.0 and out["generator_seconds"] > 0


def test_paper_cells_of_a_seed_share_the_generator_they_would_fit():
    """The second ``-paper`` cell of a seed takes the first one's generator, which
    equals the one it fits alone, and still reports the generator's time."""
    g = lowdegree_sbm(quick=True)
    gens = {}
    first = lagnn_suite.run_method(g, "la-gcn-paper", 1, quick=True, generators=gens)
    shared = lagnn_suite.run_method(g, "la-gat-paper", 1, quick=True, generators=gens)
    alone = lagnn_suite.run_method(g, "la-gat-paper", 1, quick=True)
    assert list(gens) == [1]
    assert shared["generator_seconds"] == first["generator_seconds"] > 0
    assert shared["seconds"] > shared["generator_seconds"]
    assert shared["test_acc"] == alone["test_acc"]
    own = lagnn_suite._model("la-gat-paper", 1, quick=True).fit(
        g.x, g.y, graph=g, train_mask=g.train_mask, val_mask=g.val_mask).augmenter_
    for k, v in own.module_.state_dict().items():
        assert torch.equal(v, gens[1].module_.state_dict()[k])
