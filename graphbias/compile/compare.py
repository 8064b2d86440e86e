"""Step-by-step comparison of a run (learned or compiled) with a reference run.

Discrete hints and outputs (flags, colours, pointers, times) count as right when
equal; real distances (Bellman-Ford's ``d``) when within ``atol`` (default 0.5:
with integer weights a distance that close rounds to the right one), unreached
nodes (``inf``) only when both are unreached.

>>> from graphbias.compile.reference import bfs
>>> t = bfs(Graph([[0, 1], [1, 2]], 3), 0)
>>> output_accuracy(t, t)["pi"]
1.0
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ..data.graph import Graph
from .learned import SPECS, decode, encode
from .reference import HINTS, Trace

__all__ = ["output_accuracy", "hint_accuracy_per_step", "state_distance_per_step",
           "one_step_accuracy"]


def _match(a: np.ndarray, b: np.ndarray, real: bool, atol: float) -> np.ndarray:
    if not real:
        return np.asarray(a) == np.asarray(b)
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    both_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    with np.errstate(invalid="ignore"):
        return both_inf | (np.abs(a - b) <= atol)


def _is_real(algorithm: str, name: str) -> bool:
    return name in SPECS[algorithm].real


def output_accuracy(pred: Trace, truth: Trace, *, atol: float = 0.5) -> dict[str, float]:
    """Fraction of nodes right per output, and ``"graph"``: 1.0 when every output
    of every node is right."""
    acc, whole = {}, True
    for k, v in truth.outputs.items():
        hit = _match(pred.outputs[k], v, _is_real(truth.algorithm, k), atol)
        acc[k] = float(hit.mean())
        whole &= bool(hit.all())
    acc["graph"] = float(whole)
    return acc


def _state(trace: Trace, t: int, name: str) -> np.ndarray:
    return trace.hints[name][min(t, trace.num_steps)]


def hint_accuracy_per_step(pred: Trace, truth: Trace, *, atol: float = 0.5
                           ) -> dict[str, np.ndarray]:
    """Per hint, the fraction of nodes right after each step ``t = 0..T`` of the
    reference (a run that halted early is compared through its last state)."""
    if not pred.hints:
        raise ValueError("the prediction has no hints: predict with hints=True")
    return {k: np.array([_match(_state(pred, t, k), _state(truth, t, k),
                                _is_real(truth.algorithm, k), atol).mean()
                         for t in range(truth.num_steps + 1)])
            for k in HINTS[truth.algorithm]}


def state_distance_per_step(pred: Trace, truth: Trace) -> dict[str, np.ndarray]:
    """Distance of the intermediate states after each reference step: ``hamming``,
    the fraction of (node, discrete hint) entries that differ, and ``scalar_l1``,
    the mean absolute difference of the scalar hints (finite entries)."""
    if not pred.hints:
        raise ValueError("the prediction has no hints: predict with hints=True")
    spec = SPECS[truth.algorithm]
    discrete = [k for k in HINTS[truth.algorithm] if k not in spec.real]
    scalars = list(spec.scalars)
    hamming, l1 = [], []
    for t in range(truth.num_steps + 1):
        hamming.append(np.mean([_state(pred, t, k) != _state(truth, t, k)
                                for k in discrete]))
        diffs = [np.abs(_state(pred, t, k).astype(np.float64)
                        - _state(truth, t, k).astype(np.float64)) for k in scalars]
        l1.append(float(np.mean(diffs)))
    return {"hamming": np.array(hamming), "scalar_l1": np.array(l1)}


def one_step_accuracy(learner: Any, traces: Sequence[Trace], *, atol: float = 0.5
                      ) -> dict[str, np.ndarray]:
    """Teacher-forced accuracy of a fitted :class:`AlgorithmLearner`.

    Given the reference state after step ``t``, the fraction of nodes whose
    predicted hint after step ``t + 1`` is right, per hint and step (averaged over
    the traces that have that step). Separates single-step errors from
    compounding ones.

    Parameters
    ----------
    learner : AlgorithmLearner
        A fitted learner.
    traces : sequence of Trace
        Reference traces with hints, of the learner's algorithm.
    atol : float, default=0.5
        Tolerance for real hints (Bellman-Ford's ``d``).

    Returns
    -------
    dict of str to ndarray
        Per hint, the accuracy of steps ``1 .. T`` (``T`` the longest trace).

    Examples
    --------
    >>> from graphbias.compile import AlgorithmLearner, make_traces
    >>> traces = make_traces("bfs", [Graph([[0, 1, 1, 2], [1, 0, 2, 1]], 3)])
    >>> learner = AlgorithmLearner("bfs", max_epochs=1, random_state=0).fit(traces)
    >>> {k: v.shape for k, v in one_step_accuracy(learner, traces).items()}
    {'reach': (2,), 'pi': (2,), 'dist': (2,)}
    """
    from .learned import StateBatch

    check_is_fitted(learner)
    spec, names = SPECS[learner.algorithm], HINTS[learner.algorithm]
    dev = learner.device_
    longest = max(t.num_steps for t in traces)
    hits = {k: np.zeros(longest) for k in names}
    counts = np.zeros(longest)
    for tr in traces:
        if tr.num_steps == 0:
            continue
        sb = StateBatch.build([tr.graph] * tr.num_steps).to(dev)
        state = {k: torch.from_numpy(tr.hints[k][:-1].reshape(-1)).to(dev) for k in names}
        src = torch.zeros(sb.num_nodes, device=dev)
        src[sb.ptr[:-1] + tr.source] = 1.0
        with torch.no_grad():
            feats = encode(spec, sb, state, src)
            pred = decode(spec, sb, learner.module_(sb, *feats))
        n = tr.graph.num_nodes
        for k in names:
            got = pred[k].cpu().numpy().reshape(tr.num_steps, n)
            hit = _match(got, tr.hints[k][1:], k in spec.real, atol).mean(1)
            hits[k][:tr.num_steps] += hit
        counts[:tr.num_steps] += 1
    return {k: v / np.maximum(counts, 1) for k, v in hits.items()}
