"""Mini-batches (issue 13): the engine's step against the bare DataLoader loop on the noisy
data with B = 10 and B = 1, and the app at full speed with B = 10. Rates are optimizer steps
(batches) per second."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import torch
from torch.utils.data import DataLoader, TensorDataset

from lrtui.engine import Settings, load
from lrtui.engine.race import Race

from .app import _screen_line, app_at_full_speed, side_by_side
from .engine import engine_loop
from .timing import best_rate


def bare_batch_loop(
    x_train: torch.Tensor, y_train: torch.Tensor, batch_size: int, learning_rate: float
) -> Callable[[int], None]:
    """The issue's loop, exactly as written there (printing aside), for a number of steps."""
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([W, b], lr=learning_rate)
    dataset = TensorDataset(x_train, y_train)
    dataloader = DataLoader(
        dataset, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(1)
    )

    def run(steps: int) -> None:
        done = 0
        while done < steps:
            for x_batch, y_batch in dataloader:
                hypothesis = x_batch * W + b
                cost = torch.mean((hypothesis - y_batch) ** 2)
                optimizer.zero_grad()
                cost.backward()
                optimizer.step()
                done += 1
                if done == steps:
                    return

    return run


def step_line(title: str, lrtui: float, bare: float, target: str) -> str:
    return (
        f"{title:<38} lrtui {lrtui:>11,.0f} steps/s    bare {bare:>11,.0f} steps/s"
        f"    per-step ratio {bare / lrtui:5.3f}x   (target {target})"
    )


def batch_comparison(batch_size: int, steps: int, rounds: int) -> tuple[float, float]:
    """(lrtui, bare) optimizer steps per second with mini-batches of ``batch_size``, shuffled."""
    dataset = load("noisy")
    settings = Settings(data="noisy", batch_size=batch_size, shuffle=True, learning_rate=0.01, epochs=10**9)
    race = Race.of(settings, dataset=dataset)
    rates = best_rate(
        {
            "lrtui": engine_loop(race),
            "bare": bare_batch_loop(dataset.x_train, dataset.y_train, batch_size, 0.01),
        },
        steps,
        rounds,
    )
    return rates["lrtui"], rates["bare"]


def minibatch_benchmarks() -> list[str]:
    lines = []
    for batch_size in (10, 1):
        lrtui, bare = batch_comparison(batch_size, steps=2000, rounds=5)
        lines.append(step_line(f"engine step, noisy, batch {batch_size}", lrtui, bare, "<= 1.2x"))
    settings = Settings(data="noisy", batch_size=10, shuffle=True, epochs=10**9)
    dataset = load("noisy")
    bare = bare_batch_loop(dataset.x_train, dataset.y_train, 10, 0.01)
    app = asyncio.run(app_at_full_speed(8.0, 10, settings=settings, bare=bare, bare_steps=500, windows=16))
    lines.append(
        side_by_side("app run mode, full speed, batch 10", app, "steps", "share", app.ratio, ">= 0.5x")
    )
    lines.append(_screen_line("app redraws, batch 10", app))
    return lines
