"""Scikit-learn style spatiotemporal forecaster.

:data:`MODELS` names the trained networks, :data:`BASELINES` the baselines outside
the training loop :class:`STGNNForecaster` accepts as ``model``.
"""
from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any, Callable, Iterator, Optional

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._validation import (DEPRECATED, Boolean, Device, Integer, Options, RandomState, Real,
                           deprecated_attribute, validate_params)
from ..base import EstimatorMixin, seed_from, torch_seed
from ..data.graph import Graph
from ..data.temporal import (SpatioTemporalData, Split, StandardScaler, covariate_array,
                             datetime_index)
from ..nn.diffusion_conv import NORMALIZATIONS
from ..nn.training import EarlyStopping, TrainingResult, fit_module
from .agcrn import AGCRN
from .baselines import VAR, HistoricalAverage, LagBoost, LastValue
from .gwnet import GraphWaveNet
from .metrics import forecast_metrics, masked_mae
from .models import DCRNN, TimeThenSpace

__all__ = ["STGNNForecaster", "MODELS", "BASELINES"]

#: the trained networks
MODELS = ("dcrnn", "gwnet", "agcrn", "tts", "gru")
#: the baselines outside the training loop, by name
BASELINES = {"last": LastValue, "ha": HistoricalAverage, "var": VAR, "gbm": LagBoost}

#: gradient norm every training step is clipped to
CLIP_GRAD_NORM = 5.0


