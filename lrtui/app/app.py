"""The lrtui app: step a real torch optimizer through linear regression from the keyboard.

``LrtuiApp`` holds a ``RunController`` (the race, its log, the lesson: every decision about the
run) and a ``FileActions`` (saves and reads); the ``RunScreen``'s widgets show what they are
given and post messages up. The app's own work is the keys, the frame timer that runs the race
at a speed, and drawing. Its first frame is painted before torch is imported: until the race is
open (``start``), a key that needs the run waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from rich.text import Text
from textual.actions import parse
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker

from ..engine.choices import OPTIMIZERS, PRESETS
from ..engine.settings import label
from ..lessons import DEFAULT_LANGUAGE, Lesson, lessons
from .controller import START_HINT, Outcome, RunController
from .files import FileActions
from .keys import KEYS, TYPED_ACTIONS
from .opening import Opened, Opening, open_race
from .pacing import DEFAULT_SPEED, Pacer, speed_label
from .screen import RunScreen
from .start import KEY_OF, SHOWN_WAITING, WAITING_ACTIONS, RunOpened, open_in_thread
from .widgets.help import HelpScreen
from .widgets.lessons import LessonPicker
from .widgets.notes import LOG_LINES
from .widgets.parameters import ParameterPanel
from .widgets.prompt import PathPrompt

if TYPE_CHECKING:
    from ..engine.data_folder import DataFolder as Folder
    from ..engine.race import Race, Row
    from ..engine.run import Run
    from ..engine.run_log import RunLog

# Frames are paced by the work done in them; the timer only has to wake up promptly.
FRAME_INTERVAL = 1 / 500
REDRAW_RATE = 20
LOG_FLUSH_RATE = 2
CHART_RATE = 8
CHART_SHARE = 0.25
RACE_SUGGESTIONS = ("optimizer=adam lr=0.1", "momentum=0.9", "zero-grad=off")


class FrameTimer(Protocol):
    def pause(self) -> None: ...
    def resume(self) -> None: ...


TimerFactory = Callable[[float, Callable[[], None]], FrameTimer]


class LrtuiApp(App[None]):
    """A race driven from a ``RunScreen``: the leader steps, its rivals follow.

    Given an ``Opening`` instead of a race, the app is not ``ready`` until a thread has opened
    the race: until then it has no ``controller``."""

    CSS_PATH = "lrtui.tcss"
    TITLE = "lrtui"
    SUB_TITLE = "linear regression, one epoch at a time"
    AUTO_FOCUS = None
    BINDINGS = list[BindingType](KEYS)

    controller: RunController

    def __init__(
        self,
        race: Race | Opening,
        *,
        speed: int = DEFAULT_SPEED,
        session_path: str | None = None,
        lesson: Lesson | None = None,
        language: str = DEFAULT_LANGUAGE,
        clock: Callable[[], float] = time.perf_counter,
        timer_factory: TimerFactory | None = None,
        data_folder: Folder | None = None,
        opener: Callable[[Opening], Opened] = open_race,
    ) -> None:
        """``data_folder``: the app is served and may read files only there. ``opener`` opens
        the race in a thread (a test may hold it back)."""
        super().__init__()
        self.ready = False
        self.opening = race if isinstance(race, Opening) else None
        self.language = language
        self._session_path = session_path
        self._lesson_to_start = lesson
        self._opener = opener
        self.waiting: list[str] = []  # the actions of the keys pressed before the run was open
        self.pacer = Pacer(speed, clock)
        self.running = False
        self._timer_factory = timer_factory
        self._next_redraw = 0.0
        self._next_log_flush = 0.0
        self._next_chart = 0.0
        self.run_screen = RunScreen()
        self.files = FileActions(self, data_folder)
        self._toasts: set[tuple[str, str]] = set()  # shown and not yet timed out
        if not isinstance(race, Opening):
            self._begin(race, session_path)
            self.ready = True

    def _begin(self, race: Race, session_path: str | None) -> None:
        self.controller = RunController(
            race, language=self.language, session_path=session_path, log_lines=LOG_LINES
        )

    # ---------------------------------------------------------- what it holds
    @property
    def race(self) -> Race:
        return self.controller.race

    @property
    def leader(self) -> Run:
        """The run the learner drives (A in a race)."""
        return self.controller.leader

    @property
    def run_log(self) -> RunLog:
        return self.controller.run_log

    @property
    def lesson(self) -> Lesson | None:
        return self.controller.lesson if self.ready else None

    @property
    def session_path(self) -> str | None:
        return self.controller.session_path if self.ready else self._session_path

    @property
    def served(self) -> Folder | None:
        return self.files.served

    @property
    def reading(self) -> str | None:
        return self.files.reading

    # --------------------------------------------------------------- the screen
    def get_default_screen(self) -> Screen:
        return self.run_screen

    def compose(self) -> ComposeResult:
        if not self.ready:
            assert self.opening is not None
            return RunScreen.panes(self.opening.settings, self.pacer.speed, ready=False)
        return RunScreen.panes(self.leader.settings, self.pacer.speed)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A toast, unless the same one is still on screen (a key pressed again and again)."""
        shown = (title, message)
        if shown in self._toasts:
            return
        self._toasts.add(shown)
        timeout = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
        self.set_timer(timeout, lambda: self._toasts.discard(shown))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def status(self) -> str:
        leader = self.leader
        if leader.diverged:
            status = f"DIVERGED at epoch {leader.diverged_at}"
        elif leader.finished:
            status = "finished"
        else:
            speed = speed_label(self.pacer.speed)
            status = f"running · {speed}" if self.running else f"paused · {speed}"
        reading = self.files.reading
        return status if reading is None else f"reading {reading} … · {status}"

    def refresh_views(self) -> None:
        if not self.ready:
            return  # the loading state is shown by show_loading
        screen = self.run_screen
        # Each write to the log pane costs a layout pass of the whole screen, so while
        # running its lines are written a few times a second rather than every frame.
        now = self.pacer.clock()
        if self.run_log.has_pending and (not self.running or now >= self._next_log_flush):
            self._next_log_flush = now + 1 / LOG_FLUSH_RATE
            screen.write_log(*self.run_log.take())
        screen.state_view.show(self.race, self.status())
        if screen.showing_code:
            screen.code_view.show(self.leader)
        elif screen.showing_graph:
            screen.graph_view.show(self.race, self.running)  # it paces its own builds
        elif not self.running or now >= self._next_chart:
            # The chart is the costliest thing on screen; while running it is redrawn at
            # CHART_RATE, the numbers at REDRAW_RATE, and a chart slow to build (a race of
            # four, a huge terminal) is given at most a CHART_SHARE of the time.
            self._next_chart = now + max(1 / CHART_RATE, screen.chart.build_seconds / CHART_SHARE)
            screen.chart.show(self.race)
        screen.show_summary(self.leader.settings, self.pacer.speed)
        screen.panel.show_hint("learning_rate", self.leader.surface.limit_for(self.leader.settings).hint)

    def show(self, outcome: Outcome, redraw: bool = True) -> bool:
        """Show what the controller did: a refusal on its field, a warning, a new race or a
        lesson's goal met; then redraw (while running, only when asked). False if refused."""
        if outcome.new_race or outcome.rows and not self.leader.running:
            self.stop_running()
        if outcome.refused is not None:
            self.refuse(outcome.refused.field, outcome.refused.reason)
        if outcome.warning is not None:
            self.notify(outcome.warning, severity="warning")
        if outcome.refit_view:
            self.run_screen.chart.reset_view()
        if outcome.settings_changed:
            self.run_screen.panel.show(self.leader.settings, self.pacer.speed)
        lesson = self.controller.lesson
        if lesson is not None and (outcome.goal_met or outcome.new_race):
            self.run_screen.lesson_box.show(lesson, self.language, self.controller.goal_met_at)
            if outcome.goal_met:
                self.notify(lesson.text["goal_met"], title=f"{lesson.number}. {lesson.title}")
        if redraw or not self.running:
            self.refresh_views()
        return outcome.refused is None

    def refuse(self, field: str, reason: str) -> None:
        """A setting not changed: its field says why, and so does a toast."""
        self.run_screen.panel.refuse(field, reason)
        self.notify(reason, title=f"{label(field)} not changed", severity="error")

    def log_event(self, text: str) -> None:
        """An event line of the app's own (a file saved, ...)."""
        self.controller.log(text)
        if not self.running:
            self.refresh_views()

    # ------------------------------------------------------------- the start
    def on_mount(self) -> None:
        factory = self._timer_factory or self._paused_interval
        self.frame_timer = factory(FRAME_INTERVAL, self.run_frame)
        self.run_screen.fit_layout(self.size)
        if self.ready:
            self._open_run()
            return
        self.run_screen.log_pane.add(
            Text(f"» {START_HINT} Keys pressed while torch loads run once it is ready.", style="cyan")
        )
        self.show_loading()

    def _paused_interval(self, interval: float, callback: Callable[[], None]) -> FrameTimer:
        return self.set_interval(interval, callback, pause=True)

    def on_ready(self) -> None:
        """The first frame is on the terminal: torch may load now (a thread importing it would
        have slowed the first frame down, both needing the interpreter)."""
        if self.opening is not None and not self.ready:
            # A daemon thread, not a Textual worker: quitting while torch loads then ends the
            # process at once, instead of waiting for the import to finish.
            threading.Thread(
                target=self._open_in_thread, args=(self.opening,), name="lrtui: open the run", daemon=True
            ).start()

    def _open_in_thread(self, opening: Opening) -> None:
        """In the thread: open the race, and hand it to the app (post_message is thread-safe)."""
        try:
            opened = open_in_thread(self._opener, opening)
        except BaseException as error:  # a bug: the app shows it as it would any other
            self.post_message(RunOpened(None, error))
        else:
            self.post_message(RunOpened(opened))

    def show_loading(self) -> None:
        assert self.opening is not None
        lines = [Text(f"loading {self.opening.loading_text()}… (a few seconds the first time)", style="bold")]
        if self.waiting:
            keys = " ".join(KEY_OF.get(action, action) for action in self.waiting[-SHOWN_WAITING:])
            more = "… " if len(self.waiting) > SHOWN_WAITING else ""
            lines.append(Text(f"keys waiting for it: {more}{keys}"))
        else:
            lines.append(Text("keys pressed now run as soon as it is ready", style="dim"))
        self.run_screen.state_view.show_loading(lines)
        self.run_screen.show_summary(self.opening.settings, self.pacer.speed)

    async def run_action(
        self,
        action: Any,
        default_namespace: DOMNode | None = None,
        namespaces: Any = None,
    ) -> bool:
        """Before the run is open, a key that needs it waits (in order) instead of running."""
        if not self.ready and isinstance(action, str) and parse(action)[1] in WAITING_ACTIONS:
            self.waiting.append(action)
            self.show_loading()
            return True
        return await super().run_action(action, default_namespace, namespaces)

    async def on_run_opened(self, message: RunOpened) -> None:
        """The race is open: the chart takes its place, the log starts, what could not be
        opened is said, and the keys pressed meanwhile run."""
        if message.error is not None:
            raise message.error
        opened = message.opened
        assert opened is not None
        self._begin(opened.race, opened.session_path)
        screen = self.run_screen
        await screen.show_run_panes(self.leader.settings, self.pacer.speed)
        self.ready = True  # from now on every key works on the race
        screen.log_pane.clear()
        self._open_run()
        for problem in opened.problems:
            self.log_event(f"{problem.flag}: {problem.message}")
            self.notify(problem.message, title=f"{problem.flag} not opened", severity="error", timeout=10)
            if problem.field is not None:
                screen.panel.mark(problem.field, problem.message)
        waiting, self.waiting = self.waiting, []
        if waiting:
            keys = " ".join(KEY_OF.get(action, action) for action in waiting)
            self.log_event(f"running the keys pressed while torch loaded: {keys}")
        for action in waiting:
            await self.run_action(action)

    def _open_run(self) -> None:
        lesson = self._lesson_to_start
        if lesson is not None:
            self.run_screen.lesson_box.add_class("-shown")
        self.show(self.controller.open(lesson))

    # ----------------------------------------------------------------- running
    def run_frame(self) -> None:
        """One slice of run mode: the steps the pacer allows, then a redraw when one is due."""
        if not self.running:
            return
        race = self.race
        rows: list[Row] = []

        def step() -> bool:
            taken = race.step(1)
            rows.extend(taken)
            return bool(taken)

        if self.pacer.run_frame(step):
            # Steps run in short slices so keys are never kept waiting; the screen is
            # redrawn at REDRAW_RATE whatever the number of slices in between.
            now = self.pacer.clock()
            redraw = now >= self._next_redraw
            if redraw:
                self._next_redraw = now + 1 / REDRAW_RATE
            self.show(self.controller.took(rows), redraw)

    def stop_running(self) -> None:
        self.running = False
        self.frame_timer.pause()

    def action_toggle_run(self) -> None:
        if self.running:
            self.stop_running()
        elif (why := self.controller.why_not_step()) is not None:
            self.notify(why, severity="warning")
        else:
            self.running = True
            self.pacer.restart()
            self.frame_timer.resume()
        self.refresh_views()

    def action_step(self, count: int) -> None:
        self.show(self.controller.step(count))

    def action_step_epoch(self) -> None:
        self.show(self.controller.step_epoch())

    def action_step_back(self) -> None:
        self.stop_running()
        self.show(self.controller.undo())

    def action_reset(self) -> None:
        self.show(self.controller.reset())

    def action_phase_step(self) -> None:
        if not (self.run_screen.showing_code or self.run_screen.showing_graph):
            self.action_toggle_code()
        self.show(self.controller.phase_step())

    # ---------------------------------------------------------------- settings
    def change_setting(self, field: str, value: Any) -> bool:
        """Apply one new setting; refused values are marked in the panel. Returns True if applied."""
        if field == "speed":
            if value != self.pacer.speed:
                self.pacer.set_speed(value)
                self.run_screen.panel.show(self.leader.settings, value)
                self.refresh_views()
            return True
        outcome = self.controller.change_setting(field, value)
        if outcome.read_data is not None:
            self.files.read_data(outcome.read_data, outcome.change)
            return True
        if field == "data" and outcome.new_race:  # a preset chosen: a file still being read is dropped
            self.files.stop_reading(f"the data set {self.leader.settings.data} was chosen since")
        return self.show(outcome)

    def on_parameter_panel_changed(self, event: ParameterPanel.Changed) -> None:
        self.change_setting(event.field, event.value)

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

    # ------------------------------------------------------------------- races
    def action_add_contender(self) -> None:
        if self.race.full:
            self.show(self.controller.add_contender(""))  # says the race is full
            return

        def add(changes: str | None) -> None:
            if changes is not None:
                self.stop_running()
                self.show(self.controller.add_contender(changes))

        suggestion = RACE_SUGGESTIONS[(len(self.race) - 1) % len(RACE_SUGGESTIONS)]
        question = "A new contender: what does it change? (type key=value, e.g. optimizer=adam lr=0.1)"
        self.push_screen(
            PathPrompt(question, suggestion, is_path=False, check=self.controller.contender_refusal), add
        )

    def action_race_heavy_ball(self) -> None:
        self.stop_running()
        self.show(self.controller.add_heavy_ball())

    def action_remove_contender(self) -> None:
        self.show(self.controller.remove_contender())

    # ----------------------------------------------------------------- lessons
    def action_pick_lesson(self) -> None:
        every = lessons(self.language)

        def start(index: int | None) -> None:
            if index is not None:
                self.start_lesson(every[index])

        lesson = self.controller.lesson
        self.push_screen(
            LessonPicker(every, self.language, None if lesson is None else lesson.number - 1), start
        )

    def start_lesson(self, lesson: Lesson) -> None:
        self.run_screen.lesson_box.add_class("-shown")
        self.show(self.controller.start_lesson(lesson))

    def action_close_lesson(self) -> None:
        self.controller.close_lesson()
        self.run_screen.lesson_box.remove_class("-shown")

    # ------------------------------------------------------------------- files
    def action_save_session(self) -> None:
        self.files.save_session()

    def action_load_session(self) -> None:
        self.files.load_session()

    def action_export_script(self) -> None:
        self.files.export_script()

    def action_export_history(self) -> None:
        self.files.export_history()

    def action_save_screenshot(self) -> None:
        self.files.save_screenshot()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.files.worker_changed(event)

    # ------------------------------------------------------------------- views
    def action_next_view(self) -> None:
        if self.run_screen.showing_graph:
            self.action_toggle_graph()
        if self.run_screen.showing_code:
            self.action_toggle_code()
        self.run_screen.chart.next_view()

    def action_toggle_x_units(self) -> None:
        """t: a standardized run's surface over x' (as trained) or over raw x."""
        if not self.run_screen.chart.toggle_x_units():
            self.notify(
                "t switches the surface between x' and raw x for a run with --standardize (and bias)."
            )

    def on_resize(self) -> None:
        # the screen's layout follows its size first (RunScreen.on_resize), then the panes
        self.call_after_refresh(self.refresh_views)

    def action_toggle_panel(self) -> None:
        self.run_screen.toggle_panel()

    def action_toggle_code(self) -> None:
        self.run_screen.toggle_code()
        self.refresh_views()

    # --------------------------------------------------------------- discovery
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a field has focus, the keys it takes are not the app's: the footer shows only
        the keys that still work, esc among them. An input takes what it types (and its
        cursor keys); a dropdown or a switch takes space, which opens it or flips it."""
        field = self.focused
        if action == "focus_app":
            return field is not None
        if field is None:
            return True
        if isinstance(field, Input):
            written = f"{action}({', '.join(map(repr, parameters))})" if parameters else action
            return written not in TYPED_ACTIONS
        return action != "toggle_run"

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))

    def action_focus_app(self) -> None:
        self.screen.set_focus(None)

    def key_help(self) -> list[tuple[Binding, str]]:
        return [(binding, binding.tooltip) for binding in KEYS]

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own "Keys" panel would stand beside ours, which explains every key.
        yield from (command for command in super().get_system_commands(screen) if command.title != "Keys")
        for binding in KEYS:
            if binding.id in ("help", "focus-app", "quit"):
                continue
            yield SystemCommand(
                f"{binding.description} ({binding.key.split(',')[0]})",
                binding.tooltip,
                partial(self.run_action, binding.action),
            )
        yield SystemCommand("Keys (?)", "show this help", self.action_help)

    # ------------------------------------------------ the autograd graph view (widgets/graph.py)
    def action_toggle_graph(self) -> None:
        self.run_screen.toggle_graph()
        self.refresh_views()

    def action_backward_node(self) -> None:
        if not self.run_screen.showing_graph:
            self.action_toggle_graph()
        if line := self.run_screen.graph_view.backward_one_node():
            self.log_event(line)

    def action_second_backward(self) -> None:
        if not self.run_screen.showing_graph:
            self.action_toggle_graph()
        if line := self.run_screen.graph_view.second_backward():
            self.log_event(line)

    # ------------------------------------------------ several features: the chart's slice
    def action_next_slice(self) -> None:
        """w: with several features, the chart's slice over the next pair of parameters."""
        names = self.run_screen.chart.next_pair()
        self.notify(
            f"the slice is over {names}"
            if names
            else "w cycles the slice's parameters with several features."
        )
