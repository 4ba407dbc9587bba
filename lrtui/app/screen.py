"""The screen a run is driven from: the parameter panel and lesson box beside the state, the
chart (or the code view) and the log. It lays the widgets out for the terminal's size; the
app tells it what to show."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Header, Static

from ..engine.settings import LOSS_NAMES, OPTIMIZER_NAMES, SCHEDULER_NAMES, Settings, model_text
from .pacing import speed_label
from .widgets.footer import KeyFooter
from .widgets.lessons import LessonBox
from .widgets.loading import LoadingChart, LoadingPanel
from .widgets.notes import LogPane, SummaryLine, TooSmall
from .widgets.parameters import ParameterPanel
from .widgets.state import LiveState

# The chart and the code view draw a run (plotext, numpy, torch): before the run is open
# (the first frame) a ``LoadingChart`` stands in the chart's place, and they are mounted after.
if TYPE_CHECKING:
    from ..engine.run_log import LogLine
    from .widgets.chart import CostChart
    from .widgets.code import CodeView
    from .widgets.graph import GraphView

COMPACT_WIDTH = 100
COMPACT_HEIGHT = 30
TINY_WIDTH = 70
TINY_HEIGHT = 20
SMALLEST_FULL = (80, 24)  # the smallest size with the whole layout, compact


class RunScreen(Screen[None]):
    """The app's default screen. ``panes`` are composed by the app (so they are mounted before
    the app's own mount); the screen lays them out for the terminal's size (``-compact`` and
    ``-tiny`` classes) and hands out the widgets the app fills."""

    _summary = ""  # the summary line as last written

    @staticmethod
    def panes(settings: Settings, speed: int, ready: bool = True) -> ComposeResult:
        """The panes; not ``ready`` (no run yet), a ``LoadingPanel`` and a ``LoadingChart`` stand
        in for the panel, the chart and the code view (``show_run_panes`` mounts them)."""
        yield Header(show_clock=False, icon="∇")
        with Horizontal(id="body"):
            with Vertical(id="side"):
                if ready:
                    yield ParameterPanel(settings, speed, id="parameters")
                else:
                    yield LoadingPanel(settings, speed, id="parameters-loading")
                yield LessonBox(id="lesson")
            with Vertical(id="main"):
                yield TooSmall(id="too-small")
                yield SummaryLine(id="summary")
                yield LiveState(id="state")
                if ready:
                    yield from RunScreen.run_panes()
                else:
                    yield LoadingChart(id="chart-loading")
                yield LogPane(id="log")
        yield KeyFooter()

    @staticmethod
    def run_panes() -> ComposeResult:
        from .widgets.chart import CostChart
        from .widgets.code import CodeView
        from .widgets.graph import GraphView

        yield CostChart(id="chart")
        yield CodeView(id="code")
        yield GraphView(id="graph")

    async def show_run_panes(self, settings: Settings, speed: int) -> None:
        """The run is open: the panel, the chart and the code view take the loading boxes' places."""
        panel, chart = self.query_one(LoadingPanel), self.query_one(LoadingChart)
        await self.query_one("#side").mount(ParameterPanel(settings, speed, id="parameters"), before=panel)
        await self.query_one("#main").mount_all(self.run_panes(), before=chart)
        await panel.remove()
        await chart.remove()

    @cached_property
    def panel(self) -> ParameterPanel:
        return self.query_one(ParameterPanel)

    @cached_property
    def log_pane(self) -> LogPane:
        return self.query_one(LogPane)

    @cached_property
    def state_view(self) -> LiveState:
        return self.query_one(LiveState)

    @cached_property
    def chart(self) -> CostChart:
        from .widgets.chart import CostChart

        return self.query_one(CostChart)

    @cached_property
    def code_view(self) -> CodeView:
        from .widgets.code import CodeView

        return self.query_one(CodeView)

    @cached_property
    def graph_view(self) -> GraphView:
        from .widgets.graph import GraphView

        return self.query_one(GraphView)

    @cached_property
    def lesson_box(self) -> LessonBox:
        return self.query_one(LessonBox)

    def on_resize(self, event: events.Resize) -> None:
        self.fit_layout(event.size)

    @property
    def compact(self) -> bool:
        return self.has_class("-compact")

    def fit_layout(self, size: Size) -> None:
        width, height = size
        tiny = width < TINY_WIDTH or height < TINY_HEIGHT
        compact = width < COMPACT_WIDTH or height < COMPACT_HEIGHT
        self.set_class(compact, "-compact")
        self.set_class(tiny, "-tiny")
        footer = self.query_one(KeyFooter)
        footer.compact = compact
        footer.show_command_palette = not compact
        if tiny:
            self.query_one("#too-small", Static).update(
                f"{width}x{height} is too small for the panel and the chart: enlarge the terminal to "
                f"at least {SMALLEST_FULL[0]}x{SMALLEST_FULL[1]}. The keys still work (? lists them)."
            )

    def write_log(self, rewritten: bool, lines: list[LogLine]) -> None:
        """Write new log lines (after clearing the pane when undo took lines out)."""
        if rewritten:
            self.log_pane.clear()
        for line in lines:
            self.log_pane.add(Text(f"» {line.text}", style="cyan") if line.event else line.text)

    def show_summary(self, settings: Settings, speed: int) -> None:
        """On a small screen the parameter panel folds into this one line (s opens it)."""
        lesson = self.lesson_box.has_class("-shown")
        summary = summary_line(settings, speed, self.size.width - 2, PANEL_AND_LESSON if lesson else PANEL)
        if summary != self._summary:  # asked every frame; written only when it changes
            self._summary = summary
            self.query_one("#summary", Static).update(summary, layout=False)

    def toggle_panel(self) -> None:
        self.toggle_class("-panel")
        self.call_after_refresh(self.log_pane.rewrap)  # the log is narrower or wider now

    @property
    def showing_code(self) -> bool:
        return bool(self.code_view.display)

    def toggle_code(self) -> None:
        showing_code = not self.code_view.display
        self.code_view.display = showing_code
        self.graph_view.display = False
        self.chart.display = not showing_code

    @property
    def showing_graph(self) -> bool:
        return bool(self.graph_view.display)

    def toggle_graph(self) -> None:
        """The autograd graph in the chart's place (the code view goes too); again: the chart."""
        showing_graph = not self.graph_view.display
        self.graph_view.display = showing_graph
        self.code_view.display = False
        self.chart.display = not showing_graph


