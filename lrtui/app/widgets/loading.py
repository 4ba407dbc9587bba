"""What stands in the panel's and the chart's places while torch loads: the first frame
shows them (a few light lines, drawn at once), then the parameter panel and the chart take over."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ...engine.settings import Settings, field_text
from .parameters import OPTION_ROWS, ROWS, Row, shown_options


class LoadingChart(Static):
    """A box the chart's size and look, saying what is being loaded."""

    DEFAULT_CSS = """
    LoadingChart {
        border: round $primary 50%;
        border-title-color: $text;
        content-align: center middle;
        color: $text-muted;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("loading torch…", **kwargs)
        self.border_title = "Chart"


class LoadingPanel(Static):
    """The parameter panel's rows as text: the settings the run will open with, to read
    (the panel's fields, which take a while to build, come when the run is open)."""

    DEFAULT_CSS = """
    LoadingPanel {
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, settings: Settings, speed: int, **kwargs: Any) -> None:
        super().__init__(rows_text(settings, speed), **kwargs)
        self.border_title = "Parameters"
        self.border_subtitle = "loading…"


def shown_value(row: Row, value: Any) -> str:
    """A row's value as its field shows it: a choice's label, on/off, or the text."""
    for label, choice in row.options:
        if choice == value:
            return label
    return field_text(row.name, value) if row.name != "speed" else str(value)


def rows_text(settings: Settings, speed: int) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(width=9)
    table.add_column()
    taken = shown_options(settings)
    for row in ROWS:
        if row.name in OPTION_ROWS and row.name not in taken:
            continue  # the panel shows the chosen optimizer's options only
        value = speed if row.name == "speed" else getattr(settings, row.name)
        shown = shown_value(row, value)
        table.add_row(row.label, Text(shown) if shown else Text(row.placeholder or "default", style="dim"))
    return table
