import pickle

import numpy as np
import pytest
import torch

from graphbias.augment.augmenter import LocalAugmenter
from graphbias.augment.classifier import LAGNNClassifier
from graphbias.augment.generator import ConditionalVAE, train_generator
from graphbias.augment.models import LAGNN, consistency_loss
from graphbias.data.synthetic.graphs import sbm


@pytest.fixture(scope="module")
def graph():
    return sbm([40, 40], 0.15, 0.02, num_features=8, seed=0)


@pytest.fixture(scope="module")
def binary_graph(graph):
    g = sbm([40, 40], 0.15, 0.02, num_features=8, seed=0)
    g.x = (torch.as_tensor(g.x) > 0).float()
    return g


def _small_clf(**kw):
    params = dict(max_epochs=15, random_state=0, augmenter=LocalAugmenter(epochs=1, hidden_size=16))
    params.update(kw)
    return LAGNNClassifier(**params)


def test_loss_auto_picks_bce_for_binary_and_mse_for_real(graph, binary_graph):
    assert LocalAugmenter(epochs=1, hidden_size=16, random_state=0).fit(binary_graph).loss_ == "bce"
    assert LocalAugmenter(epochs=1, hidden_size=16, random_state=0).fit(graph).loss_ == "mse"
    assert LocalAugmenter(loss="mse", epochs=1, hidden_size=16).fit(binary_graph).loss_ == "mse"


def test_bce_on_real_features_is_rejected(graph):
    with pytest.raises(ValueError, match="bce"):
        LocalAugmenter(loss="bce", epochs=1).fit(graph)


def test_generator_loss_decreases(binary_graph):
    # neighbours mostly share the centre's block, so features = one-hot block are learnable
    torch.manual_seed(0)
    x = torch.nn.functional.one_hot(torch.as_tensor(binary_graph.y).long(), 8).float()
    model = ConditionalVAE(8, latent_size=4, hidden_size=32, loss="bce")
    with torch.no_grad():
        src, dst = binary_graph.edge_index
        before = float(model.elbo_loss(x[src], x[dst]))
    curve = train_generator(model, x, binary_graph.edge_index, epochs=15, batch_size=64,
                            lr=0.01)
    assert curve[-1] < curve[0] and curve[-1] < 0.5 * before


def test_transform_shapes_and_reproducibility(graph):
    aug = LocalAugmenter(epochs=2, hidden_size=16, random_state=0).fit(graph)
    out = aug.transform(graph, n_samples=3, random_state=1)
    assert len(out) == 3 and all(t.shape == (80, 8) for t in out)
    again = aug.transform(graph, n_samples=3, random_state=1)
    assert all(torch.equal(a, b) for a, b in zip(out, again))
    assert not torch.equal(out[0], out[1])


def test_row_normalised_features_give_row_normalised_samples(binary_graph):
    x = torch.as_tensor(binary_graph.x).float() + 0.01
    x = x / x.sum(1, keepdim=True)
    aug = LocalAugmenter(epochs=1, hidden_size=16, random_state=0).fit(binary_graph, x=x)
    assert aug.normalize_ == "row"
    s = aug.transform(binary_graph, n_samples=1, x=x)[0]
    assert torch.allclose(s.sum(1), torch.ones(80), atol=1e-5)


def test_save_load_round_trip(graph, tmp_path):
    aug = LocalAugmenter(epochs=2, hidden_size=16, random_state=0).fit(graph)
    path = tmp_path / "gen.pt"
    aug.save(path)
    blob = torch.load(path, weights_only=True)
    assert set(blob) == {"config", "state_dict"}
    loaded = LocalAugmenter.load(path)
    a = aug.transform(graph, n_samples=2, random_state=3)
    b = loaded.transform(graph, n_samples=2, random_state=3)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert loaded.loss_ == aug.loss_ and loaded.get_params() == aug.get_params()


