"""``lrtui run``: the lessons' log, machine-readable output, exit codes and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plain_torch as pt
import pytest
from cli_support import invoke, invoke_main

import lrtui.cli.commands

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT.parent / "shared" / "reference" / "scenarios.md"
COLUMNS = ["epoch", "w", "b", "cost", "grad_w", "grad_b", "w_next", "b_next"]

# The public golden table of scenarios.md, kept here too so the test runs without that file.
GOLDEN_COPY = """\
Epoch    0/1000 W: 0.093, b: 0.040 Cost: 4.666667
Epoch  100/1000 W: 0.873, b: 0.289 Cost: 0.012043
Epoch  200/1000 W: 0.900, b: 0.227 Cost: 0.007442
Epoch  300/1000 W: 0.921, b: 0.179 Cost: 0.004598
Epoch  400/1000 W: 0.938, b: 0.140 Cost: 0.002842
Epoch  500/1000 W: 0.951, b: 0.110 Cost: 0.001756
Epoch  600/1000 W: 0.962, b: 0.087 Cost: 0.001085
Epoch  700/1000 W: 0.970, b: 0.068 Cost: 0.000670
Epoch  800/1000 W: 0.976, b: 0.054 Cost: 0.000414
Epoch  900/1000 W: 0.981, b: 0.042 Cost: 0.000256
Epoch 1000/1000 W: 0.985, b: 0.033 Cost: 0.000158
"""
GOLDEN_ARGS = ["--epochs", "1000", "--log-every", "100"]


def golden_table() -> str:
    if not SCENARIOS.exists():
        return GOLDEN_COPY
    text = SCENARIOS.read_text(encoding="utf-8")
    section = text.split("## The public golden table", 1)[1]
    block = section.split("```", 2)[1]
    lines = [line for line in block.splitlines() if line.startswith("Epoch")]
    assert len(lines) == 11
    return "\n".join(lines) + "\n"


def test_golden_table_in_scenarios_matches_copy() -> None:
    assert golden_table() == GOLDEN_COPY


def test_golden_table_is_what_plain_torch_prints() -> None:
    lines = pt.log_lines(pt.raw_loop(*pt.line_data(), 1000), 1000)
    assert "\n".join(lines) + "\n" == golden_table()


# ------------------------------------------------------------------- golden table


def test_golden_table_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, *GOLDEN_ARGS)
    assert (code, err) == (0, "")
    assert out == golden_table()


def test_golden_table_through_main_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke_main(capsys, "run", *GOLDEN_ARGS)
    assert (code, err) == (0, "")
    assert out == golden_table()


@pytest.fixture(scope="module")
def golden_processes() -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Both subprocess runs, started together: each spends most of its time importing torch."""
    commands = {
        "python -m lrtui": [sys.executable, "-m", "lrtui", "run", *GOLDEN_ARGS],
        "console script": [str(Path(sys.executable).parent / "lrtui"), "run", *GOLDEN_ARGS],
    }
    processes = {
        name: subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, command in commands.items()
    }
    yield processes
    for process in processes.values():
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("how", ["python -m lrtui", "console script"])
def test_golden_table_subprocess(golden_processes: dict[str, subprocess.Popen[str]], how: str) -> None:
    out, err = golden_processes[how].communicate(timeout=120)
    assert golden_processes[how].returncode == 0, err
    assert err == ""
    assert out == golden_table()


# ------------------------------------------------------------------------ text


def test_no_bias_text_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "--no-bias", "--lr", "0.15", "--epochs", "10", "--log-every", "1")
    assert (code, err) == (0, "")
    plain = pt.raw_loop(*pt.line_data(), 10, lr=0.15, bias=False)
    assert out.splitlines() == pt.log_lines(plain, 10, every=1)
    assert re.fullmatch(r"Epoch {4}0/10 W: \d\.\d{3}, Cost: \d+\.\d{6}", out.splitlines()[0])


def test_linear_sum_text_matches_plain(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "--data",
        "double",
        "--model",
        "linear",
        "--loss-reduction",
        "sum",
        "--epochs",
        "500",
        "--seed",
        "1",
    ]
    code, out, err = invoke(capsys, *argv)
    assert (code, err) == (0, "")
    plain = pt.linear_loop(*pt.double_data(), 500, seed=1, reduction="sum")
    assert out.splitlines() == pt.log_lines(plain, 500)


