"""Exogenous covariates given by the user: shared by every node and per node."""
import numpy as np
import pandas as pd
import pytest

from graphbias.data.temporal import SpatioTemporalData
from graphbias.forecast import STGNNForecaster

FIT = dict(window=4, horizon=1, hidden_channels=16, max_epochs=25, lr=0.01,
           random_state=0)


@pytest.mark.parametrize("per_node, model", [(False, "gru"), (True, "tts"),
                                              (False, "dcrnn"), (True, "gwnet")])
def test_a_known_driver_is_used(per_node, model, driven, ring):
    y, u = driven(per_node)
    key = "node_covariates" if per_node else "covariates"
    data = SpatioTemporalData(y, ring(5), **{key: u})
    plain = SpatioTemporalData(y, ring(5))
    with_u = STGNNForecaster(model, **FIT).fit(data)
    without = STGNNForecaster(model, **FIT).fit(plain)
    assert with_u.use_covariates_ and not without.use_covariates_
    assert (with_u.n_covariates_, with_u.n_node_covariates_) == ((0, 1) if per_node else (1, 0))
    # without u the error is about 1.5 E|u| = 1.2; with it, close to the noise
    assert -with_u.score(data) < 0.3 * -without.score(plain)


def test_given_covariates_are_standardised_on_the_training_steps(driven):
    y, u = driven(False, steps=300)
    stamps = pd.date_range("2024-01-01", periods=300, freq="5min")
    fits = [STGNNForecaster("gru", **{**FIT, "max_epochs": 3}).fit(
        SpatioTemporalData(y, timestamps=stamps, covariates=c))
        for c in (u, 1000 + 100 * u)]
    mean, std = fits[1]._covariate_moments_
    train = slice(0, int(round(300 * 0.7)))
    np.testing.assert_allclose(mean[4:], (1000 + 100 * u[train]).mean(0), rtol=1e-5)
    np.testing.assert_allclose(std[4:], (100 * u[train]).std(0), rtol=1e-4)
    np.testing.assert_array_equal(mean[:4], 0.0)            # time covariates as they are
    np.testing.assert_array_equal(std[:4], 1.0)
    a, b = (f.predict_windows(SpatioTemporalData(y, timestamps=stamps, covariates=c),
                              [0, 100, 250]) for f, c in zip(fits, (u, 1000 + 100 * u)))
    np.testing.assert_allclose(a, b, atol=1e-3)


def test_predict_reads_the_covariates_of_the_input_steps_only(driven, ring):
    y, u = driven(True, steps=200)
    data = SpatioTemporalData(y, ring(5), node_covariates=u)
    f = STGNNForecaster("tts", **{**FIT, "max_epochs": 2}).fit(data)
    forecast = f.predict(data)
    future = np.random.default_rng(1).standard_normal((1, 5))
    longer = SpatioTemporalData(np.vstack([y, y[-1:]]), ring(5),
                                node_covariates=np.vstack([u, future]))
    np.testing.assert_allclose(forecast, f.predict_windows(longer, [200 - 4])[0],
                               rtol=1e-6, atol=1e-6)


def test_data_without_the_covariates_of_fit_is_a_clear_error(driven):
    y, u = driven(False, steps=200)
    stamps = pd.date_range("2024-01-01", periods=200, freq="5min")
    data = SpatioTemporalData(y, timestamps=stamps, covariates=u)
    f = STGNNForecaster("gru", **{**FIT, "max_epochs": 1}).fit(data)
    for other in (y, SpatioTemporalData(y, timestamps=stamps),
                  SpatioTemporalData(y, timestamps=stamps, covariates=np.hstack([u, u])),
                  SpatioTemporalData(y, covariates=np.hstack([u, u, u, u, u]))):
        with pytest.raises(ValueError, match="time covariates, .* shared and .* node "
                                             "covariates; the model was fit on 4, 1 and 0"):
            f.predict(other)
    # the baselines read no covariates
    last = STGNNForecaster("last", window=4, horizon=1).fit(data)
    assert not last.use_covariates_
    np.testing.assert_array_equal(last.predict(y), last.predict(data))
