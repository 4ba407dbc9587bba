"""How records are written out: the lessons' log line, and rows for CSV and JSON Lines."""

from __future__ import annotations

import csv
import math
import os
from typing import TYPE_CHECKING, TextIO

from .files import write_atomically
from .trainer import EpochRecord

if TYPE_CHECKING:
    from .history import History
    from .run import Run

COLUMNS: tuple[str, ...] = ("epoch", "w", "b", "cost", "grad_w", "grad_b", "w_next", "b_next")
HISTORY_COLUMNS: tuple[str, ...] = (*COLUMNS, "fresh_grad_w", "fresh_grad_b", "learning_rate")


def log_line(record: EpochRecord, epochs: int, contender: str = "") -> str:
    """The line the lessons print: W and b after the step, the cost computed in that epoch.
    In a race, the contender's letter follows the epoch."""
    start = f"Epoch {record.epoch:4d}/{epochs} {contender + ' ' if contender else ''}W: {record.w_next:.3f}"
    if record.b_next is None:
        return f"{start}, Cost: {record.cost:.6f}"
    return f"{start}, b: {record.b_next:.3f} Cost: {record.cost:.6f}"


def logged(record: EpochRecord, log_every: int) -> bool:
    """Whether an epoch gets a log line: every ``log_every``-th, and any that went non-finite."""
    return record.epoch % log_every == 0 or not record.finite


def row(record: EpochRecord) -> dict[str, int | float | None]:
    """The record's columns by name (b columns are None without bias)."""
    return {column: getattr(record, column) for column in COLUMNS}


def json_row(record: EpochRecord) -> dict[str, int | float | None]:
    """``row`` with non-finite numbers as None, since JSON has no NaN or infinity."""
    return {
        column: None if isinstance(value, float) and not math.isfinite(value) else value
        for column, value in row(record).items()
    }


def divergence_of(run: Run) -> str:
    """``divergence_message`` for a run that has diverged: its last record and its data's limit."""
    assert run.last is not None
    return divergence_message(run.last, run.surface.stability_limit)


def divergence_message(record: EpochRecord, stability_limit: float) -> str:
    """What went non-finite and at which epoch, and the learning rate that would have held."""
    values = {
        "cost": record.cost,
        "W.grad": record.grad_w,
        "b.grad": record.grad_b,
        "W": record.w_next,
        "b": record.b_next,
    }
    bad = ", ".join(
        f"{name} = {value}"
        for name, value in values.items()
        if value is not None and not math.isfinite(value)
    )
    if math.isnan(record.w_next) and math.isfinite(record.cost) and math.isfinite(record.grad_w):
        bad = "the optimizer's step overflowed float32, so torch refused to take it"
    return (
        f"diverged at epoch {record.epoch} ({bad}). Plain gradient descent on this data and loss "
        f"converges only for learning rates below {stability_limit:.4g}; this run used "
        f"{record.learning_rate:g}."
    )


def export_history_csv(path: str | os.PathLike[str], history: History) -> None:
    """Every epoch of the history as CSV (b columns empty without bias), written atomically."""

    def write(out: TextIO) -> None:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HISTORY_COLUMNS)
        for record in history:
            writer.writerow(
                ["" if (value := getattr(record, name)) is None else value for name in HISTORY_COLUMNS]
            )

    write_atomically(path, write)
