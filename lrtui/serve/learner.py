"""One learner's app as the server sees it: its pipes, its page, and the spares started ahead.

textual-serve's AppService speaks the pipe protocol to the app and writes what it draws to the
page's websocket. Here an app can start before its page exists (a spare): what it draws is held
and handed to the page that takes it, so the page shows at once, whatever the size; a browser
of another size gets a full redraw from the resize it sends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from textual_serve.download_manager import DownloadManager

from .forkserver import ForkServerError
from .textual_serve_internals import AppProcess, ServedApp

log = logging.getLogger("lrtui.serve")

END_SECONDS = 2.0  # an app is gone, and its place free, this long after its page closed
QUIT_SECONDS = 1.5  # an app that has not quit this long after it was asked is killed
# What a page may type: a burst, then a steady rate (a learner's fastest typing and mouse moves
# are far below it); the rest is dropped. Unbounded, a page's flood of keys kept its app busy
# for minutes and its event queue grew to gigabytes.
INPUT_BYTES_PER_SECOND = 2048
INPUT_BURST_BYTES = 16 << 10
MOST_PENDING_BYTES = 32 << 10  # an app this far behind reading its input gets no more
DRAWN_BYTES = 1000  # more output than the terminal set-up: the app has drawn its first frame
MOST_HELD_BYTES = 4 << 20  # a spare that draws this much before a page takes it is replaced
SPARE_SIZE = (80, 24)  # the size textual-serve assumes when a browser gives none
SPARE_START_SECONDS = 120.0


@dataclass
class Subprocess:
    """``python -m lrtui`` per learner, where there is no fork server (not Linux)."""

    process: asyncio.subprocess.Process
    stdin: asyncio.StreamWriter = field(init=False)
    stdout: asyncio.StreamReader = field(init=False)
    stderr: asyncio.StreamReader = field(init=False)

    def __post_init__(self) -> None:
        assert self.process.stdin and self.process.stdout and self.process.stderr
        self.stdin, self.stdout, self.stderr = self.process.stdin, self.process.stdout, self.process.stderr

    def kill(self) -> None:
        try:
            self.process.kill()
        except ProcessLookupError:
            pass

    async def wait(self) -> object:
        return await self.process.wait()

    def close(self) -> None:
        pass


StartApp = Callable[[int, int], Awaitable[AppProcess]]


class KeyBudget:
    """How much a page may still send its app (a token bucket): ``burst`` bytes at once,
    refilled at ``rate`` bytes a second."""

    def __init__(
        self,
        rate: float = INPUT_BYTES_PER_SECOND,
        burst: float = INPUT_BURST_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.left = burst
        self.at = clock()
        self.dropped = 0  # bytes

    def allows(self, size: int) -> bool:
        now = self.clock()
        self.left = min(self.burst, self.left + (now - self.at) * self.rate)
        self.at = now
        if size > self.left:
            self.dropped += size
            return False
        self.left -= size
        return True


class LearnerApp(ServedApp):
    """An app whose output goes to its page, or is held until a page takes it."""

    def __init__(self, start: StartApp, download_manager: DownloadManager) -> None:
        super().__init__(self._write_bytes, self._write_str, self._close_page, download_manager)
        self._start = start
        self.process: AppProcess | None = None
        self.page: web.WebSocketResponse | None = None
        self.size = (0, 0)
        self._held: list[bytes | str] = []
        self.held_bytes = 0
        self.drawn = asyncio.Event()
        self.budget = KeyBudget()

    async def open_process(self, width: int, height: int) -> AppProcess:
        self.size = (width, height)
        self.process = await self._start(width, height)
        return self.process

    @property
    def running(self) -> asyncio.Task[None] | None:
        """Reads the app's output until the app ends."""
        return self.reading

    @property
    def alive(self) -> bool:
        return self.reading is not None and not self.reading.done()

    async def _write_bytes(self, data: bytes) -> None:
        if self.page is not None:
            await self.page.send_bytes(data)
            return
        self._held.append(data)
        self.held_bytes += len(data)
        if self.held_bytes >= DRAWN_BYTES:
            self.drawn.set()

    async def _write_str(self, data: str) -> None:
        if self.page is not None:
            await self.page.send_str(data)
        else:
            self._held.append(data)

    async def _close_page(self) -> None:
        if self.page is not None:
            await self.page.close()

    async def show_on(self, page: web.WebSocketResponse, width: int, height: int) -> None:
        """From now on the app draws on this page: first what it has drawn so far, then at the
        page's size."""
        while self._held:
            held = self._held.pop(0)
            if isinstance(held, bytes):
                await page.send_bytes(held)
            else:
                await page.send_str(held)
        self.page = page  # no await since the last check: nothing held is skipped
        self.drawn.set()  # a spare taken while it started stops being waited for
        if (width, height) != self.size:
            self.size = (width, height)
            await self.set_terminal_size(width, height)

    async def set_terminal_size(self, width: int, height: int) -> None:
        self.size = (width, height)
        await super().set_terminal_size(width, height)

    def takes(self, size: int) -> bool:
        """Whether a message of ``size`` bytes from the page goes to the app: within the page's
        budget, and the app not so far behind that writing to it would wait."""
        if self.process is None or self.stdin.transport.get_write_buffer_size() > MOST_PENDING_BYTES:
            self.budget.dropped += size
            return False
        return self.budget.allows(size)

    async def end(self) -> None:
        """Ask the app to quit; kill it if it has not within QUIT_SECONDS. Whatever its pipes
        hold, it is gone within END_SECONDS."""
        await self.cancel_downloads()
        if self.process is None:
            return
        started = time.monotonic()
        try:
            await asyncio.wait_for(self._quit(self.process), QUIT_SECONDS)
        except (TimeoutError, OSError):
            self.process.kill()
            await self.process.wait()
        if self.reading is not None:
            left = max(END_SECONDS - (time.monotonic() - started), 0.1)
            try:
                await asyncio.wait_for(self.reading, left)
            except TimeoutError:
                pass  # the page is not reading what the app drew; the app itself is gone
            except (OSError, RuntimeError) as error:  # its page went away mid-write
                log.debug("the app's output ended with %r", error)
            self.forget_reading()
        self.process.close()
        self.process = None

    async def _quit(self, process: AppProcess) -> None:
        # The quit message waits behind whatever the app has not read yet.
        await self.send_meta({"type": "quit"})
        await process.wait()


