"""What is drawn inside a frame: markers, arrows (the next step, the fresh gradient), paths
clipped to the frame, and the cost map's levels with the cache that keeps them from frame to
frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import CostSurface
from .canvas import Plt
from .geometry import Frame, Span, clip_segment, finite
from .palette import (
    BATCH_OPTIMUM,
    DASHED,
    DOTTED,
    FRESH_HEADS,
    LEVELS,
    PROBE,
    SOLID,
    STEP_HEADS,
    Color,
    Dashes,
    Palette,
)
from .scene import Scene

STEP_LINE = SOLID  # the step the optimizer takes
FRESH_LINE = DASHED  # -lr x this epoch's own gradient, with zero_grad off
PATH_LINE = SOLID  # the run being driven
RIVAL_LINE = DASHED  # a race's other contenders, labelled with their letter
TANGENT_LINE = DOTTED  # the tangent of J(W) at the current W
FIT_LINE = SOLID  # the line H(x) = Wx + b being fitted
LEAST_SQUARES_LINE = DOTTED  # the best line
EPOCH_MEAN_LINE = SOLID  # with mini-batches, each epoch's mean batch cost, over
STEP_COST_LINE = DOTTED  # the cost of each step (each batch)
PROBE_LINE = DOTTED  # L-BFGS: the path through the points its closure evaluates in one step
AXIS_LINE = DOTTED  # the cost's principal axes through the optimum, on the surface
LABEL_EVERY = 24.0  # columns along a rival's path between two of its letters
DOT_SPACING = 0.5  # columns between the points of a dashed line: a braille dot is half a column


# -------------------------------------------------------------------- markers and arrows
def head_for(start: tuple[float, float], end: tuple[float, float], chart: Frame, heads: str) -> str:
    """The arrow head pointing from start to end as it looks on screen (cells are about
    twice as tall as they are wide)."""
    cell_x, cell_y = chart.cell_size()
    across = (end[0] - start[0]) / cell_x if cell_x else 0.0
    up = (end[1] - start[1]) / cell_y if cell_y else 0.0
    angle = math.atan2(2 * up, across)
    return heads[round(angle / (math.pi / 4)) % 8]


def draw_arrow(
    plt: Plt,
    start: tuple[float, float],
    end: tuple[float, float],
    chart: Frame,
    color: Color,
    heads: str,
    dashes: Dashes = SOLID,
    head_cells: int = 1,
) -> None:
    """A braille line from start to end, in this line style, with a head at the end (or
    ``head_cells`` out for a short arrow, see ``head_position``), clipped to the frame."""
    clipped = clip_segment(start, end, chart)
    if clipped is None:
        return
    (x0, y0), (x1, y1) = clipped
    if dashes is None:
        draw_line(plt, [x0, x1], [y0, y1], chart, color)
    else:
        draw_line(plt, [x1, x0], [y1, y0], chart, color, dashes)  # from the head: a dash reaches it
    head = head_position(start, (x1, y1), chart, head_cells)
    if head is not None and inside(chart, *head):
        xs, ys = chart.snap([head[0]], [head[1]])
        plt.scatter(xs, ys, marker=head_for(start, end, chart, heads), color=color)


def head_position(
    start: tuple[float, float], end: tuple[float, float], chart: Frame, cells: int = 1
) -> tuple[float, float] | None:
    """Where the head goes: at the end, or, when the arrow is shorter than ``cells`` + 1
    cells, ``cells`` cells out in its direction, so that the direction shows beside the
    current point's marker. None for an arrow of length 0."""
    cell_x, cell_y = chart.cell_size()
    across = (end[0] - start[0]) / cell_x if cell_x else 0.0
    up = (end[1] - start[1]) / cell_y if cell_y else 0.0
    longest = max(abs(across), abs(up))
    if longest == 0 or not math.isfinite(longest):
        return None
    if longest >= cells + 1:
        return end
    return (start[0] + cells * across / longest * cell_x, start[1] + cells * up / longest * cell_y)


def inside(chart: Frame, x: float, y: float) -> bool:
    """True when (x, y) is finite and within the frame's spans."""
    return finite(x, y) and chart.x[0] <= x <= chart.x[1] and chart.y[0] <= y <= chart.y[1]


