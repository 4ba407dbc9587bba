"""How records are written out: the lessons' log line, and rows for CSV and JSON Lines."""

from __future__ import annotations

import bisect
import csv
import math
import os
from typing import TYPE_CHECKING, Any, TextIO

from .files import write_atomically
from .record import EpochRecord
from .settings import OPTIMIZER_NAMES, Settings
from .surface import CostSurface

if TYPE_CHECKING:
    from .history import History
    from .run import Run
    from .scaling import Scaling

COLUMNS: tuple[str, ...] = ("epoch", "w", "b", "cost", "grad_w", "grad_b", "w_next", "b_next")
# Added to the rows of runs with mini-batches or a schedule: the batch (None with the full
# batch) and the lr the step used.
LOOP_COLUMNS: tuple[str, ...] = (*COLUMNS, "batch", "learning_rate")
# Added for L-BFGS: how many times its step evaluated the closure.
CLOSURE_COLUMNS: tuple[str, ...] = ("evaluations",)
HISTORY_COLUMNS: tuple[str, ...] = (*COLUMNS, "fresh_grad_w", "fresh_grad_b", "learning_rate", "step_refused")


def position(record: EpochRecord) -> float:
    """Where in the run a step started, in epochs: its epoch, plus the part of the epoch its
    batch starts at with mini-batches (``Run.position`` before it)."""
    return record.epoch if record.batch is None else record.step / record.batches


def log_line(
    record: EpochRecord,
    epochs: int,
    contender: str = "",
    style: str = "after-step",
    hypothesis: str | None = None,
) -> str:
    """The line the lessons print, in the print style (``PRINT_STYLES``): after-step, W and b
    after the step with the cost computed in that epoch (Lab 2); before-step, W and b before the
    step, where that cost was computed (Lab 3); loss, the nn.Module lesson's
    ``f'Epoch: {epoch} | Loss: {loss.item()} '``. In a race, the contender's letter follows the
    epoch. With mini-batches, the lessons' batch line: the batch's number and its cost. With k
    features, Lab 4-1's line: the ``hypothesis`` of the epoch's forward pass as torch prints it
    (``trainer.hypothesis_text``). L-BFGS's lines end with how many times its step called the
    closure."""
    who = f"{contender} " if contender else ""
    evaluations = f" Evaluations: {record.evaluations}" if record.probes else ""
    if style == "loss":
        batch = "" if record.batch is None else f"Batch: {record.batch}/{record.batches} | "
        return f"Epoch: {record.epoch} | {who}{batch}Loss: {record.cost} "
    if record.batch is not None:
        batch = f"Epoch {record.epoch:4d}/{epochs} {who}Batch {record.batch}/{record.batches}"
        return f"{batch} Cost: {record.cost:.6f}{evaluations}"
    if hypothesis is not None:
        return f"Epoch {record.epoch:4d}/{epochs} {who}hypothesis: {hypothesis} Cost: {record.cost:.6f}{evaluations}"
    w, b = printed_point(record, style)
    start = f"Epoch {record.epoch:4d}/{epochs} {who}W: {w:.3f}"
    if b is None:
        return f"{start}, Cost: {record.cost:.6f}{evaluations}"
    return f"{start}, b: {b:.3f} Cost: {record.cost:.6f}{evaluations}"


def printed_point(record: EpochRecord, style: str) -> tuple[float, float | None]:
    """The W and b a log line in ``style`` prints: before the step or after it. A batch line
    prints the batch's cost alone, the same before the step or after it, so it stands after."""
    if style == "before-step" and record.batch is None:
        return record.w, record.b
    return record.w_next, record.b_next


def x_units_suffix(record: EpochRecord, scaling: Scaling, style: str) -> str:
    """What a standardized run's log line adds: its W and b in x's own units (none for the
    loss line, which prints no W)."""
    if style == "loss":
        return ""
    if record.ws_next is not None:  # several features: Lab 4-1's line prints no W, so W after the step
        from .scaling import original_suffix

        return original_suffix(record, scaling)
    w, b = scaling.original(*printed_point(record, style))
    return f" | original x: W: {w:.3f}, b: {b:.3f}"


