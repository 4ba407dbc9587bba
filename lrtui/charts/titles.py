"""The words on a chart: each view's titles, a race's legend, the divergence message and the
learning-rate note. Each is a list, longest first: the chart shows the first that fits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..engine.race import labels
from ..engine.scaling import scaling_of
from ..engine.settings import LOSS_NAMES, OPTIMIZER_NAMES
from .marks import (
    EPOCH_MEAN_LINE,
    FIT_LINE,
    FRESH_LINE,
    LEAST_SQUARES_LINE,
    PROBE_LINE,
    STEP_COST_LINE,
    TANGENT_LINE,
)
from .palette import (
    BATCH_OPTIMUM,
    BATCH_POINT,
    DIVERGED,
    EARLIER,
    FLOOR,
    FRESH_HEADS,
    LINE_KEYS,
    NOW,
    OPTIMUM,
    PROBE,
    RIDGE_OPTIMUM,
    STEP_HEADS,
)
from .scene import Scene, lowest_cost, ridge_optimum


def shortened(parts: Sequence[str], separator: str = "  ") -> list[str]:
    """The parts joined, then with the last ones left off, longest first."""
    return [separator.join(parts[:count]) for count in range(len(parts), 0, -1)]


def number(value: float) -> str:
    """A value to three significant digits."""
    return f"{value:.3g}"


def learning_rate_notes(scene: Scene) -> list[str]:
    """The learning rate and the limit that applies to this optimizer (``limit_for``): plain
    gradient descent's 2 / the largest curvature, a momentum run's own, or none for an
    adaptive optimizer; longest first."""
    limit = scene.surface.limit_for(scene.settings)
    rate = f"lr {scene.learning_rate:g}"
    if limit.limit is None:
        short = limit.none
    else:
        short = "stable for any lr" if math.isinf(limit.limit) else f"stable < {number(limit.limit)}"
    return [f"{rate} · {limit.text()}", f"{rate} · {short}", rate]


def curvature_notes(scene: Scene) -> list[str]:
    """κ and, for plain and momentum SGD, the epoch the curvature predicts the cost comes
    within 1e-6 of the minimum beside the epoch the run got there; longest first. None of
    it for a loss without constant curvature (L1, Huber)."""
    from ..engine.curvature import curvature_if_constant

    surface = scene.full_surface or scene.surface  # a slice's κ is the whole cost's
    curvature = curvature_if_constant(surface)
    if curvature is None or not surface.optimum.unique:
        return []
    kappa = f"κ {number(curvature.condition_number)}"
    settings = scene.settings
    if scene.raw_x:
        return [f"{kappa} over raw x: the valley standardizing removed", f"{kappa} over raw x"]
    if settings.optimizer != "sgd":
        return [
            f"{kappa} · predictions are for plain and momentum SGD, not {OPTIMIZER_NAMES[settings.optimizer]}",
            f"{kappa} · formulas for plain/momentum SGD only",
        ]
    if scene.predicted is None:
        return []
    if scene.reached_at is None and scene.finished and scene.last is not None:
        last = scene.last.epoch  # the run ended before the prediction: it will not get there
        return [
            f"{kappa} · minimum (±1e-6) predicted at epoch {scene.predicted}, not reached by epoch {last}",
            f"{kappa} · predicted epoch {scene.predicted}, not reached by {last}",
            f"{kappa} · predicted {scene.predicted}, not by {last}",
        ]
    reached = "not yet" if scene.reached_at is None else str(scene.reached_at)
    return [
        f"{kappa} · minimum (±1e-6) predicted at epoch {scene.predicted}, reached {reached}",
        f"{kappa} · predicted epoch {scene.predicted}, run {reached}",
        f"{kappa} · predicted {scene.predicted}, run {reached}",
    ]


def diverged_titles(scene: Scene) -> list[str]:
    """Which epoch diverged and the likely reason, naming the limit only where one applies;
    longest first."""
    epoch = f"diverged at epoch {scene.diverged_at}"
    learning_rate = scene.learning_rate
    settings = scene.settings
    limit = scene.surface.limit_for(settings)
    if limit.limit is not None and learning_rate >= limit.limit:
        above = f"learning rate {learning_rate:g} is above"
        if settings.momentum == 0:
            above += f" the stability limit {number(limit.limit)}"
        else:
            above += f" {number(limit.limit)}, the stability limit of {limit.rule}"
        return [
            f"{epoch} — {above}",
            f"{epoch} — lr {learning_rate:g} > stability limit {number(limit.limit)}",
            epoch,
        ]
    if not settings.zero_grad:
        reason = "zero_grad is off, so .grad kept growing"
    elif limit.limit is None:
        name = OPTIMIZER_NAMES[settings.optimizer]
        reason = f"{name}'s steps grow with lr, and lr {learning_rate:g} is too large here"
    else:  # below a limit that holds from any start: the run was already far out
        if settings.momentum > 0:
            grown = "W, b or the momentum" if scene.bias else "W or the momentum"
        else:
            grown = "W and b" if scene.bias else "W"
        reason = f"{grown} had already grown huge"
    if limit.limit is None:
        return [f"{epoch} — {reason}", epoch]
    return [
        f"{epoch} — learning rate {learning_rate:g} is below the stability limit {number(limit.limit)}, but {reason}",
        f"{epoch} — {reason}",
        epoch,
    ]


def with_last_point(titles: list[str]) -> list[str]:
    """Diverged titles, first with the key of the marker on the last finite point."""
    return [f"{titles[0]}  {DIVERGED} last finite point", *titles]


def keyed(heads: Sequence[str], keys: Sequence[str], drop: Sequence[int], last: str = "") -> list[str]:
    """Titles longest first: each head with every key, then the keys alone, then with the keys
    at ``drop`` (indices) left off one by one, then ``last``: the keys are what a learner
    needs to read the chart, the head names what it already shows."""
    titles = [join(head, *keys) for head in heads]
    kept = list(keys)
    titles.append(join(*kept))
    for index in drop:
        kept[index] = ""
        titles.append(join(*kept))
    titles.append(last)
    return list(dict.fromkeys(title for title in titles if title))


def join(*parts: str) -> str:
    return "  ".join(part for part in parts if part)


def arrow_keys(scene: Scene) -> list[str]:
    """The keys of the step arrows: one, or two told apart by head and line style with zero_grad off;
    none when no step comes next (a finished or diverged run)."""
    if scene.next is None:
        return []
    if scene.batch is not None:
        return batch_keys(scene)
    probes = len(scene.next.probes)
    if probes > 1:  # L-BFGS: the points its closure evaluates in the step
        return [f"{STEP_HEADS[0]} next step", f"{LINE_KEYS[PROBE_LINE]}{PROBE} its {probes} closure calls"]
    if scene.settings.zero_grad:
        return [f"{STEP_HEADS[0]} next step"]
    return [f"{STEP_HEADS[0]} step with .grad", f"{LINE_KEYS[FRESH_LINE]}{FRESH_HEADS[0]} fresh gradient"]


def batch_keys(scene: Scene) -> list[str]:
    """With mini-batches: the next batch's step, its own optimum and the full-data step."""
    batch = scene.batch
    assert batch is not None
    keys = [f"{STEP_HEADS[0]} batch {batch.number}/{batch.count} step"]
    if batch.optimum is not None:
        keys.append(f"{BATCH_OPTIMUM} its optimum")
    if scene.settings.zero_grad:
        keys.append(f"{LINE_KEYS[FRESH_LINE]}{FRESH_HEADS[0]} full-data step")
    else:
        keys.append(".grad accumulates")
    return keys


