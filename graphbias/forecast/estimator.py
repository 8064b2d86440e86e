"""Scikit-learn style spatiotemporal forecaster."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..base import EarlyStopping, seed_from, torch_seed
from ..data.temporal import SpatioTemporalData, Split, StandardScaler
from ..nn.diffusion_conv import check_normalization
from .baselines import VAR, HistoricalAverage, LastValue
from .metrics import forecast_metrics, masked_mae
from .gwnet import GraphWaveNet
from .models import DCRNN, TimeThenSpace

__all__ = ["STGNNForecaster", "MODELS", "BASELINES"]

MODELS = ("dcrnn", "gwnet", "tts", "gru")
BASELINES = {"last": LastValue, "ha": HistoricalAverage, "var": VAR}


class STGNNForecaster(BaseEstimator):
    """Graph neural network forecaster: ``window`` past steps in, ``horizon`` out.

    Models: ``"dcrnn"`` (diffusion-convolutional GRU encoder-decoder), ``"gwnet"``
    (Graph WaveNet: gated dilated TCN + graph convolution + adaptive adjacency), ``"tts"``
    (time-then-space: GRU encoder + diffusion convolutions), ``"gru"`` (the same
    network with no graph: the graph-free baseline), and the training-free
    baselines ``"last"``, ``"ha"`` (historical average) and ``"var"``.
    ``normalization`` picks the graph operators of every graph convolution:
    DCRNN's forward and backward random walks (``"random_walk"``) or the symmetric
    GCN shift with self-loops (``"gcn"``); see :class:`~graphbias.nn.DiffusionConv`.

    ``fit(data)`` splits the series chronologically into train / val / test
    (``val_fraction``, ``test_fraction``); the test part is not used. The input
    scaler is fit on the training part only. Inputs per node are the scaled values,
    the mask and, when the data has timestamps, time-of-day / day-of-week
    covariates. The loss is the masked MAE in original units; training stops early
    when the validation MAE has not improved for ``patience`` epochs; with
    ``lr_patience`` the learning rate is halved each time it has not improved for
    that many epochs (``ReduceLROnPlateau``), which lets long runs settle.

    ``score`` returns the masked MAE (lower is better) on a part of the data.

    >>> import numpy as np
    >>> from graphbias.data.synthetic.gpvar import gpvar
    >>> data, _ = gpvar(300, seed=0)
    >>> f = STGNNForecaster("tts", window=4, horizon=2, hidden=8, max_epochs=2,
    ...                     random_state=0).fit(data)
    >>> f.predict(data).shape
    (2, 30, 1)
    """

    def __init__(self, model: str = "dcrnn", window: int = 12, horizon: int = 12, *,
                 hidden: int = 32, n_layers: int = 1, k: int = 2,
                 normalization: str = "random_walk", lr: float = 0.01,
                 weight_decay: float = 0.0, batch_size: int = 64, max_epochs: int = 100,
                 patience: Optional[int] = 10, lr_patience: Optional[int] = None,
                 stride: int = 1, delay: int = 0,
                 val_fraction: float = 0.1, test_fraction: float = 0.2,
                 mask_nan: bool = False, verbose: bool = False,
                 random_state: Any = None) -> None:
        self.model = model
        self.window = window
        self.horizon = horizon
        self.hidden = hidden
        self.n_layers = n_layers
        self.k = k
        self.normalization = normalization
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.lr_patience = lr_patience
        self.stride = stride
        self.delay = delay
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.mask_nan = mask_nan
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ input
    def _data(self, data: Any, graph: Any) -> SpatioTemporalData:
        if isinstance(data, SpatioTemporalData):
            if graph is not None:
                raise ValueError("pass the graph inside SpatioTemporalData or with "
                                 "plain arrays, not both")
            out = data
        else:
            out = SpatioTemporalData(data, graph, mask_nan=self.mask_nan)
        if not out.is_static:
            raise ValueError("STGNNForecaster needs a static graph; got one graph per step")
        if hasattr(self, "n_nodes_") and (out.num_nodes, out.num_features) != (
                self.n_nodes_, self.n_features_):
            raise ValueError(f"the data has {out.num_nodes} nodes x {out.num_features} "
                             f"features, the model was fit on {self.n_nodes_} x "
                             f"{self.n_features_}")
        return out

    def _inputs(self, data: SpatioTemporalData, starts: np.ndarray
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, y, mx, my, cov = data.gather(starts, self.window, self.horizon, self.delay)
        z = torch.where(mx, self.scaler_.transform(x), torch.zeros(()))
        parts = [z, mx.float()]
        if self.use_covariates_:
            parts.append(cov[:, :, None, :].expand(-1, -1, x.size(2), -1))
        return torch.cat(parts, -1), y, my

    def _build(self, in_channels: int) -> torch.nn.Module:
        F, H = self.n_features_, self.horizon
        if self.model == "dcrnn":
            return DCRNN(in_channels, F, H, self.hidden, self.n_layers, self.k,
                         normalization=self.normalization)
        if self.model == "gwnet":
            return GraphWaveNet(in_channels, F, H, self.n_nodes_, self.window, self.hidden,
                                self.k, normalization=self.normalization)
        return TimeThenSpace(in_channels, F, H, self.hidden, max(self.n_layers, 1), self.k,
                             graph_free=self.model == "gru",
                             normalization=self.normalization)

    def _forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.scaler_.inverse_transform(self.network_(inputs, self.graph_))

    # -------------------------------------------------------------------- fit
    def fit(self, data: Any, graph: Any = None) -> "STGNNForecaster":
        """Fits on ``data`` (SpatioTemporalData, or ``T x N (x F)`` values + ``graph``)."""
        if self.model not in MODELS and self.model not in BASELINES:
            raise ValueError(f"model must be one of {MODELS + tuple(BASELINES)}, "
                             f"got {self.model!r}")
        check_normalization(self.normalization)
        if self.lr_patience is not None and not (
                isinstance(self.lr_patience, (int, np.integer)) and self.lr_patience >= 1):
            raise ValueError(f"lr_patience must be None or a positive integer, "
                             f"got {self.lr_patience!r}")
        for attr in ("n_nodes_", "n_features_"):
            self.__dict__.pop(attr, None)
        d = self._data(data, graph)
        split = self._split(d)
        self.n_nodes_, self.n_features_ = d.num_nodes, d.num_features
        self.history_: list[dict[str, float]] = []
        if self.model in BASELINES:
            self.baseline_ = BASELINES[self.model]().fit(d, split.train_steps)
            self.n_epochs_ = 0
            return self
        if d.graph is None and self.model != "gru":
            raise ValueError(f"model {self.model!r} needs a graph; use model='gru' "
                             "for graph-free forecasting")
        self.graph_ = d.graph
        self.scaler_ = StandardScaler().fit(d, split.train_steps)
        self.use_covariates_ = d.covariates is not None
        seed = seed_from(self.random_state)
        rng = np.random.default_rng(seed)
        in_channels = 2 * d.num_features + (d.covariates.shape[1] if self.use_covariates_ else 0)
        with torch_seed(seed):
            self.network_ = self._build(in_channels)
            opt = torch.optim.Adam(self.network_.parameters(), lr=self.lr,
                                   weight_decay=self.weight_decay)
            stopper = EarlyStopping(self.patience if split.val.size else None)
            plateau = None if self.lr_patience is None else (
                torch.optim.lr_scheduler.ReduceLROnPlateau(
                    opt, factor=0.5, patience=self.lr_patience))
            epochs = range(self.max_epochs)
            if self.verbose:
                from tqdm.auto import tqdm
                epochs = tqdm(epochs, desc=f"{self.model}", unit="epoch")
            for _ in epochs:
                loss = self._epoch(d, split.train, opt, rng)
                val = (self._mae(d, split.val) if split.val.size else -loss)
                self.history_.append({"loss": loss, "val_mae": val})
                if plateau is not None:
                    plateau.step(val)
                if self.verbose:
                    epochs.set_postfix(loss=f"{loss:.4f}", val_mae=f"{val:.4f}")
                if stopper.step(-val, loss, self.network_):
                    break
            stopper.restore(self.network_)
        self.n_epochs_ = len(self.history_)
        self.network_.eval()
        return self

    def _split(self, d: SpatioTemporalData) -> Split:
        return d.split(self.window, self.horizon, self.val_fraction, self.test_fraction,
                       self.stride, self.delay)

    def _epoch(self, d: SpatioTemporalData, starts: np.ndarray, opt: Any,
               rng: np.random.Generator) -> float:
        self.network_.train()
        order = rng.permutation(starts)
        total = 0.0
        for i in range(0, len(order), self.batch_size):
            inputs, y, my = self._inputs(d, order[i:i + self.batch_size])
            pred = self._forward(inputs)
            loss = (pred - y).abs()[my].mean() if my.any() else pred.sum() * 0.0
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.network_.parameters(), 5.0)
            opt.step()
            total += float(loss.detach()) * len(inputs)
        return total / len(order)

    def _mae(self, d: SpatioTemporalData, starts: np.ndarray) -> float:
        _, y, _, my, _ = d.gather(starts, self.window, self.horizon, self.delay)
        return masked_mae(self._forecast_windows(d, starts), y.numpy(), my.numpy())

    # ---------------------------------------------------------------- predict
    def _forecast_windows(self, d: SpatioTemporalData, starts: np.ndarray) -> np.ndarray:
        if hasattr(self, "baseline_"):
            return self.baseline_.forecast(d, starts, self.window, self.horizon, self.delay)
        self.network_.eval()
        outs = []
        with torch.no_grad():
            for i in range(0, len(starts), 4 * self.batch_size):
                outs.append(self._forward(self._inputs(d, starts[i:i + 4 * self.batch_size])[0]))
        return torch.cat(outs).numpy()

    def predict_windows(self, data: Any, starts: Any, graph: Any = None) -> np.ndarray:
        """Forecasts ``[S, H, N, F]`` for the windows starting at ``starts``."""
        check_is_fitted(self, "n_nodes_")
        d = self._data(data, graph)
        s = np.asarray(starts, dtype=np.int64).reshape(-1)
        last = d.num_steps - self.window - self.delay - self.horizon
        if s.size and (s.min() < 0 or s.max() > last):
            raise ValueError(f"window starts must lie in [0, {last}]")
        return self._forecast_windows(d, s)

    def predict(self, data: Any, graph: Any = None) -> np.ndarray:
        """The next ``horizon`` steps ``H x N x F`` after the end of ``data``, in
        original units, from its last ``window`` steps."""
        check_is_fitted(self, "n_nodes_")
        d = self._data(data, graph)
        if d.num_steps < self.window:
            raise ValueError(f"data has {d.num_steps} steps, fewer than window={self.window}")
        pad = self.delay + self.horizon  # targets past the end are masked placeholders
        ext = SpatioTemporalData(np.concatenate([d.values, np.zeros((pad,) + d.values.shape[1:],
                                                                    np.float32)]),
                                 d.graph, mask=np.concatenate([d.mask, np.ones(
                                     (pad,) + d.mask.shape[1:], bool)]),
                                 timestamps=self._extend_stamps(d, pad))
        return self._forecast_windows(ext, np.array([d.num_steps - self.window]))[0]

    @staticmethod
    def _extend_stamps(d: SpatioTemporalData, pad: int) -> Any:
        if d.timestamps is None:
            return None
        import pandas as pd
        idx = pd.DatetimeIndex(d.timestamps)
        step = idx[-1] - idx[-2] if len(idx) > 1 else pd.Timedelta(0)
        return idx.append(pd.DatetimeIndex([idx[-1] + step * (i + 1) for i in range(pad)]))

    def evaluate(self, data: Any, part: str = "test", graph: Any = None) -> dict[str, np.ndarray]:
        """Masked MAE / RMSE / MAPE per horizon step on a chronological ``part``
        (``"train"``, ``"val"``, ``"test"``, or ``"all"`` windows) of ``data``."""
        check_is_fitted(self, "n_nodes_")
        d = self._data(data, graph)
        starts = self._starts(d, part)
        _, y, _, my, _ = d.gather(starts, self.window, self.horizon, self.delay)
        return forecast_metrics(self._forecast_windows(d, starts), y.numpy(), my.numpy())

    def _starts(self, d: SpatioTemporalData, part: str) -> np.ndarray:
        if part == "all":
            return d.window_starts(self.window, self.horizon, self.stride, self.delay)
        starts = self._split(d)[part]
        if not starts.size:
            raise ValueError(f"the {part} part of the data holds no window")
        return starts

    def score(self, data: Any, graph: Any = None, part: str = "test") -> float:
        """Masked MAE (lower is better) over the windows of ``part`` of ``data``."""
        check_is_fitted(self, "n_nodes_")
        d = self._data(data, graph)
        return self._mae(d, self._starts(d, part))