def test_options_reach_the_optimizer(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--data", "noisy", "--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--lr", "0.01"]
    argv += ["--init-w", "10", "--init-b", "-5", "--no-zero-grad", "--epochs", "40", "--log-every", "5"]
    code, out, err = invoke(capsys, *argv)
    assert (code, err) == (0, "")
    plain = pt.raw_loop(
        *pt.noisy_data(),
        40,
        lr=0.01,
        options={"momentum": 0.9, "nesterov": True},
        init_w=10.0,
        init_b=-5.0,
        zero_grad=False,
    )
    assert out.splitlines() == pt.log_lines(plain, 40, every=5)


def test_epochs_zero_prints_epoch_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "--epochs", "0")
    assert code == 0
    assert out == "Epoch    0/0 W: 0.093, b: 0.040 Cost: 4.666667\n"


# ----------------------------------------------------------------- jsonl and csv


def plain_rows(bias: bool, epochs: int, every: int) -> list[dict[str, Any]]:
    return [r for r in pt.raw_loop(*pt.double_data(), epochs, bias=bias, lr=0.02) if r["epoch"] % every == 0]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_jsonl_rows_equal_plain_loop(capsys: pytest.CaptureFixture[str], bias: bool) -> None:
    argv = ["--data", "double", "--lr", "0.02", "--epochs", "30", "--log-every", "7", "--format", "jsonl"]
    code, out, err = invoke(capsys, *argv, *([] if bias else ["--no-bias"]))
    assert (code, err) == (0, "")
    rows = [json.loads(line) for line in out.splitlines()]
    for row in rows:
        assert list(row) == COLUMNS
    assert rows == plain_rows(bias, 30, 7)
    if not bias:
        assert all(row["b"] is None and row["grad_b"] is None and row["b_next"] is None for row in rows)
        assert all('"b": null' in line for line in out.splitlines())


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_csv_rows_equal_plain_loop(capsys: pytest.CaptureFixture[str], bias: bool) -> None:
    argv = ["--data", "double", "--lr", "0.02", "--epochs", "30", "--log-every", "7", "--format", "csv"]
    code, out, err = invoke(capsys, *argv, *([] if bias else ["--no-bias"]))
    assert (code, err) == (0, "")
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == COLUMNS
    expected = plain_rows(bias, 30, 7)
    assert len(table) - 1 == len(expected)
    for cells, row in zip(table[1:], expected, strict=True):
        assert int(cells[0]) == row["epoch"]
        for column, cell in zip(COLUMNS[1:], cells[1:], strict=True):
            assert (None if cell == "" else float(cell)) == row[column], column


def test_jsonl_divergence_writes_nulls_not_nan(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "--lr", "1", "--format", "jsonl")
    assert code == 3
    last = json.loads(out.splitlines()[-1])
    assert last["epoch"] == first_diverging_epoch()
    assert None in (last["cost"], last["grad_w"], last["w_next"])
    assert "NaN" not in out and "Infinity" not in out


# ---------------------------------------------------------------------- bad input

BAD_INPUT = [
    (["--lr", "-1"], "--lr"),
    (["--lr", "0"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "1e309"], "--lr"),
    (["--lr", "abc"], "--lr"),
    (["--lr", ""], "--lr"),
    (["--lr", "0." + "0" * 50 + "1"], "--lr"),
    (["--lr"], "--lr"),
    (["--epochs", "-1"], "--epochs"),
    (["--epochs", "2.5"], "--epochs"),
    (["--data", "nope"], "--data"),
    (["--data", "missing.csv"], "--data"),
    (["--momentum", "1.5"], "--momentum"),
    (["--momentum", "1"], "--momentum"),
    (["--nesterov"], "--nesterov"),
    (["--nesterov", "--momentum", "0.9", "--optimizer", "adam"], "--nesterov"),
    (["--seed", "-3"], "--seed"),
    (["--log-every", "0"], "--log-every"),
    (["--model", "foo"], "--model"),
    (["--optimizer", "foo"], "--optimizer"),
    (["--loss-reduction", "foo"], "--loss-reduction"),
    (["--init-w", "nan"], "--init-w"),
    (["--format", "xml"], "--format"),
    (["--bogus"], "--bogus"),
]


def assert_one_line_error(code: int, out: str, err: str, flag: str) -> None:
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert flag in err


@pytest.mark.parametrize(("argv", "flag"), BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], flag: str
) -> None:
    assert_one_line_error(*invoke_main(capsys, "run", *argv), flag)


def test_initial_value_beyond_float32_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(*invoke_main(capsys, "run", "--init-w", "1e39"), "--init-w")


def test_missing_csv_names_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"
    code, out, err = invoke_main(capsys, "run", "--data", str(path))
    assert_one_line_error(code, out, err, "--data")
    assert str(path) in err and "no such file" in err


def test_malformed_csv_names_line_and_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\n2,4\n3,six\n", encoding="utf-8")
    code, out, err = invoke_main(capsys, "run", "--data", str(path))
    assert_one_line_error(code, out, err, "--data")
    assert "line 4, column 2" in err and "'six'" in err


