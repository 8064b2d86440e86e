"""Torch Spatiotemporal (tsl) models as a benchmark peer of graphbias's forecasters.

:class:`TSLForecaster` is :class:`graphbias.forecast.STGNNForecaster` with the
network swapped for one of tsl's own models, built and run through the installed
``tsl`` package: everything else (the windows, the chronological split, the scaler
fit on the training steps, the inputs with their mask and time covariates, the
masked-MAE loss in original units, Adam, gradient clipping, early stopping, the
learning-rate schedule, the masked test metrics) is the estimator's, so the two
are trained and scored under one protocol.

Models (tsl 0.9.5 classes, tsl's defaults except the sizes named here):

* ``"tsl-dcrnn"``: ``tsl.nn.models.DCRNNModel`` (hidden_size, kernel_size=k): a
  DCRNN encoder over the window and tsl's MLP readout (tsl has no decoder RNN).
* ``"tsl-gwnet"``: ``tsl.nn.models.GraphWaveNetModel`` (hidden_size,
  spatial_kernel_size=k, n_nodes; 8 layers, ff_size 256, dropout 0.3, batch norm).
* ``"tsl-agcrn"``: ``tsl.nn.models.AGCRNModel`` (hidden_size, n_nodes; embedding 10).

The scaled values and their mask are tsl's ``x``; the covariates (time of day and
day of week, and any the data gives) are its exogenous input ``u`` (``exog_size``). The graph goes in as a
``torch_sparse.SparseTensor`` (``adj_t``, target x source), tsl's fastest layout, or
with ``layout="edge_index"`` as its default ``edge_index`` / ``edge_weight``.

tsl imports ``torch_scatter`` and ``torch_sparse``, which ship no wheels for
recent torch and build from source (``pip install --no-build-isolation -c
constraints.txt -e ".[tsl]"`` compiles them; see benchmarks/forecast/README.md).
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Optional

import torch

from graphbias._validation import Options
from graphbias.data.graph import Graph
from graphbias.forecast import STGNNForecaster

__all__ = ["TSLForecaster", "TSL_MODELS", "tsl_version"]

#: tsl models, by the name :class:`TSLForecaster` takes
TSL_MODELS = ("tsl-dcrnn", "tsl-gwnet", "tsl-agcrn")


def tsl_version() -> str:
    """The installed tsl version (ImportError naming the missing piece otherwise)."""
    try:
        import tsl
        from tsl.nn import models  # noqa: F401  (imports torch_scatter / torch_sparse)
    except ImportError as err:
        raise ImportError(f"the tsl peer needs torch-spatiotemporal with torch-scatter and "
                          f"torch-sparse: {err}") from err
    return tsl.__version__


class _TSLModule(torch.nn.Module):
    """Runs a tsl model on the estimator's inputs ``[B, W, N, C]``: the last
    ``exog`` channels become tsl's ``u``, the graph its ``edge_index`` /
    ``edge_weight`` or (``layout="sparse"``) a ``torch_sparse.SparseTensor``
    ``adj_t``, built once per graph."""

    def __init__(self, model: torch.nn.Module, exog: int, uses_graph: bool,
                 layout: str) -> None:
        super().__init__()
        self.model, self.exog, self.uses_graph, self.layout = model, exog, uses_graph, layout
        self._adj: Optional[tuple[Graph, Any]] = None

    def _connectivity(self, graph: Graph) -> tuple[Any, ...]:
        if self.layout == "edge_index":
            return graph.edge_index, graph.edge_weight
        if self._adj is None or self._adj[0] is not graph:
            from torch_sparse import SparseTensor
            src, dst = graph.edge_index
            n = graph.num_nodes
            self._adj = (graph, SparseTensor(row=dst, col=src, value=graph.edge_weight,
                                             sparse_sizes=(n, n)))
        return (self._adj[1],)

    def forward(self, x: torch.Tensor, graph: Optional[Graph],
                future: Optional[torch.Tensor] = None) -> torch.Tensor:
        if future is not None:
            raise ValueError("the tsl models read no covariates of the target steps")
        u = x[..., x.size(-1) - self.exog:] if self.exog else None
        x = x[..., :x.size(-1) - self.exog]
        if not self.uses_graph:
            return self.model(x, u=u)
        return self.model(x, *self._connectivity(graph), u=u)


class TSLForecaster(STGNNForecaster):
    """:class:`~graphbias.forecast.STGNNForecaster` whose network is a tsl model
    (``model`` in :data:`TSL_MODELS`); every other parameter means the same.

    ``layout`` is how the graph reaches tsl: ``"sparse"`` (default), a
    ``torch_sparse.SparseTensor``, on which tsl's graph convolutions run one sparse
    product per propagation (its fastest path); ``"edge_index"``, tsl's default
    layout, a gather and a scatter over the edges. A time-varying graph and
    ``future_covariates=True`` are refused: tsl's models take one graph and the
    covariates of the input steps."""

    _parameter_constraints = {**STGNNForecaster._parameter_constraints,
                              "model": [Options(*TSL_MODELS)],
                              "layout": [Options("sparse", "edge_index")]}

    def __init__(self, model: str = "tsl-dcrnn", window: int = 12, horizon: int = 12,
                 layout: str = "sparse", **kwargs: Any) -> None:
        super().__init__(model, window, horizon, **kwargs)
        self.layout = layout

    @classmethod
    def _get_param_names(cls) -> list[str]:
        return [*STGNNForecaster._get_param_names(), "layout"]

    def _build(self, in_channels: int, p: SimpleNamespace) -> torch.nn.Module:
        if self.dynamic_graph_ or self.use_future_covariates_:
            raise ValueError("the tsl peer takes a static graph and the covariates of "
                             "the input steps only (no time-varying graph, no "
                             "future_covariates)")
        from tsl.nn.models import AGCRNModel, DCRNNModel, GraphWaveNetModel

        exog = self.n_covariates_ + self.n_node_covariates_ if self.use_covariates_ else 0
        sizes = dict(input_size=in_channels - exog, output_size=self.n_features_in_,
                     horizon=p.horizon, exog_size=exog, hidden_size=p.hidden_channels)
        if p.model == "tsl-dcrnn":
            return _TSLModule(DCRNNModel(**sizes, kernel_size=p.k, n_layers=p.num_layers),
                              exog, True, p.layout)
        if p.model == "tsl-gwnet":
            return _TSLModule(GraphWaveNetModel(**sizes, spatial_kernel_size=p.k,
                                                n_nodes=self.n_nodes_), exog, True, p.layout)
        return _TSLModule(AGCRNModel(**sizes, n_nodes=self.n_nodes_, n_layers=p.num_layers),
                          exog, False, p.layout)
