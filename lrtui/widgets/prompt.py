"""A one-line question for a file path: enter answers, escape cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class PathPrompt(ModalScreen[str | None]):
    DEFAULT_CSS = """
    PathPrompt {
        align: center middle;
    }
    PathPrompt #prompt {
        width: 70%;
        max-width: 80;
        height: auto;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    PathPrompt .prompt-note {
        color: $text-muted;
    }
    """
    AUTO_FOCUS = "#prompt-path"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt-cancel")]

    def __init__(self, question: str, path: str) -> None:
        super().__init__()
        self.question = question
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Label(self.question)
            yield Input(self.path, id="prompt-path", select_on_focus=False)
            yield Label("enter: go · esc: cancel", classes="prompt-note")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._answer(event.value.strip() or None)

    def action_cancel(self) -> None:
        self._answer(None)

    def _answer(self, path: str | None) -> None:
        # A quick second enter is already queued when the first one dismisses the prompt.
        if self.is_current:
            self.dismiss(path)