def mark(plt: Plt, chart: Frame, x: float, y: float, marker: str, color: Color) -> None:
    """One marker, in the cell where the braille lines pass through (x, y)."""
    if inside(chart, x, y):
        xs, ys = chart.snap([x], [y])
        plt.scatter(xs, ys, marker=marker, color=color)


# -------------------------------------------------------------------------- the cost map
def cost_levels(surface: CostSurface, ws: np.ndarray, bs: np.ndarray, count: int = LEVELS) -> np.ndarray:
    """The level (0 lowest) of each grid cell, row i for b = bs[i]: half-decade steps of the
    cost above the optimum, counted down from the highest costs in view, so that the valley
    shows at any zoom. The top level holds at least the costliest twentieth of the cells."""
    costs = surface.grid(ws, bs)
    finite_costs = costs[np.isfinite(costs)]
    if finite_costs.size == 0:
        return np.full(costs.shape, count - 1, dtype=int)
    optimum = surface.optimum
    best = optimum.cost if optimum.cost is not None else float(finite_costs.min())
    excess = np.maximum(costs - best, 0.0)
    top = float(np.percentile(np.maximum(finite_costs - best, 0.0), 95))
    if not top > 0:
        return np.zeros(costs.shape, dtype=int)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        steps = np.floor(2.0 * np.log10(excess / top))
    steps = np.nan_to_num(steps, nan=0.0, neginf=-count, posinf=0.0)
    return np.clip(count - 1 + steps, 0, count - 1).astype(int)


def level_grid(surface: CostSurface, w_span: Span, b_span: Span, cols: int, rows: int) -> np.ndarray:
    """Levels at the middle of each cell of a cols x rows canvas, as the braille path sees it."""
    chart = Frame(w_span, b_span, ([], []), ([], []), cols, rows)
    return cost_levels(surface, *chart.braille_centres())


