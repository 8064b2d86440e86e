import numpy as np
import pytest
import torch

from graphbias.compile import (align, compile_algorithm, parameter_distance,
                               rollout_distance, task_graph)
from graphbias.compile.gap import hint_scales, parameter_vector
from graphbias.compile.graphs import GraphBatch
from graphbias.compile.reference import ALGORITHMS, run_reference
from graphbias.data import Graph


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_compiled_point_is_at_distance_zero(algorithm):
    assert parameter_distance(compile_algorithm(algorithm)) == {"aligned": 0.0, "raw": 0.0}


def test_alignment_undoes_scaling_only_on_gates():
    net = compile_algorithm("bfs")
    with torch.no_grad():
        net.found.weight.mul_(5.0)
        net.found.bias.mul_(5.0)
    assert parameter_distance(net)["aligned"] == 0.0
    with torch.no_grad():
        net.clock.weight.mul_(2.0)            # not a gate: clock is a value, not a step input
    d = parameter_distance(net)
    norm = float(parameter_vector(compile_algorithm("bfs")).norm())
    assert d["aligned"] == pytest.approx(1.0 / norm)


def test_a_gate_row_pointing_away_aligns_to_the_origin():
    """The closest point of the ray c * row (c >= 0) to the target is 0 when the
    row points away from it."""
    net = compile_algorithm("bellman_ford")
    with torch.no_grad():
        net.reached.weight.neg_()
        net.reached.bias.neg_()
    rows = align(net)["reached"]
    assert rows.abs().max() == 0.0
    target = parameter_vector(compile_algorithm("bellman_ford"))
    expected = float(np.sqrt(1.0 + 0.25)) / float(target.norm())
    assert parameter_distance(net)["aligned"] == pytest.approx(expected)


def test_exchangeable_rows_are_matched_by_permutation():
    net = compile_algorithm("dfs")
    with torch.no_grad():
        net.is_root.weight.copy_(net.is_root.weight.flip(0))
        net.is_root.bias.copy_(net.is_root.bias.flip(0))
        net.is_root.bias.add_(torch.tensor([0.1, 0.0], dtype=torch.float64))
    rows = align(net)["is_root"]
    np.testing.assert_allclose(rows[:, :2].numpy(), [[1.0, -1.0], [-1.0, 1.0]], atol=0.05)
    assert parameter_distance(net)["aligned"] < parameter_distance(net)["raw"]


def test_parameter_vector_is_in_units_and_follows_the_affines():
    net = compile_algorithm("bellman_ford")
    v = parameter_vector(net)
    assert v.numel() == sum(m.weight.numel() + m.bias.numel()
                            for m in net.affines().values())
    assert float(v.abs().max()) <= 2.0       # multiples of B count as their multiple


def test_networks_of_different_algorithms_are_not_compared():
    with pytest.raises(ValueError, match="cannot compare a bfs network with a dfs one"):
        parameter_distance(compile_algorithm("bfs"), compile_algorithm("dfs"))
    with pytest.raises(ValueError, match="cannot compare"):
        rollout_distance(compile_algorithm("bfs"), [Graph([[0], [1]], 2)], [0], 2,
                         reference=compile_algorithm("bellman_ford"))


def test_hint_scales():
    g = Graph([[0, 1], [1, 2]], 3, edge_weight=[4.0, -7.0])
    scales = hint_scales("bellman_ford", GraphBatch.from_graphs([g, Graph([[0], [1]], 2)]))
    assert scales["reach"].tolist() == [1.0] * 5
    assert scales["pi"].tolist() == [3.0, 3.0, 3.0, 2.0, 2.0]
    assert scales["d"].tolist() == [21.0, 21.0, 21.0, 14.0, 14.0]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_rollout_distance_is_zero_for_the_compiled_network_and_grows_with_noise(algorithm):
    rng = np.random.default_rng(0)
    graphs = [task_graph(algorithm, "er", 12, rng) for _ in range(3)]
    steps = max(run_reference(algorithm, g, 0).num_steps for g in graphs)
    assert rollout_distance(compile_algorithm(algorithm), graphs, [0] * 3, steps).max() == 0
    noisy = compile_algorithm(algorithm)
    with torch.no_grad():
        for p in noisy.parameters():
            p.add_(torch.from_numpy(rng.normal(0.0, 0.3, tuple(p.shape))))
    d = rollout_distance(noisy, graphs, [0] * 3, steps)
    assert d.shape == (steps + 1,) and d[0] == 0.0 and d[1:].max() > 0
    assert not noisy.training
