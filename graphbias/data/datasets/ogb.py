"""OGB node-property datasets in OGB's raw CSV layout: reader, writer, evaluator.

Datasets are read from OGB's raw CSV folders with pandas, never through ``ogb``'s
dataset classes (which download and ``torch.load`` pickles).
"""
from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import Any, NamedTuple, Optional

import numpy as np
import scipy.sparse as sp
import torch

from ..graph import Graph
from ._common import PathLike, _pandas

__all__ = ["load_ogb_node", "write_ogb_node", "ogb_evaluate"]

class _OgbMeta(NamedTuple):
    add_inverse_edge: bool
    metric: str
    num_tasks: int
    download: str


# From ogb/nodeproppred/master.csv (ogb 1.3.6), so names resolve without ogb installed.
_OGB_NODE = {
    "ogbn-proteins": _OgbMeta(True, "rocauc", 112, "proteins"),
    "ogbn-products": _OgbMeta(True, "acc", 1, "products"),
    "ogbn-arxiv": _OgbMeta(False, "acc", 1, "arxiv"),
    "ogbn-mag": _OgbMeta(False, "acc", 1, "mag"),
    "ogbn-papers100M": _OgbMeta(False, "acc", 1, "papers100M-bin"),
}
_OGB_URL = "http://snap.stanford.edu/ogb/data/nodeproppred/{}.zip"
_OGB_REQUIRED = ("edge.csv.gz", "num-node-list.csv.gz", "num-edge-list.csv.gz",
                 "node-label.csv.gz")
_OGB_SPLITS = ("train", "valid", "test")
_OGB_LAYOUT = ("<root>/{dir}/raw/ holding edge.csv.gz, num-node-list.csv.gz, "
               "num-edge-list.csv.gz, node-label.csv.gz (node-feat.csv.gz and "
               "edge-feat.csv.gz optional) and <root>/{dir}/split/<type>/ holding "
               "train.csv.gz, valid.csv.gz, test.csv.gz")


def _ogb_dirname(name: str) -> str:
    return name.replace("-", "_")


def _ogb_hint(root: PathLike, name: str) -> str:
    layout = _OGB_LAYOUT.format(dir=_ogb_dirname(name)).replace("<root>", str(root))
    meta = _OGB_NODE.get(name)
    source = (f"unzip {_OGB_URL.format(meta.download)} and rename the extracted folder "
              f"to {_ogb_dirname(name)}" if meta else "write one with write_ogb_node")
    return f"expected {layout}; {source} (nothing is downloaded)"


def _add_inverse_default(name: str, add_inverse_edge: Optional[bool]) -> bool:
    if add_inverse_edge is not None:
        return bool(add_inverse_edge)
    meta = _OGB_NODE.get(name)
    return meta.add_inverse_edge if meta else False


