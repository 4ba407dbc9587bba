"""The cost's curvature (engine/curvature.py) against torch and numpy, and its predictions
against real runs.

The Hessian is checked against ``torch.autograd.functional.hessian`` of the cost as the
lessons write it (in float64), its eigenvalues against ``numpy.linalg.eigvalsh``, the optimum
against the normal equations, and the predicted epoch to reach the minimum against the
epoch at which a real torch run gets there.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import optim

from lrtui.engine import Settings
from lrtui.engine.curvature import (
    COST_TOLERANCE,
    actual_epoch,
    curvature_of,
    predicted_epochs,
    predicted_for,
    start_point,
)
from lrtui.engine.data import from_tensors, preset
from lrtui.engine.run import Run
from lrtui.engine.surface import CostSurface


def spread_data():
    """x in the hundreds with a small spread: a long thin valley (κ in the hundreds of thousands)."""
    generator = torch.Generator().manual_seed(7)
    x = 300 + 5 * torch.randn(40, generator=generator)
    y = 0.5 * x - 20 + torch.randn(40, generator=generator)
    return from_tensors("spread", x, y)


DATASETS = {"line": lambda: preset("line"), "noisy": lambda: preset("noisy"), "spread": spread_data}


def torch_hessian(dataset, bias: bool, reduction: str) -> np.ndarray:
    x = dataset.x_train.double()
    y = dataset.y_train.double()

    def cost(params: torch.Tensor) -> torch.Tensor:
        hypothesis = x * params[0] + (params[1] if bias else 0.0)
        errors = (hypothesis - y) ** 2
        return torch.sum(errors) if reduction == "sum" else torch.mean(errors)

    start = torch.zeros(2 if bias else 1, dtype=torch.float64)
    return torch.autograd.functional.hessian(cost, start).numpy()


@pytest.mark.parametrize("data", sorted(DATASETS))
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_hessian_and_its_eigenvalues_equal_torch_and_numpy(data: str, bias: bool, reduction: str) -> None:
    dataset = DATASETS[data]()
    curvature = curvature_of(CostSurface(dataset.sums, bias, reduction))
    hessian = torch_hessian(dataset, bias, reduction)
    np.testing.assert_allclose(curvature.hessian, hessian, rtol=1e-12)
    expected = np.linalg.eigvalsh(hessian)
    # λmin of a long valley is tiny beside λmax: compare each on its own scale
    for found, wanted in zip(curvature.eigenvalues, expected, strict=True):
        assert found == pytest.approx(wanted, rel=1e-6, abs=1e-12 * expected[-1])
    # the eigenvectors: H v = λ v, unit length, at right angles
    for i, value in enumerate(curvature.eigenvalues):
        vector = curvature.eigenvectors[:, i]
        np.testing.assert_allclose(hessian @ vector, value * vector, atol=1e-9 * expected[-1])
        assert np.linalg.norm(vector) == pytest.approx(1.0)
    assert curvature.condition_number == pytest.approx(expected[-1] / expected[0], rel=1e-5)
    assert curvature.stable_lr == pytest.approx(2 / expected[-1])
    assert curvature.stable_lr == pytest.approx(CostSurface(dataset.sums, bias, reduction).stability_limit)


@pytest.mark.parametrize("data", sorted(DATASETS))
@pytest.mark.parametrize("bias", [True, False])
def test_the_optimum_solves_the_normal_equations(data: str, bias: bool) -> None:
    dataset = DATASETS[data]()
    x = dataset.x_train.double().numpy()
    y = dataset.y_train.double().numpy().ravel()
    design = np.hstack([x, np.ones_like(x)]) if bias else x
    solution = np.linalg.solve(design.T @ design, design.T @ y)
    optimum = CostSurface(dataset.sums, bias).optimum
    assert optimum.w == pytest.approx(solution[0], rel=1e-9)
    if bias:
        assert optimum.b == pytest.approx(solution[1], rel=1e-9, abs=1e-9)
    assert optimum.cost == pytest.approx(np.mean((design @ solution - y) ** 2), rel=1e-9, abs=1e-12)


def test_the_best_rates_follow_from_the_condition_number() -> None:
    curvature = curvature_of(CostSurface(preset("line").sums))
    low, high = curvature.eigenvalues
    kappa = high / low
    assert curvature.best_lr == pytest.approx(2 / (low + high))
    assert curvature.contraction == pytest.approx((kappa - 1) / (kappa + 1))
    assert curvature.momentum_beta == pytest.approx(((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2)
    assert curvature.momentum_lr == pytest.approx(4 / (math.sqrt(high) + math.sqrt(low)) ** 2)
    # at the best lr both extreme directions shrink by the contraction each epoch
    assert abs(1 - curvature.best_lr * low) == pytest.approx(curvature.contraction)
    assert abs(1 - curvature.best_lr * high) == pytest.approx(curvature.contraction)
    # the steep direction is the eigenvector of λmax
    steep = np.array(curvature.steep_direction)
    np.testing.assert_allclose(curvature.hessian @ steep, high * steep)


def torch_epochs_to_minimum(dataset, min_cost: float, lr: float, epochs: int, **options) -> int | None:
    """The lesson's raw loop in plain torch: the first epoch whose cost is within 1e-6 of min_cost."""
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=lr, **options)
    for epoch in range(epochs + 1):
        cost = torch.mean((dataset.x_train * W + b - dataset.y_train) ** 2)
        if cost.item() - min_cost <= COST_TOLERANCE:
            return epoch
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
    return None


