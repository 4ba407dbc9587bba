"""One process with torch, Textual and the app already imported that forks an app per learner.

Starting ``python -m lrtui`` costs every learner seconds of CPU and ~230 MB of private memory,
most of it torch's import. A fork of a process that has done the imports shares those pages
copy-on-write, so a learner costs only what their own app writes to. ``lrtui serve`` starts
one fork server and asks it for an app over a Unix socket, handing it the app's pipes; it gets
back a pidfd, so it can tell when the app is gone and kill it without racing a reused pid.
Linux only (pidfd); elsewhere ``lrtui serve`` starts ``python -m lrtui`` per learner.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("lrtui.serve")

# What textual-serve puts in the app's environment (textual_serve.app_service), set once in the
# fork server because Textual reads these when it is imported.
SERVED_ENVIRONMENT = {
    "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
    "TEXTUAL_FPS": "60",
    "TEXTUAL_COLOR_SYSTEM": "truecolor",
    "TERM_PROGRAM": "textual",
}
READY = b"ready"
PR_SET_PDEATHSIG = 1
STARTUP_SECONDS = 120  # importing torch on a busy machine


class ForkServerError(RuntimeError):
    """The fork server could not start or could not fork an app."""


class ForkServerGone(ForkServerError):
    """The fork server is not there to ask (it died, or was never started)."""


def app_environment(hidden: tuple[str, ...] = ()) -> dict[str, str]:
    """The server's environment as a served app gets it, without the hidden variables."""
    environment = {name: value for name, value in os.environ.items() if name not in hidden}
    environment.update(SERVED_ENVIRONMENT)
    return environment


def available() -> bool:
    return sys.platform == "linux" and hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")


@dataclass
class ForkedApp:
    """A learner's app, as textual-serve's AppService reads a process: its three pipes."""

    stdin: asyncio.StreamWriter
    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader
    pidfd: int

    def kill(self) -> None:
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass  # already gone

    async def wait(self) -> None:
        """Until the app's process has ended."""
        loop = asyncio.get_running_loop()
        ended = loop.create_future()

        def on_exit() -> None:
            if not ended.done():
                ended.set_result(None)

        loop.add_reader(self.pidfd, on_exit)
        try:
            await ended
        finally:
            loop.remove_reader(self.pidfd)

    def close(self) -> None:
        os.close(self.pidfd)


class ForkServer:
    """The server's end: starts the fork server and asks it for apps."""

    def __init__(self, app_argv: list[str], hidden: tuple[str, ...] = ()) -> None:
        self.app_argv = app_argv
        self.hidden = hidden  # environment variables the apps must not see
        self._socket: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._restarting: asyncio.Lock | None = None

    def start(self) -> None:
        """Start the fork server and wait until it has imported the app (seconds)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        package_root = str(Path(__file__).resolve().parent.parent)
        environment = app_environment(self.hidden)
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [package_root, os.environ.get("PYTHONPATH")])
        )
        with theirs:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import sys; from lrtui.serve.fork_child import main; main(sys.argv[1:])",
                    str(theirs.fileno()),
                    json.dumps(self.app_argv),
                ],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                env=environment,
            )
        ours.settimeout(STARTUP_SECONDS)
        try:
            ready = ours.recv(64)
        except OSError as error:
            ours.close()
            raise ForkServerError(f"the fork server did not start: {error}") from None
        if ready != READY:
            ours.close()
            raise ForkServerError(f"the fork server did not start (exit code {self._process.wait()})")
        ours.settimeout(None)
        self._socket = ours

    def stop(self) -> None:
        """Close the socket; the fork server exits when it reads the end of it."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def _fork(self, columns: int, rows: int, fds: list[int]) -> int:
        request = json.dumps({"columns": columns, "rows": rows}).encode()
        with self._lock:  # one request and its answer at a time
            if self._socket is None:
                raise ForkServerGone("the fork server is not running")
            try:
                socket.send_fds(self._socket, [request], fds)
                answer, pidfds, _flags, _address = socket.recv_fds(self._socket, 1024, 1)
            except OSError as error:
                raise ForkServerGone(f"the fork server is gone: {error}") from None
        if not answer:
            raise ForkServerGone("the fork server is gone")
        if answer != b"ok" or len(pidfds) != 1:
            for fd in pidfds:
                os.close(fd)
            raise ForkServerError(f"the fork server could not fork an app: {answer.decode(errors='replace')}")
        return pidfds[0]

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def fork_app(self, columns: int, rows: int) -> ForkedApp:
        """A new app on a terminal of this size. If the fork server has died, start another
        (its apps died with it) and try once more."""
        asked = self._socket
        try:
            return await self._fork_app(columns, rows)
        except ForkServerGone:
            if self._restarting is None:
                self._restarting = asyncio.Lock()
            async with self._restarting:
                if self._socket is asked:  # not already restarted for another learner
                    log.warning("the fork server has gone; starting another")
                    loop = asyncio.get_running_loop()
                    await loop.run_in_executor(None, self.restart)
            return await self._fork_app(columns, rows)

    def restart(self) -> None:
        with self._lock:
            self.stop()
            self.start()

    async def _fork_app(self, columns: int, rows: int) -> ForkedApp:
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        theirs = [stdin_read, stdout_write, stderr_write]
        ours = [stdin_write, stdout_read, stderr_read]
        loop = asyncio.get_running_loop()
        try:
            pidfd = await loop.run_in_executor(None, self._fork, columns, rows, theirs)
        except BaseException:
            for fd in ours:
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        stdout = await _reader(loop, stdout_read)
        stderr = await _reader(loop, stderr_read)
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), os.fdopen(stdin_write, "wb", 0)
        )
        stdin = asyncio.StreamWriter(transport, protocol, None, loop)
        return ForkedApp(stdin, stdout, stderr, pidfd)


async def _reader(loop: asyncio.AbstractEventLoop, fd: int) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", 0))
    return reader
