"""How far the noisy labels connect a locality target to the rest of the graph.

In a locality graph (``graphbias.bench.cluster_suite``: a planted target inside a
background of mean degree 6) every node outside the target carries a wrong label 1
with probability ``noise``. The label-weighted graph keeps the edges between nodes
labelled 1 at full weight, so the nodes labelled 1 form a random subgraph of the
background with mean degree about ``6 * noise``: above 1 it has a component that
grows in proportion to the graph (percolation), below 1 only small ones.

For each size, one JSON line: the nodes labelled 1, the largest component of the
subgraph they induce (edges between two nodes labelled 1), that component with its
neighbours (what a diffusion spreading over it reads), and the share of the target
inside it::

    OMP_NUM_THREADS=1 python benchmarks/cluster/label_percolation.py --volume 1e5 \\
        --boundary hard --noise 0.2 --sizes 100000 1000000 10000000 \\
        >> benchmarks/cluster/results/label_percolation.jsonl
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from graphbias.bench.cluster_suite import (BOUNDARIES, LOCALITY_NOISE, LOCALITY_TARGETS,
                                           _locality_graph)


def labelled_component(edge_index: np.ndarray, labels: np.ndarray, target: np.ndarray
                       ) -> dict[str, float]:
    """The largest component of the subgraph induced by the nodes of label 1: its
    size, its size with its neighbours, and the share of ``target`` inside it."""
    n = labels.size
    ones = labels.astype(bool)
    src, dst = edge_index
    keep = ones[src] & ones[dst]
    adj = sp.coo_matrix((np.ones(int(keep.sum())), (src[keep], dst[keep])), shape=(n, n))
    _, comp = connected_components(adj.tocsr(), directed=False)
    sizes = np.bincount(comp[ones], minlength=comp.max() + 1)
    inside = comp == sizes.argmax()
    inside &= ones
    reached = np.zeros(n, dtype=bool)
    reached[dst[inside[src]]] = True
    return {"labelled": int(ones.sum()), "largest_labelled_component": int(inside.sum()),
            "with_neighbours": int((reached | inside).sum()),
            "target_share_in_it": float(inside[target].mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--volume", choices=list(LOCALITY_TARGETS), required=True)
    ap.add_argument("--boundary", choices=list(BOUNDARIES), required=True)
    ap.add_argument("--noise", type=float, default=LOCALITY_NOISE)
    ap.add_argument("--sizes", type=int, nargs="+", required=True)
    args = ap.parse_args()
    for n in args.sizes:
        pc = _locality_graph(args.volume, args.boundary, n, 0, args.noise)
        row = labelled_component(pc.graph.edge_index.numpy(), np.asarray(pc.noisy_labels),
                                 np.asarray(pc.target))
        print(json.dumps({"volume": args.volume, "boundary": args.boundary,
                          "noise": args.noise, "nodes": n, **row}), flush=True)
        _locality_graph.cache_clear()


if __name__ == "__main__":
    main()
