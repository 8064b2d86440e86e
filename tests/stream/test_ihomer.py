import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from river import checks, compose, evaluate, metrics, preprocessing, stream
from sklearn.base import clone as sklearn_clone
from sklearn.exceptions import NotFittedError

from graphbias.data.multilabel import load_cal500, load_yeast, typed_rows, write_arff
from graphbias.data.synthetic.multilabel import multilabel_stream, sparse_multilabel_stream
from graphbias.stream import IHOMER, authors_preset, evaluate_stream, recovery
from graphbias.stream.baselines import br_hoeffding_trees, classifier_chain, mlhat_style


@pytest.fixture(scope="module")
def small_stream():
    return multilabel_stream(600, n_features=5, n_labels=6, n_groups=2, seed=0)


@pytest.fixture(scope="module")
def sparse_stream():
    return sparse_multilabel_stream(1200, n_features=1800, n_labels=150, n_topics=30,
                                    seed=0)


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
    for p in proba.values():
        assert set(p) == {False, True} and 0.0 <= p[True] <= 1.0
        assert p[False] == pytest.approx(1.0 - p[True])
    assert model.n_seen_ == 600
    assert sorted(sum(model.label_clusters(), [])) == sorted(y)
    assert model._supervised and isinstance(model._tags, set)


def test_progressive_val_score_with_rivers_metrics(small_stream):
    metric = metrics.base.Metrics([metrics.multioutput.ExactMatch(),
                                   metrics.multioutput.MacroAverage(metrics.F1()),
                                   metrics.multioutput.MicroAverage(metrics.F1())])
    evaluate.progressive_val_score(small_stream, IHOMER(), metric)
    ours = evaluate_stream(IHOMER(), small_stream)
    exact, macro, micro = (m.get() for m in metric)
    assert ours["subset_accuracy"] == exact and ours["macro_f1"] == macro
    assert ours["micro_f1"] == micro > 0.55
    steps = list(evaluate.iter_progressive_val_score(small_stream, IHOMER(),
                                                     metrics.multioutput.ExactMatch(),
                                                     step=200))
    assert [s["Step"] for s in steps] == [200, 400, 600]


def test_learns_the_synthetic_stream(small_stream):
    res = evaluate_stream(IHOMER(), small_stream)
    copy_last = evaluate_stream(IHOMER(window_size=1), small_stream)   # predicts y_{t-1}
    assert res["micro_f1"] > 0.55 > copy_last["micro_f1"] + 0.1


def test_pipelines(small_stream):
    scaled = preprocessing.StandardScaler() | IHOMER()
    res = evaluate_stream(scaled, small_stream)
    assert res["micro_f1"] > 0.55
    hashed = preprocessing.FeatureHasher(n_features=64, seed=0) | IHOMER()
    assert evaluate_stream(hashed, small_stream.head(200))["instances"] == 200
    assert isinstance(scaled["IHOMER"], IHOMER) and scaled["IHOMER"].n_seen_ == 600


def test_labels_as_bools_integers_or_strings_learn_the_same(small_stream):
    items = list(small_stream.head(300))
    models = [IHOMER(random_state=0) for _ in range(3)]
    for x, y in items:
        models[0].learn_one(x, y)
        models[1].learn_one(x, {k: int(v) for k, v in y.items()})
        models[2].learn_one({k: str(v) for k, v in x.items()},
                            {k: "1" if v else "0" for k, v in y.items()})
    x = items[0][0]
    assert models[0].predict_proba_one(x) == models[1].predict_proba_one(x) \
        == models[2].predict_proba_one(x)


def test_sparse_features_new_features_are_learned():
    """The label follows feature ``b``, which only exists from instance 300 on; the
    instances never carry every feature, and none is an error."""
    rng = np.random.default_rng(0)
    model = IHOMER(grace_period=50, n_neighbors=5)
    for t in range(900):
        x = {f"noise{rng.integers(50)}": 1.0}
        y = {"p": False}
        if t >= 300:
            b = rng.normal()
            x["b"] = b
            y["p"] = b > 0
        model.learn_one(x, y)
    assert "b" in model.encoder_.feature_index
    assert model.predict_one({"b": 2.0}) == {"p": True}
    assert model.predict_one({"b": -2.0}) == {"p": False}
    assert model.predict_one({}) in ({"p": True}, {"p": False})   # nothing known: no error
    assert model.predict_one({"never-seen": 1.0}) == model.predict_one({})


