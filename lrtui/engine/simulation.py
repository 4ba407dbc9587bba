"""One training run, advanced one full-batch epoch at a time with a real torch optimizer
(``trainer.Trainer`` runs the epoch), with exact stepping back through checkpoints."""

from __future__ import annotations

import copy
from collections.abc import Callable, Generator

import torch
from torch import optim

from . import data as data_module
from .data import Dataset
from .losses import surface_for
from .scaling import training_data
from .settings import PROBLEM_FIELDS, Settings
from .surface import CostSurface
from .trainer import EpochRecord, Trainer, make_optimizer

CHECKPOINT_EVERY = 32
MAX_CHECKPOINTS = 256


class DivergedError(RuntimeError):
    """Raised when asked to step a run that has already diverged."""


class Simulation:
    """A training run: the data, the trainer and the next epoch to run."""

    def __init__(self, settings: Settings, dataset: Dataset | None = None) -> None:
        self.settings = settings
        self.dataset = dataset if dataset is not None else data_module.load(settings.data)
        training_data(self.dataset, settings)  # x that cannot be standardized is refused here
        self._build()

    def _build(self) -> None:
        self.trainer = Trainer(self.settings)
        self.epoch = 0
        self.diverged_at: int | None = None
        self.last: EpochRecord | None = None
        # For stepping back: exact copies of the trainer before some epochs, and the
        # settings in force from each epoch on, so any epoch can be replayed bit for bit.
        self._checkpoints: dict[int, tuple[Trainer, EpochRecord | None]] = {}
        self._timeline: list[tuple[int, Settings]] = [(0, self.settings)]
        # An epoch being run phase by phase: its phases, a copy of the trainer from before
        # it (to start it over), the last phase done and the numbers before and after it.
        self._phases: Generator[str, None, EpochRecord] | None = None
        self._epoch_start: Trainer | None = None
        self.phase: str | None = None
        self.phase_numbers: tuple[dict[str, float | None], dict[str, float | None]] | None = None

    # ------------------------------------------------------------------ state
    @property
    def w(self) -> float:
        return self.trainer.W.item()

    @property
    def b(self) -> float | None:
        b = self.trainer.b
        return b.item() if b is not None else None

    @property
    def bias(self) -> bool:
        return self.trainer.b is not None

    @property
    def optimizer(self) -> optim.Optimizer:
        return self.trainer.optimizer

    @property
    def surface(self) -> CostSurface:
        """The cost for this data, bias, loss and reduction (closed form for MSE), kept while
        they stay the same: an L1 or Huber surface holds the points and its optimum."""
        s = self.settings
        key = (self.dataset, self.bias, s.loss, s.loss_reduction, s.huber_delta, s.standardize)
        kept = getattr(self, "_surface", None)
        if kept is None or kept[0] != key:
            kept = (key, surface_for(training_data(self.dataset, s), self.bias, s))
            self._surface = kept
        return kept[1]

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def finished(self) -> bool:
        """True once epochs 0..settings.epochs have all run (the lessons' ``range(nb_epochs + 1)``)."""
        return self.epoch > self.settings.epochs

    # ---------------------------------------------------------------- running
    def step(self) -> EpochRecord:
        """Run one epoch and return what it did."""
        if self.diverged_at is not None:
            raise DivergedError(f"the run diverged at epoch {self.diverged_at}; reset to start again")
        if self._phases is not None:
            while self._phases is not None:
                record = self.phase_step()
            assert record is not None
            return record
        if self.epoch % CHECKPOINT_EVERY == 0 and self.epoch not in self._checkpoints:
            self._checkpoint()
        self.phase = self.phase_numbers = None  # a whole epoch: no phase to show
        return self._finish(self.trainer.epoch(self.epoch, self.dataset, self.settings))

    def _finish(self, record: EpochRecord) -> EpochRecord:
        self.last = record
        self.epoch += 1
        if not record.finite:
            self.diverged_at = record.epoch
        return record

    # ------------------------------------------------------------ phase by phase
    @property
    def mid_epoch(self) -> bool:
        return self._phases is not None

    def phase_step(self) -> EpochRecord | None:
        """Do the next phase of the epoch (forward and cost, zero_grad, backward, step).
        Returns the epoch's record after its last phase, None before that."""
        if self.diverged_at is not None:
            raise DivergedError(f"the run diverged at epoch {self.diverged_at}; reset to start again")
        if self._phases is None:
            if self.epoch % CHECKPOINT_EVERY == 0 and self.epoch not in self._checkpoints:
                self._checkpoint()
            self._epoch_start = copy.deepcopy(self.trainer)
            self._phases = self.trainer.phases(self.epoch, self.dataset, self.settings)
        before = self.trainer.numbers()
        self.phase = next(self._phases)
        self.phase_numbers = (before, self.trainer.numbers())
        if self.phase != "step":
            return None
        try:
            next(self._phases)
        except StopIteration as done:
            record = done.value
        self._phases = self._epoch_start = None
        return self._finish(record)

    def _start_epoch_over(self) -> None:
        """Undo the phases done so far in the epoch in progress."""
        if self._epoch_start is not None:
            self.trainer = self._epoch_start
        self._phases = self._epoch_start = None
        self.phase = self.phase_numbers = None

    @property
    def trainer_between_epochs(self) -> Trainer:
        """The trainer as it was after the last whole epoch (before an epoch in progress)."""
        return self._epoch_start if self._epoch_start is not None else self.trainer

    def peek(self) -> EpochRecord | None:
        """What the next epoch will do, worked out on a copy; the run itself does not move."""
        if self.diverged_at is not None:
            return None
        twin = copy.deepcopy(self.trainer_between_epochs)
        return twin.epoch(self.epoch, self.dataset, self.settings)

    def run(self, count: int) -> list[EpochRecord]:
        """Run up to ``count`` epochs, stopping early at divergence."""
        records = []
        for _ in range(count):
            if self.diverged_at is not None:
                break
            records.append(self.step())
        return records

    def run_to_end(self, on_record: Callable[[EpochRecord], None] | None = None) -> None:
        """Run epochs until ``settings.epochs`` is done or the run diverges."""
        while not self.finished and self.diverged_at is None:
            record = self.step()
            if on_record is not None:
                on_record(record)

    # --------------------------------------------------------------- changing
    def reset(self) -> None:
        """Start the same problem again from epoch 0."""
        self._build()

    def apply(self, settings: Settings) -> bool:
        """Take new settings. Returns True if they define a new problem and the run was reset.

        A new learning rate goes into the optimizer's ``param_groups`` (as a scheduler
        would); a new optimizer, momentum or Nesterov setting creates a fresh optimizer on
        the same parameters, its state empty; the rest takes effect at the next epoch.
        """
        old = self.settings
        changed = set(settings.changed_fields(old))
        if not changed:
            return False
        self._start_epoch_over()  # settings take effect from a whole epoch
        if changed & PROBLEM_FIELDS:
            dataset = self.dataset
            if "data" in changed:
                dataset = data_module.load(settings.data)
            training_data(dataset, settings)  # raises DataError before anything changes
            self.settings = settings
            self.dataset = dataset
            self._build()
            return True
        self._apply_live(changed, settings)
        self._timeline = [(epoch, s) for epoch, s in self._timeline if epoch < self.epoch]
        self._timeline.append((self.epoch, settings))
        self._checkpoints.pop(self.epoch, None)  # taken before this change
        return False

    def _apply_live(self, changed: set[str], settings: Settings) -> None:
        self.settings = settings
        if changed & {"optimizer", "momentum", "nesterov"}:
            # torch creates momentum buffers lazily and only when momentum was set at the
            # start, so a script that changes momentum makes a new optimizer; so do we.
            self.trainer.optimizer = make_optimizer(settings, self.trainer.params)
        elif "learning_rate" in changed:
            for group in self.trainer.optimizer.param_groups:
                group["lr"] = settings.learning_rate

    # ------------------------------------------------------------- stepping back
    def _checkpoint(self) -> None:
        self._checkpoints[self.epoch] = (copy.deepcopy(self.trainer), self.last)
        if len(self._checkpoints) > MAX_CHECKPOINTS:
            # Keep the recent half dense and thin the older half, so memory stays bounded
            # however long the run and stepping back stays quick near the present.
            epochs = sorted(self._checkpoints)
            older = epochs[1 : len(epochs) - MAX_CHECKPOINTS // 2]
            for epoch in older[1::2]:
                del self._checkpoints[epoch]

    def _settings_at(self, epoch: int) -> Settings:
        return next(s for e, s in reversed(self._timeline) if e <= epoch)

    def resume_at(self, epoch: int, last: EpochRecord | None, diverged_at: int | None) -> None:
        """Go on from ``epoch`` with the trainer as it stands (restored from a saved session):
        undo can go back to here, not before (the epochs before it were not run here)."""
        self.epoch, self.last, self.diverged_at = epoch, last, diverged_at
        self._timeline = [(epoch, self.settings)]
        self._checkpoints = {}
        self._checkpoint()

    @property
    def first_epoch(self) -> int:
        """The earliest epoch stepping back can reach: 0, or where a loaded session resumed."""
        return min(self._checkpoints, default=self.epoch)

    @property
    def phase_cost(self) -> float | None:
        """The cost computed by the forward phase of the epoch stepped through phase by phase
        (None when no phase has been shown)."""
        return self.trainer.cost_value if self.phase is not None else None

    def optimizer_state(self) -> list[tuple[str, str, object]]:
        """``optimizer.state`` as (parameter name, key, value) rows, one-element tensors as floats."""
        optimizer = self.trainer.optimizer
        rows: list[tuple[str, str, object]] = []
        for name, param in zip(("W", "b"), optimizer.param_groups[0]["params"], strict=False):
            for key, value in optimizer.state.get(param, {}).items():
                if isinstance(value, torch.Tensor) and value.numel() == 1:
                    value = value.item()
                rows.append((name, key, value))
        return rows

    def step_back(self, epochs: int = 1) -> bool:
        """Undo the last ``epochs`` epochs (an epoch in progress counts as one; never past
        ``first_epoch``): parameters, gradients and optimizer state as they were before them,
        and settings changed since then undone. False if there was nothing to undo.

        The state is restored from the nearest checkpoint at or before the target epoch and
        the epochs in between are replayed once, which gives bit-identical numbers on CPU.
        """
        if self._phases is not None:
            self._start_epoch_over()
            if epochs <= 1 or self.epoch <= self.first_epoch:
                return True
            epochs -= 1
        if self.epoch <= self.first_epoch or epochs < 1:
            return False
        target = max(self.first_epoch, self.epoch - epochs)
        start = max(epoch for epoch in self._checkpoints if epoch <= target)
        trainer, last = self._checkpoints[start]
        for epoch in [e for e in self._checkpoints if e > target]:
            del self._checkpoints[epoch]
        self._timeline = [(epoch, s) for epoch, s in self._timeline if epoch <= target]
        self.trainer = copy.deepcopy(trainer)
        self.phase = self.phase_numbers = None
        self.settings = self._settings_at(start)
        self.epoch, self.last, self.diverged_at = start, last, None
        while self.epoch < target:
            self._apply_live(
                set(self._settings_at(self.epoch).changed_fields(self.settings)),
                self._settings_at(self.epoch),
            )
            self.step()
        settings = self._settings_at(target)
        self._apply_live(set(settings.changed_fields(self.settings)), settings)
        return True
