"""The torch objects of one run and one epoch of the lessons' loop body, line for line:

hypothesis = x_train * W + b          # or model(x_train); x_train.matmul(W) + b with k features
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
from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn, optim

from .batches import BatchFeed, make_scheduler, step_schedule
from .data import DataError, Dataset
from .record import EpochRecord
from .scaling import training_data
from .settings import OPTIMIZER_NAMES, Settings, SettingsError


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

    def __init__(self, settings: Settings, features: int = 1) -> None:
        """``features`` is k, the data's number of features: W is (k, 1) raw (one feature: a
        single number, as in Lab 2), nn.Linear(k, 1)'s weight (1, k)."""
        self.model: nn.Linear | None = None
        self.features = features
        if settings.model == "raw":
            W = torch.zeros(1 if features == 1 else (features, 1), requires_grad=True)
            b = torch.zeros(1, requires_grad=True) if settings.bias else None
        else:
            torch.manual_seed(settings.seed)
            self.model = nn.Linear(features, 1, bias=settings.bias)
            W = self.model.weight
            b = self.model.bias
        with torch.no_grad():
            init_w = initial_weights(settings, features)
            if isinstance(init_w, tuple):
                W.copy_(torch.tensor(init_w, dtype=W.dtype).reshape(W.shape))
            elif init_w is not None:
                W.fill_(init_w)
            if b is not None and settings.init_b is not None:
                b.fill_(settings.init_b)
        self.W = W
        self.b = b
        self.params: list[torch.Tensor] = [W] if b is None else [W, b]
        self.optimizer = make_optimizer(settings, self.params)
        self.scheduler = make_scheduler(settings, self.optimizer)
        self.feed = BatchFeed(settings) if settings.mini_batches else None
        # W and b as floats after the last step, so the next epoch need not read them again
        # (and W as a tuple with k features).
        self.values: tuple[float, float | None] | None = None
        self.vector: tuple[float, ...] | None = None

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
        if self.features > 1:
            if self.b is None:
                return x_train.matmul(self.W)
            return x_train.matmul(self.W) + self.b
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

    def forward(
        self, dataset: Dataset, settings: Settings
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor], int | None, int]:
        """The cost of the next step on the (already standardized) data: the cost, the points it
        was computed on, the batch's number and the epoch's count (None and 1: the full batch).
        With mini-batches it takes the DataLoader's next batch."""
        x_train, y_train, batch, batches = dataset.x_train, dataset.y_train, None, 1
        if self.feed is not None:  # for batch_idx, (x_batch, y_batch) in enumerate(dataloader)
            (x_train, y_train), batch, batches = self.feed.next_batch(dataset)
        return self.loss(self.hypothesis(x_train), y_train, settings), (x_train, y_train), batch, batches

    def epoch(self, epoch: int, dataset: Dataset, settings: Settings) -> EpochRecord:
        """One pass of the lessons' loop body; returns what it did."""
        for _phase in self.phases(epoch, dataset, settings):
            pass
        return self.record

    def phases(self, epoch: int, dataset: Dataset, settings: Settings) -> Generator[str, None, EpochRecord]:
        """The epoch one phase at a time: yields each phase's name after doing it, returns the record."""
        dataset = training_data(dataset, settings)  # x standardized with --standardize
        W, b = self.W, self.b
        many = self.features > 1
        if self.values is None:
            self.vector = _vector(W) if many else None
            self.values = (self.vector[0] if self.vector else W.item(), b.item() if b is not None else None)
        w, b_value = self.values
        ws = self.vector
        cost, (x_train, y_train), batch, batches = self.forward(dataset, settings)
        self.cost_value = cost.item()
        yield "forward"
        if settings.zero_grad:
            self.optimizer.zero_grad()
        yield "zero_grad"
        grad_ws = fresh_grad_ws = None
        if settings.zero_grad:
            cost.backward()
            if many:
                assert W.grad is not None
                grad_ws = fresh_grad_ws = _vector(W.grad)
                grad_w = fresh_grad_w = grad_ws[0]
            else:
                grad_w = fresh_grad_w = _grad(W)
            grad_b = fresh_grad_b = _grad(b) if b is not None else None
        else:
            # torch accumulates into .grad itself; the fresh gradient is only read here.
            fresh = torch.autograd.grad(cost, self.params, retain_graph=True)
            cost.backward()
            if many:
                assert W.grad is not None
                grad_ws, fresh_grad_ws = _vector(W.grad), _vector(fresh[0])
                grad_w, fresh_grad_w = grad_ws[0], fresh_grad_ws[0]
            else:
                grad_w = _grad(W)
                fresh_grad_w = fresh[0].item()
            grad_b = _grad(b) if b is not None else None
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
        ws_next = _vector(W) if many else None
        w_next = ws_next[0] if ws_next else W.item()
        b_next = b.item() if b is not None else None
        self.values = (w_next, b_next)
        self.vector = ws_next
        # positional, and the four vectors only with k features: one feature's record costs what it did
        self.record = EpochRecord(
            epoch, w, b_value, self.cost_value, grad_w, grad_b, w_next, b_next, fresh_grad_w, fresh_grad_b,
            learning_rate, step_refused, batch, batches,
            *((ws, grad_ws, fresh_grad_ws, ws_next) if many else ()),
        )  # fmt: skip
        if probes:  # L-BFGS's closure evaluations (the other optimizers' records stay as cheap)
            self.record = replace(self.record, probes=tuple(probes))
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
            # with k features a probe is placed by W's first weight, as the record's w is
            probes.append((W.flatten()[0].item(), b.item() if b is not None else None, first.item()))
            return first

        return closure

    def numbers(self) -> dict[str, float | None]:
        """W, b and their .grad right now (None where torch holds None); with k features, W
        and W.grad are the first weight's and ``w2``, ``w2.grad``, ... follow."""
        W, b = self.W, self.b
        numbers: dict[str, float | None] = {
            "W": W.flatten()[0].item(),
            "b": b.item() if b is not None else None,
            "W.grad": W.grad.flatten()[0].item() if W.grad is not None else None,
            "b.grad": b.grad.item() if b is not None and b.grad is not None else None,
        }
        for index in range(1, self.features):
            numbers[f"w{index + 1}"] = W.flatten()[index].item()
            numbers[f"w{index + 1}.grad"] = W.grad.flatten()[index].item() if W.grad is not None else None
        return numbers


