"""The bare lesson loop, and timing by best round."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch


def bare_loop(x_train: torch.Tensor, y_train: torch.Tensor, learning_rate: float) -> Callable[[int], None]:
    """The lessons' loop, exactly as written there (printing aside)."""
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([W, b], lr=learning_rate)

    def run(epochs: int) -> None:
        for _epoch in range(epochs):
            hypothesis = x_train * W + b
            cost = torch.mean((hypothesis - y_train) ** 2)
            optimizer.zero_grad()
            cost.backward()
            optimizer.step()

    return run


def bare_features_loop(
    x_train: torch.Tensor, y_train: torch.Tensor, learning_rate: float
) -> Callable[[int], None]:
    """Lab 4-1's loop with k features, exactly as written there (printing aside)."""
    W = torch.zeros((x_train.shape[1], 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([W, b], lr=learning_rate)

    def run(epochs: int) -> None:
        for _epoch in range(epochs):
            hypothesis = x_train.matmul(W) + b
            cost = torch.mean((hypothesis - y_train) ** 2)
            optimizer.zero_grad()
            cost.backward()
            optimizer.step()

    return run


def best_rate(contenders: dict[str, Callable[[int], None]], epochs: int, rounds: int) -> dict[str, float]:
    """Epochs per second of each contender's best round."""
    best = dict.fromkeys(contenders, 0.0)
    for _ in range(rounds):
        for name, run in contenders.items():
            start = time.perf_counter()
            run(epochs)
            elapsed = time.perf_counter() - start
            best[name] = max(best[name], epochs / elapsed)
    return best


def best_milliseconds(run: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best * 1000


@dataclass
class Comparison:
    title: str
    lrtui_rate: float
    bare_rate: float
    target: str

    @property
    def ratio(self) -> float:
        """How many times longer lrtui takes per epoch than the bare loop."""
        return self.bare_rate / self.lrtui_rate

    def report(self) -> str:
        return (
            f"{self.title:<38} lrtui {self.lrtui_rate:>11,.0f} epochs/s   bare {self.bare_rate:>11,.0f} epochs/s"
            f"   per-epoch ratio {self.ratio:5.3f}x   (target {self.target})"
        )
