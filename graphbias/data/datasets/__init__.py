"""Offline-first dataset loaders, one module per format.

- :mod:`.planetoid`: Planetoid ``ind.<name>.*`` files (cora, citeseer, pubmed);
- :mod:`.ogb`: OGB node-property datasets in OGB's raw CSV layout;
- :mod:`.traffic`: the Los-loop traffic-speed series;
- :mod:`.discovery`: what a local root holds.

Nothing here downloads, prompts or exits: every loader reads a local ``root`` and a
missing file raises ``FileNotFoundError`` naming the file, the folders searched and
where to get it.

>>> sorted(PLANETOID_NAMES)
['citeseer', 'cora', 'pubmed']
"""
from .discovery import available_datasets
from .ogb import _OGB_NODE, _ogb_dirname, load_ogb_node, ogb_evaluate, write_ogb_node
from .planetoid import PLANETOID_NAMES, UnsafePickleError, find_planetoid, load_planetoid
from .traffic import load_los_loop

# _OGB_NODE and _ogb_dirname stay importable from here: the CLI reads them.

__all__ = [
    "PLANETOID_NAMES",
    "UnsafePickleError",
    "find_planetoid",
    "load_planetoid",
    "load_ogb_node",
    "write_ogb_node",
    "ogb_evaluate",
    "available_datasets",
    "load_los_loop",
]
