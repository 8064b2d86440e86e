"""The shared graph data layer: every other package reads graphs from here."""
from .graph import Graph, as_graph, features_to_tensor

__all__ = ["Graph", "as_graph", "features_to_tensor"]
