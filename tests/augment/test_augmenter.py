import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from graphbias.augment.augmenter import LocalAugmenter
from graphbias.augment.generator import ConditionalVAE, edge_pairs, train_generator
from graphbias.data.synthetic.graphs import sbm

DATA = Path(__file__).parent / "data"
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(scope="module")
def graph():
    return sbm([40, 40], 0.15, 0.02, num_features=8, seed=0)


@pytest.fixture(scope="module")
def binary_graph():
    g = sbm([40, 40], 0.15, 0.02, num_features=8, seed=0)
    g.x = (torch.as_tensor(g.x) > 0).float()
    return g


def _small(**kw):
    params = dict(max_epochs=2, hidden_channels=16, random_state=0)
    params.update(kw)
    return LocalAugmenter(**params)


def test_loss_auto_picks_bce_for_binary_and_mse_for_real(graph, binary_graph):
    assert _small(max_epochs=1).fit(binary_graph).loss_ == "bce"
    assert _small(max_epochs=1).fit(graph).loss_ == "mse"
    assert _small(loss="mse", max_epochs=1).fit(binary_graph).loss_ == "mse"


def test_bce_on_real_features_is_rejected(graph):
    with pytest.raises(ValueError, match="bce"):
        LocalAugmenter(loss="bce", max_epochs=1).fit(graph)


def test_generator_loss_decreases(binary_graph):
    # neighbours mostly share the centre's block, so features = one-hot block are learnable
    torch.manual_seed(0)
    x = torch.nn.functional.one_hot(torch.as_tensor(binary_graph.y).long(), 8).float()
    model = ConditionalVAE(8, latent_size=4, hidden_channels=32, loss="bce")
    with torch.no_grad():
        src, dst = binary_graph.edge_index
        before = float(model.elbo_loss(x[src], x[dst]))
    result = train_generator(model, x, binary_graph.edge_index, max_epochs=15,
                             batch_size=64, lr=0.01)
    curve = [r["train_loss"] for r in result.history]
    assert result.n_epochs == 15 and curve[-1] < curve[0] and curve[-1] < 0.5 * before


def test_train_generator_draws_batches_as_a_plain_adam_loop(graph):
    """One permutation of the pairs per epoch from torch's global generator, batches
    in its order, loss weighted by batch size: the same numbers as the loop it
    replaced."""
    x = torch.as_tensor(graph.x).float()
    neighbour, centre = edge_pairs(graph.edge_index)

    def reference():
        torch.manual_seed(3)
        model = ConditionalVAE(8, 3, 16, "mse")
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        curve = []
        for _ in range(3):
            order, total = torch.randperm(neighbour.numel()), 0.0
            for start in range(0, order.numel(), 50):
                batch = order[start:start + 50]
                loss = model.elbo_loss(x[neighbour[batch]], x[centre[batch]])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * batch.numel()
            curve.append(total / order.numel())
        return model, curve

    expected_model, expected = reference()
    torch.manual_seed(3)
    model = ConditionalVAE(8, 3, 16, "mse")
    result = train_generator(model, x, graph.edge_index, max_epochs=3, batch_size=50, lr=0.01)
    assert [r["train_loss"] for r in result.history] == expected
    for a, b in zip(model.parameters(), expected_model.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kwargs, match", [
    (dict(max_epochs=0), "max_epochs"), (dict(batch_size=True), "batch_size"),
    (dict(lr=-1.0), "lr"),
])
def test_train_generator_bad_arguments(graph, kwargs, match):
    args = dict(max_epochs=1, batch_size=8, lr=0.01)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        train_generator(ConditionalVAE(8), torch.as_tensor(graph.x).float(),
                        graph.edge_index, **args)


def test_graph_without_edges_between_distinct_nodes_is_a_clear_error(graph):
    loops = graph.replace(edge_index=torch.arange(80).repeat(2, 1))
    with pytest.raises(ValueError, match="no edges between distinct nodes"):
        _small().fit(loops)


def test_history_and_fitted_attributes(graph):
    aug = _small(max_epochs=3).fit(graph)
    assert len(aug.history_) == aug.n_epochs_ == 3 and aug.best_epoch_ == 2
    assert set(aug.history_[0]) == {"epoch", "train_loss", "lr", "seconds"}
    assert isinstance(aug.module_, ConditionalVAE) and aug.device_ == torch.device("cpu")
    assert aug.n_features_in_ == 8 and aug.fit_seconds_ > 0


