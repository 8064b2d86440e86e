import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from graphbias.data.multilabel import load_cal500, load_yeast
from graphbias.data.synthetic.multilabel import multilabel_stream
from graphbias.stream import IHOMER, prequential, recovery
from graphbias.stream.baselines import br_hoeffding_trees, classifier_chain


@pytest.fixture(scope="module")
def small_stream():
    return multilabel_stream(600, n_features=5, n_labels=6, n_groups=2, seed=0)


def _learn(model, stream):
    for x, y in stream:
        model.learn_one(x, y)
    return model


def test_river_api(small_stream):
    model = IHOMER()
    assert model.predict_one({"x0": 0.0}) == {} and model.predict_proba_one({"x0": 0.0}) == {}
    _learn(model, small_stream)
    x, y = next(iter(small_stream))
    pred, proba = model.predict_one(x), model.predict_proba_one(x)
    assert set(pred) == set(proba) == set(y)
    assert all(isinstance(v, bool) for v in pred.values())
    assert all(0.0 <= v <= 1.0 for v in proba.values())
    assert model.n_seen_ == 600
    assert sorted(sum(model.label_clusters(), [])) == sorted(y)


def test_learns_the_synthetic_stream(small_stream):
    res = prequential(IHOMER(), small_stream)
    copy_last = prequential(IHOMER(window_size=1), small_stream)   # predicts y_{t-1}
    assert res["micro_f1"] > 0.55 > copy_last["micro_f1"] + 0.1


def test_array_api_matches_dict_api(small_stream):
    a = _learn(IHOMER(), small_stream.head(300))
    b = IHOMER().partial_fit(small_stream.X[:150], small_stream.Y[:150].astype(int))
    b.partial_fit(small_stream.X[150:300], small_stream.Y[150:300])
    X = small_stream.X[300:340]
    got = b.predict(X)
    want = np.array([[a.predict_one(dict(zip(small_stream.feature_names, x)))[lab]
                      for lab in small_stream.label_names] for x in X], dtype=int)
    np.testing.assert_array_equal(got, want)
    assert b.predict_proba(X).shape == (40, 6)
    # fit forgets: fitting again on the same rows gives the same model
    c = IHOMER().fit(small_stream.X[:300], small_stream.Y[:300])
    c.fit(small_stream.X[:300], small_stream.Y[:300])
    np.testing.assert_array_equal(c.predict(X), got)
    assert c.n_seen_ == 300


def test_predict_before_fit_and_sklearn_contract():
    model = IHOMER(n_neighbors=3)
    with pytest.raises(NotFittedError):
        model.predict(np.zeros((1, 2)))
    assert clone(model).get_params()["n_neighbors"] == 3
    with pytest.raises(ValueError, match="clustering"):
        IHOMER(clustering="kmeans").partial_fit(np.zeros((2, 2)), np.zeros((2, 2)))


def test_new_labels_mid_stream():
    rng = np.random.default_rng(0)
    model = IHOMER(grace_period=50, cluster_grace_period=50)
    for t in range(400):
        x = {"a": rng.normal(), "b": rng.normal()}
        y = {"p": x["a"] > 0}
        if t >= 200:
            y["q"] = x["b"] > 0
        model.learn_one(x, y)
    assert model.labels_ == ["p", "q"]
    assert model.predict_one({"a": 1.0, "b": 1.0}) == {"p": True, "q": True}
    assert model.predict_one({"a": -1.0, "b": -1.0}) == {"p": False, "q": False}


@pytest.mark.parametrize("x, y, match", [
    ([1.0, 2.0], {"y0": True}, "must be a dict"),
    ({}, {"y0": True}, "empty"),
    ({"x0": "a"}, {"y0": True}, "not a number"),
    ({"x0": float("nan")}, {"y0": True}, "not finite"),
    ({"x0": 1.0, "new": 1.0}, {"y0": True}, "not in the first"),
    ({"x0": 1.0}, {"y0": 2}, "not a bool"),
    ({"x0": 1.0}, {"y0": "yes"}, "not a bool"),
    ({"x0": 1.0}, [True], "must be a dict"),
])
def test_malformed_instance_raises_and_leaves_model_unchanged(small_stream, x, y, match):
    model = _learn(IHOMER(), small_stream.head(250))
    before = pickle.dumps(model)
    with pytest.raises(ValueError, match=match):
        model.learn_one(x, y)
    assert pickle.dumps(model) == before


@pytest.mark.parametrize("X, Y, match", [
    (np.zeros((3, 5)), np.zeros((3, 7)), "label dimension"),
    (np.zeros((3, 4)), np.zeros((3, 6)), "features"),
    (np.zeros((3, 5)), np.full((3, 6), 2), "not 0/1"),
    (np.full((3, 5), np.inf), np.zeros((3, 6)), "not finite"),
    (np.zeros((3, 5)), np.zeros((2, 6)), "rows"),
    (np.zeros(5), np.zeros(6), "2-D"),
])
def test_bad_arrays_raise_and_change_nothing(small_stream, X, Y, match):
    model = IHOMER().partial_fit(small_stream.X[:100], small_stream.Y[:100])
    before = pickle.dumps(model)
    with pytest.raises(ValueError, match=match):
        model.partial_fit(X, Y)
    assert pickle.dumps(model) == before


