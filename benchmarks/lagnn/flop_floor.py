"""The arithmetic floor of an LA-GCN Cora fit with the paper's protocol on this CPU.

Counts the floating-point operations of the dense matrix products the paper's
protocol (``LAGNNClassifier.paper()``) computes, and divides them by the best rate
this machine's BLAS reaches in float32, on one and on all threads. No
implementation that keeps the protocol in float32 can fit faster than that floor.

Two counts, one JSON line:

- ``counted``: torch's ``FlopCounterMode`` over the code's own fit, a generator
  fitted for one epoch (the paper's 10 multiply it) and an LA-model trained for
  ``--epochs`` epochs on it (2,000 / ``--epochs`` multiply it). Only dense products
  (``mm``, ``addmm``, ``bmm``) are counted; the sparse products, the element-wise work
  (sigmoid, normalisation, dropout masks) and the optimiser are not.
- ``necessary``: the products any float32 implementation of the protocol must
  compute, from the sizes alone (:func:`necessary_flops`): per generator step the
  forward and weight-gradient products of its batch, the decoding of the selection's
  rows and, on each of its dropout samples, the selection GCN's first propagation
  (sparse) and first linear layer; per
  LA-model epoch the decoding of the training passes' and the validation draw's
  generated matrices (the decoder's output layer) and the generated branch's first
  layer, forward and weight gradient. Everything else is left out, so this is a
  lower bound.

The rate is the best of a few products (the decoder's output product and a square
one), median of ``--repeats`` runs each, in float32 and, for comparison, in bfloat16
(which changes the protocol's numbers; on a CPU with AMX it runs several times
faster)::

    python benchmarks/lagnn/flop_floor.py --root ../shared/data --epochs 20 \\
        >> benchmarks/lagnn/results/flop_floor.jsonl
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from graphbias.augment import LAGNNClassifier, LocalAugmenter
from graphbias.augment.generator import edge_pairs
from graphbias.augment.selection import SELECTION_SETTINGS
from graphbias.bench.ops_bench import median_seconds
from graphbias.bench.results import machine_info
from graphbias.data.datasets import load_planetoid
from graphbias.data.graph import Graph
from graphbias.data.transforms import gcn_norm, normalize_features
from graphbias.nn.distributed import halo_partition

#: the paper's generator epochs and LA-model epochs (GCN backbone)
GENERATOR_EPOCHS, LA_EPOCHS = 10, 2000


def selection_sizes(graph: Graph, train: torch.Tensor) -> dict[str, int]:
    """Rows of the selection GCN's input (the training nodes' two-hop neighbourhood),
    of its first layer's output (one-hop) and the entries of its first propagation."""
    two = halo_partition(graph, train, 2)
    one = int(halo_partition(graph, train, 1).nodes.numel())
    # the selection's first propagation: rows 0 .. one-1 of the normalised adjacency
    nnz = int(gcn_norm(two.graph).indptr[one])
    return {"rows_two_hop": int(two.nodes.numel()), "rows_one_hop": one, "nnz_first": nnz}


