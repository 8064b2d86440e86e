"""ACL push PageRank, global PageRank and l2 flow diffusion against exact references."""
import networkx as nx
import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from graphbias.cluster import GraphView, acl_ppr, flow_diffusion, global_ppr
from graphbias.cluster.flow import FlowSolver
from graphbias.data.synthetic.planted import planted_cluster


def _adjacency(view: GraphView) -> sp.csr_matrix:
    """The view's (re-weighted) adjacency, materialised: only for references."""
    nodes = np.arange(view.num_nodes)
    owner, nbrs, w = view.rows(nodes)
    return sp.csr_matrix((w, (owner, nbrs)), shape=(view.num_nodes,) * 2)


def exact_ppr(adj: sp.csr_matrix, seed: int, alpha: float) -> np.ndarray:
    """pi = alpha s (I - (1 - alpha) D^-1 W)^-1 by a sparse linear solve."""
    n = adj.shape[0]
    deg = np.asarray(adj.sum(1)).ravel()
    walk = sp.diags(1.0 / deg) @ adj
    s = np.zeros(n)
    s[seed] = 1.0
    return spla.spsolve((sp.identity(n) - (1 - alpha) * walk).T.tocsc(), alpha * s)


def exact_flow(adj: sp.csr_matrix, delta: np.ndarray, sink: np.ndarray) -> np.ndarray:
    """The dual min_{x>=0} x'Lx/2 + x'(T - Delta), solved by L-BFGS-B to high accuracy."""
    lap = sp.diags(np.asarray(adj.sum(1)).ravel()) - adj
    fun = lambda x: (0.5 * x @ (lap @ x) + x @ (sink - delta), lap @ x + sink - delta)
    res = so.minimize(fun, np.zeros(adj.shape[0]), jac=True, method="L-BFGS-B",
                      bounds=[(0, None)] * adj.shape[0],
                      options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 50_000})
    return res.x


@pytest.mark.parametrize("alpha,eps", [(0.15, 1e-3), (0.05, 1e-4), (0.3, 1e-6)])
def test_acl_within_epsilon_guarantee_of_exact_ppr(karate, alpha, eps):
    view = GraphView.from_graph(karate)
    for seed in (0, 16, 33):
        d = acl_ppr(view, seed, alpha=alpha, epsilon=eps)
        p = d.to_dense(view.num_nodes)
        gap = exact_ppr(_adjacency(view), seed, alpha) - p
        deg = view.degree(np.arange(view.num_nodes))
        assert (gap >= -1e-12).all() and (gap < eps * deg + 1e-12).all()
        np.testing.assert_allclose(d.scores, d.values / view.degree(d.nodes))


def test_weighted_acl_uses_weights_and_matches_weighted_reference(weighted_graph):
    weighted = GraphView.from_graph(weighted_graph)
    plain = GraphView.from_graph(weighted_graph.replace(edge_weight=None))
    eps, alpha = 1e-7, 0.1
    pw = acl_ppr(weighted, 0, alpha=alpha, epsilon=eps).to_dense(40)
    pu = acl_ppr(plain, 0, alpha=alpha, epsilon=eps).to_dense(40)
    ref_w = exact_ppr(_adjacency(weighted), 0, alpha)
    ref_u = exact_ppr(_adjacency(plain), 0, alpha)
    deg = weighted.degree(np.arange(40))
    assert (ref_w - pw >= -1e-12).all() and (ref_w - pw < eps * deg + 1e-12).all()
    np.testing.assert_allclose(pu, ref_u, atol=1e-5)
    assert np.abs(pw - pu).max() > 0.01          # weights change the answer


def test_acl_from_a_seed_set_starts_uniform(karate):
    view = GraphView.from_graph(karate)
    both = acl_ppr(view, [0, 33], alpha=0.2, epsilon=1e-8).to_dense(34)
    ref = 0.5 * (exact_ppr(_adjacency(view), 0, 0.2) + exact_ppr(_adjacency(view), 33, 0.2))
    np.testing.assert_allclose(both, ref, atol=1e-5)


@pytest.mark.parametrize("graph_name,sink", [("karate", "degree"), ("weighted", "degree"),
                                             ("weighted", "unit")])
