"""What the learner drives, without Textual: the race, its log, the runs a restart set aside,
and the lesson with its goal.

Every key asks the controller to do one thing; it does it on the engine and answers with an
``Outcome`` (what to show: a refusal, a warning, whether the chart fits itself anew). The log
lines it writes go into its ``RunLog``, which the app takes and shows. The app draws, and
decides nothing about the run.

The engine's torch modules are imported only when a run exists (the app paints its first frame
before torch is imported), so this module imports them in its functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.choices import OPTIMIZER_NAMES, PRESETS
from ..engine.contenders import contender_settings
from ..engine.settings import Settings, SettingsError, field_text, label, model_text
from ..lessons import DEFAULT_LANGUAGE, Lesson, ui_text

if TYPE_CHECKING:
    from ..engine.data import Dataset
    from ..engine.race import Race, Row
    from ..engine.run import Run
    from ..engine.run_log import RunLog

# The undo of a restart goes back this many restarts at most.
MAX_SET_ASIDE = 10
# The first words the log shows, on every screen size (the first frame has painted them).
RUN_KEYS = "space: run, ?: keys."
START_HINT = f"n: step, {RUN_KEYS}"


@dataclass(frozen=True)
class Refusal:
    """A setting that was not changed: the field to mark and why."""

    field: str
    reason: str


@dataclass(frozen=True)
class Outcome:
    """What one action did, for the app to show. The log lines are in the controller's log."""

    rows: tuple[Row, ...] = ()  # the steps taken
    refused: Refusal | None = None  # a setting refused: mark the field, say why
    warning: str | None = None  # why nothing happened
    new_race: bool = False  # a restart, or a race brought back: every view starts afresh
    refit_view: bool = False  # the chart fits the path anew (an undone divergence)
    settings_changed: bool = False  # the panel shows the leader's settings again
    goal_met: bool = False  # the lesson's goal was met just now (say so once)
    read_data: Settings | None = None  # these settings need a data file read first (off the UI thread)
    change: str = ""  # the change in words (with ``read_data``: for the log once it is read)


NOTHING = Outcome()


