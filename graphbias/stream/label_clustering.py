"""Online divisive-agglomerative clustering of labels by co-occurrence (ODAC-style).

Counts are kept incrementally: ``n`` instances and ``C[i, j]`` = number of instances
where labels ``i`` and ``j`` are both on (``C[i, i]`` = occurrences of ``i``). Every
node of the hierarchy snapshots ``C`` on its labels when it is created, so its
statistics cover exactly the instances seen since then. The distance between labels is

    d(i, j) = 1 - J(i, j),   J(i, j) = C_ij / (C_ii + C_jj - C_ij)   (0 when never seen),

which lies in [0, 1], so the Hoeffding bound after ``n`` instances is
``eps = sqrt(ln(1/delta) / (2 n))``. The leaves of the hierarchy are the clusters:
disjoint, and together every label.

- Split (ODAC): with ``d1 > d2`` the two largest and ``d0`` the smallest distance in a
  leaf, and ``dbar`` their mean, the leaf splits when the farthest pair is settled,
  ``d1 - d2 > eps`` or ``eps < tau``, and the leaf is heterogeneous,
  ``(d1 - d0) |(d1 - dbar) - (dbar - d0)| > eps``. A two-label leaf splits when its
  pair is confidently unrelated, ``d1 - eps > 1 - min_jaccard``. The farthest pair
  are the pivots; every other label joins the group at the smaller mean distance.
- Merge: a node whose children are leaves collapses back into one leaf when the mean
  distance across its children is confidently below the mean distance within them,
  ``dx + eps < dw`` (for two single labels ``dw = 1 - min_jaccard``): the split no
  longer separates the labels that go together.
- Drift: :meth:`restructure` collapses the parent of a cluster whose error changed
  (a drift detected by its ADWIN) into one leaf with fresh statistics, so the labels
  are re-partitioned on post-drift co-occurrences only.

``assignment="random"`` keeps the same split and merge decisions but deals the labels
to the two groups at random (same group sizes): the ablation of the Jaccard grouping.
"""
from __future__ import annotations

from typing import Iterator, Optional

import numpy as np

__all__ = ["OnlineLabelClustering"]


class _Node:
    """A node of the label hierarchy; a leaf is a cluster."""

    __slots__ = ("labels", "n0", "C0", "children", "parent", "since", "id")

    def __init__(self, labels: np.ndarray, n0: int, C0: np.ndarray, parent: Optional["_Node"],
                 since: int, node_id: int) -> None:
        self.labels = labels
        self.n0 = n0
        self.C0 = C0
        self.children: list[_Node] = []
        self.parent = parent
        self.since = since
        self.id = node_id

    def is_leaf(self) -> bool:
        return not self.children


