"""Multi-label metrics, updated one instance at a time.

For ``n`` instances with true label sets ``Y_i`` and predicted sets ``P_i`` over
``L`` labels:

- subset accuracy ``(1/n) sum_i [P_i = Y_i]``;
- Hamming loss ``(1/(nL)) sum_i |P_i xor Y_i|``;
- example-based F1 ``(1/n) sum_i 2|P_i & Y_i| / (|P_i| + |Y_i|)`` (1 when both are empty);
- micro-F1 ``2 TP / (2 TP + FP + FN)`` with counts pooled over labels and instances;
- macro-F1 ``(1/L) sum_l 2 TP_l / (2 TP_l + FP_l + FN_l)``: the per-label F1 averaged
  over labels, a label with no positive and no predicted positive scoring 1. It is
  **not** the F1 of the averaged precision and recall.
"""
from __future__ import annotations

from typing import Hashable, Mapping

import numpy as np

__all__ = ["MultiLabelMetrics"]


class MultiLabelMetrics:
    """Running multi-label metrics over dict predictions (River style).

    ``update(y_true, y_pred)`` takes ``dict[label, bool]``; a label missing from a dict
    counts as False. Labels seen for the first time mid-stream are added with zero
    counts for the instances before (they were all true negatives then).

    >>> m = MultiLabelMetrics()
    >>> m.update({"a": True, "b": False}, {"a": True, "b": True})
    >>> m.update({"a": False, "b": True}, {"a": False, "b": True})
    >>> m.get()["subset_accuracy"], m.get()["hamming_loss"]
    (0.5, 0.25)
    """

    def __init__(self) -> None:
        self.labels: dict[Hashable, int] = {}
        self.tp = np.zeros(0, dtype=np.int64)
        self.fp = np.zeros(0, dtype=np.int64)
        self.fn = np.zeros(0, dtype=np.int64)
        self.n = 0
        self.exact = 0
        self.example_f1 = 0.0

    def _index(self, label: Hashable) -> int:
        if label not in self.labels:
            self.labels[label] = len(self.labels)
            for name in ("tp", "fp", "fn"):
                setattr(self, name, np.append(getattr(self, name), 0))
        return self.labels[label]

    def update(self, y_true: Mapping[Hashable, bool], y_pred: Mapping[Hashable, bool]) -> None:
        true = {lab for lab, v in y_true.items() if v}
        pred = {lab for lab, v in y_pred.items() if v}
        for lab in list(y_true) + list(y_pred):
            self._index(lab)
        for lab in true & pred:
            self.tp[self.labels[lab]] += 1
        for lab in pred - true:
            self.fp[self.labels[lab]] += 1
        for lab in true - pred:
            self.fn[self.labels[lab]] += 1
        self.n += 1
        self.exact += true == pred
        denom = len(true) + len(pred)
        self.example_f1 += 1.0 if denom == 0 else 2.0 * len(true & pred) / denom

    def get(self) -> dict[str, float]:
        """The metrics so far (NaN before the first update)."""
        if self.n == 0:
            return {k: float("nan") for k in ("subset_accuracy", "hamming_loss",
                                              "example_f1", "micro_f1", "macro_f1")}
        tp, fp, fn = self.tp.sum(), self.fp.sum(), self.fn.sum()
        n_labels = max(len(self.labels), 1)
        denom = 2 * self.tp + self.fp + self.fn
        per_label = np.where(denom > 0, 2 * self.tp / np.maximum(denom, 1), 1.0)
        return {
            "subset_accuracy": self.exact / self.n,
            "hamming_loss": float(fp + fn) / (self.n * n_labels),
            "example_f1": self.example_f1 / self.n,
            "micro_f1": float(2 * tp / (2 * tp + fp + fn)) if 2 * tp + fp + fn else 1.0,
            "macro_f1": float(per_label.mean()) if len(self.labels) else 1.0,
        }