def test_iter_arff_sparse_stream_with_progressive_val_score(tmp_path, sparse_stream):
    """Done when: River's progressive_val_score runs IHOMER with River's metrics on a
    sparse ARFF stream read by river.stream.iter_arff."""
    data = sparse_stream.head(600)
    path = write_arff(data, tmp_path / "bow.arff")
    rows = stream.iter_arff(path, target=data.label_names, sparse=True)
    micro = metrics.multioutput.MicroAverage(metrics.F1())
    evaluate.progressive_val_score(typed_rows(rows), IHOMER(metric="cosine"), micro)
    same = evaluate_stream(IHOMER(metric="cosine"), data)
    assert micro.get() == same["micro_f1"] > 0.3
    # the raw rows (strings) are learned as their numbers
    raw = IHOMER(metric="cosine")
    for x, y in stream.iter_arff(path, target=data.label_names, sparse=True):
        raw.learn_one(x, y)
    x = next(iter(data))[0]
    assert raw.predict_proba_one(x) == _learn(IHOMER(metric="cosine"), data).predict_proba_one(x)


def test_sparse_stream_beats_binary_relevance_of_hoeffding_trees():
    data = sparse_multilabel_stream(600, n_features=400, n_labels=40, n_topics=8, seed=1)
    ours = evaluate_stream(IHOMER(metric="cosine"), data)
    theirs = evaluate_stream(br_hoeffding_trees(), data.head(300))
    assert ours["micro_f1"] > 0.4 > 0.05 > theirs["micro_f1"]
    assert evaluate_stream(IHOMER(), data)["micro_f1"] < ours["micro_f1"] - 0.2


def test_memory_stays_bounded_as_features_grow():
    """Every instance brings new features: the leaves' statistics keep their size."""
    rng = np.random.default_rng(0)
    model = IHOMER(grace_period=50, window_size=200, max_candidates=16)
    for t in range(1500):
        x = {f"f{t}_{j}": float(rng.random()) for j in range(5)}
        x["shared"] = float(rng.normal())
        model.learn_one(x, {"a": x["shared"] > 0, "b": rng.random() < 0.3})
    assert len(model.encoder_.features) == 1500 * 5 + 1
    for leaf in model.tree_.leaves():
        assert leaf.window.idx.shape == (200, 6)
        assert leaf.hist is None or len(leaf.hist.feats) <= 16
    assert model.predict_one({"shared": 2.0})["a"]


@pytest.mark.parametrize("missing", ["zero", "absent"])
def test_missing_features_modes(missing):
    rng = np.random.default_rng(1)
    model = IHOMER(missing=missing, grace_period=100)
    for _ in range(1500):
        x = {"a": rng.normal()} if rng.random() < 0.7 else {}
        model.learn_one(x, {"p": x.get("a", -1.0) > 0.5})
    assert model.tree_.n_leaves > 1 and model.predict_one({"a": 2.0}) == {"p": True}


def test_river_estimator_checks():
    model = IHOMER(**next(IHOMER._unit_test_params()))
    for check in checks.yield_checks(model):
        if "dataset" in getattr(check, "keywords", {}):
            continue            # River's multi-label check data is downloaded: below
        check(model.clone())
    data = load_yeast().head(80)
    for name in ("check_learn_one", "check_pickling", "check_shuffle_features_no_impact",
                 "check_emerging_features", "check_disappearing_features",
                 "check_radically_disappearing_features", "check_predict_one_pure",
                 "check_no_state_aliasing_with_input", "check_clone_is_independent",
                 "check_bounded_memory_growth"):
        getattr(checks.common, name)(model.clone(), data)


def test_clones(small_stream):
    model = _learn(IHOMER(n_neighbors=3, metric="cosine"), small_stream.head(100))
    for fresh in (model.clone(), sklearn_clone(model)):
        assert fresh.get_params() == model.get_params() and not hasattr(fresh, "tree_")
    assert model.clone({"n_neighbors": 5}).n_neighbors == 5
    assert model.set_params(n_neighbors=4).n_neighbors == 4
    with pytest.raises(ValueError, match="unknown parameter 'k'"):
        model.set_params(k=3)


