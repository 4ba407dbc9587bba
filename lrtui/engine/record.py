"""What one optimizer step did (an epoch, or a batch with mini-batches): ``EpochRecord``. Plain
numbers, no torch, so that what only reads records (the history, the log, reports) needs none."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EpochRecord:
    """What one epoch did. ``w``/``b`` are read before the step, ``w_next``/``b_next`` after.

    ``grad_w``/``grad_b`` are the ``.grad`` values ``optimizer.step()`` used, accumulated
    over earlier epochs when zero_grad is off; ``fresh_grad_w``/``fresh_grad_b`` are this
    epoch's gradient alone. ``b`` fields are None without bias.

    ``step_refused`` is True when torch raised instead of taking the step (its size overflowed
    float32): ``w_next``/``b_next`` are then what torch still holds, the values from before it.
    """

    epoch: int
    w: float
    b: float | None
    cost: float
    grad_w: float
    grad_b: float | None
    w_next: float
    b_next: float | None
    fresh_grad_w: float
    fresh_grad_b: float | None
    learning_rate: float
    step_refused: bool = False
    batch: int | None = None  # mini-batches: this step's batch, 1-based (None: the full batch)
    batches: int = 1  # the epoch's batch count
    ws: tuple[float, ...] | None = None
    grad_ws: tuple[float, ...] | None = None
    fresh_grad_ws: tuple[float, ...] | None = None
    ws_next: tuple[float, ...] | None = None

    @property
    def features(self) -> int:
        return 1 if self.ws is None else len(self.ws)

    def weights(self, name: str = "w") -> tuple[float, ...]:
        """W's values for a column ``w``, ``grad_w``, ``fresh_grad_w`` or ``w_next``, as a tuple
        of one number with one feature."""
        vector = getattr(self, _VECTORS[name])
        return (getattr(self, name),) if vector is None else vector

    # L-BFGS: every (W, b, cost) its closure was evaluated at inside the step, the first being
    # (w, b, cost); empty for the optimizers whose step() takes no closure.
    probes: tuple[tuple[float, float | None, float], ...] = ()

    @property
    def evaluations(self) -> int:
        """How many times the step evaluated the cost: L-BFGS's closure calls, else 1."""
        return len(self.probes) or 1

    @property
    def step(self) -> int:
        """Which optimizer step of the run this was, from 0 (the epoch, with the full batch)."""
        return self.epoch if self.batch is None else self.epoch * self.batches + self.batch - 1

    @property
    def finite(self) -> bool:
        """True when the epoch went through: every number finite and the step taken. A refused
        step ends the run as a non-finite number does."""
        if self.step_refused:
            return False
        isfinite = math.isfinite
        if not (isfinite(self.cost) and isfinite(self.grad_w) and isfinite(self.w_next)):
            return False
        if self.ws_next is not None and not all(map(isfinite, (*self.ws_next, *(self.grad_ws or ())))):
            return False
        return self.b_next is None or (
            self.grad_b is not None and isfinite(self.grad_b) and isfinite(self.b_next)
        )


_VECTORS = {"w": "ws", "grad_w": "grad_ws", "fresh_grad_w": "fresh_grad_ws", "w_next": "ws_next"}
