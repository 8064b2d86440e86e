import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from graphbias.data.synthetic import karate_club, sbm
from graphbias.nn import NodeClassifier


@pytest.fixture(scope="module")
def graph():
    return sbm([60, 60, 60], 0.12, 0.01, num_features=8, feature_signal=0.3, seed=0)


@pytest.mark.parametrize("conv", ["gcn", "sage", "gat"])
def test_gnn_beats_mlp_on_sbm(graph, conv):
    g = graph
    kw = dict(train_mask=g.train_mask, val_mask=g.val_mask)
    gnn = NodeClassifier(conv=conv, random_state=0, max_epochs=150).fit(g.x, g.y, graph=g, **kw)
    mlp = NodeClassifier(conv=conv, random_state=0, max_epochs=150).fit(g.x, g.y, **kw)
    gnn_acc = gnn.score(g.x, g.y, graph=g, mask=g.test_mask)
    mlp_acc = mlp.score(g.x, g.y, mask=g.test_mask)
    assert gnn_acc > 0.9
    assert gnn_acc > mlp_acc + 0.1


def test_reproducible_and_picklable(graph):
    g = graph
    a = NodeClassifier(random_state=3, max_epochs=30).fit(g.x, g.y, graph=g)
    b = NodeClassifier(random_state=3, max_epochs=30).fit(g.x, g.y, graph=g)
    pa = a.predict_proba(g.x, graph=g)
    assert np.array_equal(pa, b.predict_proba(g.x, graph=g))
    c = pickle.loads(pickle.dumps(a))
    assert np.array_equal(pa, c.predict_proba(g.x, graph=g))
    assert np.allclose(pa.sum(1), 1.0, atol=1e-5)


def test_sparse_input_equals_dense(graph):
    g = graph
    dense = NodeClassifier(random_state=0, max_epochs=20, dropout=0.0).fit(g.x, g.y, graph=g)
    sparse = NodeClassifier(random_state=0, max_epochs=20, dropout=0.0).fit(
        sp.csr_matrix(g.x.numpy()), g.y, graph=g)
    assert np.allclose(dense.decision_function(g.x, graph=g),
                       sparse.decision_function(sp.csr_matrix(g.x.numpy()), graph=g),
                       atol=1e-4)


def test_string_labels_and_masks_as_ids():
    g = karate_club()
    names = np.array(["Mr. Hi", "Officer"])[g.y.numpy()]
    clf = NodeClassifier(random_state=0, max_epochs=100).fit(
        g.x, names, graph=g, train_mask=[0, 33], val_mask=g.val_mask)
    assert set(clf.predict(g.x, graph=g)) <= set(names)
    assert clf.score(g.x, names, graph=g, mask=g.test_mask) > 0.7


@pytest.mark.parametrize("kwargs, match", [
    (dict(graph_rows=10), "rows but the graph has"),
    (dict(y_len=5), "inconsistent numbers of samples"),
    (dict(train_mask=np.zeros(180, bool)), "selects no node"),
    (dict(train_mask=[0, 500]), "outside"),
    (dict(train_mask=np.ones(7, bool)), "shape"),
    (dict(nan=True), "NaN"),
])
def test_bad_input(graph, kwargs, match):
    g = graph
    x, y = g.x.numpy().copy(), g.y.numpy()
    if kwargs.pop("nan", False):
        x[3, 2] = np.nan
    if "graph_rows" in kwargs:
        rows = kwargs.pop("graph_rows")
        x, y = x[:rows], y[:rows]
    if "y_len" in kwargs:
        y = y[: kwargs.pop("y_len")]
    with pytest.raises(ValueError, match=match):
        NodeClassifier(max_epochs=2).fit(x, y, graph=g, **kwargs)


@pytest.mark.parametrize("params, match", [
    (dict(conv="gin"), "conv must be"), (dict(max_epochs=0), "max_epochs"),
    (dict(validation_fraction=1.5), "validation_fraction")])
def test_bad_parameters(graph, params, match):
    with pytest.raises(ValueError, match=match):
        NodeClassifier(**params).fit(graph.x, graph.y, graph=graph)


def test_predict_needs_fit_and_same_width(graph):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        NodeClassifier().predict(graph.x, graph=graph)
    clf = NodeClassifier(max_epochs=2).fit(graph.x, graph.y, graph=graph)
    with pytest.raises(ValueError, match="features"):
        clf.predict(graph.x[:, :3], graph=graph)


