"""Graph neural network layers on :mod:`graphbias.ops`."""
from .functional import as_features, dropout, linear
from .diffusion_conv import DiffusionConv, random_walk_transitions
from .gat_conv import GATConv
from .graph_gru import GraphGRUCell
from .gcn_conv import GCNConv
from .linear import Linear
from .message_passing import MessagePassing
from .models import CONVS, GNN
from .node_classifier import NodeClassifier
from .sage_conv import SAGEConv

__all__ = ["MessagePassing", "GCNConv", "SAGEConv", "GATConv", "GNN", "CONVS", "NodeClassifier",
           "Linear", "as_features", "dropout", "linear", "DiffusionConv",
           "random_walk_transitions", "GraphGRUCell"]
