"""The words on a chart: each view's titles, a race's legend, the divergence message and the
learning-rate note. Each is a list, longest first: the chart shows the first that fits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..engine.race import labels
from .palette import DIVERGED, EARLIER, FLOOR, FRESH_HEADS, NOW, OPTIMUM, STEP_HEADS
from .scene import Scene, lowest_cost


def shortened(parts: Sequence[str], separator: str = "  ") -> list[str]:
    """The parts joined, then with the last ones left off, longest first."""
    return [separator.join(parts[:count]) for count in range(len(parts), 0, -1)]


def number(value: float) -> str:
    """A value to three significant digits."""
    return f"{value:.3g}"


def learning_rate_notes(scene: Scene) -> list[str]:
    """The learning rate and the largest one at which plain gradient descent converges
    (2 / the largest curvature of the cost), longest first."""
    limit = scene.surface.stability_limit
    limit_text = "any" if math.isinf(limit) else number(limit)
    rate = f"lr {scene.learning_rate:g}"
    return [f"{rate} · plain GD stable below {limit_text}", f"{rate} · stable < {limit_text}", rate]


def diverged_titles(scene: Scene) -> list[str]:
    """Which epoch diverged and the stability limit, with the likely reason; longest first."""
    epoch = f"diverged at epoch {scene.diverged_at}"
    learning_rate = scene.learning_rate
    limit = number(scene.surface.stability_limit)
    if learning_rate >= scene.surface.stability_limit:
        return [
            f"{epoch} — learning rate {learning_rate:g} is above the stability limit {limit}",
            f"{epoch} — lr {learning_rate:g} > stability limit {limit}",
            epoch,
        ]
    if not scene.settings.zero_grad:
        reason = "zero_grad is off, so .grad kept growing"
    elif scene.settings.momentum > 0:
        reason = "momentum added up the steps"
    else:
        reason = f"{scene.settings.optimizer} outgrew it"
    return [
        f"{epoch} — learning rate {learning_rate:g} is below the stability limit {limit}, but {reason}",
        f"{epoch} — {reason}",
        epoch,
    ]


def with_last_point(titles: list[str]) -> list[str]:
    """Diverged titles, first with the key of the marker on the last finite point."""
    return [f"{titles[0]}  {DIVERGED} last finite point", *titles]


def surface_titles(scene: Scene) -> list[str]:
    """The cost surface's titles: the key of its markers and arrows, longest first."""
    if scene.diverged_at is not None:
        return with_last_point(diverged_titles(scene))
    optimum = f"{OPTIMUM} optimum" if scene.surface.optimum.unique else "no single optimum"
    if scene.rivals:
        return race_titles("cost J(W, b)", scene, NOW, [optimum])
    parts = ["cost J(W, b), log levels", f"{NOW} now", optimum]
    if scene.settings.zero_grad:
        parts.append(f"{STEP_HEADS[0]} next step")
    else:
        parts += [f"{STEP_HEADS[0]} step with .grad", f"{FRESH_HEADS[0]} fresh gradient"]
    return shortened(parts)


def race_titles(head: str, scene: Scene, leader: str, tail: Sequence[str] = ()) -> list[str]:
    """A race's chart titles, longest first: every contender named, then just their letters."""
    letters = [f"{leader} A", *(rival.letter + ("✖" if rival.diverged_at is not None else "")
                                for rival in scene.rivals)]  # fmt: skip
    return [
        "  ".join([head, *race_legend(scene, leader), *tail]),
        "  ".join([head, *race_legend(scene, leader)]),
        "  ".join([head, " ".join(letters), *tail]),
        "  ".join([head, " ".join(letters)]),
        head,
    ]


def race_legend(scene: Scene, leader: str) -> list[str]:
    """``● A SGD lr 0.01  B Adam lr 0.1 ...`` for a race; nothing otherwise."""
    if not scene.rivals:
        return []
    names = labels([scene.settings, *(rival.settings for rival in scene.rivals)])
    return [f"{leader} A {names[0]}"] + [
        f"{rival.letter} {name}" + (f" ✖{rival.diverged_at}" if rival.diverged_at is not None else "")
        for rival, name in zip(scene.rivals, names[1:], strict=True)
    ]


def curve_titles(scene: Scene) -> list[str]:
    """The J(W) curve's titles: the key of its markers and arrows, longest first."""
    if scene.diverged_at is not None:
        return with_last_point(diverged_titles(scene))
    if scene.rivals:
        return race_titles("cost J(W)", scene, NOW)
    parts = ["cost J(W)", f"{NOW} now", f"{EARLIER} earlier W", "─ tangent: slope = gradient"]
    if not scene.surface.optimum.unique:
        parts.insert(1, "no single optimum")
    if scene.settings.zero_grad:
        parts.append(f"{STEP_HEADS[0]} next step")
    else:
        parts += [f"{STEP_HEADS[0]} step with .grad", f"{FRESH_HEADS[0]} fresh gradient"]
    return shortened(parts)


def cost_titles(scene: Scene) -> list[str]:
    """The cost per epoch's titles: the last cost and the lowest possible, longest first."""
    if scene.diverged_at is not None:
        return diverged_titles(scene)
    if scene.rivals:
        return race_titles("cost per epoch (log)", scene, NOW)
    parts = ["cost per epoch (log scale)"]
    if scene.last is not None:
        parts.append(f"{number(scene.last.cost)} at epoch {scene.last.epoch}")
    lowest = lowest_cost(scene)
    if lowest is not None:
        parts.append(f"{FLOOR} lowest possible {number(lowest)}")
    return shortened(parts, " — ")


def fit_titles(scene: Scene) -> list[str]:
    """The fit's titles: the data's size and the fitted line, longest first."""
    if scene.diverged_at is not None:
        return diverged_titles(scene)
    if scene.rivals:
        return race_titles("data and each contender's line", scene, "─")
    line = f"H(x) = {number(scene.w)}·x"
    if scene.b is not None:
        line += f" {'-' if scene.b < 0 else '+'} {number(abs(scene.b))}"
    return [f"data ({scene.dataset.size:,} points) and the fitted line {line}", line]
