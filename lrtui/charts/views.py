"""The four views (the cost surface, J(W) without bias, the cost per epoch, the data and the
fit) and the entry points: ``draw_view`` for the app's widget, ``build_chart`` and
``render_for_terminal`` for ``lrtui run --plot``.
"""

from __future__ import annotations

import math

import numpy as np
import plotext

from ..engine import Dataset
from ..engine.features import FeatureSlice, FeatureSurface
from ..engine.race import Race
from ..engine.scaling import scaling_of
from .canvas import Plt, new_figure
from .geometry import (
    BRAILLE_ACROSS,
    BRAILLE_UP,
    Frame,
    ViewRange,
    clip_segment,
    finite,
    follow,
    frame,
    log_ticks,
    padded,
    setup_axes,
)
from .marks import (
    EPOCH_MEAN_LINE,
    FIT_LINE,
    LEAST_SQUARES_LINE,
    PATH_LINE,
    STEP_COST_LINE,
    TANGENT_LINE,
    SurfaceCache,
    batch_marks,
    draw_levels,
    draw_line,
    draw_principal_axes,
    draw_rival_path,
    label_rival_path,
    mark,
    name_principal_axes,
    probe_marks,
    step_arrows,
)
from .palette import (
    BATCH_POINT,
    COLOR,
    DIVERGED,
    EARLIER,
    FLOOR,
    MONO,
    NOW,
    OPTIMUM,
    RIDGE_OPTIMUM,
    Color,
    Palette,
)
from .scene import Scene, lowest_cost, path_points, ridge_optimum
from .slices import scene_for
from .titles import (
    cost_titles,
    curvature_notes,
    curve_titles,
    fit_titles,
    learning_rate_notes,
    surface_titles,
)

VIEW_TITLES: dict[str, str] = {"surface": "cost surface", "cost": "cost per epoch", "fit": "data and fit"}
VIEWS: tuple[str, ...] = tuple(VIEW_TITLES)  # the order the v key cycles through
DATA_POINTS = 2000  # the most data points drawn in the fit view


# ---------------------------------------------------------------------- the cost surface
def draw_surface(
    plt: Plt,
    scene: Scene,
    view: ViewRange,
    width: int,
    height: int,
    palette: Palette = COLOR,
    cache: SurfaceCache | None = None,
) -> None:
    """The cost over (W, b) as coloured levels, the path, the current point, the optimum and
    the next step. Without bias, the J(W) curve instead."""
    if not scene.bias:
        draw_curve(plt, scene, view, width, height, palette)
        return
    follow(view, scene)
    assert view.w is not None and view.b is not None
    chart = frame(width, height, view.w, view.b)
    stride = scene.surface.stride_for(chart.cols * BRAILLE_ACROSS * chart.rows * BRAILLE_UP)
    notes = [*curvature_notes(scene), *learning_rate_notes(scene)]
    x_label, y_label = scene.slice.names if scene.slice is not None else ("W", "b")
    setup_axes(plt, chart, width, x_label, y_label, notes, surface_titles(scene, stride))
    draw_levels(plt, scene.surface, chart, palette, cache or SurfaceCache())
    draw_principal_axes(plt, scene, chart, palette.map_axes)
    draw_rival_paths(plt, scene, chart, palette.rivals_map)
    ws, bs = path_points(scene)
    if len(ws) > 1:
        draw_line(plt, ws, bs, chart, palette.map_path, PATH_LINE)  # over the rivals': the one being driven
    label_rivals(plt, scene, chart, palette.rivals_map)
    # after the paths and their letters (which recur along them), before the points they reach
    name_principal_axes(plt, scene, chart, palette.map_axes)
    mark_rivals(plt, scene, chart, palette.rivals_map)
    if scene.next is not None:
        start = (scene.next.w, scene.next.b or 0.0)
        batch_marks(plt, scene, chart, start, (palette.map_optimum, palette.map_fresh))
        step_arrows(plt, scene, chart, start, lambda w, b: (w, b), (palette.map_step, palette.map_fresh))
        probe_marks(plt, scene, chart, lambda w, b, cost: (w, b or 0.0), palette.map_step)
    optimum = scene.surface.optimum
    if optimum.w is not None and optimum.b is not None:
        mark(plt, chart, optimum.w, optimum.b, OPTIMUM, palette.map_optimum)
    ridge = ridge_optimum(scene)
    if ridge is not None:
        mark(plt, chart, ridge[0], ridge[1] or 0.0, RIDGE_OPTIMUM, palette.map_optimum)
    if scene.diverged_at is not None:
        if ws:
            mark(plt, chart, ws[-1], bs[-1], DIVERGED, palette.map_diverged)
    else:
        mark(plt, chart, scene.w, scene.b or 0.0, NOW, palette.map_now)


