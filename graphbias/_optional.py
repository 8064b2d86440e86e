"""Optional dependencies: one message that names the extra to install.

>>> require("math", "forecast", "graphbias.forecast").__name__
'math'
"""
from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require", "EXTRAS", "MissingDependencyError"]

#: extra -> the modules it brings (``pip install "graphbias[extra]"``)
EXTRAS = {
    "pyg": ("torch_geometric",),
    "ogb": ("ogb", "pandas"),
    "forecast": ("pandas",),
    "causal": ("econml", "dowhy"),
    "stream": ("river",),
    "distributed": ("ray",),
    "scatter": ("torch_scatter",),
}


class MissingDependencyError(ModuleNotFoundError):
    """An optional dependency is not installed; the message says how to get it."""


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Imports ``module`` for ``feature``, or raises :class:`MissingDependencyError`
    naming ``pip install "graphbias[extra]"``."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name is None or err.name.split(".")[0] != module.split(".")[0]:
            raise
        raise MissingDependencyError(
            f"{feature} needs the optional dependency {module!r}, which is not "
            f'installed: pip install "graphbias[{extra}]"', name=module) from None
