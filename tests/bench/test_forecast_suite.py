from pathlib import Path

import numpy as np
import pytest

from graphbias.bench.forecast_suite import los_protocol, suite, traffic_root
from graphbias.data.synthetic.gpvar import gpvar

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_quick_gpvar_cells_report_model_and_optimum():
    cells = suite(None, seeds=1, quick=True)
    assert {c.dataset for c in cells} == {"gpvar", "gpvar-gcn", "gpvar-dynamic", "gpvar-driven"}
    methods = {c.method for c in cells if c.dataset == "gpvar"}
    assert methods == {"tts:none", "tts:gcn", "gru", "last", "optimal"}
    results = {c.method: c.run() for c in cells
               if c.dataset == "gpvar" and c.method in ("tts:none", "last", "optimal")}
    opt = results["optimal"]["optimal_mae"]
    assert abs(results["optimal"]["test_mae"] - opt) < 0.03 * opt
    assert results["tts:none"]["test_mae"] < results["last"]["test_mae"]
    assert all(r["test_mae"] > 0 for r in results.values())  # the MAE, not the score
    assert all(np.isfinite(v) for r in results.values() for v in r.values())


def test_gpvar_datasets_follow_their_shift_and_models_their_operator(monkeypatch):
    import graphbias.bench.forecast_suite as fs

    seen = []
    monkeypatch.setattr(fs, "gpvar", lambda steps, **kw: seen.append(kw["shift"]) or
                        gpvar(steps, **kw))
    fitted = []
    real_fit = fs._fit
    monkeypatch.setattr(fs, "_fit", lambda m, *a, **kw: fitted.append(
        (m, kw.get("normalization"))) or real_fit(m, *a, **{**kw, "max_epochs": 1}))
    cells = {(c.dataset, c.method): c for c in suite(None, seeds=1, quick=True)}
    cells["gpvar-gcn", "tts:none"].run()
    cells["gpvar", "tts:gcn"].run()
    assert seen == ["gcn", "adjacency"]
    assert fitted == [("tts", "none"), ("tts", "gcn")]
    assert fs.MATCHED_NORMALIZATION == {fs.GPVAR_SHIFTS["gpvar"]: "none",
                                        fs.GPVAR_SHIFTS["gpvar-gcn"]: "gcn"}


@pytest.mark.parametrize("dataset, quick, run, fitted, full", [
    ("gpvar-dynamic", {"tts:none", "dcrnn:none:each", "gru", "last", "optimal"},
     ("tts:none", "dcrnn:none:each"),
     [("tts", "last", False, False, 0), ("dcrnn", "each", False, False, 0)],
     {"dcrnn:none:each", "gwnet:none:each", "gwnet:none:each:input", "tts:none:static"}),
    ("gpvar-driven", {"tts:none:future", "tts:none", "gru:future", "last", "optimal"},
     ("tts:none:future", "tts:none"),
     [("tts", "last", True, True, 1), ("tts", "last", False, True, 1)],
     {"dcrnn:none:future", "gwnet:none:future", "gru:future", "gru"})])
def test_gpvar_cells_read_the_graphs_and_inputs_they_name(monkeypatch, dataset, quick, run,
                                                          fitted, full):
    # "MODEL:none:each" reads every step's graph, ":future" the target step's input
    import graphbias.bench.forecast_suite as fs

    seen = []
    real_fit = fs._fit
    monkeypatch.setattr(fs, "_fit", lambda m, data, *a, **kw: seen.append(
        (m, kw.get("graph_steps"), kw.get("future_covariates"), data.is_static,
         data.num_node_covariates)) or real_fit(m, data, *a, **{**kw, "max_epochs": 1}))
    cells = {c.method: c for c in suite(None, seeds=1, quick=True) if c.dataset == dataset}
    assert set(cells) == quick
    results = {m: cells[m].run() for m in (*run, "optimal")}
    assert seen[:2] == fitted
    opt = results["optimal"]
    assert abs(opt["test_mae"] - opt["optimal_mae"]) < 0.05 * opt["optimal_mae"]
    assert full <= {c.method for c in suite(None, seeds=1, quick=False) if c.dataset == dataset}


