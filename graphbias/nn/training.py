"""The one training loop every torch estimator of graphbias trains through.

:func:`fit_module` runs epochs of optimisation steps over the batches an estimator
gives it, then the estimator's validation, and takes care of what every estimator
needs the same way: early stopping on an explicit ``monitor`` and ``mode``
(:class:`EarlyStopping`; never a negated score), restoring the best weights, a
learning rate halved on plateaus of the monitored metric, gradient clipping, a
progress bar with the training loss and the monitored metric, and the history
(one record per epoch: ``epoch``, ``train_loss``, the validation metrics, ``lr``,
``seconds``). Data-parallel training plugs in through ``reduce_loss`` (the
processes' epoch losses averaged) and a step that runs the
``DistributedDataParallel`` module.

>>> import torch
>>> net = torch.nn.Linear(1, 1)
>>> x, y = torch.randn(32, 1), torch.randn(32, 1)
>>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
>>> result = fit_module(net, opt, lambda _: torch.nn.functional.mse_loss(net(x), y),
...                     max_epochs=5)
>>> len(result.history), sorted(result.history[0])
(5, ['epoch', 'lr', 'seconds', 'train_loss'])
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Union

import torch
from torch import Tensor

__all__ = ["EarlyStopping", "TrainingResult", "fit_module", "MODES"]

MODES = ("min", "max")
Step = Callable[[Any], Union[Tensor, tuple[Tensor, float]]]


def _better(a: float, b: float, mode: str) -> bool:
    return a < b if mode == "min" else a > b


class EarlyStopping:
    """Tracks the best epoch by ``monitor`` and says when to stop.

    Parameters
    ----------
    monitor : str
        Key of the epoch record to watch (``"val_loss"``, ``"val_acc"``,
        ``"train_loss"``, ...).
    mode : {"min", "max"}
        Whether a lower or a higher value is better.
    patience : int or None
        Stop after that many epochs without improvement (``None``: never stop
        early, only keep the best).
    tiebreak : tuple of (str, str), optional
        ``(key, mode)`` that decides between epochs with equal ``monitor``.
    restore_best : bool
        Keep a copy of the best weights and load them at the end.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "min",
                 patience: Optional[int] = None, tiebreak: Optional[tuple[str, str]] = None,
                 restore_best: bool = True) -> None:
        for m in (mode, tiebreak[1] if tiebreak else "min"):
            if m not in MODES:
                raise ValueError(f"mode must be 'min' or 'max', got {m!r}")
        self.monitor, self.mode, self.patience = monitor, mode, patience
        self.tiebreak, self.restore_best = tiebreak, restore_best
        self.best: Optional[dict[str, float]] = None
        self.best_epoch = -1
        self.best_state: Optional[dict] = None

    def _improves(self, record: dict[str, float]) -> bool:
        if self.best is None:
            return True
        value, best = record[self.monitor], self.best[self.monitor]
        if math.isnan(value):
            return False
        if math.isnan(best) or _better(value, best, self.mode):
            return True
        if value == best and self.tiebreak is not None:
            key, mode = self.tiebreak
            return _better(record[key], self.best[key], mode)
        return False

    def update(self, record: dict[str, float], module: torch.nn.Module) -> bool:
        """Records one epoch; returns True when training should stop."""
        if self.monitor not in record:
            raise KeyError(f"early stopping monitors {self.monitor!r}, but the epoch "
                           f"record has only {sorted(record)}")
        if self._improves(record):
            self.best, self.best_epoch = dict(record), int(record["epoch"])
            if self.restore_best:
                self.best_state = copy.deepcopy(module.state_dict())
        return self.patience is not None and \
            int(record["epoch"]) - self.best_epoch >= self.patience

    def restore(self, module: torch.nn.Module) -> None:
        if self.best_state is not None:
            module.load_state_dict(self.best_state)

    @property
    def best_score(self) -> Optional[float]:
        return None if self.best is None else self.best[self.monitor]


