"""A run: one simulation and the history of what it did, kept in step in one place.

Whoever steps a run, undoes it, restarts it, saves it or draws it takes a ``Run``. Its
``revision`` changes whenever its state does, so a view can tell cheaply whether to look again.
"""

from __future__ import annotations

import numpy as np
import torch

from .data import Dataset
from .history import History
from .record import EpochRecord
from .settings import Settings
from .simulation import Simulation
from .surface import CostSurface


class Run:
    """A simulation and its history; ``letter`` names it in a race (A, B, C, D)."""

    def __init__(
        self,
        settings: Settings,
        dataset: Dataset | None = None,
        letter: str = "A",
        *,
        simulation: Simulation | None = None,
        history: History | None = None,
    ) -> None:
        self.letter = letter
        self.simulation = simulation if simulation is not None else Simulation(settings, dataset)
        self.history = history if history is not None else History()
        self.revision = 0

    # ----------------------------------------------------------------- state
    @property
    def settings(self) -> Settings:
        return self.simulation.settings

    @property
    def dataset(self) -> Dataset:
        return self.simulation.dataset

    @property
    def surface(self) -> CostSurface:
        return self.simulation.surface

    @property
    def epoch(self) -> int:
        """The next epoch to run."""
        return self.simulation.epoch

    @property
    def first_epoch(self) -> int:
        return self.simulation.first_epoch

    @property
    def steps(self) -> int:
        """Optimizer steps done (the epoch with the full batch)."""
        return self.simulation.steps

    @property
    def first_step(self) -> int:
        return self.simulation.first_step

    @property
    def batch(self) -> int:
        """Batches of the epoch in progress done (0 between epochs and with the full batch)."""
        return self.simulation.batch

    @property
    def batches_per_epoch(self) -> int:
        return self.simulation.batches_per_epoch

    @property
    def position(self) -> float:
        """How far the run is, in epochs: ``epoch`` between epochs, with the part of the epoch
        done mid-epoch with mini-batches (as ``report.position`` of the next step)."""
        count = self.simulation.batches_per_epoch
        return self.steps if count == 1 else self.steps / count

    @property
    def learning_rate_in_use(self) -> float:
        return self.simulation.learning_rate_in_use

    def learning_rate_ahead(self) -> tuple[float, int] | None:
        """With a schedule, the next lr it sets that differs from the one in use and the epoch
        it is used from (None without a schedule or a change before the run ends)."""
        return self.simulation.learning_rate_ahead()

    def next_batch(self) -> tuple[tuple[torch.Tensor, torch.Tensor], int, int] | None:
        """The next step's batch, its number and the epoch's count (None: the full batch)."""
        return self.simulation.next_batch()

    def last_batch(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The points of the last step's batch (None with the full batch)."""
        return self.simulation.last_batch()

    @property
    def last(self) -> EpochRecord | None:
        return self.simulation.last

    @property
    def w(self) -> float:
        return self.simulation.w

    @property
    def weights(self) -> tuple[float, ...]:
        """W's k values now (one with one feature)."""
        return self.simulation.weights

    @property
    def b(self) -> float | None:
        return self.simulation.b

    @property
    def bias(self) -> bool:
        return self.simulation.bias

    @property
    def diverged(self) -> bool:
        return self.simulation.diverged

    @property
    def diverged_at(self) -> int | None:
        return self.simulation.diverged_at

    @property
    def finished(self) -> bool:
        return self.simulation.finished

    @property
    def running(self) -> bool:
        """True while it can take another epoch (not finished, not diverged)."""
        simulation = self.simulation
        return simulation.diverged_at is None and simulation.epoch <= simulation.settings.epochs

    @property
    def mid_epoch(self) -> bool:
        return self.simulation.mid_epoch

    @property
    def phase(self) -> str | None:
        """The last phase done of the epoch in progress (forward, zero_grad, backward, step)."""
        return self.simulation.phase

    @property
    def phase_numbers(self) -> tuple[dict[str, float | None], dict[str, float | None]] | None:
        """W, b and their .grad before and after the last phase."""
        return self.simulation.phase_numbers

    @property
    def phase_cost(self) -> float | None:
        return self.simulation.phase_cost

    def optimizer_state(self) -> list[tuple[str, str, object]]:
        """``optimizer.state`` as (parameter name, key, value) rows, one-element tensors as floats."""
        return self.simulation.optimizer_state()

    def peek(self) -> EpochRecord | None:
        """What the next epoch will do, worked out on a copy."""
        return self.simulation.peek()

    # --------------------------------------------------------------- changing
    def _took(self, record: EpochRecord) -> EpochRecord:
        self.history.append(record)
        self.revision += 1
        return record

    def step(self) -> EpochRecord:
        """Run one epoch (finishing one in progress) and keep its record."""
        return self._took(self.simulation.step())

    def phase_step(self) -> EpochRecord | None:
        """Do the next phase of the epoch; the epoch's record after its last phase."""
        record = self.simulation.phase_step()
        self.revision += 1
        return None if record is None else self._took(record)

    def undo(self, epochs: int = 1) -> bool:
        """Step back ``epochs`` steps (epochs, or batches with mini-batches; one in progress
        counts as one), in one replay; False at the first step."""
        if not self.simulation.step_back(epochs):
            return False
        self.history.truncate_steps(self.simulation.steps)
        self.revision += 1
        return True

    def last_stable_step(self) -> int | None:
        """``last_stable_epoch`` as the optimizer step to go back to (with mini-batches, the
        batch with the lowest cost)."""
        index = self._lowest_cost_index()
        return None if index is None else int(self.history.steps()[index])

    def last_stable_epoch(self) -> int | None:
        """For a run that diverged, the epoch to go back to: the one with the lowest cost since
        the earliest epoch undo can reach (the latest if several tie). From there on the cost
        only grew, never back down to it, until a number overflowed; for a run that went wrong
        in one step, it is the epoch that diverged. None if the run has not diverged."""
        index = self._lowest_cost_index()
        return None if index is None else self.history.epochs[index]

    def _lowest_cost_index(self) -> int | None:
        if self.diverged_at is None or not len(self.history):
            return None
        costs = np.frombuffer(self.history.columns["cost"], dtype=np.float64)
        reachable = self.history.steps() >= self.first_step
        if not reachable.any():
            return None
        costs = np.where(np.isnan(costs) | ~reachable, np.inf, costs)
        return len(costs) - 1 - int(np.argmin(costs[::-1]))  # the latest of equal lowest costs

    def run_to(self, epoch: int) -> list[EpochRecord]:
        """Step forward to the start of ``epoch`` (never back), stopping early at divergence or
        the last epoch. Returns the steps run."""
        return self.run_to_step(epoch * self.batches_per_epoch)

    def run_to_step(self, steps: int) -> list[EpochRecord]:
        """Step forward until ``steps`` optimizer steps are done (never back), stopping early at
        divergence or the last epoch. Returns the steps run."""
        records = []
        while self.steps < steps and self.running:
            records.append(self.step())
        return records

    def follow_steps(self, steps: int) -> list[EpochRecord]:
        """Step forward or back until ``steps`` optimizer steps are done (a rival following its
        leader), stopping early at divergence or the last epoch forward and at the first step
        back. Returns the steps run forward."""
        while self.steps > steps and self.undo(self.steps - steps):
            pass
        return self.run_to_step(steps)

    def apply(self, settings: Settings) -> None:
        """Take new settings from the next step on (not a new problem: ``Race.restart``)."""
        self.simulation.apply(settings)
        self.revision += 1
