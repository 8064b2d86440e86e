"""NoisyLabelLocalClustering: the estimator contract, errors and behaviour."""
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from graphbias.cluster import (Diffusion, GraphView, NoisyLabelLocalClustering, acl_ppr,
                               f1_sets, flow_diffusion, sweep_cut)
from graphbias.data import Graph


def test_init_stores_params_and_clones():
    model = NoisyLabelLocalClustering("ppr", alpha=[0.1, 0.2], label_eps=0.1)
    assert model.get_params()["alpha"] == [0.1, 0.2]
    assert clone(model).get_params() == model.get_params()


@pytest.mark.parametrize("method", ["flow", "ppr"])
def test_query_picks_least_conductance_over_the_grid(planted, method):
    kw = {"source_mass": [100.0, 400.0, 900.0]} if method == "flow" else \
        {"alpha": [0.05, 0.2], "epsilon": [1e-3, 1e-4]}
    model = NoisyLabelLocalClustering(method, **kw).fit(planted.graph,
                                                        noisy_labels=planted.noisy_labels)
    res = model.query(3)
    view = model.view_
    phis = []
    for params in model._settings(np.array([3])):
        d = flow_diffusion(view, 3, **params) if method == "flow" else \
            acl_ppr(view, 3, **params)
        phis.append(sweep_cut(view, d.nodes, d.scores)[1])
    assert res.conductance == pytest.approx(min(phis))
    assert res.touched >= res.diffusion.touched > 0
    assert isinstance(model.diffusion_(3), Diffusion)
    np.testing.assert_array_equal(model.predict(3)[0], res.nodes)


def test_labels_help_on_a_planted_cluster(planted):
    seeds = [0, 7, 21]
    labelled = NoisyLabelLocalClustering().fit(planted.graph, noisy_labels=planted.noisy_labels)
    plain = NoisyLabelLocalClustering().fit(planted.graph)
    f1_labels_alone = f1_sets(np.flatnonzero(planted.noisy_labels), planted.target)
    score = labelled.score(seeds, planted.target)
    assert score > plain.score(seeds, planted.target) + 0.05
    assert score > f1_labels_alone + 0.1


def test_predict_accepts_ids_and_seed_sets(planted):
    model = NoisyLabelLocalClustering(source_mass=300.0).fit(planted.graph)
    out = model.predict([0, [1, 2]])
    assert len(out) == 2 and all(o.dtype == np.int64 for o in out)
    mask = np.zeros(planted.graph.num_nodes, dtype=bool)
    mask[planted.target] = True
    assert model.score([0, 1], mask) == pytest.approx(model.score([0, 1], planted.target))
    support = NoisyLabelLocalClustering(source_mass=300.0, extract="support").fit(planted.graph)
    np.testing.assert_array_equal(support.predict(0)[0], support.diffusion_(0).support)


def test_feature_weights_option(weighted_graph):
    model = NoisyLabelLocalClustering(gamma=0.5, source_mass=200.0).fit(weighted_graph)
    plain = NoisyLabelLocalClustering(source_mass=200.0).fit(weighted_graph)
    assert model.view_.gamma == 0.5 and model.predict(0)[0].size > 1
    assert model.diffusion_(0).to_dense(40).tolist() != plain.diffusion_(0).to_dense(40).tolist()
    tiny = NoisyLabelLocalClustering(source_mass=1e-3).fit(weighted_graph)
    assert tiny.predict(0)[0].tolist() == [0]         # the seed absorbs all the mass


def test_pickle_roundtrip(planted):
    model = NoisyLabelLocalClustering(source_mass=300.0).fit(
        planted.graph, noisy_labels=planted.noisy_labels)
    before = model.predict(0)[0]
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(0)[0], before)


def test_not_fitted():
    with pytest.raises(NotFittedError):
        NoisyLabelLocalClustering().predict(0)


