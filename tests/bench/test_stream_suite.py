from pathlib import Path

import pytest

from graphbias.bench.stream_suite import METHODS, ORDERINGS, suite

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
METRICS = {"subset_acc", "hamming_loss", "example_f1", "micro_f1", "macro_f1", "inst_per_s"}


def test_quick_suite_cells():
    cells = suite(SHARED if SHARED.is_dir() else None, seeds=2, quick=True)
    keys = [(c.dataset, c.method, c.seed) for c in cells]
    assert len(keys) == len(set(keys))
    assert {m for d, m, _ in keys if d == "yeast"} == {
        "ihomer", "ihomer-random-clusters", "ihomer-authors", "mlhat-style",
        "br-hoeffding", "knn-br"}
    assert {s for d, m, s in keys if m == "ihomer-random-clusters" and d == "yeast"} == {0, 1}
    assert {m for d, m, _ in keys if d == "synthetic-drift"} == {"ihomer", "ihomer-no-drift"}
    assert {m for d, m, _ in keys if d == "sparse"} == {"ihomer-cosine", "br-hoeffding"}
    assert {s for d, m, s in keys if m == "br-hoeffding" and d == "sparse"} == {0}
    assert set(m for _, m, _ in keys) <= set(METHODS)
    has_cal = (SHARED / "multilabel" / "CAL500.arff").is_file()
    assert (("cal500", "ihomer", 0) in keys) == has_cal
    assert (("cal500-orderings", "ihomer-random-clusters", 1) in keys) == has_cal
    full = suite(None, seeds=1, quick=False)
    assert {c.dataset for c in full} == {"yeast", "synthetic-drift", "sparse", "sparse-100k"}
    assert {c.method for c in full if c.dataset == "sparse"} >= {
        "ihomer", "ihomer-cosine", "ihomer-cosine-hashed-256", "br-hoeffding"}
    if has_cal:
        full = suite(SHARED, seeds=1, quick=False)
        assert sum(c.dataset == "cal500-orderings" for c in full) == 2 * ORDERINGS


@pytest.mark.parametrize("dataset, method", [("yeast", "ihomer"), ("yeast", "knn-br"),
                                             ("yeast", "ihomer-authors"),
                                             ("sparse", "ihomer-cosine"),
                                             ("synthetic-drift", "ihomer")])
def test_quick_cells_run(dataset, method):
    cell = next(c for c in suite(None, seeds=1, quick=True)
                if (c.dataset, c.method) == (dataset, method))
    out = cell.run()
    assert METRICS <= set(out)
    for key in METRICS - {"inst_per_s"}:
        assert 0.0 <= out[key] <= 1.0
    assert out["inst_per_s"] > 0
    if dataset == "synthetic-drift":
        assert 0 <= out["recovery"] <= 500 and out["instances"] == 1000
        assert out["drift_at"] == 500 and [p["t"] for p in out["curve"]] == [250, 500, 750, 1000]
        assert {"micro_f1", "subset_accuracy", "n_clusters"} <= set(out["curve"][-1])
        assert sorted(sum(out["partition"], [])) == list(range(12))
        assert sorted(sum(out["true_partition"], [])) == list(range(12))
    if dataset == "sparse":
        assert out["micro_f1"] > 0.2


def test_cal500_orderings_are_paired_permutations():
    if not (SHARED / "multilabel" / "CAL500.arff").is_file():
        pytest.skip("CAL500.arff not found")
    from graphbias.bench.stream_suite import _shuffled
    from graphbias.data.multilabel import load_cal500

    cal = load_cal500(SHARED)
    a, b = _shuffled(cal, 3), _shuffled(cal, 3)
    assert (a.X == b.X).all()
    assert sorted(map(tuple, a.X.tolist())) == sorted(map(tuple, cal.X.tolist()))
    assert not (_shuffled(cal, 4).X == a.X).all()
