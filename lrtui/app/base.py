"""What every part of the app shares: the race and its log, running and pacing, redrawing,
and the one way a run starts again. The keys' actions build on it (``app_actions``, ``app``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from textual.app import App, ComposeResult
from textual.notifications import SeverityLevel
from textual.screen import Screen

from ..lessons import DEFAULT_LANGUAGE, Lesson, ui_text
from .opening import Opening
from .pacing import DEFAULT_SPEED, Pacer, speed_label
from .screen import RunScreen
from .widgets.notes import LOG_LINES

# The first frame is painted before torch is imported (``app_start``): the engine's modules
# are imported once the run is opened.
if TYPE_CHECKING:
    from ..engine.race import Race, Row
    from ..engine.run import Run
    from ..engine.run_log import RunLog

# Frames are paced by the work done in them; the timer only has to wake up promptly.
FRAME_INTERVAL = 1 / 500
REDRAW_RATE = 20
LOG_FLUSH_RATE = 2
CHART_RATE = 8
CHART_SHARE = 0.25
MAX_SET_ASIDE = 10


class FrameTimer(Protocol):
    def pause(self) -> None: ...
    def resume(self) -> None: ...


TimerFactory = Callable[[float, Callable[[], None]], FrameTimer]


class RunApp(App[None]):
    """A race driven from a ``RunScreen``: the leader steps, its rivals follow.

    Given an ``Opening`` instead of a race, the app is not ``ready`` until ``app_start`` has
    opened the race (``begin``): until then it has no ``race`` and no ``run_log``."""

    race: Race
    run_log: RunLog

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
    ) -> None:
        super().__init__()
        self.ready = False
        self.opening = race if isinstance(race, Opening) else None
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
        self.run_screen = RunScreen()
        self._toasts: set[tuple[str, str]] = set()  # shown and not yet timed out
        # The runs a restart set aside (a new problem, a reset, a lesson, a load), newest last,
        # so that undo at the start of the new run can bring the last one back.
        self.set_aside: list[list[Run]] = []
        if not isinstance(race, Opening):
            self.begin(race)
            self.ready = True

    def begin(self, race: Race) -> None:
        """The race is open (the app is ``ready`` once its panes are too)."""
        from ..engine.run_log import RunLog

        self.race = race
        self.run_log = RunLog(LOG_LINES)

    def get_default_screen(self) -> Screen:
        return self.run_screen

    def compose(self) -> ComposeResult:
        if self.opening is not None and not self.ready:
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

    @property
    def leader(self) -> Run:
        """The run the learner drives (A in a race)."""
        return self.race.leader

    def start_frames(self) -> None:
        factory = self._timer_factory or self._paused_interval
        self.frame_timer = factory(FRAME_INTERVAL, self.run_frame)

    def _paused_interval(self, interval: float, callback: Callable[[], None]) -> FrameTimer:
        return self.set_interval(interval, callback, pause=True)

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
        if not self.ready:
            return  # the loading state is shown by app_start
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
        elif not self.running or now >= self._next_chart:
            # The chart is the costliest thing on screen; while running it is redrawn at
            # CHART_RATE, the numbers at REDRAW_RATE, and a chart slow to build (a race of
            # four, a huge terminal) is given at most a CHART_SHARE of the time.
            self._next_chart = now + max(1 / CHART_RATE, screen.chart.build_seconds / CHART_SHARE)
            screen.chart.show(self.race)
        screen.show_summary(self.leader.settings, self.pacer.speed)
        screen.panel.show_hint("learning_rate", self.leader.surface.limit_for(self.leader.settings).hint)

    def when(self) -> str:
        """Where the leader stands, in the one wording every message uses: after the last
        epoch run, with the next one."""
        last = self.leader.last
        if last is None:
            return "before epoch 0"
        return f"after epoch {last.epoch} (next epoch {self.leader.epoch})"

    def log_event(self, text: str) -> None:
        """An event line (setting changed, reset, ...), written after any epoch lines still pending."""
        self.run_log.event(text, self.leader.position)
        if not self.running:
            self.refresh_views()

    # ---------------------------------------------------------------- running
    def took(self, rows: list[Row], redraw: bool = True) -> None:
        """Log the epochs just run (and the end of the run); redraw if asked or the run stopped."""
        self.run_log.took(self.race, rows)
        if not self.leader.running:
            self.stop_running()
        self.check_goal()
        if redraw or not self.running:
            self.refresh_views()

    def can_step(self) -> bool:
        """True if the leader can take another epoch; else say why."""
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
        if not self.can_step():
            return []
        rows = self.race.step(count)
        self.took(rows)
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
            self.took(rows, redraw)

    def stop_running(self) -> None:
        self.running = False
        self.frame_timer.pause()

    def start_over(self, leader: Run, *events: str) -> None:
        """The one way a run starts again (reset, a new problem, a lesson, a loaded session):
        the race restarts on ``leader``, the log says why (and replays the epochs a loaded
        run brings), every view follows."""
        self.stop_running()
        setting_aside = self.leader.last is not None and leader is not self.leader
        if setting_aside:
            self.set_aside = [*self.set_aside[-(MAX_SET_ASIDE - 1) :], list(self.race.runs)]
            events = (*events, "u brings the run before back")
        self.race.restart(leader)
        self._show_new_race(events)

    def bring_back(self) -> bool:
        """Undo the last restart: the race set aside comes back as it was; False if none."""
        if not self.set_aside:
            return False
        self.stop_running()
        self.race.resume(self.set_aside.pop())
        self._show_new_race((f"undo: back to the run before the restart, {self.when()}",))
        return True

    def _show_new_race(self, events: tuple[str, ...]) -> None:
        """After a restart or a race brought back: the log says why, then starts the race's
        lines afresh with the epochs it has run (undo takes out its own lines, never the
        lines that said why), and every view shows the race."""
        self.run_screen.chart.reset_view()
        for text in events:
            self.log_event(text)
        self.note_optimum()
        self.run_log.new_run()
        self.run_log.replay(self.race)
        self.run_screen.panel.show(self.leader.settings, self.pacer.speed)
        self.check_goal()
        self.refresh_views()

    def note_optimum(self) -> None:
        optimum = self.leader.surface.optimum
        if not optimum.unique:
            self.log_event(f"note: {optimum.reason}; gradient descent still runs")

    def check_goal(self) -> None:
        """Say so once, the first time the lesson's goal is met."""
        lesson, last = self.lesson, self.leader.last
        if lesson is None or last is None or self._goal_met_at is not None:
            return
        from ..lessons.goals import goal_met

        if goal_met(lesson.goal, self.leader):
            self._goal_met_at = last.epoch
            self.run_screen.lesson_box.show(lesson, self.language, self._goal_met_at)
            self.log_event(f"{ui_text(self.language, 'goal')} ✓ {lesson.text['goal_met']}")
            self.notify(lesson.text["goal_met"], title=f"{lesson.number}. {lesson.title}")
