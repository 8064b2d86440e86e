import pickle

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from graphbias.augment.augmenter import ConditionedGenerator, LocalAugmenter
from graphbias.augment.classifier import LAGNNClassifier
from graphbias.augment.convs import resolve_conv
from graphbias.augment.models import LAGNN, consistency_loss
from graphbias.data.graph import Graph
from graphbias.data.synthetic.graphs import sbm

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(scope="module")
def graph():
    return sbm([40, 40], 0.15, 0.02, num_features=8, seed=0)


def _small_clf(**kw):
    params = dict(max_epochs=15, random_state=0,
                  augmenter=LocalAugmenter(max_epochs=1, hidden_channels=16))
    params.update(kw)
    return LAGNNClassifier(**params)


def _masks(g):
    return dict(graph=g, train_mask=g.train_mask, val_mask=g.val_mask)


# ------------------------------------------------------------------- modules
def test_consistency_loss_zero_for_identical_one_hot():
    p = torch.eye(3)
    assert float(consistency_loss([p, p], 0.5)) == pytest.approx(0.0, abs=1e-6)
    q = torch.full((3, 3), 1 / 3)
    assert float(consistency_loss([p, q], 0.5)) > 0
    with pytest.raises(ValueError, match="reduction"):
        consistency_loss([p, q], 0.5, "sum")


@pytest.mark.parametrize("conv", ["gcn", "sage", "gat"])
def test_lagnn_shapes_graphbias_convs(graph, conv):
    x = torch.as_tensor(graph.x).float()
    model = LAGNN(conv, 8, 4, 2, n_generated=2, heads=2)
    out = model(x, [x.clone(), x.clone()], graph)
    assert out.shape == (80, 2)
    with pytest.raises(ValueError, match="generated"):
        model(x, [x], graph)


def test_lagnn_with_pyg_conv_matches_shapes(graph):
    pyg = pytest.importorskip("torch_geometric.nn")
    x = torch.as_tensor(graph.x).float()
    model = LAGNN(pyg.GCNConv, 8, 4, 3, n_generated=1)
    assert model.conv_class is pyg.GCNConv
    out = model(x, [x + 0.1], graph)
    assert out.shape == (80, 3)
    out.sum().backward()
    assert all(p.grad is not None for p in model.branches.parameters())


def test_resolve_conv_errors():
    with pytest.raises(ValueError, match="conv must be one of"):
        resolve_conv("mlp")
    with pytest.raises(ValueError, match="torch.nn.Module convolution class"):
        resolve_conv(int)


# ---------------------------------------------------------------- classifier
def test_classifier_fit_predict_score(graph):
    clf = _small_clf().fit(graph.x, graph.y, **_masks(graph))
    pred = clf.predict(graph.x, graph=graph)
    assert pred.shape == (80,) and set(pred) <= set(np.unique(graph.y))
    proba = clf.predict_proba(graph.x, graph=graph)
    assert proba.shape == (80, 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert 0 <= clf.score(graph.x, graph.y, graph=graph) <= 1
    assert clf.generator_seconds_ > 0 and clf.fit_seconds_ >= clf.generator_seconds_
    assert clf.augmenter_ is not clf.augmenter and not hasattr(clf.augmenter, "module_")


@pytest.mark.parametrize("conv", ["sage", "gat"])
def test_conv_names_as_for_node_classifier(graph, conv):
    clf = _small_clf(conv=conv, max_epochs=3).fit(graph.x, graph.y, **_masks(graph))
    assert clf.module_.conv_class is resolve_conv(conv)
    positional = LAGNNClassifier(conv, max_epochs=3, random_state=0,
                                 augmenter=LocalAugmenter(max_epochs=1, hidden_channels=16))
    assert positional.conv == conv


def test_backbone_is_a_deprecated_alias_of_conv(graph):
    new = _small_clf(conv="sage", max_epochs=5).fit(graph.x, graph.y, **_masks(graph))
    with pytest.warns(FutureWarning, match="backbone was renamed conv"):
        old = _small_clf(backbone="sage", max_epochs=5).fit(graph.x, graph.y, **_masks(graph))
    np.testing.assert_array_equal(old.predict_proba(graph.x), new.predict_proba(graph.x))
    with pytest.raises(ValueError, match="give only conv"):
        _small_clf(backbone="sage", conv="gat").fit(graph.x, graph.y, **_masks(graph))


def test_classifier_pyg_conv(graph):
    pyg = pytest.importorskip("torch_geometric.nn")
    clf = _small_clf(conv=pyg.GCNConv, max_epochs=5).fit(
        graph.x, graph.y, graph=graph, train_mask=graph.train_mask)
    assert clf.predict(graph.x, graph=graph).shape == (80,)


def test_classifier_random_state_reproducible(graph):
    a = _small_clf().fit(graph.x, graph.y, **_masks(graph)).predict_proba(graph.x)
    b = _small_clf().fit(graph.x, graph.y, **_masks(graph)).predict_proba(graph.x)
    np.testing.assert_array_equal(a, b)


def test_classifier_pickles(graph):
    clf = _small_clf(max_epochs=5).fit(graph.x, graph.y, graph=graph,
                                       train_mask=graph.train_mask)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(graph.x, graph=graph),
                                  clf.predict_proba(graph.x, graph=graph))


