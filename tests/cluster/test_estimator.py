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
    ({"gamma": "0.5"}, "gamma"),
    ({"patience": 0}, "patience must be an integer >= 1"), ({"patience": True}, "patience"),
    ({"patience": 2.5}, "patience"),
    ({"max_volume": 0.0}, r"max_volume must be a real number in \(0, inf\) or None"),
    ({"max_volume": "big"}, "max_volume")])
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
    heavy = NoisyLabelLocalClustering(source_mass=10.0).fit(g)
    assert heavy.query(801).nodes.tolist() == [800, 801, 802]
    with pytest.raises(ValueError, match="cannot absorb"):
        heavy.diffusion_(801)
    assert model.predict(0)[0].size > 10                 # the big component still works


@pytest.mark.parametrize("method", ["flow", "ppr"])
def test_both_methods_find_a_clique_of_a_barbell(method):
    """The default flow search once stopped at half the graph's volume, before the
    mass could fill the seed's clique (its support stayed the seed)."""
    import networkx as nx

    model = NoisyLabelLocalClustering(method).fit(nx.barbell_graph(20, 0))
    assert model.predict(0)[0].tolist() == list(range(20))
    assert model.predict(39)[0].tolist() == list(range(20, 40))


def _local_query(num_nodes, **params):
    from graphbias.data.synthetic.planted import planted_cluster

    pc = planted_cluster(40, num_nodes, degree_in=24, degree_out=1, degree_rest=6,
                         noise=0.2, seed=0)
    labelled = NoisyLabelLocalClustering(**params).fit(pc.graph,
                                                       noisy_labels=pc.noisy_labels)
    plain = NoisyLabelLocalClustering(**params).fit(pc.graph)
    return pc, labelled.query(3), plain.query(3)


def test_default_query_work_does_not_grow_with_the_graph():
    """The nodes a default query touches (a deterministic count) stay the same while
    the graph around the target grows 25-fold."""
    pc_small, lab_small, plain_small = _local_query(4_000)
    pc_large, lab_large, plain_large = _local_query(100_000)
    # the rest differs between the two graphs (other nodes labelled 1 near the
    # target), hence a looser bound with labels
    for small, large, ratio in ((lab_small, lab_large, 1.5), (plain_small, plain_large, 1.1)):
        assert large.diffusions == small.diffusions <= 12
        assert small.touched / ratio <= large.touched <= ratio * small.touched
        assert large.touched < 10_000
        assert f1_sets(large.nodes, pc_large.target) > 0.9


def test_search_stops_on_patience_and_max_volume(planted):
    model = NoisyLabelLocalClustering().fit(planted.graph)
    res = model.query(0)
    masses = [2.0 * model.view_.base_degree(np.array([0])).sum() * 2**i
              for i in range(res.diffusions)]
    assert res.params["source_mass"] in masses
    shorter = NoisyLabelLocalClustering(patience=1).fit(planted.graph).query(0)
    assert shorter.diffusions < res.diffusions and shorter.conductance >= res.conductance
    bounded = NoisyLabelLocalClustering(max_volume=100.0).fit(planted.graph).query(0)
    assert bounded.diffusions < res.diffusions
    support = bounded.diffusion.support
    assert model.view_.base_degree(support).sum() < 2 * 100.0 + 20


def test_paper_protocol():
    model = NoisyLabelLocalClustering.paper_protocol(np.float64(200.0), label_eps=0.1)
    params = model.get_params()
    assert params["source_mass"] == [300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 1000.0]
    assert (params["extract"], params["sink"], params["label_eps"]) == ("support", "degree", 0.1)
    with pytest.raises(ValueError, match="target_volume must be a real number"):
        NoisyLabelLocalClustering.paper_protocol(0.0)
    with pytest.raises(ValueError, match=r"paper_protocol sets \['extract'\]"):
        NoisyLabelLocalClustering.paper_protocol(10.0, extract="sweep")
    with pytest.raises(ValueError, match="alphas must be"):
        NoisyLabelLocalClustering.paper_protocol(10.0, alphas=[])


