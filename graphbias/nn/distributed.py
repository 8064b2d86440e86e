r"""Data-parallel GNN training over graph partitions with ``torch.distributed``.

Each process owns one part of the nodes and holds the :math:`L`-hop in-neighbourhood
(the *halo*) of its part: exactly the nodes and edges an :math:`L`-layer
message-passing network reads to compute its own nodes' outputs. Normalisations
that depend on the whole graph (GCN's degrees) are computed on the whole graph and
carried into the halo graph, so the outputs of owned nodes equal those of
full-graph training. The loss of a process is its owned training nodes' summed
loss divided by the global number of training nodes, times the world size, so that
``DistributedDataParallel``'s gradient average is the full-batch gradient.

Parts are contiguous ranges of a reverse Cuthill-McKee order, which keeps
neighbours together and so keeps halos small. Launch one process per part with
``torchrun --nproc-per-node 2 script.py`` on one machine, or
``torchrun --nnodes 2 --node-rank R --rdzv-endpoint HEAD:29500 ...`` across machines;
each process loads the graph and calls ``fit`` with ``distributed=True``.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..data import Graph
from ..data.transforms import gcn_norm, gcn_norm_key
from ..ops.csr import CSR
from .functional import Features

__all__ = ["partition_nodes", "halo_partition", "local_partition", "HaloPartition",
           "rows_of", "world", "all_reduce_sum", "broadcast_object", "fit_on_processes",
           "Shard", "shard", "shared_loss", "reduced_loss", "reduced_validation"]


class HaloPartition(NamedTuple):
    """One process's view: ``graph`` on local ids, ``nodes[i]`` the global id of local
    node ``i``; local nodes ``0 .. num_owned - 1`` are the owned part."""

    graph: Graph
    nodes: Tensor
    num_owned: int

    def owned_mask(self) -> Tensor:
        mask = torch.zeros(self.nodes.numel(), dtype=torch.bool)
        mask[: self.num_owned] = True
        return mask


def partition_nodes(graph: Graph, num_parts: int) -> Tensor:
    """Part id ``[N]`` of every node: ``num_parts`` contiguous, equal-sized ranges of
    a reverse Cuthill-McKee order of the symmetrised graph."""
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    if num_parts < 1 or num_parts > graph.num_nodes:
        raise ValueError(f"num_parts must be in [1, {graph.num_nodes}], got {num_parts}")
    a = graph.to_scipy()
    order = reverse_cuthill_mckee((a + a.T).tocsr(), symmetric_mode=True)
    part = np.empty(graph.num_nodes, dtype=np.int64)
    part[order] = np.arange(graph.num_nodes) * num_parts // graph.num_nodes
    return torch.from_numpy(part)


def _row_positions(csr: CSR, rows: Tensor) -> Tensor:
    """Positions in ``csr.indices`` of the entries of ``rows``, row after row."""
    starts, counts = csr.indptr[rows], csr.indptr[rows + 1] - csr.indptr[rows]
    offsets = torch.repeat_interleave(starts - (torch.cumsum(counts, 0) - counts), counts)
    return torch.arange(int(counts.sum())) + offsets


def halo_partition(graph: Graph, owned: Tensor, num_hops: int) -> HaloPartition:
    """The induced graph on ``owned`` nodes and their ``num_hops``-hop in-neighbours,
    with the whole graph's GCN normalisation seeded into its cache."""
    owned = torch.as_tensor(owned, dtype=torch.long).unique()
    seen = torch.zeros(graph.num_nodes, dtype=torch.bool)
    seen[owned] = True
    order, frontier = [owned], owned
    for _ in range(num_hops):
        src = graph.csr.indices[_row_positions(graph.csr, frontier)]
        frontier = src[~seen[src]].unique()
        seen[frontier] = True
        order.append(frontier)
    nodes = torch.cat(order)
    local = torch.full((graph.num_nodes,), -1, dtype=torch.long)
    local[nodes] = torch.arange(nodes.numel())
    ei = graph.edge_index
    keep = seen[ei[0]] & seen[ei[1]]
    weight = None if graph.edge_weight is None else graph.edge_weight[keep]
    sub = Graph(local[ei[:, keep]], nodes.numel(), edge_weight=weight)
    full = gcn_norm(graph)
    row = full.row()
    inside = seen[row] & seen[full.indices]
    restricted = CSR.from_coo(local[row[inside]], local[full.indices[inside]],
                              (nodes.numel(), nodes.numel()), full.values[inside])
    sub.cached(gcn_norm_key(), lambda: restricted)
    return HaloPartition(sub, nodes, owned.numel())


def rows_of(x: Features, nodes: Tensor) -> Features:
    """Rows ``nodes`` of a dense tensor or of a sparse :class:`CSR` feature matrix."""
    if not isinstance(x, CSR):
        return x.index_select(0, nodes)
    picked = _row_positions(x, nodes)
    counts = x.indptr[nodes + 1] - x.indptr[nodes]
    indptr = torch.zeros(nodes.numel() + 1, dtype=torch.long)
    torch.cumsum(counts, 0, out=indptr[1:])
    values = None if x.values is None else x.values[picked]
    return CSR(indptr, x.indices[picked], (nodes.numel(), x.num_cols), values)


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of the initialised default process group."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        raise ValueError("distributed=True needs torch.distributed initialised "
                         "(torchrun, or torch.distributed.init_process_group) before fit")
    return dist.get_rank(), dist.get_world_size()


