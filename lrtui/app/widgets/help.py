"""The help screen: every key and one line on what it does."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def keys_table(bindings: list[tuple[Binding, str]]) -> Table:
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold")
    table.add_column("key", style="bold cyan", no_wrap=True)
    table.add_column("does")
    for binding, explanation in bindings:
        keys = " / ".join(key_name(key) for key in binding.key.split(","))
        table.add_row(keys, explanation)
    return table


KEY_NAMES = {
    "space": "space",
    "right": "→",
    "left": "←",
    "plus": "+",
    "minus": "-",
    "question_mark": "?",
    "escape": "esc",
    "ctrl+n": "ctrl+n",
    "ctrl+p": "ctrl+p",
}


def key_name(key: str) -> str:
    key = key.strip()
    return KEY_NAMES.get(key, key)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen #help {
        width: 90%;
        max-width: 100;
        height: auto;
        max-height: 90%;
        border: round $primary;
        border-title-color: $text;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen .help-note {
        margin-top: 1;
        color: $text-muted;
    }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close help", id="help-close"),
    ]

    def __init__(self, bindings: list[tuple[Binding, str]]) -> None:
        super().__init__()
        self._keys = bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(keys_table(self._keys))
            yield Static(
                "Type in a field and press enter (or leave it) to apply; esc hands the keys back to "
                "the app. ctrl+p opens the command palette. Press esc or ? to close this help.",
                classes="help-note",
            )

    def on_mount(self) -> None:
        box = self.query_one("#help")
        box.border_title = "Keys"
        box.border_subtitle = "↑↓ scroll · esc: close"  # at 80x24 the note saying so is below the fold
        box.focus()  # so that the arrows and page keys scroll it
