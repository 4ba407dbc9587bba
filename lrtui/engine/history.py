"""What a run has done so far, for the charts: the trajectory of (W, b) and the cost per epoch."""

from __future__ import annotations

from .simulation import EpochRecord


class History:
    def __init__(self) -> None:
        self.records: list[EpochRecord] = []

    def __len__(self) -> int:
        return len(self.records)

    def append(self, record: EpochRecord) -> None:
        self.records.append(record)

    def extend(self, records: list[EpochRecord]) -> None:
        self.records.extend(records)

    def clear(self) -> None:
        self.records.clear()

    @property
    def last(self) -> EpochRecord | None:
        return self.records[-1] if self.records else None

    def trajectory(self) -> tuple[list[float], list[float | None]]:
        """The (W, b) points visited: each epoch's start, then where the last step landed."""
        ws = [record.w for record in self.records]
        bs = [record.b for record in self.records]
        if self.records:
            ws.append(self.records[-1].w_next)
            bs.append(self.records[-1].b_next)
        return ws, bs

    def costs(self) -> tuple[list[int], list[float]]:
        """Epoch numbers and the cost computed in each."""
        return [record.epoch for record in self.records], [record.cost for record in self.records]
