"""The planted-cluster generator with noisy labels."""
import numpy as np
import pytest

from graphbias.data.synthetic.planted import flip_labels, planted_cluster


def test_structure_and_degrees():
    pc = planted_cluster(200, 4000, degree_in=12, degree_out=3, degree_rest=8, noise=0.0,
                         seed=1)
    g = pc.graph
    assert g.is_undirected() and not g.has_self_loops()
    ei = g.edge_index.numpy()
    keys = ei[0] * g.num_nodes + ei[1]
    assert (np.diff(keys) > 0).all()                       # sorted, no duplicates
    inside = (ei[0] < 200) & (ei[1] < 200)
    boundary = (ei[0] < 200) & (ei[1] >= 200)
    rest = (ei[0] >= 200) & (ei[1] >= 200)
    assert inside.sum() / 200 == pytest.approx(12, rel=0.1)
    assert boundary.sum() / 200 == pytest.approx(3, rel=0.15)
    assert rest.sum() / 3800 == pytest.approx(8, rel=0.05)
    assert pc.target.tolist() == list(range(200))
    np.testing.assert_array_equal(pc.noisy_labels, g.y.numpy())


def test_noise_rates():
    pc = planted_cluster(2000, 20000, degree_in=5, degree_out=1, degree_rest=2,
                         noise=(0.1, 0.3), seed=2)
    y = pc.graph.y.numpy()
    flipped = pc.noisy_labels != y
    assert flipped[y == 1].mean() == pytest.approx(0.1, abs=0.02)
    assert flipped[y == 0].mean() == pytest.approx(0.3, abs=0.02)


def test_target_fixed_while_the_rest_grows():
    small = planted_cluster(100, 1000, noise=0.2, seed=5)
    large = planted_cluster(100, 50000, noise=0.2, seed=5)

    def internal(pc):
        ei = pc.graph.edge_index.numpy()
        keep = (ei[0] < 100) & (ei[1] < 100)
        return ei[:, keep]

    np.testing.assert_array_equal(internal(small), internal(large))
    np.testing.assert_array_equal(small.noisy_labels[:100], large.noisy_labels[:100])
    out_small = (small.graph.edge_index[0] < 100).sum() - internal(small).shape[1]
    out_large = (large.graph.edge_index[0] < 100).sum() - internal(large).shape[1]
    assert abs(int(out_small) - int(out_large)) < 100          # both about 500


def test_deterministic_and_generator_seed():
    a = planted_cluster(20, 200, seed=3)
    b = planted_cluster(20, 200, seed=3)
    np.testing.assert_array_equal(a.graph.edge_index.numpy(), b.graph.edge_index.numpy())
    np.testing.assert_array_equal(a.noisy_labels, b.noisy_labels)
    rng = np.random.default_rng(0)
    c = planted_cluster(20, 200, seed=rng)
    d = planted_cluster(20, 200, seed=rng)
    assert not np.array_equal(c.graph.edge_index.numpy(), d.graph.edge_index.numpy())


@pytest.mark.parametrize("kwargs,match", [
    ({"cluster_size": 1}, "cluster_size"), ({"num_nodes": 10}, "num_nodes"),
    ({"degree_in": 500.0}, "degree_in"), ({"degree_out": -1.0}, "degree_out"),
    ({"degree_rest": 1e5}, "degree_rest"), ({"noise": 1.5}, "noise"),
    ({"noise": (0.1, -0.1)}, "noise_out"), ({"cluster_size": 2.5}, "integer"),
    ({"cluster_size": True}, "cluster_size must be an integer >= 2, got True"),
    ({"num_nodes": 51}, "num_nodes must be an integer >= 52, got 51"),
    ({"degree_in": 50.0}, r"degree_in must be a real number in \[0, 49\], got 50.0"),
    ({"degree_out": float("nan")}, "degree_out"), ({"degree_rest": "5"}, "degree_rest"),
    ({"noise": (0.1, 0.2, 0.3)}, "noise")])
def test_bad_arguments(kwargs, match):
    args = {"cluster_size": 50, "num_nodes": 500, **kwargs}
    with pytest.raises(ValueError, match=match):
        planted_cluster(**args)


def test_flip_labels():
    rng = np.random.default_rng(0)
    assert flip_labels(np.ones(5), 1.0, rng).tolist() == [0] * 5
    assert flip_labels(np.ones(5), 0.0, rng).tolist() == [1] * 5
