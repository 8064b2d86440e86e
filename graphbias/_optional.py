"""Optional dependencies: one message that names the extra to install.

>>> require("math", "forecast", "graphbias.forecast").__name__
'math'
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Callable

__all__ = ["require", "EXTRAS", "MissingDependencyError", "install_command",
           "lazy_exports"]

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


def lazy_exports(package: str, exports: dict[str, str], module: str, extra: str
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` (PEP 562) for a package whose public names
    need an optional dependency: the package imports without it, and a name is
    imported from its submodule on first use, after :func:`require` checked
    ``module``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict of str to str
        Public name -> the submodule (relative to ``package``) defining it.
    module, extra : str
        The optional dependency and the extra that installs it.

    Returns
    -------
    tuple of callables
        The package's ``__getattr__`` and ``__dir__``.
    """
    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        require(module, extra, f"{package}.{name}")
        value = getattr(importlib.import_module(exports[name], package), name)
        setattr(importlib.import_module(package), name, value)  # next lookups skip this
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