class Spares:
    """Apps started before anyone asked, so the next learners' pages show at once.

    One spare starts at a time, and none while a learner waits for an app of their own: the
    spares use the CPU the learners leave over. ``room()`` says how many more apps the class
    may have, so spares never take a place a learner could have.
    """

    def __init__(self, count: int, new_app: Callable[[], LearnerApp], room: Callable[[], int]) -> None:
        self.count = count
        self._new_app = new_app
        self._room = room
        self.ready: list[LearnerApp] = []
        self.starting: LearnerApp | None = None
        self._wanted = asyncio.Event()
        self._waiting = 0
        self._nobody_waiting = asyncio.Event()
        self._nobody_waiting.set()
        self._task: asyncio.Task[None] | None = None
        self._ending: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if self.count:
            self._task = asyncio.create_task(self._keep())

    def take(self) -> LearnerApp | None:
        """A started app, or None if there is none (start one, inside ``waiting()``)."""
        self._wanted.set()
        if not self.ready and self.starting is not None and self.starting.alive:
            app, self.starting = self.starting, None  # still drawing, but ahead of a new one
            return app
        while self.ready:
            app = self.ready.pop(0)
            if app.alive and app.held_bytes < MOST_HELD_BYTES:
                return app
            ending = asyncio.create_task(app.end())
            self._ending.add(ending)
            ending.add_done_callback(self._ending.discard)
        return None

    def changed(self) -> None:
        """A place was freed: maybe a spare can start."""
        self._wanted.set()

    def waiting(self) -> _Waiting:
        return _Waiting(self)

    async def _keep(self) -> None:
        while True:
            self._wanted.clear()
            while len(self.ready) < min(self.count, self._room()):
                await self._nobody_waiting.wait()
                app = self.starting = self._new_app()
                try:
                    await app.start(*SPARE_SIZE)
                    await asyncio.wait_for(app.drawn.wait(), SPARE_START_SECONDS)
                except (ForkServerError, OSError, TimeoutError) as error:
                    log.warning("could not start a spare app: %s", error)
                    if self.starting is app:  # else a learner took it, and ends it
                        self.starting = None
                        await app.end()
                    break  # try again when a learner next comes or goes
                if self.starting is app:
                    self.starting = None
                    if len(self.ready) < self._room():
                        self.ready.append(app)
                    else:  # a learner took the last place while it started
                        await app.end()
            await self._wanted.wait()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        ready, self.ready = self.ready, []
        if self.starting is not None:
            ready.append(self.starting)
            self.starting = None
        await asyncio.gather(*(app.end() for app in ready), *self._ending)


class _Waiting:
    """While a learner waits for a new app, spares do not start."""

    def __init__(self, spares: Spares) -> None:
        self.spares = spares

    def __enter__(self) -> None:
        self.spares._waiting += 1
        self.spares._nobody_waiting.clear()

    def __exit__(self, *_exc: Any) -> None:
        self.spares._waiting -= 1
        if not self.spares._waiting:
            self.spares._nobody_waiting.set()