class OnlineLabelClustering:
    """Disjoint label clusters that follow the co-occurrence of labels in a stream.

    ``update(on)`` takes the indices of the labels that are on in one instance;
    ``clusters()`` gives the current clusters. Labels are added with ``add_labels``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> olc = OnlineLabelClustering(grace_period=50)
    >>> olc.add_labels(4)
    >>> for _ in range(1000):   # labels 0,1 appear together, and 2,3 together
    ...     a, b = rng.random(2) < 0.5
    ...     olc.update([i for i, on in enumerate([a, a, b, b]) if on])
    >>> sorted(sorted(c.tolist()) for _, c, _ in olc.clusters())
    [[0, 1], [2, 3]]
    """

    def __init__(self, grace_period: int = 100, delta: float = 0.1, tau: float = 0.1,
                 min_jaccard: float = 0.1, assignment: str = "jaccard",
                 random_state: Optional[int] = None) -> None:
        if grace_period < 1:
            raise ValueError(f"grace_period must be >= 1, got {grace_period}")
        if not 0.0 < delta < 1.0:
            raise ValueError(f"delta must be in (0, 1), got {delta}")
        if not 0.0 <= min_jaccard < 1.0:
            raise ValueError(f"min_jaccard must be in [0, 1), got {min_jaccard}")
        if assignment not in ("jaccard", "random"):
            raise ValueError(f"assignment must be 'jaccard' or 'random', got {assignment!r}")
        self.grace_period = grace_period
        self.delta = delta
        self.tau = tau
        self.min_jaccard = min_jaccard
        self.assignment = assignment
        self.n = 0
        self.C = np.zeros((0, 0), dtype=np.int64)
        self.root: Optional[_Node] = None
        self.n_splits = 0
        self.n_merges = 0
        self._next_id = 0
        self._rng = np.random.default_rng(random_state)
        self._leaves: Optional[list[_Node]] = None   # cached until the hierarchy changes

    # ---------------------------------------------------------------- structure
    def _new_node(self, labels: np.ndarray, parent: Optional[_Node], since: int) -> _Node:
        node = _Node(labels, self.n, self.C[np.ix_(labels, labels)].copy(), parent, since,
                     self._next_id)
        self._next_id += 1
        return node

    def add_labels(self, k: int) -> None:
        """Adds ``k`` labels; they join the largest cluster (the first ones form the
        root), from which the split test separates them once they are confidently
        unrelated to it. Their counts start at zero, so every node's statistics for
        them cover exactly the instances since they appeared."""
        if k <= 0:
            return
        self._leaves = None
        L = self.C.shape[0]
        C = np.zeros((L + k, L + k), dtype=np.int64)
        C[:L, :L] = self.C
        self.C = C
        new = np.arange(L, L + k)
        if self.root is None:
            self.root = self._new_node(new, None, self.n)
            return
        leaf = max(self.leaves(), key=lambda nd: len(nd.labels))
        node: Optional[_Node] = leaf
        while node is not None:
            m = len(node.labels)
            C0 = np.zeros((m + k, m + k), dtype=np.int64)
            C0[:m, :m] = node.C0
            node.C0 = C0
            node.labels = np.concatenate([node.labels, new])
            node = node.parent

    def leaves(self) -> list[_Node]:
        """The leaves of the hierarchy (the clusters), left to right."""
        if self._leaves is None:
            self._leaves = self._find_leaves()
        return list(self._leaves)

    def _find_leaves(self) -> list[_Node]:
        out: list[_Node] = []
        stack = [self.root] if self.root is not None else []
        while stack:
            node = stack.pop()
            if node.is_leaf():
                out.append(node)
            else:
                stack.extend(reversed(node.children))
        return out

    def clusters(self) -> list[tuple[int, np.ndarray, int]]:
        """``(cluster id, label indices, since)`` for each cluster; ``since`` is the
        instance count at which the cluster's labels last restarted after a drift."""
        return [(nd.id, nd.labels, nd.since) for nd in self.leaves()]

    def partition(self) -> list[list[int]]:
        """The clusters as sorted lists of label indices."""
        return sorted(sorted(nd.labels.tolist()) for nd in self.leaves())

    # ---------------------------------------------------------------- statistics
    def _distances(self, node: _Node) -> tuple[int, np.ndarray]:
        """Instances since the node's snapshot and the label distance matrix on them."""
        S = self.C[np.ix_(node.labels, node.labels)] - node.C0
        occ = np.diag(S)
        union = occ[:, None] + occ[None, :] - S
        J = np.where(union > 0, S / np.maximum(union, 1), 0.0)
        return self.n - node.n0, 1.0 - J

    def _eps(self, n: int) -> float:
        return float(np.sqrt(np.log(1.0 / self.delta) / (2.0 * max(n, 1))))

    def mean_jaccard(self) -> float:
        """Mean within-cluster Jaccard similarity (pairs of labels in the same cluster,
        on each cluster's statistics); NaN when every cluster has one label."""
        sims = []
        for leaf in self.leaves():
            if len(leaf.labels) > 1:
                _, D = self._distances(leaf)
                sims.append(1.0 - D[np.triu_indices(len(leaf.labels), 1)])
        return float(np.concatenate(sims).mean()) if sims else float("nan")

    # ---------------------------------------------------------------- updates
    def update(self, on: "list[int] | np.ndarray") -> None:
        """Counts one instance whose labels ``on`` are on; restructures every
        ``grace_period`` instances."""
        on = np.asarray(on, dtype=np.int64)
        self.n += 1
        if on.size:
            self.C[np.ix_(on, on)] += 1
        if self.n % self.grace_period == 0:
            self._check()

    def _check(self) -> None:
        for node in list(self._internal_with_leaf_children()):
            self._try_merge(node)
        for leaf in self.leaves():
            if len(leaf.labels) > 1:
                self._try_split(leaf)

    def _internal_with_leaf_children(self) -> Iterator[_Node]:
        stack = [self.root] if self.root is not None else []
        while stack:
            node = stack.pop()
            if node.children:
                if all(c.is_leaf() for c in node.children):
                    yield node
                else:
                    stack.extend(node.children)

    def _try_split(self, leaf: _Node) -> None:
        n, D = self._distances(leaf)
        if n < self.grace_period:
            return
        eps = self._eps(n)
        m = len(leaf.labels)
        iu = np.triu_indices(m, 1)
        d = D[iu]
        if m == 2:
            if d[0] - eps <= 1.0 - self.min_jaccard:
                return
            groups = [np.array([0]), np.array([1])]
        else:
            order = np.argsort(-d, kind="stable")
            d1, d2, d0, dbar = d[order[0]], d[order[1]], d.min(), d.mean()
            settled = d1 - d2 > eps or eps < self.tau
            if not (settled and (d1 - d0) * abs((d1 - dbar) - (dbar - d0)) > eps):
                return
            # among tied farthest pairs, take the one with the most occurrences
            occ = np.diag(self.C[np.ix_(leaf.labels, leaf.labels)] - leaf.C0)
            ties = np.flatnonzero(d >= d1 - 1e-12)
            best = ties[np.argmax(occ[iu[0][ties]] + occ[iu[1][ties]])]
            groups = self._assign(D, int(iu[0][best]), int(iu[1][best]))
        self._split(leaf, groups)

    def _assign(self, D: np.ndarray, a: int, b: int) -> list[np.ndarray]:
        """Pivots ``a`` and ``b``; each other label joins the group at the smaller mean
        distance, nearest labels first; ties (labels unrelated to both) go to the larger
        group, which keeps the smaller one a group of related labels."""
        groups: list[list[int]] = [[a], [b]]
        rest = [i for i in range(len(D)) if i not in (a, b)]
        rest.sort(key=lambda i: min(D[i, a], D[i, b]))
        for i in rest:
            da, db = D[i, groups[0]].mean(), D[i, groups[1]].mean()
            if da < db or (da == db and len(groups[0]) >= len(groups[1])):
                groups[0].append(i)
            else:
                groups[1].append(i)
        if self.assignment == "random":
            perm = self._rng.permutation(len(D))
            return [np.sort(perm[:len(groups[0])]), np.sort(perm[len(groups[0]):])]
        return [np.array(sorted(g)) for g in groups]

    def _split(self, leaf: _Node, groups: list[np.ndarray]) -> None:
        self._leaves = None
        leaf.n0 = self.n
        leaf.C0 = self.C[np.ix_(leaf.labels, leaf.labels)].copy()
        leaf.children = [self._new_node(leaf.labels[g], leaf, leaf.since) for g in groups]
        self.n_splits += 1

    def _try_merge(self, node: _Node) -> None:
        n, D = self._distances(node)
        if n < self.grace_period:
            return
        eps = self._eps(n)
        pos = {lab: i for i, lab in enumerate(node.labels.tolist())}
        idx = [np.array([pos[lab] for lab in c.labels.tolist()]) for c in node.children]
        pairs = [(i, j) for i in range(len(idx)) for j in range(i + 1, len(idx))]
        cross = np.mean(np.concatenate([D[np.ix_(idx[i], idx[j])].ravel() for i, j in pairs]))
        inner = [D[np.ix_(g, g)][np.triu_indices(len(g), 1)] for g in idx if len(g) > 1]
        within = np.concatenate(inner).mean() if inner else 1.0 - self.min_jaccard
        if cross + eps < within:
            self._collapse(node, max(c.since for c in node.children))
            self.n_merges += 1

    def _collapse(self, node: _Node, since: int) -> None:
        self._leaves = None
        node.children = []
        node.n0 = self.n
        node.C0 = self.C[np.ix_(node.labels, node.labels)].copy()
        node.since = since
        node.id = self._next_id
        self._next_id += 1

    def restructure(self, cluster_id: int, since: Optional[int] = None) -> bool:
        """Drift in cluster ``cluster_id``: its parent (the cluster itself at the root)
        becomes one leaf with fresh statistics, ``since`` marking where its learners
        restart. Returns False when no cluster has that id."""
        leaf = next((nd for nd in self.leaves() if nd.id == cluster_id), None)
        if leaf is None:
            return False
        self._collapse(leaf.parent if leaf.parent is not None else leaf,
                       self.n if since is None else since)
        return True

    def reset(self, since: Optional[int] = None) -> None:
        """Global drift: one cluster of every label, statistics from now on."""
        if self.root is not None:
            self._collapse(self.root, self.n if since is None else since)
