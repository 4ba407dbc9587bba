"""`lrtui describe`: the facts of a problem, worked out without training.

The data's size and spread, the least-squares optimum and the curvature of the cost as it
is trained (loss, reduction and bias included), with what the curvature predicts for gradient
descent. JSON has exactly the keys of ``FACTS``, null where one does not apply.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..engine.run import Run

FACTS: tuple[str, ...] = (
    "n",
    "x_mean",
    "x_std",
    "optimum_w",
    "optimum_b",
    "min_cost",
    "lambda_min",
    "lambda_max",
    "condition_number",
    "stable_lr_below",
    "best_lr",
    "momentum_beta",
    "momentum_lr",
    "predicted_epochs",
    # with weight decay (issue 30): torch's decay and, coupled, the minimum of J + decay/2 (W² + b²)
    "weight_decay",
    "decayed_optimum_w",
    "decayed_optimum_b",
    "decayed_lambda_min",
    "decayed_lambda_max",
    "decayed_stable_lr_below",
)

DESCRIPTION = (
    "Print the facts of the problem these flags set (optimum, curvature, best rates) without training."
)
FORMAT_HELP = "text: a line per fact, explained; json: one object with every fact (null where none applies)"


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def facts(run: Run) -> dict[str, Any]:
    """Every fact of ``FACTS`` for the problem of ``run`` (at its epoch 0)."""
    from ..engine.curvature import curvature_if_constant, predicted_for

    sums = run.dataset.sums
    surface = run.surface
    optimum = surface.optimum
    values: dict[str, Any] = dict.fromkeys(FACTS)
    values["n"] = sums.n
    values["x_mean"] = sums.x / sums.n
    # torch's x.std(): the n - 1 (Bessel) form, undefined for one point
    values["x_std"] = math.sqrt(sums.sxx / (sums.n - 1)) if sums.n > 1 else None
    values["optimum_w"] = optimum.w
    if run.dataset.features > 1:  # each feature's, and W's k values
        x = run.dataset.x_train.double()
        values["x_mean"] = x.mean(dim=0).tolist()
        values["x_std"] = x.std(dim=0).tolist() if sums.n > 1 else None
        values["optimum_w"] = None if optimum.ws is None else list(optimum.ws)
    values["optimum_b"] = optimum.b
    values["min_cost"] = optimum.cost
    curvature = curvature_if_constant(surface)
    values["predicted_epochs"] = predicted_for(surface, run.settings, _start(run))
    decay, decoupled = run.simulation.weight_decay()
    values["weight_decay"] = decay or None
    if curvature is None:
        return values
    if decay and not decoupled:
        decay_b = None if run.settings.decay_bias else 0.0
        ridge = surface.ridge_optimum(decay, decay_b)
        if ridge is not None:
            values["decayed_optimum_w"], values["decayed_optimum_b"] = ridge
        values["decayed_lambda_min"], values["decayed_lambda_max"] = surface.decayed_curvatures(
            decay, decay_b
        )
        values["decayed_stable_lr_below"] = 2 / values["decayed_lambda_max"]
    values["lambda_min"] = curvature.lambda_min
    values["lambda_max"] = curvature.lambda_max
    values["condition_number"] = _finite(curvature.condition_number)
    values["stable_lr_below"] = _finite(curvature.stable_lr)
    values["best_lr"] = curvature.best_lr
    values["momentum_beta"] = curvature.momentum_beta
    values["momentum_lr"] = curvature.momentum_lr
    return values


def _start(run: Run) -> tuple[float | tuple[float, ...], float | None]:
    return (run.weights if run.dataset.features > 1 else run.w), run.b


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "[" + ", ".join(_number(item) for item in value) + "]"
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def _explanations(run: Run, values: dict[str, Any]) -> dict[str, str]:
    """One line per fact, saying what it is (and why it is missing, where it is)."""
    from ..engine.curvature import COST_TOLERANCE, curvature_if_constant, predicted_epochs
    from ..engine.settings import LOSS_NAMES

    settings = run.settings
    surface = run.surface
    curvature = curvature_if_constant(surface)
    contraction = ""
    if curvature is not None and values["best_lr"]:
        contraction = f"; the error shrinks ×{curvature.contraction:.4g} per epoch"
    pair = ""
    if values["momentum_beta"] is not None:
        pair_epochs = predicted_epochs(surface, values["momentum_lr"], _start(run), values["momentum_beta"])
        pair = f"; together they reach the minimum at epoch {_number(pair_epochs)}"
    if values["predicted_epochs"] is not None:
        predicted = (
            f"the epoch this run ({_run_words(run)}) comes within {COST_TOLERANCE:g} of the minimum cost"
        )
    elif curvature is None:
        predicted = (
            f"none: the {LOSS_NAMES[settings.loss]} cost's curvature is not constant, so no prediction"
        )
    elif settings.optimizer != "sgd":
        predicted = "none: these formulas are for plain and momentum SGD, not an adaptive optimizer"
    elif not settings.zero_grad:
        predicted = "none: without zero_grad .grad sums every gradient and no lr converges"
    elif settings.weight_decay:
        predicted = "none: with weight decay the run settles at the decayed optimum, above the minimum cost"
    elif settings.dampening:
        predicted = "none: these formulas are for SGD without dampening"
    else:
        predicted = f"none: this lr does not bring the cost within {COST_TOLERANCE:g} of the minimum"
    flat = (
        ""
        if values["condition_number"] is not None or curvature is None
        else " (inf: the valley's floor is flat)"
    )
    across, along = "across the valley: its steep direction", "along the valley floor: its shallow direction"
    features = run.dataset.features
    if features > 1:
        size = features + int(settings.bias)
        across = f"along its steepest direction (the largest eigenvalue of the {size}x{size} Hessian)"
        along = f"along its shallowest direction (the smallest eigenvalue of the {size}x{size} Hessian)"
    elif not settings.bias:
        across = along = "in W, the only parameter (no bias: no valley)"
    explained = {
        "n": "points in the data",
        "x_mean": "the mean of x" + (", each feature's" if features > 1 else ""),
        "x_std": "the standard deviation of x, as torch's x.std() (n - 1)"
        + (", each feature's" if features > 1 else ""),
        "optimum_w": ("W' (for x' = (x - mean)/std, as trained)" if settings.standardize else "W")
        + (
            " of the line with the lowest cost"
            if features == 1
            else f" ({features} weights) with the lowest cost, from the normal equations"
        )
        + ("" if values["optimum_w"] is not None else ": none unique"),
        "optimum_b": "b of that line" + ("" if settings.bias else ": none, the model has no bias"),
        "min_cost": "the lowest cost any line reaches"
        + ("" if settings.loss == "mse" else f" ({LOSS_NAMES[settings.loss]}, found numerically)"),
        "lambda_min": "the cost's curvature " + along,
        "lambda_max": "the cost's curvature " + across,
        "condition_number": "κ = λmax/λmin, how much steeper across the valley than along it" + flat,
        "stable_lr_below": "plain gradient descent diverges at lr = 2/λmax or above"
        + (_why_small(values) if features > 1 and not settings.standardize else ""),
        "best_lr": "2/(λmin+λmax), the fastest fixed lr for plain gradient descent" + contraction,
        "momentum_beta": "heavy ball's best momentum ((√κ-1)/(√κ+1))²",
        "momentum_lr": "heavy ball's best lr 4/(√λmax+√λmin)² with that momentum" + pair,
        "predicted_epochs": predicted,
        **_decay_explanations(run, values),
    }
    if curvature is None:
        for name in FACTS[FACTS.index("lambda_min") : FACTS.index("predicted_epochs")] + FACTS[-5:]:
            explained[name] = f"none: the {LOSS_NAMES[settings.loss]} cost's curvature is not constant"
    return explained


def _why_small(values: dict[str, Any]) -> str:
    """With k features far from 0 (quiz scores near 90), λmax is huge: why Lab 4-1 uses lr 1e-5."""
    if values["stable_lr_below"] is None:
        return ""
    return (
        f"; features far from 0 (means {_number(values['x_mean'])}) make λmax large, so lr must stay"
        f" below {values['stable_lr_below']:.3g}: why Lab 4-1 uses lr 1e-5 (--standardize makes it round)"
    )


def _decay_explanations(run: Run, values: dict[str, Any]) -> dict[str, str]:
    decay, decoupled = run.simulation.weight_decay()
    if not decay:
        none = "none: no weight decay"
        return {"weight_decay": none, **{name: none for name in FACTS[-5:]}}
    name = run.settings.optimizer
    if decoupled:
        none = "none: decoupled decay shrinks W and b directly; the run settles elsewhere, not at a ridge optimum"
        return {"weight_decay": f"{name}'s weight_decay (decoupled)", **{fact: none for fact in FACTS[-5:]}}
    return {
        "weight_decay": f"{name}'s weight_decay, added to the gradient as decay × W (and × b)",
        "decayed_optimum_w": "W where the run settles: the minimum of J + decay/2 "
        + ("(W² + b²)" if run.settings.decay_bias else "W² (b left out)")
        + ", the ridge solution",
        "decayed_optimum_b": "b of it" + ("" if run.settings.bias else ": none, the model has no bias"),
        "decayed_lambda_min": "the curvature along the valley with decay"
        + (": λmin + decay" if run.settings.decay_bias else " on W only"),
        "decayed_lambda_max": "the curvature across the valley with decay"
        + (": λmax + decay" if run.settings.decay_bias else " on W only"),
        "decayed_stable_lr_below": "SGD with this decay diverges at lr = 2/(λmax + decay) or above",
    }


def _run_words(run: Run) -> str:
    settings = run.settings
    words = f"SGD lr {settings.learning_rate:g}"
    if settings.momentum:
        words += f", {'Nesterov ' if settings.nesterov else ''}momentum {settings.momentum:g}"
    return words


def write(run: Run, format: str, out: TextIO) -> None:
    """The facts of ``run``'s problem as text or one JSON object."""
    values = facts(run)
    if format == "json":
        out.write(json.dumps(values) + "\n")
        return
    explained = _explanations(run, values)
    width = max(len(_number(values[name])) for name in FACTS)
    names = max(len(name) for name in FACTS)
    for name in FACTS:
        out.write(f"{name:<{names}} {_number(values[name]):>{width}}  {explained[name]}\n")
