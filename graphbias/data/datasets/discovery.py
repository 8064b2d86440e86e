"""Which datasets a local root holds, for the CLI's listing."""
from __future__ import annotations

from pathlib import Path

from ._common import PathLike
from .planetoid import PLANETOID_NAMES, find_planetoid

__all__ = ["available_datasets"]


def available_datasets(root: PathLike) -> list[dict[str, str]]:
    """What loaders can read under ``root``: one ``{"name", "kind", "path"}`` per dataset.

    Kinds: ``planetoid`` (see :func:`find_planetoid`), ``ogb-node`` (``root/*/raw``
    or ``root/ogb/*/raw`` with ``edge.csv.gz``), ``traffic``
    (``root/traffic/los_speed.csv``) and ``multilabel`` (``*.arff`` in ``root`` or
    ``root/multilabel``).

    Parameters
    ----------
    root : str or path-like
        The data root.

    Returns
    -------
    list of dict
        Planetoid datasets first, then OGB, traffic and multi-label ones.

    Raises
    ------
    FileNotFoundError
        ``root`` is not a folder.

    Examples
    --------
    >>> import tempfile
    >>> available_datasets(tempfile.mkdtemp())
    []
    """
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"dataset root {base} does not exist or is not a folder")
    found = []
    for name in PLANETOID_NAMES:
        folder = find_planetoid(base, name)
        if folder is not None:
            found.append({"name": name, "kind": "planetoid", "path": str(folder)})
    for parent in (base, base / "ogb"):
        for edge_file in sorted(parent.glob("*/raw/edge.csv.gz")):
            folder = edge_file.parent.parent
            found.append({"name": folder.name.replace("_", "-"), "kind": "ogb-node",
                          "path": str(folder)})
    speed = base / "traffic" / "los_speed.csv"
    if speed.is_file():
        found.append({"name": "los-loop", "kind": "traffic", "path": str(speed)})
    for parent in (base, base / "multilabel"):
        for arff in sorted(parent.glob("*.arff")):
            found.append({"name": arff.stem, "kind": "multilabel", "path": str(arff)})
    return found
