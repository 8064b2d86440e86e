"""Local graph clustering with noisy labels.

Local diffusions that read only the part of the graph they reach: ACL push
personalised PageRank (:func:`acl_ppr`) and :math:`\\ell_2` flow diffusion
(:func:`flow_diffusion`), both on weighted graphs; the global baseline they are
compared with (:func:`global_ppr`, power iteration over the whole graph);
conductance and sweep cuts (:mod:`.sweep`); the label- and feature-weighted graph as a view over the CSR
(:class:`GraphView`); noisy labels from a classifier trained on a few nodes
(:func:`classifier_labels`); and the estimator :class:`NoisyLabelLocalClustering`.
"""
from .diffusion import Diffusion
from .estimator import LocalCluster, NoisyLabelLocalClustering
from .flow import flow_diffusion
from .labels import classifier_labels, f1_sets, sample_labelled_nodes
from .ppr import acl_ppr, global_ppr
from .sweep import conductance, support_cut, sweep_cut
from .view import GraphView

__all__ = ["NoisyLabelLocalClustering", "LocalCluster", "Diffusion", "GraphView",
           "acl_ppr", "global_ppr", "flow_diffusion", "conductance", "sweep_cut",
           "support_cut", "classifier_labels", "sample_labelled_nodes", "f1_sets"]
