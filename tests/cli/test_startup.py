"""Start-up: help, the version, the lessons list and bad flags answer without importing torch.

torch takes about a second to import, so these check which modules a command loads, never
how long it takes (`python -m benchmarks startup` measures that).
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import lrtui.cli.commands
from benchmarks.startup import (
    FIRST_FRAME_TEXT,
    FIRST_FRAME_TEXTS,
    READY_TEXTS,
    best_seconds,
    line,
    python,
    seconds_to_text,
    seconds_to_texts,
)
from lrtui.engine.race import CONTENDER_KEYS

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "numpy", "plotext", "textual")

# Runs `lrtui ARGV` through main in a fresh interpreter and prints its exit code and the
# packages it imported.
LOADED = """
import json, sys
from lrtui.cli.commands import main
try:
    code = main(sys.argv[1:])
except SystemExit as done:
    code = done.code
packages = sorted({name.partition(".")[0] for name in sys.modules})
sys.__stderr__.write("\\n" + json.dumps({"code": code, "packages": packages}) + "\\n")
"""


def command_in_a_fresh_python(*argv: str) -> tuple[int, list[str]]:
    """The exit code of `lrtui ARGV` and the heavy packages it imported, in a new process."""
    result = subprocess.run(
        [sys.executable, "-c", LOADED, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    outcome = json.loads(result.stderr.strip().splitlines()[-1])
    return outcome["code"], sorted(set(outcome["packages"]) & set(HEAVY))


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--help"], 0),
        (["--version"], 0),
        (["lessons"], 0),
        (["lessons", "--lang", "ko"], 0),
        (["run", "--help"], 0),
        (["export-script", "--help"], 0),
        (["serve", "--help"], 0),
        (["run", "--lr", "abc"], 2),
        (["run", "--epochs", "-1"], 2),
        (["run", "--format", "xml"], 2),
        (["--lesson", "99"], 2),
        (["--lang", "xx"], 2),
        (["export-script", "--momentum", "0.9", "--optimizer", "adam"], 2),
        # the app's flags that can be checked without reading a file (or torch)
        (["--data", "no-such-points.csv"], 2),
        (["--data", "nosuchpreset"], 2),
        (["--load", "no-such-session.json"], 2),
        (["--compare", "colour=red"], 2),
        (["--load", "README.md", *["--compare", "lr=1"] * 4], 2),
    ],
)
def test_commands_that_run_nothing_do_not_import_torch(argv: list[str], code: int) -> None:
    assert command_in_a_fresh_python(*argv) == (code, [])


def test_python_m_lrtui_help_does_not_import_torch() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lrtui", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "usage: lrtui" in result.stdout
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "lrtui.cli.commands" in imported
    assert not {name.partition(".")[0] for name in imported} & set(HEAVY)


def test_a_run_still_imports_what_it_needs() -> None:
    """The check above can fail: a command that trains does load torch (and --plot, plotext)."""
    code, heavy = command_in_a_fresh_python("run", "--epochs", "2", "--plot")
    assert code == 0 and heavy == ["numpy", "plotext", "torch"]


@pytest.mark.parametrize("package", ["lrtui.engine", "lrtui.charts", "lrtui.lessons"])
def test_every_name_a_package_offers_is_the_one_its_module_holds(package: str) -> None:
    """The names are loaded on first use: each is the object its module (named in the package's
    own imports, which type checkers read) holds, and ``__all__`` lists exactly those."""
    module = importlib.import_module(package)
    tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    homes = {
        alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1
        for alias in node.names
    }
    assert set(homes) == set(module.__all__) <= set(dir(module))
    for name, home in homes.items():
        assert getattr(module, name) is getattr(importlib.import_module(f"{package}.{home}"), name), name
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018


def test_star_import_gives_every_engine_name() -> None:
    names: dict[str, object] = {}
    exec("from lrtui.engine import *", names)  # noqa: S102
    from lrtui.engine import DataError, EpochRecord, Settings, Simulation, load

    assert names["Settings"] is Settings and names["Simulation"] is Simulation
    assert names["DataError"] is DataError and names["EpochRecord"] is EpochRecord and names["load"] is load


def test_compare_help_names_every_contender_key(capsys: pytest.CaptureFixture[str]) -> None:
    """The help lists the keys from the settings registry without importing the race (torch)."""
    with pytest.raises(SystemExit):
        lrtui.cli.run(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "(keys: " + ", ".join(CONTENDER_KEYS) + ")" in help_text


# ------------------------------------------------------------------ the benchmark's measures
def test_the_pty_measure_sees_text_through_colour_escapes_on_a_120x40_terminal() -> None:
    size = "import os; size = os.get_terminal_size(); print(f'\\x1b[1m{size.columns}x\\x1b[0m{size.lines}')"
    assert seconds_to_text(python("-c", size), "120x40") > 0


def test_the_pty_measure_gives_up_when_the_text_never_comes() -> None:
    with pytest.raises(TimeoutError, match="'120x40' did not appear"):
        seconds_to_text(python("-c", "print('80x24')"), "120x40")


def test_the_app_paints_the_text_the_benchmark_waits_for() -> None:
    from lrtui.app.controller import START_HINT

    assert START_HINT.endswith(FIRST_FRAME_TEXT) and FIRST_FRAME_TEXT in FIRST_FRAME_TEXTS
    painted, ready = seconds_to_texts(python("-m", "lrtui"), [FIRST_FRAME_TEXTS, READY_TEXTS], timeout=120)
    assert 0 < painted < ready


def test_the_pty_measure_keeps_a_later_milestones_text_seen_early() -> None:
    shown = "import time; print('b c'); time.sleep(0.3); print('a')"
    first, second = seconds_to_texts(python("-c", shown), [("a",), ("b", "c")])
    assert first == second  # b and c came before a: the second milestone was reached with the first
    with pytest.raises(TimeoutError, match="'c' did not appear"):
        seconds_to_texts(python("-c", "print('a b')"), [("a",), ("b", "c")])


def test_a_startup_line_puts_the_figure_beside_its_floor() -> None:
    assert line("lrtui --help", 0.25, "python", 0.05, "<= 0.3 s") == (
        "lrtui --help                             0.25 s   beside python  0.05 s   (+0.20 s; target <= 0.3 s)"
    )
    assert line("", 1.5, "a floor", 1.75).endswith("beside a floor  1.75 s   (-0.25 s)")


def test_best_seconds_takes_each_measure_in_turn_and_keeps_its_best() -> None:
    taken: list[str] = []
    figures = {"a": iter([3.0, 1.0]), "b": iter([2.0, 4.0])}

    def measure(name: str) -> float:
        taken.append(name)
        return next(figures[name])

    best = best_seconds({"a": lambda: measure("a"), "b": lambda: measure("b")}, rounds=2)
    assert best == {"a": 1.0, "b": 2.0} and taken == ["a", "b", "a", "b"]
