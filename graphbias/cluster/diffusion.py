"""The result of a local diffusion and the bookkeeping its push loops share."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Diffusion"]


@dataclass
class Diffusion:
    """A sparse diffusion vector and what computing it cost.

    Attributes:
        nodes: ids of the nodes the diffusion touched (received mass), sorted.
        values: the diffusion's value at ``nodes`` (PageRank mass ``p`` or flow
            potential ``x``); every other node has value 0.
        scores: the values the sweep ranks nodes by (``p / d`` for PageRank,
            ``x`` for flow diffusion).
        touched: number of nodes that received mass (``nodes.size``); only their
            neighbour lists are ever read.
        edges_scanned: stored entries read by pushes.
        rounds: push rounds (each pushes every node above threshold at once).
        residual: the largest remaining residual (PageRank: ``r / (epsilon d)``) or
            excess (flow: ``(m - T) / T``), relative to its threshold unit.
    """

    nodes: np.ndarray
    values: np.ndarray
    scores: np.ndarray
    touched: int
    edges_scanned: int
    rounds: int
    residual: float

    def to_dense(self, num_nodes: int) -> np.ndarray:
        """The diffusion as a dense length-``num_nodes`` vector."""
        out = np.zeros(num_nodes)
        out[self.nodes] = self.values
        return out

    @property
    def support(self) -> np.ndarray:
        """Nodes with a positive value."""
        return self.nodes[self.values > 0]


class Frontier:
    """Records the nodes a push loop writes to, so scratch arrays can be reset."""

    def __init__(self, seen: np.ndarray, stamp: np.ndarray, first: np.ndarray) -> None:
        self.seen = seen
        self.stamp = stamp
        self.parts = [first]
        seen[first] = True
        self.count = first.size
        self.edges = 0

    def add(self, nbrs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Marks ``nbrs`` as touched; returns them without repeats (in no order) and
        the ones touched for the first time.

        Repeats are dropped without sorting: each id keeps the position of its last
        occurrence, written into ``stamp`` (entries read are always fresh)."""
        self.edges += nbrs.size
        where = np.arange(nbrs.size)
        self.stamp[nbrs] = where
        cand = nbrs[self.stamp[nbrs] == where]
        new = cand[~self.seen[cand]]
        if new.size:
            self.seen[new] = True
            self.parts.append(new)
            self.count += new.size
        return cand, new

    def nodes(self) -> np.ndarray:
        return np.sort(np.concatenate(self.parts))
