r"""The graph every estimator, layer and kernel of graphbias works on.

Edges are directed ``edge_index[0] -> edge_index[1]`` (source to target, as in
PyG); messages flow along them, so node ``v`` aggregates the sources of the edges
that end at ``v``. An undirected graph stores both directions.

>>> import torch
>>> g = Graph(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3)
>>> g
Graph(num_nodes=3, num_edges=4)
>>> g.csr.indptr.tolist(), g.csr.indices.tolist()
([0, 1, 3, 4], [1, 0, 2, 1])
"""
from __future__ import annotations

import numbers
import sys
from typing import Any, Callable, Hashable, Optional, Sequence, Union

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from ..ops.csr import CSR

__all__ = ["Graph", "as_graph", "features_to_tensor", "MAX_NODES"]

_MASKS = ("train_mask", "val_mask", "test_mask")
MAX_NODES = 2**31 - 1
"""The most nodes a graph may have: ``source * num_nodes + target`` keys must fit int64."""
_IMPLIED_FLOOR = 2**20  # node counts implied by edge ids alone are accepted up to this
_IMPLIED_PER_EDGE = 8   # ... or up to this many nodes per edge


def _tensor(name: str, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    try:
        return torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} could not be read as an array: {err}") from None


def features_to_tensor(x: Any, name: str = "x") -> Tensor:
    """Node features as a tensor: dense stays dense, scipy / torch sparse become
    torch CSR.

    Sparse features stay sparse (never densified): layers multiply them with
    sparse kernels. Bool and integer features (unsigned included) become float32;
    floating-point ones keep their dtype.

    Parameters
    ----------
    x : array-like, scipy.sparse matrix or torch tensor (strided, COO or CSR)
        A 2-D ``[N, F]`` matrix.
    name : str, default="x"
        How error messages name it.

    Returns
    -------
    Tensor
        Strided or ``torch.sparse_csr``, floating point.

    Raises
    ------
    ValueError
        Not 2-D, complex, not numeric, or holding NaN or infinite entries.

    Examples
    --------
    >>> import numpy as np
    >>> features_to_tensor(np.array([[1, 0], [0, 2]], dtype=np.uint16))
    tensor([[1., 0.],
            [0., 2.]])
    """
    if sp.issparse(x):
        csr = sp.csr_matrix(x)
        csr.sum_duplicates()
        t = torch.sparse_csr_tensor(
            torch.from_numpy(csr.indptr.astype(np.int64)),
            torch.from_numpy(csr.indices.astype(np.int64)),
            torch.from_numpy(np.asarray(csr.data, dtype=np.float32)), csr.shape,
            check_invariants=False)
    else:
        t = _tensor(name, x)
        if t.layout == torch.sparse_coo:
            t = t.coalesce().to_sparse_csr()
        elif t.layout not in (torch.strided, torch.sparse_csr):
            raise ValueError(f"{name}: unsupported sparse layout {t.layout}")
    if t.dim() == 1:
        raise ValueError(f"{name} must be 2-D (one row per node), got a 1-D array; "
                         "use x.reshape(-1, 1) for a single feature")
    if t.dim() != 2:
        raise ValueError(f"{name} must be 2-D (one row per node), got shape {tuple(t.shape)}")
    values = t.values() if t.layout == torch.sparse_csr else t
    if values.is_complex():
        raise ValueError(f"{name} must hold real numbers, got {values.dtype}")
    if not values.is_floating_point():  # bool and every integer type, unsigned included
        values = values.float()
        t = values if t.layout == torch.strided else torch.sparse_csr_tensor(
            t.crow_indices(), t.col_indices(), values, t.shape, check_invariants=False)
    if values.numel() and not bool(torch.isfinite(values).all()):
        bad = (~torch.isfinite(t)).nonzero()[0].tolist() if t.layout == torch.strided \
            else None
        where = f" (first at row {bad[0]}, column {bad[1]})" if bad else ""
        raise ValueError(f"{name} contains NaN or infinite values{where}")
    return t


def _is_int(value: Any) -> bool:
    if isinstance(value, Tensor):
        return value.numel() == 1 and value.dim() == 0 and not (
            value.is_floating_point() or value.is_complex() or value.dtype == torch.bool)
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _explicit_num_nodes(num_nodes: Any) -> int:
    if not _is_int(num_nodes):
        raise ValueError(f"num_nodes must be an integer, got {num_nodes!r}")
    n = int(num_nodes)
    if n <= 0:
        raise ValueError(f"the graph is empty: num_nodes is {n}")
    if n > MAX_NODES:
        raise ValueError(f"num_nodes is {n}; at most {MAX_NODES} nodes are supported")
    return n


