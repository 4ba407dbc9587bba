"""With k > 1 features, the scene of a 2-D slice: the cost over two parameters of θ = (w1..wk, b)
with every other held at its current value, the path, the current point and the next step
projected onto those two.

The pair shown starts as the two parameters with the largest gradient at the run's start point
(``default_pair``): the two the first step moves most, so the first steps are seen, not a
flat line; it stays the same for the run (a pair that jumped with the gradient would make the
path jump too), and the ``s`` key cycles through every pair (``next_pair``).
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import numpy as np

from ..engine import EpochRecord
from ..engine.features import FeatureSurface
from ..engine.history import History
from ..engine.race import Race
from ..engine.run import Run
from .scene import (
    PATH_POINTS,
    RIVAL_POINTS,
    RivalScene,
    Scene,
    SliceInfo,
    Track,
    epoch_means,
    history_positions,
    history_values,
    predicted_of,
    reached_at,
    scene_of,
    thin_indices,
)


def scene_for(race: Race, peeked: EpochRecord | None = None, pair: tuple[int, int] | None = None) -> Scene:
    """``scene_of`` the race, or with k > 1 features its slice over ``pair`` (None: the default)."""
    leader = race.leader
    if leader.dataset.features == 1:
        return scene_of(race, peeked)
    if peeked is None and not leader.diverged:
        peeked = leader.peek()
    return slice_scene(race, peeked, pair, predicted_of(leader))


def pairs(surface: FeatureSurface) -> list[tuple[int, int]]:
    """Every pair of θ's parameters, in order: (w1, w2), (w1, w3), ..., (wk, b); then each
    parameter alone, (i, -1): the curve J(θ_i) with its tangent, as J(W) is without bias."""
    count = len(surface.names)
    return [*combinations(range(count), 2), *((i, -1) for i in range(count))]


def default_pair(surface: FeatureSurface, theta: np.ndarray) -> tuple[int, int]:
    """The two parameters with the largest |∂J/∂θ| at ``theta`` (the start), in θ's order."""
    gradient = np.abs(surface.gradient_at(theta))
    gradient = np.where(np.isfinite(gradient), gradient, 0.0)
    top = np.argsort(-gradient, kind="stable")[:2]
    first, second = sorted(int(i) for i in top)
    return first, second


def next_pair(surface: FeatureSurface, pair: tuple[int, int]) -> tuple[int, int]:
    every = pairs(surface)
    return every[(every.index(pair) + 1) % len(every)] if pair in every else every[0]


def parse_pair(surface: FeatureSurface, text: str) -> tuple[int, int]:
    """``w1,b`` or ``w2 w3`` as a pair of θ's indices; ValueError naming the parameters it takes."""
    names = [part for part in text.replace(",", " ").split() if part]
    known = {name: index for index, name in enumerate(surface.names)}
    if len(names) == 1 and names[0] in known:
        return known[names[0]], -1
    if len(names) != 2 or names[0] == names[1] or any(name not in known for name in names):
        raise ValueError(f"a slice is over one or two of {', '.join(surface.names)} (got {text!r})")
    first, second = sorted((known[names[0]], known[names[1]]))
    return first, second


def start_theta(run: Run, surface: FeatureSurface) -> np.ndarray:
    """θ at the run's epoch 0 (from its first record, or now before any step)."""
    history = run.history
    if len(history) and history.epochs[0] == 0:
        first = history.record(0)
        return surface.theta(first.weights(), first.b)
    return surface.theta(run.weights, run.b)


def parameter_values(history: History, index: int, indices: np.ndarray, name: str = "ws") -> np.ndarray:
    """θ_index of each record at ``indices`` (b is ``history.columns['b']``)."""
    k = history.features
    if index == k:
        return history_values(history, "b", indices)
    if not len(history):
        return np.empty(0)
    view = np.frombuffer(history.vectors[name], dtype=np.float64)
    values = view[indices * k + index].copy()
    del view  # a live view would stop the array from growing
    return values


def _bounds(values: np.ndarray) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else None


def slice_track(history: History, pair: tuple[int, int], limit: int = PATH_POINTS) -> Track:
    indices = thin_indices(len(history), limit - 1)
    every = np.arange(len(history))
    i, j = pair
    last = history.last
    end = None
    if last is not None:
        after = (*last.weights("w_next"), last.b_next if last.b_next is not None else 0.0)
        end = (after[i], after[j] if j >= 0 else 0.0)
    one = j < 0  # a curve over one parameter: no second axis
    return Track(
        epochs=history_positions(history, indices),
        w=parameter_values(history, i, indices),
        b=np.zeros(len(indices)) if one else parameter_values(history, j, indices),
        cost=history_values(history, "cost", indices),
        end=end,
        w_bounds=_bounds(parameter_values(history, i, every)),
        b_bounds=None if one else _bounds(parameter_values(history, j, every)),
    )


def project(record: EpochRecord | None, pair: tuple[int, int]) -> EpochRecord | None:
    """The record with (W, b) read as the pair's two parameters."""
    if record is None:
        return None
    i, j = pair

    def of(name: str, b: float | None) -> tuple[float, float | None]:
        values = (*record.weights(name), 0.0 if b is None else b)
        return values[i], (values[j] if j >= 0 else None)  # one parameter: a curve, no second

    w, b = of("w", record.b)
    grad_w, grad_b = of("grad_w", record.grad_b)
    w_next, b_next = of("w_next", record.b_next)
    fresh_w, fresh_b = of("fresh_grad_w", record.fresh_grad_b)
    return replace(
        record, w=w, b=b, grad_w=grad_w, grad_b=grad_b, w_next=w_next, b_next=b_next,
        fresh_grad_w=fresh_w, fresh_grad_b=fresh_b, ws=None, grad_ws=None, fresh_grad_ws=None, ws_next=None,
    )  # fmt: skip


def slice_scene(
    race: Race, peeked: EpochRecord | None, pair: tuple[int, int] | None, predicted: int | None
) -> Scene:
    """The leader's slice over ``pair`` (None: ``default_pair``) at its current θ, with its rivals."""
    leader = race.leader
    surface = leader.surface
    assert isinstance(surface, FeatureSurface)
    if pair is None or pair not in pairs(surface):
        pair = default_pair(surface, start_theta(leader, surface))
    theta = surface.theta(leader.weights, leader.b)
    here = surface.slice(pair, theta)
    i, j = pair
    pinned = tuple((name, float(theta[p])) for p, name in enumerate(surface.names) if p not in pair)
    rivals = []
    for run in race.rivals:
        at = surface.theta(run.weights, run.b)
        track = slice_track(run.history, pair, RIVAL_POINTS)
        rivals.append(
            RivalScene(
                run.letter,
                run.settings,
                track,
                float(at[i]),
                float(at[j]) if j >= 0 else None,
                run.diverged_at,
            )
        )
    return Scene(
        settings=leader.settings,
        surface=here,
        dataset=leader.dataset,
        track=slice_track(leader.history, pair),
        last=project(leader.history.last, pair),
        w=float(theta[i]),
        b=float(theta[j]) if j >= 0 else None,
        next=project(peeked, pair),
        diverged_at=leader.diverged_at,
        rivals=tuple(rivals),
        epoch_means=epoch_means(leader.history) if leader.settings.mini_batches else None,
        predicted=predicted,
        reached_at=reached_at(leader),
        slice=SliceInfo((surface.names[i], surface.names[j] if j >= 0 else ""), pinned),
        pair=pair,
        full_surface=surface,
    )
