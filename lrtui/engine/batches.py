"""Mini-batches and learning-rate schedules, as the lessons write them:

dataset = TensorDataset(x_train, y_train)
dataloader = DataLoader(dataset, batch_size=B, shuffle=SHUFFLE,
                        generator=torch.Generator().manual_seed(seed))
...
scheduler.step()                      # once per epoch, after its batches

A ``BatchFeed`` hands out one epoch's batches one at a time. It takes the whole epoch from the
DataLoader when the epoch starts (``list(dataloader)`` draws from the generator exactly what a
``for`` loop over it does, the sampler's last draw included), so a copy of it, a checkpoint or a
saved session needs only the generator's state from before the epoch and how many batches are
done: the same state gives the same batches, bit for bit.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import torch
from torch import optim
from torch.utils.data import DataLoader, TensorDataset

from .data import Dataset
from .settings import Settings

Batch = tuple[torch.Tensor, torch.Tensor]


def batch_count(points: int, batch_size: int) -> int:
    """``len(dataloader)`` with drop_last False: the last batch may be smaller."""
    return -(-points // batch_size)


class BatchFeed:
    """The DataLoader of one run, its generator and where it is in the epoch."""

    def __init__(self, settings: Settings) -> None:
        assert settings.batch_size is not None
        self.batch_size = settings.batch_size
        self.shuffle = settings.shuffle
        self.generator = torch.Generator().manual_seed(settings.seed)
        self._loader: DataLoader[Any] | None = None
        self._loader_data: Dataset | None = None
        # The epoch in progress: the generator's state before it, its batches and how many are done.
        self.epoch_state: torch.Tensor | None = None
        self._batches: list[Batch] | None = None
        self.done = 0
        self.last: Batch | None = None  # the batch of the last step
        # The generator's state before the epoch that ended last, to find its last batch again.
        self.previous_state: torch.Tensor | None = None

    def _dataloader(self, dataset: Dataset) -> DataLoader[Any]:
        if self._loader is None or self._loader_data is not dataset:
            self._loader = self._new_loader(dataset, self.generator)
            self._loader_data = dataset
        return self._loader

    def _new_loader(self, dataset: Dataset, generator: torch.Generator) -> DataLoader[Any]:
        return DataLoader(
            TensorDataset(dataset.x_train, dataset.y_train),
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            generator=generator,
        )

    def count(self, dataset: Dataset) -> int:
        """How many batches an epoch has."""
        return batch_count(len(dataset.x_train), self.batch_size)

    def _epoch(self, dataset: Dataset) -> list[Batch]:
        if self._batches is None:
            if self.epoch_state is None:
                self.epoch_state = self.generator.get_state()
            else:  # a copy or a restored session: take the same epoch again from its start
                self.generator.set_state(self.epoch_state)
            self._batches = list(self._dataloader(dataset))
        return self._batches

    def next_batch(self, dataset: Dataset) -> tuple[Batch, int, int]:
        """The next batch, its number (1-based) and the epoch's batch count."""
        batches = self._epoch(dataset)
        batch = batches[self.done]
        self.done += 1
        self.last = batch
        number = self.done
        if self.done == len(batches):  # the epoch is over: the next one is taken now, so
            # that copies made between epochs (a look ahead, a checkpoint) share its batches
            self.previous_state = self.epoch_state
            self.epoch_state, self._batches, self.done = None, None, 0
            self._epoch(dataset)
        return batch, number, len(batches)

    def upcoming(self, dataset: Dataset) -> tuple[Batch, int, int]:
        """The batch the next step takes, its number and the epoch's count; nothing moves (the
        epoch's batches are taken from the DataLoader if they were not yet: the same ones)."""
        batches = self._epoch(dataset)
        return batches[self.done], self.done + 1, len(batches)

    @property
    def epoch_ended(self) -> bool:
        """True between epochs (no batch of an epoch done yet)."""
        return self.done == 0

    def last_batch(self, dataset: Dataset) -> Batch | None:
        """The batch of the last step (worked out again after a session was loaded)."""
        if self.last is None and self.done > 0:
            self.last = self._epoch(dataset)[self.done - 1]
        elif self.last is None and self.previous_state is not None:
            generator = torch.Generator()
            generator.set_state(self.previous_state)
            self.last = list(self._new_loader(dataset, generator))[-1]
        return self.last

    def state(self) -> tuple[torch.Tensor, int]:
        """What a session keeps: the generator's state before the epoch in progress (or now,
        between epochs) and how many of its batches are done."""
        state = self.epoch_state if self.epoch_state is not None else self.generator.get_state()
        return state.clone(), self.done

    def restore(self, state: torch.Tensor, done: int, previous: torch.Tensor | None = None) -> None:
        """Go on from ``state`` with ``done`` batches of its epoch done (and ``previous``, the
        state before the epoch that ended last, between epochs); torch checks the states."""
        self.generator.set_state(state)
        self._batches, self.last = None, None
        self.epoch_state = state.clone() if done else None
        self.done = done
        self.previous_state = previous

    def __deepcopy__(self, memo: dict[int, Any]) -> BatchFeed:
        # The batches are never written to, so a copy shares them; it has its own generator.
        twin = object.__new__(BatchFeed)
        twin.__dict__.update(self.__dict__)
        twin.generator = torch.Generator()
        twin.generator.set_state(self.generator.get_state())
        twin._loader = twin._loader_data = None
        return twin


def make_scheduler(settings: Settings, optimizer: optim.Optimizer) -> optim.lr_scheduler.LRScheduler | None:
    """The torch scheduler a lesson would write for these settings (None without one)."""
    arguments: dict[str, Any] = settings.schedule()
    if settings.scheduler == "step":
        return optim.lr_scheduler.StepLR(optimizer, **arguments)
    if settings.scheduler == "exponential":
        return optim.lr_scheduler.ExponentialLR(optimizer, **arguments)
    if settings.scheduler == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, **arguments)
    return None


def step_schedule(scheduler: optim.lr_scheduler.LRScheduler) -> None:
    """``scheduler.step()``. A copied optimizer (a checkpoint, undo) loses the wrapper torch puts
    on ``optimizer.step`` to check the order of the two calls; ours is always right, so torch's
    warning that the order cannot be checked is not shown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        scheduler.step()


def next_change(scheduler: optim.lr_scheduler.LRScheduler, in_use: float) -> tuple[float, int] | None:
    """The next lr the schedule sets that differs from ``in_use``, and after how many more
    ``scheduler.step()`` calls it is in use (1: from the next epoch); None if it never changes.

    torch works the next epoch's lr out on a copy. StepLR keeps an lr for ``step_size``
    epochs: its next change is ``lr * gamma`` (as torch multiplies it) at the next multiple of
    ``step_size``, so that a learner reads when the lr halves, not that it stays."""
    twin = copy.deepcopy(scheduler)
    step_schedule(twin)
    following = float(twin.optimizer.param_groups[0]["lr"])
    if following != in_use:
        return following, 1
    if isinstance(twin, optim.lr_scheduler.StepLR) and twin.gamma != 1:
        return following * twin.gamma, 1 + (-twin.last_epoch % twin.step_size or twin.step_size)
    return None
