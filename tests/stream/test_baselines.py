"""River baselines: parameters validated at the first instance, River's clone."""
import numpy as np
import pytest

from graphbias.data.synthetic.multilabel import multilabel_stream
from graphbias.stream import IHOMER, evaluate_stream
from graphbias.stream.baselines import KNNBinaryRelevance, ThresholdedISOUP, mlhat_style


@pytest.fixture(scope="module")
def stream():
    return multilabel_stream(400, n_features=4, n_labels=3, n_groups=1, seed=0)


@pytest.mark.parametrize("make, match", [
    (lambda: ThresholdedISOUP(threshold=1.5), r"threshold must be a real number in \[0, 1\]"),
    (lambda: ThresholdedISOUP(threshold=True), "threshold must be a real number"),
    (lambda: ThresholdedISOUP(grace_period=0), "grace_period must be an integer >= 1"),
    (lambda: ThresholdedISOUP(grace_period=50.0), "grace_period must be an integer"),
    (lambda: KNNBinaryRelevance(n_neighbors=0), "n_neighbors must be an integer >= 1"),
    (lambda: KNNBinaryRelevance(n_neighbors=False), "n_neighbors must be an integer"),
    (lambda: KNNBinaryRelevance(window_size=-5), "window_size must be an integer >= 1"),
])
def test_parameters_are_validated_at_the_first_instance(make, match):
    model = make()
    assert model.predict_one({"a": 1.0}) == {}
    with pytest.raises(ValueError, match=f"{type(model).__name__}: {match}"):
        model.learn_one({"a": 1.0}, {"y": True})
    assert model.predict_one({"a": 1.0}) == {}                # nothing learned


@pytest.mark.parametrize("make", [lambda: ThresholdedISOUP(grace_period=np.int64(50)),
                                  lambda: KNNBinaryRelevance(n_neighbors=np.int64(3),
                                                             window_size=np.int32(100))])
def test_numpy_integers_are_accepted_and_clones_start_fresh(stream, make):
    model = make()
    res = evaluate_stream(model, stream)
    assert 0.0 <= res["micro_f1"] <= 1.0 and res["instances"] == 400
    fresh = model.clone()
    assert fresh.predict_one(next(iter(stream))[0]) == {}
    np.testing.assert_allclose(evaluate_stream(fresh, stream)["micro_f1"], res["micro_f1"])


def test_mlhat_style_is_one_label_powerset_tree(stream):
    model = mlhat_style(grace_period=50)
    assert isinstance(model, IHOMER) and model.grace_period == 50
    res = evaluate_stream(model, stream)
    assert res["micro_f1"] > 0.5 and model.label_clusters() == [["y0", "y1", "y2"]]