# Without a graph every row is an isolated node, so scikit-learn's generic checks
# apply. The graph itself cannot go through them: the checks pass only X and y.
@parametrize_with_checks([NodeClassifier(max_epochs=60, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_prediction_without_graph_reuses_the_fit_graph(graph):
    g = graph
    clf = NodeClassifier(random_state=0, max_epochs=60).fit(g.x, g.y, graph=g)
    assert np.array_equal(clf.predict(g.x), clf.predict(g.x, graph=g))
    isolated = clf.predict_proba(g.x, graph="isolated")
    assert not np.allclose(isolated, clf.predict_proba(g.x))
    with pytest.raises(ValueError, match="fitted on a graph of 180 nodes"):
        clf.predict(g.x[:50])


def test_pipeline_score_keeps_the_graph(graph):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    g = graph
    pipe = make_pipeline(StandardScaler(), NodeClassifier(random_state=0, max_epochs=80))
    pipe.fit(g.x.numpy(), g.y.numpy(), nodeclassifier__graph=g)
    accuracy = (pipe.predict(g.x.numpy()) == g.y.numpy()).mean()
    assert pipe.score(g.x.numpy(), g.y.numpy()) == pytest.approx(accuracy)
    graph_free = NodeClassifier().set_params(**pipe[-1].get_params())
    graph_free.fit(StandardScaler().fit_transform(g.x.numpy()), g.y.numpy())
    assert accuracy > graph_free.score(StandardScaler().fit_transform(g.x.numpy()),
                                       g.y.numpy()) + 0.05


def test_cross_validation_over_node_ids(graph):
    from sklearn.model_selection import GridSearchCV, cross_val_score

    g = graph
    ids = np.arange(g.num_nodes).reshape(-1, 1)
    scores = cross_val_score(NodeClassifier(node_ids=True, random_state=0, max_epochs=60),
                             ids, g.y.numpy(), cv=3, params={"graph": g})
    assert scores.shape == (3,) and scores.min() > 0.8
    search = GridSearchCV(NodeClassifier(node_ids=True, random_state=0, max_epochs=60),
                          {"conv": ["gcn", "sage"], "hidden_channels": [4, 16]}, cv=3)
    search.fit(ids, g.y.numpy(), graph=g)
    assert search.best_score_ > 0.8
    clf = search.best_estimator_
    assert clf.predict(ids[:5]).shape == (5,)
    full = NodeClassifier(node_ids=False).set_params(
        **{k: v for k, v in clf.get_params().items() if k != "node_ids"})
    assert clf.n_features_in_ == g.num_features == full.fit(g.x, g.y, graph=g).n_features_in_


@pytest.mark.parametrize("X, kwargs, match", [
    (np.array([[0.5], [1.0]]), {}, "integer node ids"),
    (np.array([[0], [0]]), {}, "more than once"),
    (np.array([[0], [999]]), {}, "outside"),
    (np.arange(10).reshape(-1, 1), {"train_mask": np.ones(180, bool)}, "do not apply"),
])
def test_node_ids_bad_input(graph, X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        NodeClassifier(node_ids=True, max_epochs=2).fit(X, np.zeros(len(X)), graph=graph,
                                                         **kwargs)


def test_node_ids_need_a_graph_with_features(graph):
    with pytest.raises(ValueError, match="needs graph"):
        NodeClassifier(node_ids=True).fit(np.arange(5).reshape(-1, 1), np.zeros(5))


def test_integer_masks(graph):
    g = graph
    as_ints = g.train_mask.numpy().astype(int)
    a = NodeClassifier(random_state=0, max_epochs=20).fit(g.x, g.y, graph=g,
                                                          train_mask=as_ints)
    b = NodeClassifier(random_state=0, max_epochs=20).fit(g.x, g.y, graph=g,
                                                          train_mask=g.train_mask)
    assert np.array_equal(a.predict_proba(g.x), b.predict_proba(g.x))
    with pytest.raises(ValueError, match="selects no node"):
        NodeClassifier(max_epochs=2).fit(g.x, g.y, graph=g, val_mask=np.zeros(180, bool))
    with pytest.warns(UserWarning, match="both train_mask and val_mask"):
        NodeClassifier(max_epochs=2).fit(g.x, g.y, graph=g, train_mask=g.train_mask,
                                         val_mask=g.train_mask)


def test_refit_keeps_nothing_stale(graph):
    g = graph
    clf = NodeClassifier(random_state=0, max_epochs=30).fit(g.x, g.y, graph=g)
    clf.set_params(conv="sage").fit(g.x[:, :4], g.y)
    assert clf.graph_ is None and clf.n_features_in_ == 4
    assert clf.predict(g.x[:, :4]).shape == (180,)
    fresh = NodeClassifier(random_state=0, max_epochs=30, conv="sage").fit(g.x[:, :4], g.y)
    assert np.array_equal(clf.predict_proba(g.x[:, :4]), fresh.predict_proba(g.x[:, :4]))


def test_history_records_every_epoch(graph):
    g = graph
    clf = NodeClassifier(random_state=0, max_epochs=200, patience=5).fit(g.x, g.y, graph=g)
    assert len(clf.history_) == clf.n_epochs_ < 200
    assert set(clf.history_[0]) == {"epoch", "train_loss", "val_loss", "val_acc", "lr",
                                    "seconds"}
    best = clf.history_[clf.best_epoch_]["val_acc"]
    assert best == clf.best_score_ == max(r["val_acc"] for r in clf.history_)
    with pytest.warns(FutureWarning, match="loss_curve_ was renamed history_"):
        assert clf.loss_curve_ == [r["train_loss"] for r in clf.history_]
