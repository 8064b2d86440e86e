"""Planetoid citation graphs (cora, citeseer, pubmed) from their ``ind.<name>.*`` files.

The files are pickles; they are read with a restricted unpickler that builds only
numpy arrays, scipy CSR matrices and plain containers (anything else raises
:class:`UnsafePickleError`). Nothing is downloaded: a missing file raises
``FileNotFoundError`` naming the file, the folders searched and where to get it.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Optional

import numpy as np
import scipy.sparse as sp

from ..graph import Graph
from ._common import PathLike
from ._pickle import UnsafePickleError, safe_load

__all__ = ["PLANETOID_NAMES", "UnsafePickleError", "find_planetoid", "load_planetoid"]

PLANETOID_NAMES = ("cora", "citeseer", "pubmed")
_PLANETOID_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
_PYG_FOLDERS = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
_PLANETOID_URL = "https://github.com/kimiyoung/planetoid/tree/master/data"
_NUM_VAL = 500  # the public split: 500 validation nodes right after the training nodes
_MAX_ID = 2**31 - 2  # node ids times the node count must fit in int64


def _unpickle(path: Path) -> Any:
    with open(path, "rb") as f:
        return safe_load(f, str(path))


def _planetoid_name(name: str) -> str:
    key = name.lower()
    if key not in PLANETOID_NAMES:
        raise ValueError(f"unknown Planetoid dataset {name!r}; expected one of "
                         f"{', '.join(PLANETOID_NAMES)}")
    return key


def _planetoid_dirs(root: PathLike, name: str) -> list[Path]:
    root = Path(root)
    pyg = dict.fromkeys((_PYG_FOLDERS[name], name, name.capitalize()))
    return [root, root / "planetoid"] + [root / folder / "raw" for folder in pyg]


def find_planetoid(root: PathLike, name: str = "cora") -> Optional[Path]:
    """The folder under ``root`` that holds all eight ``ind.<name>.*`` files, or None.

    Parameters
    ----------
    root : str or path-like
        Where to look: ``root`` itself, ``root/planetoid`` and PyG's layout
        ``root/<Name>/raw`` (``Cora``, ``CiteSeer``, ``PubMed``), in that order.
    name : {"cora", "citeseer", "pubmed"}, default="cora"
        The dataset (case-insensitive).

    Returns
    -------
    pathlib.Path or None
        The first folder holding ``ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}``.

    Examples
    --------
    >>> import tempfile
    >>> find_planetoid(tempfile.mkdtemp(), "cora") is None
    True
    """
    name = _planetoid_name(name)
    for folder in _planetoid_dirs(root, name):
        if all((folder / f"ind.{name}.{part}").is_file() for part in _PLANETOID_PARTS):
            return folder
    return None


def _missing_planetoid(root: PathLike, name: str) -> FileNotFoundError:
    dirs = _planetoid_dirs(root, name)
    files = [f"ind.{name}.{part}" for part in _PLANETOID_PARTS]
    best = max(dirs, key=lambda d: sum((d / f).is_file() for f in files))
    missing = [f for f in files if not (best / f).is_file()]
    where = (f"missing {', '.join(missing)} in {best}"
             if len(missing) < len(files) else "no ind.* files found")
    return FileNotFoundError(
        f"Planetoid dataset {name!r} not found under {root}: {where}. Searched: "
        f"{', '.join(str(d) for d in dirs)}. Expected the eight files "
        f"{', '.join(files)} together in one of these folders; get them from the "
        f"Planetoid data folder {_PLANETOID_URL} (nothing is downloaded).")


def _as_csr(obj: Any, path: Path) -> sp.csr_matrix:
    """Features as CSR: the unpickler has already checked their dtype and structure."""
    if isinstance(obj, np.ndarray) and obj.ndim == 2:
        obj = sp.csr_matrix(obj)
    if not isinstance(obj, sp.csr_matrix):
        raise ValueError(f"{path}: expected a 2-D feature matrix, got {type(obj).__name__}")
    return obj


def _as_labels(obj: Any, path: Path) -> tuple[np.ndarray, int]:
    """Class ids (the argmax of each one-hot row, as PyG takes them, sparse rows
    included without densifying) and the number of classes."""
    if not isinstance(obj, sp.csr_matrix) and not (
            isinstance(obj, np.ndarray) and obj.ndim == 2):
        raise ValueError(f"{path}: expected a 2-D one-hot label matrix, got "
                         f"{type(obj).__name__}")
    if obj.shape[1] == 0:
        raise ValueError(f"{path}: the label matrix has no columns (one per class)")
    ids = obj.argmax(axis=1) if obj.shape[0] else np.zeros(0, np.int64)
    return np.asarray(ids).reshape(-1).astype(np.int64), obj.shape[1]


def _read_test_index(path: Path) -> np.ndarray:
    ids = []
    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if line.strip():
            try:
                node = int(line)
            except ValueError:
                raise ValueError(f"{path}, line {lineno}: expected one integer node id, "
                                 f"got {line.strip()[:40]!r}") from None
            if not 0 <= node <= _MAX_ID:
                raise ValueError(f"{path}, line {lineno}: node id {node} is outside "
                                 f"[0, {_MAX_ID}]")
            ids.append(node)
    if not ids:
        raise ValueError(f"{path}: no test node ids")
    return np.asarray(ids, dtype=np.int64)


def _id_array(values: list, path: Path, what: str) -> np.ndarray:
    try:
        ids = np.array(values) if values else np.zeros(0, np.int64)
    except (TypeError, ValueError, OverflowError):
        ids = np.zeros(1, object)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ValueError(f"{path}: {what} must be integer node ids")
    return ids.astype(np.int64)


def _planetoid_edges(adj: Any, num_nodes: int, path: Path) -> np.ndarray:
    if not isinstance(adj, dict):
        raise ValueError(f"{path}: expected a dict of adjacency lists, got "
                         f"{type(adj).__name__}")
    try:
        counts = [len(v) for v in adj.values()]
        targets = list(itertools.chain.from_iterable(adj.values()))
    except TypeError:
        raise ValueError(f"{path}: adjacency lists must map node ids to lists of "
                         "node ids") from None
    row = np.repeat(_id_array(list(adj), path, "the keys"), counts)
    col = _id_array(targets, path, "the adjacency lists")
    if row.size and (min(row.min(), col.min()) < 0 or max(row.max(), col.max()) >= num_nodes):
        raise ValueError(f"{path}: node ids must lie in [0, {num_nodes}), got "
                         f"[{min(row.min(), col.min())}, {max(row.max(), col.max())}]")
    keep = row != col  # self-loops dropped, as PyG does
    row, col = row[keep], col[keep]
    key = np.unique(np.concatenate([row * num_nodes + col, col * num_nodes + row]))
    return np.stack([key // num_nodes, key % num_nodes])


def _check_parts(paths: dict[str, Path], feats: dict[str, sp.csr_matrix],
                 labels: dict[str, tuple[np.ndarray, int]]) -> None:
    num_feat, num_cls = feats["allx"].shape[1], labels["ally"][1]
    for fx, fy in (("x", "y"), ("tx", "ty"), ("allx", "ally")):
        rows, (ids, classes) = feats[fx].shape[0], labels[fy]
        if rows != ids.size:
            raise ValueError(f"{paths[fx]} has {rows} rows but {paths[fy]} has "
                             f"{ids.size}")
        if feats[fx].shape[1] != num_feat or classes != num_cls:
            raise ValueError(f"{paths[fx]} / {paths[fy]}: {feats[fx].shape[1]} features "
                             f"and {classes} classes, but allx / ally have {num_feat} "
                             f"and {num_cls}")


def _check_test_index(path: Path, test_index: np.ndarray, num_labelled: int,
                      num_test_rows: int) -> int:
    """The node count the test ids imply, once the file's size justifies it."""
    if len(test_index) != num_test_rows:
        raise ValueError(f"{path} lists {len(test_index)} ids but tx has "
                         f"{num_test_rows} rows")
    if np.unique(test_index).size != test_index.size:
        raise ValueError(f"{path}: repeated node ids")
    if test_index.min() != num_labelled:
        raise ValueError(f"{path}: the smallest test id must be {num_labelled} (the rows "
                         f"of allx), got {test_index.min()}")
    num_nodes = int(test_index.max()) + 1
    unlisted = num_nodes - num_labelled - test_index.size
    if unlisted > test_index.size:
        raise ValueError(
            f"{path}: the test ids reach {num_nodes - 1}, which leaves {unlisted} ids "
            f"after {num_labelled} without a row in tx; more such isolated nodes than "
            f"listed test nodes ({test_index.size}) is not a Planetoid file")
    return num_nodes


