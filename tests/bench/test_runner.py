import csv
import json
from pathlib import Path

import numpy as np
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


# --- quick tests on a fake suite: no training, cells return known numbers ----------

from scipy.stats import ttest_rel  # noqa: E402

from graphbias.bench import results as results_module  # noqa: E402
from graphbias.bench import suites as suites_module  # noqa: E402
from graphbias.bench.report import paired_comparison, plot_suite  # noqa: E402
from graphbias.bench.results import load_results, summarise  # noqa: E402
from graphbias.bench.runner import build_cells, parse_seeds  # noqa: E402
from graphbias.bench.suites import SUITES, Cell  # noqa: E402

#: (dataset, method) -> accuracy of seed s: base + step * s
ACC = {("d1", "base"): (0.70, 0.01), ("d1", "better"): (0.75, 0.015),
       ("d2", "base"): (0.50, 0.02), ("d2", "better"): (0.52, 0.01)}


def fake_metrics(dataset, method, seed):
    base, step = ACC[(dataset, method)]
    return {"test_acc": base + step * seed + 0.003 * (seed % 2),
            "err": 1.0 - base, "seconds": 0.5 + seed}


def fake_suite(name):
    def suite(root, seeds, quick):
        return [Cell(name, d, m, s, lambda d=d, m=m, s=s: fake_metrics(d, m, s))
                for d, m in ACC for s in range(seeds)]
    return suite


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setitem(SUITES, "fake", fake_suite("fake"))
    monkeypatch.setenv("COLUMNS", "300")
    return "fake"


def _seeds(out):
    return sorted({r["seed"] for r in read_cells(out)})


def test_parse_seeds_counts_ranges_and_first_seed():
    assert parse_seeds("3") == range(0, 3)
    assert parse_seeds("10", first_seed=5) == range(5, 15)
    assert parse_seeds("5-14") == range(5, 15)
    assert parse_seeds("4-4") == range(4, 5)
    for bad in ("0", "-1", "a", "3-1", "1-2-3", "2.5"):
        with pytest.raises(ValueError, match="seed"):
            parse_seeds(bad)
    with pytest.raises(ValueError, match="not both"):
        parse_seeds("5-14", first_seed=2)
    with pytest.raises(ValueError, match="first seed"):
        parse_seeds("3", first_seed=-1)


def test_seed_range_first_seed_and_methods(fake, tmp_path):
    assert main(["bench", "--suite", fake, "--seeds", "2", "--first-seed", "3",
                 "--out", str(tmp_path / "a")]) == 0
    assert _seeds(tmp_path / "a") == [3, 4]
    assert main(["bench", "--suite", fake, "--seeds", "5-7", "--methods", "better",
                 "--datasets", "d2", "--out", str(tmp_path / "b")]) == 0
    cells = read_cells(tmp_path / "b")
    assert {(r["dataset"], r["method"], r["seed"]) for r in cells} == {
        ("d2", "better", s) for s in (5, 6, 7)}
    assert [c.seed for c in build_cells(fake, None, [1, 3], False, methods=["base"],
                                        datasets=["d1"])] == [1, 3]


