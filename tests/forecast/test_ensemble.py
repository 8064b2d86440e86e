"""ForecastEnsemble: the weighted average of its members, fitted as they would be
alone, and clear errors for members that cannot be averaged."""
import numpy as np
import pytest

from graphbias.data.synthetic.gpvar import gpvar
from graphbias.forecast import ForecastEnsemble, STGNNForecaster, masked_mae


@pytest.fixture(scope="module")
def data():
    return gpvar(260, seed=1)[0]


def _member(model="tts", **kw):
    return STGNNForecaster(model, **{"window": 4, "horizon": 3, "hidden_channels": 4,
                                     "max_epochs": 2, "batch_size": 32, "random_state": 0,
                                     **kw})


def test_equal_weights_average_the_members_fitted_alone(data):
    members = [_member(), _member("gru", random_state=3), _member("var")]
    ens = ForecastEnsemble(members).fit(data)
    alone = [m.fit(data) for m in members]
    assert ens.names_ == ["tts", "gru", "var"]
    np.testing.assert_allclose(ens.weights_, np.full((3, 3), 1 / 3))
    np.testing.assert_allclose(ens.predict(data), np.mean([m.predict(data) for m in alone], 0),
                               rtol=1e-5, atol=1e-6)
    starts = ens.split_windows(data).test
    np.testing.assert_allclose(ens.predict_windows(data, starts),
                               np.mean([m.predict_windows(data, starts) for m in alone], 0),
                               rtol=1e-5, atol=1e-6)
    assert len(ens.seconds_) == 3 and min(ens.seconds_) > 0


def test_weights_per_step_ahead(data):
    w = np.array([[1.0, 0.0, 3.0], [1.0, 2.0, 1.0]])  # columns: steps ahead
    ens = ForecastEnsemble([_member("var"), _member("last")], weights=w).fit(data)
    var, last = (_member(m).fit(data).predict(data) for m in ("var", "last"))
    expected = np.stack([0.5 * var[0] + 0.5 * last[0], last[1],
                         0.75 * var[2] + 0.25 * last[2]])
    np.testing.assert_allclose(ens.predict(data), expected, rtol=1e-6)
    one = ForecastEnsemble([_member("var"), _member("last")], weights=[3, 1]).fit(data)
    np.testing.assert_allclose(one.weights_, np.full((2, 3), 1.0) * [[0.75], [0.25]])


def test_evaluate_and_score_judge_the_average(data):
    ens = ForecastEnsemble([_member("var"), _member("last")]).fit(data)
    split = ens.split_windows(data)
    _, y, _, mask, _ = data.gather(split.test, 4, 3, 0)
    forecast = ens.predict_windows(data, split.test)
    m = ens.evaluate(data)
    for h in range(3):
        assert m["mae"][h] == pytest.approx(masked_mae(forecast[:, h], y.numpy()[:, h],
                                                       mask.numpy()[:, h]))
    assert ens.score(data) == pytest.approx(-masked_mae(forecast, y.numpy(), mask.numpy()))
    assert ens.score(data, part="val") != ens.score(data)


def test_a_member_repeated_is_that_member(data):
    var = _member("var").fit(data)
    ens = ForecastEnsemble([("a", _member("var")), ("b", _member("var"))]).fit(data)
    np.testing.assert_allclose(ens.predict(data), var.predict(data), rtol=1e-6)
    assert ens.evaluate(data)["mae"] == pytest.approx(var.evaluate(data)["mae"])


def test_names_default_to_the_model_numbered():
    ens = ForecastEnsemble([_member(), _member(), ("tts-2", _member("gru")), _member()])
    assert ens._members()[0] == ["tts", "tts-3", "tts-2", "tts-4"]


@pytest.mark.parametrize("forecasters, weights, match", [
    ([], None, "at least one forecaster"),
    ([_member(), "tts"], None, r"forecasters\[1\] must be an STGNNForecaster"),
    ([(3, _member())], None, "name of forecasters"),
    ([("a", _member()), ("a", _member("gru"))], None, "'a' is given twice"),
    ([_member(), _member(window=6)], None, r"differs from forecasters\[0\] in window \(6"),
    ([_member(), _member(test_fraction=0.3)], None, "test_fraction"),
    ([_member(), _member("var")], [1.0], r"shape \(2,\) or \(2, 3\)"),
    ([_member(), _member("var")], [1.0, -1.0], "non-negative"),
    ([_member(), _member("var")], [1.0, np.nan], "finite"),
    ([_member(), _member("var")], [[1, 0, 1], [1, 0, 1]], r"step\(s\) ahead \[2\]"),
    ([_member(), _member("var")], ["a", "b"], "weights must be numbers"),
])
def test_bad_ensembles_are_refused(data, forecasters, weights, match):
    with pytest.raises(ValueError, match=match):
        ForecastEnsemble(forecasters, weights=weights).fit(data)


def test_targets_are_refused(data):
    with pytest.raises(ValueError, match="ForecastEnsemble takes its targets"):
        ForecastEnsemble([_member("var")]).fit(data, np.zeros(3))


def test_members_fitted_in_parallel_processes_are_the_same(data):
    members = [_member(), _member("gru", random_state=3)]
    one = ForecastEnsemble(members).fit(data)
    two = ForecastEnsemble(members, n_jobs=2).fit(data)
    np.testing.assert_allclose(two.predict(data), one.predict(data), rtol=1e-4, atol=1e-5)
    assert [f.n_epochs_ for f in two.forecasters_] == [f.n_epochs_ for f in one.forecasters_]
    assert len(two.seconds_) == 2 and min(two.seconds_) > 0


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, "2"])
def test_bad_n_jobs_is_refused(data, n_jobs):
    with pytest.raises(ValueError, match="n_jobs"):
        ForecastEnsemble([_member("var")], n_jobs=n_jobs).fit(data)