def draw_rival_paths(plt: Plt, scene: Scene, chart: Frame, colors: tuple[Color, ...]) -> None:
    """Each rival's path in its colour, dashed (the last drawn on top, so B last)."""
    for rival, color in reversed(list(zip(scene.rivals, colors, strict=False))):
        draw_rival_path(plt, *rival.path(), chart, color)


def label_rivals(plt: Plt, scene: Scene, chart: Frame, colors: tuple[Color, ...]) -> None:
    """Each rival's letter along its path, over every path."""
    for rival, color in zip(scene.rivals, colors, strict=False):
        label_rival_path(plt, *rival.path(), chart, rival.letter, color)


def mark_rivals(plt: Plt, scene: Scene, chart: Frame, colors: tuple[Color, ...]) -> None:
    """Each rival's letter where it stands, or ✖ on its last finite point if it diverged."""
    for rival, color in zip(scene.rivals, colors, strict=False):
        ws, bs = rival.path()
        if rival.diverged_at is not None:
            if ws:
                mark(plt, chart, ws[-1], bs[-1], DIVERGED, color)
        else:
            mark(plt, chart, rival.w, rival.b or 0.0, rival.letter, color)


# --------------------------------------------------------------------- J(W) without bias
def curve_points(scene: Scene) -> tuple[list[float], list[float]]:
    """The earlier iterates as (W, the cost computed at that W), thinned and finite."""
    track = scene.track
    keep = np.isfinite(track.w) & np.isfinite(track.cost)
    return track.w[keep].tolist(), track.cost[keep].tolist()


def draw_curve(
    plt: Plt, scene: Scene, view: ViewRange, width: int, height: int, palette: Palette = COLOR
) -> None:
    """J(W) without bias: the curve, the earlier iterates, the current W with its tangent
    (slope: the gradient torch computes there) and the next step, landing on the curve."""
    follow(view, scene)
    assert view.w is not None
    surface = scene.surface
    curve_w = np.linspace(view.w[0], view.w[1], max(2 * width, 2))
    curve_cost = surface.costs(curve_w)
    top = float(np.max(curve_cost[np.isfinite(curve_cost)], initial=0.0))
    cost_span = (-0.04 * top, 1.06 * top) if top > 0 else (-1.0, 1.0)
    chart = frame(width, height, view.w, cost_span)
    titles = curve_titles(scene, surface.stride_for(len(curve_w)))
    name = scene.slice.names[0] if scene.slice is not None else "W"
    setup_axes(plt, chart, width, name, f"J({name})", learning_rate_notes(scene), titles)
    draw_line(plt, curve_w.tolist(), curve_cost.tolist(), chart, palette.curve)
    earlier_w, earlier_cost = curve_points(scene)
    peeked = scene.next
    here = (peeked.w, peeked.cost) if peeked is not None and finite(peeked.w, peeked.cost) else None
    if peeked is not None and here is not None:
        draw_tangent(plt, chart, here, peeked.fresh_grad_w, palette.tangent)
    if earlier_w:
        plt.scatter(*chart.snap(earlier_w, earlier_cost), marker=EARLIER, color=palette.path)
    for rival, color in zip(scene.rivals, palette.rivals, strict=False):
        # on the leader's curve: a rival with another loss reduction has its own scale
        rival_w = np.asarray(rival.path()[0], dtype=np.float64)
        rival_w = rival_w[(rival_w >= chart.x[0]) & (rival_w <= chart.x[1])]
        rival_cost = surface.costs(rival_w)
        shown = rival_cost <= chart.y[1]
        if shown.any():  # its earlier iterates, marked with its letter in lower case
            marker = rival.letter.lower()
            plt.scatter(
                *chart.snap(rival_w[shown].tolist(), rival_cost[shown].tolist()), marker=marker, color=color
            )
        if rival.diverged_at is None:
            mark(plt, chart, rival.w, surface.cost(rival.w), rival.letter, color)
    if here is not None:
        step_arrows(plt, scene, chart, here, lambda w, b: (w, surface.cost(w)), (palette.step, palette.fresh))
        probe_marks(plt, scene, chart, lambda w, b, cost: (w, cost), palette.step)
    optimum = surface.optimum
    if optimum.w is not None and optimum.cost is not None:
        mark(plt, chart, optimum.w, optimum.cost, OPTIMUM, palette.optimum)
    if here is not None:
        mark(plt, chart, here[0], here[1], NOW, palette.now)
    elif earlier_w and scene.diverged_at is not None:
        mark(plt, chart, earlier_w[-1], earlier_cost[-1], DIVERGED, palette.now)


