r"""The compiled architecture with learned parameters.

:class:`CompiledLearner` trains the parameters of a
:class:`~graphbias.compile.compiled.CompiledNetwork` (the very modules that run
the algorithms exactly, same shapes, same step and select functions) on
reference traces, from a random point or from the compiled point, perturbed or
not. Training is teacher-forced: every transition :math:`s_t \to s_{t+1}` of
every trace (and the fixed point :math:`s_T \to s_T`) is one example, the
network's state after :math:`s_t` is compared with :math:`s_{t+1}` by

.. math:: L = \sum_{k \in \mathrm{hints}} \frac{1}{N} \sum_v
          \Big(\frac{\hat s_{t+1,k}(v) - s_{t+1,k}(v)}{c_k(v)}\Big)^2,

with the scales :math:`c_k` of :func:`~graphbias.compile.gap.hint_scales`, and in
training mode the network's step :math:`H(x)` is the surrogate
:math:`\sigma(x / \tau)` and :math:`\mathrm{select}(g, a, b)` is
:math:`b + g (a - b)`. Predictions use the exact step and select. The sentinel
:math:`B` of a batch is :func:`~graphbias.compile.graphs.sentinel` of its
magnitude, for training and prediction alike (the parameters are in units of
:math:`B`, so the compiled point does not depend on it).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._validation import Boolean, Device, Integer, Options, RandomState, Real
from ..base import EstimatorMixin, seed_from, torch_seed
from ..data.graph import Graph
from ..nn.training import fit_module
from .compiled import CompiledNetwork, compile_algorithm, execute
from .estimators import TraceScoreMixin, check_traces
from .gap import hint_scales, parameter_distance
from .graphs import GraphBatch, check_sources, read_graphs, sentinel
from .reference import ALGORITHMS, Trace

__all__ = ["CompiledLearner", "INITS", "initialise", "transition_batch",
           "transition_loss"]

INITS = ("random", "compiled")


def initialise(network: CompiledNetwork, init: str, noise: float,
               generator: torch.Generator) -> None:
    """Sets ``network``'s parameters (in units) in place: ``init="compiled"``
    keeps the compiled values and adds :math:`\\mathcal{N}(0, \\mathrm{noise}^2)`
    to each; ``init="random"`` draws each from :math:`\\mathcal{N}(0,
    \\mathrm{noise}^2)`.

    Parameters
    ----------
    network : CompiledNetwork
        A network with the compiled values.
    init : {"random", "compiled"}
        The starting point.
    noise : float
        Standard deviation of the Gaussian draws (>= 0).
    generator : torch.Generator
        The random stream.

    Examples
    --------
    >>> net = compile_algorithm("bfs")
    >>> initialise(net, "compiled", 0.0, torch.Generator().manual_seed(0))
    >>> parameter_distance(net)["raw"]
    0.0
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    with torch.no_grad():
        for p in network.parameters():
            draw = torch.randn(p.shape, generator=generator, dtype=p.dtype) * noise
            base = p.detach().cpu() if init == "compiled" else torch.zeros_like(draw)
            p.copy_((base + draw).to(p.device))


@dataclass
class TransitionBatch:
    """Teacher-forced transitions: the graphs, the states before and the hints
    after one step, and the hint scales."""

    batch: GraphBatch
    state: dict[str, torch.Tensor]
    target: dict[str, torch.Tensor]
    scale: dict[str, torch.Tensor]


def _learned_batch(graphs: Sequence[Graph], device: Any) -> GraphBatch:
    """The graphs as one batch with the sentinel of their magnitude."""
    batch = GraphBatch.from_graphs(graphs, device=device)
    return replace(batch, big=sentinel(batch.magnitude()))


