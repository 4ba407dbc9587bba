"""Losses that are not squares (``--loss l1|huber``): runs equal plain torch, the surface is the
exact cost of the chosen loss, the optimum its true minimum, and the outliers preset shows why."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from cli_support import invoke_main
from plain_torch import FIELDS, noisy_data
from torch import nn, optim

from lrtui.engine import Settings, SettingsError, parse_field
from lrtui.engine.data import from_tensors, preset
from lrtui.engine.losses import EVALUATION_BUDGET, RobustSurface
from lrtui.engine.race import Race, contender_settings
from lrtui.engine.run import Run


def outliers_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The outliers preset as its documentation writes it, with torch's global generator."""
    torch.manual_seed(5)
    x = torch.linspace(0, 3, 30)
    y = 1 + 2 * x + torch.randn(30) * 0.2
    y[-3:] -= 12
    return x.reshape(-1, 1), y.reshape(-1, 1)


def plain_cost(loss: str, hypothesis, y_train, reduction: str, delta: float, linear: bool):
    """The lesson's cost line for each loss."""
    if loss == "l1":
        if linear:
            return F.l1_loss(hypothesis, y_train, reduction=reduction)
        return (
            torch.sum(torch.abs(hypothesis - y_train))
            if reduction == "sum"
            else torch.mean(torch.abs(hypothesis - y_train))
        )
    return F.huber_loss(hypothesis, y_train, reduction=reduction, delta=delta)


def plain_loop(
    x_train,
    y_train,
    epochs: int,
    loss: str,
    *,
    linear: bool,
    bias: bool,
    reduction: str,
    delta: float,
    lr: float,
    seed: int = 1,
):
    if linear:
        torch.manual_seed(seed)
        model = nn.Linear(1, 1, bias=bias)
        W, b = model.weight, model.bias
        params = list(model.parameters())
    else:
        W = torch.zeros(1, requires_grad=True)
        b = torch.zeros(1, requires_grad=True) if bias else None
        params = [W] if b is None else [W, b]
    optimizer = optim.SGD(params, lr=lr)
    records = []
    for epoch in range(epochs + 1):
        w_before, b_before = W.item(), b.item() if b is not None else None
        if linear:
            hypothesis = model(x_train)
        else:
            hypothesis = x_train * W + b if b is not None else x_train * W
        cost = plain_cost(loss, hypothesis, y_train, reduction, delta, linear)
        optimizer.zero_grad()
        cost.backward()
        grad_w, grad_b = W.grad.item(), b.grad.item() if b is not None else None
        optimizer.step()
        values = (
            epoch,
            w_before,
            b_before,
            cost.item(),
            grad_w,
            grad_b,
            W.item(),
            b.item() if b is not None else None,
        )
        records.append(dict(zip(FIELDS, values, strict=True)))
    return records


@pytest.mark.parametrize("loss", ["l1", "huber"])
@pytest.mark.parametrize(
    ("model", "bias", "reduction"),
    [("raw", True, "mean"), ("raw", False, "sum"), ("linear", True, "sum"), ("linear", False, "mean")],
)
def test_a_run_equals_plain_torch_for_each_loss(loss: str, model: str, bias: bool, reduction: str) -> None:
    delta = 0.7
    lr = 0.01 if reduction == "sum" else 0.1
    settings = Settings(
        data="outliers",
        model=model,
        bias=bias,
        loss=loss,
        huber_delta=delta,
        loss_reduction=reduction,
        learning_rate=lr,
        epochs=60,
    )
    run = Run(settings)
    while run.running:
        run.step()
    expected = plain_loop(
        *outliers_data(),
        60,
        loss,
        linear=model == "linear",
        bias=bias,
        reduction=reduction,
        delta=delta,
        lr=lr,
    )
    found = [{name: getattr(record, name) for name in FIELDS} for record in run.history]
    assert found == expected


def test_the_outliers_preset_is_what_its_documentation_says() -> None:
    dataset = preset("outliers")
    x_train, y_train = outliers_data()
    assert torch.equal(dataset.x_train, x_train) and torch.equal(dataset.y_train, y_train)