@dataclass
class TrainingResult:
    """What :func:`fit_module` did: one record per epoch, the number of epochs, the
    epoch whose weights the module holds and its monitored value."""

    history: list[dict[str, float]] = field(default_factory=list)
    n_epochs: int = 0
    best_epoch: int = -1
    best_score: Optional[float] = None


def _loss_and_weight(out: Union[Tensor, tuple[Tensor, float]]) -> tuple[Tensor, float]:
    if isinstance(out, tuple):
        return out[0], float(out[1])
    return out, 1.0


def fit_module(module: torch.nn.Module, optimizer: torch.optim.Optimizer, step: Step, *,
               max_epochs: int, batches: Optional[Callable[[int], Iterable[Any]]] = None,
               validate: Optional[Callable[[], dict[str, float]]] = None,
               stopping: Optional[EarlyStopping] = None, lr_patience: Optional[int] = None,
               lr_factor: float = 0.5, clip_grad_norm: Optional[float] = None,
               reduce_loss: Optional[Callable[[float], float]] = None,
               verbose: bool = False, desc: str = "epochs") -> TrainingResult:
    r"""Trains ``module`` for up to ``max_epochs`` epochs.

    Each epoch iterates ``batches(epoch)`` (default: one full-batch step) and for
    every batch zeroes the gradients, calls ``step(batch)`` (a loss tensor, or
    ``(loss, weight)``: the epoch's ``train_loss`` is the weighted mean), back-
    propagates, clips the gradient norm to ``clip_grad_norm`` and steps the
    optimiser. Then ``validate()`` (in eval mode, without gradients) adds its
    metrics to the epoch record, ``stopping`` sees the record, and with
    ``lr_patience`` the learning rate is multiplied by ``lr_factor`` after that many
    epochs without improvement of ``stopping.monitor``. At the end the best
    weights are restored (``stopping.restore_best``) and the module is left in
    eval mode.
    """
    if lr_patience is not None and stopping is None:
        raise ValueError("lr_patience needs a monitored metric (stopping)")
    plateau = None
    if lr_patience is not None:
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode=stopping.mode, factor=lr_factor, patience=lr_patience)
    result = TrainingResult()
    epochs: Iterable[int] = range(max_epochs)
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(epochs, desc=desc, unit="epoch", leave=False)
        epochs = bar
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for epoch in epochs:
        start = time.perf_counter()
        lr = float(optimizer.param_groups[0]["lr"])
        module.train()
        total = weight_sum = 0.0
        for batch in (batches(epoch) if batches is not None else (None,)):
            optimizer.zero_grad()
            loss, weight = _loss_and_weight(step(batch))
            loss.backward()
            if clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
            optimizer.step()
            total += float(loss.detach()) * weight
            weight_sum += weight
        train_loss = total / weight_sum if weight_sum else float("nan")
        if reduce_loss is not None:
            train_loss = reduce_loss(train_loss)
        record: dict[str, float] = {"epoch": epoch, "train_loss": train_loss}
        if validate is not None:
            module.eval()
            with torch.no_grad():
                record.update(validate())
        record["lr"] = lr
        record["seconds"] = time.perf_counter() - start
        result.history.append(record)
        if bar is not None:
            shown = {"loss": f"{train_loss:.4g}"}
            if stopping is not None and stopping.monitor != "train_loss":
                shown[stopping.monitor] = f"{record[stopping.monitor]:.4g}"
            bar.set_postfix(shown)
        if stopping is None:
            continue
        stop = stopping.update(record, module)
        if plateau is not None:
            plateau.step(record[stopping.monitor])
        if stop:
            break
    if bar is not None:
        bar.close()
    result.n_epochs = len(result.history)
    if stopping is not None and stopping.best is not None:
        stopping.restore(module)
        result.best_epoch, result.best_score = stopping.best_epoch, stopping.best_score
    else:
        result.best_epoch = result.n_epochs - 1
    module.eval()
    return result
