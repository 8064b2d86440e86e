"""Planetoid citation graphs (cora, citeseer, pubmed) from their ``ind.<name>.*`` files.

The files are pickles; they are read with a restricted unpickler that builds only
numpy arrays, scipy CSR matrices and plain containers (anything else raises
:class:`UnsafePickleError`). Nothing is downloaded: a missing file raises
``FileNotFoundError`` naming the file, the folders searched and where to get it.
"""
from __future__ import annotations

import collections
import io
import itertools
import pickle
from pathlib import Path
from typing import Any, Optional

import numpy as np
import scipy.sparse as sp

from ..graph import Graph
from ._common import PathLike

__all__ = ["PLANETOID_NAMES", "UnsafePickleError", "find_planetoid", "load_planetoid"]

PLANETOID_NAMES = ("cora", "citeseer", "pubmed")
_PLANETOID_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
_PYG_FOLDERS = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
_PLANETOID_URL = "https://github.com/kimiyoung/planetoid/tree/master/data"
_NUM_VAL = 500  # the public split: 500 validation nodes right after the training nodes


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle asked for a global that the Planetoid loader does not allow."""


def _allowed_globals() -> dict[tuple[str, str], Any]:
    """The only globals the Planetoid pickles need, under old and new module paths."""
    reconstruct = np.empty(0).__reduce__()[0]
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("collections", "defaultdict"): collections.defaultdict,
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = reconstruct
    for module in ("scipy.sparse.csr", "scipy.sparse._csr", "scipy.sparse"):
        allowed[(module, "csr_matrix")] = sp.csr_matrix
    for module in ("__builtin__", "builtins"):  # Python 2 pickles name builtins __builtin__
        for container in (list, dict, tuple, set, frozenset):
            allowed[(module, container.__name__)] = container
    return allowed


_ALLOWED_GLOBALS = _allowed_globals()


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedReader, path: Path) -> None:
        super().__init__(file, encoding="latin1")
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._path}: refused to load the global {module}.{name}; Planetoid "
                "files may only hold numpy arrays, scipy CSR matrices and plain "
                "containers") from None


def _unpickle(path: Path) -> Any:
    with open(path, "rb") as f:
        try:
            return _RestrictedUnpickler(f, path).load()
        except UnsafePickleError:
            raise
        except Exception as err:  # any other failure means a corrupt or foreign file
            raise ValueError(f"{path}: not a readable Planetoid pickle "
                             f"({type(err).__name__}: {err})") from None


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

    Looks in ``root``, ``root/planetoid`` and PyG's layout ``root/<Name>/raw``.
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
    if sp.issparse(obj):
        try:
            out = sp.csr_matrix((np.asarray(obj.data), np.asarray(obj.indices),
                                 np.asarray(obj.indptr)), shape=obj.shape)
            out.check_format(full_check=True)  # index bounds, before any arithmetic
        except (AttributeError, TypeError, ValueError) as err:
            raise ValueError(f"{path}: malformed sparse matrix ({err})") from None
    elif isinstance(obj, np.ndarray) and obj.ndim == 2:
        out = sp.csr_matrix(obj)
    else:
        raise ValueError(f"{path}: expected a 2-D feature matrix, got {type(obj).__name__}")
    if out.dtype.kind not in "biuf":
        raise ValueError(f"{path}: features must be numeric, got {out.dtype}")
    return out


def _as_onehot(obj: Any, path: Path) -> np.ndarray:
    arr = obj.toarray() if sp.issparse(obj) else obj
    if not isinstance(arr, np.ndarray) or arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise ValueError(f"{path}: expected a 2-D numeric one-hot label matrix, got "
                         f"{type(obj).__name__}")
    return arr


def _read_test_index(path: Path) -> np.ndarray:
    ids = []
    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if line.strip():
            try:
                ids.append(int(line))
            except ValueError:
                raise ValueError(f"{path}, line {lineno}: expected one integer node id, "
                                 f"got {line.strip()[:40]!r}") from None
    if not ids:
        raise ValueError(f"{path}: no test node ids")
    return np.asarray(ids, dtype=np.int64)


def _planetoid_edges(adj: Any, num_nodes: int, path: Path) -> np.ndarray:
    if not isinstance(adj, dict):
        raise ValueError(f"{path}: expected a dict of adjacency lists, got "
                         f"{type(adj).__name__}")
    try:
        row = np.fromiter(itertools.chain.from_iterable(
            itertools.repeat(int(k), len(v)) for k, v in adj.items()), dtype=np.int64)
        col = np.fromiter(itertools.chain.from_iterable(adj.values()), dtype=np.int64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: adjacency lists must map node ids to lists of "
                         f"node ids ({err})") from None
    if row.size and (min(row.min(), col.min()) < 0 or max(row.max(), col.max()) >= num_nodes):
        raise ValueError(f"{path}: node ids must lie in [0, {num_nodes}), got "
                         f"[{min(row.min(), col.min())}, {max(row.max(), col.max())}]")
    keep = row != col  # self-loops dropped, as PyG does
    row, col = row[keep], col[keep]
    key = np.unique(np.concatenate([row * num_nodes + col, col * num_nodes + row]))
    return np.stack([key // num_nodes, key % num_nodes])


def load_planetoid(root: PathLike, name: str = "cora") -> Graph:
    """Reads the Planetoid ``ind.<name>.*`` files (cora, citeseer, pubmed) under ``root``.

    Matches PyG's ``read_planetoid_data``: node ``i < len(allx)`` is row ``i`` of
    ``allx``; test row ``j`` (of ``tx``/``ty``) becomes node ``test.index[j]``; test
    ids missing from ``test.index`` (citeseer's isolated nodes) get zero features and
    label 0. Labels are the argmax of the one-hot rows. Public split: the first
    ``len(y)`` nodes train, the next 500 validate, the ``test.index`` nodes test.
    Edges are undirected (both directions), without self-loops or duplicates,
    sorted by source then target. Features stay sparse.
    """
    name = _planetoid_name(name)
    folder = find_planetoid(root, name)
    if folder is None:
        raise _missing_planetoid(root, name)
    paths = {part: folder / f"ind.{name}.{part}" for part in _PLANETOID_PARTS}
    x, tx, allx = (_as_csr(_unpickle(paths[p]), paths[p]) for p in ("x", "tx", "allx"))
    y, ty, ally = (_as_onehot(_unpickle(paths[p]), paths[p]) for p in ("y", "ty", "ally"))
    adj = _unpickle(paths["graph"])
    test_index = _read_test_index(paths["test.index"])

    num_train, num_labelled = x.shape[0], allx.shape[0]
    pairs = (("x", "y", x, y), ("tx", "ty", tx, ty), ("allx", "ally", allx, ally))
    for fx, fy, feats, labels in pairs:
        if feats.shape[0] != labels.shape[0]:
            raise ValueError(f"{paths[fx]} has {feats.shape[0]} rows but {paths[fy]} has "
                             f"{labels.shape[0]}")
        if feats.shape[1] != allx.shape[1] or labels.shape[1] != ally.shape[1]:
            raise ValueError(f"{paths[fx]} / {paths[fy]}: {feats.shape[1]} features and "
                             f"{labels.shape[1]} classes, but allx / ally have "
                             f"{allx.shape[1]} and {ally.shape[1]}")
    if num_train + _NUM_VAL > num_labelled:
        raise ValueError(f"{paths['allx']}: {num_labelled} rows cannot hold {num_train} "
                         f"training and {_NUM_VAL} validation nodes")
    if len(test_index) != tx.shape[0]:
        raise ValueError(f"{paths['test.index']} lists {len(test_index)} ids but "
                         f"{paths['tx']} has {tx.shape[0]} rows")
    if np.unique(test_index).size != test_index.size:
        raise ValueError(f"{paths['test.index']}: repeated node ids")
    if test_index.min() != num_labelled:
        raise ValueError(f"{paths['test.index']}: the smallest test id must be "
                         f"{num_labelled} (the rows of allx), got {test_index.min()}")

    num_nodes = int(test_index.max()) + 1
    # Node i takes stacked row src[i]: allx rows first, then tx row j at test_index[j].
    dest = np.concatenate([np.arange(num_labelled), test_index])
    src = np.arange(num_labelled + len(test_index))
    select = sp.csr_matrix((np.ones(src.size, dtype=np.float32), (dest, src)),
                           shape=(num_nodes, src.size))
    features = (select @ sp.vstack([allx, tx], format="csr").astype(np.float32)).tocsr()
    features.sort_indices()
    onehot = np.zeros((num_nodes, ally.shape[1]), dtype=ally.dtype)
    onehot[dest] = np.concatenate([ally, ty])
    labels = onehot.argmax(1).astype(np.int64)

    def mask(index: np.ndarray) -> np.ndarray:
        out = np.zeros(num_nodes, dtype=bool)
        out[index] = True
        return out

    edges = _planetoid_edges(adj, num_nodes, paths["graph"])
    try:
        return Graph(edges, num_nodes, x=features, y=labels,
                     train_mask=mask(np.arange(num_train)),
                     val_mask=mask(np.arange(num_train, num_train + _NUM_VAL)),
                     test_mask=mask(test_index), name=name)
    except ValueError as err:
        raise ValueError(f"{folder} (ind.{name}.*): {err}") from None