def test_los_protocol_is_shared_and_converges():
    kw = los_protocol()
    assert kw["max_epochs"] >= 100 and kw["patience"] and kw["lr_patience"]
    assert (kw["window"], kw["horizon"]) == (12, 12)
    assert los_protocol(quick=True)["max_epochs"] == 1 and "stride" not in kw


def test_traffic_root_accepts_data_root_and_traffic_folder(tmp_path):
    assert traffic_root(tmp_path) is None
    if (SHARED_DATA / "traffic" / "los_speed.csv").exists():
        assert traffic_root(SHARED_DATA) == SHARED_DATA
        assert traffic_root(SHARED_DATA / "traffic") == SHARED_DATA


def test_method_names_parse_into_model_operator_and_flags():
    from graphbias.bench.forecast_suite import _parse

    assert _parse("dcrnn:none:each") == ("dcrnn", "none", {"each"})
    assert _parse("gru:future") == ("gru", "", {"future"})
    assert _parse("tts:gcn:static:future") == ("tts", "gcn", {"static", "future"})
    assert _parse("last") == ("last", "", set())
    assert _parse("gwnet:none:each:input") == ("gwnet", "none", {"each", "input"})
    assert _parse("agcrn:k0") == ("agcrn", "", {"k0"})
    assert _parse("dcrnn:none:mlp") == ("dcrnn", "none", {"mlp"})


@pytest.fixture
def cell_fit(monkeypatch):
    """``cell_fit(method, *keys)``: the model and the named keyword arguments that the
    full GP-VAR cell of ``method`` fits with (the fit itself is stopped)."""
    import graphbias.bench.forecast_suite as fs

    def run(method: str, *keys: str) -> tuple:
        seen = []

        def stop(m, data, *a, **kw):
            seen.append((m, *(kw[k] for k in keys)))
            raise RuntimeError("stop")

        monkeypatch.setattr(fs, "_fit", stop)
        with pytest.raises(RuntimeError, match="stop"):
            fs._gpvar_cell(method, 0, lambda: (None, None), False)()
        return seen[0]
    return run


def test_the_input_flag_gives_graph_wavenet_its_per_step_input_convolution(cell_fit):
    assert cell_fit("gwnet:none:each:input", "graph_steps", "input_hops") == ("gwnet", "each", 2)
    assert cell_fit("gwnet:none:each", "graph_steps", "input_hops") == ("gwnet", "each", 0)


def test_agcrn_cells_run_on_the_matched_operator_and_as_in_the_paper(cell_fit):
    from graphbias.bench.forecast_suite import AGCRN_METHODS

    assert [cell_fit(m, "normalization", "k") for m in AGCRN_METHODS] == [
        ("agcrn", "none", 2), ("agcrn", "random_walk", 0)]
    full = {(c.dataset, c.method) for c in suite(None, seeds=1, quick=False)}
    assert {("gpvar", m) for m in AGCRN_METHODS} <= full
    assert not {("gpvar-gcn", m) for m in AGCRN_METHODS} & full


def test_the_mlp_flag_gives_dcrnn_its_mlp_readout(cell_fit):
    from graphbias.bench.forecast_suite import DCRNN_MLP_METHOD

    assert cell_fit(DCRNN_MLP_METHOD, "normalization", "decoder") == ("dcrnn", "none", "mlp")
    assert cell_fit("dcrnn:none", "decoder") == ("dcrnn", "rnn")
    full = {(c.dataset, c.method) for c in suite(None, seeds=1, quick=False)}
    assert ("gpvar", DCRNN_MLP_METHOD) in full and ("gpvar-gcn", DCRNN_MLP_METHOD) not in full
