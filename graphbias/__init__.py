"""graphbias: learning on graphs where the graph is the inductive bias."""
from .data import Graph, as_graph

__version__ = "0.1.0"

__all__ = ["Graph", "as_graph", "__version__"]
