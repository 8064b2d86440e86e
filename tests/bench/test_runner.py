import csv
import json

import pytest

from graphbias.bench import runner
from graphbias.bench.cli import main
from graphbias.bench.report import write_report
from graphbias.bench.results import read_cells, read_results
from graphbias.bench.runner import run_suites

KARATE = dict(root=None, seeds=2, quick=True, datasets=["karate"])
TIMING = {"seconds", "wall_s"}


def _stable(records):
    return sorted((tuple(sorted((k, v) for k, v in r.items() if k not in TIMING))
                   for r in records))


def test_interrupted_run_resumes_with_identical_results(tmp_path, monkeypatch):
    reference = run_suites(["smoke"], out=tmp_path / "ref", **KARATE)
    assert len(reference) == 6 and not any("error" in r for r in reference)

    calls = {"n": 0}
    real = runner.run_cell

    def interrupted(cell):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(cell)

    monkeypatch.setattr(runner, "run_cell", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_suites(["smoke"], out=tmp_path / "run", **KARATE)
    assert len(read_cells(tmp_path / "run")) == 3       # finished cells were kept

    calls["n"] = -100                                     # no more interruptions
    resumed = run_suites(["smoke"], out=tmp_path / "run", **KARATE)
    assert calls["n"] == -100 + 3                         # only the 3 missing cells ran
    assert _stable(resumed) == _stable(reference)
    assert _stable(read_results(tmp_path / "run" / "results.jsonl")) == _stable(reference)


def test_failed_cells_are_rerun(tmp_path, monkeypatch):
    real = runner.run_cell

    def failing(cell):
        record = cell.key()
        record["error"] = "RuntimeError: boom"
        record["traceback"] = ""
        return record

    monkeypatch.setattr(runner, "run_cell", failing)
    records = run_suites(["smoke"], out=tmp_path, **KARATE)
    assert all("error" in r for r in records)
    assert "failed: karate" in (tmp_path / "report.md").read_text()
    monkeypatch.setattr(runner, "run_cell", real)
    records = run_suites(["smoke"], out=tmp_path, **KARATE)
    assert not any("error" in r for r in records)


def test_report_csv_and_plots(tmp_path):
    run_suites(["smoke"], out=tmp_path, **KARATE)
    (tmp_path / "report.md").unlink()
    assert main(["bench", "report", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "## smoke" in report and "![smoke](plots/smoke.png)" in report
    png = (tmp_path / "plots" / "smoke.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    with (tmp_path / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and {"suite", "dataset", "method", "seed", "test_acc"} <= set(rows[0])


def test_cli_suites_and_dataset_filter(tmp_path, capsys):
    assert main(["bench", "--suite", "smoke,nope"]) == 2
    assert "unknown suite" in capsys.readouterr().out
    assert main(["bench", "--suite", "smoke", "--datasets", "nope", "--quick",
                 "--out", str(tmp_path)]) == 2
    assert main(["bench", "--suite", "smoke", "--datasets", "karate", "--quick",
                 "--seeds", "1", "--out", str(tmp_path)]) == 0
    assert {r["dataset"] for r in read_cells(tmp_path)} == {"karate"}


def test_missing_ogb_dataset_names_the_fetch_command(tmp_path, capsys):
    assert main(["bench", "--suite", "smoke", "--datasets", "ogbn-arxiv",
                 "--root", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "ogbn-arxiv is not under" in out and "--download" in out


def test_make_ogb_writes_a_loadable_dataset(tmp_path):
    from graphbias.data.datasets import load_ogb_node, ogb_evaluate

    assert main(["make-ogb", "--root", str(tmp_path), "--name", "ogbn-tiny-synth",
                 "--nodes", "300", "--avg-degree", "5", "--seed", "3"]) == 0
    g = load_ogb_node(tmp_path, "ogbn-tiny-synth")
    assert g.num_nodes == 300 and g.is_undirected()
    assert 4.0 < g.num_edges / g.num_nodes < 6.0
    assert ogb_evaluate("ogbn-arxiv", g.y[:, None], g.y[:, None])["acc"] == 1.0
    assert main(["make-ogb", "--root", str(tmp_path), "--name", "ogbn-mesh",
                 "--nodes", "300", "--avg-degree", "6", "--structure", "geometric"]) == 0
    mesh = load_ogb_node(tmp_path, "ogbn-mesh")
    assert mesh.is_undirected() and 5.5 <= mesh.num_edges / mesh.num_nodes < 9.0
    records = run_suites(["smoke"], root=tmp_path, out=tmp_path / "out", seeds=1,
                         quick=True, datasets=["ogbn-mesh"])
    assert len(records) == 3 and all(0.0 <= r["test_acc"] <= 1.0 for r in records)


def test_ray_backend_matches_local(tmp_path):
    ray = pytest.importorskip("ray")
    local = run_suites(["smoke"], out=tmp_path / "local", **KARATE)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        remote = run_suites(["smoke"], out=tmp_path / "ray", backend="ray", **KARATE)
    finally:
        ray.shutdown()
    assert _stable(remote) == _stable(local)
    assert json.loads((tmp_path / "ray" / "machine.json").read_text())["cores"] >= 1


def test_plotted_metrics_put_headline_first_and_skip_empty_ones():
    from graphbias.bench.report import plotted_metrics

    nan = {"mean": float("nan"), "std": 0.0}
    one = {"mean": 1.0, "std": 0.0}
    rows = [{"dataset": "d", "method": "m", "runs": 1, "epochs": one, "seconds": one,
             "mae@3": one, "test_mae": one, "acc_deg>10": nan, "wall_s": one},
            {"dataset": "e", "method": "m", "runs": 1, "test_acc": one}]
    assert plotted_metrics(rows) == ["test_acc", "test_mae", "mae@3", "epochs", "seconds"]
