"""A one-line question (a file path, a contender's changes): enter answers, escape cancels."""

from __future__ import annotations

import os
from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class PathPrompt(ModalScreen[str | None]):
    """Asks one question. The default answer starts selected, so typing replaces it and enter
    takes it. ``check(answer)`` returns why an answer cannot be used (the prompt stays open
    and says so) or None. With ``is_path``, the full path the answer names is shown, or what
    ``where(answer)`` says the answer names (a served app's download, a file in its folder)."""

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
    PathPrompt Label {
        width: 100%;  /* a long question wraps instead of being cut at the box's edge */
    }
    PathPrompt .prompt-note {
        color: $text-muted;
    }
    PathPrompt #prompt-error {
        color: $error;
        display: none;
    }
    PathPrompt #prompt-error.-shown {
        display: block;
    }
    """

    AUTO_FOCUS = "#prompt-path"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt-cancel")]

    def __init__(
        self,
        question: str,
        path: str,
        *,
        is_path: bool = True,
        check: Callable[[str], str | None] | None = None,
        where: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__()
        self.question = question
        self.path = path
        self.is_path = is_path
        self.check = check
        self.where = where or self._full_path

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Label(self.question)
            yield Input(self.path, id="prompt-path", select_on_focus=True)
            yield Label("", id="prompt-error")
            if self.is_path:
                yield Label(self.where(self.path), id="prompt-where", classes="prompt-note")
            yield Label("enter: go · esc: cancel", classes="prompt-note")

    @staticmethod
    def _full_path(text: str) -> str:
        return f"→ {os.path.abspath(os.path.expanduser(text.strip()))}" if text.strip() else ""

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.is_path:
            self.query_one("#prompt-where", Label).update(self.where(event.value))
        self.query_one("#prompt-error", Label).remove_class("-shown")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        answer = event.value.strip()
        problem = self.check(answer) if self.check is not None and answer else None
        if problem:
            error = self.query_one("#prompt-error", Label)
            error.update(problem)
            error.add_class("-shown")
            return
        self._answer(answer or None)

    def action_cancel(self) -> None:
        self._answer(None)

    def _answer(self, path: str | None) -> None:
        # A quick second enter is already queued when the first one dismisses the prompt.
        if self.is_current:
            self.dismiss(path)
