"""The app's start: the first frame at once, the run when torch has loaded.

Given an ``Opening``, the app paints the panel, the state (saying what is loading), a box in
the chart's place and the log with the first keys, before torch is imported; a thread then
opens the race (``opening.open_race``: torch, the data or the session file, the first
optimizer). A key that needs the run waits, in order, and runs once the race is open: the
state pane lists the keys waiting. Help, the panel (s) and quit work at once. What could not
be opened (``--data``, ``--load``, ``--compare``) is said in the log and a toast, and the
panel marks the field.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib import import_module
from typing import Any

from rich.text import Text
from textual.actions import parse
from textual.dom import DOMNode
from textual.message import Message

from ..engine.settings import OPTIMIZER_NAMES, model_text
from .actions import LessonActions
from .files import loaded_text
from .keys import KEYS
from .opening import Opened, Opening, open_race

# The first words the log shows, on every screen size (the first frame has painted them).
RUN_KEYS = "space: run, ?: keys."
START_HINT = f"n: step, {RUN_KEYS}"
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


class StartingApp(LessonActions):
    def __init__(self, *args: Any, opener: Callable[[Opening], Opened] = open_race, **kwargs: Any) -> None:
        """``opener`` opens the race in a thread (a test may hold it back)."""
        super().__init__(*args, **kwargs)
        self._opener = opener
        self.waiting: list[str] = []  # the actions of the keys pressed before the run was open

    def on_mount(self) -> None:
        self.start_frames()
        self.run_screen.fit_layout(self.size)
        if self.ready:
            self.open_run()
            return
        assert self.opening is not None
        self.run_screen.log_pane.write(
            Text(f"» {START_HINT} Keys pressed while torch loads run once it is ready.", style="cyan")
        )
        self.show_loading()

    def on_ready(self) -> None:
        """The first frame is on the terminal: torch may load now (a thread importing it would
        have slowed the first frame down, both needing the interpreter)."""
        if self.opening is not None and not self.ready:
            # A daemon thread, not a Textual worker: quitting while torch loads then ends the
            # process at once, instead of waiting for the import to finish.
            opening = self.opening
            threading.Thread(
                target=self._open, args=(opening,), name="lrtui: open the run", daemon=True
            ).start()

    def _open(self, opening: Opening) -> None:
        """In the thread: open the race, and hand it to the app (post_message is thread-safe)."""
        try:
            opened = open_in_thread(self._opener, opening)
        except BaseException as error:  # a bug: the app shows it as it would any other
            self.post_message(RunOpened(None, error))
        else:
            self.post_message(RunOpened(opened))

    def show_loading(self) -> None:
        assert self.opening is not None
        lines = [Text(f"loading {self.opening.loading_text()}… (a few seconds the first time)", style="bold")]
        if self.waiting:
            keys = " ".join(KEY_OF.get(action, action) for action in self.waiting[-SHOWN_WAITING:])
            more = "… " if len(self.waiting) > SHOWN_WAITING else ""
            lines.append(Text(f"keys waiting for it: {more}{keys}"))
        else:
            lines.append(Text("keys pressed now run as soon as it is ready", style="dim"))
        self.run_screen.state_view.show_loading(lines)
        self.run_screen.show_summary(self.opening.settings, self.pacer.speed)

    async def run_action(
        self,
        action: Any,
        default_namespace: DOMNode | None = None,
        namespaces: Any = None,
    ) -> bool:
        """Before the run is open, a key that needs it waits (in order) instead of running."""
        if not self.ready and isinstance(action, str) and parse(action)[1] in WAITING_ACTIONS:
            self.waiting.append(action)
            self.show_loading()
            return True
        return await super().run_action(action, default_namespace, namespaces)

    async def on_run_opened(self, message: RunOpened) -> None:
        if message.error is not None:
            raise message.error
        assert message.opened is not None
        await self.opened(message.opened)

    async def opened(self, opened: Opened) -> None:
        """The race is open: the chart takes its place, the log starts, what could not be
        opened is said, and the keys pressed meanwhile run."""
        self.begin(opened.race)
        self.session_path = opened.session_path
        screen = self.run_screen
        await screen.show_run_panes(self.leader.settings, self.pacer.speed)
        self.ready = True  # from now on every key works on the race
        screen.log_pane.clear()
        self.open_run()
        for problem in opened.problems:
            self.log_event(f"{problem.flag}: {problem.message}")
            self.notify(problem.message, title=f"{problem.flag} not opened", severity="error", timeout=10)
            if problem.field is not None:
                screen.panel.mark(problem.field, problem.message)
        waiting, self.waiting = self.waiting, []
        if waiting:
            keys = " ".join(KEY_OF.get(action, action) for action in waiting)
            self.log_event(f"running the keys pressed while torch loaded: {keys}")
        for action in waiting:
            await self.run_action(action)

    def open_run(self) -> None:
        """The log's first line, then the session, the lesson or the run the app opens on."""
        leader = self.leader
        settings, dataset = leader.settings, leader.dataset
        hint = START_HINT
        if settings.mini_batches:  # f is not in the footer: say it where the run is described
            hint = f"{leader.batches_per_epoch} batches an epoch. n: one batch, f: the rest of the epoch, {RUN_KEYS}"
        self.log_event(
            f"{dataset.name} ({dataset.size} points), {model_text(settings)}, "
            f"{OPTIMIZER_NAMES[settings.optimizer]} lr {settings.learning_rate:g}. {hint}"
        )
        if self.session_path is not None:
            self.start_over(leader, loaded_text(self.session_path, leader))
        elif self._lesson_to_start is not None:
            self.start_lesson(self._lesson_to_start)
        else:
            self.note_optimum()
            self.refresh_views()


def open_in_thread(opener: Callable[[Opening], Opened], opening: Opening) -> Opened:
    """The race, and the modules of the panes that draw it (plotext, the charts), imported
    here so that the UI thread only mounts them."""
    opened = opener(opening)
    import_module("lrtui.app.widgets.chart")
    import_module("lrtui.app.widgets.code")
    return opened
