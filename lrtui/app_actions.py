"""The app's actions that build on a run without stepping it: racing contenders, guided
lessons, and files (sessions, the history as CSV, the plain PyTorch script)."""

from __future__ import annotations

import os
from collections.abc import Callable

from .app_base import RunApp
from .engine import SettingsError
from .engine.race import contender_settings
from .engine.report import divergence_of, export_history_csv
from .engine.run import Run
from .engine.script import write_script
from .engine.session import load_session, save_session
from .lessons import Lesson, lessons, ui_text
from .widgets.lessons import LessonPicker
from .widgets.prompt import PathPrompt

DEFAULT_SESSION = "lrtui-session.json"
DEFAULT_EXPORT = "lrtui-history.csv"
DEFAULT_SCRIPT = "lrtui_train.py"
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
        from .engine.curvature import heavy_ball_changes, predicted_for

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
        first = run.history.record(0) if len(run.history) else None
        start = (first.w, first.b) if first is not None else (run.w, run.b)
        predicted = predicted_for(run.surface, run.settings, start)
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


class FileActions(RunApp):
    def ask_path(self, question: str, default: str, failure: str, act: Callable[[str], str | None]) -> None:
        """Ask for a path, then ``act(path)``, which returns what to log; a failure is a message."""

        def done(path: str | None) -> None:
            if path is None:
                return
            try:
                done_text = act(path)
            except OSError as error:
                self.notify(f"{path}: {error.strerror or error}", title=failure, severity="error")
            except ValueError as error:  # SessionError and other refusals say what is wrong
                self.notify(str(error), title=failure, severity="error")
            else:
                if done_text:
                    self.log_event(done_text)

        self.push_screen(PathPrompt(question, default), done)

    def action_save_session(self) -> None:
        def save(path: str) -> str:
            save_session(path, self.leader)
            self.session_path = path
            saved = f"saved the session {self.when()} to {os.path.abspath(path)}"
            if len(self.race) > 1:
                saved += " (run A only: a session does not keep the race's other contenders)"
            return saved

        self.ask_path("Save the session to", self.session_path or DEFAULT_SESSION, "Session not saved", save)

    def action_load_session(self) -> None:
        def load(path: str) -> None:
            run = load_session(path)
            self.session_path = path
            self.start_over(run, loaded_text(path, run))

        default = self.session_path or DEFAULT_SESSION
        self.ask_path("Load the session from", default, "Session not loaded", load)

    def action_export_script(self) -> None:
        def export(path: str) -> str:
            write_script(path, self.leader.settings, self.leader.dataset)
            return f"wrote the PyTorch script for these settings to {os.path.abspath(path)}"

        self.ask_path("Write the PyTorch script to", DEFAULT_SCRIPT, "Script not written", export)

    def action_export_history(self) -> None:
        def export(path: str) -> str:
            export_history_csv(path, self.leader.history)
            return f"exported {len(self.leader.history)} epochs to {os.path.abspath(path)}"

        self.ask_path("Export the history as CSV to", DEFAULT_EXPORT, "History not exported", export)


def loaded_text(path: str, run: Run) -> str:
    return f"loaded {path}: {len(run.history)} epochs of history, next epoch {run.epoch}"