class SurfaceCache:
    """The last cost map, reused while the data, the range and the canvas size stay the same."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._value: Any = None
        self.builds = 0

    def get(self, key: tuple, make: Callable[[], Any]) -> Any:
        if key != self._key:
            self._value = make()
            self._key = key
            self.builds += 1
        return self._value


def _surface_key(surface: CostSurface, *rest: Any) -> tuple:
    return (surface.sums, surface.bias, surface.loss_reduction, surface.loss_key, *rest)


def draw_levels(plt: Plt, surface: CostSurface, chart: Frame, palette: Palette, cache: SurfaceCache) -> None:
    """The cost map: painted cell backgrounds where ``plt`` can (``CellPainting``), else one
    plotext point per cell, a character and colour per level."""
    w_span, b_span = chart.x, chart.y
    if palette.colored and hasattr(plt, "paint_cells"):

        def painter(cols: int, rows: int) -> list[list[Color]]:
            def make() -> list[list[Color]]:
                levels = level_grid(surface, w_span, b_span, cols, rows)
                return [[palette.levels[level] for level in row] for row in levels.tolist()]

            return cache.get(_surface_key(surface, w_span, b_span, cols, rows, palette, "paint"), make)

        plt.paint_cells(painter)
        return

    def groups() -> list[tuple[list[float], list[float], Color, str]]:
        levels = level_grid(surface, w_span, b_span, chart.cols, chart.rows).ravel()
        ws, bs = np.linspace(*w_span, chart.cols), np.linspace(*b_span, chart.rows)  # one per cell
        xs, ys = np.tile(ws, chart.rows), np.repeat(bs, chart.cols)
        found = []
        for level in range(LEVELS):
            cells = levels == level
            if cells.any() and palette.level_marks[level] != " ":
                found.append(
                    (
                        xs[cells].tolist(),
                        ys[cells].tolist(),
                        palette.levels[level],
                        palette.level_marks[level],
                    )
                )
        return found

    key = _surface_key(surface, w_span, b_span, chart.cols, chart.rows, palette, "marks")
    for xs, ys, color, character in cache.get(key, groups):
        plt.scatter(xs, ys, marker=character, color=color)


# ------------------------------------------------------------------------- the next step
def step_arrows(
    plt: Plt,
    scene: Scene,
    chart: Frame,
    start: tuple[float, float],
    end_of: Callable[[float, float], tuple[float, float]],
    colors: tuple[Color, Color],
) -> None:
    """The step about to be taken, from ``start`` to where ``peek()`` says the optimizer
    lands (solid, ``STEP_HEADS``); with zero_grad off also this epoch's own gradient, drawn
    at the scale of a plain SGD step (-lr x gradient) so that the learner can compare it
    with the ``.grad`` step (dashed, ``FRESH_HEADS``). ``end_of(w, b)`` places a (W, b) point
    on the chart."""
    peeked = scene.next
    if peeked is None:
        return
    step_color, fresh_color = colors
    end = end_of(peeked.w_next, peeked.b_next or 0.0)
    fresh_w, fresh_b = peeked.fresh_grad_w, (peeked.fresh_grad_b or 0.0) if scene.bias else 0.0
    if scene.settings.zero_grad or not finite(fresh_w, fresh_b):
        draw_arrow(plt, start, end, chart, step_color, STEP_HEADS, STEP_LINE)
        return
    lr = peeked.learning_rate
    fresh = end_of(peeked.w - lr * fresh_w, (peeked.b or 0.0) - lr * fresh_b)
    # two short arrows the same way would put their heads in one cell: the longer one's goes on
    step_cells, fresh_cells = 1, 1
    if same_cell(chart, head_position(start, end, chart), head_position(start, fresh, chart)):
        longer_step = (
            screen_lengths([start[0], end[0]], [start[1], end[1]], chart)[0]
            >= screen_lengths([start[0], fresh[0]], [start[1], fresh[1]], chart)[0]
        )
        step_cells, fresh_cells = (2, 1) if longer_step else (1, 2)
    draw_arrow(plt, start, end, chart, step_color, STEP_HEADS, STEP_LINE, step_cells)
    # over the step: once .grad has piled up it is the shorter one, and often points the same way
    draw_arrow(plt, start, fresh, chart, fresh_color, FRESH_HEADS, FRESH_LINE, fresh_cells)


def batch_marks(
    plt: Plt, scene: Scene, chart: Frame, start: tuple[float, float], colors: tuple[Color, Color]
) -> None:
    """With mini-batches: the next batch's own optimum (the bowl this step descends), and,
    with zero_grad on, the full data's gradient step from the same start beside the batch's
    (dashed, ``FRESH_HEADS``), so that the zig-zag of the path reads as bowls that move."""
    batch = scene.batch
    if batch is None:
        return
    optimum_color, full_color = colors
    if batch.full_step is not None and scene.settings.zero_grad:
        draw_arrow(plt, start, batch.full_step, chart, full_color, FRESH_HEADS, FRESH_LINE)
    if batch.optimum is not None:
        mark(plt, chart, *batch.optimum, BATCH_OPTIMUM, optimum_color)


def probe_marks(
    plt: Plt,
    scene: Scene,
    chart: Frame,
    place: Callable[[float, float | None, float], tuple[float, float]],
    color: Color,
) -> None:
    """L-BFGS: every point its closure evaluates inside the next step (its line search's
    probes), in the order it evaluates them, joined; ``place`` puts (W, b, cost) on the chart."""
    probes = scene.next.probes if scene.next is not None else ()
    if len(probes) < 2:
        return
    xs, ys = zip(*(place(*probe) for probe in probes), strict=True)
    draw_line(plt, list(xs), list(ys), chart, color, PROBE_LINE)
    for x, y in zip(xs, ys, strict=True):
        mark(plt, chart, x, y, PROBE, color)


def same_cell(chart: Frame, one: tuple[float, float] | None, other: tuple[float, float] | None) -> bool:
    """True when two points are drawn in the same cell."""
    if one is None or other is None:
        return False
    xs, ys = chart.snap([one[0], other[0]], [one[1], other[1]])
    return xs[0] == xs[1] and ys[0] == ys[1]


# ----------------------------------------------------------------------- lines and paths
def clipped_runs(ws: list[float], bs: list[float], chart: Frame) -> list[tuple[list[float], list[float]]]:
    """The parts of a path inside the frame (plotext would rasterise a far-off segment point by point)."""
    runs: list[tuple[list[float], list[float]]] = []
    for i in range(len(ws) - 1):
        clipped = clip_segment((ws[i], bs[i]), (ws[i + 1], bs[i + 1]), chart)
        if clipped is None:
            continue
        (w0, b0), (w1, b1) = clipped
        if runs and runs[-1][0][-1] == w0 and runs[-1][1][-1] == b0:
            runs[-1][0].append(w1)
            runs[-1][1].append(b1)
        else:
            runs.append(([w0, w1], [b0, b1]))
    return runs


def screen_lengths(xs: list[float], ys: list[float], chart: Frame) -> np.ndarray:
    """The length of each segment of a path as it looks on screen, in columns (a row is about
    two columns tall)."""
    cell_x, cell_y = chart.cell_size()
    across = np.diff(np.asarray(xs, dtype=float)) / (cell_x or 1.0)
    up = np.diff(np.asarray(ys, dtype=float)) / (cell_y or 1.0)
    return np.hypot(across, 2 * up)


def dash_dots(
    xs: list[float], ys: list[float], chart: Frame, dashes: tuple[float, ...]
) -> tuple[list[float], list[float]]:
    """Points along a path where the pattern ``dashes`` (on, off, on, ... lengths in columns,
    measured along the path from its first point) draws: close enough together (half a
    column, the width of a braille dot) to draw each dash without gaps."""
    lengths = screen_lengths(xs, ys, chart)
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    steps = np.arange(0.0, along[-1] + 1e-9, DOT_SPACING)
    part = np.searchsorted(np.cumsum(dashes), steps % sum(dashes), side="right")
    drawn = steps[part % 2 == 0]
    return np.interp(drawn, along, xs).tolist(), np.interp(drawn, along, ys).tolist()


def draw_line(
    plt: Plt, xs: list[float], ys: list[float], chart: Frame, color: Color, dashes: Dashes = SOLID
) -> None:
    """A braille path in a line style, clipped to the frame: a solid one as plotext lines, a
    dashed one as the braille dots of its dashes in a single call (plotext's cost is per call,
    and a long dashed path has hundreds of dashes)."""
    runs = clipped_runs(xs, ys, chart)
    if dashes is None:
        for run_x, run_y in runs:
            plt.plot(run_x, run_y, marker="braille", color=color)
        return
    dots_x: list[float] = []
    dots_y: list[float] = []
    for run_x, run_y in runs:
        run_dots = dash_dots(run_x, run_y, chart, dashes)
        dots_x += run_dots[0]
        dots_y += run_dots[1]
    if dots_x:
        plt.scatter(dots_x, dots_y, marker="braille", color=color)


def label_along(
    plt: Plt,
    xs: list[float],
    ys: list[float],
    chart: Frame,
    label: str,
    color: Color,
    first: float = LABEL_EVERY / 2,
    every: float = LABEL_EVERY,
) -> None:
    """``label`` on a path every ``every`` columns along it, as on a map's contour lines, the
    first ``first`` from its start, none in the last few columns (where a rival's own marker
    stands); half way along a path too short for that."""
    if len(xs) < 2:
        return
    lengths = screen_lengths(xs, ys, chart)
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    marks = np.arange(first, along[-1] - 3, every)
    if marks.size == 0:  # a short path still gets one, half way, if there is room for it
        if along[-1] < 6:
            return
        marks = np.array([along[-1] / 2])
    label_x = np.interp(marks, along, xs)
    label_y = np.interp(marks, along, ys)
    shown = [(x, y) for x, y in zip(label_x.tolist(), label_y.tolist(), strict=True) if inside(chart, x, y)]
    if shown:
        snapped = chart.snap([x for x, _ in shown], [y for _, y in shown])
        plt.scatter(*snapped, marker=label, color=color)


def draw_rival_path(plt: Plt, xs: list[float], ys: list[float], chart: Frame, color: Color) -> None:
    """A rival's path, dashed (``label_rival_path`` letters it, over what is drawn after)."""
    draw_line(plt, xs, ys, chart, color, RIVAL_LINE)


