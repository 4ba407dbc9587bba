"""What a run has done so far, for the charts: the trajectory of (W, b) and the cost per epoch.

Records are stored column by column in flat arrays of doubles: a float32 value is exact
in a double, and flat arrays stay compact and invisible to the garbage collector. Past
MAX_RECORDS, older records are thinned to every ``stride``-th epoch (the stride doubling
each time), so memory stays bounded however long a run goes while the whole run stays
evenly covered; the last TAIL epochs are always complete, and every record kept is exact.

With mini-batches there is a record per batch: ``batch`` holds its number (0 with the full
batch) beside its epoch, and ``batches`` the epoch's batch count.

A step torch refused can only be a run's last epoch (it ends the run), so it is kept as that
epoch's number, ``refused_at``, rather than as a column.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .record import EpochRecord

_COLUMNS = (
    "w",
    "b",
    "cost",
    "grad_w",
    "grad_b",
    "w_next",
    "b_next",
    "fresh_grad_w",
    "fresh_grad_b",
    "learning_rate",
)
# With k > 1 features, W's four columns hold k numbers a record, one after the other.
VECTOR_COLUMNS = ("ws", "grad_ws", "fresh_grad_ws", "ws_next")
MAX_RECORDS = 2**17
TAIL = MAX_RECORDS // 4
_OPTIONAL = frozenset({"b", "grad_b", "b_next", "fresh_grad_b"})


class History:
    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.epochs = array("q")
        self.batch = array("q")  # 1-based batch numbers; 0 for a full-batch step
        self.batches = 1
        self.columns: dict[str, array] = {name: array("d") for name in _COLUMNS}
        self.features = 1
        self.vectors: dict[str, array] = {}
        self.bias: bool | None = None
        self.stride = 1
        self.refused_at: int | None = None  # the epoch whose step torch refused, if any

    def __len__(self) -> int:
        return len(self.epochs)

    def append(self, record: EpochRecord) -> None:
        if len(self.epochs) >= MAX_RECORDS:
            self._thin()
        if self.bias is None:
            self.bias = record.b is not None
            self.features = record.features
            self.vectors = {name: array("d") for name in VECTOR_COLUMNS} if self.features > 1 else {}
        self.epochs.append(record.epoch)
        self.batch.append(record.batch or 0)
        self.batches = record.batches
        for name, column in self.columns.items():
            value = getattr(record, name)
            column.append(0.0 if value is None else value)
        for name, column in self.vectors.items():
            column.extend(getattr(record, name))
        if record.step_refused:
            self.refused_at = record.epoch

    def _thin(self) -> None:
        recent = len(self.epochs) - TAIL
        while True:
            keep = [i for i in range(recent) if self.epochs[i] % self.stride == 0]
            if len(keep) <= MAX_RECORDS // 2:
                break
            self.stride *= 2
        keep += range(recent, len(self.epochs))
        self.epochs = array("q", (self.epochs[i] for i in keep))
        self.batch = array("q", (self.batch[i] for i in keep))
        for name, column in self.columns.items():
            self.columns[name] = array("d", (column[i] for i in keep))
        k = self.features
        for name, column in self.vectors.items():
            self.vectors[name] = array("d", (column[i * k + j] for i in keep for j in range(k)))

    def extend(self, records: Iterable[EpochRecord]) -> None:
        for record in records:
            self.append(record)

    def record(self, index: int) -> EpochRecord:
        """The record at ``index`` (negative counts from the end), exactly as the engine gave it."""
        values: dict[str, Any] = {name: column[index] for name, column in self.columns.items()}
        if self.vectors:
            k, at = self.features, index % len(self.epochs)
            values.update({name: tuple(column[at * k : at * k + k]) for name, column in self.vectors.items()})
        if not self.bias:
            values.update(dict.fromkeys(_OPTIONAL))
        epoch = self.epochs[index]
        refused = epoch == self.refused_at and index in (-1, len(self.epochs) - 1)
        batch = self.batch[index] or None
        return EpochRecord(
            epoch=epoch, **values, step_refused=refused, batch=batch, batches=self.batches if batch else 1
        )

    @property
    def last(self) -> EpochRecord | None:
        return self.record(-1) if self.epochs else None

    def __iter__(self) -> Iterator[EpochRecord]:
        """Every record kept, oldest first."""
        return (self.record(i) for i in range(len(self.epochs)))

    def steps(self) -> np.ndarray:
        """Each record's optimizer step (``EpochRecord.step``), as an int64 array."""
        if not self.epochs:
            return np.zeros(0, dtype=np.int64)
        epochs = np.frombuffer(self.epochs, dtype=np.int64)
        batch = np.frombuffer(self.batch, dtype=np.int64)
        return np.where(batch > 0, epochs * self.batches + batch - 1, epochs)

    def truncate_steps(self, step: int) -> None:
        """Forget the records of optimizer step ``step`` and later (after stepping back)."""
        keep = int(np.count_nonzero(self.steps() < step))
        if keep == len(self.epochs):
            return
        del self.epochs[keep:]
        del self.batch[keep:]
        for column in self.columns.values():
            del column[keep:]
        for column in self.vectors.values():
            del column[keep * self.features :]
        self.refused_at = None  # a refused step can only be the last, and it is gone