def necessary_flops(*, nodes: int, features: int, pairs: int, classes_hidden: int,
                    decoder_hidden: int, latent: int, batch: int, rows_two_hop: int,
                    rows_one_hop: int, nnz_first: int, n_models: int, selection_hidden: int,
                    passes: int, generated: int, epochs: int, generator_epochs: int
                    ) -> dict[str, float]:
    """Floating-point operations (2 per multiply-add) of the products the protocol
    cannot avoid, by part (see the module description)."""
    f, h = features, decoder_hidden
    steps = generator_epochs * -(-pairs // batch)
    # generator step: encoder [x_i, x_j] -> h, decoder condition x_i -> h and output
    # h -> x_j, latent layers; forward and weight gradient
    per_pair = 2 * f * h + f * h + h * f + 3 * latent * h
    generator = 2 * 2 * per_pair * pairs * generator_epochs
    # selection, every step: decode its rows (condition and output layers), then for
    # each dropout sample the masked propagation and the first linear layer
    decode_rows = 2 * (f * h + h * f) * rows_two_hop
    first_layer_samples = 2 * n_models * rows_one_hop * f * selection_hidden
    propagation_samples = 2 * n_models * nnz_first * f      # sparse
    # LA-model epoch: decode passes x generated training matrices and the validation
    # draw's (the output layer, the condition term is computed once per fit), and the
    # generated branch's first layer, forward and weight gradient in training
    matrices = passes * generated + generated
    decode = 2 * matrices * nodes * h * f * epochs
    first_layer = 2 * nodes * f * classes_hidden * (2 * passes * generated + generated) * epochs
    return {"generator": float(generator), "selection_decode": float(steps * decode_rows),
            "selection_first_layer": float(steps * first_layer_samples),
            "selection_propagation": float(steps * propagation_samples),
            "la_decode": float(decode), "la_first_layer": float(first_layer)}


def _dense_flops(run: Any) -> float:
    with FlopCounterMode(display=False) as counter:
        run()
    return float(counter.get_total_flops())


def best_rate(shapes: list[tuple[int, int, int]], threads: int, repeats: int,
              dtype: torch.dtype = torch.float32) -> dict[str, Any]:
    """The highest GEMM rate (FLOP/s) in ``dtype`` over ``shapes`` ``(m, k, n)`` with
    ``threads`` threads, each a median of ``repeats`` runs."""
    torch.set_num_threads(threads)
    rates = {}
    for m, k, n in shapes:
        a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
        out = torch.empty(m, n, dtype=dtype)
        rates[f"{m}x{k}x{n}"] = 2 * m * k * n / median_seconds(
            lambda: torch.mm(a, b, out=out), 1, repeats)
    return {"threads": threads, "dtype": str(dtype).removeprefix("torch."), "rates": rates,
            "best": max(rates.values())}


def counted_flops(graph: Graph, epochs: int, warmup: int = 100
                  ) -> tuple[dict[str, float], dict[str, int]]:
    """Dense FLOPs counted in one generator epoch and in ``epochs`` LA-model epochs of
    the paper's protocol on ``graph`` (its ``train_mask`` and ``val_mask``), and the
    sizes :func:`necessary_flops` takes besides the epochs."""
    # one generator epoch (165 Adam steps on Cora) holds fewer than the paper's 200
    # warm-up steps: a shorter warm-up lets the counted epoch keep generators
    aug = LocalAugmenter(selection="uncertainty", max_epochs=1, warmup=warmup,
                         random_state=0)
    clf = LAGNNClassifier.paper(augmenter=aug, max_epochs=epochs, random_state=0)
    counted = {"generator_and_selection": _dense_flops(
        lambda: aug.fit(graph, y=graph.y, train_mask=graph.train_mask))}
    counted["la_model"] = _dense_flops(lambda: clf.fit(
        graph.x, graph.y, graph=graph, train_mask=graph.train_mask,
        val_mask=graph.val_mask))
    train = graph.train_mask.nonzero().view(-1)
    sizes = dict(
        nodes=graph.num_nodes, features=graph.x.shape[1],
        pairs=int(edge_pairs(graph.edge_index)[0].numel()),
        classes_hidden=LAGNNClassifier._settings(clf)[0],
        decoder_hidden=aug.hidden_channels, latent=aug.latent_size, batch=aug.batch_size,
        **selection_sizes(graph, train), n_models=aug.n_models,
        selection_hidden=SELECTION_SETTINGS["hidden_channels"], passes=clf.n_samples,
        generated=clf.n_generated)
    return counted, sizes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=20,
                    help="LA-model epochs counted (the paper's 2,000 extrapolated)")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()

    torch.set_num_threads(1)
    machine = machine_info()
    g = load_planetoid(args.root, "cora")
    g = g.replace(x=normalize_features(g.x))
    counted, sizes = counted_flops(g, args.epochs)
    counted = {"generator_and_selection": counted["generator_and_selection"] * GENERATOR_EPOCHS,
               "la_model": counted["la_model"] * LA_EPOCHS / args.epochs}
    necessary = necessary_flops(**sizes, epochs=LA_EPOCHS, generator_epochs=GENERATOR_EPOCHS)
    shapes = [(sizes["nodes"] * sizes["passes"], sizes["decoder_hidden"], sizes["features"]),
              (2048, 2048, 2048)]
    rates = [best_rate(shapes, t, args.repeats, dtype) for dtype in (torch.float32,
             torch.bfloat16) for t in args.threads]
    total_counted, total_necessary = sum(counted.values()), sum(necessary.values())
    print(json.dumps({
        "counted_flops": counted, "counted_total": total_counted,
        "necessary_flops": necessary, "necessary_total": total_necessary,
        "rates": rates,
        "floor_seconds": {f"{r['dtype']}, {r['threads']} threads": total_necessary / r["best"]
                          for r in rates},
        "counted_seconds_at_best_rate": {
            f"{r['dtype']}, {r['threads']} threads": total_counted / r["best"] for r in rates},
        "generator_epochs": GENERATOR_EPOCHS, "la_epochs": LA_EPOCHS,
        "la_epochs_counted": args.epochs, "machine": machine}))


if __name__ == "__main__":
    main()
