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