def short_arrow_keys(scene: Scene) -> str:
    """The arrows' keys for a narrow chart."""
    if scene.next is None:
        return ""
    if scene.batch is not None:
        batch = scene.batch
        return join(
            f"batch {batch.number}/{batch.count}", f"{BATCH_OPTIMUM} its optimum" if batch.optimum else ""
        )
    if scene.settings.zero_grad:
        return ""
    return join(f"{STEP_HEADS[0]} .grad step", f"{LINE_KEYS[FRESH_LINE]}{FRESH_HEADS[0]} fresh grad")


def loss_head(scene: Scene, head: str, stride: int = 1) -> str:
    """``cost J(W, b)`` with the loss named when it is not MSE, and the subset said when the
    surface was evaluated on every ``stride``-th point only."""
    loss = scene.settings.loss
    if loss != "mse":
        head = f"{LOSS_NAMES[loss]} {head}"
    if stride > 1:
        head += f" on every {ordinal(stride)} of {scene.dataset.size:,} points"
    return head


def ordinal(number: int) -> str:
    if number % 100 in (11, 12, 13):
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def pinned_text(scene: Scene, digits: int = 3) -> str:
    """``w2 = 0.294, b = 0.00342``: the parameters a slice holds where the run is now."""
    assert scene.slice is not None
    return ", ".join(f"{name} = {value:.{digits}g}" for name, value in scene.slice.pinned)


