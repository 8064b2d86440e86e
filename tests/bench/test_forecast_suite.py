from pathlib import Path

import numpy as np

from graphbias.bench.forecast_suite import suite, traffic_root

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_quick_gpvar_cells_report_model_and_optimum():
    cells = suite(None, seeds=1, quick=True)
    assert {c.dataset for c in cells} == {"gpvar"}
    results = {c.method: c.run() for c in cells if c.method in ("tts", "last", "optimal")}
    opt = results["optimal"]["optimal_mae"]
    assert abs(results["optimal"]["test_mae"] - opt) < 0.03 * opt
    assert results["tts"]["test_mae"] < results["last"]["test_mae"]
    assert all(r["test_mae"] > 0 for r in results.values())  # the MAE, not the score
    assert all(np.isfinite(v) for r in results.values() for v in r.values())


def test_traffic_root_accepts_data_root_and_traffic_folder(tmp_path):
    assert traffic_root(tmp_path) is None
    if (SHARED_DATA / "traffic" / "los_speed.csv").exists():
        assert traffic_root(SHARED_DATA) == SHARED_DATA
        assert traffic_root(SHARED_DATA / "traffic") == SHARED_DATA
