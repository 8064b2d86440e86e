"""Spatiotemporal GNN forecasters: time-then-space and time-and-space (DCRNN,
Graph WaveNet, AGCRN) models, baselines (last value, historical average, VAR,
gradient-boosted trees on lag features), masked metrics, the
:class:`STGNNForecaster` estimator (``score`` is the negated masked MAE) and
:class:`ForecastEnsemble`, the weighted average of several forecasters."""
from .agcrn import AGCRN, NodeAdaptiveConv
from .baselines import VAR, HistoricalAverage, LagBoost, LastValue
from .ensemble import ForecastEnsemble
from .estimator import BASELINES, MODELS, STGNNForecaster
from .gwnet import GraphWaveNet
from .metrics import forecast_metrics, masked_mae, masked_mape, masked_rmse
from .models import DCRNN, HorizonReadout, TimeThenSpace

__all__ = ["STGNNForecaster", "ForecastEnsemble", "MODELS", "BASELINES", "DCRNN", "GraphWaveNet", "AGCRN",
           "NodeAdaptiveConv", "TimeThenSpace", "HorizonReadout", "LastValue",
           "HistoricalAverage", "VAR", "LagBoost", "forecast_metrics", "masked_mae", "masked_rmse",
           "masked_mape"]
