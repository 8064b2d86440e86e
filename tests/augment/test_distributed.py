import pytest
import torch

from graphbias.augment import LAGNNClassifier, LocalAugmenter
from graphbias.data.synthetic import sbm
from graphbias.nn.distributed import fit_on_processes


def _graph():
    return sbm([60, 60, 60], 0.08, 0.01, num_features=8, feature_signal=0.7, seed=1)


def _fit_both(**params):
    g = _graph()
    args = (g.x, g.y)
    kwargs = dict(graph=g, train_mask=g.train_mask, val_mask=g.val_mask)
    distributed = fit_on_processes(LAGNNClassifier(**params), *args, nprocs=2, threads=1,
                                   **kwargs)
    torch.set_num_threads(1)
    single = LAGNNClassifier(**params).fit(*args, **kwargs)
    return g, distributed, single


def test_two_process_lagnn_matches_one_process():
    g, distributed, single = _fit_both(
        dropout=0.0, sample_pool=6, n_samples=3, max_epochs=30, patience=10,
        random_state=3, augmenter=LocalAugmenter(max_epochs=2, hidden_channels=16, random_state=0))
    assert distributed.distributed and not single.distributed
    assert distributed.n_epochs_ == single.n_epochs_
    assert distributed.best_epoch_ == single.best_epoch_
    torch.testing.assert_close(
        torch.tensor([r["train_loss"] for r in distributed.history_]),
        torch.tensor([r["train_loss"] for r in single.history_]), atol=1e-5, rtol=1e-4)
    for a, b in zip(distributed.module_.parameters(), single.module_.parameters()):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    distributed.set_params(distributed=False)
    torch.testing.assert_close(
        torch.as_tensor(distributed.predict_proba(g.x, graph=g)),
        torch.as_tensor(single.predict_proba(g.x, graph=g)), atol=1e-5, rtol=1e-4)


def test_two_process_lagnn_with_dropout_and_fresh_draws_learns():
    g, distributed, single = _fit_both(
        max_epochs=60, patience=None, random_state=0,
        augmenter=LocalAugmenter(max_epochs=2, hidden_channels=16, random_state=0))
    test = g.test_mask
    acc_d = distributed.set_params(distributed=False).score(g.x, g.y, graph=g, mask=test)
    acc_s = single.score(g.x, g.y, graph=g, mask=test)
    assert acc_d > 0.8 and abs(acc_d - acc_s) < 0.1


def test_distributed_lagnn_without_process_group_is_a_clear_error():
    g = _graph()
    with pytest.raises(ValueError, match="torch.distributed initialised"):
        LAGNNClassifier(distributed=True).fit(g.x, g.y, graph=g)
