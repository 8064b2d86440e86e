"""Estimators: the compiled algorithms and their learned twins.

``predict(graph, *, source=...)`` takes one graph (anything
:func:`graphbias.data.as_graph` reads) or a list of graphs, run together as one
disjoint union, and returns one :class:`~graphbias.compile.reference.Trace` per
graph, with ``outputs`` and, when ``hints=True``, the state after every step.
Node ids are positions in the graph (``G.nodes`` order for networkx, whose node
names stay in ``trace.graph.node_labels``); a source is a node name of a graph
with names, else an id; outputs hold ids (``trace.graph.label_of(ids)`` names
them).

Neither estimator takes a feature matrix (their input is graphs and traces), so
scikit-learn's ``parametrize_with_checks`` does not apply; parameters, cloning
and pickling follow its contract and are tested.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._validation import (DEPRECATED, Boolean, Device, Integer, Options, RandomState, Real,
                           deprecated_attribute, resolve_device, train_losses,
                           validate_params)
from ..base import EstimatorMixin, seed_from, torch_seed
from ..data.graph import Graph
from ..data.synthetic.algorithms import algorithm_graph
from ..nn.training import fit_module
from .compiled import COMPILED, EXECUTIONS, check_magnitudes, compile_algorithm, execute
from .graphs import GraphBatch, check_sources, read_graphs
from .learned import SPECS, LearnedStep, StateBatch, decode, encode, loss
from .reference import ALGORITHMS, HINTS, Trace, check_algorithm, run_reference

__all__ = ["CompiledAlgorithm", "AlgorithmLearner", "make_traces", "task_graph",
           "check_traces", "parent_accuracy"]


def _result(traces: list[Trace], single: bool) -> Trace | list[Trace]:
    return traces[0] if single else traces


class CompiledAlgorithm(EstimatorMixin, BaseEstimator):
    """BFS, DFS or Bellman-Ford run by a message-passing network with hand-set
    weights (:mod:`graphbias.compile.compiled`): exact, no training.

    Nothing is learned, so the estimator counts as fitted from the start:
    :meth:`predict` validates the parameters and builds the network itself;
    :meth:`fit` does the same once and keeps the network in ``network_``.

    Parameters
    ----------
    algorithm : {"bfs", "dfs", "bellman_ford"}, default="bfs"
        The algorithm the network runs.
    device : str or torch.device, default="cpu"
        Where the network runs: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"``
        (CUDA when available). Results come back as numpy arrays.
    execution : {"auto", "frontier", "dense"}, default="auto"
        ``"dense"`` applies every layer to every node; ``"frontier"`` only to the
        nodes whose inputs changed in the previous layer (BFS and Bellman-Ford;
        the results are the same); ``"auto"``: frontier where it applies, else
        dense.

    Attributes
    ----------
    network_ : CompiledNetwork
        The compiled network (after :meth:`fit`).
    device_ : torch.device
        The device ``network_`` lives on.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph()
    >>> g.add_weighted_edges_from([(0, 1, 4.0), (0, 2, 1.0), (2, 1, 2.0)])
    >>> r = CompiledAlgorithm("bellman_ford").predict(g, source=0)
    >>> r.outputs["d"].tolist(), r.outputs["pi"].tolist()
    ([0.0, 3.0, 1.0], [0, 2, 0])
    >>> named = nx.Graph([("a", "b"), ("b", "c")])
    >>> r = CompiledAlgorithm("bfs").predict(named, source="c")
    >>> r.outputs["dist"].tolist(), r.graph.label_of(r.outputs["pi"])
    ([2, 1, 0], ['b', 'c', 'c'])
    """

    _parameter_constraints = {"algorithm": [Options(*ALGORITHMS)], "device": [Device()],
                              "execution": [Options("auto", *EXECUTIONS)]}

    def __init__(self, algorithm: str = "bfs", device: Any = "cpu",
                 execution: str = "auto") -> None:
        self.algorithm = algorithm
        self.device = device
        self.execution = execution

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.requires_fit = False           # nothing is learned
        return tags

    def fit(self, X: Any = None, y: Any = None) -> "CompiledAlgorithm":
        """Validates the parameters and builds the network.

        Parameters
        ----------
        X, y : ignored
            Present for scikit-learn's API.

        Returns
        -------
        self
        """
        p = self._begin_fit()
        self.network_ = compile_algorithm(p.algorithm).to(self.device_)
        self._fit_params_ = self.get_params()
        return self

    def _network(self) -> tuple[torch.nn.Module, torch.device, str]:
        """``network_``, ``device_`` and the execution path while the parameters
        are those of ``fit`` (a model loaded on a machine without its device runs
        where it was loaded), else a network built for the current parameters."""
        p = validate_params(self, self._aliases)
        if hasattr(self, "network_") and self.get_params() == self._fit_params_:
            net, device = self.network_, self.device_
        else:
            device = resolve_device(p.device)
            net = compile_algorithm(p.algorithm).to(device)
        execution = p.execution
        if execution == "auto":
            execution = "frontier" if net.local else "dense"
        return net, device, execution

    def predict(self, graph: Any, *, source: Any = None, hints: bool = False
                ) -> Trace | list[Trace]:
        """Runs the network on ``graph`` (or a list of graphs) until its hints stop
        changing.

        Parameters
        ----------
        graph : graph-like or list of graph-like
            Anything :func:`graphbias.as_graph` reads (a networkx graph keeps its
            node names as ``node_labels``), or a list of them, run together as one
            disjoint union.
        source : node, sequence of nodes or None, default=None
            The source: one node for every graph (a node name of graphs with
            ``node_labels``, else an id: an int, a numpy integer or a 0-d array /
            tensor), or one per graph. None: node 0 (the first node). DFS starts
            at ``source``, then takes roots by id.
        hints : bool, default=False
            Record the state after every step in ``Trace.hints``.

        Returns
        -------
        Trace or list of Trace
            One trace per graph (a single trace for a single graph); ``source``
            and the outputs hold node ids.

        Raises
        ------
        ValueError
            For a source that is not a node, an unknown ``execution``;
            ``execution="frontier"`` with DFS;
            :class:`~graphbias.compile.NegativeCycleError` (a ``ValueError``) for
            a negative cycle reachable in Bellman-Ford.
        """
        net, device, execution = self._network()
        graphs, single = read_graphs(graph)
        sources = check_sources(source, graphs)
        batch = GraphBatch.from_graphs(graphs, device=device)
        check_magnitudes(batch)
        run = execute(net, batch, sources, hints=hints, graphs=graphs, execution=execution)
        traces = [Trace(net.algorithm, g, s, out, h, steps)
                  for g, s, out, h, steps in zip(graphs, sources, run.outputs,
                                                 run.hints or [{}] * len(graphs),
                                                 run.steps)]
        return _result(traces, single)


# The graphs each algorithm is posed on (CLRS: BFS undirected, DFS directed,
# Bellman-Ford weighted).
_TASK: dict[str, dict[str, Any]] = {"bfs": {}, "dfs": {"directed": True},
                                    "bellman_ford": {"weights": "integer"}}


def task_graph(algorithm: str, family: str, n: int, rng: np.random.Generator,
               variant: int = 0) -> Graph:
    """A random graph of ``family`` for ``algorithm`` in CLRS's setting.

    BFS undirected, DFS directed, Bellman-Ford undirected with integer weights
    1..10; an odd ``variant`` of Bellman-Ford is directed with negative edges (and
    no negative cycle).

    Parameters
    ----------
    algorithm : {"bfs", "dfs", "bellman_ford"}
        The algorithm the graph is posed for.
    family : str
        A family of :func:`~graphbias.data.synthetic.algorithm_graph`.
    n : int
        Number of nodes.
    rng : numpy.random.Generator
        Random stream (advanced).
    variant : int, default=0
        Odd: the directed, negatively weighted Bellman-Ford variant.

    Returns
    -------
    Graph

    Examples
    --------
    >>> g = task_graph("bellman_ford", "er", 6, np.random.default_rng(0), variant=1)
    >>> g.num_nodes, bool(g.is_undirected()), bool((g.edge_weight < 0).any())
    (6, False, True)
    """
    kwargs = dict(_TASK[check_algorithm(algorithm)])
    if algorithm == "bellman_ford" and variant % 2:
        kwargs.update(directed=True, negative=True)
    return algorithm_graph(family, n, seed=rng, **kwargs)


def make_traces(algorithm: str, graphs: Sequence[Graph],
                sources: Optional[Sequence[int]] = None) -> list[Trace]:
    """Reference traces (with hints) of ``algorithm`` on ``graphs``, the training
    data of :class:`AlgorithmLearner`.

    Parameters
    ----------
    algorithm : {"bfs", "dfs", "bellman_ford"}
        The algorithm to run.
    graphs : sequence of Graph
        The graphs.
    sources : sequence of int, optional
        One source per graph (default: node 0 of every graph).

    Returns
    -------
    list of Trace

    Examples
    --------
    >>> from graphbias.data import Graph
    >>> [t.num_steps for t in make_traces("bfs", [Graph([[0, 1], [1, 2]], 3)] * 2, [0, 2])]
    [2, 0]
    """
    check_algorithm(algorithm)
    sources = [0] * len(graphs) if sources is None else list(sources)
    return [run_reference(algorithm, g, s) for g, s in zip(graphs, sources)]


def check_traces(traces: Any, algorithm: str) -> list[Trace]:
    """``traces`` as a list of reference traces of ``algorithm`` with hints.

    Parameters
    ----------
    traces : Trace or list of Trace
        Training or test traces (see :func:`make_traces`).
    algorithm : str
        The algorithm they must trace.

    Returns
    -------
    list of Trace

    Raises
    ------
    ValueError
        An empty or non-list input, an element that is not a Trace, a trace of
        another algorithm or without hints.

    Examples
    --------
    >>> from graphbias.data import Graph
    >>> len(check_traces(make_traces("bfs", [Graph([[0], [1]], 2)]), "bfs"))
    1
    """
    if isinstance(traces, Trace):
        traces = [traces]
    if not isinstance(traces, (list, tuple)) or not traces:
        raise ValueError("traces must be a non-empty list of Trace (see make_traces)")
    for i, t in enumerate(traces):
        if not isinstance(t, Trace):
            raise ValueError(f"traces[{i}] is a {type(t).__name__}, not a Trace")
        if t.algorithm != algorithm:
            raise ValueError(f"traces[{i}] is a {t.algorithm} trace, the learner "
                             f"learns {algorithm}")
        missing = set(HINTS[algorithm]) - set(t.hints)
        if missing:
            raise ValueError(f"traces[{i}] has no hints {sorted(missing)}: "
                             "make traces with hints=True")
    return list(traces)


class TraceScoreMixin:
    """``score(traces)`` of the estimators that learn an algorithm from traces: the
    parent accuracy of their predictions (:func:`parent_accuracy`)."""

    algorithm: str

    def score(self, traces: Sequence[Trace], y: Any = None) -> float:
        """Mean fraction of nodes whose predicted parent ``pi`` is right (greater
        is better).

        Parameters
        ----------
        traces : list of Trace
            Reference traces of ``algorithm``; each graph is run from its trace's
            source.
        y : ignored
            Present for scikit-learn's API.

        Returns
        -------
        float
            In ``[0, 1]``, averaged over the traces.
        """
        check_is_fitted(self)
        return parent_accuracy(self, check_traces(traces, self.algorithm))


class AlgorithmLearner(EstimatorMixin, TraceScoreMixin, BaseEstimator):
    r"""A learned twin of a compiled algorithm (:mod:`graphbias.compile.learned`),
    trained by teacher forcing on every step of reference traces.

    Every transition :math:`t \to t + 1` of every trace (and the fixed point
    :math:`T \to T`, so that the twin learns to halt) is one training example;
    the transitions are shuffled once into batches of ``batch_size``, and each
    epoch visits the batches in a new random order, minimising with Adam the sum
    of the hint losses (cross-entropy for categorical hints and pointers, squared
    error for scalars; see :func:`graphbias.compile.learned.loss`). Training runs
    through :func:`graphbias.nn.training.fit_module`.

    Parameters
    ----------
    algorithm : {"bfs", "dfs", "bellman_ford"}, default="bfs"
        The algorithm to learn.
    hidden_channels : int, default=64
        Width of the node embeddings.
    max_epochs : int, default=40
        Passes over all transitions.
    batch_size : int, default=32
        Transitions per optimisation step.
    lr : float, default=3e-3
        Adam's learning rate.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the initialisation and the batch order.
    device : str or torch.device, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"`` (CUDA when available).
    verbose : bool, default=False
        Show a progress bar with the training loss.
    hidden : int, optional
        Deprecated alias of ``hidden_channels``.
    epochs : int, optional
        Deprecated alias of ``max_epochs``.

    Attributes
    ----------
    module_ : LearnedStep
        The trained step network.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss`` (mean over the batches),
        ``lr``, ``seconds``.
    n_epochs_, best_epoch_ : int
        Epochs run, and the epoch whose weights the model holds (the last).
    n_transitions_ : int
        Number of training transitions.
    device_ : torch.device
        Where the model lives.

    Examples
    --------
    >>> from graphbias.data.synthetic.algorithms import algorithm_graphs
    >>> traces = make_traces("bfs", algorithm_graphs("er", 8, 10, seed=0))
    >>> learner = AlgorithmLearner("bfs", max_epochs=2, random_state=0).fit(traces)
    >>> learner.predict(traces[0].graph, source=0).outputs["pi"].shape
    (8,)
    >>> learner.n_epochs_, learner.n_transitions_
    (2, 38)
    """

    _parameter_constraints = {
        "algorithm": [Options(*ALGORITHMS)],
        "hidden_channels": [Integer(1)],
        "max_epochs": [Integer(1)],
        "batch_size": [Integer(1)],
        "lr": [Real(0, None, closed="neither")],
        "random_state": [RandomState()],
        "device": [Device()],
        "verbose": [Boolean()],
    }
    _aliases = {"hidden": "hidden_channels", "epochs": "max_epochs"}

    model_ = deprecated_attribute("model_", "module_")
    loss_curve_ = deprecated_attribute("loss_curve_", "history_", train_losses)

    def __init__(self, algorithm: str = "bfs", hidden_channels: int = 64,
                 max_epochs: int = 40, batch_size: int = 32, lr: float = 3e-3,
                 random_state: Any = None, device: Any = "cpu", verbose: bool = False,
                 *, hidden: Any = DEPRECATED, epochs: Any = DEPRECATED) -> None:
        self.algorithm = algorithm
        self.hidden_channels = hidden_channels
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.hidden = hidden
        self.epochs = epochs

    def fit(self, traces: Sequence[Trace], y: Any = None) -> "AlgorithmLearner":
        """Trains on every step ``t -> t + 1`` of every trace (and the fixed point
        ``T -> T``).

        Parameters
        ----------
        traces : list of Trace
            Reference traces with hints, of ``algorithm`` (see :func:`make_traces`).
        y : ignored
            Present for scikit-learn's API.

        Returns
        -------
        self
        """
        p = self._begin_fit()
        traces = check_traces(traces, p.algorithm)
        spec = SPECS[p.algorithm]
        seed = seed_from(p.random_state)
        rng = np.random.default_rng(seed)
        pairs = [(i, t) for i, tr in enumerate(traces) for t in range(tr.num_steps + 1)]
        order = rng.permutation(len(pairs))
        batches = [_transitions(p.algorithm, traces,
                                [pairs[j] for j in order[k:k + p.batch_size]], self.device_)
                   for k in range(0, len(pairs), p.batch_size)]
        with torch_seed(seed):
            module = LearnedStep(spec, p.hidden_channels).to(self.device_)
            optimizer = torch.optim.Adam(module.parameters(), lr=p.lr)

            def epoch(_: int) -> Iterator[tuple]:
                return (batches[j] for j in rng.permutation(len(batches)))

            def step(batch: tuple) -> torch.Tensor:
                sb, x, e, target = batch
                return loss(spec, sb, module(sb, x, e), target)

            result = fit_module(module, optimizer, step, max_epochs=p.max_epochs,
                                batches=epoch, verbose=p.verbose, desc=type(self).__name__)
        self.module_ = module
        self.history_ = result.history
        self.n_epochs_, self.best_epoch_ = result.n_epochs, result.best_epoch
        self.n_transitions_ = len(pairs)
        return self

    def predict(self, graph: Any, *, source: Any = None, hints: bool = False
                ) -> Trace | list[Trace]:
        """Rolls the twin out from the initial state until its hints stop changing
        (at most the algorithm's step bound).

        Parameters
        ----------
        graph : graph-like or list of graph-like
            As in :meth:`CompiledAlgorithm.predict`.
        source : node, sequence of nodes or None, default=None
            As in :meth:`CompiledAlgorithm.predict`.
        hints : bool, default=False
            Record the state after every step in ``Trace.hints``.

        Returns
        -------
        Trace or list of Trace
            One trace per graph (a single trace for a single graph).
        """
        check_is_fitted(self)
        graphs, single = read_graphs(graph)
        sources = check_sources(source, graphs)
        dev = self.device_
        spec, names = SPECS[self.algorithm], HINTS[self.algorithm]
        init = COMPILED[self.algorithm]().init_state(
            GraphBatch.from_graphs(graphs, device=dev), sources)
        state = {k: init[k].long() if k not in spec.real else init[k].float()
                 for k in names}
        sb = StateBatch.build(graphs).to(dev)
        bound = torch.tensor([spec.step_bound * g.num_nodes + 1 for g in graphs],
                             device=dev)
        steps = torch.zeros(len(graphs), dtype=torch.long, device=dev)
        active = torch.ones(len(graphs), dtype=torch.bool, device=dev)
        record = [state] if hints else []
        with torch.no_grad():
            while bool(active.any()):
                feats = encode(spec, sb, state, init["src"])
                new = decode(spec, sb, self.module_(sb, *feats))
                live = active.index_select(0, sb.batch)
                new = {k: torch.where(live, new[k].to(state[k].dtype), state[k])
                       for k in names}
                changed = torch.stack([
                    ~torch.isclose(new[k], state[k], rtol=1e-4, atol=1e-4) if k in spec.real
                    else new[k] != state[k] for k in names]).any(0)
                changed_g = torch.zeros(len(graphs), dtype=torch.bool, device=dev
                                        ).index_put_((sb.batch,), changed, accumulate=True)
                steps += changed_g.long()
                active &= changed_g & (steps < bound)
                state = new
                if hints:
                    record.append(state)
        state = {k: v.cpu() for k, v in state.items()}
        record = [{k: v.cpu() for k, v in r.items()} for r in record]
        return _result(self._traces(graphs, sources, state, record, steps.tolist(), sb),
                       single)

    def _traces(self, graphs: list[Graph], sources: list[int], state: dict,
                record: list[dict], steps: list[int], sb: StateBatch) -> list[Trace]:
        spec = SPECS[self.algorithm]
        out = []
        for g, (lo, hi) in enumerate(zip(sb.ptr[:-1].tolist(), sb.ptr[1:].tolist())):
            final = {k: state[k][lo:hi].numpy() for k in spec.outputs}
            if "d" in spec.real:
                final["d"] = np.where(final["reach"] > 0, final["d"].astype(np.float64),
                                      np.inf)
            h = {k: np.stack([r[k][lo:hi].numpy() for r in record[:steps[g] + 1]])
                 for k in HINTS[self.algorithm]} if record else {}
            out.append(Trace(self.algorithm, graphs[g], sources[g], final, h, steps[g]))
        return out


def parent_accuracy(model: Any, traces: Sequence[Trace]) -> float:
    """Mean over ``traces`` of the fraction of nodes whose parent ``pi``, as
    ``model`` predicts it from the trace's source, is the trace's.

    Parameters
    ----------
    model : estimator
        Anything with ``predict(graphs, source=sources)`` returning traces.
    traces : sequence of Trace
        Reference traces.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> from graphbias.data import Graph
    >>> traces = make_traces("bfs", [Graph([[0, 1], [1, 2]], 3)])
    >>> parent_accuracy(CompiledAlgorithm("bfs"), traces)
    1.0
    """
    preds = model.predict([t.graph for t in traces], source=[t.source for t in traces])
    return float(np.mean([np.mean(p.outputs["pi"] == t.outputs["pi"])
                          for p, t in zip(preds, traces)]))


def _transitions(algorithm: str, traces: list[Trace], pairs: list[tuple[int, int]],
                 device: torch.device) -> tuple:
    """One training batch on ``device``: the transitions ``(trace i, step t)`` of
    ``pairs`` as ``(StateBatch, node features, edge features, target hints)``."""
    spec, names = SPECS[algorithm], HINTS[algorithm]
    graphs = [traces[i].graph for i, _ in pairs]
    sb = StateBatch.build(graphs)
    state = {k: torch.from_numpy(np.concatenate(
        [traces[i].hints[k][t] for i, t in pairs])) for k in names}
    target = {k: torch.from_numpy(np.concatenate(
        [traces[i].hints[k][min(t + 1, traces[i].num_steps)] for i, t in pairs]))
        for k in names}
    src = torch.zeros(sb.num_nodes)
    src[sb.ptr[:-1] + torch.tensor([traces[i].source for i, _ in pairs])] = 1.0
    x, e = encode(spec, sb, state, src)
    return (sb.to(device), x.to(device), e.to(device),
            {k: v.to(device) for k, v in target.items()})
