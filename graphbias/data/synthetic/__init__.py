"""Seeded generators of graphs and of the data each capability is evaluated on.

Node-classification graphs live in :mod:`.graphs`; each capability's generator
(GP-VAR series, planted clusters with noisy labels, the network-causal process,
algorithm graphs) lives in a module of its own here and is re-exported below.
"""
from .graphs import barabasi_albert, erdos_renyi, karate_club, sbm

__all__ = ["sbm", "erdos_renyi", "barabasi_albert", "karate_club"]