def _read_csv(path: Path, hint: str) -> np.ndarray:
    """A headerless gzip CSV as a 2-D array (``[0, 0]`` for an empty file)."""
    pd = _pandas("ogb", "reading OGB CSV files")
    if not path.is_file():
        raise FileNotFoundError(f"missing {path}: {hint}")
    try:
        values = pd.read_csv(path, compression="gzip", header=None).values
    except pd.errors.EmptyDataError:
        return np.empty((0, 0), dtype=np.int64)
    except (ValueError, OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: not a headerless gzip CSV ({err})") from None
    if values.dtype.kind not in "biuf":
        raise ValueError(f"{path}: expected numbers only, got non-numeric entries")
    return values


def _read_optional_rows(path: Path, hint: str, rows: int) -> Optional[np.ndarray]:
    """An optional per-node / per-edge CSV: None when absent, else exactly ``rows`` rows."""
    if not path.is_file():
        return None
    values = _read_csv(path, hint)
    if values.shape[0] != rows:
        raise ValueError(f"{path}: expected {rows} rows, got {values.shape[0]}")
    return values


def _read_ids(path: Path, hint: str, columns: int, bound: int, what: str) -> np.ndarray:
    values = _read_csv(path, hint)
    if values.size == 0:
        return np.empty((0, columns), dtype=np.int64)
    if values.shape[1] != columns:
        raise ValueError(f"{path}: expected {columns} column(s) of {what}, got "
                         f"{values.shape[1]}")
    if values.dtype.kind not in "iu":
        raise ValueError(f"{path}: {what} must be integers (no blanks or decimals)")
    values = values.astype(np.int64)
    bad = (values < 0) | (values >= bound)
    if bad.any():
        row = int(bad.any(1).nonzero()[0][0])
        raise ValueError(f"{path}, row {row}: {what} must lie in [0, {bound}), got "
                         f"{values[row].tolist()}")
    return values


def _read_count(path: Path, hint: str) -> int:
    values = _read_csv(path, hint)
    if values.shape != (1, 1) or values.dtype.kind not in "iu" or values[0, 0] < 0:
        raise ValueError(f"{path}: expected a single non-negative integer (node-property "
                         f"datasets hold one graph), got shape {values.shape}")
    return int(values[0, 0])


def _ogb_labels(path: Path, hint: str, num_nodes: int) -> np.ndarray:
    values = _read_csv(path, hint)
    if values.shape[0] != num_nodes:
        raise ValueError(f"{path}: expected {num_nodes} rows of labels, got shape "
                         f"{values.shape}")
    missing = np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.shape, bool)
    if values.shape[1] > 1:
        if missing.any():
            row = int(missing.any(1).nonzero()[0][0])
            raise ValueError(f"{path}, row {row}: multi-task labels must all be present "
                             "(missing entries are not supported)")
        return values.astype(np.float32)
    column, missing = values[:, 0], missing[:, 0]
    bad = ~missing & ((column != np.round(column)) | (column < 0))
    if bad.any():
        row = int(bad.nonzero()[0][0])
        raise ValueError(f"{path}, row {row}: class labels must be non-negative integers, "
                         f"got {column[row]}")
    return np.where(missing, -1, np.nan_to_num(column)).astype(np.int64)


def _split_dir(folder: Path, split: Optional[str], hint: str) -> Path:
    base = folder / "split"
    if split is not None:
        if not (base / split).is_dir():
            raise FileNotFoundError(f"missing split folder {base / split}: {hint}")
        return base / split
    found = sorted(d.name for d in base.iterdir() if d.is_dir()) if base.is_dir() else []
    if not found:
        raise FileNotFoundError(f"no split folder under {base}: {hint}")
    if len(found) > 1:
        raise ValueError(f"{base} holds several splits ({', '.join(found)}); pass split=")
    return base / found[0]