@pytest.mark.parametrize("loss", ["l1", "huber"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_surface_is_the_exact_cost_of_the_loss(loss: str, bias: bool, reduction: str) -> None:
    dataset = preset("outliers")
    surface = RobustSurface(dataset, bias, reduction, loss, 0.5)
    x = dataset.x_train.double()
    y = dataset.y_train.double()
    ws, bs = np.linspace(-3, 4, 7), np.linspace(-2, 5, 5)
    grid = surface.grid(ws, bs)
    for (i, b), (j, w) in itertools.product(enumerate(bs), enumerate(ws)):
        hypothesis = x * w + (b if bias else 0.0)
        if loss == "l1":
            expected = F.l1_loss(hypothesis, y, reduction=reduction).item()
        else:
            expected = F.huber_loss(hypothesis, y, reduction=reduction, delta=0.5).item()
        assert grid[i, j] == pytest.approx(expected, rel=1e-12)
        assert surface.cost(w, b) == pytest.approx(expected, rel=1e-12)


def test_a_large_grid_is_evaluated_on_an_evenly_strided_subset_and_says_so() -> None:
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(50_000, generator=generator)
    dataset = from_tensors("big", x, 2 * x + torch.randn(50_000, generator=generator))
    surface = RobustSurface(dataset, True, "mean", "l1")
    ws, bs = np.linspace(0, 4, 100), np.linspace(-2, 2, 100)
    stride = surface.stride_for(100 * 100)
    assert stride == int(np.ceil(100 * 100 * 50_000 / EVALUATION_BUDGET)) > 1
    grid = surface.grid(ws, bs)
    assert surface.last_stride == stride
    xs, ys = dataset.x_train.double()[::stride], dataset.y_train.double()[::stride]
    assert grid[10, 20] == pytest.approx(torch.mean(torch.abs(xs * ws[20] + bs[10] - ys)).item(), rel=1e-12)
    # one point is always exact
    assert surface.cost(2.0, 0.5) == pytest.approx(
        torch.mean(torch.abs(dataset.x_train.double() * 2.0 + 0.5 - dataset.y_train.double())).item(),
        rel=1e-12,
    )


def test_the_l1_optimum_is_the_best_line_through_two_points() -> None:
    """A least-absolute-deviations line passes through two of the points: trying every pair is exact."""
    dataset = preset("outliers")
    surface = RobustSurface(dataset, True, "mean", "l1")
    x = dataset.x_train.double().numpy().ravel()
    y = dataset.y_train.double().numpy().ravel()
    best = min(
        surface.cost((y[j] - y[i]) / (x[j] - x[i]), y[i] - x[i] * (y[j] - y[i]) / (x[j] - x[i]))
        for i, j in itertools.combinations(range(len(x)), 2)
        if x[i] != x[j]
    )
    optimum = surface.optimum
    assert optimum.cost == pytest.approx(best, rel=1e-9)
    # without bias: the weighted median of y/x, checked against a fine scan
    no_bias = RobustSurface(dataset, False, "mean", "l1")
    scan = np.linspace(-5, 5, 100_001)  # 100,001 x 30 points: within the budget, every point used
    assert no_bias.optimum.cost <= no_bias.costs(scan).min() + 1e-12


@pytest.mark.parametrize("bias", [True, False])
def test_the_huber_optimum_has_zero_gradient(bias: bool) -> None:
    dataset = preset("outliers")
    surface = RobustSurface(dataset, bias, "mean", "huber", 1.0)
    optimum = surface.optimum
    W = torch.tensor(optimum.w, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(optimum.b if bias else 0.0, dtype=torch.float64, requires_grad=bias)
    cost = F.huber_loss(dataset.x_train.double() * W + b, dataset.y_train.double(), delta=1.0)
    grads = torch.autograd.grad(cost, [W, b] if bias else [W])
    assert all(abs(g.item()) < 1e-10 for g in grads)
    assert optimum.cost == pytest.approx(cost.item(), rel=1e-12)


def test_l1_and_huber_fit_the_bulk_while_mse_is_dragged_by_the_outliers() -> None:
    slopes = {
        loss: Run(Settings(data="outliers", loss=loss)).surface.optimum.w for loss in ("mse", "l1", "huber")
    }
    assert abs(slopes["l1"] - 2) < 0.1 and abs(slopes["huber"] - 2) < 0.5
    assert abs(slopes["mse"] - 2) > 1.5


def test_races_take_loss_as_a_key() -> None:
    base = Settings(data="outliers")
    contender = contender_settings(base, "loss=huber huber-delta=2")
    assert (contender.loss, contender.huber_delta) == ("huber", 2.0)
    race = Race.of(base, [contender, contender_settings(base, "loss=l1")])
    assert race.labels() == ["SGD lr 0.01 MSE loss", "SGD lr 0.01 Huber loss δ 2", "SGD lr 0.01 L1 loss"]
    assert [run.surface.loss for run in race] == ["mse", "huber", "l1"]


def test_bad_losses_are_refused_naming_the_setting(capsys) -> None:
    with pytest.raises(SettingsError, match="loss must be one of mse, l1, huber"):
        parse_field("loss", "l3")
    with pytest.raises(SettingsError, match="Huber delta"):
        Settings(huber_delta=0.0)
    code, _, err = invoke_main(capsys, "run", "--huber-delta", "-1")
    assert code == 2 and "argument --huber-delta" in err
    code, _, err = invoke_main(capsys, "run", "--loss", "hinge")
    assert code == 2 and "argument --loss" in err


def test_describe_has_no_curvature_for_l1(capsys) -> None:
    import json

    code, out, _ = invoke_main(capsys, "describe", "--data", "outliers", "--loss", "l1", "--format", "json")
    facts = json.loads(out)
    assert code == 0 and facts["lambda_max"] is None and facts["predicted_epochs"] is None
    surface = RobustSurface(preset("outliers"), True, "mean", "l1")
    assert facts["optimum_w"] == surface.optimum.w and facts["min_cost"] == surface.optimum.cost


def test_noisy_data_has_the_same_points_as_the_lesson() -> None:
    # the MSE of the noisy lesson is untouched by the loss setting's default
    x_train, y_train = noisy_data()
    run = Run(Settings(data="noisy", epochs=3))
    run.step()
    assert run.last.cost == torch.mean((x_train * 0.0 + 0.0 - y_train) ** 2).item()
