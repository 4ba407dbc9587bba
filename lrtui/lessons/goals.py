"""Whether a lesson's goal is met, read from the run the learner is driving."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import EpochRecord, Simulation
from ..engine.run import Run


def goal_met(goal: dict[str, Any], run: Run) -> bool:
    """True once the run does what the goal asks; a run that diverged meets no goal."""
    if run.diverged or run.last is None:
        return False
    return CHECKS[goal["kind"]](goal, run, run.last)


def _cost_below(goal: dict[str, Any], run: Run, record: EpochRecord) -> bool:
    return record.epoch >= goal["epoch"] and record.cost < goal["cost"]


def _w_near(goal: dict[str, Any], run: Run, record: EpochRecord) -> bool:
    return record.epoch >= goal["epoch"] - 1 and abs(run.w - goal["w"]) <= goal["tolerance"]


def _grad_grown(goal: dict[str, Any], run: Run, record: EpochRecord) -> bool:
    if run.settings.zero_grad or record.fresh_grad_w == 0:
        return False
    return record.grad_w / record.fresh_grad_w >= goal["times"] - 1e-3


_mean_paths: dict[tuple, list[float]] = {}


def _same_as_mean(goal: dict[str, Any], run: Run, record: EpochRecord) -> bool:
    """With the sum loss, W at the goal's epoch equals the mean loss's run with the lesson's
    own learning rate (which the learner has to divide by n)."""
    settings = run.settings
    epoch = record.epoch
    if settings.loss_reduction != "sum" or epoch < goal["epoch"]:
        return False
    mean = settings.with_changes(loss_reduction="mean", learning_rate=goal.get("learning_rate", 0.01))
    key = (mean, id(run.dataset))
    if key not in _mean_paths:
        _mean_paths.clear()
        reference = Simulation(mean, dataset=run.dataset)
        _mean_paths[key] = [step.w_next for step in reference.run(goal["epoch"] + 1)]
    if any(rate != settings.learning_rate for rate in run.history.columns["learning_rate"]):
        return False  # the learning rate was changed on the way
    index = bisect.bisect_left(run.history.epochs, goal["epoch"])
    if index == len(run.history) or run.history.epochs[index] != goal["epoch"]:
        return False
    return abs(run.history.record(index).w_next - _mean_paths[key][goal["epoch"]]) <= goal["tolerance"]


def _near_the_limit(goal: dict[str, Any], run: Run, record: EpochRecord) -> bool:
    """Converged to the least-squares cost, every epoch at a learning rate close to the limit."""
    surface = run.surface
    best = surface.optimum.cost
    if best is None or not math.isfinite(surface.stability_limit):
        return False
    lowest_rate = min(run.history.columns["learning_rate"], default=0.0)
    close_to_limit = lowest_rate >= goal["fraction"] * surface.stability_limit
    return close_to_limit and record.cost <= best * (1 + goal["cost_margin"])


def _full_cost(run: Run) -> float:
    """The cost of the whole data where W and b stand now (whatever the batch size)."""
    surface = run.surface
    if run.dataset.features > 1:
        from ..engine.features import FeatureSurface

        assert isinstance(surface, FeatureSurface)
        return surface.cost_at(surface.theta(run.weights, run.b))
    return surface.cost(run.w, run.b)


def _batches_reach(goal: dict[str, Any], run: Run, record: EpochRecord) -> bool:
    """With small enough (and, if asked, shuffled) mini-batches, the full-data cost below the
    goal's at the end of an epoch no later than the goal's."""
    settings = run.settings
    if settings.batch_size is None or settings.batch_size > goal["batch_size"]:
        return False
    if goal.get("shuffle") and not settings.shuffle:
        return False
    return run.batch == 0 and record.epoch <= goal["epoch"] and _full_cost(run) < goal["cost"]


def _schedule_rescues(goal: dict[str, Any], run: Run, record: EpochRecord) -> bool:
    """With a schedule, a run that started at the goal's lr (or more) reaches the least-squares
    cost by the goal's epoch."""
    best = run.surface.optimum.cost
    rates = run.history.columns["learning_rate"]
    if run.settings.scheduler == "none" or best is None or not rates or run.first_step != 0:
        return False
    if rates[0] < goal["learning_rate"] or record.epoch > goal["epoch"]:
        return False
    return _full_cost(run) <= best * (1 + goal["cost_margin"])