def load_ogb_node(root: PathLike, name: str, *, split: Optional[str] = None,
                  add_inverse_edge: Optional[bool] = None) -> Graph:
    """Reads an OGB node-property dataset from its raw CSV folder ``root/<name_>/``.

    ``<name_>`` is ``name`` with ``-`` replaced by ``_`` (OGB's folder name).
    ``add_inverse_edge`` (default: OGB's ``master.csv`` value for known datasets,
    else False) appends each edge's reverse right after it, as
    ``ogb.io.read_graph_raw.read_csv_graph_raw`` does. A one-column
    ``edge-feat.csv.gz`` becomes ``edge_weight``; wider edge features are not read.
    Single-task labels become int64 ``[N]`` with -1 for missing (blank) entries;
    multi-task labels stay float ``[N, T]``. Masks come from
    ``split/<split>/{train,valid,test}.csv.gz`` (default: the only split folder).

    Parameters
    ----------
    root : str or path-like
        The folder holding ``<name_>/raw`` and ``<name_>/split``.
    name : str
        The dataset, e.g. ``"ogbn-arxiv"``.
    split : str, default=None
        The split folder's name; None takes the only one there is.
    add_inverse_edge : bool, default=None
        Append each edge's reverse; None: OGB's setting for ``name`` (False for
        unknown names).

    Returns
    -------
    Graph
        ``x`` (float32, or int64 for integer features), ``edge_weight``, ``y``,
        ``train_mask``, ``val_mask``, ``test_mask`` and ``name``.

    Raises
    ------
    FileNotFoundError
        A required file or folder is missing; the message gives the expected layout.
    ValueError
        A malformed file, ids out of range, counts that disagree, or split files
        that share nodes (both files are named).

    Examples
    --------
    >>> import tempfile
    >>> from graphbias.data import Graph
    >>> g = Graph([[0, 1, 2], [1, 2, 3]], y=[0, 1, 0, 1])
    >>> root = tempfile.mkdtemp()
    >>> _ = write_ogb_node(root, "toy", g, add_inverse_edge=False)
    >>> h = load_ogb_node(root, "toy")
    >>> h.edge_index.tolist(), h.y.tolist()
    ([[0, 1, 2], [1, 2, 3]], [0, 1, 0, 1])
    """
    folder = Path(root) / _ogb_dirname(name)
    raw = folder / "raw"
    hint = _ogb_hint(root, name)
    if not raw.is_dir():
        raise FileNotFoundError(f"OGB dataset {name!r} not found: no folder {raw}; {hint}")
    if not (raw / "edge.csv.gz").is_file():
        for marker, kind in (("data.npz", "binary (data.npz)"),
                             ("triplet-type-list.csv.gz", "heterogeneous")):
            if (raw / marker).is_file():
                raise ValueError(f"{raw}: OGB's {kind} format is not supported by "
                                 "load_ogb_node, which reads homogeneous CSV datasets")
    num_nodes = _read_count(raw / "num-node-list.csv.gz", hint)
    if num_nodes == 0:
        raise ValueError(f"{raw / 'num-node-list.csv.gz'}: the graph has no nodes")
    num_edges = _read_count(raw / "num-edge-list.csv.gz", hint)
    edges = _read_ids(raw / "edge.csv.gz", hint, 2, num_nodes, "node ids").T
    if edges.shape[1] != num_edges:
        raise ValueError(f"{raw / 'edge.csv.gz'} has {edges.shape[1]} edges but "
                         f"{raw / 'num-edge-list.csv.gz'} says {num_edges}")
    weight = None
    feat = _read_optional_rows(raw / "edge-feat.csv.gz", hint, num_edges)
    if feat is not None and feat.ndim == 2 and feat.shape[1] == 1:
        weight = feat[:, 0].astype(np.float32)
    if _add_inverse_default(name, add_inverse_edge):
        edges = np.repeat(edges, 2, axis=1)
        edges[:, 1::2] = edges[::-1, 0::2]
        weight = None if weight is None else np.repeat(weight, 2)
    x = _read_optional_rows(raw / "node-feat.csv.gz", hint, num_nodes)
    if x is not None:
        x = x.astype(np.int64 if x.dtype.kind in "iu" else np.float32)
    y = _ogb_labels(raw / "node-label.csv.gz", hint, num_nodes)
    split_dir = _split_dir(folder, split, hint)
    masks = {}
    owner = np.full(num_nodes, -1, dtype=np.int64)  # the split file naming each node
    for k, (part, key) in enumerate(zip(_OGB_SPLITS, ("train_mask", "val_mask",
                                                      "test_mask"))):
        path = split_dir / f"{part}.csv.gz"
        index = _read_ids(path, hint, 1, num_nodes, "node ids")[:, 0]
        shared = np.unique(index[(owner[index] >= 0) & (owner[index] != k)])
        if shared.size:
            first = split_dir / f"{_OGB_SPLITS[owner[shared[0]]]}.csv.gz"
            raise ValueError(f"{first} and {path} share {shared.size} node(s) (first: "
                             f"{shared[:5].tolist()}); train, valid and test must be "
                             "disjoint")
        owner[index] = k
        masks[key] = np.zeros(num_nodes, dtype=bool)
        masks[key][index] = True
    try:
        return Graph(edges, num_nodes, x=x, edge_weight=weight, y=y, name=name, **masks)
    except ValueError as err:
        raise ValueError(f"{folder}: {err}") from None


def _write_csv(path: Path, values: np.ndarray | sp.csr_matrix) -> None:
    """Headerless gzip CSV, written (and densified) in row blocks; floats in their
    shortest exact form, NaN blank, a fixed gzip header time: equal data, equal bytes."""
    pd = _pandas("ogb", "reading OGB CSV files")
    rows = max(1, 2 ** 22 // max(1, values.shape[1]))
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", filename="",
                                                mtime=0) as gz, \
            io.TextIOWrapper(gz, encoding="ascii", newline="") as text:
        for start in range(0, values.shape[0], rows):
            block = values[start:start + rows]
            pd.DataFrame(block.toarray() if sp.issparse(block) else block).to_csv(
                text, header=False, index=False, lineterminator="\n")


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _write_features(path: Path, x: torch.Tensor) -> None:
    if x.layout == torch.strided:
        _write_csv(path, _numpy(x))
    else:  # torch sparse CSR, as Graph stores sparse features
        _write_csv(path, sp.csr_matrix((_numpy(x.values()), _numpy(x.col_indices()),
                                        _numpy(x.crow_indices())), shape=tuple(x.shape)))


