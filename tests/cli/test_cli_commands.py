"""The command line's edges: `lrtui --help` names every command, and a file flag that can never be
written is one line naming the flag, exit 2, before anything runs (issue 26)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from cli_support import invoke_main

from lrtui.cli.parsers import COMMANDS


def test_help_lists_every_command_with_a_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke_main(capsys, "--help")
    assert code == 0
    assert out.startswith("usage: lrtui [COMMAND] [flags]\n")
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("  lrtui ")]
    assert listed == ["run", "describe", "export-script", "lessons", "serve"]
    for name, _ in COMMANDS:  # each is a command main knows, with a --help of its own
        code, out, _ = invoke_main(capsys, name, "--help")
        assert code == 0 and out.startswith(f"usage: lrtui {name}")


def dangling(tmp_path: Path) -> str:
    link = tmp_path / "s.json"
    os.symlink("/nonexistent/dir/s.json", link)
    return str(link)


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["run", "--save", "/nonexistent/dir/s.json"], "--save"),
        (["export-script", "-o", "/nonexistent/dir/x.py"], "--output"),
        (["run", "--save", "DANGLING"], "--save"),
    ],
    ids=["save-in-no-folder", "script-in-no-folder", "save-through-a-dangling-symlink"],
)
def test_a_file_flag_into_a_missing_folder_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], flag: str
) -> None:
    argv = [dangling(tmp_path) if word == "DANGLING" else word for word in argv]
    code, out, err = invoke_main(capsys, *argv, "--epochs", "3")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"error: argument {flag}: cannot write" in err and "no such folder '/nonexistent" in err


def test_a_finished_run_plots_no_next_step_and_no_not_yet(capsys: pytest.CaptureFixture[str]) -> None:
    """Epochs 0..2000 end before the minimum the curvature predicts (epoch 2052)."""
    from cli_support import invoke

    from lrtui.charts import render_for_terminal
    from lrtui.engine.race import Race
    from lrtui.engine.settings import Settings

    code, out, _ = invoke(capsys, "--epochs", "2000", "--log-every", "1000", "--plot")
    assert code == 0
    assert "next step" not in out and "not yet" not in out and "→" not in out
    assert "predicted 2052, not by 2000" in out
    going = Race.of(Settings(epochs=2000), [])
    going.step(1000)  # halfway, the same chart keys its next step and has not got there yet
    chart = render_for_terminal(going, 80, 24, color=False)
    assert "next step" in chart and "predicted 2052, run not yet" in chart


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_the_rate_and_the_time_left() -> None:
    from lrtui.cli.output import Progress

    now = [0.0]
    terminal = FakeTerminal()
    bar = Progress(terminal, 1001, clock=lambda: now[0])
    bar.update(1)
    now[0] = 1.0
    bar.update(501)
    bar.update(502)  # within a tenth of a second: not drawn
    now[0] = 2.0
    bar.update(801)
    drawn = re.sub(r"\x1b\[[0-9;]*m", "", terminal.getvalue())  # colours off
    lines = drawn.split("\r")[1:]
    assert len(lines) == 3 and all(line.endswith("\x1b[K") for line in lines)
    assert lines[1].startswith("epoch 500/1000 ") and " 50% " in lines[1] and "500 epochs/s" in lines[1]
    assert "epoch 800/1000" in lines[2] and "400 epochs/s" in lines[2]
    assert lines[2].endswith(
        "0:00:02 left 0:00:01\x1b[K"
    )  # elapsed, then 200 epochs at 400 a second, rounded up
    bar.clear()
    assert terminal.getvalue().endswith("\r\033[K")