def test_deprecated_names_still_work(graph):
    new = _small().fit(graph)
    with pytest.warns(FutureWarning) as record:
        old = LocalAugmenter(hidden_size=16, epochs=2, random_state=0).fit(graph)
    messages = " ".join(str(w.message) for w in record)
    assert "hidden_size was renamed hidden_channels" in messages
    assert "epochs was renamed max_epochs" in messages
    assert old.module_.encoder.out_features == 16 and old.n_epochs_ == 2
    with pytest.warns(FutureWarning, match="generator_ was renamed module_"):
        assert old.generator_ is old.module_
    with pytest.warns(FutureWarning, match="loss_curve_ was renamed history_"):
        assert old.loss_curve_ == [r["train_loss"] for r in new.history_]
    with pytest.raises(ValueError, match="give only hidden_channels"):
        LocalAugmenter(hidden_size=16, hidden_channels=32).fit(graph)


def test_refit_keeps_nothing_stale(graph, binary_graph):
    aug = _small(max_epochs=1).fit(binary_graph)
    assert aug.loss_ == "bce"
    aug.set_params(loss="mse").fit(graph, x=torch.as_tensor(graph.x)[:, :5])
    assert aug.loss_ == "mse" and aug.n_features_in_ == 5 and aug.n_epochs_ == 1
    fresh = _small(max_epochs=1, loss="mse").fit(graph, x=torch.as_tensor(graph.x)[:, :5])
    for a, b in zip(aug.module_.parameters(), fresh.module_.parameters()):
        assert torch.equal(a, b)


def test_transform_shapes_and_reproducibility(graph):
    aug = _small().fit(graph)
    out = aug.transform(graph, n_samples=3, random_state=1)
    assert len(out) == 3 and all(t.shape == (80, 8) for t in out)
    again = aug.transform(graph, n_samples=3, random_state=1)
    assert all(torch.equal(a, b) for a, b in zip(out, again))
    assert not torch.equal(out[0], out[1])
    assert aug.transform(graph, n_samples=np.int64(2), random_state=1)[0].device.type == "cpu"


def test_row_normalised_features_give_row_normalised_samples(binary_graph):
    x = torch.as_tensor(binary_graph.x).float() + 0.01
    x = x / x.sum(1, keepdim=True)
    aug = _small(max_epochs=1).fit(binary_graph, x=x)
    assert aug.normalize_ == "row"
    s = aug.transform(binary_graph, n_samples=1, x=x)[0]
    assert torch.allclose(s.sum(1), torch.ones(80), atol=1e-5)


def test_general_row_stochastic_features_are_not_binarised(graph):
    x = torch.softmax(torch.as_tensor(graph.x, dtype=torch.float32), dim=1)
    aug = _small(max_epochs=1).fit(graph, x=x)
    assert aug.normalize_ == "row" and not aug.binary_


def test_generator_learns_class_topics_of_normalised_bag_of_words():
    """On row-normalised bag-of-words the generator learns the words present, so its
    samples carry the centre's class (no labels used); a collapsed generator would
    produce the average row for every node."""
    from sklearn.linear_model import LogisticRegression

    from graphbias.data.transforms import normalize_features

    g = sbm([120] * 4, 0.03, 0.002, num_features=200, feature_signal=0.3, features="bow",
            words_per_node=6, seed=0)
    g = g.replace(x=normalize_features(g.x))
    aug = LocalAugmenter(max_epochs=10, random_state=0).fit(g)
    assert aug.binary_ and aug.normalize_ == "row" and aug.loss_ == "bce"
    gen = aug.transform(g, n_samples=1, random_state=0)[0]
    assert torch.allclose(gen.sum(1), torch.ones(g.num_nodes), atol=1e-4)
    feats = (gen - gen.mean(0)).numpy()
    y, train, test = g.y.numpy(), g.train_mask.numpy(), g.test_mask.numpy()
    acc = LogisticRegression(max_iter=2000, C=10).fit(feats[train], y[train]).score(
        feats[test], y[test])
    assert acc > 0.5   # chance: 0.25