def _label_table(y: torch.Tensor) -> np.ndarray:
    if y.dim() == 2 and y.size(1) > 1:
        return _numpy(y)
    if y.dim() > 2 or y.is_floating_point() or y.is_complex():
        raise ValueError(f"graph.y must be integer class ids [N] (or multi-task [N, T]), "
                         f"got {y.dtype} of shape {tuple(y.shape)}")
    labels = _numpy(y.reshape(-1, 1)).astype(np.int64)
    if (labels < -1).any():
        raise ValueError("graph.y: class ids must be >= 0 (-1 marks a missing label), "
                         f"got {labels.min()}")
    return np.where(labels < 0, np.nan, labels) if (labels < 0).any() else labels


def _split_indices(graph: Graph, labelled: np.ndarray, seed: int) -> list[np.ndarray]:
    masks = [graph.train_mask, graph.val_mask, graph.test_mask]
    if all(m is not None for m in masks):
        overlap = sum(_numpy(m).astype(np.int64) for m in masks) > 1
        if overlap.any():
            raise ValueError(f"graph's train_mask, val_mask and test_mask overlap at "
                             f"{int(overlap.sum())} node(s) (first: "
                             f"{overlap.nonzero()[0][:5].tolist()}); OGB splits are "
                             "disjoint")
        return [_numpy(m).nonzero()[0] for m in masks]
    if any(m is not None for m in masks):
        raise ValueError("graph has some but not all of train_mask, val_mask, test_mask; "
                         "give all three or none (none: a random 60/20/20 split)")
    nodes = np.random.default_rng(seed).permutation(labelled.nonzero()[0])
    cut = [int(0.6 * nodes.size), int(0.8 * nodes.size)]
    return [np.sort(part) for part in np.split(nodes, cut)]


def write_ogb_node(root: PathLike, name: str, graph: Graph, *, split: str = "random",
                   add_inverse_edge: Optional[bool] = None, seed: int = 0) -> Path:
    """Writes ``graph`` as an OGB node-property raw folder ``root/<name_>/``; returns it.

    Files follow OGB's conventions (headerless gzip CSV) and
    :func:`load_ogb_node` reads them back to an equal graph: ``edge.csv.gz``,
    ``num-node-list.csv.gz``, ``num-edge-list.csv.gz``, ``node-feat.csv.gz`` (if
    ``x``), ``edge-feat.csv.gz`` (if ``edge_weight``), ``node-label.csv.gz`` (label
    -1 is written blank, OGB's missing label) and ``split/<split>/{train,valid,test}
    .csv.gz`` from the graph's masks, or a random 60/20/20 split of the labelled
    nodes (``seed``) when it has none. With ``add_inverse_edge`` (default as in
    :func:`load_ogb_node`) the graph must be undirected without self-loops and only
    edges ``u < v`` are stored. A dataset already at that folder is replaced.

    Parameters
    ----------
    root : str or path-like
        Where to write ``<name_>/``.
    name : str
        The dataset name (``-`` becomes ``_`` in the folder name).
    graph : Graph
        Must have ``y``: integer class ids ``[N]`` (-1: missing) or multi-task
        ``[N, T]``. Its masks, when given, must be disjoint.
    split : str, default="random"
        The split folder's name.
    add_inverse_edge : bool, default=None
        Store each undirected edge once; None: OGB's setting for ``name``.
    seed : int, default=0
        Seed of the random split used when the graph has no masks.

    Returns
    -------
    pathlib.Path
        The dataset folder ``root/<name_>``.

    Raises
    ------
    ValueError
        No ``y``, float class ids, overlapping masks, some but not all masks, or
        a directed graph with ``add_inverse_edge``.

    Examples
    --------
    >>> import tempfile
    >>> from graphbias.data import Graph
    >>> g = Graph([[0, 1], [1, 0]], y=[0, 1])
    >>> write_ogb_node(tempfile.mkdtemp(), "toy-graph", g).name
    'toy_graph'
    """
    if graph.y is None:
        raise ValueError("graph.y is required: OGB node datasets always have "
                         "node-label.csv.gz")
    labels = _label_table(graph.y)
    edges = _numpy(graph.edge_index)
    weight = None if graph.edge_weight is None else _numpy(graph.edge_weight)
    if _add_inverse_default(name, add_inverse_edge):
        if graph.has_self_loops() or not graph.is_undirected():
            raise ValueError("add_inverse_edge needs an undirected graph without "
                             "self-loops (each edge u < v is stored once)")
        keep = edges[0] < edges[1]
        edges = edges[:, keep]
        weight = None if weight is None else weight[keep]
    labelled = ~np.isnan(labels).any(1) if labels.dtype.kind == "f" else np.ones(
        labels.shape[0], bool)
    parts = _split_indices(graph, labelled, seed)

    folder = Path(root) / _ogb_dirname(name)
    raw, split_dir = folder / "raw", folder / "split" / split
    raw.mkdir(parents=True, exist_ok=True)
    split_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(raw / "edge.csv.gz", edges.T)
    _write_csv(raw / "num-node-list.csv.gz", np.array([[graph.num_nodes]]))
    _write_csv(raw / "num-edge-list.csv.gz", np.array([[edges.shape[1]]]))
    if graph.x is not None:
        _write_features(raw / "node-feat.csv.gz", graph.x)
    else:
        (raw / "node-feat.csv.gz").unlink(missing_ok=True)
    if weight is not None:
        _write_csv(raw / "edge-feat.csv.gz", weight.reshape(-1, 1))
    else:
        (raw / "edge-feat.csv.gz").unlink(missing_ok=True)
    _write_csv(raw / "node-label.csv.gz", labels)
    for part, index in zip(_OGB_SPLITS, parts):
        _write_csv(split_dir / f"{part}.csv.gz", index.reshape(-1, 1))
    return folder