def slice_titles(scene: Scene, stride: int = 1) -> list[str]:
    """A slice's titles, longest first; every one says which parameters are pinned at what."""
    assert scene.slice is not None
    a, b = scene.slice.names
    others = len(scene.slice.pinned)
    pinned = f"at {pinned_text(scene)}"
    head = loss_head(scene, f"slice J({a}, {b})", stride)
    if scene.diverged_at is not None:
        return [join(head, pinned, *diverged_titles(scene)[:1]), join(head, pinned), f"J({a}, {b}) {pinned}"]
    minimum = f"{OPTIMUM} slice minimum" if scene.surface.optimum.unique else ""
    keys = [f"{NOW} now", minimum, *arrow_keys(scene)]
    few = f"at {pinned_text(scene, 2)}"
    return [
        join(head, pinned, *keys),
        join(head, pinned, *keys[:2]),
        join(head, pinned),
        join(f"J({a}, {b})", few),
        f"J({a}, {b}), the {others} others pinned where they are now",
        f"J({a}, {b}), {others} pinned",
    ]


def surface_titles(scene: Scene, stride: int = 1) -> list[str]:
    """The cost surface's titles: the key of its markers and arrows, longest first."""
    if scene.slice is not None:
        return slice_titles(scene, stride)
    if scene.diverged_at is not None:
        return with_last_point(diverged_titles(scene))
    if scene.settings.standardize:  # which x the surface is over, and the key that switches
        over = "raw x: W, b in x's units  t: x'" if scene.raw_x else "x' = (x - μ)/σ  t: raw x"
        head = loss_head(scene, f"cost J(W, b) over {over}", stride)
        keys = [f"{NOW} now", f"{OPTIMUM} optimum", *axes_keys(scene)]
        short = "over raw x  t: x'" if scene.raw_x else "over x'  t: raw x"
        return [join(head, *keys), join(head, *keys[:2]), head, short]
    if scene.settings.loss != "mse" or stride > 1:
        head = loss_head(scene, "cost J(W, b)", stride)
        keys = [f"{NOW} now", f"{OPTIMUM} optimum" if scene.surface.optimum.unique else "no single optimum"]
        return keyed([head], keys, [1, 0], head if stride > 1 else "")
    optimum = f"{OPTIMUM} optimum" if scene.surface.optimum.unique else "no single optimum"
    if scene.rivals:
        tail = [optimum] if scene.settings.zero_grad else [optimum, *arrow_keys(scene)]
        return race_titles("cost J(W, b)", scene, NOW, tail)
    keys = [f"{NOW} now", optimum, *decay_keys(scene), *arrow_keys(scene), *axes_keys(scene)]
    return keyed(["cost J(W, b), log levels", "cost J(W, b)"], keys, [1, 0], short_arrow_keys(scene))


def decay_keys(scene: Scene) -> list[str]:
    """With weight decay: where it settles (coupled), or that it is not there (decoupled)."""
    if scene.weight_decay <= 0:
        return []
    if scene.decoupled_decay:
        return [f"decoupled decay {scene.weight_decay:g}: settles off {OPTIMUM}, not at a ridge optimum"]
    return [f"{RIDGE_OPTIMUM} optimum with L2 decay {scene.weight_decay:g}"] if ridge_optimum(scene) else []


def axes_keys(scene: Scene) -> list[str]:
    """The key of the principal axes drawn through the optimum, where they are drawn."""
    from .marks import AXIS_LINE, principal_axes

    return [f"{LINE_KEYS[AXIS_LINE]} steep/shallow axes"] if principal_axes(scene) is not None else []


def race_titles(head: str, scene: Scene, leader: str, tail: Sequence[str] = ()) -> list[str]:
    """A race's chart titles, longest first: every contender named, then just their letters.
    The rivals' paths are dashed, with their letters along them."""
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