@pytest.mark.parametrize("params, match", [
    (dict(latent_size=0), "latent_size"), (dict(hidden_channels=2.0), "hidden_channels"),
    (dict(loss="l1"), "loss"), (dict(normalize="max"), "normalize"),
    (dict(max_epochs=True), "max_epochs"), (dict(lr=0), "lr"),
    (dict(device="tpu"), "device"), (dict(random_state=-1), "random_state"),
    (dict(selection="best"), "selection"), (dict(warmup=-1), "warmup"),
    (dict(warmup=1.0), "warmup"), (dict(n_models=1), "n_models"),
])
def test_bad_parameters(graph, params, match):
    with pytest.raises(ValueError, match=match):
        LocalAugmenter(**params).fit(graph)


def test_bad_input(graph):
    with pytest.raises(ValueError, match="rows"):
        _small(max_epochs=1).fit(graph, x=np.zeros((3, 8)))
    aug = _small(max_epochs=1).fit(graph)
    with pytest.raises(ValueError, match="n_samples"):
        aug.transform(graph, n_samples=0)
    with pytest.raises(ValueError, match="features"):
        aug.transform(graph, x=np.zeros((80, 5)))


def test_transform_before_fit(graph):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LocalAugmenter().transform(graph)


# ------------------------------------------------------------------ persistence
def test_save_load_round_trip(graph, tmp_path):
    aug = _small().fit(graph)
    path = tmp_path / "gen.pt"
    aug.save(path)
    blob = torch.load(path, weights_only=True)
    assert set(blob) == {"config", "state_dict"}
    assert json.loads(blob["config"])["version"] == 2
    loaded = LocalAugmenter.load(path)
    a = aug.transform(graph, n_samples=2, random_state=3)
    b = loaded.transform(graph, n_samples=2, random_state=3)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert loaded.loss_ == aug.loss_ and loaded.get_params() == aug.get_params()
    assert loaded.history_ == aug.history_ and loaded.n_epochs_ == aug.n_epochs_
    assert loaded.device_ == torch.device("cpu")


def test_loads_a_file_of_the_previous_version():
    """``augmenter_v1.pt`` was written by the previous version (``hidden_size`` /
    ``epochs`` in its parameters, ``loss_curve`` in its configuration) on an SBM of
    40 nodes; ``augmenter_v1_samples.npy`` holds what it generated then."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aug = LocalAugmenter.load(DATA / "augmenter_v1.pt")
    assert aug.hidden_channels == 8 and aug.max_epochs == 2 and aug.latent_size == 3
    assert aug.hidden_size == "deprecated" and aug.epochs == "deprecated"
    assert [r["train_loss"] for r in aug.history_] == [8.537733948107848, 7.7181581172746485]
    g = sbm([20, 20], 0.2, 0.02, num_features=6, seed=0)
    samples = torch.stack(aug.transform(g, n_samples=2, random_state=3)).numpy()
    # same weights and draws; the last bits follow the thread count's summation order
    np.testing.assert_allclose(samples, np.load(DATA / "augmenter_v1_samples.npy"),
                               rtol=1e-5, atol=1e-6)


def _tampered(tmp_path, edit_config=None, edit_state=None):
    """The previous version's file with its configuration or weights edited."""
    blob = torch.load(DATA / "augmenter_v1.pt", weights_only=True)
    config = json.loads(blob["config"])
    if edit_config is not None:
        edit_config(config)
    if edit_state is not None:
        edit_state(blob["state_dict"])
    path = tmp_path / "tampered.pt"
    torch.save({"config": json.dumps(config), "state_dict": blob["state_dict"]}, path)
    return path


def _set(mapping, key, value):
    mapping[key] = value


