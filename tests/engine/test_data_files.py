"""Data files and flags that used to hang, run out of memory or mislead: a pipe or a device as
--data, files past the documented size limits, x at a small scale taken for constant, and
--momentum given to an optimizer that has none."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_support import invoke
from pipe_support import pipe_with_a_writer

import lrtui
from lrtui.engine import DataError, Settings, SettingsError, Simulation
from lrtui.engine import data as data_module
from lrtui.engine.data import from_tensors, load_csv
from lrtui.engine.race import contender_settings
from lrtui.engine.surface import CostSurface


# --------------------------------------------------------------------- not a file
def test_a_named_pipe_as_data_is_refused_without_waiting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A writer stands by: if the loader opened the pipe for reading it would get a CSV, not hang."""
    with pipe_with_a_writer(tmp_path / "points.csv", b"x,y\n1,2\n") as pipe:
        with pytest.raises(DataError, match="not a regular file"):
            load_csv(str(pipe))
        code, out, err = invoke(capsys, "--data", str(pipe), "--epochs", "0")
    assert code == 2 and out == "" and err.count("\n") == 1 and "argument --data:" in err


def test_dev_zero_is_refused_at_once() -> None:
    """In a process whose memory is capped, so a loader that read it could not take the machine down."""

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    done = subprocess.run(
        [sys.executable, "-m", "lrtui", "run", "--data", "/dev/zero", "--epochs", "0"],
        env={**os.environ, "PYTHONPATH": str(Path(lrtui.__file__).resolve().parents[1])},
        preexec_fn=cap_memory,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-500:]
    assert done.stderr.count("\n") == 1 and "argument --data: /dev/zero: not a regular file" in done.stderr


# ---------------------------------------------------------------------- size limits
def rows(count: int) -> str:
    return "x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(count))


@pytest.mark.parametrize("blank_line", [False, True], ids=["quick read", "careful read"])
def test_the_row_limit_takes_exactly_that_many_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, blank_line: bool
) -> None:
    monkeypatch.setattr(data_module, "MAX_CSV_ROWS", 5)
    path = tmp_path / "points.csv"
    path.write_text(rows(5) + ("\n" if blank_line else ""))
    assert load_csv(str(path)).size == 5
    path.write_text(rows(6) + ("\n" if blank_line else ""))
    with pytest.raises(DataError, match="more than 5 data rows, lrtui's limit for a CSV file"):
        load_csv(str(path))


def test_the_byte_limit_is_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_module, "MAX_CSV_BYTES", 2**20)
    path = tmp_path / "points.csv"
    path.write_text(rows(10) + " " * 2**20)
    with pytest.raises(DataError, match="over lrtui's limit of 1 MB for a CSV file"):
        load_csv(str(path))


def test_running_out_of_memory_is_a_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_memory(values):
        raise MemoryError

    monkeypatch.setattr(data_module, "_tensor", no_memory)
    path = tmp_path / "points.csv"
    path.write_text(rows(3))
    with pytest.raises(DataError, match="not enough memory to load it"):
        load_csv(str(path))


def test_the_documented_limits() -> None:
    """README's troubleshooting table states these numbers."""
    readme = (Path(lrtui.__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert data_module.MAX_CSV_ROWS == 2_000_000 and "2,000,000 data rows" in readme
    assert data_module.MAX_CSV_BYTES == 100 * 2**20 and "100 MB" in readme


def test_a_csv_with_a_byte_order_mark_still_loads_on_the_careful_read(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_bytes(b"\xef\xbb\xbfx,y\n1,2\n\n2,4\n")  # the blank line takes the careful read
    dataset = load_csv(str(path))
    assert torch.equal(dataset.x_train.flatten(), torch.tensor([1.0, 2.0]))


# ------------------------------------------------------------------ x at any scale
@pytest.mark.parametrize("scale", [1e-30, 1e-7, 1e-3, 1.0, 1e5, 1e15])
def test_x_at_any_scale_has_the_optimum_numpy_finds(scale: float) -> None:
    generator = torch.Generator().manual_seed(3)
    x = (torch.rand(50, generator=generator) + 0.5) * scale
    y = 2.5 + 4 * x / scale + torch.randn(50, generator=generator) * 0.1
    dataset = from_tensors("t", x, y)
    optimum = CostSurface(dataset.sums).optimum
    assert optimum.unique, optimum.reason
    w, b = np.polyfit(
        dataset.x_train.double().flatten().numpy(), dataset.y_train.double().flatten().numpy(), 1
    )
    assert optimum.w == pytest.approx(w, rel=1e-9) and optimum.b == pytest.approx(b, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("value", [1e-7, 3.3, -2.0e20, 0.1])
@pytest.mark.parametrize("count", [1, 3, 100_000])
def test_equal_x_at_any_scale_have_no_single_optimum(value: float, count: int) -> None:
    x = torch.full((count,), value)
    y = torch.arange(count, dtype=torch.float32)
    optimum = CostSurface(from_tensors("t", x, y).sums).optimum
    assert np.ptp(x.numpy()) == 0
    assert not optimum.unique and optimum.reason.startswith("all x are equal")


def test_a_run_on_x_around_1e_minus_7_says_nothing_about_equal_x(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text("x,y\n1e-7,1\n2e-7,2\n3e-7,3\n")
    code, _, err = invoke(capsys, "--data", str(path), "--epochs", "3")
    assert code == 0 and "all x are equal" not in err
    assert Simulation(Settings(data=str(path))).surface.optimum.unique


# ------------------------------------------------------------------------- momentum
@pytest.mark.parametrize("optimizer", ["adam", "adagrad"])
def test_momentum_with_an_optimizer_without_it_exits_2_naming_the_flag(
    capsys: pytest.CaptureFixture[str], optimizer: str
) -> None:
    code, out, err = invoke(capsys, "--optimizer", optimizer, "--momentum", "0.9", "--epochs", "0")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"argument --momentum: {optimizer} has no momentum; it applies to sgd and rmsprop" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--optimizer", "adam", "--momentum", "0"],
        ["--optimizer", "rmsprop", "--momentum", "0.5"],
        ["--momentum", "0.9"],
    ],
)
def test_momentum_where_it_applies_or_zero_still_runs(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, _, err = invoke(capsys, *argv, "--epochs", "2")
    assert code == 0, err


def test_a_contender_asking_momentum_of_adam_is_refused() -> None:
    with pytest.raises(SettingsError, match="momentum: adam has no momentum"):
        contender_settings(Settings(), "optimizer=adam momentum=0.9")
    with pytest.raises(SettingsError, match="momentum: adagrad has no momentum"):
        contender_settings(Settings(optimizer="adagrad"), "momentum=0.5")
    # momentum the contender inherits from an SGD leader is not its request: Adam just has none
    assert contender_settings(Settings(momentum=0.9), "optimizer=adam").optimizer == "adam"


def test_compare_with_momentum_for_adam_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "--epochs", "0", "--compare", "optimizer=adam momentum=0.9")
    assert (
        code == 2
        and out == ""
        and err.count("\n") == 1
        and "argument --compare:" in err
        and "momentum" in err
    )
