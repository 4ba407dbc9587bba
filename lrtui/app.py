"""The lrtui app: step a real torch optimizer through linear regression from the keyboard.

The app holds one ``Race`` (a single run is a race of one) and its ``RunLog``, and the frame
timer. Every epoch is run by the engine; widgets render what the race exposes and post
messages up.
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

from .engine import DataError, SettingsError
from .engine.race import Race, Row, contender_settings
from .engine.report import divergence_of, export_history_csv
from .engine.run import Run
from .engine.run_log import RunLog
from .engine.script import write_script
from .engine.session import load_session, save_session
from .engine.settings import OPTIMIZER_NAMES, OPTIMIZERS, PRESETS, PROBLEM_FIELDS, field_text, label
from .lessons import DEFAULT_LANGUAGE, Lesson, goal_met, lessons, ui_text
from .pacing import Pacer, speed_label
from .widgets.chart import CostChart
from .widgets.code import CodeView
from .widgets.help import HelpScreen
from .widgets.lessons import LessonBox, LessonPicker
from .widgets.parameters import ParameterPanel
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


def key(keys: str, action: str, description: str, id: str, tooltip: str, show: bool = True) -> Binding:
    """A binding with its one-line explanation (the help screen and the command palette show it)."""
    return Binding(keys, action, description, show=show, id=id, tooltip=tooltip)


class LrtuiApp(App[None]):
    CSS_PATH = "lrtui.tcss"
    TITLE = "lrtui"
    SUB_TITLE = "linear regression, one epoch at a time"
    AUTO_FOCUS = None

    BINDINGS = [
        key("space", "toggle_run", "Run/Pause", "run", "run or pause: epochs keep coming at the chosen speed"),
        key("n,right", "step(1)", "Step", "step-1", "run one epoch: forward, cost, zero_grad, backward, step"),
        key("u,left", "step_back", "Undo", "step-back",
            "undo one epoch: W, b, .grad and the optimizer's state as they were (bit for bit)"),
        key("N", "step(10)", "×10", "step-10", "run 10 epochs", show=False),
        key("ctrl+n", "step(100)", "×100", "step-100", "run 100 epochs", show=False),
        key("r", "reset", "Reset", "reset", "start again from epoch 0 with the same settings"),
        key("z", "toggle_zero_grad", "zero_grad", "zero-grad",
            "turn optimizer.zero_grad() on or off (off: .grad accumulates)"),
        key("plus", "scale_learning_rate(2)", "lr×2", "lr-double", "double the learning rate (from the next epoch)"),
        key("minus", "scale_learning_rate(0.5)", "lr÷2", "lr-halve", "halve the learning rate (from the next epoch)",
            show=False),
        key("o", "next_optimizer", "Optim", "optimizer",
            "next optimizer: SGD, Adagrad, RMSprop, Adam (a fresh one, empty state)"),
        key("b", "toggle_bias", "Bias", "bias", "fit with or without b (a new problem: the run resets)", show=False),
        key("d", "next_dataset", "Data", "dataset",
            "next dataset: line, double, noisy (a new problem: the run resets)", show=False),
        key("v", "next_view", "View", "view", "switch the chart: cost surface, cost per epoch, data and fitted line"),
        key("c", "toggle_code", "Code", "code",
            "show the plain PyTorch code being run, and optimizer.state (c again: the chart)"),
        key("p", "phase_step", "Phase", "phase",
            "run the next phase of the epoch: forward and cost, zero_grad, backward, step", show=False),
        key("ctrl+s", "save_session", "Save", "save",
            "save the session (settings, history, exact torch state) as JSON", show=False),
        key("ctrl+o", "load_session", "Load", "load", "load a saved session and go on from where it stopped",
            show=False),
        key("e", "export_history", "Export", "export", "export every epoch of the history as CSV", show=False),
        key("x", "export_script", "Script", "script",
            "write the plain PyTorch script for these settings (python prints what lrtui shows)", show=False),
        key("a", "add_contender", "Race", "race-add",
            "race another configuration in lockstep on the same data (up to 4 in all)", show=False),
        key("A", "remove_contender", "Unrace", "race-remove", "take the last contender out of the race", show=False),
        key("l", "pick_lesson", "Lessons", "lessons",
            "guided lessons: the classic PyTorch lessons, each with a goal the app checks", show=False),
        key("L", "close_lesson", "Close lesson", "lesson-close", "close the lesson box (the run goes on)", show=False),
        key("question_mark", "help", "Help", "help", "show this help"),
        key("escape", "focus_app", "Leave field", "focus-app", "leave a field and hand the keys back to the app",
            show=False),
        key("q", "quit", "Quit", "quit", "quit lrtui"),
    ]  # fmt: skip

    def __init__(
        self,
        race: Race,
        *,
        speed: int = 10,
        session_path: str | None = None,
        lesson: Lesson | None = None,
        language: str = DEFAULT_LANGUAGE,
        clock: Callable[[], float] = time.perf_counter,
        timer_factory: TimerFactory | None = None,
    ) -> None:
        super().__init__()
        self.race = race
        self.run_log = RunLog(LOG_LINES)
        self.language = language
        self.lesson: Lesson | None = None  # the lesson being followed
        self._lesson_to_start = lesson
        self._goal_met_at: int | None = None
        self.session_path = session_path
        self.pacer = Pacer(speed, clock)
        self.running = False
        self._timer_factory = timer_factory
        self._next_redraw = 0.0
        self._next_log_flush = 0.0
        self._next_chart = 0.0

    @property
    def leader(self) -> Run:
        """The run the learner drives (A in a race)."""
        return self.race.leader

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="∇")
        with Horizontal(id="body"):
            with Vertical(id="side"):
                yield ParameterPanel(self.leader.settings, self.pacer.speed, id="parameters")
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
        self.log_pane.border_title = "Log"
        self.chart.border_title = "Chart"
        factory = self._timer_factory or self._paused_interval
        self.frame_timer = factory(FRAME_INTERVAL, self.run_frame)
        leader = self.leader
        settings, dataset = leader.settings, leader.dataset
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
        leader = self.leader
        if leader.diverged:
            return f"DIVERGED at epoch {leader.diverged_at}"
        if leader.finished:
            return "finished"
        speed = speed_label(self.pacer.speed)
        return f"running · {speed}" if self.running else f"paused · {speed}"

    def refresh_views(self) -> None:
        # Each write to the log pane costs a layout pass of the whole screen, so while
        # running its lines are written a few times a second rather than every frame.
        now = self.pacer.clock()
        if self.run_log.has_pending and (not self.running or now >= self._next_log_flush):
            self._next_log_flush = now + 1 / LOG_FLUSH_RATE
            rewritten, lines = self.run_log.take()
            if rewritten:
                self.log_pane.clear()
            for line in lines:
                self.log_pane.write(Text(f"» {line.text}", style="cyan") if line.event else line.text)
        self.state_view.show(self.race, self.status())
        if self.code_view.display:
            self.code_view.show(self.leader)
        elif not self.running or now >= self._next_chart:
            # The chart is the costliest thing on screen; while running it is redrawn at
            # CHART_RATE, the numbers at REDRAW_RATE, and a chart slow to build (a race of
            # four, a huge terminal) is given at most a CHART_SHARE of the time.
            self._next_chart = now + max(1 / CHART_RATE, self.chart.build_seconds / CHART_SHARE)
            self.chart.show(self.race)
        limit = self.leader.surface.stability_limit
        self.panel.show_hint("learning_rate", f"stable below {limit:.4g}")

    def log_event(self, text: str) -> None:
        """An event line (setting changed, reset, ...), written after any epoch lines still pending."""
        self.run_log.event(text, self.leader.epoch)
        if not self.running:
            self.refresh_views()

    # ---------------------------------------------------------------- running
    def _took(self, rows: list[Row], redraw: bool = True) -> None:
        """Log the epochs just run (and the end of the run); redraw if asked or the run stopped."""
        self.run_log.took(self.race, rows)
        if not self.leader.running:
            self._stop_running()
        self._check_goal()
        if redraw or not self.running:
            self.refresh_views()

    def _can_step(self) -> bool:
        leader = self.leader
        if leader.diverged:
            self.notify(
                f"The run diverged at epoch {leader.diverged_at}: press r to reset.", severity="warning"
            )
            return False
        if leader.finished:
            self.notify(
                f"All epochs 0..{leader.settings.epochs} are done: raise epochs or press r.",
                severity="warning",
            )
            return False
        return True

    def advance(self, count: int) -> list[Row]:
        """Run up to ``count`` epochs now (fewer if the run ends or diverges)."""
        if not self._can_step():
            return []
        rows = self.race.step(count)
        self._took(rows)
        return rows

    def run_frame(self) -> None:
        """One slice of run mode: the epochs the pacer allows, then a redraw when one is due."""
        if not self.running:
            return
        race = self.race
        rows: list[Row] = []

        def step() -> bool:
            taken = race.step(1)
            rows.extend(taken)
            return bool(taken)

        if self.pacer.run_frame(step):
            # Epochs run in short slices so keys are never kept waiting; the screen is
            # redrawn at REDRAW_RATE whatever the number of slices in between.
            now = self.pacer.clock()
            redraw = now >= self._next_redraw
            if redraw:
                self._next_redraw = now + 1 / REDRAW_RATE
            self._took(rows, redraw)

    def _stop_running(self) -> None:
        self.running = False
        self.frame_timer.pause()

    def start_over(self, leader: Run, *events: str) -> None:
        """The one way a run starts again (reset, a new problem, a lesson, a loaded session):
        the race restarts on ``leader``, the log says why, every view follows."""
        self._stop_running()
        self.race.restart(leader)
        self.chart.reset_view()
        self.run_log.new_run()
        for text in events:
            self.log_event(text)
        self._note_optimum()
        self.panel.show(leader.settings, self.pacer.speed)
        self._check_goal()
        self.refresh_views()

    # ---------------------------------------------------------------- settings
    def change_setting(self, field: str, value: Any) -> bool:
        """Apply one new setting; refused values are marked in the panel. Returns True if applied."""
        leader = self.leader
        if field == "speed":
            self.pacer.set_speed(value)
            self.panel.show(leader.settings, value)
            self.refresh_views()
            return True
        old = leader.settings
        try:
            new = old.with_changes(**{field: value})
        except SettingsError as error:
            self._refuse(field, error.message)
            return False
        if new == old:
            return True
        was, now = field_text(field, getattr(old, field)) or "default", field_text(field, value) or "default"
        change = f"{label(field)} {was} → {now}"
        if field in PROBLEM_FIELDS:
            try:
                run = Run(new, leader.dataset if new.data == old.data else None)
            except DataError as error:
                self._refuse(field, str(error))
                return False
            self.start_over(run, f"{change}: a new problem, so the run starts again at epoch 0")
            return True
        self.race.apply(new)
        self.log_event(f"from epoch {leader.epoch}: {change}")
        self.panel.show(new, self.pacer.speed)
        self._check_goal()
        self.refresh_views()
        return True

    def _note_optimum(self) -> None:
        optimum = self.leader.surface.optimum
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
        self._stop_running()
        leader = self.leader
        if not self.race.undo():
            first = leader.first_epoch
            if first:
                message = f"This session was loaded at epoch {first}: undo goes back no further."
            else:
                message = "Already at epoch 0: nothing to undo."
            self.notify(message, severity="warning")
            return
        self.run_log.undo_to(leader.epoch)
        self.panel.show(leader.settings, self.pacer.speed)
        self.refresh_views()

    def action_reset(self) -> None:
        leader = self.leader
        self.start_over(Run(leader.settings, leader.dataset), "reset: back to epoch 0 with the same settings")

    def action_toggle_zero_grad(self) -> None:
        self.change_setting("zero_grad", not self.leader.settings.zero_grad)

    def action_scale_learning_rate(self, factor: float) -> None:
        self.change_setting("learning_rate", self.leader.settings.learning_rate * factor)

    def action_next_optimizer(self) -> None:
        current = OPTIMIZERS.index(self.leader.settings.optimizer)
        self.change_setting("optimizer", OPTIMIZERS[(current + 1) % len(OPTIMIZERS)])

    def action_toggle_bias(self) -> None:
        self.change_setting("bias", not self.leader.settings.bias)

    def action_next_dataset(self) -> None:
        data = self.leader.settings.data
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
        if self._can_step():
            self._took(self.race.phase_step())

    def action_add_contender(self) -> None:
        if self.race.full:
            self.notify(
                "A race has at most 4 contenders: shift+a takes the last one out.", severity="warning"
            )
            return

        def add(changes: str | None) -> None:
            if changes is None:
                return
            leader = self.leader
            try:
                settings = contender_settings(leader.settings, changes)
            except SettingsError as error:
                self.notify(error.message, title="Contender not added", severity="error")
                return
            self._stop_running()
            run = self.race.add(settings)
            joined = f"{run.letter} joins the race: {self.race.labels()[-1]}"
            if run.diverged:
                self.log_event(f"{joined}; catching up, it {divergence_of(run)}")
            elif leader.epoch:
                self.log_event(f"{joined}, caught up to epoch {leader.epoch}")
            else:
                self.log_event(joined)

        suggestion = RACE_SUGGESTIONS[(len(self.race) - 1) % len(RACE_SUGGESTIONS)]
        question = "A new contender: what does it change? (e.g. optimizer=adam lr=0.1)"
        self.push_screen(PathPrompt(question, suggestion), add)

    def action_remove_contender(self) -> None:
        run = self.race.remove_last()
        if run is None:
            self.notify("No contender to take out: press a to add one.", severity="warning")
            return
        self.log_event(f"{run.letter} leaves the race")

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
        self.lesson, self._goal_met_at = lesson, None
        self.lesson_box.add_class("-shown")
        self.lesson_box.show(lesson, self.language, None)
        self.start_over(
            Run(lesson.settings),
            ui_text(self.language, "started", number=lesson.number, title=lesson.title),
            lesson.text["explanation"],
        )

    def action_close_lesson(self) -> None:
        self.lesson = None
        self.lesson_box.remove_class("-shown")

    def _check_goal(self) -> None:
        lesson, last = self.lesson, self.leader.last
        if lesson is None or last is None or self._goal_met_at is not None:
            return
        if goal_met(lesson.goal, self.leader):
            self._goal_met_at = last.epoch
            self.lesson_box.show(lesson, self.language, self._goal_met_at)
            self.log_event(f"{ui_text(self.language, 'goal')} ✓ {lesson.text['goal_met']}")
            self.notify(lesson.text["goal_met"], title=f"{lesson.number}. {lesson.title}")

    # ------------------------------------------------------------------ files
    def _ask_path(self, question: str, default: str, failure: str, act: Callable[[str], str | None]) -> None:
        """Ask for a path, then ``act(path)``, which returns what to log; a failure is a message."""

        def done(path: str | None) -> None:
            if path is None:
                return
            try:
                done_text = act(path)
                if done_text:
                    self.log_event(done_text)
            except OSError as error:
                self.notify(f"{path}: {error.strerror or error}", title=failure, severity="error")
            except ValueError as error:  # SessionError and other refusals say what is wrong
                self.notify(str(error), title=failure, severity="error")

        self.push_screen(PathPrompt(question, default), done)

    def action_save_session(self) -> None:
        def save(path: str) -> str:
            save_session(path, self.leader)
            self.session_path = path
            saved = f"saved the session at epoch {self.leader.epoch} to {path}"
            if len(self.race) > 1:
                saved += " (run A only: a session does not keep the race's other contenders)"
            return saved

        self._ask_path("Save the session to", self.session_path or DEFAULT_SESSION, "Session not saved", save)

    def action_load_session(self) -> None:
        def load(path: str) -> None:
            run = load_session(path)
            self.session_path = path
            self._stop_running()
            self.race.restart(run)
            self.chart.reset_view()
            self._log_loaded(path)
            self.panel.show(run.settings, self.pacer.speed)
            self.refresh_views()

        default = self.session_path or DEFAULT_SESSION
        self._ask_path("Load the session from", default, "Session not loaded", load)

    def _log_loaded(self, path: str) -> None:
        """Say what was loaded, then replay the log lines of its history."""
        leader = self.leader
        self.run_log.new_run()
        self.log_event(f"loaded {path}: {len(leader.history)} epochs of history, next epoch {leader.epoch}")
        self._note_optimum()
        self.run_log.replay(self.race)

    def action_export_script(self) -> None:
        def export(path: str) -> str:
            write_script(path, self.leader.settings, self.leader.dataset)
            return f"wrote the PyTorch script for these settings to {path}"

        self._ask_path("Write the PyTorch script to", DEFAULT_SCRIPT, "Script not written", export)

    def action_export_history(self) -> None:
        def export(path: str) -> str:
            export_history_csv(path, self.leader.history)
            return f"exported {len(self.leader.history)} epochs to {path}"

        self._ask_path("Export the history as CSV to", DEFAULT_EXPORT, "History not exported", export)

    # ------------------------------------------------------------ discovery
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))

    def action_focus_app(self) -> None:
        self.screen.set_focus(None)

    def key_help(self) -> list[tuple[Binding, str]]:
        return [(binding, binding.tooltip) for binding in self._app_bindings()]

    def _app_bindings(self) -> Iterable[Binding]:
        return (b for b in self.BINDINGS if isinstance(b, Binding) and b.tooltip)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self._app_bindings():
            if binding.id in ("help", "focus-app", "quit"):
                continue
            yield SystemCommand(
                f"{binding.description} ({binding.key.split(',')[0]})",
                binding.tooltip,
                partial(self.run_action, binding.action),
            )
        yield SystemCommand("Keys (?)", "show every key and what it does", self.action_help)