@pytest.mark.parametrize("edit_config, edit_state, match", [
    (None, lambda s: s.pop("decoder_out.bias"), r"missing the keys \[.decoder_out.bias.\]"),
    (None, lambda s: _set(s, "extra", torch.zeros(1)), r"unexpected keys \[.extra.\]"),
    (None, lambda s: _set(s, "encoder.weight", torch.zeros(8, 5)),
     r"encoder.weight has shape \(8, 5\) but .* needs \(8, 12\)"),
    (lambda c: _set(c["params"], "hidden_size", 200000), None,
     r"hidden_channels=200000\) needs \(200000, 12\)"),
    (lambda c: _set(c, "n_features_in", 7), None, r"has shape .*\(n_features_in=7"),
    (None, lambda s: s["mean.weight"].fill_(float("nan")), "mean.weight holds NaN"),
    (None, lambda s: _set(s, "mean.bias", s["mean.bias"].double()), "must be a float32"),
    (None, lambda s: _set(s, "mean.bias", [0.0, 1.0, 2.0]), "float32 tensor, got list"),
    (lambda c: c.pop("loss"), None, r"missing the keys \['loss'\]"),
    (lambda c: _set(c, "n_features_in", "6"), None, "n_features_in must be an integer"),
    (lambda c: _set(c, "loss", "l1"), None, "loss must be one of"),
    (lambda c: _set(c, "loss_curve", "low"), None, "must be a list of numbers"),
    (lambda c: _set(c, "version", 3), None, "version must be one of 1, 2"),
    (lambda c: _set(c["params"], "latent_size", -3), None, "invalid saved parameters"),
    (lambda c: _set(c["params"], "layers", 3), None, r"unknown parameters \['layers'\]"),
    (lambda c: _set(c, "params", [1]), None, "params'] must be an object"),
    (lambda c: _set(c, "uncertainty", ["x"]), None, "uncertainty'] must be a list"),
    (lambda c: _set(c, "selected_step", 0), None, "selected_step must be an integer"),
])
def test_load_validates_the_file_before_building_the_module(tmp_path, edit_config,
                                                           edit_state, match):
    path = _tampered(tmp_path, edit_config, edit_state)
    with pytest.raises(ValueError, match=match):
        LocalAugmenter.load(path)


def test_load_allocates_nothing_for_a_huge_configuration(tmp_path, monkeypatch):
    """A configuration whose sizes disagree with the stored weights fails on the
    meta device: no module of its size is ever allocated."""
    from graphbias.augment import augmenter as module

    devices = []

    class Recording(ConditionalVAE):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            devices.append(self.encoder.weight.device.type)

    monkeypatch.setattr(module, "ConditionalVAE", Recording)
    path = _tampered(tmp_path, lambda c: _set(c["params"], "hidden_size", 10**9))
    with pytest.raises(ValueError, match=r"needs \(1000000000, 12\)"):
        LocalAugmenter.load(path)
    assert devices == ["meta"]
    assert LocalAugmenter.load(DATA / "augmenter_v1.pt").module_.encoder.weight.device.type \
        == "cpu" and devices == ["meta", "meta"]


