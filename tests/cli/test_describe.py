"""`lrtui describe`: the facts of the problem, equal to what numpy and torch give for it,
without training."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_support import invoke_main
from plain_torch import DATA
from torch import optim

from lrtui.cli.describe import FACTS


def described(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code, out, err = invoke_main(capsys, "describe", *argv, "--format", "json")
    assert code == 0 and err == ""
    assert out.count("\n") == 1
    return json.loads(out)


def expected_facts(x_train: torch.Tensor, y_train: torch.Tensor, bias: bool, reduction: str) -> dict:
    """The facts worked out here from the points: numpy's normal equations and eigvalsh."""
    x = x_train.double().numpy().ravel()
    y = y_train.double().numpy().ravel()
    design = np.column_stack([x, np.ones_like(x)]) if bias else x[:, None]
    scale = 1 / len(x) if reduction == "mean" else 1.0
    hessian = 2 * scale * design.T @ design
    solution = np.linalg.solve(design.T @ design, design.T @ y)
    low, high = np.linalg.eigvalsh(hessian)[[0, -1]]
    return {
        "n": len(x),
        "x_mean": float(x_train.mean()),
        "x_std": float(x_train.std()),
        "optimum_w": solution[0],
        "optimum_b": solution[1] if bias else None,
        "min_cost": scale * float(np.sum((design @ solution - y) ** 2)),
        "lambda_min": low,
        "lambda_max": high,
        "condition_number": high / low,
        "stable_lr_below": 2 / high,
        "best_lr": 2 / (low + high),
        "momentum_beta": ((math.sqrt(high / low) - 1) / (math.sqrt(high / low) + 1)) ** 2,
        "momentum_lr": 4 / (math.sqrt(high) + math.sqrt(low)) ** 2,
    }


@pytest.mark.parametrize(
    ("data", "flags", "bias", "reduction"),
    [
        ("line", (), True, "mean"),
        ("noisy", (), True, "mean"),
        ("noisy", ("--no-bias",), False, "mean"),
        ("double", ("--loss-reduction", "sum"), True, "sum"),
        ("noisy", ("--model", "linear", "--loss-reduction", "sum", "--no-bias"), False, "sum"),
    ],
)
def test_json_holds_exactly_the_facts_equal_to_numpy(
    capsys, data: str, flags, bias: bool, reduction: str
) -> None:
    facts = described(capsys, "--data", data, *flags)
    assert list(facts) == list(FACTS)
    expected = expected_facts(*DATA[data](), bias, reduction)
    for name, value in expected.items():
        if value is None:
            assert facts[name] is None, name
        else:
            assert facts[name] == pytest.approx(value, rel=1e-6, abs=1e-9), name


def first_epoch_at_minimum(lr: float, min_cost: float, epochs: int, **options) -> int | None:
    x_train, y_train = DATA["noisy"]()
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=lr, **options)
    for epoch in range(epochs + 1):
        cost = torch.mean((x_train * W + b - y_train) ** 2)
        if cost.item() - min_cost <= 1e-6:
            return epoch
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
    return None


@pytest.mark.parametrize("options", [{}, {"momentum": 0.6}])
def test_predicted_epochs_is_when_plain_torch_gets_there(capsys, options) -> None:
    flags = ["--momentum", str(options["momentum"])] if options else []
    facts = described(capsys, "--data", "noisy", "--lr", "0.03", *flags)
    actual = first_epoch_at_minimum(0.03, facts["min_cost"], 1000, **options)
    assert actual is not None and abs(facts["predicted_epochs"] - actual) <= 2


@pytest.mark.parametrize(
    "flags",
    [
        ("--optimizer", "adam", "--lr", "0.1"),
        ("--no-zero-grad",),
        ("--lr", "0.5"),
        ("--batch-size", "2"),
        ("--scheduler", "step"),
    ],
)
def test_no_predicted_epochs_where_the_formulas_do_not_apply(capsys, flags) -> None:
    facts = described(capsys, *flags)
    assert facts["predicted_epochs"] is None
    assert facts["lambda_max"] is not None


def test_equal_x_have_no_unique_optimum_and_a_flat_valley(capsys, tmp_path: Path) -> None:
    path = tmp_path / "same.csv"
    path.write_text("x,y\n2,1\n2,3\n")
    facts = described(capsys, "--data", str(path))
    assert facts["optimum_w"] is None and facts["condition_number"] is None
    assert facts["lambda_min"] == 0 and facts["momentum_beta"] is None and facts["predicted_epochs"] is None


def test_text_explains_each_fact_on_its_own_line(capsys) -> None:
    code, out, _ = invoke_main(capsys, "describe", "--data", "noisy", "--optimizer", "adam", "--lr", "0.1")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == list(FACTS)
    assert "plain and momentum SGD" in lines[FACTS.index("predicted_epochs")]


def test_a_bad_flag_exits_2_naming_it(capsys) -> None:
    code, out, err = invoke_main(capsys, "describe", "--lr", "-1")
    assert code == 2 and out == ""
    assert "argument --lr" in err and err.count("\n") == 1


@pytest.mark.parametrize("bias", [True, False])
def test_weight_decay_gives_the_ridge_optimum_and_the_decayed_curvature(capsys, bias: bool) -> None:
    """Issue 30: numpy's regularised normal equations, the curvature shifted by the decay."""
    decay = 0.5
    facts = described(
        capsys, "--data", "noisy", "--weight-decay", str(decay), *(() if bias else ("--no-bias",))
    )
    x, y = (t.double().numpy().ravel() for t in DATA["noisy"]())
    design = np.column_stack([x, np.ones_like(x)]) if bias else x[:, None]
    hessian = 2 / len(x) * design.T @ design + decay * np.eye(design.shape[1])
    solution = np.linalg.solve(hessian, 2 / len(x) * design.T @ y)
    low, high = np.linalg.eigvalsh(hessian)[[0, -1]]
    assert facts["weight_decay"] == decay
    assert facts["decayed_optimum_w"] == pytest.approx(solution[0], rel=1e-9)
    assert facts["decayed_optimum_b"] == (pytest.approx(solution[1], rel=1e-9) if bias else None)
    assert facts["decayed_lambda_min"] == pytest.approx(low, rel=1e-9)
    assert facts["decayed_lambda_max"] == pytest.approx(high, rel=1e-9)
    assert facts["decayed_stable_lr_below"] == pytest.approx(2 / high, rel=1e-9)
    assert facts["predicted_epochs"] is None
    adamw = described(capsys, "--data", "noisy", "--optimizer", "adamw")
    assert adamw["weight_decay"] == 0.01 and adamw["decayed_optimum_w"] is None  # torch's default, decoupled
    assert described(capsys, "--data", "noisy")["weight_decay"] is None
