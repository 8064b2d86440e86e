"""Checks and encodes River-style instances (``x: dict``, ``y: dict``) as sparse rows.

Features get an index the first time they are seen, so the feature set grows with
the stream: an instance may leave features out (they are missing, see the models'
``missing`` parameter) and may bring features never seen before (learned from then
on). An instance is encoded as a *sparse row*: the indices of the features it
carries, ascending, and their values. Values are numbers (``bool`` reads as 0/1) or
numeric strings, as :func:`river.stream.iter_arff` yields for sparse rows.

Labels may also appear at any time; a label missing from ``y`` is False. A label
value is a bool, 0/1 or ``'0'``/``'1'`` (River's ARFF reader yields nominal labels as
strings). Checking never changes the encoder, so a malformed instance leaves a model
untouched.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Hashable, Mapping, NamedTuple

import numpy as np

__all__ = ["InstanceEncoder", "SparseRow", "parse_label", "parse_value"]

_NUMBER_TYPES = (int, float, np.integer, np.floating, np.bool_)


class SparseRow(NamedTuple):
    """One instance's features: ``idx`` ascending feature indices (int64) and their
    ``val`` (float64); ``new`` the features seen for the first time, in ``x``'s order,
    whose indices follow the known ones."""

    idx: np.ndarray
    val: np.ndarray
    new: list


def parse_value(value: Any, where: str) -> float:
    """A feature value as a finite float.

    Parameters
    ----------
    value : number, bool or str
        A number, a bool (0/1) or a numeric string such as ``'0.25'``.
    where : str
        Names the value in the error message, e.g. ``"x['a']"``.

    Returns
    -------
    float
        The value.

    Raises
    ------
    ValueError
        When ``value`` is not a number or a numeric string, or is not finite.

    Examples
    --------
    >>> parse_value("0.5", "x['a']"), parse_value(True, "x['b']")
    (0.5, 1.0)
    """
    if isinstance(value, _NUMBER_TYPES) or isinstance(value, numbers.Real):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{where} = {value!r} is not a number (encode categorical "
                             "features first, e.g. with river.preprocessing."
                             "OneHotEncoder)") from None
    else:
        raise ValueError(f"{where} = {value!r} is not a number")
    if not math.isfinite(number):
        raise ValueError(f"{where} = {value!r} is not finite")
    return number


def parse_label(value: Any, where: str) -> bool:
    """A label value as a bool.

    Parameters
    ----------
    value : bool, number or str
        ``True``/``False``, a number equal to 0 or 1, or ``'0'``/``'1'``.
    where : str
        Names the value in the error message, e.g. ``"y['sad']"``.

    Returns
    -------
    bool
        The label.

    Raises
    ------
    ValueError
        For any other value.

    Examples
    --------
    >>> parse_label("1", "y['a']"), parse_label(0, "y['b']"), parse_label(True, "y['c']")
    (True, False, True)
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        if value.strip() in ("0", "1"):
            return value.strip() == "1"
    elif isinstance(value, _NUMBER_TYPES) or isinstance(value, numbers.Real):
        if value == 0 or value == 1:
            return bool(value == 1)
    raise ValueError(f"{where} = {value!r} is not a bool, 0/1 or '0'/'1'")


class InstanceEncoder:
    """Index maps for features and labels, and the checks on each instance.

    Examples
    --------
    >>> enc = InstanceEncoder()
    >>> row = enc.check_x({"b": "2.5", "a": 1})
    >>> row.idx.tolist(), row.val.tolist(), row.new
    ([0, 1], [2.5, 1.0], ['b', 'a'])
    >>> enc.commit(row.new, [])
    >>> enc.check_x({"a": 3.0, "c": 0.5}).idx.tolist()
    [1, 2]
    """

    def __init__(self) -> None:
        self.features: list[Hashable] = []
        self.feature_index: dict[Hashable, int] = {}
        self.labels: list[Hashable] = []
        self.label_index: dict[Hashable, int] = {}

    @property
    def n_features(self) -> int:
        return len(self.features)

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    def check_x(self, x: Any, where: str = "x") -> SparseRow:
        """``x`` as a sparse row; raises ``ValueError`` when malformed."""
        if not isinstance(x, Mapping):
            raise ValueError(f"{where} must be a dict of feature -> number, got "
                             f"{type(x).__name__}")
        try:
            val = np.fromiter(x.values(), dtype=float, count=len(x))
            valid = bool(np.isfinite(val).all())
        except (TypeError, ValueError):
            valid = False
        if not valid:   # the slow path names the bad value
            val = np.array([parse_value(v, f"{where}[{k!r}]") for k, v in x.items()],
                           dtype=float)
        get = self.feature_index.get
        found = [get(key) for key in x]
        new: list[Hashable] = []
        if None in found:
            for j, key in enumerate(x):
                if found[j] is None:
                    found[j] = len(self.features) + len(new)
                    new.append(key)
        idx = np.array(found, dtype=np.int64)
        order = np.argsort(idx, kind="stable")
        return SparseRow(idx[order], val[order], new)

    def check_y(self, y: Any, where: str = "y") -> tuple[list[int], list[Hashable]]:
        """Indices of the labels that are on (new labels numbered after the known
        ones) and the new labels, on or off, in ``y``'s order; raises ``ValueError``
        when ``y`` is malformed."""
        if not isinstance(y, Mapping):
            raise ValueError(f"{where} must be a dict of label -> bool, got "
                             f"{type(y).__name__}")
        on, new = [], []
        values = list(y.values())
        if not all(type(v) is bool for v in values):
            values = [parse_label(v, f"{where}[{k!r}]") for k, v in y.items()]
        for key, flag in zip(y, values):
            idx = self.label_index.get(key)
            if idx is None:
                new.append(key)
                if flag:
                    on.append(len(self.labels) + len(new) - 1)
            elif flag:
                on.append(idx)
        return on, new

    def commit(self, new_features: list[Hashable], new_labels: list[Hashable]) -> None:
        """Records the new features and labels of an instance (after its checks)."""
        for key in new_features:
            self.feature_index[key] = len(self.features)
            self.features.append(key)
        for lab in new_labels:
            self.label_index[lab] = len(self.labels)
            self.labels.append(lab)

    def to_dict(self, values: np.ndarray) -> dict:
        """A per-label vector as ``{label: value}``."""
        return dict(zip(self.labels, values.tolist()))

    def to_proba_dict(self, proba: np.ndarray) -> dict:
        """Per-label probabilities as River's multi-label classifiers give them:
        ``{label: {False: 1 - p, True: p}}``."""
        return {lab: {False: 1.0 - p, True: p} for lab, p in zip(self.labels, proba.tolist())}