def transition_batch(network: CompiledNetwork, traces: Sequence[Trace],
                     pairs: Sequence[tuple[int, int]], device: Any) -> TransitionBatch:
    """The transitions ``(trace i, step t)`` of ``pairs`` as one batch: the state
    after step ``t`` (inputs, hints, counters at ``t``) and the hints after step
    ``t + 1`` (the last state for ``t = T``).

    Parameters
    ----------
    network : CompiledNetwork
        The network whose state layout is used.
    traces : sequence of Trace
        Reference traces with hints.
    pairs : sequence of (int, int)
        Trace index and step.
    device : torch.device or str
        Where the batch lives.

    Returns
    -------
    TransitionBatch

    Examples
    --------
    >>> from graphbias.compile import make_traces
    >>> traces = make_traces("bfs", [Graph([[0, 1], [1, 2]], 3)])
    >>> tb = transition_batch(compile_algorithm("bfs"), traces, [(0, 1)], "cpu")
    >>> tb.state["clock"].tolist(), tb.target["dist"].tolist()
    ([1.0, 1.0, 1.0], [0.0, 1.0, 2.0])
    """
    graphs = [traces[i].graph for i, _ in pairs]
    batch = _learned_batch(graphs, device)
    state = network.init_state(batch, [traces[i].source for i, _ in pairs])

    def stacked(step: Any) -> dict[str, torch.Tensor]:
        return {k: torch.from_numpy(np.concatenate(
            [traces[i].hints[k][step(i, t)] for i, t in pairs]).astype(np.float64)
        ).to(batch.device) for k in network.hints}

    state.update(stacked(lambda i, t: t))
    steps = torch.tensor([float(t) for _, t in pairs], dtype=torch.float64,
                         device=batch.device).index_select(0, batch.batch)
    state.update({k: steps.clone() for k in network.counters})
    target = stacked(lambda i, t: min(t + 1, traces[i].num_steps))
    return TransitionBatch(batch, state, target, hint_scales(network.algorithm, batch))


def transition_loss(network: CompiledNetwork, tb: TransitionBatch) -> torch.Tensor:
    """The scaled squared error of one step from ``tb.state`` against
    ``tb.target``, summed over the hints (see the module docstring).

    >>> from graphbias.compile import make_traces
    >>> traces = make_traces("bfs", [Graph([[0, 1], [1, 2]], 3)])
    >>> tb = transition_batch(compile_algorithm("bfs"), traces, [(0, 0)], "cpu")
    >>> float(transition_loss(compile_algorithm("bfs"), tb))
    0.0
    """
    out = network(tb.state, tb.batch)
    return sum(((out[k] - tb.target[k]) / tb.scale[k]).pow(2).mean() for k in tb.target)


