"""Start-up: `lrtui --help` and the app's first frame, each beside the floor it cannot beat.

Each figure is the best of a few launches of a fresh ``python`` from this checkout, taken in turn:

- ``lrtui --help``, ``lrtui lessons`` and ``lrtui run --help``, to their end, beside
  ``python -c pass``, the interpreter alone;
- the app's first frame, from launching ``python -m lrtui`` in a pseudo-terminal of 120x40
  until the header's text appears on it, beside ``import torch, textual, plotext``, and that
  with a first torch optimizer made (which imports torch._dynamo), each timed until it
  prints on a pseudo-terminal too.
"""

from __future__ import annotations

import os
import re
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # `python -m lrtui` runs this checkout's lrtui
SIZE = (120, 40)
FIRST_FRAME_TEXT = "space: run, ?: keys."  # the end of the app's START_HINT, in the log on any screen
# Escape sequences (CSI, OSC, charset and keypad switches), removed to read a terminal's text.
ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
)
# The text can be cut by a read, or by the escapes that colour it, so this much of the end of
# what was read is kept to be searched again with the next read.
KEEP = 4096


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def seconds_to_exit(argv: Sequence[str]) -> float:
    """The wall time of ``argv`` run to its end, its output discarded."""
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def seconds_to_text(
    argv: Sequence[str], text: str, size: tuple[int, int] = SIZE, timeout: float = 60.0
) -> float:
    """Seconds from launching ``argv`` on a new pseudo-terminal of ``size`` (columns, rows) until
    ``text`` appears on it; the process is then killed. TimeoutError if it never appears."""
    import fcntl
    import pty
    import termios

    wanted = text.encode()
    start = time.perf_counter()
    pid, terminal = pty.fork()
    if pid == 0:  # the child: set the window's size, then become argv
        try:
            os.chdir(ROOT)
            fcntl.ioctl(pty.STDOUT_FILENO, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
            os.execv(argv[0], list(argv))
        finally:
            os._exit(127)
    seen = b""
    try:
        while (left := start + timeout - time.perf_counter()) > 0:
            ready, _, _ = select.select([terminal], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(terminal, 65536)
            except OSError:  # the child closed the terminal (it ended)
                data = b""
            if not data:
                raise TimeoutError(f"{text!r} did not appear: {' '.join(argv)} ended first")
            seen += data
            if wanted in ESCAPES.sub(b"", seen):
                return time.perf_counter() - start
            seen = seen[-KEEP:]
        raise TimeoutError(f"{text!r} did not appear within {timeout:.0f} s of launching {' '.join(argv)}")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(terminal)


def best_seconds(measures: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """The best of ``rounds`` of each measure, taken in turn so that a change in the machine's
    load touches a figure and its floor alike."""
    best = dict.fromkeys(measures, float("inf"))
    for _ in range(rounds):
        for name, measure in measures.items():
            best[name] = min(best[name], measure())
    return best


# Commands that run nothing: they should answer about as fast as the interpreter starts.
QUICK_COMMANDS: tuple[tuple[str, ...], ...] = (("--help",), ("lessons",), ("run", "--help"))
IMPORT_FLOOR = "import torch, textual, plotext"
# A torch optimizer's first construction imports torch._dynamo (and sympy): the bare lesson
# loop pays this too, so it belongs to the floor of a process that trains.
OPTIMIZER_FLOOR = IMPORT_FLOOR + "; torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.01)"
# The floors are timed, as the first frame is, to their text on the terminal: a process that
# imported torch takes a while more to end, which no one waits for.
READY = "; print('ready')"


def line(name: str, seconds: float, floor_name: str, floor: float, target: str = "") -> str:
    return (
        f"{name:<38} {seconds:6.2f} s   beside {floor_name} {floor:5.2f} s"
        f"   ({seconds - floor:+.2f} s{'; target ' + target if target else ''})"
    )


def startup_benchmarks(rounds: int = 5) -> list[str]:
    quick = {
        " ".join(argv): partial(seconds_to_exit, python("-m", "lrtui", *argv)) for argv in QUICK_COMMANDS
    }
    best = best_seconds(
        {
            "python": partial(seconds_to_exit, python("-c", "pass")),
            **quick,
            "floor": partial(seconds_to_text, python("-c", IMPORT_FLOOR + READY), "ready"),
            "with optimizer": partial(seconds_to_text, python("-c", OPTIMIZER_FLOOR + READY), "ready"),
            "first frame": partial(seconds_to_text, python("-m", "lrtui"), FIRST_FRAME_TEXT),
        },
        rounds,
    )
    first_frame = best["first frame"]
    return [
        *(line(f"lrtui {name}", best[name], "python", best["python"], "<= 0.3 s") for name in quick),
        line(
            f"app first frame, {SIZE[0]}x{SIZE[1]} pty", first_frame, IMPORT_FLOOR, best["floor"], "<= 0.8 s"
        ),
        line("", first_frame, "and a first torch optimizer", best["with optimizer"]),
        f"(best of {rounds} launches each, in turn; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpu(s))",
    ]
