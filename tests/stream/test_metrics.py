import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, hamming_loss

from graphbias.stream import MultiLabelMetrics

LABELS = ["a", "b", "c"]
# hand-made case: 4 instances, 3 labels
TRUE = [[1, 0, 0], [1, 1, 0], [0, 0, 0], [0, 1, 0]]
PRED = [[1, 0, 0], [1, 0, 1], [0, 0, 0], [1, 1, 0]]


def _run(true, pred):
    m = MultiLabelMetrics()
    for t, p in zip(true, pred):
        m.update(dict(zip(LABELS, map(bool, t))), dict(zip(LABELS, map(bool, p))))
    return m.get()


def test_hand_computed_case():
    got = _run(TRUE, PRED)
    # exact matches: instances 0 and 2
    assert got["subset_accuracy"] == pytest.approx(2 / 4)
    # wrong cells: (1,b), (1,c), (3,a) -> 3 of 12
    assert got["hamming_loss"] == pytest.approx(3 / 12)
    # per-instance F1: 1, 2*1/(2+2)=0.5, 1 (both empty), 2*1/(1+2)=2/3
    assert got["example_f1"] == pytest.approx((1 + 0.5 + 1 + 2 / 3) / 4)
    # pooled: TP=3 (0a,1a,3b), FP=2 (1c,3a), FN=1 (1b)
    assert got["micro_f1"] == pytest.approx(6 / 9)
    # per label: a TP2 FP1 FN0 -> 4/5; b TP1 FP0 FN1 -> 2/3; c TP0 FP1 FN0 -> 0
    assert got["macro_f1"] == pytest.approx((4 / 5 + 2 / 3 + 0) / 3)


def test_macro_f1_is_not_f1_of_mean_precision_and_recall():
    got = _run(TRUE, PRED)["macro_f1"]
    precision = np.mean([2 / 3, 1.0, 0.0])
    recall = np.mean([1.0, 0.5, 1.0])      # c has no positive: recall taken as 1
    assert got != pytest.approx(2 * precision * recall / (precision + recall))


def test_matches_sklearn_on_random_data():
    rng = np.random.default_rng(0)
    true = rng.random((200, 5)) < 0.3
    pred = rng.random((200, 5)) < 0.3
    true[:, 4] = pred[:, 4] = False   # a label never on: F1 counted as 1
    m = MultiLabelMetrics()
    names = list("vwxyz")
    for t, p in zip(true, pred):
        m.update(dict(zip(names, t)), dict(zip(names, p)))
    got = m.get()
    assert got["subset_accuracy"] == pytest.approx(accuracy_score(true, pred))
    assert got["hamming_loss"] == pytest.approx(hamming_loss(true, pred))
    assert got["micro_f1"] == pytest.approx(f1_score(true, pred, average="micro"))
    assert got["macro_f1"] == pytest.approx(
        f1_score(true, pred, average="macro", zero_division=1.0))
    assert got["example_f1"] == pytest.approx(
        f1_score(true, pred, average="samples", zero_division=1.0))


def test_new_label_mid_stream_and_missing_keys():
    m = MultiLabelMetrics()
    m.update({"a": True}, {"a": True})
    m.update({"a": False, "b": True}, {"b": True})   # 'a' missing from pred -> False
    got = m.get()
    assert got["subset_accuracy"] == 1.0 and got["hamming_loss"] == 0.0
    assert list(m.labels) == ["a", "b"]


def test_empty_is_nan():
    assert np.isnan(MultiLabelMetrics().get()["micro_f1"])