def test_array_api_matches_dict_api(small_stream):
    a = _learn(IHOMER(), small_stream.head(300))
    b = IHOMER().partial_fit(small_stream.X[:150], small_stream.Y[:150].astype(int))
    b.partial_fit(small_stream.X[150:300], small_stream.Y[150:300])
    X = small_stream.X[300:340]
    got = b.predict(X)
    want = np.array([[a.predict_one(dict(zip(small_stream.feature_names, x)))[lab]
                      for lab in small_stream.label_names] for x in X], dtype=int)
    np.testing.assert_array_equal(got, want)
    assert b.predict_proba(X).shape == (40, 6) and b.n_features_in_ == 5
    # fit forgets: fitting again on the same rows gives the same model
    c = IHOMER().fit(small_stream.X[:300], small_stream.Y[:300])
    c.fit(small_stream.X[:300], small_stream.Y[:300])
    np.testing.assert_array_equal(c.predict(X), got)
    assert c.n_seen_ == 300


def test_sparse_matrices_match_their_dicts(sparse_stream):
    data = sparse_stream.head(300)
    by_rows = _learn(IHOMER(metric="cosine"), data)
    by_matrix = IHOMER(metric="cosine").partial_fit(data.X, data.Y)
    test = sparse_stream.X[300:320]
    names = np.array(data.feature_names)
    want = np.array([[by_rows.predict_proba_one(
        dict(zip(names[test[[i]].indices], test[[i]].data)))[lab][True]
        for lab in data.label_names] for i in range(20)])
    np.testing.assert_allclose(by_matrix.predict_proba(test), want)
    np.testing.assert_allclose(by_matrix.predict_proba(test.toarray()), want)


def test_predict_before_fit():
    model = IHOMER(n_neighbors=3)
    with pytest.raises(NotFittedError):
        model.predict(np.zeros((1, 2)))
    with pytest.raises(NotFittedError):
        model.label_clusters()
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
    ({"x0": "a"}, {"y0": True}, r"x\['x0'\] = 'a' is not a number \(encode categorical"),
    ({"x0": None}, {"y0": True}, "not a number"),
    ({"x0": float("nan")}, {"y0": True}, "not finite"),
    ({"x0": "inf"}, {"y0": True}, "not finite"),
    ({"x0": 1.0}, {"y0": 2}, r"y\['y0'\] = 2 is not a bool, 0/1 or '0'/'1'"),
    ({"x0": 1.0}, {"y0": "yes"}, "not a bool"),
    ({"x0": 1.0}, [True], "must be a dict"),
])
def test_malformed_instance_raises_and_leaves_model_unchanged(small_stream, x, y, match):
    model = _learn(IHOMER(), small_stream.head(250))
    before = pickle.dumps(model)
    with pytest.raises(ValueError, match=match):
        model.learn_one(x, y)
    assert pickle.dumps(model) == before
    if isinstance(x, dict) and "not a number" in match + "finite":
        with pytest.raises(ValueError, match="x"):
            model.predict_one(x)


