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

from typing import Any, Callable, Optional

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from ..ops.csr import CSR

__all__ = ["Graph", "as_graph", "features_to_tensor"]

_MASKS = ("train_mask", "val_mask", "test_mask")


def _tensor(name: str, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    try:
        return torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} could not be read as an array: {err}") from None


def features_to_tensor(x: Any, name: str = "x") -> Tensor:
    """Dense arrays become float tensors; scipy / torch sparse become torch CSR.

    Sparse features stay sparse (never densified): layers multiply them with
    sparse kernels. NaN or infinite entries raise ``ValueError``.
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
    if t.layout == torch.sparse_csr:
        values = t.values()
        if not values.is_floating_point():
            t = torch.sparse_csr_tensor(t.crow_indices(), t.col_indices(),
                                        values.float(), t.shape,
                                        check_invariants=False)
            values = t.values()
    else:
        if t.dtype == torch.bool or not (t.is_floating_point() or t.is_complex()):
            if t.dtype == torch.bool or t.dtype.is_signed or t.dtype == torch.uint8:
                t = t.float()
        if not t.is_floating_point():
            raise ValueError(f"{name} must be numeric, got {t.dtype}")
        values = t
    if values.numel() and not bool(torch.isfinite(values).all()):
        bad = (~torch.isfinite(t)).nonzero()[0].tolist() if t.layout == torch.strided \
            else None
        where = f" (first at row {bad[0]}, column {bad[1]})" if bad else ""
        raise ValueError(f"{name} contains NaN or infinite values{where}")
    return t


class Graph:
    r"""A graph with optional node features, labels, edge weights and split masks.

    Args:
        edge_index: ``[2, E]`` integer array of ``source, target`` pairs.
        num_nodes: number of nodes (default: ``x``'s rows, else the largest id + 1).
        x: node features ``[N, F]``: dense, scipy.sparse or torch sparse.
        edge_weight: ``[E]`` finite weights, one per edge.
        y: node labels ``[N]`` (or ``[N, ...]``).
        train_mask, val_mask, test_mask: boolean ``[N]`` masks.
        name: free-form name shown in reports.

    The in-neighbour :attr:`csr` and out-neighbour :attr:`csc` are built on first
    use and cached, so every layer and epoch reuses them.
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
    ) -> None:
        ei = _tensor("edge_index", edge_index)
        if ei.dim() != 2 or ei.size(0) != 2:
            raise ValueError(
                f"edge_index must have shape [2, num_edges], got {tuple(ei.shape)}")
        if ei.is_floating_point() or ei.dtype == torch.bool or ei.is_complex():
            raise ValueError(f"edge_index must hold integers, got {ei.dtype}")
        ei = ei.to(torch.long).contiguous()
        self.x: Optional[Tensor] = None if x is None else features_to_tensor(x)
        if num_nodes is None:
            if self.x is not None:
                num_nodes = self.x.size(0)
            else:
                num_nodes = int(ei.max()) + 1 if ei.numel() else 0
        num_nodes = int(num_nodes)
        if num_nodes <= 0:
            raise ValueError("the graph is empty: it has no nodes")
        if ei.numel():
            lo = int(ei.min())
            if lo < 0:
                col = int((ei < 0).any(0).nonzero()[0])
                raise ValueError(f"edge_index has a negative node id ({lo}) at edge {col}")
            hi = int(ei.max())
            if hi >= num_nodes:
                col = int((ei >= num_nodes).any(0).nonzero()[0])
                raise ValueError(
                    f"edge_index has node id {hi} but num_nodes is {num_nodes} "
                    f"(first bad edge: {col})")
        self.edge_index: Tensor = ei
        self.num_nodes: int = num_nodes
        if self.x is not None and self.x.size(0) != num_nodes:
            raise ValueError(
                f"x has {self.x.size(0)} rows but the graph has {num_nodes} nodes")
        self.edge_weight: Optional[Tensor] = None
        if edge_weight is not None:
            w = _tensor("edge_weight", edge_weight)
            if w.dim() != 1 or w.numel() != ei.size(1):
                raise ValueError(
                    f"edge_weight must have shape [{ei.size(1)}] (one per edge), "
                    f"got {tuple(w.shape)}")
            w = w.float() if not w.is_floating_point() else w
            if not bool(torch.isfinite(w).all()):
                bad = int((~torch.isfinite(w)).nonzero()[0])
                raise ValueError(f"edge_weight contains NaN or inf (first at edge {bad})")
            self.edge_weight = w
        self.y: Optional[Tensor] = None
        if y is not None:
            yt = _tensor("y", y)
            if yt.dim() == 0 or yt.size(0) != num_nodes:
                raise ValueError(
                    f"y must have one entry per node ({num_nodes}), got shape "
                    f"{tuple(yt.shape)}")
            if yt.is_floating_point() and not bool(torch.isfinite(yt).all()):
                raise ValueError("y contains NaN or infinite values")
            self.y = yt
        for mask_name, mask in zip(_MASKS, (train_mask, val_mask, test_mask)):
            setattr(self, mask_name, None if mask is None
                    else self._check_mask(mask_name, mask))
        self.name = name
        self._cache: dict[Any, Any] = {}

    def _check_mask(self, name: str, mask: Any) -> Tensor:
        m = _tensor(name, mask)
        if m.dtype != torch.bool:
            raise ValueError(f"{name} must be boolean, got {m.dtype}")
        if m.shape != (self.num_nodes,):
            raise ValueError(
                f"{name} must have shape [{self.num_nodes}], got {tuple(m.shape)}")
        return m

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
        """A new, validated graph with some fields changed (caches not carried)."""
        fields = dict(edge_index=self.edge_index, num_nodes=self.num_nodes, x=self.x,
                      edge_weight=self.edge_weight, y=self.y, name=self.name,
                      **{m: getattr(self, m) for m in _MASKS})
        if "edge_index" in changes and "edge_weight" not in changes:
            fields["edge_weight"] = None
        fields.update(changes)
        ei = fields.pop("edge_index")
        n = fields.pop("num_nodes")
        return Graph(ei, n, **fields)

    def to(self, device: Any) -> "Graph":
        """The graph on ``device``: itself when already there, else a copy whose
        cached structures (CSR, normalisations) are moved along."""
        if self.device == torch.device(device):
            return self
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        out = Graph(move(self.edge_index), self.num_nodes, x=move(self.x),
                    edge_weight=move(self.edge_weight), y=move(self.y),
                    name=self.name, **{m: move(getattr(self, m)) for m in _MASKS})
        out._cache = {k: v.to(device) for k, v in self._cache.items()
                      if isinstance(v, (Tensor, CSR))}
        return out

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state

    # ------------------------------------------------------------ conversions
    def to_scipy(self) -> sp.csr_matrix:
        """Adjacency ``A[u, v]`` = weight of edge ``u -> v`` (duplicates summed)."""
        ei = self.edge_index.cpu().numpy()
        w = (np.ones(self.num_edges, dtype=np.float32) if self.edge_weight is None
             else self.edge_weight.detach().cpu().numpy())
        return sp.csr_matrix((w, (ei[0], ei[1])), shape=(self.num_nodes,) * 2)

    def to_networkx(self, directed: Optional[bool] = None) -> Any:
        """A networkx (Di)Graph; ``weight`` on edges when the graph is weighted.

        ``directed=None`` gives an undirected graph when the graph is symmetric.
        """
        import networkx as nx

        if directed is None:
            directed = not self.is_undirected()
        g = nx.DiGraph() if directed else nx.Graph()
        g.add_nodes_from(range(self.num_nodes))
        ei = self.edge_index.cpu().tolist()
        if self.edge_weight is None:
            g.add_edges_from(zip(ei[0], ei[1]))
        else:
            w = self.edge_weight.detach().cpu().tolist()
            g.add_weighted_edges_from(zip(ei[0], ei[1], w))
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