def load_planetoid(root: PathLike, name: str = "cora") -> Graph:
    """Reads the Planetoid ``ind.<name>.*`` files (cora, citeseer, pubmed) under ``root``.

    Matches PyG's ``read_planetoid_data``: node ``i < len(allx)`` is row ``i`` of
    ``allx``; test row ``j`` (of ``tx``/``ty``) becomes node ``test.index[j]``; test
    ids missing from ``test.index`` (citeseer's isolated nodes) get zero features and
    label 0. Labels are the argmax of the one-hot rows. Public split: the first
    ``len(y)`` nodes train, the next 500 validate, the ``test.index`` nodes test.
    Edges are undirected (both directions), without self-loops or duplicates,
    sorted by source then target. Features stay sparse.

    The pickles are read by a restricted unpickler that rebuilds every array and
    CSR matrix from checked components; sizes are checked against what the files
    hold before anything is allocated.

    Parameters
    ----------
    root : str or path-like
        A folder holding the eight files, directly, in ``root/planetoid`` or in
        PyG's layout ``root/<Name>/raw`` (see :func:`find_planetoid`).
    name : {"cora", "citeseer", "pubmed"}, default="cora"
        The dataset (case-insensitive).

    Returns
    -------
    Graph
        ``x`` (sparse CSR float32), ``y`` (int64 class ids), ``train_mask``,
        ``val_mask``, ``test_mask`` and ``name``.

    Raises
    ------
    FileNotFoundError
        A file is missing; the message names it and the folders searched.
    UnsafePickleError
        A pickle names a global other than the numpy / scipy / container types
        these files need, or a dtype that is not plain numeric.
    ValueError
        A file is corrupt or inconsistent with the others.

    Examples
    --------
    >>> root = "../shared/data"  # holds planetoid/ind.cora.* where present
    >>> cora = load_planetoid(root, "cora") if find_planetoid(root, "cora") else None
    >>> cora is None or (cora.num_nodes, int(cora.train_mask.sum())) == (2708, 140)
    True
    """
    name = _planetoid_name(name)
    folder = find_planetoid(root, name)
    if folder is None:
        raise _missing_planetoid(root, name)
    paths = {part: folder / f"ind.{name}.{part}" for part in _PLANETOID_PARTS}
    feats = {p: _as_csr(_unpickle(paths[p]), paths[p]) for p in ("x", "tx", "allx")}
    labels = {p: _as_labels(_unpickle(paths[p]), paths[p]) for p in ("y", "ty", "ally")}
    adj = _unpickle(paths["graph"])
    test_index = _read_test_index(paths["test.index"])
    _check_parts(paths, feats, labels)
    num_train, num_labelled = feats["x"].shape[0], feats["allx"].shape[0]
    if num_train + _NUM_VAL > num_labelled:
        raise ValueError(f"{paths['allx']}: {num_labelled} rows cannot hold {num_train} "
                         f"training and {_NUM_VAL} validation nodes")
    num_nodes = _check_test_index(paths["test.index"], test_index, num_labelled,
                                  feats["tx"].shape[0])

    # Node i takes stacked row src[i]: allx rows first, then tx row j at test_index[j].
    dest = np.concatenate([np.arange(num_labelled), test_index])
    src = np.arange(num_labelled + len(test_index))
    select = sp.csr_matrix((np.ones(src.size, dtype=np.float32), (dest, src)),
                           shape=(num_nodes, src.size))
    stacked = sp.vstack([feats["allx"], feats["tx"]], format="csr").astype(np.float32)
    features = (select @ stacked).tocsr()
    features.sort_indices()
    y = np.zeros(num_nodes, dtype=np.int64)  # unlisted test ids: label 0, as in PyG
    y[dest] = np.concatenate([labels["ally"][0], labels["ty"][0]])

    def mask(index: np.ndarray) -> np.ndarray:
        out = np.zeros(num_nodes, dtype=bool)
        out[index] = True
        return out

    edges = _planetoid_edges(adj, num_nodes, paths["graph"])
    try:
        return Graph(edges, num_nodes, x=features, y=y,
                     train_mask=mask(np.arange(num_train)),
                     val_mask=mask(np.arange(num_train, num_train + _NUM_VAL)),
                     test_mask=mask(test_index), name=name)
    except ValueError as err:
        raise ValueError(f"{folder} (ind.{name}.*): {err}") from None