def curve_titles(scene: Scene, stride: int = 1) -> list[str]:
    """The J(W) curve's titles: the key of its markers and arrows, longest first."""
    if scene.slice is not None:  # k features: J along one parameter, every other pinned
        name = scene.slice.names[0]
        head = loss_head(scene, f"slice J({name})", stride)
        pinned = f"at {pinned_text(scene)}"
        keys = [f"{NOW} now", f"{LINE_KEYS[TANGENT_LINE]} tangent: slope = gradient", *arrow_keys(scene)]
        return [join(head, pinned, *keys), join(head, pinned, *keys[:2]), join(head, pinned),
                join(f"J({name})", f"at {pinned_text(scene, 2)}"),
                f"J({name}), the {len(scene.slice.pinned)} others pinned where they are now"]  # fmt: skip
    if scene.diverged_at is not None:
        return with_last_point(diverged_titles(scene))
    if scene.settings.loss != "mse" or stride > 1:
        head = loss_head(scene, "cost J(W)", stride)
        keys = [f"{NOW} now", f"{EARLIER} earlier W", f"{OPTIMUM} optimum"]
        return keyed([head], keys, [1, 0], head if stride > 1 else "")
    if scene.rivals:
        return race_titles("cost J(W)", scene, NOW)
    keys = [f"{NOW} now", f"{EARLIER} earlier W", f"{LINE_KEYS[TANGENT_LINE]} tangent: slope = gradient"]
    if not scene.surface.optimum.unique:
        keys.insert(0, "no single optimum")
    keys += arrow_keys(scene)
    drop = [1, 0] if scene.surface.optimum.unique else [2, 1]
    return keyed(["cost J(W)"], keys, drop, short_arrow_keys(scene))


def cost_titles(scene: Scene) -> list[str]:
    """The cost per epoch's titles: the last cost and the lowest possible, longest first."""
    if scene.diverged_at is not None:
        return diverged_titles(scene)
    if scene.rivals:
        return race_titles("cost per epoch (log)", scene, NOW)
    parts = ["cost per epoch (log scale)"]
    if scene.epoch_means is not None:
        parts = [f"cost per step {LINE_KEYS[STEP_COST_LINE]}, epoch mean {LINE_KEYS[EPOCH_MEAN_LINE]} (log)"]
    if scene.last is not None:
        parts.append(f"{number(scene.last.cost)} at epoch {scene.last.epoch}")
    lowest = lowest_cost(scene)
    if lowest is not None:
        parts.append(f"{FLOOR} lowest possible {number(lowest)}")
    return shortened(parts, " — ")


def fit_titles(scene: Scene) -> list[str]:
    """The fit's titles: the key of the data, the fitted line and the least-squares line,
    longest first."""
    if scene.diverged_at is not None:
        return diverged_titles(scene)
    if scene.slice is not None:  # k features: each point's prediction against its y
        data = f"{EARLIER} H(x) now against y ({scene.dataset.size:,} points)"
        best = f"{LINE_KEYS[LEAST_SQUARES_LINE]} H(x) = y: a perfect fit"
        return keyed([], [data, best, f"{OPTIMUM} least squares"], [2], "predicted against actual y")
    least_squares = f"{LINE_KEYS[LEAST_SQUARES_LINE]} least squares" if scene.surface.optimum.unique else ""
    if scene.rivals:
        return race_titles("data and each contender's line", scene, LINE_KEYS[FIT_LINE], [least_squares])
    line = f"H(x) = {number(scene.w)}·x"
    if scene.b is not None:
        line += f" {'-' if scene.b < 0 else '+'} {number(abs(scene.b))}"
    scaling = scaling_of(scene.dataset, scene.settings)
    if scaling is not None:  # the line in x's own units; x' = (x - μ)/σ is what was trained
        w, b = scaling.original(scene.w, scene.b)
        line = f"H(x) = {number(w)}·x {'-' if b < 0 else '+'} {number(abs(b))} (x' = (x - {number(scaling.mean)})/{number(scaling.std)})"
    fit = f"{LINE_KEYS[FIT_LINE]} {line}"
    data = f"{EARLIER} data ({scene.dataset.size:,} points)"
    if scene.batch is not None:
        data += f"  {BATCH_POINT} batch {scene.batch.number}/{scene.batch.count}"
    return keyed([], [data, f"{fit} now", least_squares], [0], line)