@pytest.mark.parametrize("params,match", [
    ({"method": "pagerank"}, "method must be one of 'flow', 'ppr'"),
    ({"extract": "all"}, "extract must be one of 'sweep', 'support'"),
    ({"sink": "volume"}, "sink must be one of"), ({"tol": 0.0}, r"tol must be .*\(0, inf\)"),
    ({"tol": True}, "tol must be a real number"),
    ({"source_mass": -3.0}, "source_mass must be a number or a non-empty sequence"),
    ({"source_mass": []}, "source_mass"), ({"source_mass": [10.0, True]}, "source_mass"),
    ({"source_mass": np.ones((2, 2))}, "source_mass"), ({"source_mass": "10"}, "source_mass"),
    ({"alpha": 1.2}, r"alpha must be .*each in \(0, 1\), got 1.2"),
    ({"method": "ppr", "alpha": [0.1, float("nan")]}, "alpha"),
    ({"method": "ppr", "epsilon": [1e-3, 0.0]}, "epsilon"),
    ({"label_eps": 0.0}, r"label_eps must be a real number in \(0, 1\]"),
    ({"label_eps": 1.5}, "label_eps"),
    ({"gamma": 0.0}, "gamma must be a real number in \\(0, inf\\) or None"),
    ({"gamma": "0.5"}, "gamma")])
def test_bad_parameters(karate, params, match):
    with pytest.raises(ValueError, match=f"NoisyLabelLocalClustering: {match}"):
        NoisyLabelLocalClustering(**params).fit(karate, noisy_labels=np.ones(34, dtype=int))


def test_grids_accept_numbers_sequences_and_numpy(karate):
    model = NoisyLabelLocalClustering("ppr", alpha=np.array([0.05, 0.15]),
                                      epsilon=np.float64(1e-4)).fit(karate)
    ref = NoisyLabelLocalClustering("ppr", alpha=[0.05, 0.15], epsilon=1e-4).fit(karate)
    assert model.query(0).params == ref.query(0).params
    np.testing.assert_array_equal(model.predict(0)[0], ref.predict(0)[0])
    flow = NoisyLabelLocalClustering(source_mass=np.int64(30)).fit(karate)
    assert flow.query(0).params == {"source_mass": 30.0}


def test_refit_uses_the_new_parameters_and_keeps_nothing_stale(karate, planted):
    model = NoisyLabelLocalClustering(source_mass=30.0).fit(planted.graph,
                                                            noisy_labels=planted.noisy_labels)
    assert model.uses_labels_
    model.set_params(method="ppr", alpha=0.1).fit(karate)
    assert model.n_nodes_ == 34 and not model.uses_labels_
    assert set(model.query(0).params) == {"alpha", "epsilon"}
    model.set_params(alpha=2.0)
    assert set(model.query(0).params) == {"alpha", "epsilon"}   # fitted values until refit
    with pytest.raises(ValueError, match="alpha"):
        model.fit(karate)
    assert not hasattr(model, "view_")


def test_bad_seeds_and_targets(karate):
    g = Graph(torch.cat([karate.edge_index, torch.zeros(2, 0, dtype=torch.long)], 1), 35)
    model = NoisyLabelLocalClustering(source_mass=10.0).fit(g)
    with pytest.raises(ValueError, match="out of range"):
        model.predict(35)
    with pytest.raises(ValueError, match="out of range"):
        model.predict([0, [1, -4]])
    with pytest.raises(ValueError, match="isolated"):
        model.predict(34)
    with pytest.raises(ValueError, match="boolean target"):
        model.score(0, np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="noisy_labels"):
        NoisyLabelLocalClustering().fit(g, noisy_labels=np.ones(34))


def test_graph_inputs(karate):
    """networkx and scipy inputs give the same clusters as the Graph."""
    model = NoisyLabelLocalClustering(source_mass=30.0)
    ref = model.fit(karate).predict(0)[0]
    np.testing.assert_array_equal(model.fit(karate.to_networkx()).predict(0)[0], ref)
    np.testing.assert_array_equal(model.fit(graph=karate.to_scipy()).predict(0)[0], ref)
    assert isinstance(model.view_, GraphView)


def test_seed_in_a_small_component_returns_the_component(planted):
    tri = torch.tensor([[800, 801, 801, 802, 802, 800], [801, 800, 802, 801, 800, 802]])
    g = Graph(torch.cat([planted.graph.edge_index, tri], 1), 803)
    model = NoisyLabelLocalClustering().fit(g)
    res = model.query(801)
    assert res.nodes.tolist() == [800, 801, 802] and res.conductance == 0.0
    with pytest.raises(ValueError, match="cannot absorb"):
        model.diffusion_(801)
    assert model.predict(0)[0].size > 10                 # the big component still works
