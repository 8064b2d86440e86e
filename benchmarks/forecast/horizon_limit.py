"""What bounds the 15-minute error on Los-loop: gradient-boosted trees on lag
features (``STGNNForecaster("gbm")``, the protocol's windows, split and masked
metrics) given less, or more, than any forecaster can know.

* ``gbm``: the peer as recorded in ``losloop.jsonl`` (its own lags, its neighbours'
  mean lags, the time covariates);
* ``gbm-nograph``: the same without the graph (its own lags alone);
* ``gbm+neighbours-at-target``: told, besides, its in-neighbours' mean speed at the
  target step itself, 15 minutes after the last input (the most the graph could
  say about that step);
* ``gbm+own-after-target``: told, besides, its own speeds 20, 25 and 30 minutes
  after the last input: the 15-minute value is then interpolated, not forecast.

The last two read the future and are not forecasters: they show how far the
15-minute error falls with information no input window holds. Each told variant
carries its extra inputs as node covariates of the last input step (0 where
unobserved, with an indicator); their metrics are read at 15 minutes only.

    python benchmarks/forecast/horizon_limit.py --root ../shared/data
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graphbias.bench.forecast_suite import los_protocol, step_metrics
from graphbias.data.datasets import load_los_loop
from graphbias.data.temporal import SpatioTemporalData
from graphbias.forecast import STGNNForecaster
from graphbias.forecast.baselines import neighbour_means

RESULTS = Path(__file__).with_name("horizon_limit.jsonl")
#: the step ahead the told variants are told about (15 minutes)
STEP = 3


def _shifted(values: np.ndarray, observed: np.ndarray, shift: int) -> np.ndarray:
    """``[T, N, 2]``: the values ``shift`` steps later (0 where unobserved or past the
    end) and whether they were observed."""
    out = np.zeros(values.shape[:2] + (2,), np.float32)
    out[:-shift, :, 0] = np.where(observed[shift:], values[shift:], 0)
    out[:-shift, :, 1] = observed[shift:]
    return out


def told(data: SpatioTemporalData, variant: str) -> SpatioTemporalData:
    """``data`` with the extra inputs of ``variant`` as node covariates."""
    x, m = data.values[..., 0], data.mask[..., 0]
    if variant == "gbm+neighbours-at-target":
        mean = neighbour_means(data, np.arange(data.num_steps))[..., 0]
        extra = _shifted(np.nan_to_num(mean), ~np.isnan(mean), STEP)
    else:  # gbm+own-after-target
        extra = np.concatenate([_shifted(x, m, STEP + k) for k in (1, 2, 3)], -1)
    return SpatioTemporalData(data.values, data.graph, mask=data.mask,
                              timestamps=data.timestamps, node_covariates=extra)


def run(data: SpatioTemporalData, variant: str) -> dict[str, Any]:
    if variant == "gbm-nograph":
        data = SpatioTemporalData(data.values, mask=data.mask, timestamps=data.timestamps)
    elif variant != "gbm":
        data = told(data, variant)
    start = time.perf_counter()
    f = STGNNForecaster("gbm", random_state=0, **los_protocol()).fit(data)
    secs = time.perf_counter() - start
    metrics = step_metrics(f.evaluate(data, "test"))
    if variant.startswith("gbm+"):
        metrics = {k: v for k, v in metrics.items() if k.endswith(f"@{STEP}")}
    return {"dataset": "los-loop", "method": variant, "seconds": secs, **metrics,
            "torch_threads": torch.get_num_threads(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--variants", nargs="+", default=[
        "gbm-nograph", "gbm", "gbm+neighbours-at-target", "gbm+own-after-target"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_los_loop(args.root)
    for variant in args.variants:
        row = run(data, variant)
        print(json.dumps(row), flush=True)
        with args.out.open("a") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