def _first_edge(mask: Tensor) -> int:
    return int(mask.any(0).nonzero()[0])


def _implied_num_nodes(ei: Tensor, x: Optional[Tensor]) -> int:
    """The node count when none is given: ``x``'s rows, else the largest id + 1,
    provided the edges justify it (a stray id must not make a graph of billions)."""
    if x is not None:
        rows = int(x.size(0))
        if ei.numel() and int(ei.max()) >= rows:
            hi = int(ei.max())
            raise ValueError(
                f"edge_index refers to node {hi} (first at edge {_first_edge(ei == hi)}) "
                f"but x has {rows} rows: x needs one row per node (pass num_nodes= if "
                "x is meant to have a different shape)")
        return rows
    if not ei.numel():
        raise ValueError("the graph is empty: it has no edges, no x and no num_nodes")
    n, num_edges = int(ei.max()) + 1, ei.size(1)
    if n > min(MAX_NODES, max(_IMPLIED_FLOOR, _IMPLIED_PER_EDGE * num_edges)):
        raise ValueError(
            f"edge_index implies {n} nodes (largest id {n - 1}, at edge "
            f"{_first_edge(ei == n - 1)}) from only {num_edges} edge(s); pass num_nodes= "
            f"to confirm so large a graph (at most {MAX_NODES})")
    return n


def _check_node_labels(labels: Any, num_nodes: int) -> Optional[list]:
    """The labels as a list, or None when they are ``0 .. num_nodes - 1`` in order."""
    if labels is None:
        return None
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__"):
        raise ValueError(f"node_labels must be a sequence of {num_nodes} labels, got "
                         f"{type(labels).__name__}")
    labels = labels.tolist() if isinstance(labels, (np.ndarray, Tensor)) else list(labels)
    if len(labels) != num_nodes:
        raise ValueError(f"node_labels has {len(labels)} entries but the graph has "
                         f"{num_nodes} nodes")
    try:
        index = {label: i for i, label in enumerate(labels)}
    except TypeError as err:
        raise ValueError(f"node_labels must be hashable ({err})") from None
    if len(index) != num_nodes:
        seen: set = set()
        repeated = next(label for label in labels if label in seen or seen.add(label))
        raise ValueError(f"node_labels must be distinct; {repeated!r} appears twice")
    if all(type(label) is int for label in labels) and labels == list(range(num_nodes)):
        return None
    return labels


