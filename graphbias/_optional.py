"""Optional dependencies: one message that names the extra to install.

>>> require("math", "forecast", "graphbias.forecast").__name__
'math'
"""
from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require", "EXTRAS", "MissingDependencyError", "install_command"]

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


def install_command(extra: str) -> str:
    """The pip command that installs an optional extra of :data:`EXTRAS`.

    >>> install_command("stream")
    'pip install "graphbias[stream]"'
    """
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; choose from {sorted(EXTRAS)}")
    return f'pip install "graphbias[{extra}]"'


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
            f"installed: {install_command(extra)}", name=module) from None
