import numpy as np
import pytest

from graphbias.augment.evaluation import accuracy_by_degree, degree_bucket_labels
from graphbias.data.synthetic import sbm


def test_bucket_labels():
    assert degree_bucket_labels((2, 5, 10)) == ["<=2", "3-5", "6-10", ">10"]
    assert degree_bucket_labels((1, 2)) == ["<=1", "2", ">2"]


def test_matches_networkx_degrees_and_a_loop():
    g = sbm([40, 40], 0.08, 0.01, seed=3)
    rng = np.random.default_rng(0)
    y = g.y.numpy()
    pred = np.where(rng.random(g.num_nodes) < 0.3, 1 - y, y)
    mask = rng.random(g.num_nodes) < 0.6
    out = accuracy_by_degree(g, y, pred, mask, bounds=(2, 4))
    degree = dict(g.to_networkx().degree())
    for label, lo, hi in (("<=2", 0, 2), ("3-4", 3, 4), (">4", 5, 10**9)):
        nodes = [v for v in range(g.num_nodes) if mask[v] and lo <= degree[v] <= hi]
        assert out[label]["nodes"] == len(nodes)
        assert out[label]["accuracy"] == pytest.approx(np.mean(pred[nodes] == y[nodes]))


def test_bad_input_is_a_clear_error():
    g = sbm([10, 10], 0.3, 0.05, seed=0)
    with pytest.raises(ValueError, match="one entry per node"):
        accuracy_by_degree(g, g.y, g.y[:5])
    with pytest.raises(ValueError, match="mask needs one entry per node"):
        accuracy_by_degree(g, g.y, g.y, mask=[True])
    with pytest.raises(ValueError, match="strictly increasing"):
        accuracy_by_degree(g, g.y, g.y, bounds=(5, 2))
