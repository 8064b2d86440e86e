"""Neural-compiled graph algorithms (BFS, DFS, Bellman-Ford) and learned models.

- :mod:`.reference`: plain implementations with CLRS-style hint traces,
  cross-checked against networkx;
- :mod:`.compiled`: message-passing networks with hand-set weights that run
  the algorithms exactly, one layer application per step, on every node (dense)
  or on the changing frontier only;
- :mod:`.learnable`: the same networks with learned parameters
  (:class:`CompiledLearner`);
- :mod:`.gap`: distances between learned and compiled parameters (after aligning
  the architecture's symmetries) and between their intermediate states;
- :mod:`.learned`: learned twins of another architecture (an MLP step);
- :mod:`.compare`: step-by-step comparison of runs with a reference run;
- :class:`CompiledAlgorithm`, :class:`CompiledLearner`, :class:`AlgorithmLearner`:
  the estimators.
"""
from .compare import (hint_accuracy_per_step, one_step_accuracy, output_accuracy,
                      state_distance_per_step)
from .compiled import CompiledNetwork, compile_algorithm, execute
from .estimators import AlgorithmLearner, CompiledAlgorithm, make_traces, task_graph
from .gap import align, parameter_distance, rollout_distance
from .graphs import GraphBatch
from .learnable import CompiledLearner
from .reference import ALGORITHMS, NegativeCycleError, Trace, run_reference

__all__ = ["ALGORITHMS", "AlgorithmLearner", "CompiledAlgorithm", "CompiledLearner",
           "CompiledNetwork", "GraphBatch", "NegativeCycleError", "Trace", "align",
           "compile_algorithm", "execute", "hint_accuracy_per_step", "make_traces",
           "one_step_accuracy", "output_accuracy", "parameter_distance",
           "rollout_distance", "run_reference", "state_distance_per_step", "task_graph"]
