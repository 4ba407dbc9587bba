"""What the app tests share: a clock and a frame timer that only move when a test says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lrtui.engine import Settings
from lrtui.engine.race import Race

if TYPE_CHECKING:
    from lrtui.app.app import LrtuiApp
    from lrtui.app.opening import Opened, Opening
    from lrtui.engine.data_folder import DataFolder
    from lrtui.lessons import Lesson


class FakeClock:
    def __init__(self, start: float = 1000.0, tick: float = 0.0) -> None:
        self.now = start
        self.tick = tick  # added on every reading, so a full-speed frame ends

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


class ManualTimer:
    """Stands in for the app's interval timer: created paused, fired by the test."""

    def __init__(self, interval: float, callback: Callable[[], None]) -> None:
        self.interval = interval
        self.callback = callback
        self.active = False

    def pause(self) -> None:
        self.active = False

    def resume(self) -> None:
        self.active = True

    def fire(self) -> None:
        if self.active:
            self.callback()


def make_app(
    settings: Settings | None = None,
    speed: int = 10,
    clock: FakeClock | None = None,
    data_folder: DataFolder | None = None,
    lesson: Lesson | None = None,
    language: str = "en",
) -> LrtuiApp:
    from lrtui.app.app import LrtuiApp

    timers: list[ManualTimer] = []

    def factory(interval: float, callback: Callable[[], None]) -> ManualTimer:
        timer = ManualTimer(interval, callback)
        timers.append(timer)
        return timer

    app = LrtuiApp(
        Race.of(settings or Settings()),
        speed=speed,
        clock=clock or FakeClock(),
        timer_factory=factory,
        data_folder=data_folder,
        lesson=lesson,
        language=language,
    )
    app.timers = timers  # type: ignore[attr-defined]
    return app


class HeldOpener:
    """Opens the race as the app does, once the test lets it (``release``): until then the app
    shows its loading state."""

    def __init__(self) -> None:
        import threading

        self.released = threading.Event()

    def __call__(self, opening: Opening) -> Opened:
        from lrtui.app.opening import open_race

        if not self.released.wait(60):
            raise TimeoutError("the test never released the opening")
        return open_race(opening)

    async def release(self, app: LrtuiApp, pilot) -> None:
        """Let the race open, and wait until the app has taken it (and run the keys waiting)."""
        self.released.set()
        for _ in range(600):
            if app.ready and not app.waiting:
                break
            await pilot.pause(0.05)
        await pilot.pause()


def make_opening_app(opening: Opening, opener: HeldOpener, speed: int = 10, **options: Any) -> LrtuiApp:
    """The app as ``lrtui`` starts it: from an Opening, painting before the race is open."""
    from lrtui.app.app import LrtuiApp

    timers: list[ManualTimer] = []

    def factory(interval: float, callback: Callable[[], None]) -> ManualTimer:
        timer = ManualTimer(interval, callback)
        timers.append(timer)
        return timer

    app = LrtuiApp(opening, speed=speed, clock=FakeClock(), timer_factory=factory, opener=opener, **options)
    app.timers = timers  # type: ignore[attr-defined]
    return app


def log_text(app: LrtuiApp) -> str:
    """The log as text; a line the pane wrapped (at a space) is joined back together."""
    text = ""
    for line in app.run_screen.log_pane.lines:
        text += line.text if text.endswith(" ") or not text else "\n" + line.text
    return text


def logged(app: LrtuiApp) -> str:
    """The log's lines as the app keeps them, unwrapped: for lines holding a path, which the pane
    wraps wherever the (machine-dependent) path length puts the edge."""
    return "\n".join(line.text for line in app.run_log.lines)


async def settle(pilot) -> None:
    """Freeze what could differ between two runs (cursor blink), then let the screen catch up."""
    from textual.widgets import Input

    for widget in pilot.app.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


def shown_text(widget) -> str:
    """The plain text a Static widget is showing."""
    import io

    from rich.console import Console
    from rich.text import Text

    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(content if not isinstance(content, Text) else content.plain)
    return console.export_text()


async def files_read(pilot, quiet: int = 1, deadline: float = 120.0) -> None:
    """Wait until the app has read the files asked for (in threads) and applied what it read.

    A field left by a key asks for its file a few messages later (the panel's Changed bubbles
    up to the app), so with ``quiet`` > 1 the app must show no read for that many pauses in a
    row. The deadline is far above what a read takes: a busy machine only waits longer."""
    import time

    give_up = time.monotonic() + deadline
    calm = 0
    while calm < quiet:
        await pilot._wait_for_screen()  # what was queued is handled; the paint waits for the end
        if pilot.app.reading is None:
            calm += 1
            continue
        calm = 0
        while pilot.app.reading is not None:
            assert time.monotonic() < give_up, f"still reading {pilot.app.reading}"
            await pilot.pause(0.01)
    await pilot.pause()