PANEL = "s: parameters"
PANEL_AND_LESSON = "s: the lesson's exercise, parameters"  # the lesson box is in the folded panel


def summary_line(settings: Settings, speed: int, width: int, opens: str = PANEL) -> str:
    """The settings in one line of at most ``width`` characters where it can be, ending with
    what ``s`` opens: the speed and the model's words are left out first, as the panel shows them."""
    parts = [
        settings.data,
        model_text(settings),
        f"{OPTIMIZER_NAMES[settings.optimizer]} lr {settings.learning_rate:g}",
        f"zero_grad {'on' if settings.zero_grad else 'off'}",
        speed_label(speed),
    ]
    if settings.loss != "mse":
        parts.insert(3, f"{LOSS_NAMES[settings.loss]} loss")
    if settings.standardize:
        parts.insert(3, "x standardized")
    if settings.batch_size is not None:
        parts.insert(3, f"batch {settings.batch_size}{' shuffled' if settings.shuffle else ''}")
    if settings.scheduler != "none":
        parts.insert(-1, SCHEDULER_NAMES[settings.scheduler])
    suffix = f" · {opens}"
    for leave_out in (speed_label(speed), model_text(settings)):
        line = " · ".join(parts) + suffix
        if len(line) <= width:
            return line
        parts.remove(leave_out)
    line = " · ".join(parts)
    if len(line) + len(suffix) > width:  # still too long: cut where it shows, never silently
        line = line[: max(width - len(suffix) - 1, 0)].rstrip(" ·") + "…"
    return line + suffix