def label_rival_path(
    plt: Plt, xs: list[float], ys: list[float], chart: Frame, letter: str, color: Color
) -> None:
    """A rival's letter in lower case along its path; B's, C's and D's a little apart, since a
    race's contenders often start together."""
    first = LABEL_EVERY / 2 + (ord(letter.upper()) - ord("B")) % 3 * LABEL_EVERY / 3
    for run_x, run_y in clipped_runs(xs, ys, chart):
        label_along(plt, run_x, run_y, chart, letter.lower(), color, first)


# ------------------------------------------------------------------- the principal axes
def principal_axes(scene: Scene) -> tuple[tuple[float, float], tuple[float, ...], tuple[float, ...]] | None:
    """The optimum and the steep and shallow directions of a squared-error cost over (W, b)
    (the Hessian's eigenvectors of λmax and λmin); None where there are none to draw."""
    from ..engine.curvature import curvature_if_constant

    if not scene.bias:
        return None
    curvature = curvature_if_constant(scene.surface)
    optimum = scene.surface.optimum
    if curvature is None or optimum.w is None or optimum.b is None:
        return None
    return (optimum.w, optimum.b), curvature.steep_direction, curvature.shallow_direction


def draw_principal_axes(plt: Plt, scene: Scene, chart: Frame, color: Color) -> None:
    """The two principal axes through the optimum, dotted across the frame: the steep one
    (the cost rises fastest, λmax) and the shallow one (the valley's floor, λmin)."""
    axes = principal_axes(scene)
    if axes is None:
        return
    (w0, b0), steep, shallow = axes
    for dw, db in (steep, shallow):
        draw_line(plt, *_axis_ends(chart, w0, b0, dw, db), chart, color, AXIS_LINE)


