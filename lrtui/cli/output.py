"""What `lrtui run` writes while it trains: the logged epochs (the lessons' lines, CSV or JSON
Lines, a row per contender in a race) and a progress bar on a terminal's stderr."""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ..engine.race import Race
    from ..engine.record import EpochRecord


class Progress:
    """A one-line progress bar on a terminal's stderr, redrawn at most ten times a second."""

    WIDTH = 30

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = max(total, 1)
        self.shown = False
        self._next_draw = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now < self._next_draw:
            return
        self._next_draw = now + 0.1
        filled = self.WIDTH * done // self.total
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] epoch {done}/{self.total - 1}")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False
            self._next_draw = 0.0


def writer_for(
    output_format: str, out: TextIO, epochs: int, race: Race
) -> Callable[[str, EpochRecord], object]:
    """How one logged epoch is written (each of its batches, with mini-batches); in a race, each
    row names its contender (letter and what sets it apart)."""
    from ..engine.report import CLOSURE_COLUMNS, COLUMNS, LOOP_COLUMNS, json_row, log_line, row
    from ..engine.scaling import original_columns, original_suffix, scaling_of, with_original_columns

    looped = any(run.settings.mini_batches or run.settings.scheduler != "none" for run in race)
    base_columns = LOOP_COLUMNS if looped else COLUMNS
    if any(run.settings.optimizer == "lbfgs" for run in race):
        base_columns += CLOSURE_COLUMNS
    scaling = scaling_of(race.leader.dataset, race.leader.settings)  # --standardize: x's units too
    columns = original_columns(base_columns, scaling)

    def line_of(record: EpochRecord, epochs: int, contender: str = "") -> str:
        suffix = original_suffix(record, scaling) if scaling is not None else ""
        return log_line(record, epochs, contender) + suffix

    def row_of(record: EpochRecord) -> dict[str, int | float | None]:
        return with_original_columns(row(record, base_columns), record, scaling)

    def json_of(record: EpochRecord) -> dict[str, int | float | None]:
        values = with_original_columns(json_row(record, base_columns), record, scaling)
        return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in values.items()}

    racing = len(race) > 1
    described = dict(zip((run.letter for run in race), race.labels(), strict=True))
    if output_format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("contender", "description", *columns) if racing else columns)
        cells = lambda record: ["" if value is None else value for value in row_of(record).values()]  # noqa: E731
        if racing:
            return lambda letter, record: writer.writerow([letter, described[letter], *cells(record)])
        return lambda letter, record: writer.writerow(cells(record))
    if output_format == "jsonl":
        if racing:
            return lambda letter, record: out.write(
                json.dumps({"contender": letter, "description": described[letter], **json_of(record)}) + "\n"
            )
        return lambda letter, record: out.write(json.dumps(json_of(record)) + "\n")
    return lambda letter, record: out.write(line_of(record, epochs, letter if racing else "") + "\n")