@pytest.mark.parametrize("X, Y, match", [
    (np.zeros((3, 5)), np.zeros((3, 7)), "label dimension"),
    (np.zeros((3, 4)), np.zeros((3, 6)), "features"),
    (np.zeros((3, 5)), np.full((3, 6), 2), "not 0/1"),
    (np.full((3, 5), np.inf), np.zeros((3, 6)), "not finite"),
    (sp.csr_array(np.full((3, 5), np.nan)), np.zeros((3, 6)), "not finite"),
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
    model = IHOMER(grace_period=100, br_learner="bagged-logistic", lp_max_labels=2,
                   random_state=0)
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
    res = evaluate_stream(with_drift, s, every=250)
    ref = evaluate_stream(without, s, every=250)
    assert any(3000 <= t <= 3500 for t, kind, _ in with_drift.drifts_ if kind == "global")
    after = [sorted(np.flatnonzero(s.info["groups"][1] == g).tolist()) for g in range(3)]
    assert with_drift.clustering_.partition() == sorted(after)
    assert without.clustering_.partition() != sorted(after)
    assert recovery(res["curve"], 3000) < recovery(ref["curve"], 3000)
    assert res["micro_f1"] > ref["micro_f1"]


def test_beats_river_binary_relevance_and_chain_on_a_yeast_prefix():
    yeast = load_yeast().head(500)
    ours = evaluate_stream(IHOMER(), yeast)
    for baseline in (br_hoeffding_trees(), classifier_chain()):
        theirs = evaluate_stream(baseline, yeast)
        assert ours["subset_accuracy"] > theirs["subset_accuracy"]
        assert ours["micro_f1"] > theirs["micro_f1"]


def test_authors_preset_and_mlhat_style_learn_yeast():
    yeast = load_yeast().head(600)
    for model in (authors_preset(random_state=0), mlhat_style()):
        res = evaluate_stream(model, yeast)
        assert res["micro_f1"] > 0.55 and res["subset_accuracy"] > 0.08
    again = evaluate_stream(authors_preset(random_state=0), yeast)
    assert again["micro_f1"] == evaluate_stream(authors_preset(random_state=0),
                                                yeast)["micro_f1"]


def test_cal500_prefix_faster_than_one_tree_per_label(cal500_path):
    cal = load_cal500(cal500_path).head(40)
    ours = evaluate_stream(IHOMER(), cal)
    theirs = evaluate_stream(br_hoeffding_trees(), cal)
    assert ours["instances_per_s"] > 5 * theirs["instances_per_s"]
    assert ours["micro_f1"] > theirs["micro_f1"]
    assert sorted(sum(IHOMER().partial_fit(cal.X, cal.Y).label_clusters(), [])) == list(range(174))


@pytest.mark.parametrize("params, match", [
    ({"n_neighbors": 0}, "n_neighbors must be an integer >= 1, got 0"),
    ({"n_neighbors": True}, "n_neighbors must be an integer >= 1, got True"),
    ({"metric": "manhattan"}, "metric must be one of 'euclidean', 'cosine'"),
    ({"window_size": 2.0}, "window_size must be an integer"),
    ({"lp_max_labels": -1}, "lp_max_labels must be None or an integer >= 0"),
    ({"lp_objective": "hamming"}, "lp_objective must be one of 'f1', 'subset'"),
    ({"br_learner": "tree"}, "br_learner must be one of 'knn', 'bagged-logistic'"),
    ({"n_models": 0}, "n_models must be an integer >= 1"),
    ({"lr": 0.0}, r"lr must be a real number in \(0, inf\)"),
    ({"grace_period": 0}, "grace_period"),
    ({"split_confidence": 1.0}, r"split_confidence must be a real number in \(0, 1\)"),
    ({"tie_threshold": -0.1}, "tie_threshold"), ({"n_bins": 1}, "n_bins must be an integer >= 2"),
    ({"max_leaves": 0}, "max_leaves"),
    ({"max_candidates": 0}, "max_candidates must be None or an integer >= 1"),
    ({"missing": "nan"}, "missing must be one of 'zero', 'absent'"),
    ({"cluster_grace_period": 0}, "cluster_grace_period"),
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
               split_confidence=np.float64(1e-7), max_candidates=np.int64(3),
               random_state=np.int64(0))
    b = IHOMER(n_neighbors=5, window_size=200, grace_period=100, max_candidates=3,
               random_state=0)
    a.partial_fit(small_stream.X[:300], small_stream.Y[:300])
    b.partial_fit(small_stream.X[:300], small_stream.Y[:300])
    np.testing.assert_array_equal(a.predict_proba(small_stream.X[300:350]),
                                  b.predict_proba(small_stream.X[300:350]))
    rng_model = IHOMER(clustering="random", random_state=np.random.default_rng(0))
    assert rng_model.partial_fit(small_stream.X[:50], small_stream.Y[:50]).n_seen_ == 50


def test_pipeline_is_compatible_with_multioutput_metrics():
    pipe = compose.Pipeline(preprocessing.StandardScaler(), IHOMER())
    assert metrics.multioutput.ExactMatch().works_with(pipe)
