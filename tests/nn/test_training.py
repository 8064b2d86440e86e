import math

import pytest
import torch

from graphbias.nn.training import EarlyStopping, fit_module


def _problem(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Linear(3, 1)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    return net, x, y


def _replay(values):
    """A validate() that returns the given metric values epoch by epoch."""
    it = iter(values)
    return lambda: {"val_metric": next(it)}


@pytest.mark.parametrize("mode, values, best", [
    ("min", [3.0, 1.0, 2.0, 0.5, 4.0], 3),
    ("max", [3.0, 1.0, 2.0, 0.5, 4.0], 4),
    ("min", [math.nan, 2.0, math.nan, 1.0], 3),
])
def test_early_stopping_keeps_the_best_epoch_by_mode(mode, values, best):
    net, x, y = _problem()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    snapshots = []

    def step(_):
        snapshots.append({k: v.clone() for k, v in net.state_dict().items()})
        return torch.nn.functional.mse_loss(net(x), y)

    result = fit_module(net, opt, step, max_epochs=len(values), validate=_replay(values),
                        stopping=EarlyStopping("val_metric", mode))
    assert result.best_epoch == best and result.n_epochs == len(values)
    assert result.best_score == values[best]
    # the weights after the best epoch's step are restored
    after_best = snapshots[best + 1] if best + 1 < len(snapshots) else None
    if after_best is not None:
        for k, v in net.state_dict().items():
            torch.testing.assert_close(v, after_best[k])


def test_patience_stops_and_tiebreak_decides():
    net, x, y = _problem()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    values = iter([{"acc": 0.5, "loss": 2.0}, {"acc": 0.7, "loss": 1.5},
                   {"acc": 0.7, "loss": 1.0}, {"acc": 0.6, "loss": 0.9},
                   {"acc": 0.6, "loss": 0.8}, {"acc": 0.9, "loss": 0.1}])
    result = fit_module(net, opt, lambda _: torch.nn.functional.mse_loss(net(x), y),
                        max_epochs=6, validate=lambda: next(values),
                        stopping=EarlyStopping("acc", "max", patience=2,
                                               tiebreak=("loss", "min")))
    assert result.best_epoch == 2 and result.n_epochs == 5


def test_history_batches_weights_and_lr_plateau():
    net, x, y = _problem()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    batches = lambda epoch: [(slice(0, 48), 48.0), (slice(48, 64), 16.0)]  # noqa: E731
    result = fit_module(
        net, opt, lambda b: (torch.nn.functional.mse_loss(net(x[b[0]]), y[b[0]]), b[1]),
        max_epochs=6, batches=batches, validate=lambda: {"val_loss": 1.0},
        stopping=EarlyStopping("val_loss", "min"), lr_patience=1)
    lrs = [r["lr"] for r in result.history]
    assert lrs[:3] == [0.1, 0.1, 0.1] and lrs[3] == pytest.approx(0.05)
    assert all(set(r) == {"epoch", "train_loss", "val_loss", "lr", "seconds"}
               for r in result.history)
    assert not net.training


def test_clip_grad_norm_bounds_the_step():
    net, x, y = _problem()
    before = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    fit_module(net, opt, lambda _: 1e6 * torch.nn.functional.mse_loss(net(x), y),
               max_epochs=1, clip_grad_norm=0.5)
    moved = torch.cat([(p.detach() - b).view(-1) for p, b in zip(net.parameters(), before)])
    assert moved.norm() <= 0.5 + 1e-5


def test_a_missing_monitor_is_a_clear_error():
    net, x, y = _problem()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(KeyError, match="monitors 'val_acc'"):
        fit_module(net, opt, lambda _: torch.nn.functional.mse_loss(net(x), y),
                   max_epochs=1, validate=lambda: {"val_loss": 1.0},
                   stopping=EarlyStopping("val_acc", "max"))
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping("val_acc", "maximum")