def test_csv_data_runs_like_plain_torch(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("x,y\n1,1\n2,2\n3,3\n", encoding="utf-8")
    code, out, err = invoke(capsys, "--data", str(path), *GOLDEN_ARGS)
    assert (code, err) == (0, "")
    assert out == golden_table()


def test_bad_input_subprocess_has_no_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lrtui", "run", "--lr", "abc"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_line_error(result.returncode, result.stdout, result.stderr, "--lr")


# --------------------------------------------------------------------- divergence


def first_diverging_epoch() -> int:
    for record in pt.raw_loop(*pt.line_data(), 1000, lr=1.0):
        values = [record[key] for key in ("cost", "grad_w", "grad_b", "w_next", "b_next")]
        if not all(math.isfinite(value) for value in values):
            return record["epoch"]
    raise AssertionError("plain torch did not diverge")


def test_divergence_exits_3_with_epoch_and_stability_limit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "--lr", "1")
    assert code == 3
    epoch = first_diverging_epoch()
    plain = pt.raw_loop(*pt.line_data(), epoch, lr=1.0)
    assert out.splitlines() == pt.log_lines([plain[0], plain[epoch]], 1000, every=1)
    assert out.splitlines()[-1].startswith(f"Epoch {epoch:4d}/1000 W: ")
    # The Hessian of the mean squared error on x = 1, 2, 3 is (2/3)[[14, 6], [6, 3]].
    largest = (2 / 3) * ((14 + 3) / 2 + math.hypot((14 - 3) / 2, 6))
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"epoch {epoch}" in err
    assert f"{2 / largest:.4g}" in err


# ----------------------------------------------------------------------- progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "--epochs", "300", "--log-every", "100")
    assert code == 0
    assert err == ""
    assert len(out.splitlines()) == 4


def test_progress_bar_on_a_terminal_leaves_stdout_unchanged() -> None:
    plain_out, plain_err = io.StringIO(), io.StringIO()
    assert lrtui.cli.run(GOLDEN_ARGS, plain_out, plain_err) == 0
    assert plain_err.getvalue() == ""

    out, terminal = io.StringIO(), FakeTerminal()
    assert lrtui.cli.run(GOLDEN_ARGS, out, terminal) == 0
    assert out.getvalue() == plain_out.getvalue() == golden_table()
    drawn = terminal.getvalue()
    assert "epoch" in drawn and "\r" in drawn
    assert drawn.endswith("\r\033[K")


def test_plot_draws_the_cost_per_epoch_and_the_surface_after_the_table(capsys) -> None:
    from lrtui.cli.commands import run

    assert run(["--epochs", "50", "--log-every", "25", "--plot"]) == 0
    out = capsys.readouterr().out
    table, charts = out.split("Epoch   50/50", 1)
    assert "Epoch    0/50" in table
    assert "cost per epoch (log scale)" in charts and "cost J(W, b)" in charts
    assert "\x1b[" not in charts  # no colour codes when not a terminal


def test_plot_without_bias_draws_the_curve(capsys) -> None:
    from lrtui.cli.commands import run

    assert run(["--no-bias", "--lr", "0.15", "--epochs", "10", "--plot"]) == 0
    assert "cost J(W)" in capsys.readouterr().out


def test_save_writes_a_session_the_app_can_load(tmp_path, capsys) -> None:
    from lrtui.cli.commands import run
    from lrtui.engine.session import load_session

    path = tmp_path / "run.json"
    assert run(["--epochs", "30", "--save", str(path)]) == 0
    run = load_session(path)
    assert run.epoch == 31 and len(run.history) == 31


def test_load_refuses_settings_flags_and_bad_files(tmp_path, capsys) -> None:
    from lrtui.cli.commands import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--load", str(tmp_path / "missing.json")])
    assert exit_info.value.code == 2
    assert "argument --load" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--load", "x.json", "--lr", "0.1"])
    assert exit_info.value.code == 2
    assert "drop --lr" in capsys.readouterr().err


def test_export_script_prints_or_writes_the_script(tmp_path, capsys) -> None:
    from lrtui.cli.commands import main

    assert main(["export-script", "--no-bias"]) == 0
    assert "hypothesis = x_train * W\n" in capsys.readouterr().out
    path = tmp_path / "train.py"
    assert main(["export-script", "--optimizer", "adam", "-o", str(path)]) == 0
    assert "optim.Adam([W, b], lr=0.01)" in path.read_text()
    with pytest.raises(SystemExit) as exit_info:
        main(["export-script", "--lr", "-2"])
    assert exit_info.value.code == 2
