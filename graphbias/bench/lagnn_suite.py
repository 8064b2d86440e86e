"""``graphbias bench --suite lagnn``: GNNs with and without local augmentation.

Methods ``gcn``, ``la-gcn``, ``gat``, ``la-gat``: :class:`~graphbias.nn.NodeClassifier`
against :class:`~graphbias.augment.LAGNNClassifier` with the same ``conv``, each run
training its own generator (its seconds are reported: ``generator_seconds``);
``la-gcn-paper`` and ``la-gat-paper``: :meth:`LAGNNClassifier.paper
<graphbias.augment.LAGNNClassifier.paper>`, the authors' protocol (the generator
chosen by uncertainty, 2,000 / 1,000 epochs without early stopping, the best single
draw at inference; on one CPU thread a Cora LA-GCN fit takes about 18 minutes,
of which the generator is 9-13).

Datasets:

* every Planetoid dataset whose files are under ``--root`` (``cora``,
  ``citeseer``, ``pubmed``) and every OGB-format node dataset there: their own
  splits, row-normalised Planetoid features, all four methods, test accuracy per
  degree bucket.
* ``sbm-lowdeg``: five 400-node blocks with mean degree about 3, so that about
  40% of the nodes have at most two neighbours, and sparse bag-of-words class
  features (about 6 words of 500 per node, a quarter of them from the class topic,
  row-normalised); a graph the defaults were not tuned on. ``gcn``, ``la-gcn`` and
  ``la-gcn-paper`` with test accuracy per degree bucket (``acc_deg<=2`` ...), the
  paper's motivation.

The other LA-models use :class:`~graphbias.augment.LAGNNClassifier`'s defaults
except ``sample_pool=16`` (16 generated matrices decoded per run instead of four per
epoch: decoding dominates a CPU epoch). ``--quick`` trains 30 classifier epochs and
one generator epoch, the paper's selection without warm-up (a check that everything
runs, not a result).
"""
from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any, Callable, Optional

from ..augment import LAGNNClassifier, LocalAugmenter
from ..augment.evaluation import accuracy_by_degree
from ..data.graph import Graph
from ..data.synthetic import sbm
from ..data.transforms import normalize_features
from ..nn import NodeClassifier
from .suites import Cell, real_node_datasets

__all__ = ["suite", "lowdegree_sbm", "run_method", "fit_and_score", "ALL_METHODS",
           "SAMPLE_POOL"]

ALL_METHODS = ("gcn", "la-gcn", "gat", "la-gat", "la-gcn-paper", "la-gat-paper")
SAMPLE_POOL = 16
#: method suffix: the model of :meth:`LAGNNClassifier.paper`
PAPER = "-paper"


def lowdegree_sbm(quick: bool = False, seed: int = 0) -> Graph:
    """The ``sbm-lowdeg`` graph: sparse, with row-normalised bag-of-words features.

    Five blocks, within-block degree about 2.4 and across-block about 0.6; binary
    bag-of-words features (500 words, about 6 per node, each from the class topic
    with probability 0.25), row-normalised; 20 training nodes per class.

    Parameters
    ----------
    quick : bool, default=False
        100 nodes per block instead of 400.
    seed : int, default=0
        Seed of the graph and its features.

    Returns
    -------
    Graph

    Examples
    --------
    >>> g = lowdegree_sbm(quick=True)
    >>> g.num_nodes, g.num_features
    (500, 500)
    """
    size = 100 if quick else 400
    g = sbm([size] * 5, 2.4 / size, 0.6 / (4 * size), num_features=500,
            feature_signal=0.25, features="bow", words_per_node=6, train_per_class=20,
            seed=seed)
    return g.replace(x=normalize_features(g.x))


def _model(method: str, seed: int, quick: bool) -> Any:
    conv = method.removeprefix("la-").removesuffix(PAPER)
    epochs = {"max_epochs": 30} if quick else {}
    if method.endswith(PAPER):
        quick_gen = {"augmenter": LocalAugmenter(max_epochs=1, selection="uncertainty",
                                                 warmup=0)} if quick else {}
        return LAGNNClassifier.paper(conv, random_state=seed, **epochs, **quick_gen)
    if method.startswith("la-"):
        augmenter = LocalAugmenter(max_epochs=1) if quick else None
        return LAGNNClassifier(conv=conv, augmenter=augmenter, random_state=seed,
                               sample_pool=SAMPLE_POOL, **epochs)
    return NodeClassifier(conv=conv, random_state=seed, **epochs)