class Graph:
    r"""A graph with optional node features, labels, edge weights and split masks.

    Edges are directed ``edge_index[0] -> edge_index[1]``; an undirected graph
    stores both directions. The in-neighbour :attr:`csr` and out-neighbour
    :attr:`csc` are built on first use and cached, so every layer and epoch reuses
    them; :meth:`to` carries the caches to another device and pickling drops them.

    Parameters
    ----------
    edge_index : array-like of int, shape (2, E)
        ``source, target`` pairs (torch, numpy or nested lists).
    num_nodes : int, default=None
        Number of nodes, an integer in ``[1, MAX_NODES]``. Default: the rows of
        ``x``; without ``x``, the largest id + 1, accepted up to
        ``max(2**20, 8 * E)`` nodes (pass ``num_nodes`` for a larger, sparser graph).
    x : array-like, scipy.sparse or torch sparse of shape (N, F), default=None
        Node features; integer and bool features become float32, sparse ones stay
        sparse (torch CSR).
    edge_weight : array-like of shape (E,), default=None
        Finite weights, one per edge. Negative weights are allowed here; a
        normalisation that needs non-negative degrees (``gcn_norm``) refuses them.
    y : array-like of shape (N,) or (N, ...), default=None
        Node targets.
    train_mask, val_mask, test_mask : bool array-like of shape (N,), default=None
        Split masks.
    name : str, default=""
        Free-form name shown in reports.
    node_labels : sequence of hashable, default=None
        The user's name of each node (e.g. networkx node keys), distinct; node ``i``
        is ``node_labels[i]``. None, or ``0 .. N-1`` in order, means nodes are
        known by their ids only.

    Attributes
    ----------
    edge_index : Tensor of shape (2, E), int64
    num_nodes : int
    x, edge_weight, y, train_mask, val_mask, test_mask : Tensor or None
    name : str
    node_labels : list or None
        See :meth:`index_of` and :meth:`label_of` to map between labels and ids.

    Examples
    --------
    >>> g = Graph([[0, 1], [1, 2]], node_labels=["a", "b", "c"])
    >>> g.index_of("c"), g.index_of(["b", "a"]).tolist(), g.label_of(0)
    (2, [1, 0], 'a')
    """

    def __init__(
        self,
        edge_index: Any,
        num_nodes: Optional[int] = None,
        *,
        x: Any = None,
        edge_weight: Any = None,
        y: Any = None,
        train_mask: Any = None,
        val_mask: Any = None,
        test_mask: Any = None,
        name: str = "",
        node_labels: Optional[Sequence[Hashable]] = None,
    ) -> None:
        ei = _tensor("edge_index", edge_index)
        if ei.dim() != 2 or ei.size(0) != 2:
            raise ValueError(
                f"edge_index must have shape [2, num_edges], got {tuple(ei.shape)}")
        if ei.is_floating_point() or ei.dtype == torch.bool or ei.is_complex():
            raise ValueError(f"edge_index must hold integers, got {ei.dtype}")
        ei = ei.to(torch.long).contiguous()
        if ei.numel() and int(ei.min()) < 0:
            raise ValueError(f"edge_index has a negative node id ({int(ei.min())}) at "
                             f"edge {_first_edge(ei < 0)}")
        self.x: Optional[Tensor] = None if x is None else features_to_tensor(x)
        if num_nodes is None:
            num_nodes = _implied_num_nodes(ei, self.x)
        else:
            num_nodes = _explicit_num_nodes(num_nodes)
        if ei.numel() and int(ei.max()) >= num_nodes:
            hi = int(ei.max())
            raise ValueError(f"edge_index has node id {hi} but num_nodes is {num_nodes} "
                             f"(first bad edge: {_first_edge(ei >= num_nodes)})")
        self.edge_index: Tensor = ei
        self.num_nodes: int = num_nodes
        if self.x is not None and self.x.size(0) != num_nodes:
            raise ValueError(
                f"x has {self.x.size(0)} rows but the graph has {num_nodes} nodes")
        self.edge_weight: Optional[Tensor] = self._check_weight(edge_weight)
        self.y: Optional[Tensor] = self._check_y(y)
        for mask_name, mask in zip(_MASKS, (train_mask, val_mask, test_mask)):
            setattr(self, mask_name, None if mask is None
                    else self._check_mask(mask_name, mask))
        self.name = name
        self.node_labels: Optional[list] = _check_node_labels(node_labels, num_nodes)
        self._cache: dict[Any, Any] = {}

    def _check_weight(self, edge_weight: Any) -> Optional[Tensor]:
        if edge_weight is None:
            return None
        w = _tensor("edge_weight", edge_weight)
        if w.dim() != 1 or w.numel() != self.num_edges:
            raise ValueError(f"edge_weight must have shape [{self.num_edges}] (one per "
                             f"edge), got {tuple(w.shape)}")
        if w.is_complex():
            raise ValueError(f"edge_weight must hold real numbers, got {w.dtype}")
        w = w.float() if not w.is_floating_point() else w
        if not bool(torch.isfinite(w).all()):
            bad = int((~torch.isfinite(w)).nonzero()[0])
            raise ValueError(f"edge_weight contains NaN or inf (first at edge {bad})")
        return w

    def _check_y(self, y: Any) -> Optional[Tensor]:
        if y is None:
            return None
        yt = _tensor("y", y)
        if yt.dim() == 0 or yt.size(0) != self.num_nodes:
            raise ValueError(f"y must have one entry per node ({self.num_nodes}), got "
                             f"shape {tuple(yt.shape)}")
        if yt.is_floating_point() and not bool(torch.isfinite(yt).all()):
            raise ValueError("y contains NaN or infinite values")
        return yt

    def _check_mask(self, name: str, mask: Any) -> Tensor:
        m = _tensor(name, mask)
        if m.dtype != torch.bool:
            raise ValueError(f"{name} must be boolean, got {m.dtype}")
        if m.shape != (self.num_nodes,):
            raise ValueError(
                f"{name} must have shape [{self.num_nodes}], got {tuple(m.shape)}")
        return m

    # ------------------------------------------------------------- node labels
    def _label_index(self) -> dict:
        return self.cached("label_index", lambda: {
            label: i for i, label in enumerate(self.node_labels)})

    def _ids(self, ids: Any) -> Union[int, np.ndarray]:
        """``ids`` checked to be node ids in ``[0, num_nodes)``."""
        arr = ids.detach().cpu().numpy() if isinstance(ids, Tensor) else np.asarray(ids)
        if arr.ndim == 1 and arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        if arr.dtype.kind not in "iu" or (arr.size and (
                int(arr.min()) < 0 or int(arr.max()) >= self.num_nodes)):
            labelled = "" if self.node_labels is None else (
                " (use index_of to find the id of a node label)")
            raise ValueError(f"node ids must be integers in [0, {self.num_nodes}), got "
                             f"{ids!r:.80}{labelled}")
        return int(arr) if arr.ndim == 0 else arr.astype(np.int64).reshape(-1)

    def index_of(self, labels: Any) -> Union[int, np.ndarray]:
        """Node ids of node labels (see ``node_labels``).

        Parameters
        ----------
        labels : hashable or sequence of hashable
            One node label, or a sequence of them. Without ``node_labels`` the
            labels are the ids themselves and are only checked.

        Returns
        -------
        int or ndarray of int64
            The id of one label, or the ids of a sequence, in order.

        Raises
        ------
        ValueError
            A label that is not a node of the graph (the message lists the first
            unknown ones).

        Examples
        --------
        >>> import networkx as nx
        >>> g = as_graph(nx.path_graph(["x", "y", "z"]))
        >>> g.index_of("z"), g.index_of(["y", "x"]).tolist()
        (2, [1, 0])
        """
        if self.node_labels is None:
            return self._ids(labels)
        index = self._label_index()
        try:
            return index[labels]
        except (KeyError, TypeError):
            pass
        if isinstance(labels, (str, bytes)) or not hasattr(labels, "__iter__"):
            raise ValueError(f"unknown node label {labels!r:.80}")
        items = labels.tolist() if isinstance(labels, (np.ndarray, Tensor)) else list(labels)
        unknown = [label for label in items if not isinstance(label, Hashable)
                   or label not in index]
        if unknown:
            raise ValueError(f"unknown node label(s) {unknown[:5]!r:.200}"
                             f"{f' and {len(unknown) - 5} more' if len(unknown) > 5 else ''}")
        return np.fromiter((index[label] for label in items), np.int64, len(items))

    def label_of(self, ids: Any) -> Union[Hashable, list]:
        """Node labels of node ids (the ids themselves without ``node_labels``).

        Parameters
        ----------
        ids : int or array-like of int
            Node ids in ``[0, num_nodes)``.

        Returns
        -------
        hashable or list
            The label of one id, or a list of the labels of a sequence of ids.

        Examples
        --------
        >>> g = Graph([[0], [1]], node_labels=["in", "out"])
        >>> g.label_of(1), g.label_of([1, 0])
        ('out', ['out', 'in'])
        """
        checked = self._ids(ids)
        if isinstance(checked, int):
            return checked if self.node_labels is None else self.node_labels[checked]
        if self.node_labels is None:
            return checked.tolist()
        return [self.node_labels[i] for i in checked]

    # ------------------------------------------------------------- basic facts
    @property
    def num_edges(self) -> int:
        return int(self.edge_index.size(1))

    @property
    def num_features(self) -> int:
        return 0 if self.x is None else int(self.x.size(1))

    @property
    def device(self) -> torch.device:
        return self.edge_index.device

    def __repr__(self) -> str:
        parts = [f"num_nodes={self.num_nodes}", f"num_edges={self.num_edges}"]
        if self.x is not None:
            kind = "sparse" if self.x.layout != torch.strided else "dense"
            parts.append(f"num_features={self.num_features} ({kind})")
        if self.edge_weight is not None:
            parts.append("weighted")
        if self.y is not None:
            parts.append("y")
        parts += [m for m in _MASKS if getattr(self, m) is not None]
        label = f"{self.name}: " if self.name else ""
        return f"Graph({label}{', '.join(parts)})"

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """Value of ``build()`` computed once per graph and kept under ``key``."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    @property
    def csr(self) -> CSR:
        """In-neighbour CSR: row ``v`` lists the sources of edges into ``v``."""
        return self.cached("csr", lambda: CSR.from_coo(
            self.edge_index[1], self.edge_index[0], (self.num_nodes, self.num_nodes),
            self.edge_weight))

    @property
    def csc(self) -> CSR:
        """Out-neighbour CSR (the transpose of :attr:`csr`): row ``u`` lists targets."""
        return self.cached("csc", lambda: self.csr.t())

    def in_degree(self) -> Tensor:
        return self.csr.degree()

    def out_degree(self) -> Tensor:
        return self.csc.degree()

    def is_undirected(self) -> bool:
        """True when every edge ``u -> v`` has its reverse with the same weight."""
        a = self.to_scipy()
        return (a != a.T).nnz == 0

    def has_self_loops(self) -> bool:
        return bool((self.edge_index[0] == self.edge_index[1]).any())

    def replace(self, **changes: Any) -> "Graph":
        """A new, validated graph with some fields changed (caches not carried).

        Parameters
        ----------
        **changes
            Constructor arguments to change. A new ``edge_index`` without a new
            ``edge_weight`` drops the weights; everything else is kept.

        Returns
        -------
        Graph

        Examples
        --------
        >>> g = Graph([[0, 1], [1, 2]], edge_weight=[2.0, 3.0], name="path")
        >>> g.replace(edge_index=[[1], [0]])
        Graph(path: num_nodes=3, num_edges=1)
        """
        fields = dict(edge_index=self.edge_index, num_nodes=self.num_nodes, x=self.x,
                      edge_weight=self.edge_weight, y=self.y, name=self.name,
                      node_labels=self.node_labels,
                      **{m: getattr(self, m) for m in _MASKS})
        if "edge_index" in changes and "edge_weight" not in changes:
            fields["edge_weight"] = None
        fields.update(changes)
        ei = fields.pop("edge_index")
        n = fields.pop("num_nodes")
        return Graph(ei, n, **fields)

    def to(self, device: Any) -> "Graph":
        """The graph on ``device``: itself when already there, else a copy whose
        cached structures (CSR, normalisations) are moved along.

        Parameters
        ----------
        device : str or torch.device
            E.g. ``"cpu"``, ``"cuda:1"``.

        Returns
        -------
        Graph
            ``self`` or a copy with every tensor (and cached CSR) on ``device``;
            ``node_labels`` and ``name`` are shared.

        Examples
        --------
        >>> g = Graph([[0], [1]])
        >>> g.to("cpu") is g
        True
        """
        if self.device == torch.device(device):
            return self
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        out = Graph(move(self.edge_index), self.num_nodes, x=move(self.x),
                    edge_weight=move(self.edge_weight), y=move(self.y),
                    name=self.name, node_labels=self.node_labels,
                    **{m: move(getattr(self, m)) for m in _MASKS})
        out._cache = {k: v.to(device) for k, v in self._cache.items()
                      if isinstance(v, (Tensor, CSR))}
        return out

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("node_labels", None)  # graphs pickled before node labels
        self.__dict__.update(state)

    # ------------------------------------------------------------ conversions
    def to_scipy(self) -> sp.csr_matrix:
        """Adjacency ``A[u, v]`` = weight of edge ``u -> v`` (duplicates summed)."""
        ei = self.edge_index.cpu().numpy()
        w = (np.ones(self.num_edges, dtype=np.float32) if self.edge_weight is None
             else self.edge_weight.detach().cpu().numpy())
        return sp.csr_matrix((w, (ei[0], ei[1])), shape=(self.num_nodes,) * 2)

    def to_networkx(self, directed: Optional[bool] = None) -> Any:
        """A networkx (Di)Graph; ``weight`` on edges when the graph is weighted.

        Nodes are named by ``node_labels`` when the graph has them, else by id.

        Parameters
        ----------
        directed : bool, default=None
            None gives an undirected graph when the graph is symmetric.

        Returns
        -------
        networkx.Graph or networkx.DiGraph

        Examples
        --------
        >>> sorted(Graph([[0, 1], [1, 0]], node_labels=["a", "b"]).to_networkx().edges)
        [('a', 'b')]
        """
        import networkx as nx

        if directed is None:
            directed = not self.is_undirected()
        g = nx.DiGraph() if directed else nx.Graph()
        names = self.node_labels or range(self.num_nodes)
        g.add_nodes_from(names)
        src, dst = (self.label_of(ids) for ids in self.edge_index.cpu().numpy())
        if self.edge_weight is None:
            g.add_edges_from(zip(src, dst))
        else:
            w = self.edge_weight.detach().cpu().tolist()
            g.add_weighted_edges_from(zip(src, dst, w))
        return g

    def to_pyg(self) -> Any:
        """A ``torch_geometric.data.Data`` with the same fields (x densified)."""
        from torch_geometric.data import Data

        x = self.x
        if x is not None and x.layout != torch.strided:
            x = x.to_dense()
        data = Data(x=x, edge_index=self.edge_index, y=self.y, num_nodes=self.num_nodes)
        if self.edge_weight is not None:
            data.edge_weight = self.edge_weight
        for m in _MASKS:
            if getattr(self, m) is not None:
                data[m] = getattr(self, m)
        return data


def as_graph(obj: Any, *, num_nodes: Optional[int] = None,
             weight: Optional[str] = "weight") -> Graph:
    """Reads a :class:`Graph` from the graph types of numpy, scipy, torch, networkx
    and PyG.

    - a :class:`Graph`: returned as is;
    - a ``[2, E]`` edge_index (torch, numpy, lists);
    - a square adjacency ``A`` as scipy.sparse, torch sparse (COO / CSR / CSC) or
      ``torch_sparse.SparseTensor``: an edge ``u -> v`` for each stored ``A[u, v]``
      with that weight (weights that are all 1 are dropped);
    - a networkx graph: nodes numbered in ``G.nodes`` order and kept as
      ``node_labels``; an undirected graph gives both directions of each edge; the
      edge attribute named by ``weight`` becomes ``edge_weight`` (1 where an edge
      lacks it); node attributes ``x`` and ``y`` become features and targets when
      every node has them;
    - a PyG ``Data`` (or ``Batch``, or any subclass): ``x``, ``y``, masks, and
      ``edge_weight``, else a ``[E]`` or ``[E, 1]`` ``edge_attr``, as weights (wider
      edge features are not read). ``HeteroData`` raises: convert it with
      ``to_homogeneous()`` first.

    Parameters
    ----------
    obj : object
        The graph.
    num_nodes : int, default=None
        The node count, for an edge_index or adjacency (a Graph must already have
        it); None infers it.
    weight : str or None, default="weight"
        The networkx edge attribute read as the weight; None reads no weights.

    Returns
    -------
    Graph

    Raises
    ------
    ValueError
        An unsupported type, a non-square adjacency, a heterogeneous graph, a
        non-numeric weight, or anything :class:`Graph` refuses.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_edge("a", "b", weight=2.0)
    >>> G.add_edge("b", "c")
    >>> g = as_graph(G)
    >>> g.node_labels, g.edge_weight.tolist()
    (['a', 'b', 'c'], [2.0, 2.0, 1.0, 1.0])
    >>> as_graph(G, weight=None).edge_weight is None
    True
    """
    if isinstance(obj, Graph):
        if num_nodes is not None and num_nodes != obj.num_nodes:
            raise ValueError(f"graph has {obj.num_nodes} nodes, expected {num_nodes}")
        return obj
    if obj is None:
        raise ValueError("graph is None: pass a Graph, networkx graph, scipy.sparse "
                         "matrix, torch sparse adjacency, PyG Data or edge_index")
    if sp.issparse(obj):
        return _from_scipy(obj, num_nodes)
    if isinstance(obj, Tensor) and obj.layout != torch.strided:
        return _from_torch_sparse(obj, num_nodes)
    nx = sys.modules.get("networkx")
    if nx is not None and isinstance(obj, nx.Graph):
        return _from_networkx(obj, weight)
    pyg = sys.modules.get("torch_geometric.data")
    if pyg is not None and isinstance(obj, pyg.HeteroData):
        raise ValueError("heterogeneous graphs (HeteroData) are not supported: convert "
                         "with data.to_homogeneous() or select one edge type")
    if pyg is not None and isinstance(obj, pyg.Data):
        return _from_pyg(obj)
    torch_sparse = sys.modules.get("torch_sparse")
    if torch_sparse is not None and isinstance(obj, torch_sparse.SparseTensor):
        row, col, value = obj.coo()
        return _from_coo(row, col, value, tuple(obj.sizes()), num_nodes)
    if isinstance(obj, (Tensor, np.ndarray, list, tuple)):
        return Graph(obj, num_nodes)
    raise ValueError(f"cannot read a graph from {type(obj).__name__}")


def _from_coo(row: Any, col: Any, values: Any, shape: tuple,
              num_nodes: Optional[int]) -> Graph:
    """A graph from the stored entries of a square adjacency matrix."""
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"adjacency matrix must be square, got shape {tuple(shape)}")
    ei = torch.stack([torch.as_tensor(row), torch.as_tensor(col)]).to(torch.long)
    weight = None
    if values is not None:
        w = torch.as_tensor(values)
        if w.dim() != 1:
            raise ValueError(f"adjacency values must be scalars, got shape "
                             f"{tuple(w.shape)} per entry")
        if w.is_complex():
            raise ValueError(f"adjacency values must be real, got {w.dtype}")
        weight = None if w.dtype == torch.bool or bool((w == 1).all()) else w.float()
    return Graph(ei, num_nodes if num_nodes is not None else shape[0], edge_weight=weight)


def _from_scipy(a: Any, num_nodes: Optional[int]) -> Graph:
    coo = sp.coo_matrix(a)
    data = coo.data
    if data.dtype.kind not in "biuf":
        raise ValueError(f"adjacency values must be real numbers, got {data.dtype}")
    return _from_coo(torch.from_numpy(coo.row.astype(np.int64)),
                     torch.from_numpy(coo.col.astype(np.int64)),
                     torch.from_numpy(np.asarray(data, dtype=np.float32)),
                     a.shape, num_nodes)


def _from_torch_sparse(a: Tensor, num_nodes: Optional[int]) -> Graph:
    if a.layout not in (torch.sparse_coo, torch.sparse_csr, torch.sparse_csc):
        raise ValueError(f"unsupported sparse layout {a.layout} for an adjacency")
    coo = (a if a.layout == torch.sparse_coo else a.to_sparse_coo()).coalesce()
    return _from_coo(coo.indices()[0], coo.indices()[1], coo.values(),
                     tuple(a.shape), num_nodes)


def _edge_weights(g: Any, weight: Optional[str]) -> Optional[list]:
    """The ``weight`` attribute of every edge (1 where missing), or None when no edge
    has it; a non-numeric value raises naming the edge."""
    if weight is None or not any(weight in d for *_, d in g.edges(data=True)):
        return None
    values = []
    for u, v, w in g.edges(data=weight, default=1.0):
        if isinstance(w, (bool, np.bool_)) or not isinstance(w, numbers.Real):
            raise ValueError(f"edge ({u!r}, {v!r}) has {weight}={w!r:.40}; edge weights "
                             "must be real numbers")
        values.append(float(w))
    return values


def _from_networkx(g: Any, weight: Optional[str]) -> Graph:
    nodes = list(g.nodes)
    if not nodes:
        raise ValueError("the graph is empty: the networkx graph has no nodes")
    ids = {v: i for i, v in enumerate(nodes)}
    weights = _edge_weights(g, weight)
    src, dst, w = [], [], []
    for k, (u, v) in enumerate(g.edges()):
        pairs = [(ids[u], ids[v])]
        if not g.is_directed() and u != v:
            pairs.append((ids[v], ids[u]))
        for a, b in pairs:
            src.append(a)
            dst.append(b)
            if weights is not None:
                w.append(weights[k])
    ei = np.array([src, dst], dtype=np.int64).reshape(2, -1)
    attrs = {}
    for key in ("x", "y"):
        values = [g.nodes[v].get(key) for v in nodes]
        if nodes and all(val is not None for val in values):
            attrs[key] = np.asarray(values)
    return Graph(ei, len(nodes), edge_weight=None if weights is None else
                 np.asarray(w, np.float32), node_labels=nodes, **attrs)


def _from_pyg(data: Any) -> Graph:
    if getattr(data, "edge_index", None) is None:
        raise ValueError(f"{type(data).__name__} has no edge_index")
    weight = getattr(data, "edge_weight", None)
    if weight is None:
        attr = getattr(data, "edge_attr", None)
        if attr is not None and (attr.dim() == 1 or (attr.dim() == 2 and attr.size(1) == 1)):
            weight = attr.reshape(-1)
    masks = {m: data[m] for m in _MASKS if m in data}
    return Graph(data.edge_index, data.num_nodes, x=getattr(data, "x", None),
                 edge_weight=weight, y=getattr(data, "y", None), **masks)