def _as_2d(name: str, values: Any) -> np.ndarray:
    arr = _numpy(values) if isinstance(values, torch.Tensor) else np.asarray(values)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty [N] or [N, num_tasks] array, got "
                         f"shape {arr.shape}")
    return arr


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    accs = []
    for task in range(y_true.shape[1]):
        labelled = y_true[:, task] == y_true[:, task]  # NaN marks unlabelled
        if not labelled.any():
            raise ValueError(f"y_true has no labelled node for task {task}")
        accs.append(float(np.mean(y_true[labelled, task] == y_pred[labelled, task])))
    return sum(accs) / len(accs)


def _rocauc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    scores = []
    for task in range(y_true.shape[1]):
        column = y_true[:, task]
        if (column == 1).any() and (column == 0).any():
            labelled = column == column
            scores.append(roc_auc_score(column[labelled], y_pred[labelled, task]))
    if not scores:
        raise ValueError("y_true has no task with both positive and negative labels; "
                         "ROC-AUC is undefined")
    return float(sum(scores) / len(scores))


def ogb_evaluate(name: str, y_true: Any, y_pred: Any) -> dict[str, float]:
    """OGB's metric for ``name``: ``{"acc": ...}`` (or ``{"rocauc": ...}`` for proteins).

    Uses ``ogb.nodeproppred.Evaluator`` for known OGB datasets when ogb is installed;
    otherwise computes the same metric (accuracy averaged over tasks, NaN labels
    skipped). ``[N]`` inputs are read as one task.

    Parameters
    ----------
    name : str
        The dataset; unknown names are scored by accuracy.
    y_true, y_pred : array-like of shape (N,) or (N, T)
        Targets (NaN: unlabelled) and predictions (class ids, or scores for
        ROC-AUC).

    Returns
    -------
    dict
        ``{metric: value}``.

    Examples
    --------
    >>> ogb_evaluate("my-graph", [0, 1, 2, 2], [0, 1, 1, 2])
    {'acc': 0.75}
    """
    y_true, y_pred = _as_2d("y_true", y_true), _as_2d("y_pred", y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has {y_pred.shape}")
    meta = _OGB_NODE.get(name)
    if meta is None:
        return {"acc": _accuracy(y_true, y_pred)}
    if y_true.shape[1] != meta.num_tasks:
        raise ValueError(f"{name} has {meta.num_tasks} task(s), got {y_true.shape[1]} "
                         "columns")
    try:
        from ogb.nodeproppred import Evaluator
    except ImportError:
        score = _rocauc(y_true, y_pred) if meta.metric == "rocauc" else _accuracy(
            y_true, y_pred)
        return {meta.metric: score}
    try:
        result = Evaluator(name).eval({"y_true": y_true, "y_pred": y_pred})
    except RuntimeError as err:
        raise ValueError(f"ogb Evaluator({name!r}): {err}") from None
    return {key: float(value) for key, value in result.items()}