def test_load_rejects_foreign_file(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a saved LocalAugmenter"):
        LocalAugmenter.load(path)


def test_augmenter_errors(graph):
    with pytest.raises(ValueError, match="latent_size"):
        LocalAugmenter(latent_size=0).fit(graph)
    with pytest.raises(ValueError, match="loss"):
        LocalAugmenter(loss="l1").fit(graph)
    with pytest.raises(ValueError, match="rows"):
        LocalAugmenter(epochs=1).fit(graph, x=np.zeros((3, 8)))
    aug = LocalAugmenter(epochs=1, hidden_size=16).fit(graph)
    with pytest.raises(ValueError, match="n_samples"):
        aug.transform(graph, n_samples=0)
    with pytest.raises(ValueError, match="features"):
        aug.transform(graph, x=np.zeros((80, 5)))


def test_consistency_loss_zero_for_identical_one_hot():
    p = torch.eye(3)
    assert float(consistency_loss([p, p], 0.5)) == pytest.approx(0.0, abs=1e-6)
    q = torch.full((3, 3), 1 / 3)
    assert float(consistency_loss([p, q], 0.5)) > 0


@pytest.mark.parametrize("backbone", ["gcn", "sage", "gat"])
def test_lagnn_shapes_graphbias_backbones(graph, backbone):
    x = torch.as_tensor(graph.x).float()
    model = LAGNN(backbone, 8, 4, 2, n_generated=2, heads=2)
    out = model(x, [x.clone(), x.clone()], graph)
    assert out.shape == (80, 2)
    with pytest.raises(ValueError, match="generated"):
        model(x, [x], graph)


def test_lagnn_with_pyg_backbone_matches_shapes(graph):
    pyg = pytest.importorskip("torch_geometric.nn")
    x = torch.as_tensor(graph.x).float()
    model = LAGNN(pyg.GCNConv, 8, 4, 3, n_generated=1)
    assert model.pyg
    out = model(x, [x + 0.1], graph)
    assert out.shape == (80, 3)
    out.sum().backward()
    assert all(p.grad is not None for p in model.branches.parameters())


def test_classifier_fit_predict_score(graph):
    clf = _small_clf().fit(graph.x, graph.y, graph=graph, train_mask=graph.train_mask,
                           val_mask=graph.val_mask)
    pred = clf.predict(graph.x, graph=graph)
    assert pred.shape == (80,) and set(pred) <= set(np.unique(graph.y))
    proba = clf.predict_proba(graph.x, graph=graph)
    assert proba.shape == (80, 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert 0 <= clf.score(graph.x, graph.y, graph=graph) <= 1
    assert clf.generator_seconds_ > 0 and clf.fit_seconds_ >= clf.generator_seconds_


def test_classifier_pyg_backbone(graph):
    pyg = pytest.importorskip("torch_geometric.nn")
    clf = _small_clf(backbone=pyg.GCNConv, max_epochs=5).fit(
        graph.x, graph.y, graph=graph, train_mask=graph.train_mask)
    assert clf.predict(graph.x, graph=graph).shape == (80,)


def test_classifier_random_state_reproducible(graph):
    kw = dict(graph=graph, train_mask=graph.train_mask, val_mask=graph.val_mask)
    a = _small_clf().fit(graph.x, graph.y, **kw).predict_proba(graph.x, graph=graph)
    b = _small_clf().fit(graph.x, graph.y, **kw).predict_proba(graph.x, graph=graph)
    np.testing.assert_array_equal(a, b)


def test_classifier_pickles(graph):
    clf = _small_clf(max_epochs=5).fit(graph.x, graph.y, graph=graph,
                                       train_mask=graph.train_mask)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(graph.x, graph=graph),
                                  clf.predict_proba(graph.x, graph=graph))


def test_sample_pool_draws_training_passes_from_the_pool(graph, monkeypatch):
    from graphbias.augment.augmenter import ConditionedGenerator

    calls = []
    draw = ConditionedGenerator.draw
    monkeypatch.setattr(ConditionedGenerator, "draw",
                        lambda self, n=1, gen=None, rows=None: calls.append(n)
                        or draw(self, n, gen, rows))
    kw = dict(graph=graph, train_mask=graph.train_mask, val_mask=graph.val_mask)
    clf = _small_clf(sample_pool=6, n_generated=2, max_epochs=10).fit(graph.x, graph.y, **kw)
    # the fixed validation samples, then one pool of 6: never a draw per epoch
    assert calls == [2] * clf.n_samples + [6]
    assert 0 <= clf.score(graph.x, graph.y, graph=graph) <= 1
    calls.clear()
    _small_clf(n_generated=2, max_epochs=10, patience=None).fit(graph.x, graph.y, **kw)
    assert len(calls) == clf.n_samples + 10 * clf.n_samples


def test_prefitted_augmenter_is_reused(graph):
    aug = LocalAugmenter(epochs=1, hidden_size=16, random_state=0).fit(graph)
    clf = LAGNNClassifier(max_epochs=3, augmenter=aug, random_state=0).fit(
        graph.x, graph.y, graph=graph, train_mask=graph.train_mask)
    assert clf.augmenter_ is aug and clf.generator_seconds_ == 0.0


@pytest.mark.parametrize("params, match", [
    ({"backbone": "mlp"}, "backbone"), ({"backbone": int}, "backbone"),
    ({"n_samples": 0}, "n_samples"), ({"num_layers": 1}, "num_layers"),
    ({"temperature": 0}, "temperature"), ({"consistency_weight": -1}, "consistency_weight"),
    ({"augmenter": "cvae"}, "augmenter"), ({"heads": 0}, "heads"),
    ({"sample_pool": 1, "n_generated": 2}, "sample_pool"), ({"sample_pool": 2.5}, "sample_pool"),
])
def test_classifier_bad_params(graph, params, match):
    with pytest.raises(ValueError, match=match):
        LAGNNClassifier(**params).fit(graph.x, graph.y, graph=graph,
                                      train_mask=graph.train_mask)


def test_classifier_bad_input(graph):
    with pytest.raises(ValueError):
        _small_clf().fit(graph.x[:10], graph.y, graph=graph, train_mask=graph.train_mask)
    clf = _small_clf(max_epochs=2).fit(graph.x, graph.y, graph=graph,
                                       train_mask=graph.train_mask)
    with pytest.raises(ValueError):
        clf.predict(np.zeros((80, 5)), graph=graph)


def test_predict_before_fit(graph):
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        LAGNNClassifier().predict(graph.x, graph=graph)


def test_generator_learns_class_topics_of_normalised_bag_of_words():
    """On row-normalised bag-of-words the generator learns the words present, so its
    samples carry the centre's class (no labels used); a collapsed generator would
    produce the average row for every node."""
    from sklearn.linear_model import LogisticRegression

    from graphbias.data.synthetic import sbm
    from graphbias.data.transforms import normalize_features

    g = sbm([120] * 4, 0.03, 0.002, num_features=200, feature_signal=0.3, features="bow",
            words_per_node=6, seed=0)
    g = g.replace(x=normalize_features(g.x))
    aug = LocalAugmenter(epochs=10, random_state=0).fit(g)
    assert aug.binary_ and aug.normalize_ == "row" and aug.loss_ == "bce"
    gen = aug.transform(g, n_samples=1, random_state=0)[0]
    assert torch.allclose(gen.sum(1), torch.ones(g.num_nodes), atol=1e-4)
    feats = (gen - gen.mean(0)).numpy()
    y, train, test = g.y.numpy(), g.train_mask.numpy(), g.test_mask.numpy()
    acc = LogisticRegression(max_iter=2000, C=10).fit(feats[train], y[train]).score(
        feats[test], y[test])
    assert acc > 0.5   # chance: 0.25


def test_general_row_stochastic_features_are_not_binarised(graph):
    x = torch.softmax(torch.as_tensor(graph.x, dtype=torch.float32), dim=1)
    aug = LocalAugmenter(epochs=1, hidden_size=16, random_state=0).fit(graph, x=x)
    assert aug.normalize_ == "row" and not aug.binary_
