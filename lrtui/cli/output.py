"""What `lrtui run` writes while it trains: the logged epochs (the lessons' lines, CSV or JSON
Lines, a row per contender in a race) and a progress bar on a terminal's stderr."""

from __future__ import annotations

import csv
import json
import math
import shutil
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..engine.race import Race
    from ..engine.record import EpochRecord


class Progress:
    """A one-line progress bar on a terminal's stderr (rich.progress: the epoch, the bar, epochs
    per second, time elapsed and left), redrawn at most ten times a second.

    The line is drawn by hand, with no Live display and no refresh thread: a logged line on
    stdout clears it first (``clear``), and between two draws an epoch costs one clock read.
    """

    def __init__(self, stream: TextIO, total: int, clock: Callable[[], float] = time.monotonic) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        self.stream = stream
        self.total = max(total, 1)
        self.shown = False
        self.clock = clock
        self._next_draw = 0.0
        width = shutil.get_terminal_size().columns - 1  # never wrap onto a second line
        self.console = Console(file=stream, force_terminal=True, width=width, highlight=False)
        self.progress = RichProgress(
            TextColumn("epoch {task.fields[epoch]}/{task.fields[last]}"),
            BarColumn(bar_width=None),
            TaskProgressColumn(),
            _epoch_rate(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=self.console,
            auto_refresh=False,
            get_time=clock,
            expand=True,
        )
        self.task = self.progress.add_task("run", total=self.total, epoch=0, last=self.total - 1)

    def update(self, done: int) -> None:
        now = self.clock()
        if now < self._next_draw:
            return
        self._next_draw = now + 0.1
        self.progress.update(self.task, completed=done, epoch=max(done - 1, 0))  # the last epoch done
        with self.console.capture() as line:
            self.console.print(self.progress.make_tasks_table(self.progress.tasks), end="")
        self.stream.write("\r" + line.get().rstrip("\n") + "\033[K")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False
            self._next_draw = 0.0


def _epoch_rate() -> Any:
    """A column of epochs per second, as rich measures the task's speed (rich is imported only
    when a bar is drawn, so `lrtui --help` and runs into pipes never import it)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class EpochRate(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.speed
            return Text("" if speed is None else f"{speed:,.0f} epochs/s", style="progress.data.speed")

    return EpochRate()


def writer_for(
    output_format: str, out: TextIO, epochs: int, race: Race
) -> Callable[[str, EpochRecord], object]:
    """How one logged epoch is written (each of its batches, with mini-batches); in a race, each
    row names its contender (letter and what sets it apart)."""
    from ..engine.report import (
        CLOSURE_COLUMNS,
        COLUMNS,
        LOOP_COLUMNS,
        json_row,
        log_line,
        row,
        wide_columns,
        wide_row,
        x_units_suffix,
    )
    from ..engine.scaling import original_columns, scaling_of, with_original_columns
    from ..engine.trainer import hypothesis_text

    looped = any(run.settings.mini_batches or run.settings.scheduler != "none" for run in race)
    base_columns = LOOP_COLUMNS if looped else COLUMNS
    if any(run.settings.optimizer == "lbfgs" for run in race):
        base_columns += CLOSURE_COLUMNS
    scaling = scaling_of(race.leader.dataset, race.leader.settings)  # --standardize: x's units too
    columns = wide_columns(original_columns(base_columns, scaling), race.leader.dataset.features)
    runs = {run.letter: run for run in race}

    style = race.leader.settings.print_style  # shared by the race

    def line_of(record: EpochRecord, epochs: int, contender: str = "") -> str:
        suffix = x_units_suffix(record, scaling, style) if scaling is not None else ""
        hypothesis = None
        if record.ws is not None and record.batch is None:  # Lab 4-1's line
            run = runs[contender] if contender else race.leader
            hypothesis = hypothesis_text(record, run.dataset, run.settings)
        return log_line(record, epochs, contender, style, hypothesis) + suffix

    def row_of(record: EpochRecord) -> list[object]:
        return wide_row(with_original_columns(row(record, base_columns), record, scaling))

    def json_of(record: EpochRecord) -> dict[str, object]:
        values = with_original_columns(json_row(record, base_columns), record, scaling)
        return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in values.items()}

    racing = len(race) > 1
    described = dict(zip((run.letter for run in race), race.labels(), strict=True))
    if output_format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("contender", "description", *columns) if racing else columns)
        cells = lambda record: ["" if value is None else value for value in row_of(record)]  # noqa: E731
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
