from pathlib import Path

import pytest

from graphbias.bench.stream_suite import METHODS, suite

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
METRICS = {"subset_acc", "hamming_loss", "example_f1", "micro_f1", "macro_f1", "inst_per_s"}


def test_quick_suite_cells():
    cells = suite(SHARED if SHARED.is_dir() else None, seeds=2, quick=True)
    keys = [(c.dataset, c.method, c.seed) for c in cells]
    assert len(keys) == len(set(keys))
    assert {m for d, m, _ in keys if d == "yeast"} == {
        "ihomer", "ihomer-random-clusters", "br-hoeffding", "classifier-chain",
        "isoup-thresholded", "knn-br"}
    assert {s for d, m, s in keys if m == "ihomer-random-clusters"} == {0, 1}
    assert {m for d, m, _ in keys if d == "synthetic-drift"} == {"ihomer", "ihomer-no-drift"}
    assert set(m for _, m, _ in keys) <= set(METHODS)
    assert (("cal500", "ihomer", 0) in keys) == (SHARED / "multilabel" / "CAL500.arff").is_file()
    full = suite(None, seeds=1, quick=False)
    assert {c.dataset for c in full} == {"yeast", "synthetic-drift", "synthetic-100k"}


@pytest.mark.parametrize("dataset, method", [("yeast", "ihomer"), ("yeast", "knn-br"),
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
