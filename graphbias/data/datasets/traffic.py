"""Los-loop traffic speed (T-GCN release) as a spatiotemporal series on a sensor graph."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ._common import PathLike

__all__ = ["load_los_loop"]


def load_los_loop(root: PathLike) -> Any:
    """Los-loop traffic speed: 207 loop detectors in Los Angeles, 5-minute steps,
    March 1-7 2012 (2016 steps), as a :class:`~graphbias.data.temporal.SpatioTemporalData`.

    Reads ``root/traffic/los_speed.csv`` (a header of sensor ids, one row per step)
    and ``root/traffic/los_adj.csv`` (207 x 207 weights, no header). Zero speeds are
    missing readings; the diagonal of the adjacency is dropped.
    """
    import pandas as pd

    from ..temporal import SpatioTemporalData, graph_from_adjacency
    folder = Path(root) / "traffic"
    files = {name: folder / f"los_{name}.csv" for name in ("speed", "adj")}
    for path in files.values():
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: place the Los-loop files los_speed.csv and "
                "los_adj.csv (from the T-GCN repository) in root/traffic")
    speed = pd.read_csv(files["speed"])
    adj = pd.read_csv(files["adj"], header=None).to_numpy(dtype=np.float64)
    if adj.shape != (speed.shape[1], speed.shape[1]):
        raise ValueError(f"{files['adj']} has shape {adj.shape}, expected "
                         f"{(speed.shape[1],) * 2} for {files['speed']}")
    stamps = pd.date_range("2012-03-01", periods=len(speed), freq="5min")
    graph = graph_from_adjacency(adj)
    graph.name = "los-loop"
    return SpatioTemporalData(speed.to_numpy(np.float32), graph, zeros_missing=True,
                              timestamps=stamps)

