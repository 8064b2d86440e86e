import json

import pytest

from graphbias.bench.cli import main
from graphbias.bench.results import read_results, summarise
from graphbias.bench.runner import run_suite


def test_info_prints_versions(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "torch" in out and "backend" in out


def test_datasets_lists_planetoid(planetoid_root, capsys):
    assert main(["datasets", "--root", str(planetoid_root.parent)]) == 0
    assert "cora" in capsys.readouterr().out


def test_datasets_bad_root(tmp_path, capsys):
    assert main(["datasets", "--root", str(tmp_path / "nope")]) == 2


def test_smoke_suite_writes_one_record_per_cell(tmp_path, capsys):
    assert main(["bench", "--suite", "smoke", "--quick", "--seeds", "1",
                 "--out", str(tmp_path)]) == 0
    records = read_results(tmp_path / "results.jsonl")
    assert {(r["dataset"], r["method"]) for r in records} == {
        (d, m) for d in ("sbm", "karate") for m in ("gcn", "sage", "gat")}
    for r in records:
        assert {"suite", "dataset", "method", "seed", "test_acc", "seconds"} <= set(r)
        assert 0.0 <= r["test_acc"] <= 1.0
    assert json.loads((tmp_path / "machine.json").read_text())["backend"] in ("torch", "compiled")
    out = capsys.readouterr().out
    assert "test_acc" in out and "karate" in out


def test_smoke_suite_on_cora(planetoid_root, tmp_path):
    records = run_suite("smoke", root=planetoid_root, out=tmp_path, seeds=1, quick=True)
    cora = [r for r in records if r["dataset"] == "cora"]
    assert len(cora) == 3 and all(r["test_acc"] > 0.6 for r in cora)


def test_speed_suite_quick(tmp_path):
    records = run_suite("speed", root=None, out=tmp_path, seeds=1, quick=True)
    methods = {r["method"] for r in records}
    assert {"graphbias", "graphbias-dense"} <= methods
    assert all(r["ms_per_epoch"] > 0 for r in records)


def test_bad_arguments(tmp_path):
    assert main(["bench", "--suite", "nope"]) == 2
    assert main(["bench", "report"]) == 2
    assert main(["bench", "report", str(tmp_path / "nothing")]) == 2
    assert main(["bench", "--root", str(tmp_path / "missing")]) == 2
    assert main(["bench", "--seeds", "0", "--out", str(tmp_path)]) == 2
    with pytest.raises(ValueError, match="unknown suite"):
        run_suite("nope", root=None, out=tmp_path, seeds=1, quick=True)


def test_summarise_mean_std():
    rows = summarise([
        {"suite": "s", "dataset": "d", "method": "m", "seed": 0, "test_acc": 0.5},
        {"suite": "s", "dataset": "d", "method": "m", "seed": 1, "test_acc": 0.7}])
    assert rows[0]["runs"] == 2
    assert rows[0]["test_acc"]["mean"] == pytest.approx(0.6)
    assert rows[0]["test_acc"]["std"] == pytest.approx(0.1)
    assert rows[0]["test_acc"]["median"] == pytest.approx(0.6)


def test_ops_suite_quick(tmp_path):
    records = run_suite("ops", root=None, out=tmp_path, seeds=1, quick=True)
    methods = {r["method"].split(":")[0] for r in records}
    assert {"graphbias-torch", "pyg.utils.scatter"} <= methods
    assert {r["method"].split(":")[1] for r in records} == {"sum", "mean", "max", "min"}
    assert all(r["ms"] > 0 and r["gbps"] > 0 for r in records if "error" not in r)
    assert not any("error" in r for r in records)
