"""Time of one scoring step of the paper's generator selection on Cora.

``LocalAugmenter(selection="uncertainty")`` scores the generator after each of its
Adam steps (1,650 on Cora) with 100 dropout samples of a GCN
(:class:`graphbias.augment.selection.UncertaintySelection`). One JSON line: the
median wall time of ``--repeats`` scores of a dense random matrix on the selection's
1,664 rows, and of the kernel of its first products, :func:`graphbias.ops.masked_spmm`,
for 4 samples (the selection's chunk), one thread. ``--label`` names the build, so
that runs of two builds can alternate on the same machine::

    python benchmarks/lagnn/selection_step.py --root ../shared/data --label after \\
        >> benchmarks/lagnn/results/selection_step.jsonl
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from graphbias import ops
from graphbias.augment.selection import UncertaintySelection
from graphbias.bench.ops_bench import median_seconds
from graphbias.bench.results import machine_info
from graphbias.data.datasets import load_planetoid
from graphbias.data.transforms import normalize_features


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = load_planetoid(args.root, "cora")
    g = g.replace(x=normalize_features(g.x))
    train = g.train_mask.nonzero().view(-1)
    sel = UncertaintySelection(g, torch.rand(g.num_nodes, g.x.shape[1]), g.y, train)
    x = torch.rand(sel.x.shape)
    first = sel.classifier.first
    words = torch.randint(-2 ** 63, 2 ** 63 - 1, (sel.chunk, x.size(0), -(-x.size(1) // 64)))
    print(json.dumps({
        "label": args.label, "rows": x.size(0), "rows_one_hop": first.num_rows,
        "entries": first.nnz, "samples": sel.n_models, "chunk": sel.chunk,
        "masked_spmm_ms": 1e3 * median_seconds(
            lambda: ops.masked_spmm(first, x, words, 2.0), 1, args.repeats),
        "score_ms": 1e3 * median_seconds(lambda: sel.score(x), 1, args.repeats),
        "machine": machine_info()}))


if __name__ == "__main__":
    main()
