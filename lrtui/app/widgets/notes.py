"""The run screen's plain panes: the log, the small screen's summary line and the note that
the terminal is too small. Each carries its look; the screen's stylesheet places them."""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.console import RenderableType
from textual import events
from textual.widgets import RichLog, Static

LOG_LINES = 5000  # the most lines the log pane keeps (the RunLog keeps its own)


class LogPane(RichLog):
    """The lessons' printed lines and the run's events, in a box."""

    DEFAULT_CSS = """
    LogPane {
        border: round $primary 50%;
        border-title-color: $text;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
        overflow-y: auto;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_lines=LOG_LINES, wrap=True, min_width=20, markup=False, highlight=False, **kwargs
        )
        self.border_title = "Log"
        # What was written, to wrap again at a new width (RichLog wraps a line once, as written).
        self._written: deque[RenderableType] = deque(maxlen=LOG_LINES)
        self._wrapped_at = 0

    def add(self, content: RenderableType) -> None:
        """Write a line, and keep it to wrap again at a new width."""
        self._written.append(content)
        self.write(content)

    def clear(self) -> LogPane:
        self._written.clear()
        super().clear()
        return self

    def on_resize(self, event: events.Resize) -> None:
        self.rewrap()

    def rewrap(self) -> None:
        """At a new width (the panel opened with s, a resized terminal), every line wrapped anew."""
        width = self.size.width
        if self._wrapped_at and width != self._wrapped_at and self._written:
            written = list(self._written)
            super().clear()
            for content in written:
                super().write(content)
        self._wrapped_at = width


class SummaryLine(Static):
    """A small screen's one line for the folded parameter panel."""

    DEFAULT_CSS = """
    SummaryLine {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """


class TooSmall(Static):
    """What a terminal too small for the chart is told."""

    DEFAULT_CSS = """
    TooSmall {
        height: auto;
        color: $warning;
        padding: 0 1;
    }
    """