def test_paper_protocol_recovers_the_planted_target(planted):
    volume = GraphView.from_graph(planted.graph).base_degree(planted.target).sum()
    model = NoisyLabelLocalClustering.paper_protocol(volume).fit(
        planted.graph, noisy_labels=planted.noisy_labels)
    res = model.query(0)
    np.testing.assert_array_equal(res.nodes, res.diffusion.support)
    assert model.score([0, 7, 21], planted.target) > 0.7


@pytest.fixture
def named_graph():
    """A networkx barbell with string nodes and an edge attribute ``w``."""
    import networkx as nx

    g = nx.relabel_nodes(nx.barbell_graph(6, 0), lambda v: f"n{v}")
    nx.set_edge_attributes(g, 1.0, "w")
    g["n5"]["n6"]["w"] = 50.0                      # a heavy bridge joins the cliques
    return g


def test_node_labels_name_seeds_targets_and_clusters(named_graph):
    model = NoisyLabelLocalClustering().fit(named_graph)
    left = [f"n{i}" for i in range(6)]
    assert model.predict("n0") == [left]
    assert model.predict(["n0", ["n7", "n8"]]) == [left, [f"n{i}" for i in range(6, 12)]]
    res = model.query(["n1", "n2"])
    assert res.labels == left and res.nodes.tolist() == list(range(6))
    assert model.score("n0", left) == 1.0 and model.score("n0", left[:3]) < 1.0
    mask = np.zeros(12, dtype=bool)
    mask[:6] = True
    assert model.score("n0", mask) == 1.0
    with pytest.raises(ValueError, match="unknown node label"):
        model.predict("n99")
    with pytest.raises(ValueError, match="unknown node label"):
        model.score("n0", ["n1", "x"])


def test_noisy_labels_keyed_by_node(named_graph):
    as_dict = {f"n{i}": int(i < 6) for i in range(12)}
    model = NoisyLabelLocalClustering().fit(named_graph, noisy_labels=as_dict)
    ref = NoisyLabelLocalClustering().fit(named_graph, noisy_labels=list(as_dict.values()))
    np.testing.assert_array_equal(model.view_.labels, ref.view_.labels)
    shuffled = dict(reversed(list(as_dict.items())))
    np.testing.assert_array_equal(
        NoisyLabelLocalClustering().fit(named_graph, noisy_labels=shuffled).view_.labels,
        ref.view_.labels)
    with pytest.raises(ValueError, match=r"no label for node\(s\) \['n11'\]"):
        NoisyLabelLocalClustering().fit(named_graph, noisy_labels={
            k: v for k, v in as_dict.items() if k != "n11"})
    with pytest.raises(ValueError, match="noisy_labels: unknown node label"):
        NoisyLabelLocalClustering().fit(named_graph, noisy_labels={**as_dict, "zz": 1})
    with pytest.raises(ValueError, match="0 or 1"):
        NoisyLabelLocalClustering().fit(named_graph, noisy_labels={**as_dict, "n0": 2})
    karate_dict = NoisyLabelLocalClustering().fit(
        Graph(torch.tensor([[0, 1], [1, 0]]), 2), noisy_labels={1: 1, 0: 0})
    assert karate_dict.view_.labels.tolist() == [False, True]


def test_weight_names_the_networkx_edge_attribute(named_graph):
    weighted = NoisyLabelLocalClustering().fit(named_graph, weight="w")
    plain = NoisyLabelLocalClustering().fit(named_graph, weight=None)
    assert weighted.graph_.edge_weight is not None and plain.graph_.edge_weight is None
    assert weighted.view_.base_degree(np.array([5]))[0] == 55.0
    assert plain.predict("n0") == [[f"n{i}" for i in range(6)]]
    assert weighted.query("n0").conductance != plain.query("n0").conductance
    with pytest.raises(ValueError, match="weight must be an edge attribute name"):
        NoisyLabelLocalClustering().fit(named_graph, weight=3)