def as_graph(obj: Any, *, num_nodes: Optional[int] = None) -> Graph:
    """Reads a :class:`Graph` from a Graph, networkx graph, scipy.sparse adjacency,
    PyG ``Data`` or a ``[2, E]`` edge_index array.

    networkx nodes are numbered in ``G.nodes`` order; an undirected networkx graph
    gives both directions of each edge; a ``weight`` edge attribute becomes
    ``edge_weight``; node attributes ``x`` and ``y`` become features and labels when
    every node has them. A scipy matrix ``A`` gives an edge ``u -> v`` for each
    stored ``A[u, v]`` with that weight (weights of 1 everywhere are dropped).
    """
    if isinstance(obj, Graph):
        if num_nodes is not None and num_nodes != obj.num_nodes:
            raise ValueError(f"graph has {obj.num_nodes} nodes, expected {num_nodes}")
        return obj
    if obj is None:
        raise ValueError("graph is None: pass a Graph, networkx graph, scipy.sparse "
                         "matrix, PyG Data or edge_index")
    if sp.issparse(obj):
        return _from_scipy(obj, num_nodes)
    module = type(obj).__module__
    if module.startswith("networkx"):
        return _from_networkx(obj)
    if module.startswith("torch_geometric"):
        return _from_pyg(obj)
    if isinstance(obj, (Tensor, np.ndarray, list, tuple)):
        return Graph(obj, num_nodes)
    raise ValueError(f"cannot read a graph from {type(obj).__name__}")


def _from_scipy(a: Any, num_nodes: Optional[int]) -> Graph:
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency matrix must be square, got shape {a.shape}")
    coo = sp.coo_matrix(a)
    ei = np.vstack([coo.row, coo.col]).astype(np.int64)
    data = np.asarray(coo.data, dtype=np.float32)
    weight = None if np.all(data == 1) else data
    return Graph(ei, num_nodes if num_nodes is not None else a.shape[0],
                 edge_weight=weight)


def _from_networkx(g: Any) -> Graph:
    nodes = list(g.nodes)
    ids = {v: i for i, v in enumerate(nodes)}
    src, dst, w = [], [], []
    weighted = g.number_of_edges() > 0 and all(
        "weight" in d for _, _, d in g.edges(data=True))
    for u, v, d in g.edges(data=True):
        src.append(ids[u])
        dst.append(ids[v])
        w.append(d.get("weight", 1.0))
        if not g.is_directed() and u != v:
            src.append(ids[v])
            dst.append(ids[u])
            w.append(d.get("weight", 1.0))
    ei = np.array([src, dst], dtype=np.int64).reshape(2, -1)
    attrs = {}
    for key in ("x", "y"):
        values = [g.nodes[v].get(key) for v in nodes]
        if nodes and all(val is not None for val in values):
            attrs[key] = np.asarray(values)
    return Graph(ei, len(nodes), edge_weight=np.asarray(w, np.float32) if weighted else None,
                 **attrs)


def _from_pyg(data: Any) -> Graph:
    weight = getattr(data, "edge_weight", None)
    if weight is None:
        attr = getattr(data, "edge_attr", None)
        if attr is not None and attr.dim() == 1:
            weight = attr
    masks = {m: data[m] for m in _MASKS if m in data}
    return Graph(data.edge_index, data.num_nodes, x=getattr(data, "x", None),
                 edge_weight=weight, y=getattr(data, "y", None), **masks)