def test_flow_diffusion_solves_the_l2_problem(karate, weighted_graph, graph_name, sink):
    graph = karate if graph_name == "karate" else weighted_graph
    view = GraphView.from_graph(graph)
    n = view.num_nodes
    nodes = np.arange(n)
    cap = view.degree(nodes) if sink == "degree" else np.ones(n)
    mass = 0.3 * cap.sum()
    d = flow_diffusion(view, 0, source_mass=float(mass), sink=sink, tol=1e-10)
    x = d.to_dense(n)
    adj = _adjacency(view)
    delta = np.zeros(n)
    delta[0] = mass
    np.testing.assert_allclose(x, exact_flow(adj, delta, cap), atol=1e-5 * x.max())
    # KKT: mass m = Delta - Lx within capacity, at capacity where x > 0
    m = delta - (np.asarray(adj.sum(1)).ravel() * x - adj @ x)
    assert (x >= 0).all() and (m <= cap * (1 + 1e-9)).all()
    np.testing.assert_allclose(m[x > 0], cap[x > 0], rtol=1e-8)
    # active-set check: on the support, L_SS x_S = Delta_S - T_S exactly
    s = np.flatnonzero(x > 0)
    lap = (sp.diags(np.asarray(adj.sum(1)).ravel()) - adj).tocsr()
    x_s = spla.spsolve(lap[s][:, s].tocsc(), delta[s] - cap[s])
    np.testing.assert_allclose(x[s], x_s, rtol=1e-6)


def test_flow_support_volume_bounded_by_source_mass(planted):
    view = GraphView.from_graph(planted.graph)
    d = flow_diffusion(view, 0, source_mass=300.0)
    assert view.degree(d.support).sum() <= 300.0


def test_label_weighted_flow_matches_reference_on_materialised_graph(planted):
    view = GraphView.from_graph(planted.graph, labels=planted.noisy_labels, label_eps=0.1)
    adj = _adjacency(view)
    n = view.num_nodes
    cap = view.base_degree(np.arange(n))
    d = flow_diffusion(view, 3, source_mass=400.0, tol=1e-10)
    delta = np.zeros(n)
    delta[3] = 400.0
    ref = exact_flow(adj, delta, cap)
    np.testing.assert_allclose(d.to_dense(n), ref, atol=1e-4 * ref.max())


def test_diffusions_are_local_and_leave_scratch_clean():
    pc = planted_cluster(50, 5000, degree_in=8, degree_out=1, degree_rest=6, seed=1)
    view = GraphView.from_graph(pc.graph)
    d = flow_diffusion(view, 0, source_mass=200.0)
    p = acl_ppr(view, 0, alpha=0.15, epsilon=1e-3)
    assert d.touched < 500 and p.touched < 1000
    assert d.edges_scanned < pc.graph.num_edges / 20
    for arr in view.scratch()[:3]:
        assert not arr.any()


def test_warm_started_masses_equal_cold_solves(planted):
    """Each mass of a FlowSolver, warm-started from the smaller one, gives the
    diffusion a solve from scratch gives; the counts are cumulative."""
    view = GraphView.from_graph(planted.graph, labels=planted.noisy_labels, label_eps=0.1)
    n = view.num_nodes
    with FlowSolver(view, [3, 5], tol=1e-10) as solver:
        warm = [solver.solve(m) for m in (50.0, 200.0, 800.0)]
        with pytest.raises(ValueError, match="must not decrease"):
            solver.solve(100.0)
    for mass, d in zip((50.0, 200.0, 800.0), warm):
        cold = flow_diffusion(view, [3, 5], source_mass=mass, tol=1e-10)
        np.testing.assert_allclose(d.to_dense(n), cold.to_dense(n),
                                   atol=1e-6 * cold.values.max())
    assert warm[0].touched <= warm[1].touched <= warm[2].touched == warm[2].nodes.size
    assert warm[0].rounds <= warm[1].rounds <= warm[2].rounds
    for arr in view.scratch()[:3]:
        assert not arr.any()


def test_scratch_is_reset_after_a_failure(karate):
    view = GraphView.from_graph(karate)
    with pytest.raises(RuntimeError, match="did not reach"):
        flow_diffusion(view, 0, source_mass=100.0, tol=1e-12, max_rounds=2)
    for arr in view.scratch()[:3]:
        assert not arr.any()


@pytest.mark.parametrize("kwargs,match", [
    ({"alpha": 0.0}, "alpha"), ({"alpha": 1.0}, "alpha"), ({"epsilon": 0}, "epsilon")])
def test_acl_rejects_bad_parameters(karate, kwargs, match):
    with pytest.raises(ValueError, match=match):
        acl_ppr(GraphView.from_graph(karate), 0, **kwargs)


@pytest.mark.parametrize("kwargs,match", [
    ({"source_mass": -1.0}, "source_mass"), ({"source_mass": float("nan")}, "source_mass"),
    ({"source_mass": 1e6}, "exceeds the total sink capacity"), ({"source_mass": 5.0, "tol": 0}, "tol"),
    ({"source_mass": 5.0, "sink": "volume"}, "sink"),
    ({"source_mass": 5.0, "sink": np.ones(3)}, "sink")])
