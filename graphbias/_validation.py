"""Parameter validation shared by every estimator and generator.

Each estimator declares ``_parameter_constraints``: for every constructor
parameter, a list of accepted kinds (:class:`Integer`, :class:`Real`,
:class:`Options`, :class:`Boolean`, :class:`Instance`, :class:`Callable`,
:class:`RandomState`, :class:`Device` or the literal ``None``). ``fit`` calls
:func:`validate_params`, which checks every parameter and returns the values to
use, with deprecated aliases resolved. The rules are the same everywhere: numpy
integers are integers, ``bool`` is not a number, reals are finite, and the error
names the estimator, the parameter, what it accepts and what it got.

>>> check_scalar("n_folds", np.int64(3), Integer(2))
3
>>> check_scalar("lr", True, Real(0, None, closed="neither"))
Traceback (most recent call last):
...
ValueError: lr must be a real number in (0, inf), got True
"""
from __future__ import annotations

import numbers
import warnings
from types import SimpleNamespace
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

__all__ = ["Integer", "Real", "ValueGrid", "Options", "Boolean", "Instance", "Callable",
           "RandomState", "Device", "check_scalar", "validate_params", "DEPRECATED",
           "Constraint", "resolve_device", "deprecated_attribute", "train_losses"]

#: default of a deprecated constructor alias: "not given"
DEPRECATED = "deprecated"


