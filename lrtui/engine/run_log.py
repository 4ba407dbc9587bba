"""What the log pane shows, as data: the lessons' epoch lines at the log interval and event
lines (a setting changed, a reset, a divergence), each kept with its place in the run so that
stepping back takes out exactly the lines of the epochs it undoes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .race import Race, Row
from .record import EpochRecord
from .report import divergence_of, log_line, logged, position, x_units_suffix
from .run import Run
from .scaling import scaling_of

MAX_LINES = 5000


@dataclass(frozen=True)
class LogLine:
    text: str
    event: bool = False  # an event (reset, change, divergence) rather than an epoch's line


# (epoch, 1) for an epoch's line; (the next epoch, 0) for an event. With mini-batches the
# epoch has a fraction: how far through it the step started (``Run.position``).
Place = tuple[float, int]


class RunLog:
    """The lines of a race's log. ``take()`` hands the lines a pane has not shown yet."""

    def __init__(self, max_lines: int = MAX_LINES) -> None:
        self.max_lines = max_lines
        self.entries: list[tuple[Place, LogLine]] = []
        self.base = 0  # entries before this belong to earlier runs and stay through undo
        self._pending: list[LogLine] = []
        self._rewritten = False

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def lines(self) -> list[LogLine]:
        return [line for _, line in self.entries]

    def _add(self, place: Place, line: LogLine) -> None:
        self.entries.append((place, line))
        self._pending.append(line)
        if len(self.entries) > 2 * self.max_lines:
            del self.entries[: self.max_lines]
            self.base = max(0, self.base - self.max_lines)

    def event(self, text: str, next_epoch: float) -> None:
        """An event line, placed before the epoch ``next_epoch``."""
        self._add((next_epoch, 0), LogLine(text, event=True))

    def took(self, race: Race, rows: list[Row]) -> None:
        """The lines of epochs just run: each logged epoch, every contender that diverged, and
        the end of the leader's run."""
        if not rows:
            return
        leader = race.leader
        settings = leader.settings
        racing = len(race) > 1
        runs = {run.letter: run for run in race}
        for letter, record in sorted(rows, key=lambda row: (row[1].epoch, row[0])):
            if logged(record, settings.log_every):
                self._add(
                    (position(record), 1), LogLine(epoch_line(runs[letter], record, letter if racing else ""))
                )
        diverged = {letter for letter, record in rows if not record.finite}
        for run in race.rivals:
            if run.letter in diverged:
                self.event(f"{run.letter} {divergence_of(run)}", run.position)
        if leader.diverged and leader.letter in diverged:
            self.event(divergence_of(leader, keys=True), leader.position)
        elif leader.finished and any(letter == leader.letter for letter, _ in rows):
            last = leader.last
            assert last is not None
            self.event(
                f"run finished: epochs 0..{settings.epochs} done, cost {last.cost:.6f}. "
                "r resets; raise epochs to go on.",
                leader.position,
            )

    def replay(self, race: Race) -> None:
        """The epoch lines of every contender's history so far, as ``took`` writes them (a
        loaded session, a race brought back by undo, rivals brought to a loaded epoch)."""
        leader = race.leader
        every = leader.settings.log_every
        racing = len(race) > 1
        lines: list[tuple[Place, str, LogLine]] = []
        for run in race:
            history = run.history
            kept = [i for i, epoch in enumerate(history.epochs) if epoch % every == 0][-self.max_lines :]
            for index in kept:
                record = history.record(index)
                text = epoch_line(run, record, run.letter if racing else "")
                lines.append(((position(record), 1), run.letter, LogLine(text)))
        lines.sort(key=lambda line: line[:2])
        for place, _letter, line in lines[-self.max_lines :]:
            self._add(place, line)

    def new_run(self) -> None:
        """The lines so far belong to a run that has ended (reset, new problem, lesson, load)."""
        self.base = len(self.entries)

    def undo_to(self, next_epoch: float) -> None:
        """Take out the lines of epoch ``next_epoch`` and later (after stepping back)."""
        undone = (next_epoch, 1)
        kept = [entry for index, entry in enumerate(self.entries) if index < self.base or entry[0] < undone]
        if len(kept) != len(self.entries):
            self.entries = kept
            self._pending = [line for _, line in kept[-self.max_lines :]]
            self._rewritten = True

    def take(self) -> tuple[bool, list[LogLine]]:
        """(whether the pane must be cleared first, the lines to write), and forget them."""
        rewritten, pending = self._rewritten, self._pending
        self._rewritten, self._pending = False, []
        return rewritten, pending

    @property
    def has_pending(self) -> bool:
        return bool(self._pending) or self._rewritten


def epoch_line(run: Run, record: EpochRecord, contender: str = "") -> str:
    """An epoch's log line in the run's print style; for a standardized run, with W and b in
    x's own units (``x_units_suffix``); with k features, Lab 4-1's line with the epoch's
    ``hypothesis`` as torch prints it."""
    settings = run.settings
    scaling = scaling_of(run.dataset, settings)
    suffix = "" if scaling is None else x_units_suffix(record, scaling, settings.print_style)
    shown = None
    if record.ws is not None and record.batch is None:
        from .trainer import hypothesis_text

        shown = hypothesis_text(record, run.dataset, settings)
    return log_line(record, settings.epochs, contender, settings.print_style, shown) + suffix