def draw_tangent(plt: Plt, chart: Frame, here: tuple[float, float], slope: float, color: Color) -> None:
    """The tangent at ``here``: a line whose slope is the gradient, a fifth of the view wide."""
    if not finite(slope):
        return
    half = (chart.x[1] - chart.x[0]) / 5
    (w, cost) = here
    segment = clip_segment((w - half, cost - slope * half), (w + half, cost + slope * half), chart)
    if segment is not None:
        (x0, y0), (x1, y1) = segment
        draw_line(plt, [x0, x1], [y0, y1], chart, color, TANGENT_LINE)


# ------------------------------------------------------------------------ cost per epoch
def draw_cost(plt: Plt, scene: Scene, width: int, height: int, palette: Palette = COLOR) -> None:
    """The cost of each epoch on a log scale (thinned; non-finite costs left out; a cost of
    exactly 0 drawn at the lowest positive one)."""
    tracks = [scene.track, *(rival.track for rival in scene.rivals)]
    kept = [(track.epochs[np.isfinite(track.cost)], track.cost[np.isfinite(track.cost)]) for track in tracks]
    every_cost = np.concatenate([costs for _, costs in kept])
    positive = every_cost[every_cost > 0]
    floor = float(positive.min()) if positive.size else 1e-12
    curves = [(epochs, np.log10(np.maximum(costs, floor))) for epochs, costs in kept]
    every_epoch = np.concatenate([track.epochs for track in tracks])
    first = float(every_epoch.min()) if every_epoch.size else 0.0
    last = float(every_epoch.max()) if every_epoch.size else 1.0
    x_span = (first, max(last, first + 1))
    lowest = lowest_cost(scene)
    # a rival that diverged is followed up to the edge, not given the whole scale
    ranged = [curves[0]] + [c for c, r in zip(curves[1:], scene.rivals, strict=True) if r.diverged_at is None]
    logs = np.concatenate([curve_logs for _, curve_logs in ranged])
    known = np.append(logs, math.log10(lowest)) if lowest is not None else logs
    low, high = (float(known.min()), float(known.max())) if known.size else (-1.0, 1.0)
    if high - low < 0.5:
        low, high = low - 0.25, high + 0.25
    pad = (high - low) * 0.05
    y_span = (low - pad, high + pad)
    chart = frame(width, height, x_span, y_span, log_ticks(y_span, max(2, (height - 5) // 3)))
    setup_axes(plt, chart, width, "epoch", "cost", learning_rate_notes(scene), cost_titles(scene))
    if lowest is not None:
        floor_x, floor_y = chart.snap(list(x_span), [math.log10(lowest)] * 2)  # a one-character line
        plt.plot(floor_x, floor_y, marker=FLOOR, color=palette.best_fit)
    markers = [(NOW, palette.curve, palette.now)] + [
        (rival.letter, color, color) for rival, color in zip(scene.rivals, palette.rivals, strict=False)
    ]
    drawn = list(zip(curves, markers, strict=False))
    for index, ((epochs, curve_logs), (_, line_color, _)) in reversed(list(enumerate(drawn))):
        if index == 0:  # the leader's curve on top, solid; the rivals' dashed and lettered
            style = PATH_LINE if scene.epoch_means is None else STEP_COST_LINE
            draw_line(plt, epochs.tolist(), curve_logs.tolist(), chart, line_color, style)
        else:
            draw_rival_path(plt, epochs.tolist(), curve_logs.tolist(), chart, line_color)
    for (epochs, curve_logs), (marker, line_color, _) in drawn[1:]:
        label_rival_path(plt, epochs.tolist(), curve_logs.tolist(), chart, marker, line_color)
    draw_epoch_means(plt, scene, chart, floor, palette)
    for (epochs, curve_logs), (marker, _, marker_color) in drawn:
        if epochs.size:
            mark(plt, chart, float(epochs[-1]), float(curve_logs[-1]), marker, marker_color)


def draw_epoch_means(plt: Plt, scene: Scene, chart: Frame, floor: float, palette: Palette) -> None:
    """With mini-batches, each epoch's mean batch cost over the per-step costs (dotted)."""
    if scene.epoch_means is None or not scene.epoch_means[0].size:
        return
    epochs, means = scene.epoch_means
    logs = np.log10(np.maximum(means, floor))
    if epochs.size > 1:
        draw_line(plt, epochs.tolist(), logs.tolist(), chart, palette.tangent, EPOCH_MEAN_LINE)
    else:
        mark(plt, chart, float(epochs[0]), float(logs[0]), EARLIER, palette.tangent)


# -------------------------------------------------------------------------- data and fit
_data_cache: dict[int, tuple[Dataset, list[float], list[float]]] = {}


def data_points(dataset: Dataset, limit: int = DATA_POINTS) -> tuple[list[float], list[float]]:
    """Up to ``limit`` of the data points, evenly strided (cached per dataset)."""
    cached = _data_cache.get(id(dataset))
    if cached is not None and cached[0] is dataset:
        return cached[1], cached[2]
    xs = dataset.x_train.flatten().numpy()
    ys = dataset.y_train.flatten().numpy()
    stride = max(1, math.ceil(xs.size / limit))
    points = (xs[::stride].astype(float).tolist(), ys[::stride].astype(float).tolist())
    _data_cache.clear()
    _data_cache[id(dataset)] = (dataset, *points)
    return points


def predictions(scene: Scene, limit: int = DATA_POINTS) -> tuple[list[float], list[float], list[float]]:
    """With k features, each point's actual y, H(x) now and the least-squares H(x) (up to
    ``limit`` points, evenly strided), in float64 from θ as the run holds it."""
    surface, here = scene.full_surface, scene.surface
    assert isinstance(surface, FeatureSurface) and isinstance(here, FeatureSlice)
    stride = max(1, math.ceil(len(surface.y) / limit))
    design, ys = surface.design[::stride], surface.y[::stride]
    now = design @ here.theta
    optimum = surface.optimum_theta
    best = (design @ optimum).tolist() if optimum is not None else []
    return ys.tolist(), now.tolist(), best


def draw_predictions(plt: Plt, scene: Scene, width: int, height: int, palette: Palette = COLOR) -> None:
    """k features: H(x) now against the actual y of each point, the least-squares H(x) too, and
    the diagonal H(x) = y on which every point of a perfect fit would lie."""
    ys, now, best = predictions(scene)
    known = np.asarray([*ys, *(v for v in now if math.isfinite(v)), *best])
    span = padded(known, 0.06)
    chart = frame(width, height, span, span)
    setup_axes(plt, chart, width, "y", "H(x)", learning_rate_notes(scene), fit_titles(scene))
    draw_line(plt, list(span), list(span), chart, palette.best_fit, LEAST_SQUARES_LINE)
    if best:
        plt.scatter(*chart.snap(ys, best), marker=OPTIMUM, color=palette.best_fit)
    shown = [(y, h) for y, h in zip(ys, now, strict=True) if math.isfinite(h)]
    if shown:
        plt.scatter(
            *chart.snap([y for y, _ in shown], [h for _, h in shown]), marker=EARLIER, color=palette.fit
        )


def draw_fit(plt: Plt, scene: Scene, width: int, height: int, palette: Palette = COLOR) -> None:
    """The data points, the current line H(x) = Wx + b and the least-squares line."""
    if scene.slice is not None:
        draw_predictions(plt, scene, width, height, palette)
        return
    xs, ys = data_points(scene.dataset)
    x_span = padded(np.asarray(xs), 0.05)
    y_span = padded(np.asarray(ys), 0.08)
    chart = frame(width, height, x_span, y_span)
    setup_axes(plt, chart, width, "x", "y", learning_rate_notes(scene), fit_titles(scene))
    scaling = scaling_of(scene.dataset, scene.settings)
    if scaling is not None:  # trained on x' = (x - μ)/σ: each line drawn in x's own units

        def _line(chart: Frame, w: float, b: float) -> tuple[list[float], list[float]]:
            return _x_line(chart, *scaling.original(w, b))

    else:
        _line = _x_line
    optimum = scene.surface.optimum
    if optimum.w is not None:
        best = _line(chart, optimum.w, optimum.b or 0.0)
        draw_line(plt, *best, chart, palette.best_fit, LEAST_SQUARES_LINE)
    rivals = [
        (rival, color, _line(chart, rival.w, rival.b or 0.0))
        for rival, color in zip(scene.rivals, palette.rivals, strict=False)
        if rival.diverged_at is None and finite(rival.w, rival.b if rival.b is not None else 0.0)
    ]
    for _, color, line in rivals:
        draw_rival_path(plt, *line, chart, color)
    if finite(scene.w, scene.b if scene.b is not None else 0.0):
        draw_line(plt, *_line(chart, scene.w, scene.b or 0.0), chart, palette.fit, FIT_LINE)
    plt.scatter(*chart.snap(xs, ys), marker=EARLIER, color=palette.path)
    if scene.batch is not None:  # the next step's batch, over the data
        plt.scatter(*chart.snap(scene.batch.xs, scene.batch.ys), marker=BATCH_POINT, color=palette.now)
    for rival, color, line in rivals:
        label_rival_path(plt, *line, chart, rival.letter, color)


def _x_line(chart: Frame, w: float, b: float) -> tuple[list[float], list[float]]:
    """H(x) = w x + b across the chart's x span (``draw_line`` clips it to the frame)."""
    x0, x1 = chart.x
    return [x0, x1], [w * x0 + b, w * x1 + b]


# -------------------------------------------------------------------------- entry points
def draw_view(
    plt: Plt,
    name: str,
    scene: Scene,
    view: ViewRange,
    width: int,
    height: int,
    palette: Palette = COLOR,
    cache: SurfaceCache | None = None,
) -> None:
    """Draw one of ``VIEWS`` on ``plt`` (already cleared)."""
    if name == "surface":
        draw_surface(plt, scene, view, width, height, palette, cache)
    elif name == "cost":
        draw_cost(plt, scene, width, height, palette)
    elif name == "fit":
        draw_fit(plt, scene, width, height, palette)
    else:
        raise ValueError(f"unknown view {name!r}: use one of {', '.join(VIEWS)}")


def build_chart(name: str, scene: Scene, view: ViewRange, width: int, height: int, color: bool = True) -> str:
    """One chart as text (with ANSI colours if ``color``)."""
    figure = new_figure(width, height)
    draw_view(figure, name, scene, view, width, height, COLOR if color else MONO)
    text = figure.build()
    return text if color else plotext.uncolorize(text)


def render_for_terminal(race: Race, width: int, height: int, color: bool = True) -> str:
    """For ``lrtui run --plot``: the cost per epoch, then the surface (or J(W) without bias)
    with the final path of every contender, together width x height."""
    scene = scene_for(race)
    cost_height = max(10, height * 2 // 5)
    surface_height = max(12, height - cost_height)
    charts = [
        build_chart("cost", scene, ViewRange(), width, cost_height, color),
        build_chart("surface", scene, ViewRange(), width, surface_height, color),
    ]
    return "\n".join(chart.rstrip("\n") for chart in charts) + "\n"