class STGNNForecaster(EstimatorMixin, BaseEstimator):
    r"""Graph neural network forecaster: ``window`` past steps in, ``horizon`` out.

    Models: ``"dcrnn"`` (:class:`DCRNN`, diffusion-convolutional GRU
    encoder-decoder), ``"gwnet"`` (:class:`GraphWaveNet`: gated dilated TCN + graph
    convolution + adaptive adjacency), ``"agcrn"`` (:class:`AGCRN`: GRU with
    node-adaptive graph convolutions on a learned adjacency; with ``k >= 1`` also on
    the given graph, not in the paper), ``"tts"`` (:class:`TimeThenSpace`: GRU
    encoder + diffusion convolutions), ``"gru"`` (the same network with no graph:
    the graph-free baseline), the training-free baselines ``"last"``, ``"ha"``
    (historical average) and ``"var"``, and ``"gbm"`` (:class:`LagBoost`:
    gradient-boosted trees on each node's lags and its neighbours' mean lags, the
    graph's read when there is one). ``normalization`` picks the graph
    operators of every graph convolution: DCRNN's forward and backward random walks
    (``"random_walk"``), the symmetric GCN shift with self-loops (``"gcn"``) or the
    unnormalised adjacency with self-loops :math:`A + I` (``"none"``, the shift of
    tsl's GP-VAR); see :class:`~graphbias.nn.DiffusionConv`.

    ``fit(data)`` splits the series chronologically into train / validation / test
    windows (``validation_fraction``, ``test_fraction``; :meth:`split_windows`);
    the test part is not used. The input scaler is fit on the training part only.
    Inputs per node and step are the scaled values, the mask and the data's
    exogenous covariates (:class:`~graphbias.data.SpatioTemporalData`): time-of-day /
    day-of-week covariates when it has timestamps, then the covariates shared by
    every node, then the node covariates; the given ones (not the time covariates)
    are standardised per column by their mean and standard deviation over the
    training steps. The data a fitted network predicts must carry covariates of
    the same columns; ``"gbm"`` reads them as they are (those of the last input
    step), the other baselines read none. With ``future_covariates=True`` the
    networks also read the covariates of the target steps, standardised alike:
    inputs known in advance, such as a calendar, a weather forecast or planned
    events (:class:`DCRNN`'s decoder RNN takes them at each step, the other networks
    and DCRNN with ``decoder="mlp"`` through a
    :class:`~graphbias.forecast.HorizonReadout`, a graph convolution of
    them and the node states, so a node reads its neighbours' known inputs too;
    the graph-free GRU reads its node's); :meth:`predict` then
    needs the given covariates of the steps after the end of the data (the time
    covariates follow from the timestamps). The loss is the masked MAE in
    original units,

    .. math::

        \mathcal L = \frac{1}{|M|} \sum_{(s, h, i, f) \in M}
        \big|\hat y_{s,h,i,f} - y_{s,h,i,f}\big|,

    over the observed targets :math:`M` of a mini-batch of windows, minimised by
    Adam with the gradient norm clipped to 5. Training keeps the weights of the
    epoch with the lowest validation MAE (ties: lower training loss) and stops
    after ``patience`` epochs without improvement; without validation windows
    (``validation_fraction=0``) the training loss is monitored instead. With
    ``lr_patience`` the learning rate is halved each time the monitored metric has
    not improved for that many epochs, which lets long runs settle.

    ``score`` is the **negated** masked MAE, so greater is better and
    ``GridSearchCV`` / ``cross_val_score`` choose the model with the lower error.

    A model fitted on a graph predicts data given without one (plain values, or a
    :class:`~graphbias.data.SpatioTemporalData` without graph) on the graph of
    ``fit`` when the node count matches, and raises otherwise; it never predicts
    graph-free silently. A graph given at prediction is used.

    A time-varying graph (a ``SpatioTemporalData`` with one graph per step) is read
    by every network: each window is forecast on the graph of its last input step
    (with ``graph_steps="each"``, DCRNN convolves every input step on that step's
    graph, Graph WaveNet the steps its dilations read, and every step with
    ``input_hops``), and a batch of windows passes at once as the nodes of one
    block-diagonal graph (Graph WaveNet's adaptive adjacency acts within each
    window's block). On Los-loop, with graphs redrawn every hour or every step, one
    thread trained at 0.86-0.98x the static graph's windows/s (0.73-0.83x with
    ``graph_steps="each"``; ``benchmarks/forecast``). ``graph_`` is then None, the
    data to predict must bring its graphs, and ``compile=True`` is refused.

    Parameters
    ----------
    model : {"dcrnn", "gwnet", "agcrn", "tts", "gru", "last", "ha", "var", "gbm"}, default="dcrnn"
        The network or baseline.
    window : int, default=12
        Input steps.
    horizon : int, default=12
        Steps forecast.
    hidden_channels : int, default=32
        Hidden width of the network.
    num_layers : int, default=1
        Stacked recurrent cells (``"dcrnn"``, ``"agcrn"``) or graph convolutions after the GRU
        (``"tts"``, ``"gru"``); Graph WaveNet's depth follows from ``window``.
    k : int, default=2
        Diffusion hops of every graph convolution (>= 1 for ``"gwnet"``). For
        ``"agcrn"`` the hops of the given graph beside its learned adjacency: ``k=0``
        is the paper's AGCRN, which reads no graph (``fit`` then needs none).
    normalization : {"random_walk", "gcn", "none"}, default="random_walk"
        Graph operators of the convolutions.
    lr : float, default=0.01
        Adam's learning rate.
    weight_decay : float, default=0.0
        L2 penalty (Adam).
    batch_size : int, default=64
        Training windows per step (prediction gathers 4 x as many per pass).
    max_epochs : int, default=100
        Training epochs at most.
    patience : int or None, default=10
        Stop after that many epochs without improvement of the monitored metric
        (``None``: run every epoch, keep the best).
    lr_patience : int or None, default=None
        Halve the learning rate after that many epochs without improvement.
    stride : int, default=1
        Steps between consecutive window starts.
    delay : int, default=0
        Steps skipped between the inputs and the first target.
    validation_fraction : float, default=0.1
        Share of the time steps (after the training part) whose windows validate;
        in [0, 1), with ``validation_fraction + test_fraction < 1``.
    test_fraction : float, default=0.2
        Share of the last time steps held out for :meth:`evaluate` and
        :meth:`score`; in [0, 1).
    mask_nan : bool, default=False
        Read NaN in plain arrays as missing.
    verbose : bool, default=False
        Show a progress bar with the training loss and the monitored metric.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the initialisation and the order of the training windows.
    device : str or torch.device, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"`` (CUDA when available).
    compile : bool, default=False
        Train through ``torch.compile`` of the network (validation and prediction
        stay eager). One eager forward first builds and checks the graph operators
        the network caches; the compiled steps reuse them unchecked, so the graph
        must not change in place during ``fit``. Compiling takes 10 s to 2 min; on
        one CPU thread a Los-loop training epoch ran 1.20x faster for ``"gwnet"``,
        0.83x for ``"dcrnn"`` and 0.90x for ``"tts"`` (``benchmarks/forecast``).
    future_covariates : bool, default=False
        The networks also read the covariates of the target steps (known future
        inputs); needs data with timestamps or covariates. ``"gbm"`` refuses it, the
        other baselines ignore it.
    graph_steps : {"last", "each"}, default="last"
        With one graph per step: forecast each window on the graph of its last input
        step (``"last"``), or convolve every input step on its own graph
        (``"each"``; ``"dcrnn"``, ``"gwnet"`` and ``"agcrn"`` with ``k >= 1``, which
        convolve at every input
        step: DCRNN's encoder steps and Graph WaveNet's layer outputs; DCRNN's
        decoder uses the last input step's graph, as the target steps' graphs are
        not known). The same for a static graph.
    input_hops : int, default=0
        ``"gwnet"`` only: diffuse every input step over its own graph in the input
        projection (:class:`GraphWaveNet`'s ``input_hops``; not in the paper). Graph
        WaveNet's layers convolve only the steps their dilations read, so with
        ``graph_steps="each"`` the graphs of the other steps enter only through
        this (0: the paper's model).
    decoder : {"rnn", "mlp"}, default="rnn"
        ``"dcrnn"`` only: the paper's decoder RNN, or an MLP readout of the
        encoder's final state (:class:`DCRNN`'s ``decoder``; not in the paper, as
        tsl's DCRNN). On Los-loop the MLP readout trained 1.8x faster and had the
        lower test MAE at every horizon in each of 3 seeds (``benchmarks/forecast``).
    embedding : int, default=10
        ``"gwnet"`` and ``"agcrn"`` only: width of the node embeddings behind the
        learned adjacency (and AGCRN's node-specific weights). The AGCRN paper uses
        10 on PEMSD4 and 2 on PEMSD8.
    hidden, n_layers, val_fraction : optional
        Deprecated names of ``hidden_channels``, ``num_layers`` and
        ``validation_fraction`` (``FutureWarning``; removed in the next release).

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (absent for the baselines).
    baseline_ : LastValue, HistoricalAverage, VAR or LagBoost
        The fitted baseline (absent for the networks).
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``val_mae`` (with
        validation windows), ``lr``, ``seconds``; empty for the baselines.
    n_epochs_ : int
        Epochs run (0 for the baselines).
    best_epoch_ : int or None
        The epoch whose weights the network holds (``None`` for the baselines).
    scaler_ : StandardScaler
        Input scaler fit on the training steps.
    graph_ : Graph or None
        The graph of ``fit``, on ``device_`` (None without one, or with one graph per
        step).
    dynamic_graph_ : bool
        Whether the data of ``fit`` had one graph per step.
    n_nodes_ : int
        Nodes of the series.
    n_features_in_ : int
        Features per node (F of ``T x N x F``).
    use_covariates_ : bool
        Whether covariates are inputs of the network (the data of ``fit`` had
        timestamps or covariates; False for the baselines).
    n_covariates_, n_node_covariates_ : int
        Columns of the data's ``covariates`` (time covariates included) and
        ``node_covariates`` at ``fit``.
    use_future_covariates_ : bool
        Whether the network reads the covariates of the target steps.
    device_ : torch.device
        Where the network and its inputs live.

    Examples
    --------
    >>> from graphbias.data.synthetic.gpvar import gpvar
    >>> data, _ = gpvar(300, seed=0)
    >>> f = STGNNForecaster("tts", window=4, horizon=2, hidden_channels=8, max_epochs=2,
    ...                     random_state=0).fit(data)
    >>> f.predict(data).shape
    (2, 30, 1)
    >>> f.n_epochs_, sorted(f.history_[0])
    (2, ['epoch', 'lr', 'seconds', 'train_loss', 'val_mae'])
    >>> bool(f.score(data) < 0)      # the negated test MAE
    True
    """

    _parameter_constraints = {
        "model": [Options(*MODELS, *BASELINES)],
        "window": [Integer(1)],
        "horizon": [Integer(1)],
        "hidden_channels": [Integer(1)],
        "num_layers": [Integer(1)],
        "k": [Integer(0)],
        "normalization": [Options(*NORMALIZATIONS)],
        "lr": [Real(0, None, closed="neither")],
        "weight_decay": [Real(0)],
        "batch_size": [Integer(1)],
        "max_epochs": [Integer(1)],
        "patience": [Integer(1), None],
        "lr_patience": [Integer(1), None],
        "stride": [Integer(1)],
        "delay": [Integer(0)],
        "validation_fraction": [Real(0, 1, closed="left")],
        "test_fraction": [Real(0, 1, closed="left")],
        "mask_nan": [Boolean()],
        "verbose": [Boolean()],
        "random_state": [RandomState()],
        "device": [Device()],
        "compile": [Boolean()],
        "future_covariates": [Boolean()],
        "graph_steps": [Options("last", "each")],
        "input_hops": [Integer(0)],
        "decoder": [Options("rnn", "mlp")],
        "embedding": [Integer(1)],
    }
    _aliases = {"hidden": "hidden_channels", "n_layers": "num_layers",
                "val_fraction": "validation_fraction"}

    network_ = deprecated_attribute("network_", "module_")
    n_features_ = deprecated_attribute("n_features_", "n_features_in_")

    def __init__(self, model: str = "dcrnn", window: int = 12, horizon: int = 12, *,
                 hidden_channels: int = 32, num_layers: int = 1, k: int = 2,
                 normalization: str = "random_walk", lr: float = 0.01,
                 weight_decay: float = 0.0, batch_size: int = 64, max_epochs: int = 100,
                 patience: Optional[int] = 10, lr_patience: Optional[int] = None,
                 stride: int = 1, delay: int = 0, validation_fraction: float = 0.1,
                 test_fraction: float = 0.2, mask_nan: bool = False, verbose: bool = False,
                 random_state: Any = None, device: Any = "cpu", compile: bool = False,
                 future_covariates: bool = False, graph_steps: str = "last",
                 input_hops: int = 0, decoder: str = "rnn", embedding: int = 10,
                 hidden: Any = DEPRECATED,
                 n_layers: Any = DEPRECATED, val_fraction: Any = DEPRECATED) -> None:
        self.model = model
        self.window = window
        self.horizon = horizon
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
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
        self.validation_fraction = validation_fraction
        self.test_fraction = test_fraction
        self.mask_nan = mask_nan
        self.verbose = verbose
        self.random_state = random_state
        self.device = device
        self.compile = compile
        self.future_covariates = future_covariates
        self.graph_steps = graph_steps
        self.input_hops = input_hops
        self.decoder = decoder
        self.embedding = embedding
        self.hidden = hidden
        self.n_layers = n_layers
        self.val_fraction = val_fraction

    # ------------------------------------------------------------- settings
    def _begin_fit(self) -> SimpleNamespace:
        p = super()._begin_fit()
        if p.validation_fraction + p.test_fraction >= 1:
            raise ValueError(f"{type(self).__name__}: validation_fraction + test_fraction "
                             f"must be < 1, got {p.validation_fraction} + {p.test_fraction}")
        if p.model == "gwnet" and p.k < 1:
            raise ValueError(f"{type(self).__name__}: model='gwnet' needs k >= 1, got {p.k}")
        if p.graph_steps == "each" and p.model == "agcrn" and p.k == 0:
            raise ValueError(f"{type(self).__name__}: graph_steps='each' with "
                             "model='agcrn' needs k >= 1 (with k=0 AGCRN reads no graph)")
        if p.graph_steps == "each" and p.model not in ("dcrnn", "gwnet", "agcrn"):
            raise ValueError(f"{type(self).__name__}: graph_steps='each' needs "
                             f"model='dcrnn', 'gwnet' or 'agcrn', which convolve at every input "
                             f"step; {p.model!r} reads one graph per window "
                             "(graph_steps='last')")
        if p.input_hops and p.model != "gwnet":
            raise ValueError(f"{type(self).__name__}: input_hops={p.input_hops} needs "
                             f"model='gwnet' (the others convolve every input step "
                             f"already, or read one graph per window), got {p.model!r}")
        if p.decoder != "rnn" and p.model != "dcrnn":
            raise ValueError(f"{type(self).__name__}: decoder={p.decoder!r} needs "
                             f"model='dcrnn' (the only network with a decoder RNN), "
                             f"got {p.model!r}")
        if p.embedding != 10 and p.model not in ("gwnet", "agcrn"):
            raise ValueError(f"{type(self).__name__}: embedding={p.embedding} needs "
                             f"model='gwnet' or 'agcrn' (the networks with node "
                             f"embeddings), got {p.model!r}")
        if p.model == "gwnet" and p.window < 2:
            raise ValueError(f"{type(self).__name__}: model='gwnet' needs window >= 2, "
                             f"got {p.window}")
        self._params_ = p
        return p

    def _settings(self) -> SimpleNamespace:
        """The parameters of ``fit`` once fitted, else the validated constructor
        parameters."""
        if hasattr(self, "_params_"):
            return self._params_
        return validate_params(self, self._aliases)

    # ------------------------------------------------------------------ input
    def _as_data(self, data: Any, graph: Any) -> SpatioTemporalData:
        if isinstance(data, SpatioTemporalData):
            if graph is not None:
                raise ValueError("pass the graph inside SpatioTemporalData or with "
                                 "plain arrays, not both")
            out = data
        else:
            out = SpatioTemporalData(data, graph, mask_nan=self._settings().mask_nan)
        return out

    def _data(self, data: Any, graph: Any) -> SpatioTemporalData:
        """``data`` for a fitted model: its nodes and features checked against
        ``fit``, and the graph of ``fit`` when it comes without one."""
        d = self._as_data(data, graph)
        fitted = (self.n_nodes_, self.n_features_in_)
        if (d.num_nodes, d.num_features) != fitted:
            hint = "" if d.graph is not None or self.graph_ is None else (
                "; data without a graph is predicted on the graph of fit, which needs "
                "the same nodes")
            raise ValueError(f"the data has {d.num_nodes} nodes x {d.num_features} "
                             f"features, the model was fit on {fitted[0]} x {fitted[1]}"
                             f"{hint}")
        if not hasattr(self, "baseline_") or isinstance(self.baseline_, LagBoost):
            got = (d.num_time_covariates, d.num_covariates - d.num_time_covariates,
                   d.num_node_covariates)
            want = (self._time_covariates_, self.n_covariates_ - self._time_covariates_,
                    self.n_node_covariates_)
            if got != want:
                raise ValueError(
                    f"the data has {got[0]} time covariates, {got[1]} shared and "
                    f"{got[2]} node covariates; the model was fit on {want[0]}, "
                    f"{want[1]} and {want[2]}: give timestamps and covariates as at fit")
        if d.graph is None and self.graph_ is not None:
            d = _with_graph(d, self.graph_)
        if d.graph is None and self.dynamic_graph_:
            raise ValueError("the model was fit on one graph per step: give the data's "
                             "graphs (a graph, or one per step)")
        return _with_graph(d, _on_device(d.graph, self.device_))

    def _inputs(self, data: SpatioTemporalData, starts: np.ndarray
                ) -> tuple[torch.Tensor, Optional[torch.Tensor], torch.Tensor, torch.Tensor]:
        """Model inputs ``[B, W, N, C]``, the covariates of the target steps
        ``[B, H, N, C']`` (None unless the network reads them), targets and their
        mask, on ``device_``."""
        p, dev = self._params_, self.device_
        x, y, mx, my, cov = data.gather(starts, p.window, p.horizon, p.delay)
        x, mx = x.to(dev), mx.to(dev)
        z = torch.where(mx, self.scaler_.transform(x), x.new_zeros(()))
        parts = [z, mx.float()]
        if self.use_covariates_:
            parts.append(self._scaled_covariates(cov))
        future = None
        if self.use_future_covariates_:
            steps = np.asarray(starts, dtype=np.int64)[:, None] + p.window + p.delay
            future = self._scaled_covariates(data.covariates_at(steps + np.arange(p.horizon)))
        return torch.cat(parts, -1), future, y.to(dev), my.to(dev)

    def _scaled_covariates(self, cov: torch.Tensor) -> torch.Tensor:
        """Covariates ``[B, S, C]`` or ``[B, S, N, C]`` standardised by the moments of
        the training steps, on ``device_``, as ``[B, S, N, C]``."""
        cov = cov.to(self.device_)
        if self._covariate_moments_ is not None:
            mean, std = (torch.from_numpy(a).to(cov) for a in self._covariate_moments_)
            cov = (cov - mean) / std
        if cov.dim() == 3:
            cov = cov[:, :, None, :].expand(-1, -1, self.n_nodes_, -1)
        return cov

    def _build(self, in_channels: int, p: SimpleNamespace) -> torch.nn.Module:
        F, H = self.n_features_in_, p.horizon
        future = self.n_covariates_ + self.n_node_covariates_
        conv = dict(k=p.k, normalization=p.normalization,
                    future_channels=future if self.use_future_covariates_ else 0)
        if p.model == "dcrnn":
            return DCRNN(in_channels, F, H, p.hidden_channels, p.num_layers,
                         decoder=p.decoder, **conv)
        if p.model == "agcrn":
            return AGCRN(in_channels, F, H, self.n_nodes_, p.hidden_channels, p.num_layers,
                         embedding=p.embedding, **conv)
        if p.model == "gwnet":
            return GraphWaveNet(in_channels, F, H, self.n_nodes_, p.window, p.hidden_channels,
                                input_hops=p.input_hops, embedding=p.embedding, **conv)
        return TimeThenSpace(in_channels, F, H, p.hidden_channels, p.num_layers,
                             graph_free=p.model == "gru", **conv)

    def _forward(self, inputs: torch.Tensor, future: Optional[torch.Tensor],
                 d: SpatioTemporalData, starts: np.ndarray,
                 net: Optional[Callable[..., Any]] = None) -> torch.Tensor:
        """Forecasts in original units by ``net`` (default: the network) of the
        windows at ``starts`` (inputs and target-step covariates from
        :meth:`_inputs`), each on the graph of its last input step, or each input
        step on its own (``graph_steps="each"``): with one graph per step, windows
        on different graphs pass at once as the nodes of one block-diagonal graph
        (one per input step with ``"each"``)."""
        net = self.module_ if net is None else net
        p = self._params_
        if d.is_static:
            return self.scaler_.inverse_transform(net(inputs, d.graph, future))
        offsets = range(p.window) if p.graph_steps == "each" else [p.window - 1]
        rows = [[d.graph[s + o] for s in starts] for o in offsets]  # [step][window]
        if all(g is rows[0][0] for row in rows for g in row):  # one graph: cached operators
            return self.scaler_.inverse_transform(net(inputs, rows[0][0], future))
        B, N = inputs.size(0), inputs.size(2)

        def one_block(t: torch.Tensor) -> torch.Tensor:  # [B, S, N, C] -> [1, S, B*N, C]
            return t.transpose(0, 1).reshape(1, t.size(1), B * N, -1)

        keys = [tuple(map(id, row)) for row in rows]
        unions: dict[tuple[int, ...], Graph] = {}  # steps on the same graphs share a union
        for key, row in zip(keys, rows):
            if key not in unions:
                unions[key] = _block_diagonal(row)
        union = unions[keys[0]] if len(keys) == 1 else [unions[k] for k in keys]
        out = net(one_block(inputs), union, None if future is None else one_block(future))
        out = out.reshape(out.size(1), B, N, -1).transpose(0, 1)
        return self.scaler_.inverse_transform(out)

    # -------------------------------------------------------------------- fit
    def fit(self, data: Any, y: None = None, *, graph: Any = None) -> "STGNNForecaster":
        """Fits on the training windows of ``data`` (from a clean state).

        Parameters
        ----------
        data : SpatioTemporalData or array-like of shape (T, N) or (T, N, F)
            The series; plain values take their graph from ``graph``.
        y : None
            Unused: the targets are the series' own future steps.
        graph : graph-like, optional
            Anything :func:`graphbias.as_graph` reads, for plain values; required
            except for ``"gru"``, ``"agcrn"`` with ``k=0`` and the baselines.

        Returns
        -------
        self : STGNNForecaster

        Examples
        --------
        >>> from graphbias.data.synthetic.gpvar import gpvar
        >>> data, _ = gpvar(200, seed=0)
        >>> f = STGNNForecaster("var", window=4, horizon=1)
        >>> f.fit(data.values, graph=data.graph).n_nodes_     # plain values and a graph
        30
        """
        p = self._begin_fit()
        _check_no_target(y)
        d = self._as_data(data, graph)
        split = self.split_windows(d)
        graph_free = p.model in ("gru", *BASELINES) or (p.model == "agcrn" and p.k == 0)
        if d.graph is None and not graph_free:
            raise ValueError(f"model {p.model!r} needs a graph; use model='gru' or "
                             "model='agcrn' with k=0 for graph-free forecasting")
        self.n_nodes_, self.n_features_in_ = d.num_nodes, d.num_features
        self.n_covariates_, self.n_node_covariates_ = d.num_covariates, d.num_node_covariates
        self._time_covariates_ = d.num_time_covariates
        self.use_covariates_ = (p.model not in BASELINES
                                and self.n_covariates_ + self.n_node_covariates_ > 0)
        if p.future_covariates and p.model == "gbm":
            raise ValueError("model 'gbm' reads the covariates of the last input step "
                             "only; future_covariates=True is for the networks")
        if p.future_covariates and p.model not in BASELINES and not self.use_covariates_:
            raise ValueError("future_covariates=True needs covariates: give the data "
                             "timestamps, covariates or node_covariates")
        self.use_future_covariates_ = p.future_covariates and self.use_covariates_
        self.dynamic_graph_ = not d.is_static
        if self.dynamic_graph_ and p.compile:
            raise ValueError("compile=True needs a static graph: the compiled network "
                             "trusts the graph operators it checked once")
        graphs = _on_device(d.graph, self.device_)
        self.graph_ = None if self.dynamic_graph_ else graphs
        if p.model in BASELINES:
            self.baseline_ = self._fit_baseline(d, split, p)
            self.history_, self.best_epoch_, self.n_epochs_ = [], None, 0
            return self
        self._train(_with_graph(d, graphs), split, p)
        return self

    @staticmethod
    def _fit_baseline(d: SpatioTemporalData, split: Split, p: SimpleNamespace) -> Any:
        """The baseline ``p.model``: :class:`LagBoost` on the training windows,
        early-stopped on the validation windows, the others on the training steps."""
        if p.model == "gbm":
            return LagBoost(random_state=seed_from(p.random_state)).fit(
                d, split.train, p.window, p.horizon, p.delay, val_starts=split.val)
        return BASELINES[p.model]().fit(d, split.train_steps)

    def _train(self, d: SpatioTemporalData, split: Split, p: SimpleNamespace) -> None:
        self.scaler_ = StandardScaler().fit(d, split.train_steps)
        self._covariate_moments_ = _covariate_moments(d, split.train_steps)
        in_channels = 2 * d.num_features + self.n_covariates_ + self.n_node_covariates_
        seed = seed_from(p.random_state)
        rng = np.random.default_rng(seed)
        with torch_seed(seed):
            self.module_ = self._build(in_channels, p).to(self.device_)
            opt = torch.optim.Adam(self.module_.parameters(), lr=p.lr,
                                   weight_decay=p.weight_decay)
            has_val = split.val.size > 0
            stopping = (EarlyStopping("val_mae", "min", p.patience,
                                      tiebreak=("train_loss", "min")) if has_val
                        else EarlyStopping("train_loss", "min", p.patience))
            net = self._compiled(d, split.train[:p.batch_size]) if p.compile else self.module_
            result = fit_module(
                self.module_, opt, self._step(d, net), max_epochs=p.max_epochs,
                batches=_shuffled_batches(split.train, p.batch_size, rng),
                validate=(lambda: {"val_mae": self._mae(d, split.val)}) if has_val else None,
                stopping=stopping, lr_patience=p.lr_patience, clip_grad_norm=CLIP_GRAD_NORM,
                verbose=p.verbose, desc=p.model)
        self._fit_result(result)

    def _compiled(self, d: SpatioTemporalData, starts: np.ndarray) -> Callable[..., Any]:
        """``torch.compile`` of the network, after one eager forward on the windows
        ``starts`` (with gradients, in eval mode: no random draws) has built and
        checked every graph operator it caches."""
        inputs, future, _, _ = self._inputs(d, starts)
        self.module_.eval()
        self.module_(inputs, self.graph_, future)
        self.module_.train()
        return torch.compile(self.module_)

    def _step(self, d: SpatioTemporalData, net: Callable[..., Any]
              ) -> Callable[[np.ndarray], tuple[torch.Tensor, int]]:
        """One training step through ``net``: the masked MAE of a batch of window
        starts, weighted by the batch size."""
        def step(starts: np.ndarray) -> tuple[torch.Tensor, int]:
            inputs, future, y, my = self._inputs(d, starts)
            pred = self._forward(inputs, future, d, starts, net)
            loss = (pred - y).abs()[my].mean() if my.any() else pred.sum() * 0.0
            return loss, len(starts)
        return step

    def _fit_result(self, result: TrainingResult) -> None:
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch
        self.n_epochs_ = result.n_epochs

    def split_windows(self, data: Any) -> Split:
        """The chronological train / validation / test split of ``data``'s windows.

        Uses the parameters of ``fit`` once fitted (else the constructor's):
        ``window``, ``horizon``, ``stride``, ``delay``, ``validation_fraction`` and
        ``test_fraction``. A window belongs to the part holding all its targets.

        Parameters
        ----------
        data : SpatioTemporalData or array-like of shape (T, N) or (T, N, F)
            The series.

        Returns
        -------
        Split
            Window starts of each part (``split.train``, ``split.val``,
            ``split.test``) and the time steps of each part.

        Examples
        --------
        >>> import numpy as np
        >>> split = STGNNForecaster(window=4, horizon=2).split_windows(np.zeros((50, 3)))
        >>> len(split.train), len(split.val), len(split.test), split.test_steps
        (30, 4, 9, (40, 50))
        """
        p = self._settings()
        return self._as_data(data, None).split(p.window, p.horizon, p.validation_fraction,
                                               p.test_fraction, p.stride, p.delay)

    def _targets(self, d: SpatioTemporalData, starts: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Targets ``[S, H, N, F]`` of the windows at ``starts`` and their mask."""
        p = self._params_
        _, y, _, my, _ = d.gather(starts, p.window, p.horizon, p.delay)
        return y.numpy(), my.numpy()

    def _mae(self, d: SpatioTemporalData, starts: np.ndarray) -> float:
        return masked_mae(self._forecast_windows(d, starts), *self._targets(d, starts))

    # ---------------------------------------------------------------- predict
    def _forecast_windows(self, d: SpatioTemporalData, starts: np.ndarray) -> np.ndarray:
        """Forecasts ``[S, H, N, F]`` (CPU numpy) of the windows at ``starts``."""
        p = self._params_
        if hasattr(self, "baseline_"):
            return self.baseline_.forecast(d, starts, p.window, p.horizon, p.delay)
        self.module_.eval()
        chunk = 4 * p.batch_size
        outs = []
        with torch.no_grad():
            for i in range(0, len(starts), chunk):
                inputs, future, _, _ = self._inputs(d, starts[i:i + chunk])
                outs.append(self._forward(inputs, future, d, starts[i:i + chunk]).cpu())
        return torch.cat(outs).numpy()

    def predict_windows(self, data: Any, starts: Any, *, graph: Any = None) -> np.ndarray:
        """Forecasts of the windows starting at ``starts``, in original units.

        Parameters
        ----------
        data : SpatioTemporalData or array-like of shape (T, N) or (T, N, F)
            The series (with the nodes and features of ``fit``).
        starts : array-like of int
            Window starts in ``[0, T - window - delay - horizon]``.
        graph : graph-like, optional
            The graph of plain values (default: the graph of ``fit``).

        Returns
        -------
        ndarray of shape (len(starts), horizon, N, F)

        Examples
        --------
        >>> from graphbias.data.synthetic.gpvar import gpvar
        >>> data, _ = gpvar(200, seed=0)
        >>> f = STGNNForecaster("last", window=4, horizon=3).fit(data)
        >>> f.predict_windows(data, [0, 10]).shape
        (2, 3, 30, 1)
        """
        check_is_fitted(self, "n_epochs_")
        p, d = self._params_, self._data(data, graph)
        s = np.asarray(starts, dtype=np.int64).reshape(-1)
        last = d.num_steps - p.window - p.delay - p.horizon
        if s.size and (s.min() < 0 or s.max() > last):
            raise ValueError(f"window starts must lie in [0, {last}]")
        return self._forecast_windows(d, s)

    def predict(self, data: Any, *, graph: Any = None, covariates: Any = None,
                node_covariates: Any = None) -> np.ndarray:
        """The ``horizon`` steps after the end of ``data``, from its last ``window``
        steps, in original units.

        Parameters
        ----------
        data : SpatioTemporalData or array-like of shape (T, N) or (T, N, F)
            The series (with the nodes and features of ``fit``).
        graph : graph-like, optional
            The graph of plain values (default: the graph of ``fit``).
        covariates, node_covariates : array-like, optional
            With ``future_covariates=True`` and given covariates: the shared
            (``(delay + horizon) x C``) and node (``(delay + horizon) x N x C'``)
            covariates of the steps after the end of ``data``, known in advance.
            Refused otherwise (nothing would read them).

        Returns
        -------
        ndarray of shape (horizon, N, F)

        Examples
        --------
        >>> from graphbias.data.synthetic.gpvar import gpvar
        >>> data, _ = gpvar(200, seed=0)
        >>> f = STGNNForecaster("last", window=4, horizon=3).fit(data)
        >>> f.predict(data.values).shape        # plain values: the graph of fit
        (3, 30, 1)
        """
        check_is_fitted(self, "n_epochs_")
        p, d = self._params_, self._data(data, graph)
        if d.num_steps < p.window:
            raise ValueError(f"data has {d.num_steps} steps, fewer than window={p.window}")
        pad = p.delay + p.horizon  # targets past the end are masked placeholders
        shape = (pad,) + d.values.shape[1:]
        ext = SpatioTemporalData(np.concatenate([d.values, np.zeros(shape, np.float32)]),
                                 mask=np.concatenate([d.mask, np.ones(shape, bool)]),
                                 timestamps=_extend_stamps(d, pad),
                                 covariates=self._continued(d.covariates, covariates, pad,
                                                            d.num_time_covariates,
                                                            "covariates"),
                                 node_covariates=self._continued(
                                     d.node_covariates, node_covariates, pad, 0,
                                     "node_covariates"))
        graph = d.graph if d.is_static else d.graph + [d.graph[-1]] * pad
        return self._forecast_windows(_with_graph(ext, graph),
                                      np.array([d.num_steps - p.window]))[0]

    def _continued(self, past: Optional[np.ndarray], future: Any, pad: int, skip: int,
                   name: str) -> Optional[np.ndarray]:
        """The given columns of ``past`` (those after the first ``skip``) continued
        by ``pad`` steps: the user's ``future`` values when the network reads the
        target steps' covariates, else zeros (steps no input window reads); None
        without given columns."""
        given = None if past is None or past.shape[-1] == skip else past[..., skip:]
        if future is not None and not self.use_future_covariates_:
            raise ValueError(f"{name} after the end of the data are read only by a "
                             "network fit with future_covariates=True")
        if given is None:
            if future is not None:
                raise ValueError(f"{name} after the end of the data were given, but "
                                 f"the data has no given {name}")
            return None
        shape = (pad,) + given.shape[1:]
        if not self.use_future_covariates_:
            return np.concatenate([given, np.zeros(shape, given.dtype)])
        if future is None:
            raise ValueError(f"the network reads the covariates of the target steps: "
                             f"give predict {name}= for the {pad} steps after the end "
                             f"of the data, shape {shape}")
        f = covariate_array(f"{name} after the end of the data", future, len(shape))
        if f.shape != shape:
            raise ValueError(f"{name} after the end of the data must have shape "
                             f"{shape} (delay + horizon steps), got {np.shape(future)}")
        return np.concatenate([given, f])

    def evaluate(self, data: Any, part: str = "test", *, graph: Any = None
                 ) -> dict[str, np.ndarray]:
        """Masked MAE / RMSE / MAPE per horizon step over the windows of ``part``.

        Parameters
        ----------
        data : SpatioTemporalData or array-like of shape (T, N) or (T, N, F)
            The series (with the nodes and features of ``fit``).
        part : {"train", "val", "test", "all"}, default="test"
            Windows of that part of :meth:`split_windows`, or all windows.
        graph : graph-like, optional
            The graph of plain values (default: the graph of ``fit``).

        Returns
        -------
        dict of str to ndarray of shape (horizon,)
            ``"mae"``, ``"rmse"``, ``"mape"`` (in %) at each step ahead.

        Examples
        --------
        >>> from graphbias.data.synthetic.gpvar import gpvar
        >>> data, _ = gpvar(200, seed=0)
        >>> m = STGNNForecaster("last", window=4, horizon=3).fit(data).evaluate(data)
        >>> sorted(m), m["mae"].shape
        (['mae', 'mape', 'rmse'], (3,))
        """
        check_is_fitted(self, "n_epochs_")
        d = self._data(data, graph)
        starts = self._starts(d, part)
        return forecast_metrics(self._forecast_windows(d, starts), *self._targets(d, starts))

    def adaptive_adjacency(self) -> np.ndarray:
        r"""The learned adjacency of Graph WaveNet,
        :math:`\tilde A = \mathrm{softmax}(\mathrm{ReLU}(E_1 E_2^\top))`, or of AGCRN,
        :math:`\mathrm{softmax}(\mathrm{ReLU}(E E^\top))`.

        Returns
        -------
        ndarray of shape (N, N)
            Row-stochastic; row ``i`` holds the weights node ``i`` gathers with.

        Raises
        ------
        ValueError
            When ``model`` is not ``"gwnet"`` or ``"agcrn"`` (the other models learn
            no adjacency).

        Examples
        --------
        >>> from graphbias.data.synthetic.gpvar import gpvar
        >>> data, _ = gpvar(200, seed=0)
        >>> f = STGNNForecaster("gwnet", window=4, horizon=1, hidden_channels=4,
        ...                     max_epochs=1, random_state=0).fit(data)
        >>> a = f.adaptive_adjacency()
        >>> a.shape, bool(abs(a.sum(1) - 1).max() < 1e-5)
        ((30, 30), True)
        """
        check_is_fitted(self, "n_epochs_")
        if self._params_.model not in ("gwnet", "agcrn"):
            raise ValueError(f"model={self._params_.model!r} learns no adjacency; only "
                             "'gwnet' and 'agcrn' have an adaptive adjacency")
        with torch.no_grad():
            return self.module_.adaptive_adjacency().cpu().numpy()

    def _starts(self, d: SpatioTemporalData, part: str) -> np.ndarray:
        p = self._params_
        if part == "all":
            return d.window_starts(p.window, p.horizon, p.stride, p.delay)
        starts = self.split_windows(d)[part]
        if not starts.size:
            raise ValueError(f"the {part} part of the data holds no window")
        return starts

    def score(self, data: Any, y: None = None, *, graph: Any = None,
              part: str = "test") -> float:
        """The **negated** masked MAE over the windows of ``part`` of ``data``:
        greater is better, as scikit-learn's model selection expects.

        Parameters
        ----------
        data : SpatioTemporalData or array-like of shape (T, N) or (T, N, F)
            The series (with the nodes and features of ``fit``).
        y : None
            Unused: the targets are the series' own future steps.
        graph : graph-like, optional
            The graph of plain values (default: the graph of ``fit``).
        part : {"train", "val", "test", "all"}, default="test"
            Windows of that part of :meth:`split_windows`, or all windows.

        Returns
        -------
        float
            ``-MAE`` over every observed target of every horizon step.

        Examples
        --------
        >>> from graphbias.data.synthetic.gpvar import gpvar
        >>> data, _ = gpvar(200, seed=0)
        >>> f = STGNNForecaster("last", window=4, horizon=1).fit(data)
        >>> bool(f.score(data) == -f.evaluate(data)["mae"][0])
        True
        """
        check_is_fitted(self, "n_epochs_")
        _check_no_target(y)
        d = self._data(data, graph)
        return -self._mae(d, self._starts(d, part))


def _shuffled_batches(starts: np.ndarray, batch_size: int, rng: np.random.Generator
                      ) -> Callable[[int], Iterator[np.ndarray]]:
    """``batches(epoch)`` for :func:`fit_module`: the training window starts in a
    fresh permutation from ``rng`` each epoch, in chunks of ``batch_size``."""
    def batches(_epoch: int) -> Iterator[np.ndarray]:
        order = rng.permutation(starts)
        return (order[i:i + batch_size] for i in range(0, len(order), batch_size))
    return batches


def _on_device(graph: Any, device: torch.device) -> Any:
    """``graph`` (None, a Graph or one per step) on ``device``; a graph repeated
    over steps stays one object."""
    if graph is None or isinstance(graph, Graph):
        return None if graph is None else graph.to(device)
    moved: dict[int, Graph] = {}
    for g in graph:
        if id(g) not in moved:
            moved[id(g)] = g.to(device)
    return [moved[id(g)] for g in graph]


def _block_diagonal(graphs: list[Graph]) -> Graph:
    """The disjoint union of ``graphs`` (of equal node counts): node ``n`` of graph
    ``b`` is node ``b * N + n``."""
    n = graphs[0].num_nodes
    edges = torch.cat([g.edge_index + b * n for b, g in enumerate(graphs)], 1)
    weights = None
    if any(g.edge_weight is not None for g in graphs):
        weights = torch.cat([g.edge_index.new_ones(g.num_edges, dtype=torch.float32)
                             if g.edge_weight is None else g.edge_weight for g in graphs])
    return Graph(edges, n * len(graphs), edge_weight=weights)


def _with_graph(d: SpatioTemporalData, graph: Any) -> SpatioTemporalData:
    """``d`` (sharing its arrays) on ``graph``."""
    out = copy.copy(d)
    out.graph = graph
    return out


def _covariate_moments(d: SpatioTemporalData, steps: tuple[int, int]
                       ) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """Mean and standard deviation of every covariate column over ``steps``, in the
    column order of :meth:`SpatioTemporalData.gather` (0 and 1 for the time
    covariates, which are already on a unit scale); None without given covariates."""
    lo, hi = steps
    given = [] if d.covariates is None else [d.covariates[lo:hi, d.num_time_covariates:]]
    if d.node_covariates is not None:
        given.append(d.node_covariates[lo:hi].reshape(-1, d.num_node_covariates))
    if not any(c.shape[1] for c in given):
        return None
    mean = np.concatenate([np.zeros(d.num_time_covariates, np.float32)]
                          + [c.mean(0) for c in given])
    std = np.concatenate([np.ones(d.num_time_covariates, np.float32)]
                         + [c.std(0) for c in given])
    return mean.astype(np.float32), np.where(std > 1e-12, std, 1.0).astype(np.float32)




def _extend_stamps(d: SpatioTemporalData, pad: int) -> Any:
    """``d``'s timestamps continued ``pad`` steps at the last spacing (None without)."""
    if d.timestamps is None:
        return None
    idx = datetime_index(d.timestamps)
    step = idx[-1] - idx[-2] if len(idx) > 1 else idx[-1] - idx[-1]
    return idx.append(datetime_index([idx[-1] + step * (i + 1) for i in range(pad)]))


def _check_no_target(y: Any, owner: str = "STGNNForecaster") -> None:
    if y is not None:
        raise ValueError(f"{owner} takes its targets from the series itself; "
                         f"y must be None, got {type(y).__name__}")
