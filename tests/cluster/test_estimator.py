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


def _distances(graph: Graph, sources: np.ndarray, radius: int) -> np.ndarray:
    """Hop distance of every node from ``sources``, ``radius`` for ``radius`` or more."""
    adj = graph.to_scipy().tocsr()
    dist = np.full(graph.num_nodes, radius, dtype=np.int64)
    frontier = np.asarray(sources)
    dist[frontier] = 0
    for hop in range(1, radius):
        nbrs = adj[frontier].indices
        frontier = np.unique(nbrs[dist[nbrs] == radius])
        dist[frontier] = hop
    return dist


def _disjoint(src: np.ndarray, dst: np.ndarray, count: int,
              rng: np.random.Generator) -> np.ndarray:
    """Indices of ``count`` random edges no two of which share an endpoint."""
    used: set[int] = set()
    picked = []
    for e in rng.permutation(src.size):
        if src[e] not in used and dst[e] not in used:
            used.update((int(src[e]), int(dst[e])))
            picked.append(e)
            if len(picked) == count:
                break
    assert len(picked) == count
    return np.array(picked)


def _grown(pc, num_nodes: int, radius: int, splices: int = 100, seed: int = 1):
    """``pc``'s graph joined to a random graph (degree 6, labels 1 at rate 0.2) on
    ``num_nodes - pc.graph.num_nodes`` new nodes, with every node's degree kept.

    ``splices`` edges ``(u, v)`` of ``pc``'s graph with both ends at least ``radius``
    hops from the target and as many edges ``(a, b)`` of the new graph are replaced
    by ``(u, a)`` and ``(v, b)``: every row within ``radius - 1`` hops of the target
    and every degree stay as they were. Returns the graph and the noisy labels.
    """
    rng = np.random.default_rng(seed)
    old = pc.graph.num_nodes
    ei = pc.graph.edge_index.numpy()
    src, dst = ei[:, ei[0] < ei[1]]
    dist = _distances(pc.graph, pc.target, radius)
    far = np.flatnonzero((dist[src] >= radius) & (dist[dst] >= radius))
    cut = far[_disjoint(src[far], dst[far], splices, rng)]
    a, b = rng.integers(old, num_nodes, (2, 3 * (num_nodes - old)))
    keys = np.unique(np.minimum(a, b)[a != b] * num_nodes + np.maximum(a, b)[a != b])
    new_src, new_dst = keys // num_nodes, keys % num_nodes
    join = _disjoint(new_src, new_dst, splices, rng)
    s = np.concatenate([np.delete(src, cut), np.delete(new_src, join), src[cut], dst[cut]])
    d = np.concatenate([np.delete(dst, cut), np.delete(new_dst, join), new_src[join],
                        new_dst[join]])
    graph = Graph(torch.from_numpy(np.stack([np.r_[s, d], np.r_[d, s]])), num_nodes)
    labels = np.r_[pc.noisy_labels, (rng.random(num_nodes - old) < 0.2).astype(np.int64)]
    return graph, labels


def _default_queries(graph: Graph, labels: np.ndarray, seed: int) -> list:
    """A default query from ``seed`` with the noisy labels and without."""
    return [NoisyLabelLocalClustering().fit(graph, noisy_labels=lab).query(seed)
            for lab in (labels, None)]


def test_default_query_work_does_not_grow_with_the_graph():
    """A default query reads the same nodes, runs the same diffusions and returns the
    same cluster when the graph around the target grows 25-fold: 40,000 nodes, then
    the same graph joined, six hops or more away from the target, to 960,000 more
    (the nodes touched are a deterministic count). A search bounded by anything
    graph-wide (the graph's volume, a mass grid up to it) would differ."""
    from graphbias.data.synthetic.planted import planted_cluster

    pc = planted_cluster(40, 40_000, degree_in=24, degree_out=1, degree_rest=6,
                         noise=0.2, seed=0)
    large, labels = _grown(pc, 1_000_000, radius=6)
    degree = np.bincount(large.edge_index[0].numpy(), minlength=large.num_nodes)
    np.testing.assert_array_equal(degree[:40_000],
                                  np.bincount(pc.graph.edge_index[0].numpy()))
    small_runs = _default_queries(pc.graph, pc.noisy_labels, 3)
    large_runs = _default_queries(large, labels, 3)
    for small, big in zip(small_runs, large_runs):
        assert (big.touched, big.edges_scanned, big.diffusions) == \
            (small.touched, small.edges_scanned, small.diffusions)
        np.testing.assert_array_equal(big.nodes, small.nodes)
        assert big.conductance == pytest.approx(small.conductance)
        assert big.diffusions <= 12 and big.touched < 15_000    # a quarter of 40,000
        assert f1_sets(big.nodes, pc.target) > 0.85


def test_default_query_is_local_around_a_hard_boundary():
    """A target with 15 boundary edges per node (24 inside) in a sparse graph: past
    the target's volume the sweep keeps returning the target refined, its
    conductance falling by a few percent per doubling while the support spreads.
    Those refinements are not progress, so the search stops within the same bound
    of nodes touched at 2 x 10^5 and 10^6 nodes, with and without labels (a rule
    that counts every 1% gain read 107,000-253,000 nodes here, 13-14 diffusions),
    and still finds the target."""
    from graphbias.data.synthetic.planted import planted_cluster

    for num_nodes in (200_000, 1_000_000):
        pc = planted_cluster(40, num_nodes, degree_in=24, degree_out=15, degree_rest=6,
                             noise=0.2, seed=0)
        for labels, floor in ((pc.noisy_labels, 0.35), (None, 0.45)):
            model = NoisyLabelLocalClustering().fit(pc.graph, noisy_labels=labels)
            res = model.query(3)
            assert res.diffusions <= 12 and res.touched < 75_000
            assert f1_sets(res.nodes, pc.target) > floor
            # the search's own bound: no support reaches 4**patience x the best's volume
            volume = model.view_.base_degree(res.nodes).sum()
            assert model.view_.base_degree(res.diffusion.support).sum() < 4**4 * volume


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


def test_masses_beyond_the_capacity_are_skipped_and_listed(karate):
    """A grid mass above the graph's total sink capacity (156 on the karate club) or
    one the seeds' component cannot hold is not run, and the query says why."""
    model = NoisyLabelLocalClustering.paper_protocol(40.0).fit(karate)
    res = model.query(0)
    assert [p["source_mass"] for p, _ in res.skipped] == [160.0, 180.0, 200.0]
    assert all("total sink capacity 156" in why for _, why in res.skipped)
    assert res.diffusions == 5 and res.params["source_mass"] <= 140.0
    # a triangle (volume 6) beside a path of five nodes (volume 8)
    edges = torch.tensor([[0, 1, 2, 3, 4, 5, 6], [1, 2, 0, 4, 5, 6, 7]])
    g = Graph(torch.cat([edges, edges.flip(0)], 1), 8)
    res = NoisyLabelLocalClustering(source_mass=[20.0, 1.0, 7.0, 9.0]).fit(g).query(0)
    assert res.nodes.tolist() == [0, 1, 2] and res.conductance == 0.0
    assert res.diffusion is None and res.params == {"source_mass": 7.0}
    assert [(p["source_mass"], why.split(" (")[0]) for p, why in res.skipped] == [
        (9.0, "the seeds' connected component"), (20.0, "exceeds the graph's total sink "
                                                         "capacity 14")]


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
