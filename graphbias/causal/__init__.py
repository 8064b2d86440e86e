"""Heterogeneous treatment effects on networks: the Graph R-Learner, baselines and a
DoWhy bridge (EconML's API: ``fit(Y, T, *, X, graph)``, ``effect``,
``effect_interval``, ``ate_``, ``score``)."""
from .baselines import EconMLLearner, GNNSLearner, GNNTLearner
from .rlearner import FINAL_STAGES, NUISANCES, GraphRLearner

__all__ = ["GraphRLearner", "GNNTLearner", "GNNSLearner", "EconMLLearner",
           "FINAL_STAGES", "NUISANCES"]
