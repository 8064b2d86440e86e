"""Estimators: the compiled algorithms and their learned twins.

``predict(graph, *, source=...)`` takes one graph (anything
:func:`graphbias.data.as_graph` reads; networkx graphs need nodes ``0..n-1``) or a
list of graphs, run together as one disjoint union, and returns one
:class:`~graphbias.compile.reference.Trace` per graph, with ``outputs`` and,
when ``hints=True``, the state after every step.

Neither estimator takes a feature matrix (their input is graphs and traces), so
scikit-learn's ``parametrize_with_checks`` does not apply; parameters, cloning
and pickling follow its contract and are tested.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..base import seed_from, torch_seed
from ..data.graph import Graph
from ..data.synthetic.algorithms import algorithm_graph
from .compiled import COMPILED, check_magnitudes, compile_algorithm, execute
from .graphs import GraphBatch, check_sources, read_graphs
from .learned import SPECS, LearnedStep, StateBatch, decode, encode, loss
from .reference import HINTS, Trace, check_algorithm, run_reference

__all__ = ["CompiledAlgorithm", "AlgorithmLearner", "make_traces", "task_graph"]


def _result(traces: list[Trace], single: bool) -> Trace | list[Trace]:
    return traces[0] if single else traces


class CompiledAlgorithm(BaseEstimator):
    """BFS, DFS or Bellman-Ford run by a message-passing network with hand-set
    weights (:mod:`graphbias.compile.compiled`): exact, no training.

    Parameters:
        algorithm: ``"bfs"``, ``"dfs"`` or ``"bellman_ford"``.
        device: torch device the network runs on (``"cpu"``, ``"cuda"``).

    Nothing is learned, so the estimator counts as fitted from the start;
    ``fit()`` only checks the parameters and builds :attr:`network_`.

    >>> import networkx as nx
    >>> g = nx.DiGraph()
    >>> g.add_weighted_edges_from([(0, 1, 4.0), (0, 2, 1.0), (2, 1, 2.0)])
    >>> r = CompiledAlgorithm("bellman_ford").predict(g, source=0)
    >>> r.outputs["d"].tolist(), r.outputs["pi"].tolist()
    ([0.0, 3.0, 1.0], [0, 2, 0])
    """

    def __init__(self, algorithm: str = "bfs", device: str = "cpu") -> None:
        self.algorithm = algorithm
        self.device = device

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, X: Any = None, y: Any = None) -> "CompiledAlgorithm":
        """Checks the parameters and builds the network; ``X``, ``y`` are ignored."""
        self.network_ = compile_algorithm(self.algorithm).to(self.device)
        return self

    def _network(self) -> torch.nn.Module:
        net = getattr(self, "network_", None)
        if net is None or net.algorithm != self.algorithm:
            net = compile_algorithm(self.algorithm).to(self.device)
        return net

    def predict(self, graph: Any, *, source: Any = 0, hints: bool = False
                ) -> Trace | list[Trace]:
        """Runs the network on ``graph`` (or a list of graphs) from ``source`` (an
        id, or one per graph). DFS starts at ``source``, then takes roots by id.

        Raises ``ValueError`` for an unknown or non-integer source, non-integer
        node ids, and (:class:`~graphbias.compile.NegativeCycleError`) for a
        negative cycle reachable in Bellman-Ford.
        """
        net = self._network()
        graphs, single = read_graphs(graph)
        sources = check_sources(source, graphs)
        batch = GraphBatch.from_graphs(graphs, device=self.device)
        check_magnitudes(batch)
        run = execute(net, batch, sources, hints=hints, graphs=graphs)
        traces = [Trace(self.algorithm, g, s, out, h, steps)
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
    """A random graph of ``family`` for ``algorithm`` in CLRS's setting: BFS
    undirected, DFS directed, Bellman-Ford undirected with integer weights 1..10;
    an odd ``variant`` of Bellman-Ford is directed with negative edges (and no
    negative cycle)."""
    kwargs = dict(_TASK[check_algorithm(algorithm)])
    if algorithm == "bellman_ford" and variant % 2:
        kwargs.update(directed=True, negative=True)
    return algorithm_graph(family, n, seed=rng, **kwargs)


def make_traces(algorithm: str, graphs: Sequence[Graph],
                sources: Optional[Sequence[int]] = None) -> list[Trace]:
    """Reference traces (with hints) of ``algorithm`` on ``graphs`` (source 0 by
    default), the training data of :class:`AlgorithmLearner`."""
    check_algorithm(algorithm)
    sources = [0] * len(graphs) if sources is None else list(sources)
    return [run_reference(algorithm, g, s) for g, s in zip(graphs, sources)]


class AlgorithmLearner(BaseEstimator):
    """A learned twin of a compiled algorithm (:mod:`graphbias.compile.learned`),
    trained by teacher forcing on every step of reference traces.

    Parameters:
        algorithm: ``"bfs"``, ``"dfs"`` or ``"bellman_ford"``.
        hidden: width of the node embeddings.
        epochs: passes over all transitions; batch_size: transitions per step.
        lr: Adam learning rate.
        random_state: seed for initialisation and batch order.

    >>> from graphbias.data.synthetic.algorithms import algorithm_graphs
    >>> traces = make_traces("bfs", algorithm_graphs("er", 8, 10, seed=0))
    >>> learner = AlgorithmLearner("bfs", epochs=2, random_state=0).fit(traces)
    >>> learner.predict(traces[0].graph, source=0).outputs["pi"].shape
    (8,)
    """

    def __init__(self, algorithm: str = "bfs", hidden: int = 64, epochs: int = 40,
                 batch_size: int = 32, lr: float = 3e-3,
                 random_state: Any = None) -> None:
        self.algorithm = algorithm
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state

    def _check_params(self) -> None:
        check_algorithm(self.algorithm)
        for name in ("hidden", "epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                    or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")

    def _check_traces(self, traces: Any) -> list[Trace]:
        if isinstance(traces, Trace):
            traces = [traces]
        if not isinstance(traces, (list, tuple)) or not traces:
            raise ValueError("traces must be a non-empty list of Trace (see make_traces)")
        for i, t in enumerate(traces):
            if not isinstance(t, Trace):
                raise ValueError(f"traces[{i}] is a {type(t).__name__}, not a Trace")
            if t.algorithm != self.algorithm:
                raise ValueError(f"traces[{i}] is a {t.algorithm} trace, the learner "
                                 f"learns {self.algorithm}")
            missing = set(HINTS[self.algorithm]) - set(t.hints)
            if missing:
                raise ValueError(f"traces[{i}] has no hints {sorted(missing)}: "
                                 "make traces with hints=True")
        return list(traces)

    def fit(self, traces: Sequence[Trace]) -> "AlgorithmLearner":
        """Trains on every step ``t -> t + 1`` of every trace (and the fixed
        point ``T -> T``, so that the twin learns to halt)."""
        self._check_params()
        traces = self._check_traces(traces)
        spec = SPECS[self.algorithm]
        seed = seed_from(self.random_state)
        rng = np.random.default_rng(seed)
        pairs = [(i, t) for i, tr in enumerate(traces) for t in range(tr.num_steps + 1)]
        order = rng.permutation(len(pairs))
        batches = [self._transitions(traces, [pairs[j] for j in order[k:k + self.batch_size]])
                   for k in range(0, len(pairs), self.batch_size)]
        with torch_seed(seed):
            model = LearnedStep(spec, self.hidden)
            opt = torch.optim.Adam(model.parameters(), lr=self.lr)
            curve = []
            for _ in range(self.epochs):
                total = 0.0
                for j in rng.permutation(len(batches)):
                    sb, x, e, target = batches[j]
                    opt.zero_grad()
                    value = loss(spec, sb, model(sb, x, e), target)
                    value.backward()
                    opt.step()
                    total += value.item()
                curve.append(total / len(batches))
        self.model_ = model.eval()
        self.loss_curve_ = curve
        self.n_transitions_ = len(pairs)
        return self

    def _transitions(self, traces: list[Trace], pairs: list[tuple[int, int]]) -> tuple:
        spec = SPECS[self.algorithm]
        graphs = [traces[i].graph for i, _ in pairs]
        sb = StateBatch.build(graphs)
        names = HINTS[self.algorithm]
        state = {k: torch.from_numpy(np.concatenate(
            [traces[i].hints[k][t] for i, t in pairs])) for k in names}
        target = {k: torch.from_numpy(np.concatenate(
            [traces[i].hints[k][min(t + 1, traces[i].num_steps)] for i, t in pairs]))
            for k in names}
        src = torch.zeros(sb.num_nodes)
        src[sb.ptr[:-1] + torch.tensor([traces[i].source for i, _ in pairs])] = 1.0
        x, e = encode(spec, sb, state, src)
        return sb, x, e, target

    def predict(self, graph: Any, *, source: Any = 0, hints: bool = False
                ) -> Trace | list[Trace]:
        """Rolls the twin out from the initial state until its hints stop
        changing (at most the algorithm's step bound)."""
        check_is_fitted(self)
        graphs, single = read_graphs(graph)
        sources = check_sources(source, graphs)
        spec, names = SPECS[self.algorithm], HINTS[self.algorithm]
        init = COMPILED[self.algorithm]().init_state(GraphBatch.from_graphs(graphs), sources)
        state = {k: init[k].long() if k not in spec.real else init[k].float()
                 for k in names}
        sb = StateBatch.build(graphs)
        bound = torch.tensor([spec.step_bound * g.num_nodes + 1 for g in graphs])
        steps = torch.zeros(len(graphs), dtype=torch.long)
        active = torch.ones(len(graphs), dtype=torch.bool)
        record = [state] if hints else []
        with torch.no_grad():
            while bool(active.any()):
                feats = encode(spec, sb, state, init["src"])
                new = decode(spec, sb, self.model_(sb, *feats))
                live = active.index_select(0, sb.batch)
                new = {k: torch.where(live, new[k].to(state[k].dtype), state[k])
                       for k in names}
                changed = torch.stack([
                    ~torch.isclose(new[k], state[k], rtol=1e-4, atol=1e-4) if k in spec.real
                    else new[k] != state[k] for k in names]).any(0)
                changed_g = torch.zeros(len(graphs), dtype=torch.bool).index_put_(
                    (sb.batch,), changed, accumulate=True)
                steps += changed_g.long()
                active &= changed_g & (steps < bound)
                state = new
                if hints:
                    record.append(state)
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

    def score(self, traces: Sequence[Trace]) -> float:
        """Mean fraction of nodes whose predicted parent ``pi`` is right."""
        traces = self._check_traces(traces)
        preds = self.predict([t.graph for t in traces], source=[t.source for t in traces])
        return float(np.mean([np.mean(p.outputs["pi"] == t.outputs["pi"])
                              for p, t in zip(preds, traces)]))
