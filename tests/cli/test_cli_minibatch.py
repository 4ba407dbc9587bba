"""``lrtui run`` with mini-batches and schedules (issue 13): the lessons' batch line, a row per
optimizer step with its batch and lr, the flags' errors, and races of batch sizes, each
compared with the plain DataLoader loop."""

from __future__ import annotations

import csv
import io
import json

import plain_torch as pt
import pytest
from cli_support import invoke

COLUMNS = [*pt.FIELDS, "batch", "learning_rate"]


def plain_noisy(epochs: int, **options: object) -> list[dict[str, object]]:
    x, y = pt.noisy_data()
    return pt.batch_loop(x, y, epochs, **options)  # type: ignore[arg-type]


def test_text_prints_the_lessons_batch_line_for_every_batch_of_a_logged_epoch(capsys) -> None:
    code, out, _ = invoke(
        capsys, "--data", "noisy", "--batch-size", "32", "--shuffle", "--epochs", "4", "--log-every", "2"
    )
    assert code == 0
    expected = [
        "Epoch {:4d}/{} Batch {}/{} Cost: {:.6f}".format(r["epoch"], 4, r["batch"], 4, r["cost"])
        for r in plain_noisy(4, batch_size=32, shuffle=True)
        if r["epoch"] % 2 == 0
    ]
    assert out.splitlines() == expected
    assert len(expected) == 12 and out.splitlines()[3].endswith(f"Batch 4/4 Cost: {expected[3].split()[-1]}")


@pytest.mark.parametrize("output", ["csv", "jsonl"])
def test_rows_are_optimizer_steps_with_batch_and_lr(capsys, output: str) -> None:
    argv = [
        "--data",
        "noisy",
        "--batch-size",
        "40",
        "--scheduler",
        "step",
        "--step-size",
        "1",
        "--gamma",
        "0.5",
    ]
    code, out, _ = invoke(capsys, *argv, "--epochs", "2", "--log-every", "1", "--format", output)
    assert code == 0
    expected = plain_noisy(2, batch_size=40, scheduler="step", schedule={"step_size": 1, "gamma": 0.5})
    if output == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert list(rows[0]) == COLUMNS
        got = [
            {k: float(v) if k not in ("epoch", "batch") else int(v) for k, v in row.items()} for row in rows
        ]
    else:
        got = [json.loads(line) for line in out.splitlines()]
    assert got == expected and [r["learning_rate"] for r in got][::3] == [0.01, 0.005, 0.0025]


def test_a_full_batch_schedule_has_an_empty_batch_column(capsys) -> None:
    code, out, _ = invoke(
        capsys,
        "--scheduler",
        "exponential",
        "--gamma",
        "0.5",
        "--epochs",
        "2",
        "--log-every",
        "1",
        "--format",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["batch"] for r in rows] == ["", "", ""]
    assert [float(r["learning_rate"]) for r in rows] == [0.01, 0.005, 0.0025]


def test_without_batches_or_a_schedule_the_columns_are_as_before(capsys) -> None:
    _, out, _ = invoke(capsys, "--epochs", "1", "--format", "csv")
    assert out.splitlines()[0] == ",".join(pt.FIELDS)


@pytest.mark.parametrize(
    ("argv", "flag", "why"),
    [
        (["--batch-size", "0"], "--batch-size", "between 1"),
        (["--batch-size", "ten"], "--batch-size", "whole number"),
        (["--shuffle"], "--shuffle", "needs a batch size"),
        (["--step-size", "3"], "--step-size", "needs scheduler step"),
        (["--gamma", "0.5"], "--gamma", "needs scheduler step or exponential"),
        (["--scheduler", "step", "--t-max", "3"], "--t-max", "needs scheduler cosine"),
        (["--scheduler", "linear"], "--scheduler", "one of none, step, exponential, cosine"),
        (["--scheduler", "exponential", "--gamma", "0"], "--gamma", "above 0"),
        (["--scheduler", "step", "--step-size", "0"], "--step-size", "between 1"),
        (["--scheduler", "exponential", "--gamma", "-0.5"], "--gamma", "above 0 and at most 1"),
        (["--scheduler", "step", "--gamma", "1.5"], "--gamma", "above 0 and at most 1"),
        (["--scheduler", "exponential", "--gamma", "nan"], "--gamma", "finite"),
        (["--scheduler", "cosine", "--t-max", "0"], "--t-max", "between 1"),
        (["--scheduler", "none", "--gamma", "0.5"], "--gamma", "needs scheduler step or exponential"),
    ],
)
def test_bad_loop_flags_exit_2_naming_the_flag(capsys, argv: list[str], flag: str, why: str) -> None:
    code, out, err = invoke(capsys, *argv)
    assert code == 2 and not out
    assert f"argument {flag}:" in err and why in err and len(err.splitlines()) == 1


