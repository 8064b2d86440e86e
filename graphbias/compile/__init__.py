"""Neural-compiled graph algorithms (BFS, DFS, Bellman-Ford) and learned twins.

- :mod:`.reference`: plain implementations with CLRS-style hint traces,
  cross-checked against networkx;
- :mod:`.compiled`: message-passing networks with hand-set weights that run
  the algorithms exactly, one layer application per step;
- :mod:`.learned`: the same step shape with learned weights;
- :mod:`.compare`: step-by-step comparison of compiled and learned runs;
- :class:`CompiledAlgorithm`, :class:`AlgorithmLearner`: the estimators.
"""
from .compare import (hint_accuracy_per_step, one_step_accuracy, output_accuracy,
                      state_distance_per_step)
from .compiled import compile_algorithm, execute
from .estimators import AlgorithmLearner, CompiledAlgorithm, make_traces, task_graph
from .graphs import GraphBatch
from .reference import ALGORITHMS, NegativeCycleError, Trace, run_reference

__all__ = ["ALGORITHMS", "AlgorithmLearner", "CompiledAlgorithm", "GraphBatch",
           "NegativeCycleError", "Trace", "compile_algorithm", "execute",
           "hint_accuracy_per_step", "make_traces", "one_step_accuracy",
           "output_accuracy", "run_reference", "state_distance_per_step", "task_graph"]
