"""evaluate_stream: River's progressive validation and multi-output metrics."""
import numpy as np
import pytest
from river import metrics
from sklearn.metrics import f1_score, hamming_loss

from graphbias.data.multilabel import MultiLabelStream
from graphbias.data.synthetic.multilabel import multilabel_stream
from graphbias.stream import (IHOMER, cluster_structure, evaluate_stream,
                              multilabel_metrics, recovery)


class _Replay:
    """A River multi-label classifier whose predictions are given in advance."""

    def __init__(self, preds):
        self.preds, self.t = preds, 0

    def learn_one(self, x, y):
        self.t += 1

    def predict_one(self, x):
        return self.preds[self.t]


def _replay_class():
    from river import base

    class Replay(_Replay, base.MultiLabelClassifier):
        pass

    return Replay


# 4 instances, 3 labels; label c is never on and never predicted on
TRUE = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0], [0, 1, 0]], bool)
PRED = np.array([[1, 0, 0], [1, 0, 0], [0, 0, 0], [1, 1, 0]], bool)


def _run(true, pred, **kwargs):
    labels = [f"l{j}" for j in range(true.shape[1])]
    stream = MultiLabelStream(np.zeros((len(true), 1)), true, ["x"], labels)
    preds = [dict(zip(labels, map(bool, p))) for p in pred]
    return evaluate_stream(_replay_class()(preds), stream, **kwargs)


def test_hand_computed_case_and_rivers_macro_f1():
    got = _run(TRUE, PRED)
    assert got["subset_accuracy"] == pytest.approx(2 / 4)        # instances 0 and 2
    assert got["hamming_loss"] == pytest.approx(2 / 12)          # (1,b), (3,a)
    # pooled: TP=3 (0a, 1a, 3b), FP=1 (3a), FN=1 (1b)
    assert got["micro_f1"] == pytest.approx(6 / 8)
    # per label: a 2TP 1FP -> 4/5; b 1TP 1FN -> 2/3; c nothing on anywhere -> 0 (River),
    # where counting it as 1 would give (4/5 + 2/3 + 1) / 3
    assert got["macro_f1"] == pytest.approx((4 / 5 + 2 / 3 + 0) / 3)
    assert got["macro_f1"] == pytest.approx(f1_score(TRUE, PRED, average="macro",
                                                     zero_division=0.0))
    # per instance: 1, 2/3, 0 (nothing on: 0 in River), 2/3
    assert got["example_f1"] == pytest.approx((1 + 2 / 3 + 0 + 2 / 3) / 4)
    assert got["instances"] == 4 and got["instances_per_s"] > 0


def test_matches_sklearn_on_random_predictions():
    rng = np.random.default_rng(0)
    true = rng.random((200, 5)) < 0.3
    pred = rng.random((200, 5)) < 0.3
    got = _run(true, pred)
    assert got["hamming_loss"] == pytest.approx(hamming_loss(true, pred))
    assert got["micro_f1"] == pytest.approx(f1_score(true, pred, average="micro"))
    assert got["macro_f1"] == pytest.approx(f1_score(true, pred, average="macro",
                                                     zero_division=0.0))


def test_metrics_are_rivers():
    names = {k: type(m).__name__ for k, m in multilabel_metrics().items()}
    assert names == {"subset_accuracy": "ExactMatch", "micro_accuracy": "MicroAverage",
                     "example_f1": "SampleAverage", "micro_f1": "MicroAverage",
                     "macro_f1": "MacroAverage"}
    assert isinstance(multilabel_metrics()["macro_f1"].metric, metrics.F1)


def test_curve_windows_callbacks_and_memory():
    rng = np.random.default_rng(1)
    true = rng.random((100, 3)) < 0.5
    pred = true.copy()
    pred[50:] = ~pred[50:]                                        # right, then all wrong
    got = _run(true, pred, every=25, track_memory=True, max_instances=90)
    assert [p["t"] for p in got["curve"]] == [25, 50, 75, 90]
    assert [p["subset_accuracy"] for p in got["curve"][:3]] == pytest.approx([1, 1, 0])
    assert got["instances"] == 90 and got["peak_memory_mb"] > 0
    assert all(p["peak_memory_mb"] <= got["peak_memory_mb"] for p in got["curve"])
    assert np.isnan(_run(true, pred)["peak_memory_mb"])


def test_cluster_structure_callback():
    stream = multilabel_stream(400, n_features=4, n_labels=6, n_groups=2, seed=0)
    got = evaluate_stream(IHOMER(cluster_grace_period=50), stream, every=200,
                          callbacks=[cluster_structure])
    last = got["curve"][-1]
    assert last["n_clusters"] >= 1 and 0.0 <= last["mean_jaccard"] <= 1.0
    assert cluster_structure(IHOMER()) == {} and cluster_structure(object()) == {}


def test_recovery():
    curve = [{"t": 100, "m": 0.8}, {"t": 200, "m": 0.6}, {"t": 300, "m": 0.2},
             {"t": 400, "m": 0.7}]
    assert recovery(curve, 200, metric="m") == 200.0       # 0.7 >= 0.9 * 0.7
    assert recovery(curve, 200, metric="m", level=1.01) == float("inf")
