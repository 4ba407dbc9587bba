"""Running lrtui's commands in the test's own process, with what they print captured."""

from __future__ import annotations

import sys

import pytest

import lrtui.cli.commands


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``lrtui run ARGV`` in this process, writing to the (captured) sys.stdout and sys.stderr."""
    try:
        code = lrtui.cli.run(list(argv), sys.stdout, sys.stderr)
    except SystemExit as done:
        code = done.code
    out, err = capsys.readouterr()
    return code, out, err


def invoke_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``lrtui ARGV`` through ``main``, as the console script calls it."""
    try:
        code = lrtui.cli.main(list(argv))
    except SystemExit as done:
        code = done.code
    out, err = capsys.readouterr()
    return code, out, err
