"""How many epochs each frame of a run advances, so simulation speed does not depend on redraws.

At a set speed the pacer pays out epochs for the time that has passed since the last
frame; at full speed a frame runs epochs until its time budget is spent, then the
screen is redrawn. The clock is injected so tests control time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..engine.choices import DEFAULT_SPEED, FULL_SPEED, SPEEDS, speed_label

__all__ = ["DEFAULT_SPEED", "FULL_SPEED", "MAX_OWED_SECONDS", "SPEEDS", "Pacer", "speed_label"]

# The most epochs a paced frame may owe, so a stalled terminal does not cause a burst.
MAX_OWED_SECONDS = 0.5


class Pacer:
    def __init__(
        self,
        speed: int = DEFAULT_SPEED,
        clock: Callable[[], float] = time.perf_counter,
        frame_budget: float = 0.015,
    ) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"speed must be one of {SPEEDS}")
        self.speed = speed
        self.clock = clock
        self.frame_budget = frame_budget
        self._last = clock()
        self._owed = 0.0

    @property
    def full_speed(self) -> bool:
        return self.speed == FULL_SPEED

    def restart(self) -> None:
        """Start counting from now (when a run starts or resumes)."""
        self._last = self.clock()
        self._owed = 0.0

    def set_speed(self, speed: int) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"speed must be one of {SPEEDS}")
        self.speed = speed
        self.restart()

    def epochs_due(self) -> int:
        """At a set speed: the whole epochs earned since the last call."""
        now = self.clock()
        elapsed = min(now - self._last, MAX_OWED_SECONDS)
        self._last = now
        self._owed += elapsed * self.speed
        due = int(self._owed + 1e-9)  # 0.3 s at 10 epochs/s is 3 epochs, not 2.9999...
        self._owed = max(self._owed - due, 0.0)
        return due

    def deadline(self) -> float:
        """At full speed: the clock reading at which this frame stops running epochs."""
        return self.clock() + self.frame_budget

    def run_frame(self, step: Callable[[], bool]) -> int:
        """Call ``step`` as often as this frame allows; it returns False to stop early."""
        done = 0
        if self.full_speed:
            deadline = self.deadline()
            clock = self.clock
            while step():
                done += 1
                if clock() >= deadline:
                    break
            return done
        for _ in range(self.epochs_due()):
            if not step():
                break
            done += 1
        return done