def all_reduce_sum(*values: float) -> list[float]:
    """Sums floats over all processes (float64, so counts stay exact)."""
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return t.tolist()


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """``obj`` of process ``src``, sent to every process (pickled)."""
    import torch.distributed as dist

    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def local_partition(graph: Graph, num_hops: int, rank: int, world_size: int,
                    part: Optional[Tensor] = None) -> HaloPartition:
    """This process's halo partition (parts from :func:`partition_nodes` by default)."""
    part = partition_nodes(graph, world_size) if part is None else part
    return halo_partition(graph, (part == rank).nonzero().view(-1), num_hops)


class Shard(NamedTuple):
    """One process's part of data-parallel node-level training: the halo view
    (``x``, ``graph``, ``y``, the ``train`` / ``val`` masks restricted to owned
    nodes), ``nodes`` (global id of each local node), ``owned`` (local mask), the
    world ``size``, ``total`` training nodes over all processes and the module to
    step (``DistributedDataParallel``). In one process: the data as given,
    ``None``, ``None``, 1, 0 and the module itself."""

    x: Features
    graph: Graph
    y: Tensor
    train: Tensor
    val: Optional[Tensor]
    nodes: Optional[Tensor]
    owned: Optional[Tensor]
    size: int
    total: float
    model: torch.nn.Module


def shard(x: Features, graph: Graph, y: Tensor, train: Tensor, val: Optional[Tensor],
          module: torch.nn.Module, num_hops: int, distributed: bool) -> Shard:
    """What this process trains on: with ``distributed``, its ``num_hops`` halo view
    of the data and ``module`` wrapped in ``DistributedDataParallel``; otherwise
    everything as given (world size 1, ``total`` 0, no ``nodes`` / ``owned``)."""
    if not distributed:
        return Shard(x, graph, y, train, val, None, None, 1, 0.0, module)
    from torch.nn.parallel import DistributedDataParallel

    rank, size = world()
    part = local_partition(graph, num_hops, rank, size)
    owned = part.owned_mask()
    keep = lambda m: None if m is None else m[part.nodes] & owned  # noqa: E731
    train = keep(train)
    return Shard(rows_of(x, part.nodes), part.graph, y[part.nodes], train, keep(val),
                 part.nodes, owned, size, all_reduce_sum(float(train.sum()))[0],
                 DistributedDataParallel(module))


def shared_loss(logits: Tensor, y: Tensor, total: float, size: int) -> Tensor:
    """Mean cross-entropy; distributed (``total`` > 0): this part's share scaled so
    that the average of the processes' gradients is the full-batch gradient."""
    if total == 0:
        return F.cross_entropy(logits, y)
    return F.cross_entropy(logits, y, reduction="sum") * (size / total)


def reduced_loss(loss: float, size: int) -> float:
    """The full-batch training loss: the processes' scaled losses averaged."""
    return all_reduce_sum(loss / size)[0]


def reduced_validation(val_loss: float, val_hits: float, count: float,
                       distributed: bool) -> dict[str, float]:
    """Mean validation loss and accuracy from this process's sums and node count,
    summed over the processes when ``distributed``."""
    if distributed:
        val_loss, val_hits, count = all_reduce_sum(val_loss, val_hits, count)
    return {"val_loss": val_loss / count, "val_acc": val_hits / count}


def _fit_worker(rank: int, size: int, init: str, out: str, estimator: Any,
                args: tuple, kwargs: dict, threads: int, timeout: float) -> None:
    import datetime
    import pickle

    import torch.distributed as dist

    torch.set_num_threads(threads)
    dist.init_process_group("gloo", init_method=f"file://{init}", rank=rank,
                            world_size=size, timeout=datetime.timedelta(seconds=timeout))
    try:
        fitted = estimator.set_params(distributed=True).fit(*args, **kwargs)
        if rank == 0:
            with open(out, "wb") as f:
                pickle.dump(fitted, f)
        # no process tears the group down while another still talks to it
        dist.barrier()
    finally:
        dist.destroy_process_group()


def fit_on_processes(estimator: Any, *args: Any, nprocs: int = 2,
                     threads: Optional[int] = None, timeout: float = 900.0,
                     **kwargs: Any) -> Any:
    """Fits ``estimator`` (with ``distributed=True``) in ``nprocs`` gloo processes on
    this machine and returns the fitted estimator of rank 0 (all ranks end equal).

    Parameters
    ----------
    estimator : estimator with a ``distributed`` parameter
        Fitted in every process with ``distributed=True``.
    *args, **kwargs
        Passed to ``fit`` in every process.
    nprocs : int, default=2
        Number of processes.
    threads : int, optional
        Torch threads per process (default: the cores divided by ``nprocs``).
    timeout : float, default=900
        Seconds a collective may wait for a slow process before the run fails (a
        loaded machine makes processes drift apart).

    Returns
    -------
    The fitted estimator of rank 0. Across machines use ``torchrun``.
    """
    import os
    import pickle
    import tempfile

    import torch.multiprocessing as mp

    threads = threads or max(1, (os.cpu_count() or 1) // nprocs)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "fitted.pkl")
        mp.spawn(_fit_worker, args=(nprocs, os.path.join(tmp, "init"), out, estimator,
                                    args, kwargs, threads, timeout), nprocs=nprocs)
        with open(out, "rb") as f:
            return pickle.load(f)