def test_compare_races_batch_sizes_each_as_its_plain_loop(capsys) -> None:
    argv = ["--data", "noisy", "--batch-size", "50", "--epochs", "2", "--log-every", "1", "--format", "jsonl"]
    compare = ["--compare", "batch-size=100 shuffle=on", "--compare", "scheduler=cosine t-max=2"]
    code, out, _ = invoke(capsys, *argv, *compare)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    by_letter: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_letter.setdefault(row.pop("contender"), []).append(row)
        row.pop("description")
    assert by_letter["A"] == plain_noisy(2, batch_size=50)
    assert by_letter["B"] == plain_noisy(2, batch_size=100, shuffle=True)
    assert by_letter["C"] == plain_noisy(2, batch_size=50, scheduler="cosine", schedule={"T_max": 2})


def test_a_race_of_batch_sizes_is_printed_epoch_by_epoch(capsys) -> None:
    """Each epoch of every contender (all its batches) before the next epoch of any, A to C."""
    argv = ["--data", "noisy", "--epochs", "2", "--log-every", "1"]
    code, out, _ = invoke(capsys, *argv, "--compare", "batch-size=50", "--compare", "batch-size=25")
    assert code == 0
    rows = [line.split() for line in out.splitlines() if line.startswith("Epoch")]
    order = [(int(row[1].split("/")[0]), row[2], row[4] if row[3] == "Batch" else "1/1") for row in rows]
    expected = [
        (epoch, letter, f"{batch}/{count}")
        for epoch in range(3)
        for letter, count in (("A", 1), ("B", 2), ("C", 4))
        for batch in range(1, count + 1)
    ]
    assert order == expected


def test_compare_refuses_a_bad_batch_size_naming_the_key(capsys) -> None:
    code, _, err = invoke(capsys, "--compare", "batch-size=0")
    assert code == 2 and "argument --compare" in err and "batch-size" in err


def test_a_contender_leaves_the_base_runs_schedule_and_batches(capsys) -> None:
    """As the panel does: a contender's new scheduler drops the parameters it does not take,
    and the full batch drops shuffling (these were refused: 'step size … needs scheduler step')."""
    argv = ["--data", "noisy", "--batch-size", "32", "--shuffle", "--scheduler", "step", "--step-size", "2"]
    compare = [
        "--compare",
        "scheduler=none",
        "--compare",
        "scheduler=cosine t-max=3",
        "--compare",
        "batch-size=full",
    ]
    code, out, err = invoke(capsys, *argv, "--epochs", "3", "--log-every", "1", "--format", "jsonl", *compare)
    assert code == 0, err
    by_letter: dict[str, list[dict[str, object]]] = {}
    for row in map(json.loads, out.splitlines()):
        by_letter.setdefault(row.pop("contender"), []).append(row)
        row.pop("description")
    loop = {"batch_size": 32, "shuffle": True}
    assert by_letter["A"] == plain_noisy(3, **loop, scheduler="step", schedule={"step_size": 2})
    assert by_letter["B"] == plain_noisy(3, **loop)
    assert by_letter["C"] == plain_noisy(3, **loop, scheduler="cosine", schedule={"T_max": 3})
    assert by_letter["D"] == plain_noisy(3, batch_size=None, scheduler="step", schedule={"step_size": 2})
    code, _, err = invoke(capsys, *argv, "--compare", "scheduler=none step-size=3")
    assert code == 2 and "step size is a setting of StepLR" in err  # what the learner typed stands


def test_compare_takes_the_schedules_parameters_as_keys(capsys) -> None:
    argv = [
        "--data",
        "noisy",
        "--scheduler",
        "step",
        "--epochs",
        "4",
        "--log-every",
        "1",
        "--format",
        "jsonl",
    ]
    compare = [
        "--compare",
        "step-size=2 gamma=0.5",
        "--compare",
        "scheduler=exponential gamma=0.7 batch-size=50",
    ]
    code, out, err = invoke(capsys, *argv, *compare)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    b = [
        {k: v for k, v in r.items() if k not in ("contender", "description")}
        for r in rows
        if r["contender"] == "B"
    ]
    c = [
        {k: v for k, v in r.items() if k not in ("contender", "description")}
        for r in rows
        if r["contender"] == "C"
    ]
    assert b == plain_noisy(4, batch_size=None, scheduler="step", schedule={"step_size": 2, "gamma": 0.5})
    assert c == plain_noisy(4, batch_size=50, scheduler="exponential", schedule={"gamma": 0.7})


@pytest.mark.parametrize("output", ["csv", "jsonl"])
def test_log_every_keeps_every_batch_of_every_kth_epoch_in_rows(capsys, output: str) -> None:
    argv = ["--data", "noisy", "--batch-size", "30", "--shuffle", "--epochs", "7", "--log-every", "3"]
    code, out, _ = invoke(capsys, *argv, "--format", output)
    assert code == 0
    if output == "csv":
        got = [
            {k: float(v) if k not in ("epoch", "batch") else int(v) for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(out))
        ]
    else:
        got = [json.loads(line) for line in out.splitlines()]
    expected = [r for r in plain_noisy(7, batch_size=30, shuffle=True) if r["epoch"] % 3 == 0]
    assert got == expected and [r["epoch"] for r in got] == [0] * 4 + [3] * 4 + [6] * 4