def test_history_and_early_stopping_on_validation_loss(graph):
    clf = _small_clf(max_epochs=300, patience=5, lr=0.05).fit(graph.x, graph.y,
                                                            **_masks(graph))
    assert len(clf.history_) == clf.n_epochs_ < 300
    assert set(clf.history_[0]) == {"epoch", "train_loss", "val_loss", "val_acc", "lr",
                                    "seconds"}
    losses = [r["val_loss"] for r in clf.history_]
    assert clf.best_epoch_ == int(np.argmin(losses)) == clf.n_epochs_ - 1 - 5
    assert clf.best_score_ == min(losses)
    # the weights of the best epoch are kept: validating again gives its loss
    val = graph.val_mask.numpy()
    proba = clf.predict_proba(graph.x)[val]
    y = graph.y.numpy()[val]
    assert -np.log(proba[np.arange(len(y)), y]).mean() == pytest.approx(clf.best_score_,
                                                                      rel=1e-5)
    with pytest.warns(FutureWarning, match="loss_curve_ was renamed history_"):
        assert clf.loss_curve_ == [r["train_loss"] for r in clf.history_]


def test_without_validation_every_epoch_runs(graph):
    g = graph.replace(val_mask=None)
    clf = _small_clf(max_epochs=7, early_stopping=False).fit(g.x, g.y, graph=g,
                                                             train_mask=g.train_mask)
    assert clf.n_epochs_ == 7 and clf.best_epoch_ == 6 and clf.best_score_ is None
    assert set(clf.history_[0]) == {"epoch", "train_loss", "lr", "seconds"}