class Constraint:
    """One accepted kind of value; ``describe`` says it in an error message."""

    def accepts(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        return value

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


def _is_integer(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and \
        not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and \
        not isinstance(value, (bool, np.bool_))


def _bound(v: Optional[float], inf: str) -> str:
    return inf if v is None else f"{v:g}"


class Integer(Constraint):
    """An integer (Python or numpy, not bool) in ``[low, high]`` (None: unbounded)."""

    def __init__(self, low: Optional[int] = None, high: Optional[int] = None) -> None:
        self.low, self.high = low, high

    def accepts(self, value: Any) -> bool:
        return _is_integer(value) and (self.low is None or value >= self.low) and \
            (self.high is None or value <= self.high)

    def convert(self, value: Any) -> int:
        return int(value)

    def describe(self) -> str:
        if self.low is not None and self.high is None:
            return f"an integer >= {self.low}"
        return f"an integer in [{_bound(self.low, '-inf')}, {_bound(self.high, 'inf')}]"


class Real(Constraint):
    """A finite real number (int or float, not bool) in an interval; ``closed`` is
    ``"both"``, ``"left"``, ``"right"`` or ``"neither"``."""

    def __init__(self, low: Optional[float] = None, high: Optional[float] = None,
                 closed: str = "both") -> None:
        self.low, self.high, self.closed = low, high, closed

    def accepts(self, value: Any) -> bool:
        if not _is_real(value) or not np.isfinite(value):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (not left and value == self.low)):
            return False
        return self.high is None or not (value > self.high or
                                         (not right and value == self.high))

    def convert(self, value: Any) -> float:
        return float(value)

    def describe(self) -> str:
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        return (f"a real number in {left}{_bound(self.low, '-inf')}, "
                f"{_bound(self.high, 'inf')}{right}")


class ValueGrid(Constraint):
    """One value or a non-empty sequence of values (a 1-d array too), each accepted
    by ``element`` (an :class:`Integer` or a :class:`Real`); converted to a tuple of
    the converted values."""

    def __init__(self, element: Union[Integer, Real]) -> None:
        self.element = element

    def _values(self, value: Any) -> Optional[list]:
        if isinstance(value, (str, bytes)):
            return None
        if isinstance(value, np.ndarray):
            return [value.item()] if value.ndim == 0 else \
                value.tolist() if value.ndim == 1 else None
        if isinstance(value, Sequence):
            return list(value)
        return [value]

    def accepts(self, value: Any) -> bool:
        values = self._values(value)
        return bool(values) and all(self.element.accepts(v) for v in values)

    def convert(self, value: Any) -> tuple:
        return tuple(self.element.convert(v) for v in self._values(value))

    def describe(self) -> str:
        one, noun = ("an integer", "integers") if isinstance(self.element, Integer) \
            else ("a number", "numbers")
        bounds = self.element.describe().removeprefix("an integer ") \
            .removeprefix("a real number ")
        return f"{one} or a non-empty sequence of {noun}, each {bounds}"


class Options(Constraint):
    """One of a fixed set of values (compared with ``==``, types must match)."""

    def __init__(self, *values: Any) -> None:
        self.values = values

    def accepts(self, value: Any) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values)

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class Boolean(Constraint):
    """``True`` or ``False`` (numpy booleans too)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def convert(self, value: Any) -> bool:
        return bool(value)

    def describe(self) -> str:
        return "a bool"


class Instance(Constraint):
    """An instance of one of ``types``."""

    def __init__(self, *types: type, name: Optional[str] = None) -> None:
        self.types, self.name = types, name

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.types)

    def describe(self) -> str:
        return self.name or "an instance of " + " or ".join(t.__name__ for t in self.types)


class Callable(Constraint):
    """Any callable (a class, a function, a ``functools.partial``)."""

    def accepts(self, value: Any) -> bool:
        return callable(value)

    def describe(self) -> str:
        return "a callable"


class RandomState(Constraint):
    """``None``, an int seed >= 0, a ``numpy.random.RandomState`` or ``Generator``."""

    def accepts(self, value: Any) -> bool:
        return value is None or (_is_integer(value) and value >= 0) or \
            isinstance(value, (np.random.RandomState, np.random.Generator))

    def describe(self) -> str:
        return "None, an int >= 0, a numpy RandomState or Generator"


class Device(Constraint):
    """A torch device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"`` or a
    ``torch.device``."""

    def accepts(self, value: Any) -> bool:
        import torch

        if isinstance(value, torch.device):
            return True
        if not isinstance(value, str):
            return False
        if value == "auto":
            return True
        try:
            torch.device(value)
        except (RuntimeError, ValueError):
            return False
        return True

    def describe(self) -> str:
        return "'auto', 'cpu', 'cuda', 'cuda:<index>' or a torch.device"


def resolve_device(device: Any) -> Any:
    """The ``torch.device`` a ``device`` parameter names: ``"auto"`` is CUDA when
    available, else the CPU. Asking for CUDA where there is none is a clear error."""
    import torch

    if not Device().accepts(device):
        raise ValueError(f"device must be {Device().describe()}, got {device!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but CUDA is not available on this "
                             "machine (torch.cuda.is_available() is False); use "
                             "device='cpu' or 'auto'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r} but only {torch.cuda.device_count()} "
                             "CUDA device(s) are visible")
        if dev.index is None:  # the index tensors report, so that devices compare equal
            dev = torch.device("cuda", torch.cuda.current_device())
    elif dev.type != "cpu":
        raise ValueError(f"device={device!r}: only 'cpu' and 'cuda' devices are supported")
    return dev


Spec = Sequence[Any]


def _describe(spec: Spec) -> str:
    return " or ".join("None" if c is None else c.describe() for c in spec)


def check_scalar(name: str, value: Any, *spec: Any, owner: str = "") -> Any:
    """``value`` converted by the first constraint of ``spec`` it satisfies
    (``None`` in ``spec`` admits ``None``); a ``ValueError`` otherwise."""
    for c in spec:
        if c is None:
            if value is None:
                return None
        elif c.accepts(value):
            return c.convert(value)
    where = f"{owner}: " if owner else ""
    raise ValueError(f"{where}{name} must be {_describe(spec)}, got {value!r}")


def validate_params(estimator: Any, aliases: Optional[Mapping[str, str]] = None
                    ) -> SimpleNamespace:
    """Checks every constructor parameter of ``estimator`` against its
    ``_parameter_constraints`` and returns the values to use.

    ``aliases`` maps a deprecated parameter name to its new name: a value given
    under the old name (anything but :data:`DEPRECATED`) is used for the new one,
    with a ``FutureWarning``; giving both is an error. Every parameter must have a
    constraint, so none escapes validation.
    """
    owner = type(estimator).__name__
    constraints: Mapping[str, Spec] = getattr(estimator, "_parameter_constraints", {})
    params = estimator.get_params(deep=False)
    aliases = dict(aliases or {})
    missing = set(params) - set(constraints) - set(aliases)
    if missing:  # a programming error of the estimator, not the user's
        raise TypeError(f"{owner} declares no constraint for {sorted(missing)}")
    out = {}
    for name, value in params.items():
        if name in aliases:
            continue
        out[name] = check_scalar(name, value, *constraints[name], owner=owner)
    for old, new in aliases.items():
        value = params[old]
        if isinstance(value, str) and value == DEPRECATED:
            continue
        default = _default(estimator, new)
        if params[new] is not default and params[new] != default:
            raise ValueError(f"{owner}: {old} is a deprecated alias of {new}; "
                             f"give only {new}")
        warnings.warn(f"{owner}: {old} was renamed {new} and will be removed in the next "
                      f"release; use {new}={value!r}", FutureWarning, stacklevel=3)
        out[new] = check_scalar(old, value, *constraints[new], owner=owner)
    return SimpleNamespace(**out)


def _default(estimator: Any, name: str) -> Any:
    import inspect

    return inspect.signature(type(estimator).__init__).parameters[name].default


def deprecated_attribute(old: str, new: str,
                         transform: Optional[Any] = None) -> property:
    """A read-only alias of fitted attribute ``new`` (through ``transform`` when the
    old one had another form) that warns that ``old`` is going."""

    def get(self: Any) -> Any:
        value = getattr(self, new)
        warnings.warn(f"{type(self).__name__}.{old} was renamed {new} and will be "
                      "removed in the next release", FutureWarning, stacklevel=2)
        return value if transform is None else transform(value)

    return property(get, doc=f"Deprecated alias of ``{new}``.")


def train_losses(history: list) -> list:
    """The ``train_loss`` of every epoch record (the old ``loss_curve_``)."""
    return [record["train_loss"] for record in history]
