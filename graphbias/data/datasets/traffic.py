"""Los-loop traffic speed (T-GCN release) as a spatiotemporal series on a sensor graph."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ._common import PathLike, _pandas

__all__ = ["load_los_loop"]

_SENSOR_ID = re.compile(r"\d+")


def _sensor_ids(path: Path) -> list[int]:
    """The header line of ``los_speed.csv``: distinct integer sensor ids. A file
    without it would silently lose its first time step to the header."""
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline().strip()
    tokens = [t.strip().strip('"') for t in first.split(",")]
    if not first or not all(_SENSOR_ID.fullmatch(t) for t in tokens) or \
            len(set(tokens)) != len(tokens):
        raise ValueError(
            f"{path}: the first line must be the header of sensor ids (distinct "
            f"integers, such as 773869), got {first[:60]!r}; if the file has no header "
            "its first row of speeds would be taken for one: add the header line")
    return [int(t) for t in tokens]


def _read_numbers(path: Path, header: bool) -> np.ndarray:
    pd = _pandas("forecast", "reading traffic CSV files")
    try:
        table = pd.read_csv(path, header=0 if header else None)
        return table.to_numpy(dtype=np.float64)
    except (ValueError, pd.errors.ParserError) as err:
        raise ValueError(f"{path}: expected a table of numbers ({err})") from None


def load_los_loop(root: PathLike) -> Any:
    """Los-loop traffic speed: 207 loop detectors in Los Angeles, 5-minute steps,
    March 1-7 2012 (2016 steps), as a :class:`~graphbias.data.temporal.SpatioTemporalData`.

    Reads ``root/traffic/los_speed.csv`` (a header of sensor ids, one row per step)
    and ``root/traffic/los_adj.csv`` (207 x 207 weights, no header). Zero speeds are
    missing readings; the diagonal of the adjacency is dropped. The sensor ids
    become the graph's ``node_labels``.

    Parameters
    ----------
    root : str or path-like
        The data root holding ``traffic/los_speed.csv`` and ``traffic/los_adj.csv``.

    Returns
    -------
    SpatioTemporalData
        ``values`` of shape ``(2016, 207, 1)`` in mph, ``mask`` (False where the
        speed is 0), 5-minute ``timestamps`` from 2012-03-01 and a weighted graph
        named ``"los-loop"``.

    Raises
    ------
    FileNotFoundError
        A file is missing.
    ValueError
        ``los_speed.csv`` lacks its header of sensor ids, a file holds something
        other than numbers, or the adjacency does not match the sensors.

    Examples
    --------
    >>> root = "../shared/data"  # holds traffic/los_*.csv where present
    >>> from pathlib import Path
    >>> data = load_los_loop(root) if Path(root, "traffic").is_dir() else None
    >>> data is None or data.values.shape == (2016, 207, 1)
    True
    """
    from ..temporal import SpatioTemporalData, graph_from_adjacency

    pd = _pandas("forecast", "reading traffic CSV files")
    folder = Path(root) / "traffic"
    files = {name: folder / f"los_{name}.csv" for name in ("speed", "adj")}
    for path in files.values():
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: place the Los-loop files los_speed.csv and "
                "los_adj.csv (from the T-GCN repository) in root/traffic")
    sensors = _sensor_ids(files["speed"])
    speed = _read_numbers(files["speed"], header=True)
    adj = _read_numbers(files["adj"], header=False)
    if adj.shape != (len(sensors), len(sensors)):
        raise ValueError(f"{files['adj']} has shape {adj.shape}, expected "
                         f"{(len(sensors),) * 2} for the {len(sensors)} sensors of "
                         f"{files['speed']}")
    try:
        graph = graph_from_adjacency(adj).replace(name="los-loop", node_labels=sensors)
    except ValueError as err:
        raise ValueError(f"{files['adj']}: {err}") from None
    stamps = pd.date_range("2012-03-01", periods=len(speed), freq="5min")
    try:
        return SpatioTemporalData(speed.astype(np.float32), graph, zeros_missing=True,
                                  timestamps=stamps)
    except ValueError as err:
        raise ValueError(f"{files['speed']}: {err}") from None
