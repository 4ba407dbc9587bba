"""The engine's step against the bare loop, on 3 points and on 1,000,000."""

from __future__ import annotations

from collections.abc import Callable

import torch

from lrtui.engine import Settings
from lrtui.engine.data import from_tensors
from lrtui.engine.race import Race

from .timing import Comparison, bare_features_loop, bare_loop, best_rate


def engine_loop(race: Race) -> Callable[[int], None]:
    """Epochs as the app and ``lrtui run`` take them: a race of one, keeping its history."""

    def run(epochs: int) -> None:
        step = race.step
        for _ in range(epochs):
            step(1)

    return run


def engine_comparison(points: int, epochs: int, rounds: int) -> Comparison:
    if points == 3:
        dataset = from_tensors("line", torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0]))
    else:
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(points, generator=generator)
        dataset = from_tensors("big", x, 2.5 + 4 * x + 0.5 * torch.randn(points, generator=generator))
    learning_rate = 0.01
    race = Race.of(Settings(learning_rate=learning_rate, epochs=10**9), dataset=dataset)
    rates = best_rate(
        {
            "lrtui": engine_loop(race),
            "bare": bare_loop(dataset.x_train, dataset.y_train, learning_rate),
        },
        epochs,
        rounds,
    )
    return Comparison(f"engine step, {points:,} points", rates["lrtui"], rates["bare"], "<= 1.2x")


def features_comparison(epochs: int = 2000, rounds: int = 7) -> Comparison:
    """Lab 4-1 (5 points, 3 features, lr 1e-5) against its bare loop."""
    from lrtui.engine.data import load

    dataset = load("scores")
    race = Race.of(Settings(data="scores", learning_rate=1e-5, epochs=10**9), dataset=dataset)
    rates = best_rate(
        {"lrtui": engine_loop(race), "bare": bare_features_loop(dataset.x_train, dataset.y_train, 1e-5)},
        epochs,
        rounds,
    )
    return Comparison("engine step, Lab 4-1 (3 features)", rates["lrtui"], rates["bare"], "<= 1.2x")


def engine_benchmarks() -> list[str]:
    return [
        engine_comparison(3, epochs=2000, rounds=7).report(),
        features_comparison().report(),
        engine_comparison(1_000_000, epochs=20, rounds=5).report(),
    ]