def test_pickle_mid_stream_resumes_identically():
    s = multilabel_stream(1400, n_features=5, n_labels=6, n_groups=2, drift_points=[700],
                          seed=4)
    items = list(s)
    model = IHOMER(grace_period=100)
    for x, y in items[:800]:
        model.learn_one(x, y)
    twin = pickle.loads(pickle.dumps(model))
    for x, y in items[800:]:
        assert model.predict_one(x) == twin.predict_one(x)
        assert model.predict_proba_one(x) == twin.predict_proba_one(x)
        model.learn_one(x, y)
        twin.learn_one(x, y)
    assert model.drifts_ == twin.drifts_


def test_drift_restructures_clusters_and_recovers_faster():
    s = multilabel_stream(6000, n_labels=12, n_groups=3, correlation=0.9,
                          drift_points=[3000], seed=5)
    with_drift, without = IHOMER(), IHOMER(drift_detection=False)
    res = prequential(with_drift, s, every=250)
    ref = prequential(without, s, every=250)
    assert any(3000 <= t <= 3500 for t, kind, _ in with_drift.drifts_ if kind == "global")
    after = [sorted(np.flatnonzero(s.info["groups"][1] == g).tolist()) for g in range(3)]
    assert with_drift.clustering_.partition() == sorted(after)
    assert without.clustering_.partition() != sorted(after)
    assert recovery(res["curve"], 3000) < recovery(ref["curve"], 3000)
    assert res["micro_f1"] > ref["micro_f1"]


def test_beats_river_binary_relevance_and_chain_on_a_yeast_prefix():
    yeast = load_yeast().head(500)
    ours = prequential(IHOMER(), yeast)
    for baseline in (br_hoeffding_trees(), classifier_chain()):
        theirs = prequential(baseline, yeast)
        assert ours["subset_accuracy"] > theirs["subset_accuracy"]
        assert ours["micro_f1"] > theirs["micro_f1"]


def test_cal500_prefix_faster_than_one_tree_per_label(cal500_path):
    cal = load_cal500(cal500_path).head(40)
    ours = prequential(IHOMER(), cal)
    theirs = prequential(br_hoeffding_trees(), cal)
    assert ours["instances_per_s"] > 5 * theirs["instances_per_s"]
    assert ours["micro_f1"] > theirs["micro_f1"]
    assert sorted(sum(IHOMER().partial_fit(cal.X, cal.Y).label_clusters(), [])) == list(range(174))


@pytest.mark.parametrize("params, match", [
    ({"n_neighbors": 0}, "n_neighbors must be an integer >= 1, got 0"),
    ({"n_neighbors": True}, "n_neighbors must be an integer >= 1, got True"),
    ({"window_size": 2.0}, "window_size must be an integer"),
    ({"lp_max_labels": -1}, "lp_max_labels must be an integer >= 0"),
    ({"lp_objective": "hamming"}, "lp_objective must be one of 'f1', 'subset'"),
    ({"grace_period": 0}, "grace_period"),
    ({"split_confidence": 1.0}, r"split_confidence must be a real number in \(0, 1\)"),
    ({"tie_threshold": -0.1}, "tie_threshold"), ({"n_bins": 1}, "n_bins must be an integer >= 2"),
    ({"max_leaves": 0}, "max_leaves"), ({"cluster_grace_period": 0}, "cluster_grace_period"),
    ({"cluster_confidence": 0.0}, "cluster_confidence"),
    ({"cluster_tie_threshold": float("nan")}, "cluster_tie_threshold"),
    ({"min_jaccard": 1.0}, r"min_jaccard must be a real number in \[0, 1\)"),
    ({"clustering": "kmeans"}, "clustering must be one of"),
    ({"drift_detection": 1}, "drift_detection must be a bool"),
    ({"drift_delta": 2}, "drift_delta"), ({"warning_delta": "0.01"}, "warning_delta"),
    ({"random_state": -1}, "random_state must be None or an integer >= 0 or a numpy Generator, got -1"),
    ({"random_state": np.random.RandomState(0)}, "random_state"),
])
def test_every_parameter_is_validated_when_learning_starts(small_stream, params, match):
    x, y = next(iter(small_stream))
    model = IHOMER(**params)
    with pytest.raises(ValueError, match=f"IHOMER: {match}"):
        model.learn_one(x, y)
    assert not hasattr(model, "encoder_")                  # nothing learned
    with pytest.raises(ValueError, match=f"IHOMER: {match}"):
        IHOMER(**params).partial_fit(small_stream.X[:5], small_stream.Y[:5])
    with pytest.raises(ValueError, match=f"IHOMER: {match}"):
        IHOMER(**params).fit(small_stream.X[:5], small_stream.Y[:5])


def test_fit_validates_parameters_changed_by_set_params(small_stream):
    model = IHOMER().fit(small_stream.X[:50], small_stream.Y[:50])
    model.set_params(n_bins=1)
    with pytest.raises(ValueError, match="n_bins"):
        model.fit(small_stream.X[:50], small_stream.Y[:50])


def test_numpy_parameters_are_accepted(small_stream):
    a = IHOMER(n_neighbors=np.int64(5), window_size=np.int32(200), grace_period=np.int64(100),
               split_confidence=np.float64(1e-7), random_state=np.int64(0))
    b = IHOMER(n_neighbors=5, window_size=200, grace_period=100, random_state=0)
    a.partial_fit(small_stream.X[:300], small_stream.Y[:300])
    b.partial_fit(small_stream.X[:300], small_stream.Y[:300])
    np.testing.assert_array_equal(a.predict_proba(small_stream.X[300:350]),
                                  b.predict_proba(small_stream.X[300:350]))
    rng_model = IHOMER(clustering="random", random_state=np.random.default_rng(0))
    assert rng_model.partial_fit(small_stream.X[:50], small_stream.Y[:50]).n_seen_ == 50
