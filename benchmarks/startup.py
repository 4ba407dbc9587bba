"""Start-up: `lrtui --help` and the app's first frame, each beside the floor it cannot beat.

Each figure is the best of a few launches of a fresh ``python`` from this checkout, taken in turn:

- ``lrtui --help``, ``lrtui lessons`` and ``lrtui run --help``, to their end, beside
  ``python -c pass``, the interpreter alone;
- the app's first frame, from launching ``python -m lrtui`` in a pseudo-terminal of 120x40
  until a whole screen a learner can read is on it (the log's first keys, the state saying
  torch is loading, the footer's last key), and until the run is ready (the state's
  "paused"), beside ``import torch, textual, plotext``, and that with a first torch optimizer
  made (which imports torch._dynamo), each timed until it prints on a pseudo-terminal too.
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
# The first frame is all of these on the terminal: the log (above), the state pane and the
# footer's last key (the bottom row, written last); the run is ready when the state says paused.
FIRST_FRAME_TEXTS = (FIRST_FRAME_TEXT, "loading torch", "Quit")
READY_TEXTS = ("paused",)
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
    return seconds_to_texts(argv, [(text,)], size, timeout)[0]


def seconds_to_texts(
    argv: Sequence[str],
    milestones: Sequence[Sequence[str]],
    size: tuple[int, int] = SIZE,
    timeout: float = 60.0,
) -> list[float]:
    """For each milestone, the seconds from launching ``argv`` on a new pseudo-terminal of
    ``size`` (columns, rows) until every one of its texts has appeared on it, in one launch;
    the process is killed after the last. TimeoutError if one never comes."""
    import fcntl
    import pty
    import termios

    unseen = [{text.encode() for text in texts} for texts in milestones]
    reached: list[float] = []
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
                raise TimeoutError(f"{_waited(unseen, reached)} did not appear: {' '.join(argv)} ended first")
            seen += data
            plain = ESCAPES.sub(b"", seen)
            for texts in unseen:  # a later milestone's text may come early: it is kept as seen
                texts -= {wanted for wanted in texts if wanted in plain}
            now = time.perf_counter()
            while not unseen[len(reached)]:
                reached.append(now - start)
                if len(reached) == len(milestones):
                    return reached
            seen = seen[-KEEP:]
        raise TimeoutError(
            f"{_waited(unseen, reached)} did not appear within {timeout:.0f} s of launching {' '.join(argv)}"
        )
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(terminal)


def _waited(unseen: list[set[bytes]], reached: list[float]) -> str:
    return " and ".join(repr(text.decode()) for text in sorted(unseen[len(reached)]))


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
TEXTUAL_FLOOR = "import textual.app"  # all the first frame needs: it is painted before torch loads
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
    ready_times: list[float] = []

    def first_frame() -> float:
        """One launch of the app: its first frame, and (kept aside) when its run was ready."""
        painted, ready = seconds_to_texts(python("-m", "lrtui"), [FIRST_FRAME_TEXTS, READY_TEXTS])
        ready_times.append(ready)
        return painted

    best = best_seconds(
        {
            "python": partial(seconds_to_exit, python("-c", "pass")),
            **quick,
            "textual": partial(seconds_to_text, python("-c", TEXTUAL_FLOOR + READY), "ready"),
            "floor": partial(seconds_to_text, python("-c", IMPORT_FLOOR + READY), "ready"),
            "with optimizer": partial(seconds_to_text, python("-c", OPTIMIZER_FLOOR + READY), "ready"),
            "first frame": first_frame,
        },
        rounds,
    )
    size = f"{SIZE[0]}x{SIZE[1]} pty"
    return [
        *(line(f"lrtui {name}", best[name], "python", best["python"], "<= 0.3 s") for name in quick),
        line(f"app first frame, {size}", best["first frame"], TEXTUAL_FLOOR, best["textual"], "<= 0.8 s"),
        line("", best["first frame"], IMPORT_FLOOR, best["floor"]),
        line(f"app run ready (keys run), {size}", min(ready_times), IMPORT_FLOOR, best["floor"]),
        line("", min(ready_times), "and a first torch optimizer", best["with optimizer"]),
        f"{'app run ready against that floor':<38} {min(ready_times) / best['with optimizer']:6.2f}x"
        "   (target <= 1.12x)",
        f"(best of {rounds} launches each, in turn; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpu(s))",
    ]