class RunController:
    """The race the learner drives (a single run is a race of one) and everything kept with it."""

    def __init__(
        self,
        race: Race,
        *,
        language: str = DEFAULT_LANGUAGE,
        session_path: str | None = None,
        log_lines: int | None = None,
    ) -> None:
        """``log_lines``: the most lines the log keeps (the log pane's)."""
        from ..engine.run_log import MAX_LINES, RunLog

        self.race = race
        self.run_log: RunLog = RunLog(MAX_LINES if log_lines is None else log_lines)
        self.language = language
        self.session_path = session_path
        self.lesson: Lesson | None = None
        self.goal_met_at: int | None = None
        # The races a restart set aside (a new problem, a reset, a lesson, a load), newest last,
        # so that undo at the start of the new run can bring the last one back.
        self.set_aside: list[list[Run]] = []

    @property
    def leader(self) -> Run:
        """The run the learner drives (A in a race)."""
        return self.race.leader

    # ----------------------------------------------------------------- words
    def when(self) -> str:
        """Where the leader stands, in the one wording every message uses: after the last
        epoch run, with the next one."""
        last = self.leader.last
        if last is None:
            return "before epoch 0"
        return f"after epoch {last.epoch} (next epoch {self.leader.epoch})"

    def log(self, text: str) -> None:
        """An event line (a setting changed, a reset, ...), after any step lines still to show."""
        self.run_log.event(text, self.leader.position)

    def why_not_step(self) -> str | None:
        """Why the leader cannot take another step, or None if it can."""
        leader = self.leader
        if leader.diverged:
            return f"The run diverged at epoch {leader.diverged_at}: press r to reset."
        if leader.finished:
            return f"All epochs 0..{leader.settings.epochs} are done: raise epochs or press r."
        return None

    # --------------------------------------------------------------- opening
    def open(self, lesson: Lesson | None = None) -> Outcome:
        """The log's first line, then the session, the lesson or the run the app opens on."""
        leader = self.leader
        settings, dataset = leader.settings, leader.dataset
        hint = START_HINT
        if settings.mini_batches:  # f is not in the footer: say it where the run is described
            hint = f"{leader.batches_per_epoch} batches an epoch. n: one batch, f: the rest of the epoch, {RUN_KEYS}"
        self.log(
            f"{dataset.name} ({dataset.size} points), {model_text(settings)}, "
            f"{OPTIMIZER_NAMES[settings.optimizer]} lr {settings.learning_rate:g}. {hint}"
        )
        if self.session_path is not None:
            return self.start_over(leader, loaded_text(self.session_path, leader))
        if lesson is not None:
            return self.start_lesson(lesson)
        self._note_optimum()
        return NOTHING

    # --------------------------------------------------------------- stepping
    def step(self, count: int) -> Outcome:
        """Up to ``count`` steps now (fewer if the run ends or diverges)."""
        why = self.why_not_step()
        if why is not None:
            return Outcome(warning=why)
        return self.took(self.race.step(count))

    def step_epoch(self) -> Outcome:
        """The rest of the epoch in progress, or a whole one between epochs."""
        leader = self.leader
        return self.step(leader.batches_per_epoch - leader.batch)

    def phase_step(self) -> Outcome:
        """The next phase of the step (forward and cost, zero_grad, backward, step)."""
        why = self.why_not_step()
        if why is not None:
            return Outcome(warning=why)
        return self.took(self.race.phase_step())

    def took(self, rows: list[Row]) -> Outcome:
        """Log the steps just run (and the end of the run), and check the lesson's goal."""
        self.run_log.took(self.race, rows)
        return Outcome(rows=tuple(rows), goal_met=self._check_goal())

    def undo(self) -> Outcome:
        """One step back; after a divergence, back to before the cost began to grow; at the
        start of a run that a restart began, the run before it."""
        from ..engine.report import stepped_back_from_divergence

        leader = self.leader
        diverged_at = leader.diverged_at
        refit = False
        if diverged_at is not None and (back := self.race.undo_to_stable()):
            self.run_log.undo_to(leader.position)
            self.log(stepped_back_from_divergence(leader, back, diverged_at))
            refit = True  # the view had widened to follow the path out: fit what is left
        elif self.race.undo():
            self.run_log.undo_to(leader.position)
        else:
            if leader.epoch == leader.first_epoch == 0 and self.set_aside:
                return self.bring_back()
            first = leader.first_epoch
            if first:
                return Outcome(
                    warning=f"This session was loaded before epoch {first}: undo goes back no further."
                )
            return Outcome(warning="Nothing to undo: no epoch has run yet.")
        return Outcome(settings_changed=True, refit_view=refit)

    # --------------------------------------------------------------- settings
    def change_setting(self, field: str, value: Any) -> Outcome:
        """One new setting, with what it drags along (``Settings.changing``): from the next
        step if the run can go on, else a new problem and the run starts again."""
        old = self.leader.settings
        try:
            new = old.changing(**{field: value})
        except SettingsError as error:
            return Outcome(refused=Refusal(field, error.message))
        if new == old:
            return NOTHING
        dragged = [name for name in old.changed_fields(new) if name != field]  # Settings.changing's
        change = ", ".join(_changed(name, old, new) for name in [field, *dragged])
        if old.is_new_problem(new):
            again = f"{change}: a new problem, so the run starts again at epoch 0"
            if new.data != old.data and new.data not in PRESETS:
                return Outcome(read_data=new, change=again)  # the app reads the file, then ``new_data``
            from ..engine.data import DataError
            from ..engine.run import Run

            try:
                run = Run(new, None if new.data != old.data else self.leader.dataset)
            except DataError as error:
                return Outcome(refused=Refusal(field, str(error)))
            return self.start_over(run, again)
        self.race.apply(new)
        leader = self.leader
        where = f"epoch {leader.epoch}" + (f", batch {leader.batch + 1}" if new.mini_batches else "")
        self.log(f"from {where}: {change}")
        if field == "zero_grad" and not value and self.lesson is None:
            self.log(
                ".grad now adds each epoch's fresh gradient to the ones before; lesson 4 (press l) "
                "shows it with a learning rate so small that the fresh gradient barely changes"
            )
        return Outcome(settings_changed=True, goal_met=self._check_goal())

    def new_data(self, path: str, dataset: Dataset, change: str) -> Outcome:
        """The data file at ``path`` has been read: the run starts again on it, with the
        settings in use now."""
        from ..engine.run import Run

        return self.start_over(Run(self.leader.settings.changing(data=path), dataset), change)

    def reset(self) -> Outcome:
        from ..engine.run import Run

        leader = self.leader
        return self.start_over(
            Run(leader.settings, leader.dataset), "reset: back to epoch 0 with the same settings"
        )

    # --------------------------------------------------------------- restarts
    def start_over(self, leader: Run, *events: str) -> Outcome:
        """The one way a run starts again (reset, a new problem, a lesson, a loaded session):
        the race restarts on ``leader`` and the log says why (and replays the steps a loaded
        run brings). The race before is set aside for undo to bring back."""
        if self.leader.last is not None and leader is not self.leader:
            self.set_aside = [*self.set_aside[-(MAX_SET_ASIDE - 1) :], list(self.race.runs)]
            events = (*events, "u brings the run before back")
        self.race.restart(leader)
        return self._new_race(events)

    def bring_back(self) -> Outcome:
        """Undo the last restart: the race set aside comes back as it was."""
        if not self.set_aside:
            return Outcome(warning="Nothing to undo: no epoch has run yet.")
        self.race.resume(self.set_aside.pop())
        return self._new_race((f"undo: back to the run before the restart, {self.when()}",))

    def loaded(self, run: Run, path: str) -> Outcome:
        """A session read from ``path``: the race starts again on it."""
        self.session_path = path
        return self.start_over(run, loaded_text(path, run))

    def _new_race(self, events: tuple[str, ...]) -> Outcome:
        """The log says why, then starts the race's lines afresh with the steps it has run (undo
        takes out its own lines, never the lines that said why)."""
        for text in events:
            self.log(text)
        self._note_optimum()
        self.run_log.new_run()
        self.run_log.replay(self.race)
        return Outcome(new_race=True, refit_view=True, settings_changed=True, goal_met=self._check_goal())

    def _note_optimum(self) -> None:
        optimum = self.leader.surface.optimum
        if not optimum.unique:
            self.log(f"note: {optimum.reason}; gradient descent still runs")

    # ------------------------------------------------------------------ races
    def contender_refusal(self, changes: str) -> str | None:
        """Why a contender typed as ``changes`` cannot race, or None if it can."""
        try:
            contender_settings(self.leader.settings, changes)
        except SettingsError as error:
            return error.message
        return None

    def _race_is_full(self) -> Outcome | None:
        if self.race.full:
            return Outcome(warning="A race has at most 4 contenders: shift+a takes the last one out.")
        return None

    def add_contender(self, changes: str) -> Outcome:
        """A contender with these changes to the leader's settings, caught up with it."""
        from ..engine.report import divergence_of

        full = self._race_is_full()
        if full is not None:
            return full
        try:
            settings = contender_settings(self.leader.settings, changes)
        except SettingsError as error:
            return Outcome(warning=error.message)
        run = self.race.add(settings)
        joined = f"{run.letter} joins the race: {self.race.labels()[-1]}"
        if run.diverged:
            self.log(f"{joined}; catching up, it {divergence_of(run)}")
        elif self.leader.last is not None:
            self.log(f"{joined}, caught up: {self.when()}")
        else:
            self.log(joined)
        return NOTHING

    def add_heavy_ball(self) -> Outcome:
        """A contender with heavy-ball momentum at the best pair the curvature predicts."""
        from ..engine.curvature import heavy_ball_changes, predicted_for, run_start

        changes = heavy_ball_changes(self.leader.surface)
        if changes is None:
            return Outcome(warning="Heavy ball's best β and lr need a squared-error cost with one optimum.")
        full = self._race_is_full()
        if full is not None:
            return full
        run = self.race.add(contender_settings(self.leader.settings, changes))
        predicted = predicted_for(run.surface, run.settings, run_start(run))
        at = (
            f"predicted to reach the minimum at epoch {predicted}"
            if predicted is not None
            else "no prediction"
        )
        self.log(
            f"{run.letter} joins the race: heavy ball at the predicted β and lr ({self.race.labels()[-1]}), {at}"
        )
        return NOTHING

    def remove_contender(self) -> Outcome:
        run = self.race.remove_last()
        if run is None:
            return Outcome(warning="No contender to take out: press a to add one.")
        self.log(f"{run.letter} leaves the race")
        return NOTHING

    # ---------------------------------------------------------------- lessons
    def start_lesson(self, lesson: Lesson) -> Outcome:
        """The lesson's settings, a fresh run, and its explanation in the log."""
        from ..engine.run import Run

        self.lesson, self.goal_met_at = lesson, None
        return self.start_over(
            Run(lesson.settings),
            ui_text(self.language, "started", number=lesson.number, title=lesson.title),
            lesson.text["explanation"],
        )

    def close_lesson(self) -> None:
        self.lesson = None

    def _check_goal(self) -> bool:
        """True (once) the first time the lesson's goal is met, which the log says."""
        lesson, last = self.lesson, self.leader.last
        if lesson is None or last is None or self.goal_met_at is not None:
            return False
        from ..lessons.goals import goal_met

        if not goal_met(lesson.goal, self.leader):
            return False
        self.goal_met_at = last.epoch
        self.log(f"{ui_text(self.language, 'goal')} ✓ {lesson.text['goal_met']}")
        return True


def _changed(field: str, old: Settings, new: Settings) -> str:
    was = field_text(field, getattr(old, field)) or "default"
    now = field_text(field, getattr(new, field)) or "default"
    return f"{label(field)} {was} → {now}"


def loaded_text(path: str, run: Run) -> str:
    return f"loaded {path}: {len(run.history)} epochs of history, next epoch {run.epoch}"
