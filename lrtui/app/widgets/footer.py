"""The footer: Textual's, rebuilt only when the keys it shows change."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

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
    appear or go."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[ShownKeys, bool] | None = None

    def bindings_changed(self, screen: Screen) -> None:
        if not (self.is_attached and screen is self.screen and screen.app.app_focus):
            super().bindings_changed(screen)  # Textual's rules: not now
            return
        shown = (shown_keys(screen), self.show_command_palette)
        if shown == self._shown:
            return
        self._shown = shown
        super().bindings_changed(screen)