def name_principal_axes(plt: Plt, scene: Scene, chart: Frame, color: Color) -> None:
    """Each principal axis named at the frame's edge, ``steep`` and ``shallow``. Drawn after
    the path: gradient descent runs along the steep axis first, and a path drawn over the
    name would leave a stray letter or two of it."""
    axes = principal_axes(scene)
    if axes is None:
        return
    (w0, b0), steep, shallow = axes
    for (dw, db), name in ((steep, "steep"), (shallow, "shallow")):
        runs = clipped_runs(*_axis_ends(chart, w0, b0, dw, db), chart)
        if runs:
            ends = [(runs[0][0][0], runs[0][1][0]), (runs[0][0][-1], runs[0][1][-1])]
            # the name on the longer visible half, most of the way out, clear of the optimum's marker
            far = max(ends, key=lambda end: sum(screen_lengths([w0, end[0]], [b0, end[1]], chart)))
            x_in = w0 + 0.75 * (far[0] - w0)
            y_in = b0 + 0.75 * (far[1] - b0)
            x_in = min(x_in, chart.x[1] - (len(name) + 1) * chart.cell_size()[0])  # the whole name inside
            if inside(chart, x_in, y_in):
                write_along(plt, chart, name, x_in, y_in, color)


def _axis_ends(chart: Frame, w0: float, b0: float, dw: float, db: float) -> tuple[list[float], list[float]]:
    """An axis through (w0, b0) along (dw, db), long enough to cross the whole frame."""
    reach = 4.0 * (abs(chart.x[1] - chart.x[0]) + abs(chart.y[1] - chart.y[0]))
    return [w0 - reach * dw, w0 + reach * dw], [b0 - reach * db, b0 + reach * db]


def write_along(plt: Plt, chart: Frame, text: str, x: float, y: float, color: Color) -> None:
    """A word from (x, y) rightwards, a marker per character (a plotext marker is one character)."""
    cell = chart.cell_size()[0]
    (start,), ys = chart.snap([x], [y])
    for i, character in enumerate(text):
        # one cell apart on the markers' own grid: snapping each letter to the braille grid
        # could skip a cell between two of them ("ste ep")
        plt.scatter([start + i * cell], ys, marker=character, color=color)