def test_unknown_method_or_dataset_is_an_error_naming_them(fake, tmp_path, capsys):
    assert main(["bench", "--suite", fake, "--methods", "base,nope",
                 "--out", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "method(s) nope" in out and "available: base, better" in out
    with pytest.raises(ValueError, match="dataset.*d3.*available: d1, d2"):
        run_suites([fake], root=None, out=tmp_path, seeds=1, quick=True,
                   datasets=["d1", "d3"])
    assert not (tmp_path / "cells").exists()
    assert main(["bench", "--suite", fake, "--threads", "0", "--out", str(tmp_path)]) == 2
    assert "threads must be an integer >= 1, got 0" in capsys.readouterr().out


def test_corrupt_cell_file_is_named_and_rerun(fake, tmp_path, capsys):
    run_suites([fake], root=None, out=tmp_path, seeds=2, quick=False)
    broken = tmp_path / "cells" / "fake" / "d1__base__seed1.json"
    good = broken.read_text()
    broken.write_text(good[: len(good) // 2])              # truncated mid-write
    other = tmp_path / "cells" / "fake" / "d2__better__seed0.json"
    other.write_text("[1, 2]")                             # valid JSON, not a record
    capsys.readouterr()
    records = run_suites([fake], root=None, out=tmp_path, seeds=2, quick=False)
    out = " ".join(capsys.readouterr().out.split())
    assert f"cell file {broken} is truncated or corrupt" in out
    assert f"cell file {other} does not hold this cell's record" in out
    assert json.loads(broken.read_text())["test_acc"] == json.loads(good)["test_acc"]
    assert len(records) == 8 and not any("error" in r for r in records)


def test_report_lists_unreadable_cells_instead_of_failing(fake, tmp_path):
    run_suites([fake], root=None, out=tmp_path, seeds=1, quick=False)
    bad = tmp_path / "cells" / "fake" / "d1__base__seed0.json"
    bad.write_text("{")
    assert main(["bench", "report", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "## Unreadable cell files" in report and str(bad) in report
    assert "3 cells finished" in report
    with pytest.raises(ValueError, match="d1__base__seed0.json is not valid JSON"):
        read_cells(tmp_path)


def test_machine_json_is_written_atomically(fake, tmp_path, monkeypatch):
    renames = []
    real = results_module.os.replace

    def replace(src, dst):
        renames.append((Path(src), Path(dst)))
        real(src, dst)

    monkeypatch.setattr(results_module.os, "replace", replace)
    run_suites([fake], root=None, out=tmp_path, seeds=1, quick=False, threads=1)
    src, dst = next((s, d) for s, d in renames if d.name == "machine.json")
    assert src.parent == dst.parent == tmp_path and src != dst
    assert json.loads(dst.read_text())["torch_threads"] == 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_out_that_is_a_file_is_a_clear_error(fake, tmp_path, capsys):
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    assert main(["bench", "--suite", fake, "--out", str(target)]) == 2
    assert "is a file" in capsys.readouterr().out
    assert target.read_text() == "keep me"
    run_suites([fake], root=None, out=tmp_path / "run", seeds=1, quick=False)
    assert main(["bench", "report", str(tmp_path / "run"), "--out", str(target)]) == 2


def test_paired_comparison_against_a_baseline(fake, tmp_path):
    assert main(["bench", "--suite", fake, "--seeds", "4", "--baseline", "base",
                 "--out", str(tmp_path)]) == 0
    records = read_cells(tmp_path)
    rows = paired_comparison(records, "base", "test_acc")
    row = next(r for r in rows if (r["dataset"], r["method"]) == ("d1", "better"))
    a = [fake_metrics("d1", "better", s)["test_acc"] for s in range(4)]
    b = [fake_metrics("d1", "base", s)["test_acc"] for s in range(4)]
    assert row["paired"] == 4
    assert row["difference"] == pytest.approx(np.mean(np.subtract(a, b)))
    assert row["ratio"] == pytest.approx(np.mean(np.divide(a, b)))
    assert row["p"] == pytest.approx(ttest_rel(a, b).pvalue)
    report = (tmp_path / "report.md").read_text()
    assert "### Paired comparison against base on test_acc" in report
    line = next(line for line in report.splitlines()
                if line.startswith("| d1 | better | 4 |") and f"{row['p']:.1e}" in line)
    assert f"+{100 * row['difference']:.1f}" in line         # points, as the accuracy
    assert f"{100 * np.mean(a):.1f} ± {100 * np.std(a):.1f}" in line


def test_paired_comparison_uses_common_seeds_only():
    records = [{"dataset": "d", "method": m, "seed": s, "x": v}
               for m, values in (("base", {0: 1.0, 1: 2.0, 2: 4.0}),
                                 ("new", {1: 3.0, 2: 4.5, 3: 9.0}))
               for s, v in values.items()]
    new = paired_comparison(records, "base", "x")[1]
    assert (new["runs"], new["paired"]) == (3, 2)
    assert new["difference"] == pytest.approx(0.75)
    assert new["summary"]["mean"] == pytest.approx(5.5)
    assert new["p"] == pytest.approx(ttest_rel([3.0, 4.5], [2.0, 4.0]).pvalue)
    same = [dict(r, method="same", x=r["x"] + 1) for r in records if r["method"] == "base"]
    assert np.isnan(paired_comparison(records + same, "base", "x")[2]["p"])


def test_report_from_recorded_jsonl_needs_a_suite_and_an_out(fake, tmp_path, capsys):
    lines = [json.dumps({"dataset": d, "method": m, "seed": s, **fake_metrics(d, m, s)})
             for d, m in ACC for s in range(3)]
    source = tmp_path / "recorded.jsonl"
    source.write_text("\n".join(lines) + "\n")
    assert main(["bench", "report", str(source), "--out", str(tmp_path / "r")]) == 2
    assert "line 1, names no suite" in " ".join(capsys.readouterr().out.split())
    assert main(["bench", "report", str(source), "--suite", "fake"]) == 2
    assert "give --out" in capsys.readouterr().out
    assert main(["bench", "report", str(source), "--suite", "fake", "--out",
                 str(tmp_path / "r"), "--metrics", "test_acc,seconds/err",
                 "--pivot", "test_acc", "--baseline", "base"]) == 0
    report = (tmp_path / "r" / "report.md").read_text()
    assert "| dataset | method | runs | test_acc (%) | seconds/err (median) |" in report
    assert "### test_acc (%) by dataset and method" in report
    assert "| d1 | 71.1 ± 0.8 | 76.6 ± 1.2 |" in report
    assert main(["bench", "report", str(source), "--suite", "fake", "--out",
                 str(tmp_path / "r"), "--metrics", "nope"]) == 2
    assert "no record has the metric 'nope'" in capsys.readouterr().out
    source.write_text(lines[0] + "\n{broken\n")
    assert main(["bench", "report", str(source), "--suite", "fake", "--out",
                 str(tmp_path / "r")]) == 2
    assert "line 2, is not valid JSON" in " ".join(capsys.readouterr().out.split())


def test_two_sources_with_one_cell_clash(fake, tmp_path):
    run_suites([fake], root=None, out=tmp_path / "a", seeds=1, quick=False)
    run_suites([fake], root=None, out=tmp_path / "b", seeds=2, quick=False)
    with pytest.raises(ValueError, match="both hold the cell"):
        load_results([tmp_path / "a", tmp_path / "b"])
    records, unreadable, machine = load_results([tmp_path / "b" / "results.jsonl"])
    assert len(records) == 8 and not unreadable and machine["cores"] >= 1
    with pytest.raises(ValueError, match="does not exist"):
        load_results([tmp_path / "c"])


def test_plots_show_percent_and_clip_error_bars_at_zero(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figures, close = [], plt.close
    monkeypatch.setattr(plt, "close", figures.append)
    records = [{"suite": "s", "dataset": "d", "method": "m", "seed": s, "test_acc": acc,
                "loss": loss, "seconds": sec}
               for s, (acc, loss, sec) in enumerate([(0.8, 0.0, 1.0), (0.9, 0.6, 3.0)])]
    rows = summarise(records)
    plot_suite("s", rows, tmp_path / "s.png")
    axes = {ax.get_title(): ax for ax in figures[0].axes}
    assert set(axes) == {"test_acc (%)", "loss", "seconds (median)"}
    assert axes["test_acc (%)"].patches[0].get_height() == pytest.approx(85.0)
    assert axes["seconds (median)"].patches[0].get_height() == pytest.approx(2.0)
    low = min(seg[:, 1].min() for c in axes["loss"].collections for seg in c.get_segments())
    assert low == pytest.approx(0.0)                        # 0.3 - 0.3, not below
    assert not axes["seconds (median)"].collections          # no error bar on a median
    close(figures[0])


def test_suite_with_a_missing_extra_is_skipped_with_the_install_command(
        fake, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(suites_module.SUITE_REQUIREMENTS, "fake",
                        ("stream", ("graphbias_no_such_module",)))
    assert main(["bench", "--suite", fake, "--out", str(tmp_path)]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "skipped: suite fake needs graphbias_no_such_module" in out
    assert 'pip install "graphbias[stream]"' in out and "Traceback" not in out
    monkeypatch.setitem(SUITES, "fake2", fake_suite("fake2"))
    assert len(run_suites([fake, "fake2"], root=None, out=tmp_path, seeds=1,
                          quick=False)) == 4
    assert {r["suite"] for r in read_results(tmp_path / "results.jsonl")} == {"fake2"}


def test_recorded_curves_are_drawn_per_dataset_with_the_drift_marked(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figures, close = [], plt.close
    monkeypatch.setattr(plt, "close", figures.append)

    def curve(seed, drop):
        return [{"t": t, "subset_accuracy": 0.5 - drop * (t == 20) + 0.1 * seed,
                 "n_clusters": 3} for t in (10, 20, 30)]

    records = [{"suite": "s", "dataset": "drift", "method": m, "seed": seed,
                "micro_f1": 0.5, "drift_at": 20, "curve": curve(seed, drop)}
               for m, drop in (("handled", 0.1), ("ignored", 0.3)) for seed in (0, 1)]
    records.append({"suite": "s", "dataset": "still", "method": "handled", "seed": 0,
                    "micro_f1": 0.4})
    path = write_report(tmp_path, records)
    report = path.read_text()
    assert "![drift curve](plots/s-drift-curve.png)" in report and "still curve" not in report
    assert "drift_at" not in report                          # a marker, not a metric
    assert (tmp_path / "plots" / "s-drift-curve.png").stat().st_size > 5000
    fig = figures[-1]
    accuracy, clusters = fig.axes
    assert accuracy.get_ylabel() == "subset_accuracy (%)"
    lines = {line.get_label(): line for line in accuracy.get_lines()
             if not line.get_label().startswith("_")}
    assert list(lines["ignored"].get_xdata()) == [10, 20, 30]
    assert lines["ignored"].get_ydata() == pytest.approx([55.0, 25.0, 55.0])  # seed mean
    drift = [line for line in clusters.get_lines() if line.get_linestyle() == "--"]
    assert [line.get_xdata()[0] for line in drift] == [20]
    for figure in figures:
        close(figure)
