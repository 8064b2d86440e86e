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


def _all_parsers(parser):
    """The parser and every sub-command parser under it."""
    import argparse

    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _all_parsers(sub)


def test_version(capsys):
    from graphbias import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"graphbias {__version__}"


def test_help_shows_defaults_and_no_rest_markup(monkeypatch):
    from graphbias.bench.cli import _parser

    monkeypatch.setenv("COLUMNS", "200")
    parsers = list(_all_parsers(_parser()))
    assert {p.prog for p in parsers} >= {"graphbias", "graphbias bench",
                                         "graphbias bench run", "graphbias bench report",
                                         "graphbias info", "graphbias make-ogb"}
    for p in parsers:
        text = p.format_help()
        assert "``" not in text and ":func:" not in text, p.prog
    run = next(p for p in parsers if p.prog == "graphbias bench run").format_help()
    for shown in ("(default: smoke)", "(default: bench-out)", "(default: 3)",
                  "(default: local)"):
        assert shown in run
    assert "(default: None)" not in run and "(default: False)" not in run
    mk = next(p for p in parsers if p.prog == "graphbias make-ogb").format_help()
    assert "(default: 100000)" in mk and "(default: sbm)" in mk


def test_mistyped_option_is_named_with_the_closest_one(capsys):
    assert main(["bench", "--sute", "smoke"]) == 2
    err = capsys.readouterr().err
    assert "unknown option --sute (did you mean --suite?)" in err
    assert "invalid choice" not in err
    assert main(["bench", "report", "x", "--baselin", "gcn"]) == 2
    assert "unknown option --baselin (did you mean --baseline?)" in capsys.readouterr().err
    assert main(["bench", "--seed", "3"]) == 2          # no silent abbreviation
    assert "did you mean --seeds?" in capsys.readouterr().err
    assert main(["info", "extra"]) == 2
    assert "unexpected argument(s): extra" in capsys.readouterr().err


def test_info_lists_optional_extras_and_how_to_install_them(capsys, monkeypatch):
    from graphbias import _optional

    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setitem(_optional.EXTRAS, "imaginary", ("graphbias_no_such_module",))
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for extra in ("pyg", "ogb", "forecast", "causal", "stream", "distributed", "scatter"):
        assert f" {extra} " in out
    assert "econml, dowhy" in out
    line = next(line for line in out.splitlines() if " imaginary " in line)
    assert "missing graphbias_no_such_module" in line
    assert 'pip install "graphbias[imaginary]"' in line
    json_line = next(line for line in out.splitlines() if " pyg " in line)
    assert ("importable" in json_line) != ("missing" in json_line)
