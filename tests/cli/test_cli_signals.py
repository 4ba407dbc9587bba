"""SIGTERM and SIGHUP quit the app as `q` does (issue 27): in a real terminal (a pty), the app
writes the sequences that leave the alternate screen and turn mouse tracking off, then exits
with 128 + the signal's number. Before, SIGTERM left the terminal in the alternate screen."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import lrtui

ALTERNATE_SCREEN_ON, ALTERNATE_SCREEN_OFF = b"\x1b[?1049h", b"\x1b[?1049l"
MOUSE_OFF = (b"\x1b[?1000l", b"\x1b[?1003l", b"\x1b[?1006l")


class AppInATerminal:
    """`python -m lrtui` with a pty of 120x40 for its terminal; everything it writes is kept."""

    def __init__(self, cwd: Path) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(Path(lrtui.__file__).parents[1])}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lrtui"], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
            start_new_session=True,  # the pty is its controlling terminal
        )  # fmt: skip
        os.close(slave)
        self.written = b""

    def read(self, seconds: float) -> bool:
        """Keep what the app writes for ``seconds``; False once the terminal is closed."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if select.select([self.master], [], [], left)[0]:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # EIO: the app is gone and the pty closed
                    return False
                if not data:
                    return False
                self.written += data
        return True

    def wait_for(self, text: bytes, seconds: float = 60) -> None:
        end = time.monotonic() + seconds
        while text not in self.written and time.monotonic() < end and self.read(0.1):
            pass
        assert text in self.written, self.written[-500:]

    def finish(self, seconds: float = 30) -> int:
        end = time.monotonic() + seconds
        while time.monotonic() < end and self.read(0.1):
            pass
        os.close(self.master)
        return self.process.wait(timeout=10)


def test_sigterm_and_sighup_quit_the_app_and_restore_the_terminal(tmp_path: Path) -> None:
    apps = {signum: AppInATerminal(tmp_path) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        for app in apps.values():  # both start at once: one wait for the two imports
            app.wait_for(ALTERNATE_SCREEN_ON)
            app.wait_for(b"epoch")  # the first frame is painted
        for signum, app in apps.items():
            shown = len(app.written)
            app.process.send_signal(signum)
            assert app.finish() == 128 + signum
            after = app.written[shown:]
            assert ALTERNATE_SCREEN_OFF in after and all(off in after for off in MOUSE_OFF), after[-300:]
            assert b"Traceback" not in app.written
    finally:
        for app in apps.values():
            if app.process.poll() is None:
                app.process.kill()
