"""Heterogeneous treatment effects on networks: the Graph R-Learner, baselines and a
DoWhy bridge, with EconML's API: ``fit(Y, T, *, X, graph, W=None, inference=...)``,
``effect(X, *, T0, T1, graph)``, ``const_marginal_effect``, ``marginal_effect``,
``effect_interval`` / ``effect_inference``, ``ate`` / ``ate_interval`` /
``ate_inference``, ``ate_`` and ``score`` (the negated R-loss, greater is better).
Prediction without ``graph=`` reuses the graph of ``fit``."""
from ._inference import EffectInference, PopulationInference
from .baselines import EconMLLearner, GNNSLearner, GNNTLearner
from .rlearner import FINAL_STAGES, NUISANCES, GraphRLearner

__all__ = ["GraphRLearner", "GNNTLearner", "GNNSLearner", "EconMLLearner",
           "EffectInference", "PopulationInference", "FINAL_STAGES", "NUISANCES"]
