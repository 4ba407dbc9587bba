"""The footer: Textual's, rebuilt only when the keys it shows change, and drawn whether or not
the app has the terminal's focus."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

from ..textual_internals import mark_footer_ready

ShownKeys = tuple[tuple[str, str, str, bool, bool, str], ...]


def shown_keys(screen: Screen) -> ShownKeys:
    """What the footer would show for ``screen``: each active binding's key, action, label,
    whether it shows and whether it works now."""
    return tuple(
        (binding.key, binding.action, binding.description, binding.show, enabled, tooltip)
        for _node, binding, enabled, tooltip in screen.active_bindings.values()
    )


class KeyFooter(Footer):
    """Textual rebuilds its footer (every key a new widget, each styled afresh) whenever the
    focus moves. Moving from one field of the panel to the next leaves the keys as they were,
    so this footer is rebuilt only when they change, or when the command palette's key is to
    appear or go.

    Textual's footer also stands still while the app is blurred; a served app starts blurred and
    a browser's page may never say it has focus, which left the key bar empty until a click, or
    showing the keys of a prompt that had closed. This one follows the keys all the same (the
    keys a blurred app shows are the ones that work once the learner is back)."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[ShownKeys, bool] | None = None

    def bindings_changed(self, screen: Screen) -> None:
        mark_footer_ready(self)
        if not (self.is_attached and screen is self.screen):
            return
        shown = (shown_keys(screen), self.show_command_palette)
        if shown == self._shown:
            return
        self._shown = shown
        self.call_after_refresh(self.recompose)