class InitialWeightsError(SettingsError, DataError):
    """``init_w`` with a count of values the data's features do not take: a setting that does
    not fit the data, refused where either is (the panel's init W field, ``--init-w``)."""


def initial_weights(settings: Settings, features: int) -> float | tuple[float, ...] | None:
    """``init_w`` for k features: one value fills all of W; k values are W's, in order."""
    init_w = settings.init_w
    if isinstance(init_w, tuple):
        if len(init_w) != features:
            raise InitialWeightsError(
                "init_w",
                f"initial W has {len(init_w)} values but the data has {features} feature"
                f"{'s' if features != 1 else ''}: give {features} (or one for all)",
            )
        return init_w if features > 1 else init_w[0]
    return init_w


def _vector(tensor: torch.Tensor) -> tuple[float, ...]:
    """W's k values (k > 1) from the raw (k, 1) or nn.Linear's (1, k), or their .grad: read
    with one ``tolist`` (a reshape first would cost as much again)."""
    values = tensor.tolist()
    return tuple(values[0]) if len(values) == 1 else tuple(row[0] for row in values)


def _grad(param: torch.Tensor) -> float:
    """``param.grad`` as a float, right after ``backward()`` has filled it."""
    assert param.grad is not None
    return param.grad.item()


def hypothesis_text(record: EpochRecord, dataset: Dataset, settings: Settings) -> str:
    """``hypothesis.squeeze().detach()`` of the record's forward pass as torch prints it (Lab
    4-1's log line), worked out again from W and b before the step, as the model did."""
    x_train = training_data(dataset, settings).x_train
    weights = torch.tensor(record.weights(), dtype=torch.float32)
    b = None if record.b is None else torch.tensor([record.b], dtype=torch.float32)
    if settings.model == "linear":
        hypothesis = F.linear(x_train, weights.reshape(1, -1), b)
    else:
        hypothesis = x_train.matmul(weights.reshape(-1, 1))
        if b is not None:
            hypothesis = hypothesis + b
    return str(hypothesis.squeeze().detach())
