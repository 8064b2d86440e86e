"""Checks and encodes River-style instances (``x: dict``, ``y: dict``) as vectors.

The feature set is fixed by the first instance: a later instance may leave features
out (read as 0, as in sparse ARFF) but may not bring new ones. Labels may appear at
any time; a label missing from ``y`` is False. Checking never changes the encoder, so
a malformed instance leaves a model untouched.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Hashable, Mapping, Optional

import numpy as np

__all__ = ["InstanceEncoder"]


class InstanceEncoder:
    """Index maps for features and labels, and the checks on each instance."""

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

    def check_x(self, x: Any, where: str = "x") -> np.ndarray:
        """``x`` as a float vector in feature order; raises ``ValueError`` when malformed."""
        if not isinstance(x, Mapping):
            raise ValueError(f"{where} must be a dict of feature -> number, got "
                             f"{type(x).__name__}")
        if not x:
            raise ValueError(f"{where} is empty")
        for key, value in x.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{where}[{key!r}] = {value!r} is not a number")
            if not math.isfinite(value):
                raise ValueError(f"{where}[{key!r}] = {value!r} is not finite")
        if not self.features:
            return np.asarray(list(x.values()), dtype=float)
        unknown = [k for k in x if k not in self.feature_index]
        if unknown:
            raise ValueError(f"{where} has features {unknown[:5]} not in the first "
                             f"instance's {len(self.features)} features")
        vec = np.zeros(len(self.features))
        for key, value in x.items():
            vec[self.feature_index[key]] = value
        return vec

    def check_y(self, y: Any, where: str = "y") -> tuple[list[int], list[Hashable]]:
        """Indices of the known labels that are on, and the new labels that are on or off
        (in ``y``'s order); raises ``ValueError`` when ``y`` is malformed."""
        if not isinstance(y, Mapping):
            raise ValueError(f"{where} must be a dict of label -> bool, got "
                             f"{type(y).__name__}")
        on, new = [], []
        for key, value in y.items():
            if isinstance(value, (bool, np.bool_)):
                flag = bool(value)
            elif isinstance(value, numbers.Integral) and int(value) in (0, 1):
                flag = bool(int(value))
            else:
                raise ValueError(f"{where}[{key!r}] = {value!r} is not a bool (or 0/1)")
            try:
                idx: Optional[int] = self.label_index.get(key)
            except TypeError:
                raise ValueError(f"{where} has an unhashable label {key!r}") from None
            if idx is None:
                new.append(key)
                if flag:
                    on.append(len(self.labels) + len(new) - 1)
            elif flag:
                on.append(idx)
        return on, new

    def commit(self, x: Mapping, new_labels: list[Hashable]) -> None:
        """Records the first instance's features and the new labels (after checks)."""
        if not self.features:
            self.features = list(x)
            self.feature_index = {k: i for i, k in enumerate(self.features)}
        for lab in new_labels:
            self.label_index[lab] = len(self.labels)
            self.labels.append(lab)

    def to_dict(self, values: np.ndarray) -> dict:
        """A per-label vector as ``{label: value}``."""
        return {lab: values[i].item() for i, lab in enumerate(self.labels)}
