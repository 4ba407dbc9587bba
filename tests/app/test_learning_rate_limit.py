"""The learning-rate limit of each optimizer (``CostSurface.limit_for``), checked against plain
torch: a run just below the limit settles on the least-squares cost, a run just above it blows up."""

from __future__ import annotations

import math

import pytest
import torch
from app_support import make_app, settle, shown_text
from plain_torch import DATA
from torch import optim

from lrtui.engine import CostSurface, Settings, Simulation
from lrtui.engine.data import Sums


def last_costs(
    data: str, lr: float, epochs: int, zero_grad: bool = True, until_blown: bool = False, **options
) -> list[float]:
    """The costs of the last 50 of ``epochs`` epochs of the lesson's raw loop, in plain torch
    (``until_blown``: or up to the first cost that is not finite or not below 1e6)."""
    x_train, y_train = DATA[data]()
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=lr, **options)
    costs = []
    for _ in range(epochs):
        cost = torch.mean((x_train * W + b - y_train) ** 2)
        if zero_grad:
            optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        costs.append(cost.item())
        if until_blown and not (math.isfinite(costs[-1]) and costs[-1] < 1e6):
            break
    return costs[-50:]


def limit_of(settings: Settings):
    return Simulation(settings).surface.limit_for(settings)


def settles(costs: list[float], best: float) -> bool:
    return all(math.isfinite(cost) and cost <= best + 1e-4 for cost in costs)


def blows_up(costs: list[float]) -> bool:
    return not all(math.isfinite(cost) and cost < 1e6 for cost in costs)


@pytest.mark.parametrize("data", ["line", "noisy"])
@pytest.mark.parametrize(
    ("momentum", "nesterov", "factor"),
    [(0.0, False, 1.0), (0.5, False, 1.5), (0.9, False, 1.9), (0.5, True, 0.75), (0.9, True, 1.9 / 2.8)],
)
def test_sgd_settles_just_below_its_limit_and_blows_up_just_above(
    data: str, momentum: float, nesterov: bool, factor: float
) -> None:
    settings = Settings(data=data, momentum=momentum, nesterov=nesterov)
    surface = Simulation(settings).surface
    limit = surface.limit_for(settings)
    # plain GD's 2/λmax times 1+β (heavy ball) or (1+β)/(1+2β) (Nesterov)
    assert limit.limit == pytest.approx(factor * surface.stability_limit)
    options = {"momentum": momentum, "nesterov": nesterov} if momentum else {}
    best = surface.optimum.cost
    assert settles(last_costs(data, 0.98 * limit.limit, 3000, **options), best)
    assert blows_up(last_costs(data, 1.02 * limit.limit, 3000, until_blown=True, **options))


def test_the_texts_name_the_rule_that_applies() -> None:
    plain = limit_of(Settings())
    assert plain.hint == "stable below 0.1803"
    assert plain.text() == "plain GD stable below 0.18"
    heavy = limit_of(Settings(momentum=0.9))
    assert heavy.hint == "stable below 0.3426"
    assert heavy.text() == "SGD momentum 0.9 stable below 0.343"
    assert limit_of(Settings(momentum=0.9, nesterov=True)).text() == "SGD Nesterov 0.9 stable below 0.122"
    for optimizer in ("adagrad", "rmsprop", "adam"):
        adaptive = limit_of(Settings(optimizer=optimizer, learning_rate=0.1))
        assert adaptive.limit is None
        assert adaptive.text() == "adaptive step: no fixed lr limit"
        assert adaptive.hint == "no fixed lr limit"


def test_a_cost_that_w_does_not_change_has_no_limit() -> None:
    all_x_zero = CostSurface(Sums(n=3, x=0.0, y=3.0, xx=0.0, xy=0.0, yy=3.0, sxx=0.0, sxy=0.0), bias=False)
    assert all_x_zero.limit_for(Settings(bias=False)).text() == "plain GD stable for any lr"


@pytest.mark.parametrize("lr", [0.01, 0.1])
def test_without_zero_grad_plain_sgd_never_settles(lr: float) -> None:
    """.grad sums every gradient: below the plain limit the run circles round the optimum."""
    settings = Settings(zero_grad=False, learning_rate=lr)
    limit = limit_of(settings)
    assert limit.limit is None and limit.text() == "zero_grad off: no lr converges"
    costs = last_costs("line", lr, 3000, zero_grad=False)
    assert all(math.isfinite(cost) for cost in costs) and max(costs) > 0.1


def test_without_zero_grad_momentum_blows_up_even_at_a_tiny_lr() -> None:
    assert limit_of(Settings(zero_grad=False, momentum=0.5)).limit is None
    assert blows_up(last_costs("line", 0.001, 3000, zero_grad=False, until_blown=True, momentum=0.5))


@pytest.mark.parametrize(
    ("settings", "hint"),
    [
        (Settings(), "stable below 0.1803"),
        (Settings(momentum=0.9), "stable below 0.3426"),
        (Settings(optimizer="adam", learning_rate=0.1), "no fixed lr limit"),
        (Settings(zero_grad=False), "no lr converges"),
    ],
)
async def test_the_app_shows_the_limit_that_applies_under_the_learning_rate(
    settings: Settings, hint: str
) -> None:
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert shown_text(app.query_one("#reason-learning_rate")) == hint
