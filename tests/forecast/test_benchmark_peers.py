"""The forecasting benchmark scripts: per-epoch progress of losloop.py and the tsl
peer (skipped where tsl cannot be imported)."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from graphbias.data.synthetic.gpvar import gpvar

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "forecast"
sys.path.insert(0, str(BENCH))
losloop = pytest.importorskip("losloop")

SMALL = dict(window=4, horizon=3, hidden_channels=8, max_epochs=3, patience=None,
             lr_patience=None, stride=2)


def test_progress_records_every_epoch_with_the_test_metrics_of_its_weights(tmp_path):
    data, _ = gpvar(400, seed=0)
    path = tmp_path / "tts-0.jsonl"
    f = losloop.forecaster("tts", 0, progress=path).set_params(**SMALL).fit(data)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["val_mae"] for r in rows] == [h["val_mae"] for h in f.history_]
    kept = f.evaluate(data, "test")  # the weights kept are the best epoch's
    best = rows[f.best_epoch_]
    assert best["mae@3"] == pytest.approx(kept["mae"][2], rel=1e-6)
    assert best["rmse@3"] == pytest.approx(kept["rmse"][2], rel=1e-6)
    plain = losloop.forecaster("tts", 0).set_params(**SMALL).fit(data)
    np.testing.assert_array_equal(plain.predict(data), f.predict(data))  # tracking is passive


def test_ensemble_methods_fit_their_members_each_with_its_progress(tmp_path):
    data, _ = gpvar(400, seed=0)
    f = losloop.estimator("tts+gru-h4", 0, progress=tmp_path / "tts+gru-h4-0.jsonl")
    assert [name for name, _ in f.forecasters] == ["tts", "gru-h4"]
    for _, member in f.forecasters:
        member.set_params(**{**SMALL, "hidden_channels": member.hidden_channels,
                             "horizon": 12})  # the metrics' 12 steps ahead
    f.fit(data)
    for i, member in enumerate(f.forecasters_):
        rows = (tmp_path / f"tts+gru-h4-0.m{i}.jsonl").read_text().splitlines()
        assert [json.loads(r)["val_mae"] for r in rows] == \
            [h["val_mae"] for h in member.history_]
    row = losloop.ensemble_metrics(f, data)
    assert [m["method"] for m in row["members"]] == ["tts", "gru-h4"]
    assert row["epochs"] == sum(m.n_epochs_ for m in f.forecasters_) == 6
    assert row["mae@3"] == pytest.approx(f.evaluate(data)["mae"][2])
    assert row["mae@3"] != pytest.approx(row["members"][0]["mae@3"])


def test_run_cell_records_an_ensemble():
    data, _ = gpvar(400, seed=0)
    row = losloop.run_cell("last+var", 0, data, threads=1, quick=True)
    assert row["method"] == "last+var" and row["history"] == [] and row["best_epoch"] == -1
    assert [m["method"] for m in row["members"]] == ["last", "var"]
    for step in (3, 6, 12):  # |mean of two - y| <= mean of the two errors, pointwise
        assert row[f"mae@{step}"] <= np.mean([m[f"mae@{step}"] for m in row["members"]]) + 1e-9


def test_baselines_are_not_tracked(tmp_path):
    f = losloop.forecaster("last", 0, progress=tmp_path / "last.jsonl")
    assert type(f).__name__ == "STGNNForecaster"


def test_setting_suffixes_set_their_parameter_only():
    wide, plain = losloop.forecaster("tts-h64", 1), losloop.forecaster("tts", 1)
    assert (wide.model, wide.hidden_channels, plain.hidden_channels) == ("tts", 64, 32)
    assert {k: v for k, v in wide.get_params().items() if k != "hidden_channels"} == \
        {k: v for k, v in plain.get_params().items() if k != "hidden_channels"}
    assert losloop.forecaster("gwnet-h16-compiled", 0).get_params()["compile"] is True
    deep = losloop.forecaster("tts-h64-l2", 1)
    assert (deep.model, deep.hidden_channels, deep.num_layers) == ("tts", 64, 2)
    assert losloop.forecaster("tsl-dcrnn-h16", 0).get_params()["hidden_channels"] == 16
    decayed, gwnet = losloop.forecaster("gwnet-wd0.0001", 2), losloop.forecaster("gwnet", 2)
    assert (decayed.model, decayed.weight_decay, gwnet.weight_decay) == ("gwnet", 1e-4, 0.0)
    assert {k: v for k, v in decayed.get_params().items() if k != "weight_decay"} == \
        {k: v for k, v in gwnet.get_params().items() if k != "weight_decay"}
    assert losloop.forecaster("gwnet-i2", 0).input_hops == 2 and gwnet.input_hops == 0
    narrow = losloop.forecaster("agcrn-k0-e2", 0)
    assert (narrow.model, narrow.k, narrow.embedding, gwnet.embedding) == ("agcrn", 0, 2, 10)
    each = losloop.forecaster("dcrnn-h16-each", 0)
    assert (each.model, each.hidden_channels, each.graph_steps) == ("dcrnn", 16, "each")


def test_tsl_peer_trains_under_the_same_protocol():
    tsl_peer = pytest.importorskip("tsl_peer")
    try:
        tsl_peer.tsl_version()
    except ImportError as err:
        pytest.skip(str(err))
    data, _ = gpvar(300, seed=0)
    for model in tsl_peer.TSL_MODELS:
        f = tsl_peer.TSLForecaster(model, 4, 2, hidden_channels=8, max_epochs=2,
                                   random_state=0).fit(data)
        assert f.predict(data).shape == (2, 30, 1) and f.n_epochs_ == 2
        assert np.isfinite(f.score(data))
        assert f.get_params()["model"] == model
    with pytest.raises(ValueError, match="model must be one of 'tsl-dcrnn'"):
        tsl_peer.TSLForecaster("dcrnn", 4, 2).fit(data)


def test_tsl_peer_refuses_what_tsl_models_cannot_read():
    tsl_peer = pytest.importorskip("tsl_peer")
    import torch

    from graphbias.data import Graph
    from graphbias.data.temporal import SpatioTemporalData

    data, _ = gpvar(200, seed=0)
    ring = Graph(torch.tensor([[0, 1], [1, 0]]), data.num_nodes)
    dynamic = SpatioTemporalData(data.values, [data.graph, ring] * 100)
    with pytest.raises(ValueError, match="the tsl peer takes a static graph"):
        tsl_peer.TSLForecaster("tsl-dcrnn", **SMALL).fit(dynamic)
    timed = SpatioTemporalData(data.values, data.graph, covariates=np.zeros((200, 1)))
    with pytest.raises(ValueError, match="no future_covariates"):
        tsl_peer.TSLForecaster("tsl-dcrnn", future_covariates=True, **SMALL).fit(timed)


def test_horizon_limit_tells_the_values_of_the_target_step_and_after():
    import horizon_limit

    from graphbias.data import Graph
    from graphbias.data.temporal import SpatioTemporalData

    rng = np.random.default_rng(0)
    x = rng.uniform(1, 9, size=(30, 3))
    mask = np.ones_like(x, dtype=bool)
    mask[10, 1] = False
    g = Graph(np.array([[0, 2], [1, 1]]), 3)  # node 1 hears nodes 0 and 2
    data = SpatioTemporalData(x, g, mask=mask)
    step = horizon_limit.STEP
    nb = horizon_limit.told(data, "gbm+neighbours-at-target").node_covariates
    np.testing.assert_allclose(nb[5, 1], [(x[5 + step, 0] + x[5 + step, 2]) / 2, 1], rtol=1e-6)
    np.testing.assert_allclose(nb[5, 0], [0, 0])  # node 0 hears no one
    own = horizon_limit.told(data, "gbm+own-after-target").node_covariates
    t = 10 - step - 1  # the first later value of node 1 is its missing reading at 10
    np.testing.assert_allclose(own[t, 1], [0, 0, x[11, 1], 1, x[12, 1], 1], rtol=1e-6)
    assert (own[-1] == 0).all()  # past the end
