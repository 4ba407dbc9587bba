"""The torch objects of one run and one epoch of the lessons' loop body, line for line:

hypothesis = x_train * W + b          # or model(x_train)
cost = torch.mean((hypothesis - y_train) ** 2)   # or F.mse_loss
optimizer.zero_grad()                 # skipped when zero_grad is off
cost.backward()
optimizer.step()

With mini-batches (``batch_size`` set) the same body runs on the next batch of the DataLoader
(``batches.BatchFeed``) instead of the whole data; with a schedule, ``scheduler.step()``
follows the epoch's last ``optimizer.step()``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Generator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn, optim

from .batches import BatchFeed, make_scheduler, step_schedule
from .data import Dataset
from .record import EpochRecord
from .scaling import training_data
from .settings import OPTIMIZER_NAMES, Settings


def make_optimizer(settings: Settings, params: list[torch.Tensor]) -> optim.Optimizer:
    """The torch optimizer a lesson would write for these settings: its class in torch.optim,
    the lr and the options the learner set (torch's own defaults for the rest)."""
    kind = getattr(optim, OPTIMIZER_NAMES[settings.optimizer])
    groups: Any = params
    if not settings.decay_bias:  # b in a group of its own, left out of weight decay
        groups = [{"params": params[:1]}, {"params": params[1:], "weight_decay": 0.0}]
    optimizer: optim.Optimizer = kind(groups, lr=settings.learning_rate, **settings.optimizer_options())
    return optimizer


class Trainer:
    """The torch objects of one run: W, b (or an nn.Linear holding them) and the optimizer.

    Kept together so that ``copy.deepcopy`` gives an independent twin whose optimizer
    still points at its own parameters.
    """

    def __init__(self, settings: Settings) -> None:
        self.model: nn.Linear | None = None
        if settings.model == "raw":
            W = torch.zeros(1, requires_grad=True)
            b = torch.zeros(1, requires_grad=True) if settings.bias else None
        else:
            torch.manual_seed(settings.seed)
            self.model = nn.Linear(1, 1, bias=settings.bias)
            W = self.model.weight
            b = self.model.bias
        with torch.no_grad():
            if settings.init_w is not None:
                W.fill_(settings.init_w)
            if b is not None and settings.init_b is not None:
                b.fill_(settings.init_b)
        self.W = W
        self.b = b
        self.params: list[torch.Tensor] = [W] if b is None else [W, b]
        self.optimizer = make_optimizer(settings, self.params)
        self.scheduler = make_scheduler(settings, self.optimizer)
        self.feed = BatchFeed(settings) if settings.mini_batches else None
        # W and b as floats after the last step, so the next epoch need not read them again.
        self.values: tuple[float, float | None] | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Trainer:
        twin = object.__new__(Trainer)
        memo[id(self)] = twin
        for key, value in self.__dict__.items():
            setattr(twin, key, copy.deepcopy(value, memo))
        # nn.Parameter's deepcopy leaves .grad out (a plain tensor's keeps it): carry it over,
        # so that with zero_grad off a copy of nn.Linear adds up .grad as the original does.
        for param, original in zip(twin.params, self.params, strict=True):
            if original.grad is not None and param.grad is None:
                param.grad = original.grad.clone()
        if isinstance(twin.optimizer, optim.LBFGS):
            # Optimizer.__getstate__ keeps defaults, state and param_groups only: L-BFGS's own
            # handles on its parameters are set up again, as its __init__ does
            twin.optimizer._params = twin.optimizer.param_groups[0]["params"]
            twin.optimizer._numel_cache = None
        return twin

    def hypothesis(self, x_train: torch.Tensor) -> torch.Tensor:
        if self.model is not None:
            return self.model(x_train)
        if self.b is None:
            return x_train * self.W
        return x_train * self.W + self.b

    def cost(self, hypothesis: torch.Tensor, y_train: torch.Tensor, loss_reduction: str) -> torch.Tensor:
        if self.model is not None:
            return F.mse_loss(hypothesis, y_train, reduction=loss_reduction)
        if loss_reduction == "sum":
            return torch.sum((hypothesis - y_train) ** 2)
        return torch.mean((hypothesis - y_train) ** 2)

    def loss(self, hypothesis: torch.Tensor, y_train: torch.Tensor, settings: Settings) -> torch.Tensor:
        """The cost of the chosen loss, as a lesson would write it: ``cost`` for the squared
        errors; L1 as ``torch.mean(torch.abs(...))`` (raw) or ``F.l1_loss`` (nn.Linear); Huber
        as ``F.huber_loss`` for both."""
        reduction = settings.loss_reduction
        if settings.loss == "l1":
            if self.model is not None:
                return F.l1_loss(hypothesis, y_train, reduction=reduction)
            total = torch.sum if reduction == "sum" else torch.mean
            return total(torch.abs(hypothesis - y_train))
        if settings.loss == "huber":
            return F.huber_loss(hypothesis, y_train, reduction=reduction, delta=settings.huber_delta)
        return self.cost(hypothesis, y_train, reduction)

    def epoch(self, epoch: int, dataset: Dataset, settings: Settings) -> EpochRecord:
        """One pass of the lessons' loop body; returns what it did."""
        for _phase in self.phases(epoch, dataset, settings):
            pass
        return self.record

    def phases(self, epoch: int, dataset: Dataset, settings: Settings) -> Generator[str, None, EpochRecord]:
        """The epoch one phase at a time: yields each phase's name after doing it, returns the record."""
        dataset = training_data(dataset, settings)  # x standardized with --standardize
        W, b = self.W, self.b
        if self.values is None:
            self.values = (W.item(), b.item() if b is not None else None)
        w, b_value = self.values
        x_train, y_train, batch, batches = dataset.x_train, dataset.y_train, None, 1
        if self.feed is not None:  # for batch_idx, (x_batch, y_batch) in enumerate(dataloader)
            (x_train, y_train), batch, batches = self.feed.next_batch(dataset)
        cost = self.loss(self.hypothesis(x_train), y_train, settings)
        self.cost_value = cost.item()
        yield "forward"
        if settings.zero_grad:
            self.optimizer.zero_grad()
        yield "zero_grad"
        if settings.zero_grad:
            cost.backward()
            grad_w = fresh_grad_w = _grad(W)
            grad_b = fresh_grad_b = _grad(b) if b is not None else None
        else:
            # torch accumulates into .grad itself; the fresh gradient is only read here.
            fresh = torch.autograd.grad(cost, self.params, retain_graph=True)
            cost.backward()
            grad_w = _grad(W)
            grad_b = _grad(b) if b is not None else None
            fresh_grad_w = fresh[0].item()
            fresh_grad_b = fresh[1].item() if b is not None else None
        yield "backward"
        step_refused = False
        learning_rate = settings.learning_rate
        if self.scheduler is not None:
            learning_rate = self.optimizer.param_groups[0]["lr"]
        probes: list[tuple[float, float | None, float]] = []
        try:
            if isinstance(self.optimizer, optim.LBFGS):
                self.optimizer.step(self._closure(cost, x_train, y_train, settings, probes))
            else:
                self.optimizer.step()
        except RuntimeError as error:
            # e.g. Adam's lr / (1 - beta1**t) past float32: torch raises instead of writing inf,
            # and W and b keep the values they had (its state has counted the step).
            if "overflow" not in str(error):
                raise
            step_refused = True
        w_next = W.item()
        b_next = b.item() if b is not None else None
        self.values = (w_next, b_next)
        self.record = EpochRecord(
            epoch=epoch,
            w=w,
            b=b_value,
            cost=self.cost_value,
            grad_w=grad_w,
            grad_b=grad_b,
            w_next=w_next,
            b_next=b_next,
            fresh_grad_w=fresh_grad_w,
            fresh_grad_b=fresh_grad_b,
            learning_rate=learning_rate,
            step_refused=step_refused,
            batch=batch,
            batches=batches,
            probes=tuple(probes),
        )
        if self.scheduler is not None and (self.feed is None or self.feed.epoch_ended):
            step_schedule(self.scheduler)
        yield "step"
        return self.record

    def _closure(
        self,
        cost: torch.Tensor,
        x_train: torch.Tensor,
        y_train: torch.Tensor,
        settings: Settings,
        probes: list[tuple[float, float | None, float]],
    ) -> Callable[[], torch.Tensor]:
        """The closure a lesson hands L-BFGS (zero_grad, forward, cost, backward, return the
        cost), each evaluation noted in ``probes``. torch calls it first at W, b as they are: the
        phases above did that evaluation, so the first call hands back their cost."""
        W, b = self.W, self.b
        done = [cost]

        def closure() -> torch.Tensor:
            if done:
                first = done.pop()
            else:
                if settings.zero_grad:
                    self.optimizer.zero_grad()
                first = self.loss(self.hypothesis(x_train), y_train, settings)
                first.backward()
            probes.append((W.item(), b.item() if b is not None else None, first.item()))
            return first

        return closure

    def numbers(self) -> dict[str, float | None]:
        """W, b and their .grad right now (None where torch holds None)."""
        W, b = self.W, self.b
        return {
            "W": W.item(),
            "b": b.item() if b is not None else None,
            "W.grad": W.grad.item() if W.grad is not None else None,
            "b.grad": b.grad.item() if b is not None and b.grad is not None else None,
        }


def _grad(param: torch.Tensor) -> float:
    """``param.grad`` as a float, right after ``backward()`` has filled it."""
    assert param.grad is not None
    return param.grad.item()