def test_flow_rejects_bad_parameters(karate, kwargs, match):
    with pytest.raises(ValueError, match=match):
        flow_diffusion(GraphView.from_graph(karate), 0, **kwargs)


def test_mass_beyond_the_seed_component_is_detected_locally():
    from graphbias.cluster.flow import UnabsorbedMass
    from graphbias.data import Graph
    import torch

    pc = planted_cluster(50, 500, seed=0)
    tri = torch.tensor([[500, 501, 501, 502, 502, 500], [501, 500, 502, 501, 500, 502]])
    g = Graph(torch.cat([pc.graph.edge_index, tri], 1), 503)
    view = GraphView.from_graph(g)
    with pytest.raises(UnabsorbedMass, match="3 nodes") as err:
        flow_diffusion(view, 500, source_mass=6.5)        # capacity 2 + 2 + 2
    assert err.value.component.tolist() == [500, 501, 502]
    assert flow_diffusion(view, 500, source_mass=5.0).support.tolist() == [500]
    for arr in view.scratch()[:3]:
        assert not arr.any()


def test_clear_cache_forgets_weighted_degrees(karate):
    view = GraphView.from_graph(karate, labels=np.ones(34, dtype=int), label_eps=0.5)
    acl_ppr(view, 0, alpha=0.2, epsilon=1e-3)
    assert (~np.isnan(view._degree)).any()
    view.clear_cache()
    assert np.isnan(view._degree).all()


def test_global_ppr_matches_networkx_pagerank(karate):
    ref = nx.pagerank(karate.to_networkx(), alpha=0.85, personalization={3: 1.0}, tol=1e-12)
    np.testing.assert_allclose(global_ppr(karate.to_scipy(), 3, alpha=0.15, tol=1e-12),
                               [ref[i] for i in range(34)], atol=1e-8)


def test_global_ppr_weighted_directed_and_several_seeds(weighted_graph):
    ei, w = weighted_graph.edge_index.numpy(), weighted_graph.edge_weight.numpy()
    keep = (ei[0] < ei[1]) | (ei[0] % 3 == 0)     # directed, every node keeps an out-edge
    g = nx.DiGraph()
    g.add_nodes_from(range(40))
    g.add_weighted_edges_from(zip(ei[0, keep].tolist(), ei[1, keep].tolist(),
                                  w[keep].tolist()))
    g.add_edge(39, 0, weight=1.0)
    assert min(d for _, d in g.out_degree()) >= 1
    ref = nx.pagerank(g, alpha=0.7, personalization={2: 1.0, 9: 1.0}, tol=1e-13)
    adj = nx.to_scipy_sparse_array(g, nodelist=range(40))
    out = global_ppr(adj, [9, 2], alpha=0.3, tol=1e-13)
    np.testing.assert_allclose(out, [ref[i] for i in range(40)], atol=1e-9)
    assert out.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(global_ppr(g, [2, 9], alpha=0.3, tol=1e-13), out, atol=1e-12)


def test_global_ppr_equals_the_exact_solution_within_tol(weighted_graph):
    adj = weighted_graph.to_scipy().astype(np.float64)
    exact = exact_ppr(adj, 4, 0.05)
    assert np.abs(global_ppr(adj, 4, alpha=0.05, tol=1e-10) - exact).sum() < 1e-8


@pytest.mark.parametrize("args, match", [
    (dict(alpha=0.0), r"alpha must be a real number in \(0, 1\)"),
    (dict(alpha=True), "alpha must be a real number"),
    (dict(tol=0.0), r"tol must be a real number in \(0, inf\)"),
    (dict(seeds=40), "seed node 40 is out of range"),
    (dict(seeds=[]), "non-empty"), (dict(seeds=[1.5]), "must be integers"),
])
def test_global_ppr_bad_arguments(weighted_graph, args, match):
    kwargs = {"seeds": 0, **args}
    with pytest.raises(ValueError, match=match):
        global_ppr(weighted_graph.to_scipy(), kwargs.pop("seeds"), **kwargs)


def test_global_ppr_bad_matrices():
    with pytest.raises(ValueError, match="square"):
        global_ppr(sp.csr_matrix(np.ones((2, 3))), 0)
    with pytest.raises(ValueError, match="nonnegative"):
        global_ppr(sp.csr_matrix(np.array([[0.0, -1.0], [1.0, 0.0]])), 0)
