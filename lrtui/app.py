"""The lrtui app: step a real torch optimizer through linear regression from the keyboard.

The app owns the one Simulation and the frame timer. Widgets render what they are
given and post messages up; every epoch is run by the engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, Protocol

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Footer, Header, RichLog, Static

from .engine import DataError, EpochRecord, Settings, SettingsError, Simulation
from .engine.history import History
from .engine.race import Race, contender_settings
from .engine.report import divergence_of, export_history_csv, log_line
from .engine.script import write_script
from .engine.session import SessionError, load_session, save_session
from .engine.settings import OPTIMIZER_NAMES, OPTIMIZERS, PRESETS, PROBLEM_FIELDS, label
from .lessons import DEFAULT_LANGUAGE, Lesson, goal_met, lessons, ui_text
from .pacing import Pacer, speed_label
from .widgets.chart import CostChart
from .widgets.code import CodeView
from .widgets.help import HelpScreen
from .widgets.lessons import LessonBox, LessonPicker
from .widgets.parameters import ParameterPanel, field_text
from .widgets.prompt import PathPrompt
from .widgets.state import LiveState

# Frames are paced by the work done in them; the timer only has to wake up promptly.
FRAME_INTERVAL = 1 / 500
REDRAW_RATE = 20
LOG_FLUSH_RATE = 2
CHART_RATE = 8
CHART_SHARE = 0.25
DEFAULT_SESSION = "lrtui-session.json"
RACE_SUGGESTIONS = ("optimizer=adam lr=0.1", "momentum=0.9", "zero-grad=off")
DEFAULT_EXPORT = "lrtui-history.csv"
DEFAULT_SCRIPT = "lrtui_train.py"
LOG_LINES = 5000
COMPACT_WIDTH = 100
COMPACT_HEIGHT = 30
TINY_WIDTH = 70
TINY_HEIGHT = 20
SMALLEST_FULL = (80, 24)  # the smallest size with the whole layout, compact


class FrameTimer(Protocol):
    def pause(self) -> None: ...
    def resume(self) -> None: ...


TimerFactory = Callable[[float, Callable[[], None]], FrameTimer]

# One line per key for the help screen and the command palette, by binding id.
EXPLANATIONS: dict[str, str] = {
    "run": "run or pause: epochs keep coming at the chosen speed",
    "step-1": "run one epoch: forward, cost, zero_grad, backward, step",
    "step-back": "undo one epoch: W, b, .grad and the optimizer's state as they were (bit for bit)",
    "step-10": "run 10 epochs",
    "step-100": "run 100 epochs",
    "reset": "start again from epoch 0 with the same settings",
    "zero-grad": "turn optimizer.zero_grad() on or off (off: .grad accumulates)",
    "lr-double": "double the learning rate (from the next epoch)",
    "lr-halve": "halve the learning rate (from the next epoch)",
    "optimizer": "next optimizer: SGD, Adagrad, RMSprop, Adam (a fresh one, empty state)",
    "bias": "fit with or without b (a new problem: the run resets)",
    "dataset": "next dataset: line, double, noisy (a new problem: the run resets)",
    "view": "switch the chart: cost surface, cost per epoch, data and fitted line",
    "save": "save the session (settings, history, exact torch state) as JSON",
    "load": "load a saved session and go on from where it stopped",
    "export": "export every epoch of the history as CSV",
    "script": "write the plain PyTorch script for these settings (python prints what lrtui shows)",
    "code": "show the plain PyTorch code being run, and optimizer.state (c again: the chart)",
    "phase": "run the next phase of the epoch: forward and cost, zero_grad, backward, step",
    "race-add": "race another configuration in lockstep on the same data (up to 4 in all)",
    "race-remove": "take the last contender out of the race",
    "lessons": "guided lessons: the classic PyTorch lessons, each with a goal the app checks",
    "lesson-close": "close the lesson box (the run goes on)",
    "help": "show this help",
    "focus-app": "leave a field and hand the keys back to the app",
    "quit": "quit lrtui",
}


class LrtuiApp(App[None]):
    CSS_PATH = "lrtui.tcss"
    TITLE = "lrtui"
    SUB_TITLE = "linear regression, one epoch at a time"
    AUTO_FOCUS = None

    BINDINGS = [
        Binding("space", "toggle_run", "Run/Pause", id="run"),
        Binding("n,right", "step(1)", "Step", id="step-1"),
        Binding("u,left", "step_back", "Undo", id="step-back"),
        Binding("N", "step(10)", "×10", show=False, id="step-10"),
        Binding("ctrl+n", "step(100)", "×100", show=False, id="step-100"),
        Binding("r", "reset", "Reset", id="reset"),
        Binding("z", "toggle_zero_grad", "zero_grad", id="zero-grad"),
        Binding("plus", "scale_learning_rate(2)", "lr×2", id="lr-double"),
        Binding("minus", "scale_learning_rate(0.5)", "lr÷2", show=False, id="lr-halve"),
        Binding("o", "next_optimizer", "Optim", id="optimizer"),
        Binding("b", "toggle_bias", "Bias", show=False, id="bias"),
        Binding("d", "next_dataset", "Data", show=False, id="dataset"),
        Binding("v", "next_view", "View", id="view"),
        Binding("c", "toggle_code", "Code", id="code"),
        Binding("p", "phase_step", "Phase", show=False, id="phase"),
        Binding("ctrl+s", "save_session", "Save", show=False, id="save"),
        Binding("ctrl+o", "load_session", "Load", show=False, id="load"),
        Binding("e", "export_history", "Export", show=False, id="export"),
        Binding("x", "export_script", "Script", show=False, id="script"),
        Binding("a", "add_contender", "Race", show=False, id="race-add"),
        Binding("A", "remove_contender", "Unrace", show=False, id="race-remove"),
        Binding("l", "pick_lesson", "Lessons", show=False, id="lessons"),
        Binding("L", "close_lesson", "Close lesson", show=False, id="lesson-close"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("escape", "focus_app", "Leave field", show=False, id="focus-app"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        simulation: Simulation,
        *,
        history: History | None = None,
        speed: int = 10,
        session_path: str | None = None,
        lesson: Lesson | None = None,
        language: str = DEFAULT_LANGUAGE,
        contenders: Iterable[Settings] = (),
        clock: Callable[[], float] = time.perf_counter,
        timer_factory: TimerFactory | None = None,
    ) -> None:
        super().__init__()
        self.language = language
        self.lesson: Lesson | None = None  # the lesson being followed
        self._lesson_to_start = lesson
        self._goal_met_at: int | None = None
        self.simulation = simulation
        self.history = history if history is not None else History()
        self.race = Race()  # the contenders racing this run, if any
        for settings in contenders:
            self.race.add(settings, simulation)
        self.session_path = session_path
        self.pacer = Pacer(speed, clock)
        self.running = False
        self._timer_factory = timer_factory
        self._next_redraw = 0.0
        self._next_log_flush = 0.0
        self._next_chart = 0.0
        # Lines waiting for the next redraw, and every line with its place in the run, so
        # stepping back can take out the lines of the epochs it undoes.
        self._pending_lines: list[str | Text] = []
        self._log_entries: list[tuple[tuple[int, int], str | Text]] = []
        self._log_base = 0  # entries before this belong to earlier runs and stay

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="∇")
        with Horizontal(id="body"):
            with Vertical(id="side"):
                yield ParameterPanel(self.simulation.settings, self.pacer.speed, id="parameters")
                yield LessonBox(id="lesson")
            with Vertical(id="main"):
                yield Static(id="too-small")
                yield LiveState(id="state")
                yield CostChart(id="chart")
                yield CodeView(id="code")
                yield RichLog(
                    id="log", max_lines=LOG_LINES, wrap=True, min_width=20, markup=False, highlight=False
                )
        yield Footer()

    def on_mount(self) -> None:
        self.panel = self.query_one(ParameterPanel)
        self.log_pane = self.query_one("#log", RichLog)
        self.state_view = self.query_one(LiveState)
        self.chart = self.query_one(CostChart)
        self.code_view = self.query_one(CodeView)
        self.lesson_box = self.query_one(LessonBox)
        self.code_view.border_title = "PyTorch code"
        factory = self._timer_factory or self._paused_interval
        self.frame_timer = factory(FRAME_INTERVAL, self.run_frame)
        self.log_pane.border_title = "Log"
        self.chart.border_title = "Chart"
        settings = self.simulation.settings
        dataset = self.simulation.dataset
        model = "nn.Linear" if settings.model == "linear" else "raw W, b" if settings.bias else "raw W"
        self.log_event(
            f"{dataset.name} ({dataset.size} points), {model}, "
            f"{OPTIMIZER_NAMES[settings.optimizer]} lr {settings.learning_rate:g}. "
            "n: step, space: run, ?: keys."
        )
        if self.session_path is not None:
            self._log_loaded(self.session_path)
        else:
            self._note_optimum()
        if self._lesson_to_start is not None:
            self.start_lesson(self._lesson_to_start)
        self._fit_layout()
        self.refresh_views()

    def _paused_interval(self, interval: float, callback: Callable[[], None]) -> FrameTimer:
        return self.set_interval(interval, callback, pause=True)

    def on_resize(self, event: events.Resize) -> None:
        # This handler runs before App._on_resize stores the new size, so self.size is still the old one.
        self._fit_layout(event.size)

    def _fit_layout(self, size: Size | None = None) -> None:
        width, height = size or self.size
        tiny = width < TINY_WIDTH or height < TINY_HEIGHT
        self.screen.set_class(width < COMPACT_WIDTH or height < COMPACT_HEIGHT, "-compact")
        self.screen.set_class(tiny, "-tiny")
        if tiny:
            self.query_one("#too-small", Static).update(
                f"{width}x{height} is too small for the panel and the chart: enlarge the terminal to "
                f"at least {SMALLEST_FULL[0]}x{SMALLEST_FULL[1]}. The keys still work (? lists them)."
            )

    # ------------------------------------------------------------------ views
    def status(self) -> str:
        simulation = self.simulation
        if simulation.diverged:
            return f"DIVERGED at epoch {simulation.diverged_at}"
        if simulation.finished:
            return "finished"
        speed = speed_label(self.pacer.speed)
        return f"running · {speed}" if self.running else f"paused · {speed}"

    def refresh_views(self) -> None:
        simulation = self.simulation
        # Each write to the log pane costs a layout pass of the whole screen, so while
        # running its lines are written a few times a second rather than every frame.
        now = self.pacer.clock()
        if self._pending_lines and (not self.running or now >= self._next_log_flush):
            self._next_log_flush = now + 1 / LOG_FLUSH_RATE
            for line in self._pending_lines:
                self.log_pane.write(line)
            self._pending_lines.clear()
        self.state_view.show(simulation, self.status(), self.race)
        if self.code_view.display:
            self.code_view.show(simulation)
        elif not self.running or now >= self._next_chart:
            # The chart is the costliest thing on screen; while running it is redrawn at
            # CHART_RATE, the numbers at REDRAW_RATE, and a chart slow to build (a race of
            # four, a huge terminal) is given at most a CHART_SHARE of the time.
            self._next_chart = now + max(1 / CHART_RATE, self.chart.build_seconds / CHART_SHARE)
            self.chart.show(simulation, self.history, self.race)
        limit = simulation.surface.stability_limit
        self.panel.show_hint("learning_rate", f"stable below {limit:.4g}")

    @staticmethod
    def _event(text: str) -> Text:
        return Text(f"» {text}", style="cyan")

    def log_event(self, text: str) -> None:
        """An event line (setting changed, reset, ...), written after any epoch lines still pending."""
        self._log(self._event(text), (self.simulation.epoch, 0))
        if not self.running:
            self.refresh_views()

    def _log(self, line: str | Text, position: tuple[int, int]) -> None:
        """Queue a log line; ``position`` is (epoch, 1) for an epoch's line, (next epoch, 0) for an event."""
        self._log_entries.append((position, line))
        self._pending_lines.append(line)
        if len(self._log_entries) > 2 * LOG_LINES:
            del self._log_entries[:LOG_LINES]
            self._log_base = max(0, self._log_base - LOG_LINES)

    def _new_run_in_log(self) -> None:
        """Lines logged so far belong to a run that has ended (reset, new problem, load)."""
        self._log_base = len(self._log_entries)

    # ---------------------------------------------------------------- running
    def _took(
        self,
        records: list[EpochRecord],
        redraw: bool = True,
        rival_rows: list[tuple[int, str, EpochRecord]] | None = None,
    ) -> None:
        """Record a batch of epochs (history, log lines, end of run); redraw if asked or the run ended.
        ``rival_rows`` are the epochs the race's contenders ran alongside, if already run."""
        simulation = self.simulation
        settings = simulation.settings
        rivals = (rival_rows or []) + self._follow_race()
        if records:
            self.history.extend(records)
            every = settings.log_every
            leader = "A" if self.race.rivals else ""
            rows = [(record.epoch, leader, record) for record in records] + rivals
            for epoch, letter, record in sorted(rows, key=lambda row: row[:2]):
                if epoch % every == 0 or not record.finite:
                    self._log(log_line(record, settings.epochs, letter), (epoch, 1))
            diverged = {letter for _, letter, record in rivals if not record.finite}
            for rival in self.race:
                if rival.letter in diverged:
                    message = f"{rival.letter} {divergence_of(rival.simulation)}"
                    self._log(self._event(message), (rival.simulation.epoch, 0))
            if simulation.diverged:
                self._stop_running()
                self._log(
                    self._event(divergence_of(simulation)),
                    (simulation.epoch, 0),
                )
            elif simulation.finished:
                self._stop_running()
                self._log(
                    self._event(
                        f"run finished: epochs 0..{settings.epochs} done, cost {records[-1].cost:.6f}. "
                        "r resets; raise epochs to go on."
                    ),
                    (simulation.epoch, 0),
                )
        self._check_goal()
        if redraw or not self.running:
            self.refresh_views()

    def _follow_race(self) -> list[tuple[int, str, EpochRecord]]:
        """Bring the contenders to the leader's epoch; the epochs they ran."""
        return [
            (record.epoch, rival.letter, record)
            for rival, records in self.race.follow(self.simulation)
            for record in records
        ]

    def _can_step(self) -> bool:
        simulation = self.simulation
        if simulation.diverged:
            self.notify(
                f"The run diverged at epoch {simulation.diverged_at}: press r to reset.", severity="warning"
            )
            return False
        if simulation.finished:
            self.notify(
                f"All epochs 0..{simulation.settings.epochs} are done: raise epochs or press r.",
                severity="warning",
            )
            return False
        return True

    def advance(self, count: int) -> list[EpochRecord]:
        """Run up to ``count`` epochs now (fewer if the run ends or diverges)."""
        if not self._can_step():
            return []
        simulation = self.simulation
        remaining = simulation.settings.epochs + 1 - simulation.epoch
        records = simulation.run(min(count, remaining))
        self._took(records)
        return records

    def run_frame(self) -> None:
        """One slice of run mode: the epochs the pacer allows, then a redraw when one is due."""
        if not self.running:
            return
        simulation = self.simulation
        records: list[EpochRecord] = []

        rival_rows: list[tuple[int, str, EpochRecord]] = []

        def step() -> bool:
            if simulation.finished or simulation.diverged:
                return False
            records.append(simulation.step())
            if self.race.rivals:
                rival_rows.extend(self._follow_race())
            return True

        if self.pacer.run_frame(step):
            # Epochs run in short slices so keys are never kept waiting; the screen is
            # redrawn at REDRAW_RATE whatever the number of slices in between.
            now = self.pacer.clock()
            redraw = now >= self._next_redraw
            if redraw:
                self._next_redraw = now + 1 / REDRAW_RATE
            self._took(records, redraw, rival_rows)

    def _stop_running(self) -> None:
        self.running = False
        self.frame_timer.pause()

    # ---------------------------------------------------------------- settings
    def change_setting(self, field: str, value: Any) -> bool:
        """Apply one new setting; refused values are marked in the panel. Returns True if applied."""
        simulation = self.simulation
        if field == "speed":
            self.pacer.set_speed(value)
            self.panel.show(simulation.settings, value)
            self.refresh_views()
            return True
        old = simulation.settings
        try:
            new = old.with_changes(**{field: value})
        except SettingsError as error:
            self._refuse(field, error.message)
            return False
        if new == old:
            return True
        change = f"{label(field)} {field_text(field, getattr(old, field)) or 'default'} → {field_text(field, value) or 'default'}"
        if field in PROBLEM_FIELDS:
            try:
                simulation.apply(new)
            except DataError as error:
                self._refuse(field, str(error))
                return False
            self._stop_running()
            self.history.clear()
            self.race.restart(simulation)
            self.chart.reset_view()
            self._new_run_in_log()
            self.log_event(f"{change}: a new problem, so the run starts again at epoch 0")
            self._note_optimum()
        else:
            simulation.apply(new)
            self.race.share(simulation)
            self.log_event(f"from epoch {simulation.epoch}: {change}")
        self.panel.show(new, self.pacer.speed)
        self._check_goal()
        self.refresh_views()
        return True

    def _note_optimum(self) -> None:
        optimum = self.simulation.surface.optimum
        if not optimum.unique:
            self.log_event(f"note: {optimum.reason}; gradient descent still runs")

    def _refuse(self, field: str, reason: str) -> None:
        self.panel.refuse(field, reason)
        self.notify(reason, title=f"{label(field)} not changed", severity="error")

    def on_parameter_panel_changed(self, event: ParameterPanel.Changed) -> None:
        self.change_setting(event.field, event.value)

    # ---------------------------------------------------------------- actions
    def action_toggle_run(self) -> None:
        if self.running:
            self._stop_running()
        elif self._can_step():
            self.running = True
            self.pacer.restart()
            self.frame_timer.resume()
        self.refresh_views()

    def action_step(self, count: int) -> None:
        self.advance(count)

    def action_step_back(self) -> None:
        simulation = self.simulation
        self._stop_running()
        if not simulation.step_back():
            self.notify("Already at epoch 0: nothing to undo.", severity="warning")
            return
        self.history.truncate(simulation.epoch)
        self._follow_race()
        undone = (simulation.epoch, 1)
        kept = [
            entry
            for index, entry in enumerate(self._log_entries)
            if index < self._log_base or entry[0] < undone
        ]
        if len(kept) != len(self._log_entries):
            self._log_entries = kept
            self.log_pane.clear()
            self._pending_lines = [line for _, line in kept[-LOG_LINES:]]
        self.panel.show(simulation.settings, self.pacer.speed)
        self.refresh_views()

    def action_reset(self) -> None:
        self._stop_running()
        self.simulation.reset()
        self.history.clear()
        self.race.reset()
        self.chart.reset_view()
        self._new_run_in_log()
        self.log_event("reset: back to epoch 0 with the same settings")
        self.refresh_views()

    def action_toggle_zero_grad(self) -> None:
        self.change_setting("zero_grad", not self.simulation.settings.zero_grad)

    def action_scale_learning_rate(self, factor: float) -> None:
        self.change_setting("learning_rate", self.simulation.settings.learning_rate * factor)

    def action_next_optimizer(self) -> None:
        current = OPTIMIZERS.index(self.simulation.settings.optimizer)
        self.change_setting("optimizer", OPTIMIZERS[(current + 1) % len(OPTIMIZERS)])

    def action_toggle_bias(self) -> None:
        self.change_setting("bias", not self.simulation.settings.bias)

    def action_next_dataset(self) -> None:
        data = self.simulation.settings.data
        choices = PRESETS if data in PRESETS else (*PRESETS, data)
        self.change_setting("data", choices[(choices.index(data) + 1) % len(choices)])

    def action_next_view(self) -> None:
        if self.code_view.display:
            self.action_toggle_code()
        self.chart.next_view()

    def action_toggle_code(self) -> None:
        showing_code = not self.code_view.display
        self.code_view.display = showing_code
        self.chart.display = not showing_code
        self.refresh_views()

    def action_phase_step(self) -> None:
        if not self.code_view.display:
            self.action_toggle_code()
        if not self._can_step():
            return
        record = self.simulation.phase_step()
        self._took([record] if record is not None else [])

    def action_add_contender(self) -> None:
        if self.race.full:
            self.notify(
                "A race has at most 4 contenders: shift+a takes the last one out.", severity="warning"
            )
            return

        def add(changes: str | None) -> None:
            if changes is None:
                return
            simulation = self.simulation
            try:
                settings = contender_settings(simulation.settings, changes)
            except SettingsError as error:
                self.notify(error.message, title="Contender not added", severity="error")
                return
            self._stop_running()
            rival = self.race.add(settings, simulation)
            label = self.race.labels(simulation.settings)[len(self.race)]
            joined = f"{rival.letter} joins the race: {label}"
            if rival.simulation.diverged:
                self.log_event(f"{joined}; catching up, it {divergence_of(rival.simulation)}")
            elif simulation.epoch:
                self.log_event(f"{joined}, caught up to epoch {simulation.epoch}")
            else:
                self.log_event(joined)
            self.refresh_views()

        suggestion = RACE_SUGGESTIONS[len(self.race) % len(RACE_SUGGESTIONS)]
        question = "A new contender: what does it change? (e.g. optimizer=adam lr=0.1)"
        self.push_screen(PathPrompt(question, suggestion), add)

    def action_remove_contender(self) -> None:
        rival = self.race.remove_last()
        if rival is None:
            self.notify("No contender to take out: press a to add one.", severity="warning")
            return
        self.log_event(f"{rival.letter} leaves the race")
        self.refresh_views()

    # ---------------------------------------------------------------- lessons
    def action_pick_lesson(self) -> None:
        every = lessons(self.language)

        def start(index: int | None) -> None:
            if index is not None:
                self.start_lesson(every[index])

        current = None if self.lesson is None else self.lesson.number - 1
        self.push_screen(LessonPicker(every, self.language, current), start)

    def start_lesson(self, lesson: Lesson) -> None:
        """The lesson's settings, a fresh run, its explanation in the log and its box on screen."""
        simulation = self.simulation
        self._stop_running()
        simulation.apply(lesson.settings)
        simulation.reset()
        self.history.clear()
        self.race.restart(simulation)
        self.chart.reset_view()
        self.lesson, self._goal_met_at = lesson, None
        self._new_run_in_log()
        self.log_event(ui_text(self.language, "started", number=lesson.number, title=lesson.title))
        self.log_event(lesson.text["explanation"])
        self.panel.show(simulation.settings, self.pacer.speed)
        self.lesson_box.add_class("-shown")
        self.lesson_box.show(lesson, self.language, None)
        self.refresh_views()

    def action_close_lesson(self) -> None:
        self.lesson = None
        self.lesson_box.remove_class("-shown")

    def _check_goal(self) -> None:
        lesson = self.lesson
        if lesson is None or self._goal_met_at is not None:
            return
        if goal_met(lesson.goal, self.simulation, self.history):
            self._goal_met_at = self.simulation.last.epoch  # type: ignore[union-attr]
            self.lesson_box.show(lesson, self.language, self._goal_met_at)
            self.log_event(f"{ui_text(self.language, 'goal')} ✓ {lesson.text['goal_met']}")
            self.notify(lesson.text["goal_met"], title=f"{lesson.number}. {lesson.title}")

    def action_save_session(self) -> None:
        def save(path: str | None) -> None:
            if path is None:
                return
            try:
                save_session(path, self.simulation, self.history)
            except OSError as error:
                self.notify(f"{path}: {error.strerror or error}", title="Session not saved", severity="error")
                return
            self.session_path = path
            saved = f"saved the session at epoch {self.simulation.epoch} to {path}"
            if self.race.rivals:
                saved += " (run A only: a session does not keep the race's other contenders)"
            self.log_event(saved)

        self.push_screen(PathPrompt("Save the session to", self.session_path or DEFAULT_SESSION), save)

    def action_load_session(self) -> None:
        def load(path: str | None) -> None:
            if path is None:
                return
            try:
                simulation, history = load_session(path)
            except SessionError as error:
                self.notify(str(error), title="Session not loaded", severity="error")
                return
            self._stop_running()
            self.simulation = simulation
            self.history = history
            self.race.restart(simulation)
            self._follow_race()
            self.session_path = path
            self.chart.reset_view()
            self.panel.show(simulation.settings, self.pacer.speed)
            self._log_loaded(path)
            self.refresh_views()

        self.push_screen(PathPrompt("Load the session from", self.session_path or DEFAULT_SESSION), load)

    def action_export_script(self) -> None:
        def export(path: str | None) -> None:
            if path is None:
                return
            try:
                write_script(path, self.simulation.settings, self.simulation.dataset)
            except OSError as error:
                self.notify(
                    f"{path}: {error.strerror or error}", title="Script not written", severity="error"
                )
                return
            self.log_event(f"wrote the PyTorch script for these settings to {path}")

        self.push_screen(PathPrompt("Write the PyTorch script to", DEFAULT_SCRIPT), export)

    def _log_loaded(self, path: str) -> None:
        """Say what was loaded, then replay the log lines of its history."""
        settings = self.simulation.settings
        history = self.history
        self._new_run_in_log()
        self.log_event(f"loaded {path}: {len(history)} epochs of history, next epoch {self.simulation.epoch}")
        self._note_optimum()
        logged = [i for i, epoch in enumerate(history.epochs) if epoch % settings.log_every == 0][-LOG_LINES:]
        for i in logged:
            self._log(log_line(history.record(i), settings.epochs), (history.epochs[i], 1))

    def action_export_history(self) -> None:
        def export(path: str | None) -> None:
            if path is None:
                return
            try:
                export_history_csv(path, self.history)
            except OSError as error:
                self.notify(
                    f"{path}: {error.strerror or error}", title="History not exported", severity="error"
                )
                return
            self.log_event(f"exported {len(self.history)} epochs to {path}")

        self.push_screen(PathPrompt("Export the history as CSV to", DEFAULT_EXPORT), export)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))

    def action_focus_app(self) -> None:
        self.screen.set_focus(None)

    # ------------------------------------------------------------ discovery
    def key_help(self) -> list[tuple[Binding, str]]:
        return [(binding, EXPLANATIONS[binding.id]) for binding in self._app_bindings()]

    def _app_bindings(self) -> Iterable[Binding]:
        return (b for b in self.BINDINGS if isinstance(b, Binding) and b.id in EXPLANATIONS)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self._app_bindings():
            if binding.id in ("help", "focus-app", "quit"):
                continue
            yield SystemCommand(
                f"{binding.description} ({binding.key.split(',')[0]})",
                EXPLANATIONS[binding.id],
                partial(self.run_action, binding.action),
            )
        yield SystemCommand("Keys (?)", EXPLANATIONS["help"], self.action_help)