# Predicted and actual epochs agree within this: the run is float32, the prediction exact.
def close_enough(predicted: int, actual: int) -> bool:
    return abs(predicted - actual) <= max(2, 0.02 * actual)


@pytest.mark.parametrize(
    ("data", "lr", "options"),
    [
        ("noisy", 0.01, {}),
        ("noisy", 0.1, {}),
        ("noisy", 0.05, {"momentum": 0.5}),
        ("noisy", 0.05, {"momentum": 0.5, "nesterov": True}),
        ("line", 0.1, {}),
        ("line", 0.1, {"momentum": 0.8}),
    ],
)
def test_the_predicted_epoch_is_when_a_plain_torch_run_reaches_the_minimum(
    data: str, lr: float, options
) -> None:
    dataset = DATASETS[data]()
    surface = CostSurface(dataset.sums)
    predicted = predicted_epochs(surface, lr, (0.0, 0.0), **options)
    assert predicted is not None and predicted > 5
    actual = torch_epochs_to_minimum(dataset, surface.optimum.cost, lr, 2 * predicted, **options)
    assert actual is not None and close_enough(predicted, actual), (predicted, actual)


def test_the_best_momentum_pair_arrives_near_its_prediction_and_before_plain_gd() -> None:
    dataset = preset("line")
    surface = CostSurface(dataset.sums)
    curvature = curvature_of(surface)
    beta, lr = curvature.momentum_beta, curvature.momentum_lr
    predicted = predicted_epochs(surface, lr, (0.0, 0.0), momentum=beta)
    plain = predicted_epochs(surface, curvature.best_lr, (0.0, 0.0))
    assert predicted is not None and plain is not None and predicted < plain
    actual = torch_epochs_to_minimum(dataset, surface.optimum.cost, lr, 2 * predicted, momentum=beta)
    assert actual is not None and close_enough(predicted, actual), (predicted, actual)


def test_a_run_of_nn_linear_from_its_seeded_start_reaches_the_minimum_when_predicted() -> None:
    settings = Settings(data="noisy", model="linear", seed=3, learning_rate=0.05, epochs=400)
    run = Run(settings)
    predicted = predicted_for(run.surface, settings, start_point(settings))
    assert start_point(settings) == (run.w, run.b)
    while run.running:
        run.step()
    costs = np.frombuffer(run.history.columns["cost"], dtype=np.float64)
    epochs = np.frombuffer(run.history.epochs, dtype=np.int64)
    actual = actual_epoch(costs, epochs, run.surface.optimum.cost)
    assert predicted is not None and actual is not None and close_enough(predicted, actual)


def test_no_prediction_where_the_formulas_do_not_apply() -> None:
    surface = CostSurface(preset("line").sums)
    start = (0.0, 0.0)
    assert predicted_epochs(surface, 1.1 * surface.stability_limit, start) is None  # diverges
    assert predicted_for(surface, Settings(optimizer="adam"), start) is None
    assert predicted_for(surface, Settings(zero_grad=False), start) is None
    assert predicted_for(surface, Settings(batch_size=2), start) is None  # a new bowl every step
    assert predicted_for(surface, Settings(scheduler="exponential"), start) is None
    assert predicted_for(surface, Settings(), start) is not None
    # started at the optimum: already there
    optimum = surface.optimum
    assert predicted_epochs(surface, 0.01, (optimum.w, optimum.b)) == 0