def logged(record: EpochRecord, log_every: int) -> bool:
    """Whether an epoch gets a log line: every ``log_every``-th, and any that went non-finite."""
    return record.epoch % log_every == 0 or not record.finite


# W's columns, which hold k numbers with k features (a list in JSON, w1..wk in CSV).
WEIGHT_COLUMNS = frozenset({"w", "grad_w", "w_next", "fresh_grad_w", "w_orig"})


def row(record: EpochRecord, columns: tuple[str, ...] = COLUMNS) -> dict[str, Any]:
    """The record's columns by name (b columns are None without bias); W's columns are lists
    of k numbers with k features."""
    if record.ws is None:
        return {column: getattr(record, column) for column in columns}
    return {
        column: list(record.weights(column)) if column in WEIGHT_COLUMNS else getattr(record, column)
        for column in columns
    }


def json_row(record: EpochRecord, columns: tuple[str, ...] = COLUMNS) -> dict[str, Any]:
    """``row`` with non-finite numbers as None, since JSON has no NaN or infinity."""
    return {column: _json_value(value) for column, value in row(record, columns).items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


def wide_columns(columns: tuple[str, ...], features: int) -> tuple[str, ...]:
    """CSV's columns for k features: ``w`` becomes ``w1..wk``, ``grad_w`` ``grad_w1..grad_wk``..."""
    if features == 1:
        return columns
    return tuple(
        name
        for column in columns
        for name in (
            [f"{column}{j}" for j in range(1, features + 1)] if column in WEIGHT_COLUMNS else [column]
        )
    )


def wide_row(values: dict[str, Any]) -> list[Any]:
    """A row's cells for CSV, W's lists spread over their k columns (``wide_columns``)."""
    cells: list[Any] = []
    for value in values.values():
        if isinstance(value, list):
            cells.extend(value)
        else:
            cells.append(value)
    return cells


# How far the first step of each adaptive optimizer moves a parameter, in learning rates:
# Adam, AdamW, Adamax and Adagrad divide the gradient by its own size, RMSprop (torch's alpha
# 0.99, not centered) by 0.1 of it (sqrt(1 - 0.99)).
FIRST_STEP_IN_LRS = {"adam": 1, "adamw": 1, "adamax": 1, "adagrad": 1, "rmsprop": 10}
# Optimizers whose steps scale with the learning rate rather than with the gradient.
SCALE_FREE = frozenset(
    {"adam", "adamw", "adamax", "adagrad", "rmsprop", "adadelta", "nadam", "radam", "rprop"}
)


def first_step_in_lrs(settings: Settings) -> float | None:
    """FIRST_STEP_IN_LRS where it holds: RMSprop's only with torch's alpha and not centered."""
    if settings.optimizer == "rmsprop" and (settings.alpha is not None or settings.centered):
        return None
    return FIRST_STEP_IN_LRS.get(settings.optimizer)


def stable_below(settings: Settings, surface: CostSurface) -> tuple[str, float] | None:
    """Who has a fixed stability limit here and what it is (``CostSurface.limit_for``), named
    for a sentence: None for adaptive optimizers and for .grad adding up with zero_grad off."""
    limit = surface.limit_for(settings).limit
    if limit is None:
        return None
    momentum = settings.momentum
    if momentum == 0:
        return "plain gradient descent", limit
    kind = "Nesterov momentum" if settings.nesterov else "momentum"
    return f"SGD with {kind} {momentum:g}", limit


def _what_went_wrong(record: EpochRecord) -> str:
    if record.step_refused:
        at = f"W = {record.w_next:.4g}" + ("" if record.b_next is None else f", b = {record.b_next:.4g}")
        kept = "W and b stay" if record.b_next is not None else "W stays"
        return f"the optimizer's step overflowed float32, so torch refused to take it: {kept} at {at}"
    values = {
        "cost": record.cost,
        "W.grad": record.grad_w,
        "b.grad": record.grad_b,
        "W": record.w_next,
        "b": record.b_next,
    }
    return ", ".join(
        f"{name} = {value}"
        for name, value in values.items()
        if value is not None and not math.isfinite(value)
    )


def _optimum_text(surface: CostSurface) -> str:
    """Where the optimum is, as an aside."""
    optimum = surface.optimum
    if not optimum.unique:
        return "there is no single optimum"
    assert optimum.w is not None
    w = _weights(optimum.ws) if optimum.ws is not None else f"{optimum.w:.4g}"
    return f"the optimum: W = {w}" + ("" if optimum.b is None else f", b = {optimum.b:.4g}")


def _weights(values: tuple[float, ...]) -> str:
    """W's k values, ``[0.2941, 0.2936, 0.2974]``."""
    return "[" + ", ".join(f"{value:.4g}" for value in values) + "]"


def _named(bias: bool) -> str:
    return "W and b" if bias else "W"


def _parameters(record: EpochRecord) -> str:
    w = _weights(record.ws) if record.ws is not None else f"{record.w:.4g}"
    return f"W = {w}" + ("" if record.b is None else f", b = {record.b:.4g}")


def divergence_of(run: Run, *, keys: bool = False) -> str:
    """What went non-finite and at which epoch, why, and what would hold; with ``keys``, how
    the app gets back to the last stable epoch (``Run.last_stable_epoch``)."""
    record = run.last
    assert record is not None and run.diverged_at is not None
    settings, surface, history = run.settings, run.surface, run.history
    lr = record.learning_rate
    stable = run.last_stable_epoch()
    lowest = history.record(_index_of(history, stable)) if stable is not None else record
    grew = stable is not None and stable < record.epoch
    limit = stable_below(settings, surface)
    parts = [f"diverged at epoch {record.epoch} ({_what_went_wrong(record)})."]
    if record.epoch == 0 and not math.isfinite(record.cost):
        parts.append(
            f"The cost at the starting point ({_parameters(record)}) already overflows float32: the"
            " data (or the initial W and b) are too large for their squares to fit; scale them down."
        )
        return " ".join(parts)
    then = "" if lowest.learning_rate == lr else f", with lr {lowest.learning_rate:g}"
    growth = f"the cost was lowest at epoch {lowest.epoch} ({lowest.cost:.4g}{then}) and grew from there"
    params = _named(run.bias)
    if not settings.zero_grad:
        parts.append(
            "zero_grad is off, so each step used the sum of the gradients of every epoch so far, not"
            f" this epoch's alone{'; ' + growth if grew else ''}."
        )
    elif limit is None and settings.optimizer not in SCALE_FREE:
        parts.append(
            f"{OPTIMIZER_NAMES[settings.optimizer]} has no stability limit worked out here; lr {lr:g} threw"
            f" {params} far past the optimum ({_optimum_text(surface)}). Try a smaller learning rate."
        )
    elif limit is None:
        name = OPTIMIZER_NAMES[settings.optimizer]
        factor = first_step_in_lrs(settings)
        first = ""  # how far its first step moves, for the optimizers FIRST_STEP_IN_LRS knows
        if factor is not None:
            each = " each" if run.bias else ""
            first = f" (its first step moves {params} by {'lr' if factor == 1 else f'{factor} × lr'}{each})"
        parts.append(
            f"{name} has no fixed stability limit: its steps scale with the learning rate, not with the"
            f" gradient{first}, so lr {lr:g} {'would throw' if record.step_refused else 'throws'}"
            f" {'them' if run.bias else 'it'} far past"
            f" the optimum ({_optimum_text(surface)}). Use a learning rate on the scale of the distance"
            f" {params} {'have' if run.bias else 'has'} to travel."
        )
    else:
        who, below = limit
        if lr >= below:
            parts.append(
                f"{who[0].upper()}{who[1:]} on this data and loss converges only for learning rates below"
                f" {below:.4g}; this run used {lr:g}."
            )
            if grew:
                parts.append(f"{growth[0].upper()}{growth[1:]}.")
        else:
            parts.append(
                f"This run used lr {lr:g}, below the limit {below:.4g} for {who} on this data and loss,"
                + (
                    f" but {params} had already grown far from the optimum: {growth}, up to"
                    f" {_parameters(record)} before epoch {record.epoch} ({_optimum_text(surface)})."
                    if grew
                    else f" yet its step overflowed from {_parameters(record)} ({_optimum_text(surface)})."
                )
            )
            if not (math.isfinite(record.cost) and math.isfinite(record.grad_w)):
                parts.append("There the cost overflows float32 whatever the learning rate.")
    if keys and stable is not None and stable >= run.first_epoch:
        back = run.epoch - stable
        way = f"u goes back {back} epoch{'s' if back != 1 else ''}, to before epoch {stable}, in one press"
        if not settings.zero_grad:
            way += "; z turns zero_grad on"
        elif limit is None:
            way += "; then type a smaller learning rate into the lr field"
        else:
            way += f"; then lower the learning rate below {limit[1]:.4g} with -"
        parts.append(f"{way}.")
    return " ".join(parts)


def _index_of(history: History, epoch: int) -> int:
    """The index of ``epoch``'s record, which the history holds."""
    index = bisect.bisect_left(history.epochs, epoch)
    assert history.epochs[index] == epoch
    return index


def stepped_back_from_divergence(run: Run, epochs_back: int, diverged_at: int) -> str:
    """What ``Race.undo_to_stable`` did, said after it: how far back, why, and the way on."""
    settings = run.settings
    lr = settings.learning_rate
    where = "before epoch 0" if run.last is None else f"after epoch {run.last.epoch} (next epoch {run.epoch})"
    text = (
        f"undo: back {epochs_back} epoch{'s' if epochs_back != 1 else ''} from the divergence at epoch"
        f" {diverged_at}, to {where}, the last point before the cost only grew ({_parameters_now(run)})."
    )
    limit = stable_below(settings, run.surface)
    if not settings.zero_grad:
        return f"{text} zero_grad is off: z turns it on."
    if limit is None:
        return f"{text} lr is {lr:g}: type a smaller learning rate into the lr field before running on."
    who, below = limit
    if lr < below:
        return f"{text} lr is {lr:g}, below the limit {below:.4g} for {who}."
    halvings = 1
    while lr / 2**halvings >= below:
        halvings += 1
    presses = "once" if halvings == 1 else f"{halvings} times"
    return (
        f"{text} lr is {lr:g} again, not below the limit {below:.4g} for {who}: press - {presses}"
        f" (lr {lr / 2**halvings:g}) before running on."
    )


def _parameters_now(run: Run) -> str:
    b = run.b
    w = _weights(run.weights) if run.dataset.features > 1 else f"{run.w:.4g}"
    return f"W = {w}" + ("" if b is None else f", b = {b:.4g}")


def export_history_csv(path: str | os.PathLike[str], history: History) -> None:
    """Every epoch of the history as CSV (b columns empty without bias), written atomically."""
    write_atomically(path, lambda out: write_history_csv(out, history))


def write_history_csv(out: TextIO, history: History) -> None:
    """Every epoch of the history as CSV to ``out`` (a file, or a download's text); with
    mini-batches, a row per batch, numbered after its epoch; with k features, w1..wk."""
    columns = HISTORY_COLUMNS if not any(history.batch) else ("epoch", "batch", *HISTORY_COLUMNS[1:])
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(wide_columns(columns, history.features))
    for record in history:
        cells = (
            wide_row(row(record, columns)) if record.ws is not None else [getattr(record, n) for n in columns]
        )
        writer.writerow(["" if value is None else value for value in cells])