def test_load_rejects_foreign_and_unsafe_files(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a saved LocalAugmenter"):
        LocalAugmenter.load(path)
    torch.save({"config": "{not json", "state_dict": {}}, path)
    with pytest.raises(ValueError, match="not valid JSON"):
        LocalAugmenter.load(path)
    torch.save({"config": json.dumps({"format": "other"}), "state_dict": {}}, path)
    with pytest.raises(ValueError, match="not a saved LocalAugmenter"):
        LocalAugmenter.load(path)
    torch.save({"config": json.dumps({}), "state_dict": {"x": ConditionalVAE(2)}}, path)
    with pytest.raises(ValueError, match="not a saved LocalAugmenter"):
        LocalAugmenter.load(path)   # a pickled module: refused by weights_only


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_file_saved_on_a_gpu_loads_on_the_cpu(tmp_path):
    path = _tampered(tmp_path, lambda c: _set(c["params"], "device", "cuda"))
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        aug = LocalAugmenter.load(path)
    assert aug.device == "cuda" and aug.device_ == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error(graph):
    with pytest.raises(ValueError, match="CUDA is not available"):
        _small(device="cuda").fit(graph)


@needs_cuda
def test_cuda_generator_matches_the_cpu_layout(graph, tmp_path):
    aug = _small(device="cuda").fit(graph)
    assert next(aug.module_.parameters()).is_cuda
    samples = aug.transform(graph, n_samples=2, random_state=0)
    assert all(s.is_cuda and s.shape == (80, 8) for s in samples)
    aug.save(tmp_path / "gen.pt")
    loaded = LocalAugmenter.load(tmp_path / "gen.pt")
    assert loaded.device_.type == "cuda"
    again = loaded.transform(graph, n_samples=2, random_state=0)
    assert all(torch.equal(a, b) for a, b in zip(samples, again))


# ------------------------------------------------------------------ selection
def _selecting(**kw):
    params = dict(max_epochs=2, hidden_channels=16, random_state=0,
                  selection="uncertainty", warmup=4, n_models=12)
    params.update(kw)
    return LocalAugmenter(**params)


def test_uncertainty_selection_scores_every_step_and_keeps_one(graph):
    aug = _selecting().fit(graph)
    steps = 2 * -(-edge_pairs(graph.edge_index)[0].numel() // 64)
    assert len(aug.uncertainty_) == steps
    assert all(u <= 1e-6 for u in aug.uncertainty_)       # minus a Jensen gap
    after = aug.uncertainty_[4:]
    assert aug.selected_step_ is not None and aug.selected_step_ > 4
    # the kept step beat every earlier score, and no later step beat it
    best = aug.uncertainty_[aug.selected_step_ - 1]
    assert best == max(aug.uncertainty_) and best in after
    assert _selecting().fit(graph).uncertainty_ == aug.uncertainty_      # seeded
    # a selection retrains the classifier: the scores agree up to the first one
    late = _selecting(warmup=steps - 1).fit(graph)
    assert late.selected_step_ in (None, steps) and len(late.uncertainty_) == steps
    assert late.uncertainty_[:5] == aug.uncertainty_[:5]
    half = _selecting(warmup=0.5).fit(graph)
    assert half.selected_step_ is None or half.selected_step_ > steps // 2
    assert half.uncertainty_[:steps // 2 + 1] == late.uncertainty_[:steps // 2 + 1]
    plain = _small().fit(graph)
    assert plain.uncertainty_ == [] and plain.selected_step_ is None


def test_a_warmup_that_leaves_no_step_is_an_error(graph):
    steps = 2 * -(-edge_pairs(graph.edge_index)[0].numel() // 64)
    with pytest.raises(ValueError, match=f"no step to choose from: the fit makes {steps}"):
        _selecting(warmup=steps).fit(graph)
    assert _selecting(warmup=0.99).fit(graph).uncertainty_   # a fraction leaves one


def test_selection_needs_labels(graph):
    with pytest.raises(ValueError, match="give y and train_mask"):
        _selecting().fit(graph.replace(y=None))
    with pytest.raises(ValueError, match="selects no node"):
        _selecting().fit(graph, train_mask=np.zeros(80, bool))


def test_selection_gcn_on_the_two_hop_part_equals_the_whole_graph(graph):
    """The classifier reads only the training nodes' two-hop neighbourhood, with the
    whole graph's normalisation: its outputs there are the whole-graph GCN's."""
    from graphbias import ops
    from graphbias.augment.selection import UncertaintySelection
    from graphbias.data.transforms import gcn_norm

    x = torch.as_tensor(graph.x).float()
    train = graph.train_mask.nonzero().view(-1)
    sel = UncertaintySelection(graph, x, torch.as_tensor(graph.y), train, n_models=4,
                               warmup=0)
    gcn = sel.classifier.eval()
    with torch.no_grad():
        part = gcn(sel.x)
        a = gcn_norm(graph)
        h = torch.relu(gcn.lin1(ops.spmm(a, x)))
        whole = ops.spmm(a, gcn.lin2(h))[train]
    torch.testing.assert_close(part, whole, rtol=1e-5, atol=1e-6)


def test_score_is_zero_without_dropout_and_negative_with_it(graph):
    from graphbias.augment.selection import UncertaintySelection

    x = torch.as_tensor(graph.x).float()
    train = graph.train_mask.nonzero().view(-1)
    sel = UncertaintySelection(graph, x, torch.as_tensor(graph.y), train, n_models=6,
                               warmup=0)
    assert sel.score(sel.x) < 0
    sel.classifier.dropout = 0.0          # every sample the same: no disagreement
    assert sel.score(sel.x) == pytest.approx(0.0, abs=1e-6)


def test_selection_dropout_samples_are_masked_products(graph, monkeypatch):
    """On the CPU the classifier's first product for S dropout samples is one
    masked product: each sample is the adjacency times x with fair random bits
    kept and doubled, and the samples differ."""
    from graphbias import ops
    from graphbias.augment.selection import UncertaintySelection
    from graphbias.ops import reference

    x = torch.as_tensor(graph.x).float()
    train = graph.train_mask.nonzero().view(-1)
    sel = UncertaintySelection(graph, x, torch.as_tensor(graph.y), train, n_models=4,
                               warmup=0)
    drawn = []
    randint = torch.randint
    monkeypatch.setattr(torch, "randint", lambda *a, **k: drawn.append(randint(*a, **k))
                        or drawn[-1])
    gcn = sel.classifier.train()
    h = gcn._propagate(sel.x, 3, None).view(3, -1, x.size(1))
    (words,) = drawn
    torch.testing.assert_close(h, reference.masked_spmm(gcn.first, sel.x, words, 2.0))
    assert not torch.equal(h[0], h[1])
    bits = reference.unpack_bits(words, x.size(1)).double()
    assert abs(float(bits.mean()) - 0.5) < 4 * 0.5 / bits.numel() ** 0.5   # fair bits
    # without training: no dropout, one sample
    torch.testing.assert_close(gcn.eval()._propagate(sel.x, 1, None),
                               ops.spmm(gcn.first, sel.x))


def test_save_load_keeps_the_selection(graph, tmp_path):
    aug = _selecting().fit(graph)
    aug.save(tmp_path / "sel.pt")
    loaded = LocalAugmenter.load(tmp_path / "sel.pt")
    assert loaded.selected_step_ == aug.selected_step_
    assert loaded.uncertainty_ == pytest.approx(aug.uncertainty_)
    assert loaded.selection == "uncertainty"


@pytest.mark.filterwarnings("ignore:this CPU has no bfloat16")
@pytest.mark.parametrize("binary", [True, False])
def test_bfloat16_decoding_rounds_only_the_output_product(graph, binary_graph, binary):
    g = binary_graph if binary else graph
    x = torch.as_tensor(g.x, dtype=torch.float32)
    if binary:  # row-normalised words: the bce generator and row normalisation
        x = (x + 0.01) / (x + 0.01).sum(1, keepdim=True)
    aug = _small(max_epochs=1).fit(g, x=x)
    fast = aug.conditioned(x, dtype="bfloat16")
    exact = aug.conditioned(x)
    rows = torch.tensor([1, 4, 9, 33])
    z = fast.codes(2, torch.Generator().manual_seed(0), rows)
    got = fast.decode(z, rows)
    # reference: the float32 decoder with the output product's inputs and result
    # rounded to bfloat16, in float64
    model, bf16 = aug.module_, torch.bfloat16
    with torch.no_grad():
        hidden = model.hidden(z, exact.condition[rows])
        logits = (hidden.to(bf16).double() @ model.decoder_out.weight.t().to(bf16).double()
                  + model.decoder_out.bias.to(bf16).double()).to(bf16).double()
    want = logits.sigmoid() if aug.loss_ == "bce" else logits
    if aug.normalize_ == "row":
        want = want / want.sum(1, keepdim=True)
    assert got.dtype == torch.float32 and got.shape == (8, 8)
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-7)
    plain = exact.decode(z, rows)
    assert not torch.equal(got, plain)
    torch.testing.assert_close(got, plain, rtol=3e-2, atol=1e-2)
    assert aug.loss_ == ("bce" if binary else "mse")


def test_decode_dtype_must_be_known(graph):
    aug = _small(max_epochs=1).fit(graph)
    with pytest.raises(ValueError, match="dtype must be one of"):
        aug.conditioned(graph.x, dtype="float16")


def test_bfloat16_decoding_warns_where_the_cpu_emulates_it(graph, monkeypatch):
    import graphbias.augment.augmenter as augmenter
    aug = _small(max_epochs=1).fit(graph)
    monkeypatch.setattr(augmenter, "_bfloat16_matrix_units", lambda: False)
    with pytest.warns(UserWarning, match="no bfloat16 matrix instructions"):
        aug.conditioned(graph.x, dtype="bfloat16")
    monkeypatch.setattr(augmenter, "_bfloat16_matrix_units", lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aug.conditioned(graph.x, dtype="bfloat16")
        aug.conditioned(graph.x)