def run_method(graph: Graph, method: str, seed: int, quick: bool = False,
               by_degree: bool = False,
               generators: Optional[dict[int, LocalAugmenter]] = None) -> dict[str, Any]:
    """Fits ``method`` on ``graph``'s train mask (validation mask for early
    stopping) and reports its test accuracy.

    Parameters
    ----------
    graph : Graph
        With ``x``, ``y`` and train / validation / test masks.
    method : {"gcn", "la-gcn", "gat", "la-gat", "la-gcn-paper", "la-gat-paper"}
        The convolution, with local augmentation for ``la-``, by the paper's
        protocol for ``-paper``.
    seed : int
        ``random_state`` of the model.
    quick : bool, default=False
        30 epochs and a one-epoch generator (a check that everything runs).
    by_degree : bool, default=False
        Add the test accuracy per degree bucket (``acc_deg<=2``, ...).
    generators : dict, optional
        The paper preset's generators fitted on ``graph``, by seed. A ``-paper``
        method takes the one of its seed when there is one (the uncertainty
        selection reads the labels and features, not the backbone, and a seeded
        fit is deterministic: it is the generator the method would fit) and stores
        the one it fits otherwise. Its ``seconds`` and ``generator_seconds`` count
        the generator's fit either way.

    Returns
    -------
    dict
        ``test_acc``, ``seconds``, ``epochs`` and ``generator_seconds`` (0 without
        augmentation), and the ``acc_deg*`` buckets with ``by_degree``.

    Examples
    --------
    >>> g = lowdegree_sbm(quick=True)
    >>> out = run_method(g, "gcn", seed=0, quick=True)
    >>> sorted(out)
    ['epochs', 'generator_seconds', 'seconds', 'test_acc']
    """
    shared = generators if method.endswith(PAPER) and generators is not None else {}
    model = _model(method, seed, quick)
    reused = shared.get(seed)
    if reused is not None:
        model.set_params(augmenter=reused)
    out, clf = fit_and_score(graph, model, by_degree)
    if reused is None and getattr(clf, "augmenter_", None) is not None:
        shared[seed] = clf.augmenter_
    return out


def fit_and_score(graph: Graph, model: Any,
                  by_degree: bool = False) -> tuple[dict[str, Any], Any]:
    """Fits ``model`` on ``graph``'s train mask (validation mask for early stopping)
    and scores it on the test mask.

    A generator fitted beforehand and handed to the model (``augmenter=``, which
    the model then reuses) counts in ``seconds`` and ``generator_seconds`` as if the
    model had fitted it: the reported cost is that of a fit from scratch.

    Parameters
    ----------
    graph : Graph
        With ``x``, ``y`` and train / validation / test masks.
    model : NodeClassifier or LAGNNClassifier
        Unfitted.
    by_degree : bool, default=False
        Add the test accuracy per degree bucket (``acc_deg<=2``, ...).

    Returns
    -------
    (dict, estimator)
        The scores of :func:`run_method` and the fitted model.

    Examples
    --------
    >>> g = lowdegree_sbm(quick=True)
    >>> out, clf = fit_and_score(g, NodeClassifier(max_epochs=30, random_state=0))
    >>> out["epochs"] == clf.n_epochs_, out["generator_seconds"]
    (True, 0.0)
    """
    start = time.perf_counter()
    clf = model.fit(graph.x, graph.y, graph=graph, train_mask=graph.train_mask,
                    val_mask=graph.val_mask)
    seconds = time.perf_counter() - start
    generator_seconds = getattr(clf, "generator_seconds_", 0.0)
    augmenter = getattr(clf, "augmenter_", None)
    if augmenter is not None and augmenter is model.get_params().get("augmenter"):
        generator_seconds = augmenter.fit_seconds_    # fitted before, reused
        seconds += generator_seconds
    y = graph.y.numpy()
    pred = clf.predict(graph.x, graph=graph)
    test = graph.test_mask.numpy()
    out: dict[str, Any] = {"test_acc": float((pred[test] == y[test]).mean()),
                           "seconds": seconds, "epochs": clf.n_epochs_,
                           "generator_seconds": generator_seconds}
    if by_degree:
        for bucket, res in accuracy_by_degree(graph, y, pred, test).items():
            out[f"acc_deg{bucket}"] = res["accuracy"]
    return out, clf


def suite(root: Optional[Path], seeds: int, quick: bool) -> list[Cell]:
    """The cells of ``graphbias bench --suite lagnn``.

    Each dataset is loaded once, by its first cell that runs; its ``-paper`` cells
    of one seed share the generator the first of them fits (see
    :func:`run_method`).

    Parameters
    ----------
    root : Path or None
        Where the Planetoid / OGB files are (``None``: the SBM only).
    seeds : int
        Seeds ``0 .. seeds - 1`` of every method.
    quick : bool
        Small graph and short training (see :func:`run_method`).

    Returns
    -------
    list of Cell

    Examples
    --------
    >>> sorted({(c.dataset, c.method) for c in suite(None, seeds=1, quick=True)})
    [('sbm-lowdeg', 'gcn'), ('sbm-lowdeg', 'la-gcn'), ('sbm-lowdeg', 'la-gcn-paper')]
    """
    datasets: dict[str, tuple[Callable[[], Graph], tuple[str, ...]]] = {
        name: (load, ALL_METHODS) for name, load in real_node_datasets(root).items()}
    datasets["sbm-lowdeg"] = (lambda: lowdegree_sbm(quick), ("gcn", "la-gcn", "la-gcn-paper"))
    cells = []
    for name, (load, methods) in datasets.items():
        graph = functools.cache(load)
        generators: dict[int, LocalAugmenter] = {}   # the -paper cells' generators
        for method in methods:
            for seed in range(seeds):
                cells.append(Cell("lagnn", name, method, seed,
                                  lambda g=graph, m=method, s=seed, gens=generators:
                                  run_method(g(), m, s, quick, True, gens)))
    return cells