class CompiledLearner(EstimatorMixin, TraceScoreMixin, BaseEstimator):
    r"""The compiled architecture of an algorithm with learned parameters.

    The network is a :class:`~graphbias.compile.compiled.CompiledNetwork` (the
    module :class:`CompiledAlgorithm` runs), started at random or at the compiled
    point (perturbed by ``init_noise``), trained by teacher forcing on every step
    of reference traces with differentiable surrogates of its step and select
    functions (see :mod:`graphbias.compile.learnable`), and run with the exact ones.
    Every epoch records the parameters' distance to the compiled point after
    aligning the architecture's symmetries
    (:func:`~graphbias.compile.gap.parameter_distance`). Training runs through
    :func:`graphbias.nn.training.fit_module`, with Adam.

    Parameters
    ----------
    algorithm : {"bfs", "dfs", "bellman_ford"}, default="bfs"
        The algorithm to learn.
    init : {"random", "compiled"}, default="random"
        Start from Gaussian parameters, or from the compiled ones.
    init_noise : float, default=1.0
        Standard deviation of the initial draws (``init="random"``) or of the
        perturbation added to the compiled parameters (``init="compiled"``), in
        units of the parameters; 0 with ``"compiled"`` starts at the compiled
        point itself.
    temperature : float, default=1.0
        :math:`\tau` of the step surrogate :math:`\sigma(x / \tau)`.
    max_epochs : int, default=40
        Passes over all transitions.
    batch_size : int, default=32
        Transitions per optimisation step.
    lr : float, default=1e-3
        Adam's learning rate.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the initialisation and the batch order.
    device : str or torch.device, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"`` (CUDA when available).
    verbose : bool, default=False
        Show a progress bar with the training loss.

    Attributes
    ----------
    module_ : CompiledNetwork
        The trained network.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``param_distance``
        (aligned) and ``param_distance_raw`` (relative to the compiled
        parameters' norm), ``lr``, ``seconds``.
    n_epochs_, best_epoch_ : int
        Epochs run, and the epoch whose weights the model holds (the last).
    n_transitions_ : int
        Number of training transitions.
    n_steps_per_epoch_ : int
        Optimisation steps per epoch.
    initial_distance_ : dict
        ``aligned`` and ``raw`` distance of the starting point.
    device_ : torch.device
        Where the model lives.

    Examples
    --------
    >>> from graphbias.compile import make_traces
    >>> from graphbias.data.synthetic.algorithms import algorithm_graphs
    >>> traces = make_traces("bfs", algorithm_graphs("er", 8, 10, seed=0))
    >>> exact = CompiledLearner("bfs", init="compiled", init_noise=0.0, max_epochs=2,
    ...                         random_state=0).fit(traces)
    >>> exact.score(traces), [r["param_distance"] for r in exact.history_]
    (1.0, [0.0, 0.0])
    >>> near = CompiledLearner("bfs", init="compiled", init_noise=0.05, max_epochs=2,
    ...                        random_state=0).fit(traces)
    >>> round(near.initial_distance_["aligned"], 3), near.score(traces) < 1.0
    (0.051, True)
    """

    _parameter_constraints = {
        "algorithm": [Options(*ALGORITHMS)],
        "init": [Options(*INITS)],
        "init_noise": [Real(0, None, closed="left")],
        "temperature": [Real(0, None, closed="neither")],
        "max_epochs": [Integer(1)],
        "batch_size": [Integer(1)],
        "lr": [Real(0, None, closed="neither")],
        "random_state": [RandomState()],
        "device": [Device()],
        "verbose": [Boolean()],
    }

    def __init__(self, algorithm: str = "bfs", init: str = "random",
                 init_noise: float = 1.0, temperature: float = 1.0, max_epochs: int = 40,
                 batch_size: int = 32, lr: float = 1e-3, random_state: Any = None,
                 device: Any = "cpu", verbose: bool = False) -> None:
        self.algorithm = algorithm
        self.init = init
        self.init_noise = init_noise
        self.temperature = temperature
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def fit(self, traces: Sequence[Trace], y: Any = None) -> "CompiledLearner":
        """Trains on every step ``t -> t + 1`` of every trace (and the fixed point
        ``T -> T``).

        Parameters
        ----------
        traces : list of Trace
            Reference traces with hints, of ``algorithm`` (see
            :func:`~graphbias.compile.make_traces`).
        y : ignored
            Present for scikit-learn's API.

        Returns
        -------
        self
        """
        p = self._begin_fit()
        traces = check_traces(traces, p.algorithm)
        seed = seed_from(p.random_state)
        rng = np.random.default_rng(seed)
        reference = compile_algorithm(p.algorithm)
        module = compile_algorithm(p.algorithm, p.temperature)
        initialise(module, p.init, p.init_noise, torch.Generator().manual_seed(seed))
        module = module.to(self.device_).requires_grad_(True)
        pairs = [(i, t) for i, tr in enumerate(traces) for t in range(tr.num_steps + 1)]
        order = rng.permutation(len(pairs))
        batches = [transition_batch(module, traces,
                                    [pairs[j] for j in order[k:k + p.batch_size]],
                                    self.device_)
                   for k in range(0, len(pairs), p.batch_size)]
        self.initial_distance_ = parameter_distance(module, reference)
        with torch_seed(seed):
            optimizer = torch.optim.Adam(module.parameters(), lr=p.lr)

            def epoch(_: int) -> Iterator[TransitionBatch]:
                return (batches[j] for j in rng.permutation(len(batches)))

            def distance() -> dict[str, float]:
                d = parameter_distance(module, reference)
                return {"param_distance": d["aligned"], "param_distance_raw": d["raw"]}

            result = fit_module(module, optimizer, lambda tb: transition_loss(module, tb),
                                max_epochs=p.max_epochs, batches=epoch, validate=distance,
                                verbose=p.verbose, desc=type(self).__name__)
        self.module_ = module.requires_grad_(False)
        self.history_ = result.history
        self.n_epochs_, self.best_epoch_ = result.n_epochs, result.best_epoch
        self.n_transitions_ = len(pairs)
        self.n_steps_per_epoch_ = len(batches)
        return self

    def predict(self, graph: Any, *, source: Any = None, hints: bool = False
                ) -> Trace | list[Trace]:
        """Runs the learned network (exact step and select) from the initial state
        until its hints stop changing, at most ``2 max(n) + 2`` layers.

        Parameters
        ----------
        graph : graph-like or list of graph-like
            As in :meth:`CompiledAlgorithm.predict`.
        source : node, sequence of nodes or None, default=None
            As in :meth:`CompiledAlgorithm.predict`.
        hints : bool, default=False
            Record the state after every layer in ``Trace.hints``.

        Returns
        -------
        Trace or list of Trace
            One trace per graph (a single trace for a single graph); hints are
            rounded to integers (Bellman-Ford's ``d`` stays real), non-finite ones
            given as :data:`~graphbias.compile.compiled.INVALID`.
        """
        check_is_fitted(self)
        graphs, single = read_graphs(graph)
        sources = check_sources(source, graphs)
        batch = _learned_batch(graphs, self.device_)
        run = execute(self.module_, batch, sources, hints=hints, negative_cycles=False)
        traces = [Trace(self.algorithm, g, s, out, h, steps)
                  for g, s, out, h, steps in zip(graphs, sources, run.outputs,
                                                 run.hints or [{}] * len(graphs),
                                                 run.steps)]
        return traces[0] if single else traces
