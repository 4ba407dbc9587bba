"""The app's start: the first frame at once, the run when torch has loaded.

Given an ``Opening``, the app paints the panel, the state (saying what is loading), a box in
the chart's place and the log with the first keys, before torch is imported; a thread then
opens the race (``opening.open_race``: torch, the data or the session file, the first
optimizer). A key that needs the run waits, in order, and runs once the race is open: the
state pane lists the keys waiting. Help, the panel (s) and quit work at once. What could not
be opened (``--data``, ``--load``, ``--compare``) is said in the log and a toast, and the
panel marks the field. The app (``LrtuiApp.on_ready``, ``on_run_opened``) does the steps;
this module holds what they share.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from textual.actions import parse
from textual.message import Message

from .controller import START_HINT
from .keys import KEYS
from .opening import Opened, Opening

__all__ = [
    "AT_ONCE",
    "KEY_OF",
    "SHOWN_WAITING",
    "START_HINT",
    "WAITING_ACTIONS",
    "RunOpened",
    "open_in_thread",
]

# The keys that work before the run is open; every other key waits for it.
AT_ONCE = frozenset({"help", "quit", "toggle_panel", "focus_app"})
WAITING_ACTIONS = frozenset(parse(binding.action)[1] for binding in KEYS) - AT_ONCE
KEY_OF = {binding.action: binding.key.split(",")[0] for binding in KEYS}
SHOWN_WAITING = 12  # the last keys waiting that the state pane lists


class RunOpened(Message):
    """Posted by the thread that opened the race: what it opened, or the error it met."""

    def __init__(self, opened: Opened | None, error: BaseException | None = None) -> None:
        super().__init__()
        self.opened = opened
        self.error = error


def open_in_thread(opener: Callable[[Opening], Opened], opening: Opening) -> Opened:
    """The race, and the modules of the panes that draw it (plotext, the charts), imported
    here so that the UI thread only mounts them."""
    opened = opener(opening)
    import_module("lrtui.app.widgets.chart")
    import_module("lrtui.app.widgets.code")
    return opened
