"""Seeded generators of graphs and of the data each capability is evaluated on.

Node-classification graphs live in :mod:`.graphs`; each capability's generator
lives in a module of its own and is re-exported here: planted clusters with noisy
labels (:mod:`.planted`), GP-VAR series (:mod:`.gpvar`), the network-causal
process (:mod:`.network_causal`), multi-label streams with drift (:mod:`.multilabel`),
CLRS-style algorithm graphs (:mod:`.algorithms`) and OGB-format datasets of any
size (:mod:`.ogb_format`).
"""
from .algorithms import FAMILIES as ALGORITHM_FAMILIES
from .algorithms import algorithm_graph, algorithm_graphs, with_negative_cycle
from .graphs import barabasi_albert, erdos_renyi, karate_club, sbm
from .gpvar import gpvar, optimal_mae, triangle_communities
from .multilabel import multilabel_stream
from .network_causal import CausalData, cora_causal, network_causal
from .ogb_format import write_synthetic_ogb
from .planted import PlantedCluster, flip_labels, planted_cluster

__all__ = ["sbm", "erdos_renyi", "barabasi_albert", "karate_club", "planted_cluster",
           "PlantedCluster", "flip_labels", "multilabel_stream", "write_synthetic_ogb", "algorithm_graph",
           "algorithm_graphs", "with_negative_cycle", "ALGORITHM_FAMILIES", "gpvar",
           "optimal_mae", "triangle_communities", "network_causal", "cora_causal",
           "CausalData"]
