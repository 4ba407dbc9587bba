"""The app's actions that build on a run without stepping it: racing contenders and guided
lessons (files are in ``app_files``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine.contenders import contender_settings
from ..engine.settings import SettingsError
from ..lazy import lazy_callable
from ..lessons import Lesson, lessons, ui_text
from .base import RunApp
from .widgets.lessons import LessonPicker
from .widgets.prompt import PathPrompt

# The app paints its first frame before torch is imported: these are imported when first called.
if TYPE_CHECKING:
    from ..engine.report import divergence_of
    from ..engine.run import Run
else:
    divergence_of = lazy_callable("lrtui.engine.report", "divergence_of")
    Run = lazy_callable("lrtui.engine.run", "Run")

RACE_SUGGESTIONS = ("optimizer=adam lr=0.1", "momentum=0.9", "zero-grad=off")


class RaceActions(RunApp):
    def action_add_contender(self) -> None:
        if self.race.full:
            self.notify(
                "A race has at most 4 contenders: shift+a takes the last one out.", severity="warning"
            )
            return

        def refused(changes: str) -> str | None:
            try:
                contender_settings(self.leader.settings, changes)
            except SettingsError as error:
                return error.message
            return None

        def add(changes: str | None) -> None:
            if changes is None:
                return
            leader = self.leader
            self.stop_running()
            run = self.race.add(contender_settings(leader.settings, changes))
            joined = f"{run.letter} joins the race: {self.race.labels()[-1]}"
            if run.diverged:
                self.log_event(f"{joined}; catching up, it {divergence_of(run)}")
            elif leader.last is not None:
                self.log_event(f"{joined}, caught up: {self.when()}")
            else:
                self.log_event(joined)

        suggestion = RACE_SUGGESTIONS[(len(self.race) - 1) % len(RACE_SUGGESTIONS)]
        question = "A new contender: what does it change? (type key=value, e.g. optimizer=adam lr=0.1)"
        self.push_screen(PathPrompt(question, suggestion, is_path=False, check=refused), add)

    def action_race_heavy_ball(self) -> None:
        """A contender with heavy-ball momentum at the best pair the curvature predicts."""
        from ..engine.curvature import heavy_ball_changes, predicted_for, run_start

        changes = heavy_ball_changes(self.leader.surface)
        if changes is None:
            self.notify(
                "Heavy ball's best β and lr need a squared-error cost with one optimum.", severity="warning"
            )
            return
        if self.race.full:
            self.notify(
                "A race has at most 4 contenders: shift+a takes the last one out.", severity="warning"
            )
            return
        self.stop_running()
        run = self.race.add(contender_settings(self.leader.settings, changes))
        predicted = predicted_for(run.surface, run.settings, run_start(run))
        at = (
            f"predicted to reach the minimum at epoch {predicted}"
            if predicted is not None
            else "no prediction"
        )
        self.log_event(
            f"{run.letter} joins the race: heavy ball at the predicted β and lr ({self.race.labels()[-1]}), {at}"
        )

    def action_remove_contender(self) -> None:
        run = self.race.remove_last()
        if run is None:
            self.notify("No contender to take out: press a to add one.", severity="warning")
            return
        self.log_event(f"{run.letter} leaves the race")


class LessonActions(RunApp):
    def action_pick_lesson(self) -> None:
        every = lessons(self.language)

        def start(index: int | None) -> None:
            if index is not None:
                self.start_lesson(every[index])

        current = None if self.lesson is None else self.lesson.number - 1
        self.push_screen(LessonPicker(every, self.language, current), start)

    def start_lesson(self, lesson: Lesson) -> None:
        """The lesson's settings, a fresh run, its explanation in the log and its box on screen."""
        self.lesson, self._goal_met_at = lesson, None
        box = self.run_screen.lesson_box
        box.add_class("-shown")
        box.show(lesson, self.language, None)
        self.start_over(
            Run(lesson.settings),
            ui_text(self.language, "started", number=lesson.number, title=lesson.title),
            lesson.text["explanation"],
        )

    def action_close_lesson(self) -> None:
        self.lesson = None
        self.run_screen.lesson_box.remove_class("-shown")
