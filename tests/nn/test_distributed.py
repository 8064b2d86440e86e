import pytest
import torch

from graphbias.data.synthetic import sbm
from graphbias.nn import GNN, NodeClassifier
from graphbias.nn.distributed import (fit_on_processes, halo_partition, local_partition,
                                      partition_nodes, rows_of)

PARAMS = dict(conv="gcn", dropout=0.0, max_epochs=40, patience=10, random_state=3)


def _graph():
    return sbm([60, 60, 60], 0.08, 0.01, num_features=8, feature_signal=0.7, seed=1)


@pytest.mark.parametrize("conv", ["gcn", "sage", "gat"])
def test_halo_outputs_equal_full_graph_outputs(conv):
    g = _graph()
    torch.manual_seed(0)
    model = GNN(8, 8, 3, num_layers=2, conv=conv, dropout=0.0).eval()
    full = model(g.x, g)
    part = partition_nodes(g, 3)
    assert part.bincount().tolist() == [60, 60, 60]
    for rank in range(3):
        view = local_partition(g, 2, rank, 3, part)
        out = model(rows_of(g.x, view.nodes), view.graph)[: view.num_owned]
        torch.testing.assert_close(out, full[view.nodes[: view.num_owned]])


def test_halo_is_the_l_hop_in_neighbourhood():
    g = _graph()
    view = halo_partition(g, torch.tensor([0]), 1)
    sources = set(g.edge_index[0][g.edge_index[1] == 0].tolist())
    assert set(view.nodes.tolist()) == sources | {0} and view.num_owned == 1


def test_two_process_training_matches_one_process():
    g = _graph()
    distributed = fit_on_processes(NodeClassifier(**PARAMS), g.x, g.y, graph=g,
                                   train_mask=g.train_mask, val_mask=g.val_mask,
                                   nprocs=2, threads=1)
    single = NodeClassifier(**PARAMS).fit(g.x, g.y, graph=g, train_mask=g.train_mask,
                                          val_mask=g.val_mask)
    assert distributed.distributed and not single.distributed
    assert distributed.n_epochs_ == single.n_epochs_
    assert distributed.best_epoch_ == single.best_epoch_
    for a, b in zip(distributed.module_.parameters(), single.module_.parameters()):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(
        torch.tensor([r["train_loss"] for r in distributed.history_]),
        torch.tensor([r["train_loss"] for r in single.history_]), atol=1e-5, rtol=1e-4)
    assert (distributed.set_params(distributed=False).predict(g.x, graph=g)
            == single.predict(g.x, graph=g)).all()


def test_distributed_without_process_group_is_a_clear_error():
    g = _graph()
    with pytest.raises(ValueError, match="torch.distributed initialised"):
        NodeClassifier(distributed=True).fit(g.x, g.y, graph=g)
