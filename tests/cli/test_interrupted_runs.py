"""`lrtui run` stopped by ctrl+c, SIGTERM, SIGHUP or by its reader going away (`| head`): it stops
between two epochs, saves what was done when --save was given, and says so on stderr."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import plain_torch as pt
import pytest

import lrtui
import lrtui.cli.commands
from lrtui.engine import Simulation
from lrtui.engine.history import History
from lrtui.engine.run import Run
from lrtui.engine.session import load_session

SIGNALS = {"sigterm": signal.SIGTERM, "sighup": signal.SIGHUP}
STOPPED = re.compile(r"stopped after epoch (\d+) of 0\.\.(\d+)")


def pair(run: Run) -> tuple[Simulation, History]:
    """A loaded run as the simulation and the history it holds."""
    return run.simulation, run.history


class Reader(io.StringIO):
    """Standard output whose reader acts after ``lines`` lines: ctrl+c (twice), SIGTERM, SIGHUP,
    or closing the pipe."""

    def __init__(self, lines: int, act: str) -> None:
        super().__init__()
        self.lines = lines
        self.act = act
        self.acted = False

    def write(self, text: str) -> int:
        if self.acted and self.act == "close":
            raise BrokenPipeError(32, "Broken pipe")
        written = super().write(text)
        if not self.acted and self.getvalue().count("\n") >= self.lines:
            self.acted = True
            for _ in range(2 if self.act == "twice" else 1):
                if self.act != "close":
                    os.kill(os.getpid(), SIGNALS.get(self.act, signal.SIGINT))
        return written


def stopped_run(tmp_path: Path, reader: Reader, *argv: str) -> tuple[int, str]:
    err = io.StringIO()
    try:
        lrtui.cli.run(["--epochs", "100000", "--log-every", "1", *argv], reader, err)
    except SystemExit as stopped:
        return stopped.code, err.getvalue()  # type: ignore[return-value]
    except KeyboardInterrupt:
        pytest.fail("ctrl+c escaped lrtui run with nothing said")
    pytest.fail(f"the run did not stop: {err.getvalue()}")


@pytest.mark.parametrize(
    ("act", "code", "why"),
    [
        ("ctrl+c", 130, "interrupted"),
        ("sigterm", 143, "terminated (SIGTERM)"),
        ("sighup", 129, "the terminal hung up (SIGHUP)"),
        ("close", 141, "output was closed"),
    ],
)
def test_a_stopped_run_saves_what_was_done_and_says_where(
    tmp_path: Path, act: str, code: int, why: str
) -> None:
    reader = Reader(5, act)
    exit_code, err = stopped_run(tmp_path, reader, "--save", "s.json")
    assert exit_code == code and err.count("\n") == 1 and why in err, err
    [(last, total)] = STOPPED.findall(err)
    assert total == "100000" and "saved the session" in err and "s.json" in err
    simulation, history = pair(load_session(tmp_path / "s.json"))
    done = int(last) + 1
    assert simulation.epoch == done and history.epochs[-1] == int(last)
    plain = pt.raw_loop(*pt.line_data(), done + 9)
    shown = reader.getvalue().splitlines()
    assert len(shown) >= 5 and shown == pt.log_lines(plain[:done], 100000, 1)[: len(shown)]
    assert [r.cost for r in list(history)] == [p["cost"] for p in plain[:done]]
    assert [r.cost for r in simulation.run(10)] == [p["cost"] for p in plain[done:]]


def test_a_stopped_run_without_save_says_nothing_was_saved(tmp_path: Path) -> None:
    code, err = stopped_run(tmp_path, Reader(3, "ctrl+c"))
    assert code == 130 and STOPPED.search(err) and "nothing was saved (--save FILE keeps a run)" in err
    assert list(tmp_path.iterdir()) == []


def test_a_second_ctrl_c_stops_at_once_and_saves_nothing_half_done(tmp_path: Path) -> None:
    code, err = stopped_run(tmp_path, Reader(3, "twice"), "--save", "s.json")
    assert code == 130 and "stopped inside epoch" in err and "not saved" in err, err
    assert not (tmp_path / "s.json").exists()


def test_ctrl_c_after_a_run_restores_the_usual_handlers(tmp_path: Path) -> None:
    before = [signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)]
    stopped_run(tmp_path, Reader(3, "ctrl+c"))
    assert [signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)] == before


# --------------------------------------------------------------- a real process
def lrtui_process(tmp_path: Path, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lrtui", "run", *argv],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(lrtui.__file__).resolve().parents[1])},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_head_closing_the_pipe_stops_saves_and_says_so(tmp_path: Path) -> None:
    process = lrtui_process(tmp_path, "--epochs", "10000000", "--log-every", "1", "--save", "s.json")
    assert process.stdout is not None and process.stdout.readline().startswith("Epoch")
    process.stdout.close()  # what head does once it has its lines
    _, err = process.communicate(timeout=120)
    assert process.returncode == 141, err
    assert err.count("\n") == 1 and "output was closed" in err and "saved the session" in err, err
    [(last, _)] = STOPPED.findall(err)
    assert load_session(tmp_path / "s.json").simulation.epoch == int(last) + 1


@pytest.mark.parametrize(
    ("signum", "why"), [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated (SIGTERM)")]
)
def test_ctrl_c_or_sigterm_stops_saves_and_says_so(tmp_path: Path, signum: int, why: str) -> None:
    process = lrtui_process(tmp_path, "--epochs", "10000000", "--log-every", "1000", "--save", "s.json")
    assert process.stdout is not None and process.stdout.readline().startswith("Epoch")
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signum, err
    assert err.count("\n") == 1 and why in err and "saved the session" in err, err
    [(last, _)] = STOPPED.findall(err)
    assert load_session(tmp_path / "s.json").simulation.epoch == int(last) + 1