def _arrives_as_predicted(goal: dict[str, Any], run: Run, record: EpochRecord) -> bool:
    """With x standardized, the cost came within 1e-6 of the minimum by epoch ``within``, and at
    the epoch the curvature predicted for the run's settings (within ``tolerance`` epochs)."""
    from ..engine.curvature import COST_TOLERANCE, actual_epoch, predicted_for

    best = run.surface.optimum.cost
    if not run.settings.standardize or best is None or record.cost - best > COST_TOLERANCE:
        return False
    history = run.history
    if not len(history) or history.epochs[0] != 0:
        return False
    first = history.record(0)
    predicted = predicted_for(run.surface, run.settings, (first.w, first.b))
    costs = np.frombuffer(history.columns["cost"], dtype=np.float64)
    epochs = np.frombuffer(history.epochs, dtype=np.int64)
    reached = actual_epoch(costs, epochs, best)
    del costs, epochs  # live views would stop the arrays from growing
    if predicted is None or reached is None:
        return False
    return reached <= goal["within"] and abs(reached - predicted) <= goal["tolerance"]


def _accumulated_in_phases(goal: dict[str, Any], run: Run, record: EpochRecord) -> bool:
    """With zero_grad off, a step run phase by phase (p) in which AccumulateGrad added the fresh
    gradient to a .grad held from the step before."""
    return not run.settings.zero_grad and run.phase == "step" and record.grad_w != record.fresh_grad_w


def _standardized_features(goal: dict[str, Any], run: Run, record: EpochRecord) -> bool:
    """Several features standardized, a learning rate at least the goal's the whole run (ten
    thousand times Lab 4-1's), and the cost below the goal's by its epoch."""
    rates = run.history.columns["learning_rate"]
    if not run.settings.standardize or run.dataset.features < 2 or not rates or run.first_step != 0:
        return False
    if min(rates) < goal["learning_rate"] or record.epoch > goal["epoch"]:
        return False
    return record.cost < goal["cost"]


def _settles_at_ridge(goal: dict[str, Any], run: Run, record: EpochRecord) -> bool:
    """Coupled weight decay of at least ``decay``: W and b within ``tolerance`` of the ridge
    optimum (the minimum of J + decay/2 (W² + b²)) from epoch ``epoch`` on."""
    decay, decoupled = run.simulation.weight_decay()
    if decoupled or decay < goal["decay"] or record.epoch < goal["epoch"] or run.settings.loss != "mse":
        return False
    ridge = run.surface.ridge_optimum(decay, None if run.settings.decay_bias else 0.0)
    if ridge is None:
        return False
    near = abs(run.w - ridge[0]) <= goal["tolerance"]
    return near and (ridge[1] is None or run.b is not None and abs(run.b - ridge[1]) <= goal["tolerance"])


CHECKS: dict[str, Callable[[dict[str, Any], Run, EpochRecord], bool]] = {
    "cost_below": _cost_below,
    "w_near": _w_near,
    "grad_grown": _grad_grown,
    "same_as_mean": _same_as_mean,
    "near_the_limit": _near_the_limit,
    "batches_reach": _batches_reach,
    "schedule_rescues": _schedule_rescues,
    "arrives_as_predicted": _arrives_as_predicted,
    "accumulated_in_phases": _accumulated_in_phases,
    "standardized_features": _standardized_features,
    "settles_at_ridge": _settles_at_ridge,
}