def test_sample_pool_draws_training_passes_from_the_pool(graph, monkeypatch):
    matrices = []
    decode = ConditionedGenerator.decode
    monkeypatch.setattr(ConditionedGenerator, "decode",
                        lambda self, z, rows=None, out=None:
                        matrices.append(z.size(0) // graph.num_nodes)
                        or decode(self, z, rows, out))
    clf = _small_clf(sample_pool=6, n_generated=2, max_epochs=10).fit(graph.x, graph.y,
                                                                     **_masks(graph))
    # the fixed validation passes in one product, then one pool of 6: never a draw
    # per epoch
    assert matrices == [2 * clf.n_samples, 6]
    assert 0 <= clf.score(graph.x, graph.y, graph=graph) <= 1
    matrices.clear()
    _small_clf(n_generated=2, max_epochs=10, patience=None).fit(graph.x, graph.y,
                                                                **_masks(graph))
    # fresh draws: every epoch decodes its passes' matrices in one product
    assert matrices == [2 * clf.n_samples] * 11


@pytest.mark.filterwarnings("ignore:this CPU has no bfloat16")
def test_bfloat16_decoding_reaches_every_draw(graph, monkeypatch):
    dtypes = []
    decode = ConditionedGenerator.decode
    monkeypatch.setattr(ConditionedGenerator, "decode",
                        lambda self, z, rows=None, out=None:
                        dtypes.append(self.dtype) or decode(self, z, rows, out))
    aug = LocalAugmenter(max_epochs=1, hidden_channels=16, random_state=0).fit(graph)
    fast = _small_clf(decode_dtype="bfloat16", augmenter=aug).fit(graph.x, graph.y,
                                                                  **_masks(graph))
    proba = fast.predict_proba(graph.x)
    # training, validation and prediction draws all decode in bfloat16
    assert len(dtypes) == fast.n_epochs_ + 2 and set(dtypes) == {"bfloat16"}
    plain = _small_clf(augmenter=aug).fit(graph.x, graph.y, **_masks(graph))
    assert not np.array_equal(proba, plain.predict_proba(graph.x))
    assert np.abs(proba - plain.predict_proba(graph.x)).max() < 0.05


def test_best_draw_validates_each_epoch_on_a_fresh_draw_and_predicts_with_the_best(
        graph):
    clf = _small_clf(inference="best_draw", max_epochs=25, patience=None,
                     lr=0.05).fit(graph.x, graph.y, **_masks(graph))
    assert clf.n_epochs_ == 25
    # prediction uses the kept epoch's draw: its validation loss is the best one
    val = graph.val_mask.numpy()
    proba = clf.predict_proba(graph.x)[val]
    y = graph.y.numpy()[val]
    assert -np.log(proba[np.arange(len(y)), y]).mean() == pytest.approx(clf.best_score_,
                                                                      rel=1e-5)
    assert clf._draw_seed(3) != clf._draw_seed(4)
    np.testing.assert_array_equal(proba, clf.predict_proba(graph.x)[val])   # fixed


def test_paper_preset(graph):
    clf = LAGNNClassifier.paper()
    assert (clf.conv, clf.max_epochs, clf.patience, clf.inference) == \
        ("gcn", 2000, None, "best_draw")
    assert clf.augmenter.selection == "uncertainty" and clf.augmenter.warmup == 200
    assert clf.n_samples == 4 and clf.n_generated == 1
    assert LAGNNClassifier.paper("gat").max_epochs == 1000
    small = LAGNNClassifier.paper(max_epochs=5, random_state=0, augmenter=LocalAugmenter(
        max_epochs=1, hidden_channels=16, selection="uncertainty", warmup=2, n_models=4))
    small.fit(graph.x, graph.y, **_masks(graph))
    assert small.augmenter_.selected_step_ is not None and small.n_epochs_ == 5


def test_prefitted_augmenter_is_reused(graph):
    aug = LocalAugmenter(max_epochs=1, hidden_channels=16, random_state=0).fit(graph)
    clf = LAGNNClassifier(max_epochs=3, augmenter=aug, random_state=0).fit(
        graph.x, graph.y, graph=graph, train_mask=graph.train_mask)
    assert clf.augmenter_ is aug and clf.generator_seconds_ == 0.0


def test_prediction_without_graph_reuses_the_fit_graph(graph):
    clf = _small_clf().fit(graph.x, graph.y, **_masks(graph))
    np.testing.assert_array_equal(clf.predict_proba(graph.x),
                                  clf.predict_proba(graph.x, graph=graph))
    isolated = clf.predict_proba(graph.x, graph="isolated")
    assert isolated.shape == (80, 2) and not np.allclose(isolated, clf.predict_proba(graph.x))
    with pytest.raises(ValueError, match="fitted on a graph of 80 nodes"):
        clf.predict(graph.x[:50])


def test_cross_validation_over_node_ids(graph):
    from sklearn.model_selection import cross_val_score

    ids = np.arange(graph.num_nodes).reshape(-1, 1)
    clf = _small_clf(node_ids=True, max_epochs=40)
    scores = cross_val_score(clf, ids, graph.y.numpy(), cv=3, params={"graph": graph})
    assert scores.shape == (3,) and scores.min() > 0.7
    clf.fit(ids[:60], graph.y.numpy()[:60], graph=graph)
    assert clf.n_features_in_ == graph.num_features
    full = clf.predict_proba(ids)
    np.testing.assert_array_equal(clf.predict_proba(ids[[70, 3, 41]]), full[[70, 3, 41]])
    with pytest.raises(ValueError, match="train_mask / val_mask do not apply"):
        _small_clf(node_ids=True).fit(ids, graph.y.numpy(), graph=graph,
                                      train_mask=graph.train_mask)


def test_graph_free_fit_uses_the_features_as_their_own_neighbours(graph):
    clf = _small_clf(max_epochs=30).fit(graph.x, graph.y)
    assert clf.augmenter_ is None and clf.generator_seconds_ == 0.0 and clf.graph_ is None
    proba = clf.predict_proba(graph.x)
    np.testing.assert_allclose(clf.predict_proba(graph.x[:7]), proba[:7], atol=1e-6)
    # the generated matrices are the features: every pass sees x in every branch
    x = torch.as_tensor(graph.x).float()
    clf.module_.eval()
    with torch.no_grad():
        expected = torch.softmax(clf.module_(x, [x], Graph(torch.empty(2, 0).long(), 80)), 1)
    np.testing.assert_allclose(proba, expected.numpy(), atol=1e-6)


def test_refit_keeps_nothing_stale(graph):
    clf = _small_clf(max_epochs=5).fit(graph.x, graph.y, **_masks(graph))
    clf.set_params(conv="sage").fit(graph.x[:, :4], graph.y)
    assert clf.graph_ is None and clf.n_features_in_ == 4 and clf.augmenter_ is None
    fresh = _small_clf(max_epochs=5, conv="sage").fit(graph.x[:, :4], graph.y)
    np.testing.assert_array_equal(clf.predict_proba(graph.x[:, :4]),
                                  fresh.predict_proba(graph.x[:, :4]))


@pytest.mark.parametrize("params, match", [
    ({"conv": "mlp"}, "conv must be"), ({"conv": int}, "conv must be"),
    ({"n_samples": 0}, "n_samples"), ({"n_samples": True}, "n_samples"),
    ({"num_layers": 1}, "num_layers"), ({"temperature": 0}, "temperature"),
    ({"consistency_weight": -1}, "consistency_weight"), ({"augmenter": "cvae"}, "augmenter"),
    ({"heads": 0}, "heads"), ({"sample_pool": 1, "n_generated": 2}, "sample_pool"),
    ({"sample_pool": 2.5}, "sample_pool"), ({"dropout": 1.0}, "dropout"),
    ({"device": "gpu"}, "device"), ({"max_epochs": 0}, "max_epochs"),
    ({"inference": "median"}, "inference"), ({"conv_kwargs": [("K", 2)]}, "conv_kwargs"),
    ({"decode_dtype": "float16"}, "decode_dtype must be one of"),
])
def test_classifier_bad_params(graph, params, match):
    with pytest.raises(ValueError, match=match):
        LAGNNClassifier(**params).fit(graph.x, graph.y, graph=graph,
                                      train_mask=graph.train_mask)


def test_numpy_integers_are_accepted(graph):
    clf = _small_clf(n_samples=np.int64(2), max_epochs=np.int32(3)).fit(
        graph.x, graph.y, **_masks(graph))
    assert clf.n_epochs_ == 3


def test_classifier_bad_input(graph):
    with pytest.raises(ValueError):
        _small_clf().fit(graph.x[:10], graph.y, graph=graph, train_mask=graph.train_mask)
    clf = _small_clf(max_epochs=2).fit(graph.x, graph.y, graph=graph,
                                       train_mask=graph.train_mask)
    with pytest.raises(ValueError, match="features"):
        clf.predict(np.zeros((80, 5)), graph=graph)


def test_predict_before_fit(graph):
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        LAGNNClassifier().predict(graph.x, graph=graph)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error(graph):
    with pytest.raises(ValueError, match="CUDA is not available"):
        _small_clf(device="cuda").fit(graph.x, graph.y, **_masks(graph))


@needs_cuda
def test_cuda_fit_matches_the_cpu_contract(graph):
    clf = _small_clf(device="cuda").fit(graph.x, graph.y, **_masks(graph))
    assert clf.device_.type == "cuda" and next(clf.module_.parameters()).is_cuda
    assert clf.augmenter_.device_.type == "cpu"      # a given unfitted one keeps its device
    default = LAGNNClassifier(device="cuda", max_epochs=5, random_state=0).set_params(
        augmenter=None)
    default.fit(graph.x, graph.y, **_masks(graph))
    assert default.augmenter_.device_.type == "cuda"
    proba = clf.predict_proba(graph.x)
    assert isinstance(proba, np.ndarray) and proba.shape == (80, 2)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(graph.x), proba, atol=1e-5)


# Without a graph every row is an isolated node (its own neighbour), so
# scikit-learn's generic checks apply; the graph itself cannot go through them.
@parametrize_with_checks([LAGNNClassifier(
    max_epochs=30, n_samples=2, random_state=0,
    augmenter=LocalAugmenter(max_epochs=1, hidden_channels=8))])
def test_sklearn_compatible(estimator, check):
    check(estimator)
