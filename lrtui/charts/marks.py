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
from .palette import FRESH_HEADS, LEVELS, STEP_HEADS, Color, Palette
from .scene import Scene


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
    label: str | None = None,
) -> None:
    """A braille line from start to end with a head at the end, clipped to the frame."""
    clipped = clip_segment(start, end, chart)
    if clipped is None:
        return
    (x0, y0), (x1, y1) = clipped
    plt.plot([x0, x1], [y0, y1], marker="braille", color=color, label=label)
    head = head_position(start, (x1, y1), chart)
    if head is not None and inside(chart, *head):
        xs, ys = chart.snap([head[0]], [head[1]])
        plt.scatter(xs, ys, marker=head_for(start, end, chart, heads), color=color)


def head_position(
    start: tuple[float, float], end: tuple[float, float], chart: Frame
) -> tuple[float, float] | None:
    """Where the head goes: at the end, or, when the arrow is shorter than two cells, in the
    next cell in its direction, so that the direction shows under the current point's
    marker. None for an arrow of length 0."""
    cell_x, cell_y = chart.cell_size()
    across = (end[0] - start[0]) / cell_x if cell_x else 0.0
    up = (end[1] - start[1]) / cell_y if cell_y else 0.0
    longest = max(abs(across), abs(up))
    if longest == 0 or not math.isfinite(longest):
        return None
    if longest >= 2:
        return end
    return (start[0] + across / longest * cell_x, start[1] + up / longest * cell_y)


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
    return (surface.sums, surface.bias, surface.loss_reduction, *rest)


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
FRESH_LABEL = "-lr × fresh gradient (this epoch)"
STEP_LABEL = "step with the accumulated .grad"


def step_arrows(
    plt: Plt,
    scene: Scene,
    chart: Frame,
    start: tuple[float, float],
    end_of: Callable[[float, float], tuple[float, float]],
    colors: tuple[Color, Color],
) -> None:
    """The step about to be taken, from ``start`` to where ``peek()`` says the optimizer
    lands; with zero_grad off also this epoch's own gradient, drawn at the scale of a plain
    SGD step (-lr x gradient) so that the learner can compare it with the ``.grad`` step.
    ``end_of(w, b)`` places a (W, b) point on the chart."""
    peeked = scene.next
    if peeked is None:
        return
    step_color, fresh_color = colors
    accumulating = not scene.settings.zero_grad
    if accumulating and finite(peeked.fresh_grad_w, peeked.fresh_grad_b if scene.bias else 0.0):
        lr = peeked.learning_rate
        fresh = end_of(
            peeked.w - lr * peeked.fresh_grad_w, (peeked.b or 0.0) - lr * (peeked.fresh_grad_b or 0.0)
        )
        draw_arrow(plt, start, fresh, chart, fresh_color, FRESH_HEADS, FRESH_LABEL)
    end = end_of(peeked.w_next, peeked.b_next or 0.0)
    draw_arrow(plt, start, end, chart, step_color, STEP_HEADS, STEP_LABEL if accumulating else None)


# --------------------------------------------------------------------------------- paths
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
