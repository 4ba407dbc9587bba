"""One training run, advanced one optimizer step at a time with a real torch optimizer
(``trainer.Trainer`` runs it), with exact stepping back through checkpoints.

A step is one ``optimizer.step()``: a whole epoch with the full batch, one batch of it with
mini-batches. Checkpoints, settings changes and stepping back count steps; ``epoch`` is the
epoch in progress (or the next one) and ``batch`` how many of its batches are done."""

from __future__ import annotations

import copy
from collections.abc import Callable, Generator

import torch
from torch import optim

from . import data as data_module
from .batches import make_scheduler, next_change
from .checkpoints import Checkpoints, checkpoint_interval
from .data import Dataset
from .losses import surface_for
from .record import EpochRecord
from .scaling import training_data
from .settings import OPTION_SETTINGS, PROBLEM_FIELDS, Settings
from .surface import CostSurface
from .trainer import Trainer, make_optimizer


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
        self.trainer = Trainer(self.settings, self.dataset.features)
        self.epoch = 0
        self.diverged_at: int | None = None
        self.last: EpochRecord | None = None
        self.checkpoints = Checkpoints(self.settings, every=self._checkpoint_interval())
        # An epoch being run phase by phase: its phases, a copy of the trainer from before
        # it (to start it over), the last phase done and the numbers before and after it.
        self._phases: Generator[str, None, EpochRecord] | None = None
        self._epoch_start: Trainer | None = None
        self.phase: str | None = None
        self.phase_numbers: tuple[dict[str, float | None], dict[str, float | None]] | None = None

    def _checkpoint_interval(self) -> int:
        points = len(self.dataset.x_train)
        batch_size = self.settings.batch_size
        return checkpoint_interval(points if batch_size is None else min(batch_size, points))

    # ------------------------------------------------------------------ state
    @property
    def w(self) -> float:
        """W (with k features, the first weight: ``weights`` has them all)."""
        W = self.trainer.W
        return W.item() if W.numel() == 1 else W.flatten()[0].item()

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(self.trainer.W.detach().flatten().tolist())

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
    def batches_per_epoch(self) -> int:
        """How many optimizer steps an epoch takes: 1 with the full batch."""
        feed = self.trainer.feed
        return 1 if feed is None else feed.count(self.dataset)

    @property
    def batch(self) -> int:
        """How many batches of the epoch in progress are done (0 between epochs, and always 0
        with the full batch)."""
        feed = self.trainer_between_epochs.feed
        return 0 if feed is None else feed.done

    @property
    def steps(self) -> int:
        """Optimizer steps done so far (the epoch, with the full batch)."""
        feed = self.trainer_between_epochs.feed
        if feed is None:
            return self.epoch
        return self.epoch * feed.count(self.dataset) + feed.done

    @property
    def learning_rate_in_use(self) -> float:
        """The lr the next step will use (the schedule's, when there is one)."""
        return float(self.trainer_between_epochs.optimizer.param_groups[0]["lr"])

    def learning_rate_ahead(self) -> tuple[float, int] | None:
        """With a schedule, the next lr it sets that differs from the one in use, and the epoch
        it is used from; None without a schedule, or with no change before the run ends."""
        scheduler = self.trainer_between_epochs.scheduler
        if scheduler is None:
            return None
        change = next_change(scheduler, self.learning_rate_in_use)
        if change is None:
            return None
        lr, schedule_steps = change  # the epoch in progress (or the next) ends with the first
        epoch = self.epoch + schedule_steps
        return None if epoch > self.settings.epochs else (lr, epoch)

    def next_batch(self) -> tuple[tuple[torch.Tensor, torch.Tensor], int, int] | None:
        """The points of the batch the next step trains on, its number and the epoch's batch
        count (None with the full batch)."""
        feed = self.trainer_between_epochs.feed
        if feed is None or self.finished:
            return None
        return feed.upcoming(training_data(self.dataset, self.settings))

    def last_batch(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The points of the last step's batch (None with the full batch or before any step)."""
        feed = self.trainer_between_epochs.feed
        return None if feed is None else feed.last_batch(training_data(self.dataset, self.settings))

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
        self.checkpoints.take_if_due(self.steps, self.trainer, self.last)
        self.phase = self.phase_numbers = None  # a whole epoch: no phase to show
        return self._finish(self.trainer.epoch(self.epoch, self.dataset, self.settings))

    def _finish(self, record: EpochRecord) -> EpochRecord:
        self.last = record
        if record.batch is None or record.batch == record.batches:
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
            self.checkpoints.take_if_due(self.steps, self.trainer, self.last)
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
    def apply(self, settings: Settings) -> None:
        """Take new settings from the next step on, the run going on (a new problem is a new
        run: ``Race.restart``).

        A new learning rate goes into the optimizer's ``param_groups`` (as a scheduler
        would); a new optimizer or option of it (momentum, betas, ...) creates a fresh optimizer on
        the same parameters, its state empty; the rest takes effect at the next epoch.
        """
        changed = set(settings.changed_fields(self.settings))
        if not changed:
            return
        if changed & PROBLEM_FIELDS:
            raise ValueError(
                f"{', '.join(sorted(changed & PROBLEM_FIELDS))} make a new problem: start a new Run (Race.restart)"
            )
        self._start_epoch_over()  # settings take effect from a whole epoch
        self._apply_live(changed, settings)
        self.checkpoints.settings_changed(self.steps, settings)

    def _apply_live(self, changed: set[str], settings: Settings) -> None:
        self.settings = settings
        if changed & {"optimizer", *OPTION_SETTINGS}:
            # torch creates momentum buffers lazily and only when momentum was set at the
            # start, so a script that changes momentum makes a new optimizer; so do we.
            self.trainer.optimizer = make_optimizer(settings, self.trainer.params)
            self.trainer.scheduler = make_scheduler(settings, self.trainer.optimizer)
        elif "learning_rate" in changed:
            for group in self.trainer.optimizer.param_groups:
                group["lr"] = settings.learning_rate

    # ------------------------------------------------------------- stepping back
    def resume_at(self, epoch: int, last: EpochRecord | None, diverged_at: int | None) -> None:
        """Go on from ``epoch`` with the trainer as it stands (restored from a saved session):
        undo can go back to here, not before (the epochs before it were not run here)."""
        self.epoch, self.last, self.diverged_at = epoch, last, diverged_at
        self.checkpoints = Checkpoints(self.settings, self.steps, self._checkpoint_interval())
        self.checkpoints.take(self.steps, self.trainer, self.last)

    @property
    def first_step(self) -> int:
        """The earliest step stepping back can reach: 0, or where a loaded session resumed."""
        return self.checkpoints.first_step(self.steps)

    @property
    def first_epoch(self) -> int:
        """The epoch of ``first_step`` (the one it is in, mid-epoch)."""
        return self.first_step // self.batches_per_epoch

    @property
    def phase_cost(self) -> float | None:
        """The cost computed by the forward phase of the epoch stepped through phase by phase
        (None when no phase has been shown)."""
        return self.trainer.cost_value if self.phase is not None else None

    def weight_decay(self) -> tuple[float, bool]:
        """The optimizer's weight decay as torch holds it (AdamW's default included), and whether
        it is decoupled (AdamW, Adafactor, decoupled_weight_decay): W and b shrink directly
        instead of the decay joining the gradient."""
        optimizer = self.trainer_between_epochs.optimizer
        group = optimizer.param_groups[0]
        decoupled = bool(group.get("decoupled_weight_decay")) or isinstance(optimizer, optim.Adafactor)
        return float(group.get("weight_decay", 0.0)), decoupled

    def optimizer_state(self) -> list[tuple[str, str, object]]:
        """``optimizer.state`` as (parameter name, key, value) rows, read from torch: one-element
        tensors as floats, longer ones as tuples of floats, L-BFGS's lists as how many they hold."""
        optimizer = self.trainer.optimizer
        names: tuple[str, ...] = ("W", "b")
        if isinstance(optimizer, optim.LBFGS) and self.bias:
            names = ("W, b",)  # one state for all its parameters, kept under the first
        rows: list[tuple[str, str, object]] = []
        params = [param for group in optimizer.param_groups for param in group["params"]]
        for name, param in zip(names, params, strict=False):
            for key, value in optimizer.state.get(param, {}).items():
                if isinstance(value, torch.Tensor):
                    value = value.item() if value.numel() == 1 else tuple(value.flatten().tolist())
                elif isinstance(value, list):  # L-BFGS's history: how many of history_size are kept
                    value = f"{sum(item is not None for item in value)} kept"
                rows.append((name, key, value))
        return rows

    def step_back(self, epochs: int = 1) -> bool:
        """Undo the last ``epochs`` steps (epochs with the full batch, batches with mini-batches;
        a step in progress counts as one; never past ``first_step``): parameters, gradients,
        optimizer, scheduler and DataLoader state as they were before them, and settings changed
        since then undone. False if there was nothing to undo.

        The state is restored from the nearest checkpoint at or before the target step and
        the steps in between are replayed once, which gives bit-identical numbers on CPU.
        """
        if self._phases is not None:
            self._start_epoch_over()
            if epochs <= 1 or self.steps <= self.first_step:
                return True
            epochs -= 1
        if self.steps <= self.first_step or epochs < 1:
            return False
        target = max(self.first_step, self.steps - epochs)
        start, self.trainer, last = self.checkpoints.back_to(target)
        self.phase = self.phase_numbers = None
        self.settings = self.checkpoints.settings_at(start)
        self.epoch, self.last, self.diverged_at = start // self.batches_per_epoch, last, None
        while self.steps < target:
            self._apply_live(
                set(self.checkpoints.settings_at(self.steps).changed_fields(self.settings)),
                self.checkpoints.settings_at(self.steps),
            )
            self.step()
        settings = self.checkpoints.settings_at(target)
        self._apply_live(set(settings.changed_fields(self.settings)), settings)
        return True
