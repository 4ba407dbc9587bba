"""What stepping back needs: exact copies of the trainer before some steps, and the settings in
force from each step on, so that any step since the first can be replayed bit for bit."""

from __future__ import annotations

import copy

from .record import EpochRecord
from .settings import Settings
from .trainer import Trainer

CHECKPOINT_EVERY = 32  # steps between copies when a step is costly (many points a step)
CHEAP_STEP_POINTS = 10_000  # a step over at most this many points is cheap: 0.1 to 0.2 ms
CHEAP_STEP_EVERY = 256  # steps between copies when steps are cheap (see checkpoint_interval)
MAX_CHECKPOINTS = 256


def checkpoint_interval(points_per_step: int) -> int:
    """How many steps apart the copies are. A copy costs about as much as a few small steps,
    and the steps right after it run slower (torch's caches warm up again), so with cheap
    steps copies every 32 steps were a tenth of the run's time; stepping back replays at most
    ``interval - 1`` steps, 255 cheap ones (tens of ms) or 31 over a million points (~70 ms)."""
    return CHEAP_STEP_EVERY if points_per_step <= CHEAP_STEP_POINTS else CHECKPOINT_EVERY


class Checkpoints:
    """Copies of the trainer by step, and the timeline of settings changes."""

    def __init__(self, settings: Settings, steps: int = 0, every: int = CHECKPOINT_EVERY) -> None:
        self.every = every
        self._saved: dict[int, tuple[Trainer, EpochRecord | None]] = {}
        self._timeline: list[tuple[int, Settings]] = [(steps, settings)]

    def __len__(self) -> int:
        return len(self._saved)

    def first_step(self, steps: int) -> int:
        """The earliest step that can be gone back to (``steps`` when nothing is saved yet)."""
        return min(self._saved, default=steps)

    def take_if_due(self, steps: int, trainer: Trainer, last: EpochRecord | None) -> None:
        """Copy the trainer before step ``steps`` if that step is one to keep."""
        if steps % self.every == 0 and steps not in self._saved:
            self.take(steps, trainer, last)

    def take(self, steps: int, trainer: Trainer, last: EpochRecord | None) -> None:
        self._saved[steps] = (copy.deepcopy(trainer), last)
        if len(self._saved) > MAX_CHECKPOINTS:
            # Keep the recent half dense and thin the older half, so memory stays bounded
            # however long the run and stepping back stays quick near the present.
            kept = sorted(self._saved)
            older = kept[1 : len(kept) - MAX_CHECKPOINTS // 2]
            for step in older[1::2]:
                del self._saved[step]

    def settings_changed(self, steps: int, settings: Settings) -> None:
        """New settings are in force from step ``steps`` on (a copy taken before it is stale)."""
        self._timeline = [(step, s) for step, s in self._timeline if step < steps]
        self._timeline.append((steps, settings))
        self._saved.pop(steps, None)

    def settings_at(self, step: int) -> Settings:
        return next(s for e, s in reversed(self._timeline) if e <= step)

    def back_to(self, target: int) -> tuple[int, Trainer, EpochRecord | None]:
        """Forget everything after step ``target`` and give the nearest copy at or before it:
        its step, a fresh copy of its trainer, and the record before it."""
        start = max(step for step in self._saved if step <= target)
        trainer, last = self._saved[start]
        for step in [e for e in self._saved if e > target]:
            del self._saved[step]
        self._timeline = [(step, s) for step, s in self._timeline if step <= target]
        return start, copy.deepcopy(trainer), last
